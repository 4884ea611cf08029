"""Parameters shared by several opcodes, and the checks they use.

Names, types, defaults and optionality follow Ganeti 3.0's opcode
parameters; each shared parameter is declared here once and reused (with
``with_doc`` where an opcode documents it differently). Parameters used by a
single opcode are declared next to it.

Dictionaries of hypervisor, backend, OS, node or disk parameters are only
checked for shape here; their keys and value types are checked by the
logical unit against ``ganeti.paramdefs``.
"""

from __future__ import annotations

from typing import Any

from ganeti import constants, errors, ht
from ganeti.opcodes.base import REQUIRED, Param
from ganeti.utils import units

# -- checks ------------------------------------------------------------------------

TName = ht.TNonEmptyString
TNames = ht.TListOf(ht.TNonEmptyString)
TDictOfDicts = ht.TDictOf(ht.TString, ht.TDict)
THypervisor = ht.TElemOf(constants.HYPER_TYPES)
TDiskTemplate = ht.TElemOf(constants.DISK_TEMPLATES)
TStorageType = ht.TElemOf(constants.STORAGE_TYPES)
TDiskIndex = ht.WithDesc(ht.TIntRange(0, constants.MAX_DISKS - 1),
                         "a disk index (0 to %d)" % (constants.MAX_DISKS - 1))


def _is_size(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 0
    if isinstance(value, str):
        try:
            units.parse_unit(value)
        except errors.GenericError:
            return False
        return True
    return False


TSize = ht.Check(_is_size, "a size in MiB or with a unit (e.g. 512, 10g)",
                 {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string"}]})

TNicParams = ht.WithDesc(
    ht.TStrictDict(False, {key: ht.TMaybe(ht.TString)
                           for key in sorted(constants.INIC_PARAMS)}),
    "a NIC definition (keys %s)" % ", ".join(sorted(constants.INIC_PARAMS)))

#: Known disk keys are typed; other keys are ExtStorage provider parameters.
TDiskParams = ht.TDictWith(
    {
        constants.IDISK_SIZE: TSize,
        constants.IDISK_SPINDLES: ht.TNonNegativeInt,
        constants.IDISK_MODE: ht.TElemOf(constants.DISK_ACCESS_SET),
        constants.IDISK_ADOPT: ht.TNonEmptyString,
        constants.IDISK_VG: ht.TNonEmptyString,
        constants.IDISK_METAVG: ht.TNonEmptyString,
        constants.IDISK_NAME: ht.TMaybe(ht.TNonEmptyString),
        constants.IDISK_PROVIDER: ht.TNonEmptyString,
        constants.IDISK_ACCESS: ht.TNonEmptyString,
    },
    ht.TAny,
    "a disk definition (size, mode, vg, name, … plus provider parameters)")


def TDeviceMods(item: ht.Check, what: str) -> ht.Check:
    """NIC or disk modifications of OpInstanceSetParams.

    Either the old form, ``[[action or index, params], ...]``, or the new one,
    ``[[action, index or name, params], ...]``.
    """
    old_style = ht.TListOf(ht.TTupleOf(
        ht.TOr(ht.TElemOf(constants.DDMS_SIMPLE), ht.TNonNegativeInt), item))
    new_style = ht.TListOf(ht.TTupleOf(
        ht.TElemOf(constants.DDMS_VALUES), ht.TOr(ht.TInt, ht.TNonEmptyString), item))
    return ht.WithDesc(ht.TOr(old_style, new_style),
                       "a list of %s modifications ([action, index or name, params])" % what)


TRecreateDisks = ht.WithDesc(
    ht.TOr(ht.TListOf(TDiskIndex), ht.TListOf(ht.TTupleOf(TDiskIndex, TDiskParams))),
    "a list of disk indices or of [disk index, disk parameters] pairs (empty: all disks)")

TUidRanges = ht.WithDesc(ht.TListOf(ht.TTupleOf(ht.TInt, ht.TInt)),
                         "a list of [first uid, last uid] ranges")

TOsListChanges = ht.WithDesc(
    ht.TListOf(ht.TTupleOf(ht.TElemOf(constants.DDMS_SIMPLE), ht.TNonEmptyString)),
    "a list of [add or remove, OS name] changes")

TVerifyErrorCodes = ht.TListOf(ht.TElemOf(constants.CV_ALL_ECODES_STRINGS))


def opt(name: str, check: ht.Check, doc: str) -> Param:
    """An optional parameter: ``None`` (the default) means "not given"."""
    return Param(name, check, None, doc)


def req(name: str, check: ht.Check, doc: str) -> Param:
    """A mandatory parameter."""
    return Param(name, check, REQUIRED, doc)


def flag(name: str, default: bool, doc: str) -> Param:
    """A boolean parameter with a default."""
    return Param(name, ht.TBool, default, doc)


# -- names and identities --------------------------------------------------------------

INSTANCE_NAME = req("instance_name", TName, "Name of the instance")
INSTANCE_UUID = opt("instance_uuid", TName, "UUID of the instance (resolved by the master)")
INSTANCES = Param("instances", TNames, [], "Instance names (empty: all instances)")
NODE_NAME = req("node_name", TName, "Name of the node")
NODE_UUID = opt("node_uuid", TName, "UUID of the node (resolved by the master)")
NODE_UUIDS = opt("node_uuids", TNames, "UUIDs of the nodes (resolved by the master)")
NODES = Param("nodes", TNames, [], "Node names (empty: all nodes)")
REQUIRED_NODES = req("nodes", TNames, "Node names (at least one)")
REQUIRED_NODE_UUIDS = opt("node_uuids", TNames, "UUIDs of the nodes (resolved by the master)")
GROUP_NAME = req("group_name", TName, "Name of the node group")
OPT_GROUP_NAME = opt("group_name", TName, "Restrict the operation to this node group")
NAME = req("name", TName, "Name")
NAMES = Param("names", TNames, [], "Names (empty: all)")
NEW_NAME = req("new_name", TName, "The new name")
NETWORK_NAME = req("network_name", TName, "Name of the network")
OUTPUT_FIELDS = req("output_fields", TNames, "Fields to return")
USE_LOCKING = flag("use_locking", False, "Take locks for a consistent answer")

# -- behaviour switches ------------------------------------------------------------------

FORCE = flag("force", False, "Go ahead despite warnings that would otherwise stop it")
FORCE_VARIANT = flag("force_variant", False, "Accept an OS variant the OS does not list")
WAIT_FOR_SYNC = flag("wait_for_sync", True, "Wait until the disks are in sync")
IGNORE_CONSISTENCY = flag("ignore_consistency", False,
                          "Proceed even if the disks are not consistent")
IGNORE_OFFLINE_NODES = flag("ignore_offline_nodes", False, "Do not fail on offline nodes")
IGNORE_IPOLICY = flag("ignore_ipolicy", False, "Ignore instance policy violations")
EARLY_RELEASE = flag("early_release", False, "Release locks as soon as possible")
IP_CHECK = flag("ip_check", False, "Check that the instance's IP address is not in use")
NAME_CHECK = flag("name_check", False, "Check that the name resolves")
CONFLICTS_CHECK = flag("conflicts_check", True, "Check for conflicting IP addresses")
NO_REMEMBER = flag("no_remember", False, "Do not record the new state in the configuration")
OPPORTUNISTIC_LOCKING = flag(
    "opportunistic_locking", False,
    "With an allocator, only consider nodes not locked by other jobs")
VERBOSE = flag("verbose", False, "Report more detail")
DEBUG_SIMULATE_ERRORS = flag("debug_simulate_errors", False,
                             "Report simulated errors (to test error handling)")
ERROR_CODES = flag("error_codes", False, "Report errors in the machine-parsable format")
SKIP_CHECKS = Param("skip_checks", ht.TListOf(ht.TElemOf(constants.VERIFY_OPTIONAL_CHECKS)),
                    [], "Optional checks to leave out")
IGNORE_ERRORS = Param("ignore_errors", TVerifyErrorCodes, [],
                      "Error codes reported as warnings instead of errors")
VERIFY_CLUTTER = flag("verify_clutter", False,
                      "Also look for stray entries in SSH authorized_keys files")
IS_STRICT = flag("is_strict", True, "Fail on problems rather than only report them")
ALLOW_RUNTIME_CHANGES = flag("allow_runtime_changes", True,
                             "Allow runtime changes (e.g. memory) while migrating")
SHUTDOWN_TIMEOUT = Param("shutdown_timeout", ht.TNonNegativeInt,
                         constants.DEFAULT_SHUTDOWN_TIMEOUT,
                         "Seconds to wait for the instance to shut down")
BACKUP_COMPRESS = Param("compress", ht.TNonEmptyString, constants.IEC_NONE,
                        "Compression tool for the data transfer")

# -- node properties --------------------------------------------------------------------

HV_STATE = opt("hv_state", ht.TDict, "Hypervisor state to record")
DISK_STATE = opt("disk_state", ht.TDict, "Disk state to record")
SECONDARY_IP = opt("secondary_ip", TName, "Secondary (replication) IP address")
MASTER_CAPABLE = opt("master_capable", ht.TBool,
                     "Whether the node may become master or master candidate")
VM_CAPABLE = opt("vm_capable", ht.TBool, "Whether the node may host instances")
NDPARAMS = opt("ndparams", ht.TDict, "Node parameters")
OFFLINE = opt("offline", ht.TBool, "Mark offline (or online again)")
STORAGE_TYPE = req("storage_type", TStorageType, "Type of storage")
STORAGE_NAME = opt("name", TName, "Name of the storage unit")

# -- groups and policies ---------------------------------------------------------------

ALLOC_POLICY = opt("alloc_policy", ht.TElemOf(constants.VALID_ALLOC_POLICIES),
                   "Allocation policy of the group")
GROUP_NDPARAMS = opt("ndparams", ht.TDict, "Default node parameters of the group")
DISKPARAMS = opt("diskparams", ht.TDictOf(TDiskTemplate, ht.TDict),
                 "Disk parameters by disk template")
IPOLICY = opt("ipolicy", ht.TDict, "Instance policy")
TARGET_GROUPS = opt("target_groups", TNames,
                    "Destination groups, by name or UUID (default: all but the current)")

# -- allocation and placement -------------------------------------------------------------

IALLOCATOR = opt("iallocator", TName, "Allocator script choosing the node(s)")
REMOTE_NODE = opt("remote_node", TName, "New secondary node")
REMOTE_NODE_UUID = opt("remote_node_uuid", TName, "UUID of the new secondary node")
PRIMARY_NODE = opt("pnode", TName, "Primary node")
PRIMARY_NODE_UUID = opt("pnode_uuid", TName, "UUID of the primary node")
MIGRATION_MODE = opt("mode", ht.TElemOf(constants.HT_MIGRATION_MODES),
                     "Migration mode (live or non-live)")
MIGRATION_LIVE = opt("live", ht.TBool, "Deprecated: use 'mode'")
MIGRATION_TARGET_NODE = opt("target_node", TName, "Target node of a migration or failover")
MIGRATION_TARGET_NODE_UUID = opt("target_node_uuid", TName, "UUID of the target node")
MIGRATION_CLEANUP = Param("cleanup", ht.TBool, False,
                          "Clean up after a failed migration instead of migrating")

# -- instance definition ------------------------------------------------------------------

HYPERVISOR = opt("hypervisor", THypervisor, "Hypervisor of the instance")
INST_HVPARAMS = Param("hvparams", ht.TDict, {}, "Hypervisor parameters of the instance")
INST_BEPARAMS = Param("beparams", ht.TDict, {}, "Backend parameters of the instance")
INST_OSPARAMS = Param("osparams", ht.TDict, {}, "OS parameters of the instance")
INST_OSPARAMS_PRIVATE = Param("osparams_private", ht.TDict, None,
                              "OS parameters kept out of logs and listings", private=True)
INST_OSPARAMS_SECRET = Param("osparams_secret", ht.TDict, None,
                             "OS parameters passed to the OS scripts only, never stored",
                             secret=True)
INST_OS = opt("os_type", TName, "Operating system definition (and variant)")
OPT_DISK_TEMPLATE = opt("disk_template", TDiskTemplate, "Disk template")
FILE_DRIVER = opt("file_driver", ht.TElemOf(constants.FILE_DRIVERS),
                  "Driver for file-based disks")
FILE_STORAGE_DIR = opt("file_storage_dir", TName, "Directory for file-based disks")
INST_TAGS = Param("tags", TNames, [], "Tags")
INSTANCE_COMMUNICATION = flag("instance_communication", False,
                              "Enable the communication channel between instance and host")

# -- exports -----------------------------------------------------------------------------------

EXPORT_MODE = req("mode", ht.TElemOf(constants.EXPORT_MODES), "Export mode (local or remote)")

# -- networks -------------------------------------------------------------------------------------

NETWORK_GATEWAY4 = opt("gateway", ht.TIPv4Address, "IPv4 gateway")
NETWORK_ADDRESS6 = opt("network6", ht.TIPv6Network, "IPv6 subnet")
NETWORK_GATEWAY6 = opt("gateway6", ht.TIPv6Address, "IPv6 gateway")
NETWORK_MAC_PREFIX = opt("mac_prefix", ht.TMacPrefix,
                         "MAC prefix of the network (overrides the cluster's)")
NETWORK_ADD_RESERVED_IPS = opt("add_reserved_ips", ht.TListOf(ht.TIPv4Address),
                               "IP addresses to reserve")

# -- tags ------------------------------------------------------------------------------------------

TAGS_KIND = req("kind", ht.TElemOf(constants.VALID_TAG_TYPES), "Kind of the tagged object")
TAGS_NAME = opt("name", ht.TString, "Name of the tagged object (not for the cluster)")
TAGS_LIST = req("tags", ht.TListOf(ht.TString), "Tags")
