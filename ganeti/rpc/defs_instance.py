"""Node RPC procedures for instances, block devices, OS definitions and storage.

Declarations only; the implementations live in ``ganeti.backend.instance``,
``ganeti.backend.bdev``, ``ganeti.backend.os`` and ``ganeti.backend.storage``.
``ganeti.rpc.table`` merges these with the node-level procedures.
"""

from __future__ import annotations

from ganeti import constants, ht
from ganeti.rpc.procedure import Arg, Isolation, Procedure, Timeout

_INSTANCE_MOD = "ganeti.backend.instance"
_BDEV_MOD = "ganeti.backend.bdev"
_OS_MOD = "ganeti.backend.os"
_STORAGE_MOD = "ganeti.backend.storage"

#: An instance as the master sends it (hv/be params already filled).
TInstanceDict = ht.WithDesc(ht.TDict, "an instance dictionary")
#: A full disk (not a UUID), with its children.
TDiskDict = ht.WithDesc(ht.TDict, "a disk dictionary")
THypervisorName = ht.TElemOf(constants.HYPER_TYPES)
THvParamsByHv = ht.TDictOf(THypervisorName, ht.TDict)
TInstanceInfo = ht.WithDesc(ht.TDict, "an instance info dictionary (memory, vcpus, state, time)")
TDebugLevel = ht.TNonNegativeInt


def _instance(name: str, backend: str, args: tuple[Arg, ...], result: ht.Check, doc: str,
              timeout: Timeout = Timeout.NORMAL,
              isolation: Isolation = Isolation.CHILD) -> Procedure:
    return Procedure(name=name, args=args, result=result, backend="%s:%s" % (_INSTANCE_MOD,
                                                                             backend),
                     timeout=timeout, isolation=isolation, doc=doc)


def _bdev(name: str, backend: str, args: tuple[Arg, ...], result: ht.Check, doc: str,
          timeout: Timeout = Timeout.NORMAL) -> Procedure:
    return Procedure(name=name, args=args, result=result, backend="%s:%s" % (_BDEV_MOD, backend),
                     timeout=timeout, isolation=Isolation.CHILD, doc=doc)


_INSTANCE_ARG = Arg("instance", TInstanceDict, "the instance (filled parameters)")
_DISK_ARG = Arg("disk", TDiskDict, "the disk, with its children")
_HV_LIST_ARGS = (
    Arg("hypervisors", ht.TListOf(THypervisorName), "hypervisors to ask"),
    Arg("hvparams", THvParamsByHv, "cluster hvparams per hypervisor"),
)

INSTANCE_PROCEDURES: tuple[Procedure, ...] = (
    _instance("instance_start", "instance_start",
              (_INSTANCE_ARG,
               Arg("startup_paused", ht.TBool, "start with the CPUs paused")),
              ht.TNone, "Start an instance; starting a running one is an error.",
              timeout=Timeout.NORMAL),
    _instance("instance_shutdown", "instance_shutdown",
              (_INSTANCE_ARG,
               Arg("timeout", ht.TNonNegativeInt, "seconds before a forced stop")),
              ht.TNone, "Stop an instance; stopping a stopped one does nothing.",
              timeout=Timeout.NORMAL),
    _instance("instance_reboot", "instance_reboot",
              (_INSTANCE_ARG,
               Arg("reboot_type", ht.TElemOf(constants.REBOOT_TYPES), "soft, hard or full"),
               Arg("shutdown_timeout", ht.TNonNegativeInt, "seconds for the shutdown part")),
              ht.TNone, "Reboot a running instance.", timeout=Timeout.NORMAL),
    _instance("instance_info", "instance_info",
              (Arg("instance_name", ht.TNonEmptyString, "the instance's name"),
               Arg("hypervisor", THypervisorName, "its hypervisor"),
               Arg("hvparams", ht.TDict, "the hypervisor's cluster parameters")),
              ht.TMaybe(TInstanceInfo),
              "Runtime information of one instance, or None when it is not running.",
              timeout=Timeout.URGENT, isolation=Isolation.THREAD),
    _instance("all_instances_info", "all_instances_info", _HV_LIST_ARGS,
              ht.TDictOf(ht.TNonEmptyString, TInstanceInfo),
              "Runtime information of every running instance, by name.",
              timeout=Timeout.URGENT, isolation=Isolation.THREAD),
    _instance("instance_list", "instance_list", _HV_LIST_ARGS, ht.TListOf(ht.TNonEmptyString),
              "Names of the running instances.",
              timeout=Timeout.URGENT, isolation=Isolation.THREAD),
    _instance("instance_os_add", "instance_os_add",
              (_INSTANCE_ARG,
               Arg("reinstall", ht.TBool, "the instance is being reinstalled"),
               Arg("debug", TDebugLevel, "OS script debug level")),
              ht.TNone, "Run the OS definition's create script for an instance.",
              timeout=Timeout.FOUR_HOURS),
    _instance("instance_run_rename", "instance_run_rename",
              (_INSTANCE_ARG,
               Arg("old_name", ht.TNonEmptyString, "the instance's previous name"),
               Arg("debug", TDebugLevel, "OS script debug level")),
              ht.TNone, "Run the OS definition's rename script for an instance.",
              timeout=Timeout.SLOW),
    # -- migration, in the order the master calls the steps ---------------------------
    _instance("migration_info", "migration_info", (_INSTANCE_ARG,), ht.TAny,
              "Source side: what the target needs to accept the instance.",
              timeout=Timeout.NORMAL),
    _instance("accept_instance", "accept_instance",
              (_INSTANCE_ARG,
               Arg("info", ht.TAny, "what migration_info returned"),
               Arg("target", ht.TNonEmptyString, "the target node's address")),
              ht.TNone, "Target side: prepare to receive a migrating instance.",
              timeout=Timeout.NORMAL),
    _instance("instance_migrate", "instance_migrate",
              (Arg("cluster_name", ht.TNonEmptyString, "the cluster's name"),
               _INSTANCE_ARG,
               Arg("target", ht.TNonEmptyString, "the target node's address"),
               Arg("live", ht.TBool, "live (True) or non-live migration")),
              ht.TNone, "Source side: send the instance to the target.",
              timeout=Timeout.SLOW),
    _instance("instance_finalize_migration_dst", "finalize_migration_dst",
              (_INSTANCE_ARG,
               Arg("info", ht.TAny, "what migration_info returned"),
               Arg("success", ht.TBool, "whether the migration succeeded")),
              ht.TNone, "Target side: finish (or abort) an incoming migration.",
              timeout=Timeout.NORMAL),
    _instance("instance_finalize_migration_src", "finalize_migration_src",
              (_INSTANCE_ARG,
               Arg("success", ht.TBool, "whether the migration succeeded"),
               Arg("live", ht.TBool, "whether it was live")),
              ht.TNone, "Source side: clean up after a migration.",
              timeout=Timeout.NORMAL),
    _instance("instance_get_migration_status", "get_migration_status",
              (_INSTANCE_ARG,), ht.TDict,
              "Progress of an ongoing migration (status, transferred memory).",
              timeout=Timeout.URGENT, isolation=Isolation.THREAD),
    _instance("instance_console_info", "console_info",
              (Arg("instances", ht.TListOf(TInstanceDict), "instances to describe"),),
              ht.TDictOf(ht.TNonEmptyString, ht.TDict),
              "How to reach each instance's console, by instance name.",
              timeout=Timeout.URGENT, isolation=Isolation.THREAD),
)

BDEV_PROCEDURES: tuple[Procedure, ...] = (
    _bdev("blockdev_create", "blockdev_create",
          (_DISK_ARG,
           Arg("size", ht.TNonNegativeInt, "size in MiB"),
           Arg("owner", ht.TString, "the owning instance's name"),
           Arg("on_primary", ht.TBool, "this node is the instance's primary"),
           Arg("info", ht.TString, "text attached to the device (e.g. LV tag)"),
           Arg("excl_stor", ht.TBool, "exclusive storage is enabled")),
          ht.TMaybe(ht.TString), "Create a block device; returns its unique id (path).",
          timeout=Timeout.SLOW),
    _bdev("blockdev_remove", "blockdev_remove", (_DISK_ARG,), ht.TNone,
          "Remove a block device (removing a missing one is not an error)."),
    _bdev("blockdev_assemble", "blockdev_assemble",
          (_DISK_ARG,
           Arg("instance_name", ht.TNonEmptyString, "the owning instance"),
           Arg("as_primary", ht.TBool, "assemble for the primary node"),
           Arg("idx", ht.TNonNegativeInt, "the disk's index in the instance")),
          ht.TTupleOf(ht.TMaybe(ht.TString), ht.TMaybe(ht.TString)),
          "Make a block device usable; returns [path, uri or None]."),
    _bdev("blockdev_shutdown", "blockdev_shutdown", (_DISK_ARG,), ht.TNone,
          "Deactivate a block device."),
    _bdev("blockdev_getsize", "blockdev_getsize",
          (Arg("disks", ht.TListOf(TDiskDict), "the disks to measure"),),
          ht.TListOf(ht.TMaybe(ht.TNonNegativeInt)),
          "Sizes in bytes, None for a disk that cannot be found.",
          timeout=Timeout.URGENT),
    _bdev("blockdev_grow", "blockdev_grow",
          (_DISK_ARG,
           Arg("amount", ht.TNonNegativeInt, "MiB to add"),
           Arg("dryrun", ht.TBool, "only check that the growth is possible"),
           Arg("backingstore", ht.TBool, "grow the backing storage, not the top device"),
           Arg("excl_stor", ht.TBool, "exclusive storage is enabled")),
          ht.TNone, "Grow a block device.", timeout=Timeout.NORMAL),
    _bdev("blockdev_find", "blockdev_find", (_DISK_ARG,), ht.TMaybe(ht.TDict),
          "Status of a block device (path, size, degraded, …), None if absent.",
          timeout=Timeout.URGENT),
    _bdev("blockdev_rename", "blockdev_rename",
          (Arg("devlist", ht.TListOf(ht.TTupleOf(TDiskDict, ht.TList)),
               "pairs of [disk, new logical_id]"),),
          ht.TNone, "Rename block devices to new logical ids."),
    # -- copying a disk's data between nodes (gnt-instance move), through the master ---
    _bdev("blockdev_read_chunk", "blockdev_read_chunk",
          (_DISK_ARG,
           Arg("offset", ht.TNonNegativeInt, "byte offset"),
           Arg("length", ht.TPositiveInt, "bytes to read at most")),
          ht.TString, "Bytes of a disk's device from offset, base64-encoded; '' at the end."),
    _bdev("blockdev_write_chunk", "blockdev_write_chunk",
          (_DISK_ARG,
           Arg("offset", ht.TNonNegativeInt, "byte offset"),
           Arg("data", ht.TString, "base64-encoded bytes")),
          ht.TNone, "Write bytes into a disk's device at offset."),
)

OS_PROCEDURES: tuple[Procedure, ...] = (
    Procedure(name="os_diagnose", args=(), result=ht.TListOf(ht.TList),
              backend="%s:os_diagnose" % _OS_MOD, timeout=Timeout.FAST,
              isolation=Isolation.THREAD,
              doc="Every OS definition found in the search path, with its validity: "
                  "[name, path, status, message, variants, parameters, api_versions, "
                  "trusted]."),
    Procedure(name="os_get", args=(Arg("name", ht.TNonEmptyString, "OS name (variant ok)"),),
              result=ht.TDict, backend="%s:os_get" % _OS_MOD, timeout=Timeout.FAST,
              isolation=Isolation.THREAD, doc="One OS definition, or an error if invalid."),
    Procedure(name="os_validate",
              args=(Arg("required", ht.TBool, "a missing OS is an error"),
                    Arg("name", ht.TNonEmptyString, "OS name (variant ok)"),
                    Arg("checks", ht.TListOf(ht.TNonEmptyString), "what to validate"),
                    Arg("params", ht.TDict, "OS parameters"),
                    Arg("force_variant", ht.TBool, "accept unknown variants")),
              result=ht.TBool, backend="%s:os_validate" % _OS_MOD, timeout=Timeout.FAST,
              isolation=Isolation.CHILD,
              doc="Validate an OS and its parameters; False when absent and not required."),
)

STORAGE_PROCEDURES: tuple[Procedure, ...] = (
    Procedure(name="storage_list",
              args=(Arg("storage_type", ht.TElemOf(constants.STORAGE_TYPES), "storage type"),
                    Arg("args", ht.TList, "type-specific arguments"),
                    Arg("name", ht.TMaybe(ht.TNonEmptyString), "one unit, or None for all"),
                    Arg("fields", ht.TListOf(ht.TNonEmptyString), "fields to return")),
              result=ht.TListOf(ht.TList), backend="%s:storage_list" % _STORAGE_MOD,
              timeout=Timeout.NORMAL, isolation=Isolation.CHILD,
              doc="List storage units of a type, one row of field values each."),
)

PROCEDURES: tuple[Procedure, ...] = (INSTANCE_PROCEDURES + BDEV_PROCEDURES + OS_PROCEDURES
                                     + STORAGE_PROCEDURES)
