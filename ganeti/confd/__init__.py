"""confd: answers queries about the configuration over signed UDP packets.

Wire format (as Ganeti's, so Ganeti-style clients work): a packet is the
ASCII magic ``plj0`` followed by a signed JSON envelope ``{"msg", "salt",
"hmac"}`` whose HMAC-SHA1 covers ``salt + msg`` under the cluster's confd
key. A request's ``msg`` is ``{"protocol": 1, "type", "query", "rsalt"}``
with the client's current time as ``salt``; the reply's ``msg`` is
``{"protocol": 1, "status", "answer", "serial"}`` salted with the
request's ``rsalt``.

Modules: ``protocol`` (packets), ``snapshot`` (the in-memory config with
its lookup indexes), ``queries`` (one handler per request type),
``config_query`` (the generic path query and its allow-list), ``client``
(asks several servers, keeps the freshest answer). The daemon is
``ganeti.server.confd``.
"""

from __future__ import annotations

#: Four bytes that start every confd packet.
MAGIC = b"plj0"
PROTOCOL_VERSION = 1
#: Requests whose timestamp is further than this from our clock are dropped.
MAX_CLOCK_SKEW = 300
#: Largest UDP payload we send or read.
MAX_PACKET_SIZE = 65507
#: Least seconds between two reloads of config.data.
RELOAD_RATELIMIT = 1.0
#: Seconds between safety checks of config.data (in case a change was missed).
RELOAD_CHECK_INTERVAL = 5.0

# -- request types ---------------------------------------------------------------------
REQ_PING = 0
REQ_NODE_ROLE_BYNAME = 1
REQ_NODE_PIP_BY_INSTANCE_IP = 2
REQ_CLUSTER_MASTER = 3
REQ_NODE_PIP_LIST = 4
REQ_MC_PIP_LIST = 5
REQ_INSTANCES_IPS_LIST = 6
REQ_NODE_DRBD = 7
REQ_NODE_INSTANCES = 8
REQ_INSTANCE_DISKS = 9
REQ_CONFIG_QUERY = 10
REQ_DATA_COLLECTORS = 11

#: Ganeti's names of the request types (CONFD_REQ_<name>).
REQUEST_NAMES = {
    REQ_PING: "PING",
    REQ_NODE_ROLE_BYNAME: "NODE_ROLE_BYNAME",
    REQ_NODE_PIP_BY_INSTANCE_IP: "NODE_PIP_BY_INSTANCE_IP",
    REQ_CLUSTER_MASTER: "CLUSTER_MASTER",
    REQ_NODE_PIP_LIST: "NODE_PIP_LIST",
    REQ_MC_PIP_LIST: "MC_PIP_LIST",
    REQ_INSTANCES_IPS_LIST: "INSTANCES_IPS_LIST",
    REQ_NODE_DRBD: "NODE_DRBD",
    REQ_NODE_INSTANCES: "NODE_INSTANCES",
    REQ_INSTANCE_DISKS: "INSTANCE_DISKS",
    REQ_CONFIG_QUERY: "CONFIG_QUERY",
    REQ_DATA_COLLECTORS: "DATA_COLLECTORS",
}

# -- keys of dictionary queries (strings: they are JSON object keys) -------------------
REQQ_LINK = "0"
REQQ_IP = "1"
REQQ_IPLIST = "2"
REQQ_FIELDS = "3"

# -- fields of CLUSTER_MASTER dictionary queries -----------------------------------------
REQFIELD_NAME = 0
REQFIELD_IP = 1
REQFIELD_MNODE_PIP = 2
REQFIELD_NAMES = {REQFIELD_NAME: "name", REQFIELD_IP: "ip", REQFIELD_MNODE_PIP: "mnode_pip"}

# -- reply status ------------------------------------------------------------------------
REPL_STATUS_OK = 0
REPL_STATUS_ERROR = 1
REPL_STATUS_NOTIMPLEMENTED = 2

# -- error answers (with REPL_STATUS_ERROR) -----------------------------------------------
ERROR_UNKNOWN_ENTRY = 0
ERROR_INTERNAL = 1
ERROR_ARGUMENT = 2
ERROR_DESCRIPTIONS = {
    ERROR_UNKNOWN_ENTRY: "unknown entry",
    ERROR_INTERNAL: "internal error",
    ERROR_ARGUMENT: "invalid argument",
}

# -- node roles (NODE_ROLE_BYNAME answers) ----------------------------------------------
NODE_ROLE_MASTER = 0
NODE_ROLE_CANDIDATE = 1
NODE_ROLE_OFFLINE = 2
NODE_ROLE_DRAINED = 3
NODE_ROLE_REGULAR = 4
NODE_ROLE_NAMES = {
    NODE_ROLE_MASTER: "master",
    NODE_ROLE_CANDIDATE: "candidate",
    NODE_ROLE_OFFLINE: "offline",
    NODE_ROLE_DRAINED: "drained",
    NODE_ROLE_REGULAR: "regular",
}

#: DRBD roles in NODE_DRBD answers.
DRBD_ROLE_PRIMARY = "primary"
DRBD_ROLE_SECONDARY = "secondary"
