"""Sizes with unit suffixes, as the gnt-* commands read and print them.

Sizes are MiB-based as in Ganeti: ``512``, ``1g``, ``1.5T``. Parsed sizes
are rounded up to a multiple of 4 MiB (Ganeti's rule; LVM extents).
"""

from __future__ import annotations

import re

from ganeti import errors

_UNIT_RE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*$")
_MULTIPLIERS = {
    "": 1, "m": 1, "mb": 1, "mib": 1,
    "g": 1024, "gb": 1024, "gib": 1024,
    "t": 1024 * 1024, "tb": 1024 * 1024, "tib": 1024 * 1024,
}
#: Units accepted by ``--units``: h(uman), m, g, t.
OUTPUT_UNITS = ("h", "m", "g", "t")


def parse_unit(text: str) -> int:
    """Parse ``'1.5g'`` into MiB (rounded up to a multiple of 4)."""
    match = _UNIT_RE.match(str(text))
    if not match:
        raise errors.UnitParseError("Invalid size '%s': expected a number with an optional "
                                    "unit (m, g, t)" % text)
    number, unit = match.groups()
    multiplier = _MULTIPLIERS.get(unit.lower())
    if multiplier is None:
        raise errors.UnitParseError("Unknown unit '%s' in size '%s' (use m, g or t)"
                                    % (unit, text))
    value = float(number) * multiplier
    mib = int(value) if value == int(value) else int(value) + 1
    if mib % 4:
        mib += 4 - mib % 4
    return mib


def format_unit(mib: float, units: str) -> str:
    """Format a MiB value: ``h`` picks M/G/T with a suffix, m/g/t print bare numbers."""
    if units not in OUTPUT_UNITS:
        raise errors.ProgrammerError("Invalid output unit '%s'" % units)
    if units == "h":
        if mib < 1024:
            return "%dM" % round(mib)
        if mib < 1024 * 1024:
            return "%0.1fG" % (mib / 1024.0)
        return "%0.1fT" % (mib / 1024.0 / 1024.0)
    if units == "m":
        return "%d" % round(mib)
    if units == "g":
        return "%0.1f" % (mib / 1024.0)
    return "%0.1f" % (mib / 1024.0 / 1024.0)
