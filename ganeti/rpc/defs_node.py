"""Node RPC procedures about the node itself, its files, job queue and hooks.

Declarations only; the implementations live in ``ganeti.backend.node``,
``ganeti.backend.files``, ``ganeti.backend.jobqueue`` and
``ganeti.backend.hooks``. ``ganeti.rpc.table`` merges these with the
instance-level procedures.

File names in ``upload_file`` and ``node_verify``'s file list are cluster
paths: absolute paths as on a node rooted at ``/``; each node places them
under its own root (the same on a real cluster, different on a local one).
Job queue file names are relative to the queue directory.
"""

from __future__ import annotations

import dataclasses

from ganeti import constants, ht
from ganeti.rpc.encoding import TEncodedData
from ganeti.rpc.procedure import Arg, Isolation, Procedure, Timeout

_NODE = "ganeti.backend.node"
_FILES = "ganeti.backend.files"
_QUEUE = "ganeti.backend.jobqueue"
_HOOKS = "ganeti.backend.hooks"

#: A user or group: a name or a numeric id.
TOwner = ht.TOr(ht.TNonEmptyString, ht.TNonNegativeInt)
#: A job queue file name relative to the queue directory, e.g. "job-12".
TQueueFileName = ht.TRegex(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$",
                           "a file name relative to the job queue directory")
#: A storage unit to report on: [storage type, key (e.g. VG name), parameters].
TStorageUnit = ht.TTupleOf(ht.TElemOf(constants.STORAGE_TYPES), ht.TString, ht.TList)
#: A hypervisor to report on: [name, cluster hvparams].
THvSpec = ht.TTupleOf(ht.TElemOf(constants.HYPER_TYPES), ht.TDict)
#: One hook script's outcome: [script name, HKR_* status, output].
THookResult = ht.TTupleOf(ht.TNonEmptyString,
                          ht.TElemOf([constants.HKR_SKIP, constants.HKR_FAIL,
                                      constants.HKR_SUCCESS]),
                          ht.TString)

TNodeInfo = ht.TStrictDict(True, {
    "bootid": ht.TString,
    "memory_total": ht.TNonNegativeInt,
    "memory_free": ht.TNonNegativeInt,
    "cpu_total": ht.TPositiveInt,
    "storage": ht.TListOf(ht.TDict),
    "hypervisor": ht.TListOf(ht.TDict),
})

TVerifyChecks = ht.TStrictDict(False, {
    constants.NV_FILELIST: ht.TListOf(ht.TAbsolutePath),
    constants.NV_HYPERVISOR: ht.TListOf(ht.TElemOf(constants.HYPER_TYPES)),
    constants.NV_HVINFO: ht.TElemOf(constants.HYPER_TYPES),
    constants.NV_VERSION: ht.TNone,
    constants.NV_TIME: ht.TNone,
    constants.NV_NODENETTEST: ht.TListOf(ht.TTupleOf(ht.TNonEmptyString, ht.TNonEmptyString,
                                                     ht.TIntRange(1, 65535))),
})


def _proc(module: str, name: str, args: tuple[Arg, ...], result: ht.Check, doc: str,
          timeout: Timeout, isolation: Isolation = Isolation.THREAD) -> Procedure:
    return Procedure(name=name, args=args, result=result, backend="%s:%s" % (module, name),
                     timeout=timeout, isolation=isolation, doc=doc)


NODE_PROCEDURES: tuple[Procedure, ...] = (
    _proc(_NODE, "version", (), ht.TInt,
          "The node's RPC protocol version (constants.PROTOCOL_VERSION).",
          Timeout.URGENT, Isolation.INLINE),
    _proc(_NODE, "node_info",
          (Arg("storage_units", ht.TListOf(TStorageUnit),
               "storage units to report: [type, key, parameters]"),
           Arg("hv_specs", ht.TListOf(THvSpec), "hypervisors to report: [name, hvparams]")),
          TNodeInfo,
          "Boot id, memory (MiB) and CPUs of the node, space of the given storage units "
          "and the given hypervisors' node information.",
          # Every list with live fields asks this; a child process per call would
          # cost more than the answer (the commands it may run have timeouts).
          Timeout.URGENT, Isolation.THREAD),
    _proc(_NODE, "node_verify",
          (Arg("checks", TVerifyChecks, "the checks to run and their parameters"),
           Arg("cluster_name", ht.TNonEmptyString, "the cluster's name"),
           Arg("all_hvparams", ht.TDictOf(ht.TElemOf(constants.HYPER_TYPES), ht.TDict),
               "cluster hvparams per hypervisor")),
          ht.TDict,
          "Run the requested verification checks; the reply has one key per check.",
          Timeout.NORMAL, Isolation.CHILD),
    _proc(_NODE, "master_node_name", (), ht.TNonEmptyString,
          "The master node named in this node's ssconf.", Timeout.URGENT),
    _proc(_NODE, "node_leave_cluster",
          (Arg("modify_ssh_setup", ht.TBool, "also remove the cluster's SSH keys"),),
          ht.TString,
          "Remove this node's cluster files (config, ssconf, certificates, queue) and "
          "stop its node daemon.",
          Timeout.NORMAL),
)

FILE_PROCEDURES: tuple[Procedure, ...] = (
    _proc(_FILES, "upload_file",
          (Arg("file_name", ht.TAbsolutePath, "cluster path of the file"),
           Arg("data", TEncodedData, "the content"),
           Arg("mode", ht.TIntRange(0, 0o7777), "permission bits"),
           Arg("uid", TOwner, "owner (name or id)"),
           Arg("gid", TOwner, "group (name or id)"),
           Arg("atime", ht.TNonNegativeNumber, "access time (seconds)"),
           Arg("mtime", ht.TNonNegativeNumber, "modification time (seconds)")),
          ht.TNone,
          "Replace a file on the upload allow-list (config, certificates, RAPI users, "
          "known_hosts, hypervisor ancillary files, the cluster's extra files).",
          Timeout.NORMAL),
    _proc(_FILES, "write_ssconf_files",
          (Arg("values", ht.TDictOf(ht.TNonEmptyString, ht.TString), "ssconf key -> value"),),
          ht.TNone, "Replace this node's ssconf files.", Timeout.FAST),
)

QUEUE_PROCEDURES: tuple[Procedure, ...] = (
    _proc(_QUEUE, "jobqueue_update",
          (Arg("file_name", TQueueFileName, "file inside the queue directory"),
           Arg("content", TEncodedData, "the content")),
          ht.TNone, "Replace a job queue file (replication to master candidates).",
          Timeout.FAST),
    _proc(_QUEUE, "jobqueue_update_many",
          (Arg("files", ht.TListOf(ht.TTupleOf(TQueueFileName, TEncodedData)),
               "[file name, content] pairs inside the queue directory"),),
          ht.TNone, "Replace several job queue files with one disk sync (replication "
          "to master candidates, a round at a time).", Timeout.FAST),
    _proc(_QUEUE, "jobqueue_rename",
          (Arg("renames", ht.TListOf(ht.TTupleOf(TQueueFileName, TQueueFileName)),
               "[old, new] pairs inside the queue directory"),),
          ht.TNone, "Rename job queue files (archiving), creating directories as needed.",
          Timeout.FAST),
    _proc(_QUEUE, "jobqueue_purge", (), ht.TNone,
          "Remove every job queue file but the lock file.", Timeout.NORMAL),
    _proc(_QUEUE, "jobqueue_set_drain_flag",
          (Arg("drain", ht.TBool, "whether new jobs are refused"),),
          ht.TNone, "Set or clear the queue's drain flag.", Timeout.FAST),
)

HOOK_PROCEDURES: tuple[Procedure, ...] = (
    _proc(_HOOKS, "hooks_runner",
          (Arg("hpath", ht.TRegex(r"^[a-z0-9][a-z0-9-]*$", "a hooks path (e.g. instance-add)"),
               "the hook point"),
           Arg("phase", ht.TElemOf(constants.HOOKS_PHASES), "pre or post"),
           Arg("env", ht.TDictOf(ht.TNonEmptyString, ht.TString), "GANETI_* environment")),
          ht.TListOf(THookResult),
          "Run the executables of the hook point's directory in lexical order; "
          "returns [script, HKR_* status, output] for each.",
          Timeout.NORMAL, Isolation.CHILD),
)
# An empty or missing hooks directory is answered without a child process.
HOOK_PROCEDURES = tuple(
    dataclasses.replace(proc, shortcut="%s:hooks_runner_shortcut" % _HOOKS)
    for proc in HOOK_PROCEDURES)

#: Test procedures (OpTestDelay's on_nodes; callers pass a timeout above the delay).
TEST_PROCEDURES: tuple[Procedure, ...] = (
    _proc(_NODE, "test_delay",
          (Arg("duration", ht.TNonNegativeNumber, "seconds to sleep"),),
          ht.TNone, "Sleep for the given number of seconds (tests the queue and RPC).",
          Timeout.URGENT),
)

PROCEDURES: tuple[Procedure, ...] = (NODE_PROCEDURES + FILE_PROCEDURES + QUEUE_PROCEDURES
                                     + HOOK_PROCEDURES + TEST_PROCEDURES)

#: Master failover: reading a candidate's configuration, stepping a master down.
FAILOVER_PROCEDURES: tuple[Procedure, ...] = (
    _proc(_NODE, "config_read", (), TEncodedData,
          "This node's config.data (master candidates keep a copy), encoded; the "
          "failover takes the copy with the highest serial number.",
          Timeout.FAST),
    _proc(_NODE, "node_stop_master", (), ht.TListOf(ht.TNonEmptyString),
          "Stop the master daemons running on this node (RAPI, then masterd); "
          "returns the names of those that were running.",
          Timeout.FAST),
    _proc(_NODE, "jobqueue_get_drain_flag", (), ht.TBool,
          "Whether this node's copy of the job queue is marked drained (the failover "
          "keeps the old master's flag, not a stale local one).",
          Timeout.URGENT),
)

PROCEDURES += FAILOVER_PROCEDURES

#: Master candidate role changes: what a node keeps and runs follows its role.
ROLE_PROCEDURES: tuple[Procedure, ...] = (
    _proc(_NODE, "node_demote_from_mc", (), ht.TNone,
          "This node is no longer a master candidate: remove its copy of config.data "
          "(kept as a backup) and stop its confd. Refused on the master.",
          Timeout.FAST),
    _proc(_NODE, "node_ensure_daemon",
          (Arg("daemon", ht.TElemOf([constants.CONFD]), "the daemon"),
           Arg("run", ht.TBool, "whether it should run")),
          ht.TNone,
          "Start or stop a daemon that follows the node's role (confd on candidates).",
          Timeout.FAST),
)

PROCEDURES += ROLE_PROCEDURES

_STORAGE = "ganeti.backend.storage"

#: The cluster's master network parameters (Ganeti's MasterNetworkParameters).
TMasterParams = ht.TStrictDict(True, {
    "ip": ht.TNonEmptyString,
    "netmask": ht.TIntRange(1, 128),
    "netdev": ht.TRegex(r"^[A-Za-z0-9_.:@-]{1,15}$", "a network device name"),
    "ip_family": ht.TElemOf([constants.IP4_FAMILY, constants.IP6_FAMILY]),
})

#: The master IP on the master network device.
MASTER_IP_PROCEDURES: tuple[Procedure, ...] = (
    _proc(_NODE, "node_activate_master_ip",
          (Arg("master_params", TMasterParams, "the master IP, netmask, device and family"),
           Arg("use_external_mip_script", ht.TBool,
               "run the administrator's master-ip-setup script instead of ip addr")),
          ht.TString,
          "Add the master IP on the master network device (nothing if already there), "
          "between the master-ip-turnup hooks; returns what was done.",
          Timeout.FAST, Isolation.CHILD),
    _proc(_NODE, "node_deactivate_master_ip",
          (Arg("master_params", TMasterParams, "the master IP, netmask, device and family"),
           Arg("use_external_mip_script", ht.TBool,
               "run the administrator's master-ip-setup script instead of ip addr")),
          ht.TString,
          "Remove the master IP from the master network device (nothing if absent), "
          "between the master-ip-turndown hooks; returns what was done.",
          Timeout.FAST, Isolation.CHILD),
)

PROCEDURES += MASTER_IP_PROCEDURES

_STORAGE_UNIT_ARGS = (
    Arg("storage_type", ht.TElemOf(constants.STORAGE_TYPES), "storage type"),
    Arg("args", ht.TList, "type-specific arguments (e.g. storage directories)"),
    Arg("name", ht.TNonEmptyString, "the storage unit"),
)

#: Changing storage units and listing logical volumes (gnt-node modify-storage,
#: repair-storage, volumes).
STORAGE_UNIT_PROCEDURES: tuple[Procedure, ...] = (
    _proc(_STORAGE, "storage_modify",
          (*_STORAGE_UNIT_ARGS,
           Arg("changes", ht.TDictOf(ht.TElemOf([constants.SF_ALLOCATABLE]), ht.TBool),
               "field -> new value")),
          ht.TNone, "Change fields of a storage unit (an LVM PV's allocatable flag).",
          Timeout.NORMAL, Isolation.CHILD),
    _proc(_STORAGE, "storage_execute",
          (*_STORAGE_UNIT_ARGS,
           Arg("op", ht.TElemOf([constants.SO_FIX_CONSISTENCY]), "the operation")),
          ht.TString,
          "Run an operation on a storage unit (fix-consistency: vgreduce --removemissing "
          "on a volume group); returns what was done.",
          Timeout.NORMAL, Isolation.CHILD),
    _proc(_STORAGE, "node_volumes", (),
          ht.TListOf(ht.TStrictDict(True, {constants.VF_NAME: ht.TString,
                                           constants.VF_VG: ht.TString,
                                           constants.VF_SIZE: ht.TNonNegativeInt,
                                           constants.VF_DEV: ht.TString})),
          "The node's logical volumes, one entry per physical device: name, vg, size "
          "(MiB), dev.",
          Timeout.FAST, Isolation.CHILD),
)

PROCEDURES += STORAGE_UNIT_PROCEDURES
