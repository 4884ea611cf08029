"""Node group opcodes."""

from __future__ import annotations

from ganeti.opcodes import params as p
from ganeti.opcodes.base import OpCode

_GROUP_SETTINGS = (
    p.ALLOC_POLICY,
    p.GROUP_NDPARAMS,
    p.DISKPARAMS,
    p.HV_STATE,
    p.DISK_STATE,
    p.IPOLICY.with_doc("Instance policy of the group"),
)


class OpGroupAdd(OpCode):
    """Create a node group."""

    SUMMARY_PARAM = "group_name"
    OP_PARAMS = (p.GROUP_NAME, *_GROUP_SETTINGS)


class OpGroupAssignNodes(OpCode):
    """Move nodes into a node group."""

    SUMMARY_PARAM = "group_name"
    OP_PARAMS = (
        p.GROUP_NAME,
        p.FORCE,
        p.REQUIRED_NODES.with_doc("Nodes to move into the group"),
        p.REQUIRED_NODE_UUIDS,
    )


class OpGroupSetParams(OpCode):
    """Change a node group's parameters."""

    SUMMARY_PARAM = "group_name"
    OP_PARAMS = (p.GROUP_NAME, *_GROUP_SETTINGS)


class OpGroupRemove(OpCode):
    """Remove an empty node group."""

    SUMMARY_PARAM = "group_name"
    OP_PARAMS = (p.GROUP_NAME,)


class OpGroupRename(OpCode):
    """Rename a node group."""

    OP_PARAMS = (p.GROUP_NAME, p.NEW_NAME.with_doc("New name of the group"))


class OpGroupEvacuate(OpCode):
    """Move all instances out of a node group: submits the jobs that do it."""

    SUMMARY_PARAM = "group_name"
    OP_PARAMS = (
        p.GROUP_NAME,
        p.EARLY_RELEASE,
        p.IALLOCATOR,
        p.TARGET_GROUPS,
        p.flag("sequential", False, "Run the resulting jobs one after the other"),
        p.flag("force_failover", False, "Use failover instead of migration"),
    )


class OpGroupVerifyDisks(OpCode):
    """Check the disks of a node group's instances; activate the ones that need it."""

    SUMMARY_PARAM = "group_name"
    OP_PARAMS = (p.GROUP_NAME, p.IS_STRICT)
