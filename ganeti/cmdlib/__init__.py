"""Logical units, one module per area, and the opcode -> LU registry.

``get_lu_class(op)`` returns the LU class for an opcode; opcodes without one
fail with a clear OpPrereqError. Area modules register their LUs in
``LU_REGISTRY`` through the ``lu_for`` decorator and are imported here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ganeti import errors, opcodes
from ganeti.cmdlib.base import LogicalUnit

#: OP_ID -> LU class.
LU_REGISTRY: dict[str, type[LogicalUnit]] = {}

_LuT = TypeVar("_LuT", bound=type[LogicalUnit])


def lu_for(op_class: type[opcodes.OpCode]) -> Callable[[_LuT], _LuT]:
    """Class decorator: register the LU that executes ``op_class``."""

    def register(lu_class: _LuT) -> _LuT:
        if op_class.OP_ID in LU_REGISTRY:
            raise errors.ProgrammerError("Opcode %s has two logical units: %s and %s"
                                         % (op_class.OP_ID, LU_REGISTRY[op_class.OP_ID].__name__,
                                            lu_class.__name__))
        LU_REGISTRY[op_class.OP_ID] = lu_class
        return lu_class

    return register


def get_lu_class(op: opcodes.OpCode) -> type[LogicalUnit]:
    try:
        return LU_REGISTRY[op.OP_ID]
    except KeyError:
        raise errors.OpPrereqError("Opcode %s is not supported by this master (no logical"
                                   " unit implements it yet)" % op.OP_ID,
                                   errors.ECODE_INVAL) from None


# The area modules register their LUs on import.
from ganeti.cmdlib import (  # noqa: E402
    allocator_debug,
    backup,
    cluster,
    cluster_disks,
    cluster_masterip,
    cluster_params,
    cluster_redist,
    cluster_setup,
    cluster_verify,
    group,
    instance_change_group,
    instance_create,
    instance_disks,
    instance_migration,
    instance_modify,
    instance_move,
    instance_multi_alloc,
    instance_ops,
    instance_query,
    network,
    node,
    node_evacuate,
    node_storage,
    os,
    query,
    tags,
    test,
)

__all__ = ["LU_REGISTRY", "allocator_debug", "backup",
           "cluster", "cluster_disks", "cluster_masterip", "cluster_params",
           "cluster_redist", "cluster_setup",
           "cluster_verify", "get_lu_class", "group", "instance_change_group",
           "instance_create", "instance_disks", "instance_migration", "instance_modify",
           "instance_move", "instance_multi_alloc", "instance_ops", "instance_query", "lu_for",
           "network", "node", "node_evacuate", "node_storage", "os", "query", "tags", "test"]
