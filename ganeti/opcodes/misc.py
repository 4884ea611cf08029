"""Query, OS, ExtStorage, backup, tag, test and network opcodes."""

from __future__ import annotations

from typing import Any

from ganeti import constants, ht
from ganeti.opcodes import params as p
from ganeti.opcodes.base import OpCode, Param

# -- queries ---------------------------------------------------------------------------


class OpQuery(OpCode):
    """Query a resource's items (the engine behind the list commands)."""

    SUMMARY_PARAM = "what"
    OP_PARAMS = (
        p.req("what", ht.TElemOf(constants.QR_VIA_OP), "Resource to query"),
        p.USE_LOCKING,
        p.req("fields", p.TNames, "Fields to return"),
        p.opt("qfilter", ht.TList, "Filter, in the query language's list form"),
    )


class OpQueryFields(OpCode):
    """Describe the fields of a resource."""

    SUMMARY_PARAM = "what"
    OP_PARAMS = (
        p.req("what", ht.TElemOf(constants.QR_VIA_OP), "Resource to describe"),
        p.opt("fields", p.TNames, "Fields to describe (default: all)"),
    )


# -- OS definitions and ExtStorage providers ----------------------------------------------


class OpOsDiagnose(OpCode):
    """Report the OS definitions found on the nodes."""

    OP_PARAMS = (p.OUTPUT_FIELDS, p.NAMES.with_doc("OS definitions to report (empty: all)"))


class OpExtStorageDiagnose(OpCode):
    """Report the ExtStorage providers found on the nodes."""

    OP_PARAMS = (p.OUTPUT_FIELDS, p.NAMES.with_doc("Providers to report (empty: all)"))


# -- backups -------------------------------------------------------------------------------


class OpBackupPrepare(OpCode):
    """Prepare an instance export (remote exports need keys and a CA)."""

    SUMMARY_PARAM = "instance_name"
    OP_PARAMS = (p.INSTANCE_NAME, p.INSTANCE_UUID, p.EXPORT_MODE)


class OpBackupExport(OpCode):
    """Export an instance to a node directory or to a remote cluster."""

    SUMMARY_PARAM = "instance_name"
    OP_PARAMS = (
        p.INSTANCE_NAME,
        p.INSTANCE_UUID,
        p.BACKUP_COMPRESS,
        p.SHUTDOWN_TIMEOUT,
        p.req("target_node", ht.TOr(p.TName, ht.TList),
              "Target node (local mode) or the remote cluster's disk targets (remote mode)"),
        p.opt("target_node_uuid", p.TName, "UUID of the target node (local mode)"),
        p.flag("shutdown", True, "Shut the instance down for the export"),
        p.flag("remove_instance", False, "Remove the instance once exported"),
        p.flag("ignore_remove_failures", False, "Ignore errors while removing the instance"),
        p.EXPORT_MODE.with_default(constants.EXPORT_MODE_LOCAL),
        p.opt("x509_key_name", ht.TList, "Name and signature of the X509 key (remote mode)"),
        p.opt("destination_x509_ca", p.TName, "X509 CA of the destination (remote mode)"),
        p.flag("zero_free_space", False, "Zero the free space of the disks first"),
        p.opt("zeroing_timeout_fixed", ht.TInt, "Fixed part of the zeroing timeout (seconds)"),
        p.opt("zeroing_timeout_per_mib", ht.TNumber,
              "Part of the zeroing timeout per MiB of disk (seconds)"),
        p.flag("long_sleep", False, "Allow long instance shutdowns during the export"),
    )


class OpBackupRemove(OpCode):
    """Remove an instance's exports."""

    SUMMARY_PARAM = "instance_name"
    OP_PARAMS = (p.INSTANCE_NAME, p.INSTANCE_UUID)


# -- tags ------------------------------------------------------------------------------------


class OpTagsGet(OpCode):
    """Return an object's tags."""

    SUMMARY_PARAM = "name"
    OP_PARAMS = (
        p.TAGS_KIND,
        p.USE_LOCKING,
        p.TAGS_NAME.with_doc("Object whose tags to return"),
    )


class OpTagsSearch(OpCode):
    """Find the objects whose tags match a regular expression."""

    SUMMARY_PARAM = "pattern"
    OP_PARAMS = (p.req("pattern", p.TName, "Regular expression"),)


class OpTagsSet(OpCode):
    """Add tags to an object."""

    OP_PARAMS = (
        p.TAGS_KIND,
        p.TAGS_LIST,
        p.TAGS_NAME.with_doc("Object to add the tags to"),
    )


class OpTagsDel(OpCode):
    """Remove tags from an object."""

    OP_PARAMS = (
        p.TAGS_KIND,
        p.TAGS_LIST,
        p.TAGS_NAME.with_doc("Object to remove the tags from"),
    )


# -- tests -------------------------------------------------------------------------------------


class OpTestDelay(OpCode):
    """Sleep, on the master and/or nodes (tests the queue and locking)."""

    SUMMARY_PARAM = "duration"
    OP_PARAMS = (
        p.req("duration", ht.TNonNegativeNumber, "Seconds to sleep"),
        p.flag("on_master", True, "Sleep on the master"),
        Param("on_nodes", p.TNames, [], "Nodes to sleep on"),
        p.opt("on_node_uuids", p.TNames, "UUIDs of the nodes to sleep on"),
        Param("repeat", ht.TNonNegativeInt, 0, "How many more times to sleep"),
        p.flag("interruptible", False, "Allow interrupting the sleep through a socket"),
        p.flag("no_locks", True, "Take no locks while sleeping"),
    )

    @classmethod
    def format_summary_value(cls, value: Any) -> str:
        """Durations show in nanoseconds, as Ganeti's job listings do."""
        if isinstance(value, (int, float)):
            return "%d ns" % round(value * 1e9)
        return str(value)


class OpTestAllocator(OpCode):
    """Run an allocator on a made-up request, or only build the request."""

    SUMMARY_PARAM = "iallocator"
    OP_PARAMS = (
        p.req("direction", ht.TElemOf(constants.VALID_IALLOCATOR_DIRECTIONS),
              "'in' returns the request, 'out' runs the allocator"),
        p.req("mode", ht.TElemOf(constants.VALID_IALLOCATOR_MODES), "Allocator request mode"),
        p.req("name", p.TName, "Subject of the request (instance, node, …)"),
        p.opt("nics", ht.TListOf(p.TNicParams), "NICs of the made-up instance"),
        p.opt("disks", ht.TList, "Disks of the made-up instance"),
        p.HYPERVISOR,
        p.IALLOCATOR,
        p.INST_TAGS,
        p.opt("memory", ht.TNonNegativeInt, "Memory of the made-up instance (MiB)"),
        p.opt("vcpus", ht.TNonNegativeInt, "Virtual CPUs of the made-up instance"),
        p.opt("os", p.TName, "OS of the made-up instance"),
        p.OPT_DISK_TEMPLATE,
        p.opt("instances", p.TNames, "Instances the request is about"),
        p.opt("evac_mode", ht.TElemOf(constants.NODE_EVAC_MODES), "Evacuation mode"),
        p.TARGET_GROUPS,
        Param("spindle_use", ht.TNonNegativeInt, 1, "Spindles of the made-up instance"),
        Param("count", ht.TNonNegativeInt, 1, "Number of instances to allocate"),
        p.OPT_GROUP_NAME,
    )


class OpTestJqueue(OpCode):
    """Exercise the job queue's notifications and logging."""

    OP_PARAMS = (
        p.flag("notify_waitlock", False, "Notify while waiting for locks"),
        p.flag("notify_exec", False, "Notify when execution starts"),
        Param("log_messages", ht.TListOf(ht.TString), [], "Messages to log"),
        p.flag("fail", False, "Fail at the end"),
    )


class OpTestOsParams(OpCode):
    """Accept secret OS parameters (tests their redaction)."""

    OP_PARAMS = (p.INST_OSPARAMS_SECRET,)


class OpTestDummy(OpCode):
    """Do nothing, returning the given result (tests the processor)."""

    OP_PARAMS = (
        p.req("result", ht.TAny, "Value to return"),
        p.req("messages", ht.TAny, "Messages to log"),
        p.req("fail", ht.TAny, "Whether to fail"),
        p.req("submit_jobs", ht.TAny, "Jobs to submit"),
    )


# -- networks ------------------------------------------------------------------------------------


class OpNetworkAdd(OpCode):
    """Create an IP network (address pool)."""

    SUMMARY_PARAM = "network_name"
    OP_PARAMS = (
        p.NETWORK_NAME,
        p.req("network", ht.TIPv4Network, "IPv4 subnet"),
        p.NETWORK_GATEWAY4,
        p.NETWORK_ADDRESS6,
        p.NETWORK_GATEWAY6,
        p.NETWORK_MAC_PREFIX,
        p.NETWORK_ADD_RESERVED_IPS,
        p.CONFLICTS_CHECK,
        p.INST_TAGS.with_doc("Tags of the network"),
    )


class OpNetworkRemove(OpCode):
    """Remove a network no group is connected to."""

    SUMMARY_PARAM = "network_name"
    OP_PARAMS = (p.NETWORK_NAME, p.FORCE)


class OpNetworkRename(OpCode):
    """Rename a network."""

    OP_PARAMS = (p.NETWORK_NAME, p.NEW_NAME.with_doc("New name of the network"))


def _or_none(param: Param) -> Param:
    """``param`` also accepting "none" (Ganeti's value for "clear it")."""
    return Param(param.name, ht.TOr(param.check, ht.TElemOf([constants.VALUE_NONE])),
                 param.default, param.doc + " (\"none\" clears it)")


class OpNetworkSetParams(OpCode):
    """Change a network's gateways, MAC prefix and reserved addresses."""

    SUMMARY_PARAM = "network_name"
    OP_PARAMS = (
        p.NETWORK_NAME,
        _or_none(p.NETWORK_GATEWAY4),
        _or_none(p.NETWORK_ADDRESS6),
        _or_none(p.NETWORK_GATEWAY6),
        _or_none(p.NETWORK_MAC_PREFIX),
        p.NETWORK_ADD_RESERVED_IPS.with_doc("External IP addresses to reserve"),
        p.opt("remove_reserved_ips", ht.TListOf(ht.TIPv4Address),
              "External IP addresses to release"),
    )


class OpNetworkConnect(OpCode):
    """Connect a network to a node group."""

    SUMMARY_PARAM = "network_name"
    OP_PARAMS = (
        p.GROUP_NAME,
        p.NETWORK_NAME,
        p.req("network_mode", ht.TElemOf(constants.NIC_VALID_MODES),
              "NIC mode in this group"),
        p.req("network_link", p.TName, "NIC link in this group"),
        Param("network_vlan", ht.TString, "", "VLAN in this group (empty: none)"),
        p.CONFLICTS_CHECK,
    )


class OpNetworkDisconnect(OpCode):
    """Disconnect a network from a node group."""

    SUMMARY_PARAM = "network_name"
    OP_PARAMS = (p.GROUP_NAME, p.NETWORK_NAME)
