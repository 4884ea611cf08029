"""Node opcodes."""

from __future__ import annotations

from ganeti import constants, ht
from ganeti.opcodes import params as p
from ganeti.opcodes.base import OpCode, Param


class OpNodeAdd(OpCode):
    """Add a node to the cluster, or re-add a known one (gnt-node add)."""

    SUMMARY_PARAM = "node_name"
    OP_PARAMS = (
        p.NODE_NAME,
        p.HV_STATE,
        p.DISK_STATE,
        p.opt("primary_ip", p.TName, "Primary IP address (default: resolved from the name)"),
        p.SECONDARY_IP,
        p.flag("readd", False, "Re-add a node that is already in the configuration"),
        p.opt("group", p.TName, "Node group to put the node in"),
        p.MASTER_CAPABLE,
        p.VM_CAPABLE,
        p.NDPARAMS,
        Param("node_setup", ht.TBool, False, "Set up SSH access to the new node first"),
        p.flag("accept_new_host_key", False,
               "Trust the node's SSH host key on first use and record it in known_hosts"
               " (a key differing from the recorded one is always refused)"),
    )


class OpNodeRemove(OpCode):
    """Remove a node from the cluster."""

    SUMMARY_PARAM = "node_name"
    OP_PARAMS = (p.NODE_NAME, p.NODE_UUID)


class OpNodeSetParams(OpCode):
    """Change a node's roles and parameters (gnt-node modify)."""

    SUMMARY_PARAM = "node_name"
    OP_PARAMS = (
        p.NODE_NAME,
        p.NODE_UUID,
        p.FORCE,
        p.HV_STATE,
        p.DISK_STATE,
        p.opt("master_candidate", ht.TBool, "Make the node a master candidate (or not)"),
        p.OFFLINE.with_doc("Mark the node offline (or online again)"),
        p.opt("drained", ht.TBool, "Mark the node drained (or not)"),
        p.flag("auto_promote", False,
               "Promote other nodes to master candidates if needed"),
        p.MASTER_CAPABLE,
        p.VM_CAPABLE,
        p.SECONDARY_IP,
        p.NDPARAMS,
        p.opt("powered", ht.TBool, "Record the node as powered on (or off)"),
    )


class OpNodeQueryvols(OpCode):
    """List the logical volumes on nodes."""

    OP_PARAMS = (
        p.OUTPUT_FIELDS,
        p.NODES,
    )


class OpNodeQueryStorage(OpCode):
    """List storage units on nodes."""

    OP_PARAMS = (
        p.OUTPUT_FIELDS,
        p.opt("storage_type", p.TStorageType, "Type of storage"),
        p.NODES,
        p.STORAGE_NAME,
    )


class OpNodeModifyStorage(OpCode):
    """Change a storage unit on a node (e.g. make an LVM PV allocatable)."""

    SUMMARY_PARAM = "node_name"
    OP_PARAMS = (
        p.NODE_NAME,
        p.NODE_UUID,
        p.STORAGE_TYPE,
        p.STORAGE_NAME,
        p.req("changes", ht.TDict, "Changes to apply, by field"),
    )


class OpRepairNodeStorage(OpCode):
    """Repair a storage unit on a node (e.g. a volume group)."""

    SUMMARY_PARAM = "node_name"
    OP_PARAMS = (
        p.NODE_NAME,
        p.NODE_UUID,
        p.STORAGE_TYPE,
        p.STORAGE_NAME,
        p.IGNORE_CONSISTENCY,
    )


class OpNodePowercycle(OpCode):
    """Power-cycle a node through its operating system."""

    SUMMARY_PARAM = "node_name"
    OP_PARAMS = (p.NODE_NAME, p.NODE_UUID, p.FORCE)


class OpNodeMigrate(OpCode):
    """Migrate all primary instances away from a node."""

    SUMMARY_PARAM = "node_name"
    OP_PARAMS = (
        p.NODE_NAME,
        p.NODE_UUID,
        p.MIGRATION_MODE,
        p.MIGRATION_LIVE,
        p.MIGRATION_TARGET_NODE,
        p.MIGRATION_TARGET_NODE_UUID,
        p.ALLOW_RUNTIME_CHANGES,
        p.IGNORE_IPOLICY,
        p.IALLOCATOR,
    )


class OpNodeEvacuate(OpCode):
    """Move instances off a node: submits the jobs that do it."""

    SUMMARY_PARAM = "node_name"
    OP_PARAMS = (
        p.EARLY_RELEASE,
        p.NODE_NAME,
        p.NODE_UUID,
        p.REMOTE_NODE,
        p.REMOTE_NODE_UUID,
        p.IALLOCATOR,
        p.req("mode", ht.TElemOf(constants.NODE_EVAC_MODES),
              "Which instances to move: primary-only, secondary-only or all"),
        p.opt("ignore_soft_errors", ht.TBool, "Ignore soft allocation errors"),
    )


class OpOobCommand(OpCode):
    """Run an out-of-band management command on nodes."""

    OP_PARAMS = (
        Param("node_names", p.TNames, [], "Nodes to run the command on (empty: all)"),
        p.NODE_UUIDS,
        p.req("command", ht.TElemOf(constants.OOB_COMMANDS), "Out-of-band command"),
        Param("timeout", ht.TInt, constants.OOB_TIMEOUT,
              "Seconds before the out-of-band helper is killed"),
        p.flag("ignore_status", False, "Power off even nodes not marked offline"),
        Param("power_delay", ht.TNumber, constants.OOB_POWER_DELAY,
              "Seconds between powering on successive nodes"),
    )


class OpRestrictedCommand(OpCode):
    """Run one of the administrator-provided restricted commands on nodes."""

    OP_PARAMS = (
        p.USE_LOCKING,
        p.REQUIRED_NODES.with_doc("Nodes to run the command on (at least one)"),
        p.REQUIRED_NODE_UUIDS,
        p.req("command", p.TName, "Name of the restricted command"),
    )
