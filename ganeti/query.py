"""Query fields, declared once per resource, and the query result format.

A resource (``job``, ``lock``, later ``node``, ``instance``…) declares its
fields once: name, title, kind, getter and doc. From that come the
``QueryFields`` answer, the ``Query`` answer — Ganeti's
``{"fields": [{name, title, kind, doc}], "data": [[[status, value], …], …]}``
— the list-style filters, and the ``gnt-* list -o`` / ``list-fields``
output. Unknown field names are not an error: their definition has kind
``unknown`` and every cell the status ``RS_UNKNOWN``, as in Ganeti.

Filters are Ganeti's list form: ``["&", f1, …]``, ``["|", …]``, ``["!", f]``,
``["?", field]`` (true value), ``["==", field, value]`` and ``!=``, ``<``,
``<=``, ``>``, ``>=``, ``["=~", field, regex]``, ``["=[]", field, value]``
(list contains); the legacy ``"="`` means ``==``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ganeti import constants, errors

Getter = Callable[[Any], Any]
Predicate = Callable[[Any], bool]


@dataclass(frozen=True)
class QueryField:
    """One field of a resource: what ``-o`` names and ``list-fields`` shows."""

    name: str
    title: str
    kind: str
    getter: Getter
    doc: str

    def definition(self) -> dict[str, str]:
        return {"name": self.name, "title": self.title, "kind": self.kind, "doc": self.doc}


#: Fields of every resource declared so far, by resource then field name.
RESOURCES: dict[str, dict[str, QueryField]] = {}


def register_resource(what: str, fields: Iterable[QueryField]) -> None:
    """Declare the fields of resource ``what`` (once)."""
    if what in RESOURCES:
        raise errors.ProgrammerError("Query resource '%s' declared twice" % what)
    by_name: dict[str, QueryField] = {}
    for fld in fields:
        if fld.kind not in constants.QFT_ALL:
            raise errors.ProgrammerError("Field %s/%s has unknown kind %r"
                                         % (what, fld.name, fld.kind))
        if fld.name in by_name:
            raise errors.ProgrammerError("Field %s/%s declared twice" % (what, fld.name))
        by_name[fld.name] = fld
    RESOURCES[what] = by_name


def resource_fields(what: str) -> dict[str, QueryField]:
    """The fields of ``what``; a clear error for resources not (yet) served."""
    fields = RESOURCES.get(what)
    if fields is not None:
        return fields
    if what in constants.QR_ALL:
        raise errors.OpPrereqError("Queries on resource '%s' are not supported yet; "
                                   "supported: %s" % (what, ", ".join(sorted(RESOURCES))),
                                   errors.ECODE_INVAL)
    raise errors.OpPrereqError("Unknown query resource '%s'; known resources: %s"
                               % (what, ", ".join(sorted(constants.QR_ALL))),
                               errors.ECODE_INVAL)


def unknown_field_definition(name: str) -> dict[str, str]:
    return {"name": name, "title": name, "kind": constants.QFT_UNKNOWN,
            "doc": "Unknown field '%s'" % name}


def field_definitions(what: str, names: Sequence[str] | None = None) -> list[dict[str, str]]:
    """Definitions of ``names`` (all fields, sorted, when None)."""
    fields = resource_fields(what)
    if names is None:
        return [fields[name].definition() for name in sorted(fields)]
    return [fields[name].definition() if name in fields else unknown_field_definition(name)
            for name in names]


def query_fields(what: str, names: Sequence[str] | None = None) -> dict[str, Any]:
    """The ``QueryFields`` answer."""
    return {"fields": field_definitions(what, names)}


class FieldStatus(Exception):
    """Raised by a getter whose cell has no normal value (RS_NODATA, RS_OFFLINE…)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _cell(fld: QueryField | None, item: Any) -> list[Any]:
    if fld is None:
        return [constants.RS_UNKNOWN, None]
    try:
        return [constants.RS_NORMAL, fld.getter(item)]
    except KeyError:
        return [constants.RS_UNAVAIL, None]
    except FieldStatus as status:
        return [status.status, None]


def _column(fld: QueryField | None, items: list[Any]) -> list[list[Any]]:
    """The cells of one field for every item."""
    if fld is None:
        return [[constants.RS_UNKNOWN, None] for _ in items]
    getter = fld.getter
    try:  # one field at a time over all items: no per-cell call and try
        return [[constants.RS_NORMAL, getter(item)] for item in items]
    except (KeyError, FieldStatus):  # some cells have no normal value
        return [_cell(fld, item) for item in items]


def query(what: str, names: Sequence[str], items: Iterable[Any],
          qfilter: list[Any] | None = None) -> dict[str, Any]:
    """The ``Query`` answer over ``items`` (objects the getters understand)."""
    fields = resource_fields(what)
    selected = list(items) if qfilter is None else list(filter(compile_filter(what, qfilter),
                                                                items))
    columns = [_column(fields.get(name), selected) for name in names]
    data = [list(cells) for cells in zip(*columns)] if columns else [[] for _ in selected]
    return {"fields": field_definitions(what, names), "data": data}


def filter_field_names(qfilter: list[Any] | None) -> set[str]:
    """Every field a filter refers to (to know what data to collect)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if not isinstance(node, list) or not node:
            return
        op = node[0]
        if op in _LOGIC_OPS or op == "!":
            for child in node[1:]:
                walk(child)
        elif len(node) >= 2 and isinstance(node[1], str):
            found.add(node[1])

    walk(qfilter)
    return found


# -- filters ------------------------------------------------------------------------

_LOGIC_OPS = {"&": all, "|": any}
_BINARY_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=[]": lambda value, wanted: isinstance(value, (list, tuple)) and wanted in value,
}


def _filter_error(message: str) -> errors.QueryFilterParseError:
    return errors.QueryFilterParseError("Invalid query filter: %s" % message)


def compile_filter(what: str, qfilter: list[Any] | None) -> Predicate:
    """A predicate over items from a list-form filter (None: everything)."""
    if qfilter is None:
        return lambda _item: True
    return _compile(resource_fields(what), qfilter)


def _compile(fields: dict[str, QueryField], node: Any) -> Predicate:
    if not isinstance(node, list) or not node or not isinstance(node[0], str):
        raise _filter_error("expected [operator, operands…], got %r" % (node,))
    op, operands = node[0], node[1:]
    if op in _LOGIC_OPS:
        children = [_compile(fields, child) for child in operands]
        combine = _LOGIC_OPS[op]
        return lambda item: combine(child(item) for child in children)
    if op == "!":
        if len(operands) != 1:
            raise _filter_error("'!' takes one operand, got %d" % len(operands))
        inner = _compile(fields, operands[0])
        return lambda item: not inner(item)
    if op == "?":
        if len(operands) != 1:
            raise _filter_error("'?' takes one field name")
        getter = _field_getter(fields, operands[0])
        return lambda item: bool(_safe_get(getter, item))
    if op == "=~":
        if len(operands) != 2 or not isinstance(operands[1], str):
            raise _filter_error("'=~' takes a field name and a regular expression")
        getter = _field_getter(fields, operands[0])
        try:
            regex = re.compile(operands[1])
        except re.error as err:
            raise _filter_error("bad regular expression %r: %s" % (operands[1], err)) from err
        return lambda item: regex.search(str(_safe_get(getter, item))) is not None
    compare = _BINARY_OPS.get(op)
    if compare is None:
        raise _filter_error("unknown operator %r" % op)
    if len(operands) != 2:
        raise _filter_error("'%s' takes a field name and a value" % op)
    getter = _field_getter(fields, operands[0])
    wanted = operands[1]

    def check(item: Any) -> bool:
        try:
            return bool(compare(_safe_get(getter, item), wanted))
        except TypeError:
            return False
    return check


def _field_getter(fields: dict[str, QueryField], name: Any) -> Getter:
    if not isinstance(name, str) or name not in fields:
        raise _filter_error("unknown field %r; known fields: %s"
                            % (name, ", ".join(sorted(fields))))
    return fields[name].getter


def _safe_get(getter: Getter, item: Any) -> Any:
    try:
        return getter(item)
    except (KeyError, FieldStatus):
        return None


# -- the resources served by masterd itself ------------------------------------------

def _key(name: str) -> Getter:
    return lambda item: item[name]


def _declare(what: str, specs: Sequence[tuple[str, str, str, str]]) -> None:
    register_resource(what, [QueryField(name, title, kind, _key(name), doc)
                             for name, title, kind, doc in specs])


#: Job fields (items: dicts of QueryJobs values by field name).
JOB_FIELD_SPECS: tuple[tuple[str, str, str, str], ...] = (
    ("id", "ID", constants.QFT_NUMBER, "Job ID"),
    ("status", "Status", constants.QFT_TEXT, "Job status"),
    ("priority", "Priority", constants.QFT_NUMBER,
     "Current job priority (that of its first unfinished opcode)"),
    ("archived", "Archived", constants.QFT_BOOL, "Whether the job is archived"),
    ("ops", "OpCodes", constants.QFT_OTHER, "List of all opcodes"),
    ("opresult", "OpCode_result", constants.QFT_OTHER, "List of opcodes results"),
    ("opstatus", "OpCode_status", constants.QFT_OTHER, "List of opcodes status"),
    ("oplog", "OpCode_log", constants.QFT_OTHER, "List of opcode output logs"),
    ("opstart", "OpCode_start", constants.QFT_OTHER,
     "List of opcode start timestamps (before acquiring locks)"),
    ("opexec", "OpCode_exec", constants.QFT_OTHER,
     "List of opcode execution start timestamps (after acquiring locks)"),
    ("opend", "OpCode_end", constants.QFT_OTHER, "List of opcode end timestamps"),
    ("oppriority", "OpCode_prio", constants.QFT_OTHER, "List of opcode priorities"),
    ("summary", "Summary", constants.QFT_OTHER, "List of per-opcode summaries"),
    ("received_ts", "Received", constants.QFT_OTHER, "Timestamp of job submission"),
    ("start_ts", "Start", constants.QFT_OTHER, "Timestamp of job start"),
    ("end_ts", "End", constants.QFT_OTHER, "Timestamp of job end"),
)
JOB_FIELD_NAMES = tuple(spec[0] for spec in JOB_FIELD_SPECS)

#: Lock fields (items: rows of LockManager.query_locks).
LOCK_FIELD_SPECS: tuple[tuple[str, str, str, str], ...] = (
    ("name", "Name", constants.QFT_TEXT, "Lock name"),
    ("mode", "Mode", constants.QFT_OTHER, "Mode in which the lock is currently acquired"
     " (exclusive or shared)"),
    ("owner", "Owner", constants.QFT_OTHER, "Current lock owner(s)"),
    ("pending", "Pending", constants.QFT_OTHER, "Jobs waiting for the lock"),
)

_declare(constants.QR_JOB, JOB_FIELD_SPECS)
_declare(constants.QR_LOCK, LOCK_FIELD_SPECS)

# Instance, node, node group and network fields live in their own modules
# (ganeti.query_instance, ganeti.query_node, ganeti.query_network); each registers its
# resources on import.
from ganeti import query_instance, query_network, query_node  # noqa: E402,F401
