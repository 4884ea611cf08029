"""What every gnt-* command shares: option value parsing and table output.

Option syntax follows Ganeti's: ``k=v,k2=v2`` with ``\\,`` for a literal
comma; a bare ``key`` means True, ``no_key`` False and ``-key`` None (remove
an override); ``ident:k=v`` for per-hypervisor or per-template values.
Tables are padded columns (numbers right-aligned) or, with ``--separator``,
fields joined by the separator with no padding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ganeti import errors
from ganeti.utils import units as units_mod

NO_PREFIX = "no_"
UN_PREFIX = "-"


def _split_escaped(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` except where it is escaped with a backslash."""
    parts: list[str] = []
    current: list[str] = []
    chars = iter(text)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            if following == sep:
                current.append(sep)
            else:
                current.append(char + following)
        elif char == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def split_key_values(text: str, option: str = "", parse_prefixes: bool = True) -> dict[str, Any]:
    """Parse ``k=v,flag,no_flag,-key`` into a dict (see module doc)."""
    result: dict[str, Any] = {}
    if not text:
        return result
    where = " in option %s" % option if option else ""
    for element in _split_escaped(text):
        if not element:
            raise errors.ParameterError("Empty element in '%s'%s" % (text, where))
        value: Any
        if "=" in element:
            key, value = element.split("=", 1)
        elif not parse_prefixes:
            raise errors.ParameterError("Missing value for key '%s'%s" % (element, where))
        elif element.startswith(NO_PREFIX) and len(element) > len(NO_PREFIX):
            key, value = element[len(NO_PREFIX):], False
        elif element.startswith(UN_PREFIX) and len(element) > len(UN_PREFIX):
            key, value = element[len(UN_PREFIX):], None
        else:
            key, value = element, True
        if not key:
            raise errors.ParameterError("Empty key in '%s'%s" % (element, where))
        if key in result:
            raise errors.ParameterError("Duplicate key '%s'%s" % (key, where))
        result[key] = value
    return result


def parse_ident_key_values(text: str, option: str = "") -> tuple[str, Any]:
    """Parse ``ident:k=v,…`` (also ``no_ident`` → False, ``-ident`` → None)."""
    ident, sep, rest = text.partition(":")
    if not sep:
        if ident.startswith(NO_PREFIX) and len(ident) > len(NO_PREFIX):
            return ident[len(NO_PREFIX):], False
        if ident.startswith(UN_PREFIX) and len(ident) > len(UN_PREFIX):
            return ident[len(UN_PREFIX):], None
        return ident, {}
    if not ident:
        raise errors.ParameterError("Missing identifier before ':' in '%s'" % text)
    if ident.startswith((NO_PREFIX, UN_PREFIX)):
        raise errors.ParameterError("Cannot pass parameters when removing '%s'" % ident)
    return ident, split_key_values(rest, option)


def parse_list(text: str) -> list[str]:
    """Comma-separated list, empty elements dropped (``a,b,,c``)."""
    return [item for item in _split_escaped(text) if item]


def format_table(headers: Sequence[str] | None, rows: Sequence[Sequence[Any]],
                 separator: str | None = None, numeric: Sequence[int] = (),
                 unit_columns: Sequence[int] = (), units: str | None = None) -> list[str]:
    """Render rows as text lines.

    ``numeric`` columns are right-aligned; ``unit_columns`` hold MiB values
    rendered with ``units`` (default ``h`` without separator, ``m`` with one,
    as Ganeti does so scripts get plain numbers).
    """
    if units is None:
        units = "m" if separator is not None else "h"
    unit_set, numeric_set = set(unit_columns), set(numeric) | set(unit_columns)

    def cell(index: int, value: Any) -> str:
        if index in unit_set and isinstance(value, (int, float)) \
                and not isinstance(value, bool):
            return units_mod.format_unit(value, units)
        if value is None:
            return "-"
        if isinstance(value, bool):
            return "Y" if value else "N"
        if isinstance(value, (list, tuple)):
            return ",".join(str(v) for v in value)
        return str(value)

    table = [[cell(i, v) for i, v in enumerate(row)] for row in rows]
    if headers:
        table.insert(0, list(headers))
    if separator is not None:
        return [separator.join(row) for row in table]
    if not table:
        return []
    widths = [max(len(row[i]) for row in table if i < len(row))
              for i in range(max(len(row) for row in table))]
    lines = []
    for row in table:
        fields = [value.rjust(widths[i]) if i in numeric_set else value.ljust(widths[i])
                  for i, value in enumerate(row)]
        lines.append(" ".join(fields).rstrip())
    return lines
