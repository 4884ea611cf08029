"""Listings through luxi Query/QueryFields: ``gnt-* list`` and ``list-fields``.

Cells whose status is not normal show Ganeti's symbols: ``??`` unknown
field, ``*`` no data or node offline, ``-`` unavailable.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from ganeti import cli, constants, luxi

Formatter = Callable[[Any], str]

_STATUS_SYMBOLS = {
    constants.RS_UNKNOWN: "??",
    constants.RS_NODATA: "*",
    constants.RS_UNAVAIL: "-",
    constants.RS_OFFLINE: "*",
}


def _format_value(kind: str, value: Any, formatter: Formatter | None) -> Any:
    if formatter is not None:
        return formatter(value)
    if kind == constants.QFT_BOOL:
        return "Y" if value else "N"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return ",".join("%s=%s" % item for item in sorted(value.items()))
    if value is None:
        return "-"
    return value


def render(result: dict[str, Any], options: argparse.Namespace,
           format_override: dict[str, Formatter] | None = None) -> list[str]:
    """Table lines of a Query answer, as ``--no-headers``/``--separator``/``--units`` ask."""
    fields = result["fields"]
    override = format_override or {}
    rows = []
    for row in result["data"]:
        cells = []
        for fdef, (status, value) in zip(fields, row):
            if status != constants.RS_NORMAL:
                cells.append(_STATUS_SYMBOLS.get(status, "??"))
            else:
                cells.append(_format_value(fdef["kind"], value, override.get(fdef["name"])))
        rows.append(cells)
    kinds = [fdef["kind"] for fdef in fields]
    numeric = [i for i, kind in enumerate(kinds) if kind in (constants.QFT_NUMBER,
                                                            constants.QFT_NUMBER_FLOAT)]
    units = [i for i, kind in enumerate(kinds) if kind == constants.QFT_UNIT]
    headers = None if getattr(options, "no_headers", False) else \
        [fdef["title"] for fdef in fields]
    return cli.format_table(headers, rows, separator=getattr(options, "separator", None),
                            numeric=numeric, unit_columns=units,
                            units=getattr(options, "units", None))


def generic_list(client: luxi.Client, what: str, fields: Sequence[str],
                 qfilter: list[Any] | None, options: argparse.Namespace,
                 format_override: dict[str, Formatter] | None = None) -> int:
    """Print a listing; warns and exits 14 on unknown fields, as Ganeti does."""
    result = client.query(what, list(fields), qfilter)
    unknown = [fdef["name"] for fdef in result["fields"]
               if fdef["kind"] == constants.QFT_UNKNOWN]
    for line in render(result, options, format_override):
        cli.to_stdout(line)
    if unknown:
        cli.to_stderr("Warning: Unknown output fields selected: %s" % ", ".join(unknown))
        return cli.EXIT_UNKNOWN_FIELD
    return cli.EXIT_SUCCESS


def list_fields(client: luxi.Client, what: str, names: Sequence[str] | None,
                options: argparse.Namespace) -> int:
    """``list-fields``: name, type, title and description of each field."""
    result = client.query_fields(what, list(names) if names else None)
    rows = [[f["name"], f["kind"], f["title"], f["doc"]] for f in result["fields"]]
    headers = None if getattr(options, "no_headers", False) else \
        ["Name", "Type", "Title", "Description"]
    for line in cli.format_table(headers, rows, separator=getattr(options, "separator", None)):
        cli.to_stdout(line)
    unknown = [f["name"] for f in result["fields"] if f["kind"] == constants.QFT_UNKNOWN]
    if unknown:
        cli.to_stderr("Warning: Unknown fields: %s" % ", ".join(unknown))
        return cli.EXIT_UNKNOWN_FIELD
    return cli.EXIT_SUCCESS


def or_filter(field: str, values: Sequence[Any]) -> list[Any] | None:
    """``field`` equal to any of ``values`` (None when there are none)."""
    if not values:
        return None
    return ["|", *[["==", field, value] for value in values]]


def and_filters(*filters: list[Any] | None) -> list[Any] | None:
    present = [f for f in filters if f is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return ["&", *present]
