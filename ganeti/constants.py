"""Names and numbers shared by every part of the system.

Values that clients, OS definitions or on-disk files see are Ganeti's, so
that existing tools line up. Parameter names, types and defaults live in
``paramdefs``; paths live in ``pathutils``.
"""

from __future__ import annotations

from ganeti import _autoconf

# -- versions -------------------------------------------------------------------

RELEASE_VERSION = _autoconf.PACKAGE_VERSION


def build_version(major: int, minor: int, revision: int) -> int:
    """Ganeti's version number formula: 1000000*major + 10000*minor + revision."""
    return 1000000 * major + 10000 * minor + revision


#: The config.data format this project writes: Ganeti 3.0's.
CONFIG_MAJOR, CONFIG_MINOR, CONFIG_REVISION = 3, 0, 0
CONFIG_VERSION = build_version(CONFIG_MAJOR, CONFIG_MINOR, CONFIG_REVISION)
#: Oldest Ganeti config.data format we load (2.16's fields are a subset).
CONFIG_VERSION_MIN_LOADABLE = build_version(2, 11, 0)

#: Internode protocol version (node RPC, luxi).
PROTOCOL_VERSION = build_version(3, 0, 0)

OS_API_V10 = 10
OS_API_V15 = 15
OS_API_V20 = 20
OS_API_VERSIONS = frozenset([OS_API_V10, OS_API_V15, OS_API_V20])
EXPORT_VERSION = 0
HOOKS_VERSION = 2
RAPI_VERSION = 2
IALLOCATOR_VERSION = 2

# -- ports ----------------------------------------------------------------------

DEFAULT_NODED_PORT = 1811
DEFAULT_CONFD_PORT = 1814
DEFAULT_MOND_PORT = 1815
DEFAULT_RAPI_PORT = 5080

# -- daemons --------------------------------------------------------------------

NODED = "ganeti-noded"
MASTERD = "ganeti-masterd"
RAPI = "ganeti-rapi"
CONFD = "ganeti-confd"
MOND = "ganeti-mond"
DAEMONS = (NODED, MASTERD, RAPI, CONFD, MOND)

# -- hypervisors ----------------------------------------------------------------

HT_FAKE = "fake"
HT_KVM = "kvm"
HT_XEN_PVM = "xen-pvm"
HT_XEN_HVM = "xen-hvm"
HT_LXC = "lxc"
HT_CHROOT = "chroot"
HYPER_TYPES = frozenset([HT_FAKE, HT_KVM, HT_XEN_PVM, HT_XEN_HVM, HT_LXC, HT_CHROOT])

# -- disk templates -------------------------------------------------------------

DT_DISKLESS = "diskless"
DT_PLAIN = "plain"
DT_DRBD8 = "drbd"
DT_FILE = "file"
DT_SHARED_FILE = "sharedfile"
DT_BLOCK = "blockdev"
DT_RBD = "rbd"
DT_EXT = "ext"
DT_GLUSTER = "gluster"
DISK_TEMPLATES = frozenset([DT_DISKLESS, DT_PLAIN, DT_DRBD8, DT_FILE, DT_SHARED_FILE,
                            DT_BLOCK, DT_RBD, DT_EXT, DT_GLUSTER])
DTS_FILEBASED = frozenset([DT_FILE, DT_SHARED_FILE, DT_GLUSTER])
DTS_INT_MIRROR = frozenset([DT_DRBD8])
DTS_EXT_MIRROR = frozenset([DT_SHARED_FILE, DT_BLOCK, DT_RBD, DT_EXT, DT_GLUSTER])
DEFAULT_ENABLED_DISK_TEMPLATES = (DT_DRBD8, DT_PLAIN)

DISK_RDONLY = "ro"
DISK_RDWR = "rw"
DISK_ACCESS_SET = frozenset([DISK_RDONLY, DISK_RDWR])

FD_LOOP = "loop"
FD_BLKTAP = "blktap"
FD_BLKTAP2 = "blktap2"
FILE_DRIVERS = frozenset([FD_LOOP, FD_BLKTAP, FD_BLKTAP2])

# -- storage types (for reporting) -----------------------------------------------

ST_LVM_VG = "lvm-vg"
ST_LVM_PV = "lvm-pv"
ST_FILE = "file"
ST_SHARED_FILE = "sharedfile"
ST_GLUSTER = "gluster"
ST_DISKLESS = "diskless"
ST_RADOS = "rados"
ST_EXT = "ext"
ST_BLOCK = "blockdev"
STORAGE_TYPES = frozenset([ST_LVM_VG, ST_LVM_PV, ST_FILE, ST_SHARED_FILE, ST_GLUSTER,
                           ST_DISKLESS, ST_RADOS, ST_EXT, ST_BLOCK])
#: The storage type behind each disk template (Ganeti's).
MAP_DISK_TEMPLATE_STORAGE_TYPE = {
    DT_PLAIN: ST_LVM_VG, DT_DRBD8: ST_LVM_VG, DT_FILE: ST_FILE,
    DT_SHARED_FILE: ST_SHARED_FILE, DT_GLUSTER: ST_SHARED_FILE, DT_DISKLESS: ST_DISKLESS,
    DT_RBD: ST_RADOS, DT_EXT: ST_EXT, DT_BLOCK: ST_BLOCK,
}
#: Storage types gnt-node list-storage can report on.
STS_REPORT_NODE_STORAGE = frozenset([ST_FILE, ST_SHARED_FILE, ST_LVM_PV, ST_LVM_VG])
#: Storage unit fields (gnt-node list-storage); node and type come from the master.
SF_NODE = "node"
SF_TYPE = "type"
SF_NAME = "name"
SF_SIZE = "size"
SF_USED = "used"
SF_FREE = "free"
SF_ALLOCATABLE = "allocatable"
VALID_STORAGE_FIELDS = frozenset([SF_NODE, SF_TYPE, SF_NAME, SF_SIZE, SF_USED, SF_FREE,
                                  SF_ALLOCATABLE])
#: Fields gnt-node modify-storage may change, per storage type.
MODIFIABLE_STORAGE_FIELDS = {ST_LVM_PV: frozenset([SF_ALLOCATABLE])}
#: Storage operation: make a volume group consistent again (vgreduce --removemissing).
SO_FIX_CONSISTENCY = "fix-consistency"
VALID_STORAGE_OPERATIONS = {ST_LVM_VG: frozenset([SO_FIX_CONSISTENCY])}
#: Logical volume fields (gnt-node volumes).
VF_NODE = "node"
VF_PHYS = "phys"
VF_VG = "vg"
VF_NAME = "name"
VF_SIZE = "size"
VF_INSTANCE = "instance"
VF_DEV = "dev"
VALID_VOLUME_FIELDS = (VF_NODE, VF_PHYS, VF_VG, VF_NAME, VF_SIZE, VF_INSTANCE)
#: Local hook points run around adding and removing the master IP.
HOOKS_PATH_MASTER_IP_TURNUP = "master-ip-turnup"
HOOKS_PATH_MASTER_IP_TURNDOWN = "master-ip-turndown"

# -- NIC modes ------------------------------------------------------------------

NIC_MODE_BRIDGED = "bridged"
NIC_MODE_ROUTED = "routed"
NIC_MODE_OVS = "openvswitch"
NIC_MODE_EXT = "ext"
NIC_VALID_MODES = frozenset([NIC_MODE_BRIDGED, NIC_MODE_ROUTED, NIC_MODE_OVS, NIC_MODE_EXT])
VALUE_AUTO = "auto"
VALUE_GENERATE = "generate"
VALUE_POOL = "pool"
VALUE_DEFAULT = "default"
VALUE_NONE = "none"

# -- instances ------------------------------------------------------------------

ADMINST_UP = "up"
ADMINST_DOWN = "down"
ADMINST_OFFLINE = "offline"
ADMINST_ALL = frozenset([ADMINST_UP, ADMINST_DOWN, ADMINST_OFFLINE])

INSTST_RUNNING = "running"
INSTST_ADMINDOWN = "ADMIN_down"
INSTST_ADMINOFFLINE = "ADMIN_offline"
INSTST_NODEOFFLINE = "ERROR_nodeoffline"
INSTST_NODEDOWN = "ERROR_nodedown"
INSTST_WRONGNODE = "ERROR_wrongnode"
INSTST_ERRORUP = "ERROR_up"
INSTST_ERRORDOWN = "ERROR_down"
INSTST_USERDOWN = "USER_down"

INSTANCE_CREATE = "create"
INSTANCE_IMPORT = "import"
INSTANCE_REMOTE_IMPORT = "remote-import"
INSTANCE_CREATE_MODES = frozenset([INSTANCE_CREATE, INSTANCE_IMPORT, INSTANCE_REMOTE_IMPORT])

INSTANCE_REBOOT_SOFT = "soft"
INSTANCE_REBOOT_HARD = "hard"
INSTANCE_REBOOT_FULL = "full"
REBOOT_TYPES = frozenset([INSTANCE_REBOOT_SOFT, INSTANCE_REBOOT_HARD, INSTANCE_REBOOT_FULL])

HT_MIGRATION_LIVE = "live"
HT_MIGRATION_NONLIVE = "non-live"
HT_MIGRATION_MODES = frozenset([HT_MIGRATION_LIVE, HT_MIGRATION_NONLIVE])

DEFAULT_SHUTDOWN_TIMEOUT = 120

# -- nodes and groups -----------------------------------------------------------

NR_MASTER = "M"
NR_MCANDIDATE = "C"
NR_DRAINED = "D"
NR_OFFLINE = "O"
NR_REGULAR = "R"

ALLOC_POLICY_PREFERRED = "preferred"
ALLOC_POLICY_LAST_RESORT = "last_resort"
ALLOC_POLICY_UNALLOCABLE = "unallocable"
VALID_ALLOC_POLICIES = (ALLOC_POLICY_PREFERRED, ALLOC_POLICY_LAST_RESORT,
                        ALLOC_POLICY_UNALLOCABLE)
INITIAL_NODE_GROUP_NAME = "default"

NODE_EVAC_PRI = "primary-only"
NODE_EVAC_SEC = "secondary-only"
NODE_EVAC_ALL = "all"
NODE_EVAC_MODES = frozenset([NODE_EVAC_PRI, NODE_EVAC_SEC, NODE_EVAC_ALL])

# -- cluster defaults -----------------------------------------------------------

DEFAULT_MAC_PREFIX = "aa:00:00"
DEFAULT_VG = "xenvg"
DEFAULT_BRIDGE = "xen-br0"
MASTER_POOL_SIZE_DEFAULT = 10
DEFAULT_MAX_RUNNING_JOBS = 20
DEFAULT_MAX_TRACKED_JOBS = 25
IP4_FAMILY = 2  # socket.AF_INET, as ssconf's primary_ip_family writes it
IP6_FAMILY = 10  # socket.AF_INET6

# -- jobs -----------------------------------------------------------------------

JOB_STATUS_QUEUED = "queued"
JOB_STATUS_WAITING = "waiting"
JOB_STATUS_CANCELING = "canceling"
JOB_STATUS_RUNNING = "running"
JOB_STATUS_CANCELED = "canceled"
JOB_STATUS_SUCCESS = "success"
JOB_STATUS_ERROR = "error"
JOBS_FINALIZED = frozenset([JOB_STATUS_CANCELED, JOB_STATUS_SUCCESS, JOB_STATUS_ERROR])
JOB_STATUS_ALL = frozenset([JOB_STATUS_QUEUED, JOB_STATUS_WAITING, JOB_STATUS_CANCELING,
                            JOB_STATUS_RUNNING]) | JOBS_FINALIZED

OP_PRIO_LOWEST = 19
OP_PRIO_HIGHEST = -20
OP_PRIO_LOW = 10
OP_PRIO_NORMAL = 0
OP_PRIO_HIGH = -10
OP_PRIO_SUBMIT_VALID = frozenset([OP_PRIO_LOW, OP_PRIO_NORMAL, OP_PRIO_HIGH])

# -- tags -----------------------------------------------------------------------

TAG_CLUSTER = "cluster"
TAG_NODEGROUP = "nodegroup"
TAG_NODE = "node"
TAG_INSTANCE = "instance"
TAG_NETWORK = "network"
VALID_TAG_TYPES = frozenset([TAG_CLUSTER, TAG_NODEGROUP, TAG_NODE, TAG_INSTANCE, TAG_NETWORK])
MAX_TAG_LEN = 128
MAX_TAGS_PER_OBJ = 4096

# -- query resources ------------------------------------------------------------

QR_CLUSTER = "cluster"
QR_INSTANCE = "instance"
QR_NODE = "node"
QR_LOCK = "lock"
QR_GROUP = "group"
QR_OS = "os"
QR_JOB = "job"
QR_EXPORT = "export"
QR_NETWORK = "network"
QR_EXTSTORAGE = "extstorage"
QR_FILTER = "filter"
QR_VIA_OP = frozenset([QR_CLUSTER, QR_INSTANCE, QR_NODE, QR_GROUP, QR_OS, QR_EXPORT,
                       QR_NETWORK, QR_EXTSTORAGE])
QR_VIA_LUXI = frozenset([QR_LOCK, QR_JOB, QR_FILTER])
QR_ALL = QR_VIA_OP | QR_VIA_LUXI

# Query field kinds and per-cell result statuses (Ganeti's values).
QFT_UNKNOWN = "unknown"
QFT_TEXT = "text"
QFT_BOOL = "bool"
QFT_NUMBER = "number"
QFT_NUMBER_FLOAT = "float"
QFT_UNIT = "unit"
QFT_TIMESTAMP = "timestamp"
QFT_OTHER = "other"
QFT_ALL = frozenset([QFT_UNKNOWN, QFT_TEXT, QFT_BOOL, QFT_NUMBER, QFT_NUMBER_FLOAT, QFT_UNIT,
                     QFT_TIMESTAMP, QFT_OTHER])
RS_NORMAL = 0
RS_UNKNOWN = 1
RS_NODATA = 2
RS_UNAVAIL = 3
RS_OFFLINE = 4
RS_ALL = frozenset([RS_NORMAL, RS_UNKNOWN, RS_NODATA, RS_UNAVAIL, RS_OFFLINE])

# -- opcode helpers ---------------------------------------------------------------

REPLACE_DISK_PRI = "replace_on_primary"
REPLACE_DISK_SEC = "replace_on_secondary"
REPLACE_DISK_CHG = "replace_new_secondary"
REPLACE_DISK_AUTO = "replace_auto"
REPLACE_MODES = frozenset([REPLACE_DISK_PRI, REPLACE_DISK_SEC, REPLACE_DISK_CHG,
                           REPLACE_DISK_AUTO])

EXPORT_MODE_LOCAL = "local"
EXPORT_MODE_REMOTE = "remote"
EXPORT_MODES = frozenset([EXPORT_MODE_LOCAL, EXPORT_MODE_REMOTE])

DDM_ADD = "add"
DDM_ATTACH = "attach"
DDM_MODIFY = "modify"
DDM_REMOVE = "remove"
DDM_DETACH = "detach"
DDMS_VALUES = frozenset([DDM_ADD, DDM_ATTACH, DDM_MODIFY, DDM_REMOVE, DDM_DETACH])

IALLOCATOR_HAIL = "hail"
DEFAULT_IALLOCATOR_SHORTCUT = "."

# -- verify -----------------------------------------------------------------------

CV_ERROR = "ERROR"
CV_WARNING = "WARNING"
CV_NOTICE = "NOTICE"

# -- size units (MiB base, as Ganeti) ----------------------------------------------

UNITS = {"m": 1, "g": 1024, "t": 1024 * 1024}

# -- opcode parameters (Ganeti's values) ----------------------------------------------

MAX_DISKS = 16
MAX_NICS = 8

#: Simple device modifications (add/remove style lists, e.g. hidden OS lists).
DDMS_SIMPLE = frozenset([DDM_ADD, DDM_ATTACH, DDM_REMOVE, DDM_DETACH])

INIC_MAC = "mac"
INIC_IP = "ip"
INIC_MODE = "mode"
INIC_LINK = "link"
INIC_NAME = "name"
INIC_VLAN = "vlan"
INIC_BRIDGE = "bridge"
INIC_NETWORK = "network"
#: The NIC ``ip`` value asking for a free address of the NIC's network.
NIC_IP_POOL = "pool"
INIC_PARAMS = frozenset([INIC_MAC, INIC_IP, INIC_MODE, INIC_LINK, INIC_NAME, INIC_VLAN,
                         INIC_BRIDGE, INIC_NETWORK])

IDISK_SIZE = "size"
IDISK_SPINDLES = "spindles"
IDISK_MODE = "mode"
IDISK_ADOPT = "adopt"
IDISK_VG = "vg"
IDISK_METAVG = "metavg"
IDISK_PROVIDER = "provider"
IDISK_ACCESS = "access"
IDISK_NAME = "name"
IDISK_TYPE = "dev_type"
IDISK_PARAMS = frozenset([IDISK_SIZE, IDISK_SPINDLES, IDISK_MODE, IDISK_ADOPT, IDISK_VG,
                          IDISK_METAVG, IDISK_PROVIDER, IDISK_ACCESS, IDISK_NAME, IDISK_TYPE])

#: Compression tools for instance moves, imports and exports.
IEC_GZIP = "gzip"
IEC_GZIP_FAST = "gzip-fast"
IEC_GZIP_SLOW = "gzip-slow"
IEC_LZOP = "lzop"
IEC_NONE = "none"
IEC_ALL = frozenset([IEC_GZIP, IEC_GZIP_FAST, IEC_GZIP_SLOW, IEC_LZOP, IEC_NONE])
IEC_DEFAULT_TOOLS = (IEC_GZIP, IEC_GZIP_FAST, IEC_GZIP_SLOW)

OOB_HEALTH = "health"
OOB_POWER_CYCLE = "power-cycle"
OOB_POWER_OFF = "power-off"
OOB_POWER_ON = "power-on"
OOB_POWER_STATUS = "power-status"
OOB_COMMANDS = frozenset([OOB_HEALTH, OOB_POWER_CYCLE, OOB_POWER_OFF, OOB_POWER_ON,
                          OOB_POWER_STATUS])
OOB_TIMEOUT = 60  # seconds
OOB_POWER_DELAY = 2.0  # seconds

VERIFY_NPLUSONE_MEM = "nplusone_mem"
VERIFY_HVPARAM_ASSESSMENT = "hvparam_assessment"
VERIFY_OPTIONAL_CHECKS = frozenset([VERIFY_NPLUSONE_MEM, VERIFY_HVPARAM_ASSESSMENT])

#: Cluster verify error codes (names usable in --ignore-errors).
CV_ALL_ECODES_STRINGS = frozenset([
    "ECLUSTERCFG", "ECLUSTERCERT", "ECLUSTERCLIENTCERT", "ECLUSTERFILECHECK",
    "ECLUSTERDANGLINGNODES", "ECLUSTERDANGLINGINST", "EINSTANCEBADNODE", "EINSTANCEDOWN",
    "EINSTANCELAYOUT", "EINSTANCEMISSINGDISK", "EINSTANCEFAULTYDISK", "EINSTANCEWRONGNODE",
    "EINSTANCESPLITGROUPS", "EINSTANCEPOLICY", "EINSTANCEUNSUITABLENODE",
    "EINSTANCEMISSINGCFGPARAMETER", "ENODEDRBD", "ENODEDRBDVERSION", "ENODEDRBDHELPER",
    "ENODEFILECHECK", "ENODEHOOKS", "ENODEHV", "ENODELVM", "ENODEN1", "ENODENET", "ENODEOS",
    "ENODEORPHANINSTANCE", "ENODEORPHANLV", "ENODERPC", "ENODESSH", "ENODEVERSION",
    "ENODESETUP", "ENODETIME", "ENODEOOBPATH", "ENODEUSERSCRIPTS", "ENODEFILESTORAGEPATHS",
    "ENODEFILESTORAGEPATHUNUSABLE", "ENODESHAREDFILESTORAGEPATHUNUSABLE",
    "ENODEGLUSTERSTORAGEPATHUNUSABLE", "EGROUPDIFFERENTPVSIZE", "EEXTAGS",
])

SSHK_RSA = "rsa"
SSHK_DSA = "dsa"
SSHK_ECDSA = "ecdsa"
SSHK_ALL = frozenset([SSHK_RSA, SSHK_DSA, SSHK_ECDSA])

IALLOCATOR_DIR_IN = "in"
IALLOCATOR_DIR_OUT = "out"
VALID_IALLOCATOR_DIRECTIONS = frozenset([IALLOCATOR_DIR_IN, IALLOCATOR_DIR_OUT])
IALLOCATOR_MODE_ALLOC = "allocate"
IALLOCATOR_MODE_ALLOCATE_SECONDARY = "allocate-secondary"
IALLOCATOR_MODE_MULTI_ALLOC = "multi-allocate"
IALLOCATOR_MODE_RELOC = "relocate"
IALLOCATOR_MODE_NODE_EVAC = "node-evacuate"
IALLOCATOR_MODE_CHG_GROUP = "change-group"
VALID_IALLOCATOR_MODES = frozenset([
    IALLOCATOR_MODE_ALLOC, IALLOCATOR_MODE_ALLOCATE_SECONDARY, IALLOCATOR_MODE_MULTI_ALLOC,
    IALLOCATOR_MODE_RELOC, IALLOCATOR_MODE_NODE_EVAC, IALLOCATOR_MODE_CHG_GROUP])

ADMIN_SOURCE = "admin"
USER_SOURCE = "user"
ADMIN_STATE_SOURCES = frozenset([ADMIN_SOURCE, USER_SOURCE])

#: Reason trail: the opcode field and the sources writing entries.
OPCODE_REASON = "reason"
OPCODE_REASON_SRC_CLIENT = "gnt:client"
OPCODE_REASON_SRC_NODED = "gnt:daemon:noded"
OPCODE_REASON_SRC_OPCODE = "gnt:opcode"
OPCODE_REASON_SRC_PICKUP = "gnt:daemon:masterd:pickup"
OPCODE_REASON_SRC_WATCHER = "gnt:watcher"
OPCODE_REASON_SRC_RLIB2 = "gnt:library:rlib2"
OPCODE_REASON_SRC_USER = "gnt:user"

DATA_COLLECTORS_ENABLED_NAME = "enabled_data_collectors"
DATA_COLLECTORS_INTERVAL_NAME = "data_collector_interval"

# -- node RPC -------------------------------------------------------------------

#: How a blob travels in an RPC argument: ``[RPC_ENCODING_NONE, text]`` or
#: ``[RPC_ENCODING_ZLIB_BASE64, base64(zlib(bytes))]`` (Ganeti's values).
RPC_ENCODING_NONE = 0
RPC_ENCODING_ZLIB_BASE64 = 1
RPC_ENCODINGS = frozenset([RPC_ENCODING_NONE, RPC_ENCODING_ZLIB_BASE64])

#: Largest request body noded accepts by default (bytes).
NODED_MAX_REQUEST_SIZE = 64 * 1024 * 1024

# -- hooks ------------------------------------------------------------------------

HOOKS_PHASE_PRE = "pre"
HOOKS_PHASE_POST = "post"
HOOKS_PHASES = frozenset([HOOKS_PHASE_PRE, HOOKS_PHASE_POST])
#: Result status of one hook script (Ganeti's values).
HKR_SKIP = 0
HKR_FAIL = 1
HKR_SUCCESS = 2
#: Hook script names run by the hooks runner (others are skipped).
EXT_PLUGIN_MASK = r"^[a-zA-Z0-9_-]+$"
#: Seconds one hook script may run before it is killed and reported failed.
HOOKS_SCRIPT_TIMEOUT = 15 * 60

# -- node verify checks (keys of node_verify's request and reply, Ganeti's) --------

NV_FILELIST = "filelist"
NV_HYPERVISOR = "hypervisor"
NV_VERSION = "version"
NV_TIME = "time"
NV_NODENETTEST = "node-net-test"
NV_HVINFO = "hvinfo"

# -- TCP/UDP ports handed out to instances (consoles, DRBD), as Ganeti ----------------

FIRST_DRBD_PORT = 11000
LAST_DRBD_PORT = 14999

# -- hooks object types (GANETI_OBJECT_TYPE) and the job queue's limits, as Ganeti ---------

HTYPE_CLUSTER = "CLUSTER"
HTYPE_NODE = "NODE"
HTYPE_GROUP = "GROUP"
HTYPE_INSTANCE = "INSTANCE"
HTYPE_NETWORK = "NETWORK"
#: Live (not archived) jobs the queue holds at most; submissions beyond fail.
JOB_QUEUE_SIZE_HARD_LIMIT = 5000
#: Worker threads of the master's job queue.
JOB_QUEUE_WORKERS = 25
#: Key of an opcode result that lists the follow-up jobs an LU submitted.
JOB_IDS_KEY = "jobs"
#: Result keys of OpInstanceMultiAlloc: the instances placed, and those that fit nowhere.
ALLOCATABLE_KEY = "allocatable"
FAILED_KEY = "failed"

# -- daemon exit codes ----------------------------------------------------------
#: ganeti-confd's exit status on a node that is not a master candidate (Ganeti's
#: value), so callers can tell "nothing to run here" from a failure.
EXIT_NOTCANDIDATE = 11
