"""Composable type checks, each with a readable description.

A check is a callable returning ``True`` when a value conforms. Its ``desc``
completes the sentence "must be …", so error messages read naturally:
``parameter 'memory' must be a positive integer, got 'abc'``.

Checks also carry a JSON-schema fragment (``schema``) so the opcode schema
can be dumped for the CLI, RAPI and the OpenAPI description.
"""

from __future__ import annotations

# Check names (TInt, TListOf, …) follow Ganeti's ht module on purpose.
import re
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

JsonSchema = dict[str, Any]


class Step(NamedTuple):
    """Where inside a value a composite check failed.

    ``path`` is appended to the location so far (``[0]``, ``['size']``).
    Either ``message`` ends the search (``has unknown key 'x'``), or the
    search continues with ``check`` on ``value``.
    """

    path: str
    check: Check | None = None
    value: Any = None
    message: str | None = None


Locator = Callable[[Any], Step | None]


class Check:
    """A predicate with a description and a JSON-schema fragment.

    Composite checks (lists, dictionaries, tuples) also carry a locator that
    finds the failing part of a value, so errors can point inside it.
    """

    __slots__ = ("_fn", "_locate", "desc", "schema")

    def __init__(self, fn: Callable[[Any], bool], desc: str,
                 schema: JsonSchema | None = None, locate: Locator | None = None) -> None:
        self._fn = fn
        self.desc = desc
        self.schema: JsonSchema = schema if schema is not None else {}
        self._locate = locate

    def locate(self, value: Any) -> Step | None:
        """The next step towards the failing part of ``value``, if known."""
        if self._locate is None:
            return None
        try:
            return self._locate(value)
        except (TypeError, ValueError):
            return None

    def __call__(self, value: Any) -> bool:
        try:
            return bool(self._fn(value))
        except (TypeError, ValueError):
            return False

    def __repr__(self) -> str:
        return "<Check %s>" % self.desc

    def __str__(self) -> str:
        return self.desc


def describe_value(value: Any, limit: int = 80) -> str:
    """Short repr of a value for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- basic types ----------------------------------------------------------------

def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


TAny = Check(lambda _: True, "anything", {})
TNone = Check(lambda v: v is None, "None", {"type": "null"})
TBool = Check(lambda v: isinstance(v, bool), "a boolean", {"type": "boolean"})
TInt = Check(_is_int, "an integer", {"type": "integer"})
TFloat = Check(lambda v: isinstance(v, float), "a float", {"type": "number"})
TNumber = Check(_is_number, "a number", {"type": "number"})
TString = Check(lambda v: isinstance(v, str), "a string", {"type": "string"})
TNonEmptyString = Check(lambda v: isinstance(v, str) and v != "", "a non-empty string",
                        {"type": "string", "minLength": 1})
TList = Check(lambda v: isinstance(v, list), "a list", {"type": "array"})
TDict = Check(lambda v: isinstance(v, dict), "a dictionary", {"type": "object"})
TPositiveInt = Check(lambda v: _is_int(v) and v > 0, "a positive integer",
                     {"type": "integer", "minimum": 1})
TNonNegativeInt = Check(lambda v: _is_int(v) and v >= 0, "a non-negative integer",
                        {"type": "integer", "minimum": 0})
TNonNegativeNumber = Check(lambda v: _is_number(v) and v >= 0, "a non-negative number",
                           {"type": "number", "minimum": 0})
TPositiveNumber = Check(lambda v: _is_number(v) and v > 0, "a positive number",
                        {"type": "number", "exclusiveMinimum": 0})


# -- combinators -------------------------------------------------------------------

def TOr(*checks: Check) -> Check:
    def locate(value: Any) -> Step | None:
        # Point at the deepest failure among the alternatives: the one the
        # value most nearly matched.
        best: tuple[str, str] | None = None
        for check in checks:
            found = explain_failure(check, value)
            if found is not None and (best is None or len(found[0]) > len(best[0])):
                best = found
        return None if best is None else Step(best[0], message=best[1])
    return Check(lambda v: any(c(v) for c in checks),
                 " or ".join(c.desc for c in checks),
                 {"anyOf": [c.schema for c in checks]}, locate)


def TAnd(*checks: Check) -> Check:
    def locate(value: Any) -> Step | None:
        for check in checks:
            if not check(value):
                return check.locate(value)
        return None
    return Check(lambda v: all(c(v) for c in checks),
                 " and ".join(c.desc for c in checks),
                 {"allOf": [c.schema for c in checks]}, locate)


def TMaybe(check: Check) -> Check:
    """``None`` or a value passing ``check``."""
    return Check(lambda v: v is None or check(v), "None or %s" % check.desc,
                 {"anyOf": [{"type": "null"}, check.schema]},
                 lambda v: None if v is None else check.locate(v))


def TListOf(check: Check) -> Check:
    def locate(value: Any) -> Step | None:
        if isinstance(value, list):
            for index, item in enumerate(value):
                if not check(item):
                    return Step("[%d]" % index, check, item)
        return None
    return Check(lambda v: isinstance(v, list) and all(check(i) for i in v),
                 "a list of %s" % _plural(check.desc),
                 {"type": "array", "items": check.schema}, locate)


def TDictOf(key_check: Check, value_check: Check) -> Check:
    def locate(value: Any) -> Step | None:
        if isinstance(value, dict):
            for key, item in value.items():
                if not key_check(key):
                    return Step("", message="has key %s, which is not %s"
                                % (describe_value(key), key_check.desc))
                if not value_check(item):
                    return Step("[%r]" % (key,), value_check, item)
        return None
    return Check(lambda v: isinstance(v, dict) and all(key_check(k) and value_check(x)
                                                        for k, x in v.items()),
                 "a dictionary of %s to %s" % (_plural(key_check.desc),
                                               _plural(value_check.desc)),
                 {"type": "object", "additionalProperties": value_check.schema}, locate)


def TElemOf(items: Iterable[Any]) -> Check:
    choices = sorted(items, key=str)
    return Check(lambda v: v in choices,
                 "one of %s" % ", ".join(repr(c) for c in choices),
                 {"enum": list(choices)})


def TRegex(pattern: str, desc: str | None = None) -> Check:
    compiled = re.compile(pattern)
    return Check(lambda v: isinstance(v, str) and compiled.match(v) is not None,
                 desc or "a string matching /%s/" % pattern,
                 {"type": "string", "pattern": pattern})


def TIntRange(low: int, high: int) -> Check:
    """An integer between ``low`` and ``high`` inclusive."""
    return Check(lambda v: _is_int(v) and low <= v <= high,
                 "an integer from %d to %d" % (low, high),
                 {"type": "integer", "minimum": low, "maximum": high})


def TTupleOf(*checks: Check) -> Check:
    """A list (or tuple) whose items pass ``checks`` position by position."""
    def locate(value: Any) -> Step | None:
        if isinstance(value, (list, tuple)):
            if len(value) != len(checks):
                return Step("", message="has %d items instead of %d"
                            % (len(value), len(checks)))
            for index, (check, item) in enumerate(zip(checks, value)):
                if not check(item):
                    return Step("[%d]" % index, check, item)
        return None
    return Check(lambda v: isinstance(v, (list, tuple)) and len(v) == len(checks)
                 and all(c(i) for c, i in zip(checks, v)),
                 "a list of (%s)" % ", ".join(c.desc for c in checks),
                 {"type": "array", "prefixItems": [c.schema for c in checks],
                  "minItems": len(checks), "maxItems": len(checks)}, locate)


def _locate_in_fields(value: Any, fields: dict[str, Check], required: bool,
                      rest: Check | None) -> Step | None:
    """The failing key of a dictionary checked field by field."""
    if not isinstance(value, dict):
        return None
    for key, item in value.items():
        check = fields.get(key, rest)
        if check is None:
            return Step("", message="has unknown key %s (allowed: %s)"
                        % (describe_value(key), ", ".join(sorted(fields))))
        if not check(item):
            return Step("[%r]" % (key,), check, item)
    missing = sorted(set(fields) - set(value)) if required else []
    if missing:
        return Step("", message="lacks key(s) %s" % ", ".join(repr(k) for k in missing))
    return None


def TStrictDict(required: bool, fields: dict[str, Check]) -> Check:
    """A dictionary with only the given keys; all present when ``required``."""
    def check(value: Any) -> bool:
        if not isinstance(value, dict) or set(value) - set(fields):
            return False
        if required and set(fields) - set(value):
            return False
        return all(fields[k](v) for k, v in value.items())
    return Check(check,
                 "a dictionary with %s keys %s" % ("exactly the" if required else "only the",
                                                   ", ".join(sorted(fields))),
                 {"type": "object",
                  "properties": {k: c.schema for k, c in fields.items()},
                  "additionalProperties": False,
                  **({"required": sorted(fields)} if required else {})},
                 lambda v: _locate_in_fields(v, fields, required, None))


def TDictWith(fields: dict[str, Check], rest: Check, desc: str | None = None) -> Check:
    """A dictionary with string keys: the keys in ``fields`` pass their own
    check, any other key's value passes ``rest`` (e.g. provider parameters)."""
    def check(value: Any) -> bool:
        return isinstance(value, dict) and all(
            isinstance(k, str) and fields.get(k, rest)(v) for k, v in value.items())
    return Check(check,
                 desc or "a dictionary with optional keys %s" % ", ".join(sorted(fields)),
                 {"type": "object",
                  "properties": {k: c.schema for k, c in fields.items()},
                  "additionalProperties": rest.schema},
                 lambda v: _locate_in_fields(v, fields, False, rest))


def WithDesc(check: Check, desc: str) -> Check:
    """The same check, described differently."""
    return Check(check, desc, dict(check.schema, description=desc), check.locate)


def explain_failure(check: Check, value: Any) -> tuple[str, str] | None:
    """Find the innermost failing part of ``value``.

    Returns ``(path, reason)``, e.g. ``("[0]['size']", "must be a size, got 'x'")``,
    or ``None`` when ``value`` passes or the failure has no inner location.
    """
    if check(value):
        return None
    path = ""
    current, current_value = check, value
    while True:
        step = current.locate(current_value)
        if step is None:
            break
        path += step.path
        if step.message is not None:
            return path, step.message
        if step.check is None:
            break
        current, current_value = step.check, step.value
    if not path:
        return None
    return path, "must be %s, got %s" % (current.desc, describe_value(current_value))


def _plural(desc: str) -> str:
    """'a positive integer' -> 'positive integers', for list descriptions."""
    for article in ("a ", "an "):
        if desc.startswith(article):
            rest = desc[len(article):]
            cut = min([i for i in (rest.find(d) for d in _QUALIFIERS) if i >= 0],
                      default=len(rest))
            noun, qualifier = rest[:cut], rest[cut:]
            if noun.endswith(("s", "x")):
                noun += "es"
            elif noun.endswith("y"):
                noun = noun[:-1] + "ies"
            else:
                noun += "s"
            return noun + qualifier
    return desc


_QUALIFIERS = (" of ", " from ", " (", " matching ", " with ")


# -- common domain checks --------------------------------------------------------

TMaybeString = TMaybe(TNonEmptyString)
TMaybeBool = TMaybe(TBool)
TMaybeDict = TMaybe(TDict)
TMaybeListOfStrings = TMaybe(TListOf(TNonEmptyString))
TListOfStrings = TListOf(TNonEmptyString)
TDictOfStrings = TDictOf(TNonEmptyString, TString)

_MAC_RE = r"^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$"
TMacAddress = TRegex(_MAC_RE, "a MAC address (xx:xx:xx:xx:xx:xx)")
TMacPrefix = TRegex(r"^([0-9a-fA-F]{2}:){2}[0-9a-fA-F]{2}$", "a MAC prefix (xx:xx:xx)")
TUuid = TRegex(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
               r"[0-9a-fA-F]{12}$", "a UUID")
THostname = TRegex(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*"
                   r"[A-Za-z0-9])?)*\.?$", "a host name")
TIPv4Address = TRegex(r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|"
                      r"[1-9]?\d)){3}$", "an IPv4 address")
TJobId = TOr(TNonNegativeInt, TRegex(r"^\d+$", "a job id string"))
TRelativeJobId = WithDesc(TInt, "a job id (negative: relative to this submission)")
TOpPriority = TIntRange(-20, 19)
TAbsolutePath = TRegex(r"^/", "an absolute path")


def _parses_as(parser: Callable[[str], Any], value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parser(value)  # raises ValueError on bad input, which Check turns into False
    return True


def _ip_parser(kind: str, **kwargs: Any) -> Callable[[str], Any]:
    """A parser from ``ipaddress``, imported on first use (not at every gnt-* start)."""
    def parse(text: str) -> Any:
        import ipaddress

        return getattr(ipaddress, kind)(text, **kwargs)
    return parse


TIPv4Network = Check(lambda v: _parses_as(_ip_parser("IPv4Network", strict=False), v),
                     "an IPv4 network (a.b.c.d/n)", {"type": "string"})
TIPv6Address = Check(lambda v: _parses_as(_ip_parser("IPv6Address"), v), "an IPv6 address",
                     {"type": "string", "format": "ipv6"})
TIPv6Network = Check(lambda v: _parses_as(_ip_parser("IPv6Network", strict=False), v),
                     "an IPv6 network (address/prefix)", {"type": "string"})
