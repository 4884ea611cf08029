"""The one registry of node RPC procedures.

Every area declares its procedures in a ``defs_*`` module exporting
``PROCEDURES``; this module merges them into ``PROCEDURES`` (name ->
Procedure). The client stubs, noded's dispatch, argument and result
validation and the documentation all read this table. A name declared
twice is an error at import.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from ganeti import errors
from ganeti.rpc.procedure import Procedure

#: The declaration modules, by area.
DEFINITION_MODULES = (
    "ganeti.rpc.defs_node",
    "ganeti.rpc.defs_instance",
    "ganeti.rpc.defs_export",
)


def build(declarations: Iterable[Procedure]) -> dict[str, Procedure]:
    """Index procedures by name; a duplicate name raises ProgrammerError."""
    table: dict[str, Procedure] = {}
    for proc in declarations:
        if proc.name in table:
            raise errors.ProgrammerError("RPC procedure '%s' is declared twice" % proc.name)
        table[proc.name] = proc
    return table


def _load() -> dict[str, Procedure]:
    declarations: list[Procedure] = []
    for module_name in DEFINITION_MODULES:
        declarations.extend(importlib.import_module(module_name).PROCEDURES)
    return build(declarations)


PROCEDURES: dict[str, Procedure] = _load()


def get(name: str) -> Procedure:
    """The procedure called ``name``; an unknown name raises ProgrammerError."""
    try:
        return PROCEDURES[name]
    except KeyError:
        raise errors.ProgrammerError("Unknown RPC procedure '%s'" % name) from None


def describe() -> str:
    """A plain-text reference of every procedure (for the docs)."""
    lines = []
    for name in sorted(PROCEDURES):
        proc = PROCEDURES[name]
        signature = ", ".join("%s: %s" % (arg.name, arg.check.desc) for arg in proc.args)
        lines.append("%s(%s) -> %s" % (name, signature, proc.result.desc))
        lines.append("    timeout %s (%d s), runs %s. %s"
                     % (proc.timeout.name.lower(), proc.timeout, proc.isolation.value,
                        proc.doc))
    return "\n".join(lines) + "\n"
