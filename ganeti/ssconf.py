"""The ssconf files: small, read-only copies of cluster facts on every node.

The master computes one string per key from the configuration
(``compute_values``) and sends the whole set to every node, which writes
one ``ssconf_<key>`` file per key (``write_files``). Nodes and tools read
them through ``SimpleStore`` without loading ``config.data``.

Key names and file contents are Ganeti's, so tools that read Ganeti's
ssconf files read ours: one name per line, ``name ip`` and ``uuid name``
lines, ``name=value`` lines, single values on one line.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ganeti import constants, errors, paramdefs, pathutils
from ganeti.utils import io

if TYPE_CHECKING:
    from ganeti import objects

#: Files are read-only for everybody; only the node daemon replaces them.
FILE_MODE = 0o444

#: Largest ssconf file written or read (bytes); a larger one is refused.
MAX_SIZE = 128 * 1024

HVPARAMS_PREFIX = "hvparams_"


class Format(enum.Enum):
    """How one key's value is laid out in its file."""

    SINGLE = "a single line"
    LINES = "one item per line"
    SPACE_PAIRS = "'first second' lines"
    EQUAL_PAIRS = "'key=value' lines"


KEY_CLUSTER_NAME = "cluster_name"
KEY_CLUSTER_TAGS = "cluster_tags"
KEY_FILE_STORAGE_DIR = "file_storage_dir"
KEY_SHARED_FILE_STORAGE_DIR = "shared_file_storage_dir"
KEY_GLUSTER_STORAGE_DIR = "gluster_storage_dir"
KEY_MASTER_CANDIDATES = "master_candidates"
KEY_MASTER_CANDIDATES_IPS = "master_candidates_ips"
KEY_MASTER_CANDIDATES_CERTS = "master_candidates_certs"
KEY_MASTER_IP = "master_ip"
KEY_MASTER_NETDEV = "master_netdev"
KEY_MASTER_NETMASK = "master_netmask"
KEY_MASTER_NODE = "master_node"
KEY_NODE_LIST = "node_list"
KEY_NODE_PRIMARY_IPS = "node_primary_ips"
KEY_NODE_SECONDARY_IPS = "node_secondary_ips"
KEY_NODE_VM_CAPABLE = "node_vm_capable"
KEY_OFFLINE_NODES = "offline_nodes"
KEY_ONLINE_NODES = "online_nodes"
KEY_PRIMARY_IP_FAMILY = "primary_ip_family"
KEY_INSTANCE_LIST = "instance_list"
KEY_RELEASE_VERSION = "release_version"
KEY_HYPERVISOR_LIST = "hypervisor_list"
KEY_ENABLED_DISK_TEMPLATES = "enabled_disk_templates"
KEY_MAINTAIN_NODE_HEALTH = "maintain_node_health"
KEY_UID_POOL = "uid_pool"
KEY_NODEGROUPS = "nodegroups"
KEY_NETWORKS = "networks"
KEY_ENABLED_USER_SHUTDOWN = "enabled_user_shutdown"
KEY_SSH_PORTS = "ssh_ports"
#: Our own key: the administrator's extra files RedistributeConfig copies,
#: ``<all|master-candidates> <absolute path>`` lines.
KEY_REDISTRIBUTE_FILES = "redistribute_files"

_FIXED_KEYS: dict[str, Format] = {
    KEY_CLUSTER_NAME: Format.SINGLE,
    KEY_CLUSTER_TAGS: Format.LINES,
    KEY_FILE_STORAGE_DIR: Format.SINGLE,
    KEY_SHARED_FILE_STORAGE_DIR: Format.SINGLE,
    KEY_GLUSTER_STORAGE_DIR: Format.SINGLE,
    KEY_MASTER_CANDIDATES: Format.LINES,
    KEY_MASTER_CANDIDATES_IPS: Format.LINES,
    KEY_MASTER_CANDIDATES_CERTS: Format.EQUAL_PAIRS,
    KEY_MASTER_IP: Format.SINGLE,
    KEY_MASTER_NETDEV: Format.SINGLE,
    KEY_MASTER_NETMASK: Format.SINGLE,
    KEY_MASTER_NODE: Format.SINGLE,
    KEY_NODE_LIST: Format.LINES,
    KEY_NODE_PRIMARY_IPS: Format.SPACE_PAIRS,
    KEY_NODE_SECONDARY_IPS: Format.SPACE_PAIRS,
    KEY_NODE_VM_CAPABLE: Format.EQUAL_PAIRS,
    KEY_OFFLINE_NODES: Format.LINES,
    KEY_ONLINE_NODES: Format.LINES,
    KEY_PRIMARY_IP_FAMILY: Format.SINGLE,
    KEY_INSTANCE_LIST: Format.LINES,
    KEY_RELEASE_VERSION: Format.SINGLE,
    KEY_HYPERVISOR_LIST: Format.LINES,
    KEY_ENABLED_DISK_TEMPLATES: Format.LINES,
    KEY_MAINTAIN_NODE_HEALTH: Format.SINGLE,
    KEY_UID_POOL: Format.LINES,
    KEY_NODEGROUPS: Format.SPACE_PAIRS,
    KEY_NETWORKS: Format.SPACE_PAIRS,
    KEY_ENABLED_USER_SHUTDOWN: Format.SINGLE,
    KEY_SSH_PORTS: Format.EQUAL_PAIRS,
    KEY_REDISTRIBUTE_FILES: Format.SPACE_PAIRS,
}

#: Every key a node accepts: the fixed ones and one hvparams key per hypervisor.
VALID_KEYS: dict[str, Format] = {
    **_FIXED_KEYS,
    **{HVPARAMS_PREFIX + hv: Format.EQUAL_PAIRS for hv in sorted(constants.HYPER_TYPES)},
}

#: The two node sets a redistributed file can go to.
REDISTRIBUTE_TO_ALL = "all"
REDISTRIBUTE_TO_CANDIDATES = "master-candidates"
REDISTRIBUTE_TARGETS = frozenset([REDISTRIBUTE_TO_ALL, REDISTRIBUTE_TO_CANDIDATES])


def hvparams_key(hypervisor: str) -> str:
    """The ssconf key holding the cluster-level parameters of ``hypervisor``."""
    return HVPARAMS_PREFIX + hypervisor


def _file_name(key: str) -> str:
    return pathutils.SSCONF_FILE_PREFIX + key


# -- line formats ----------------------------------------------------------------

def _content(value: str) -> str:
    """A value without its trailing newlines (Ganeti ends some values with one)."""
    return value.rstrip("\n")


def _split_lines(text: str) -> list[str]:
    return text.split("\n") if text else []


def _parse_pair(key: str, number: int, line: str, fmt: Format) -> tuple[str, str]:
    """Split line ``number`` (1-based) of ``key``'s file into its two parts."""
    if fmt is Format.SPACE_PAIRS:
        first, sep, second = line.partition(" ")
        expected = "'first second'"
    else:
        first, sep, second = line.partition("=")
        expected = "'key=value'"
    if not sep or not first or (fmt is Format.SPACE_PAIRS and not second):
        raise errors.SsconfError("line %d of %s: expected %s, got %r"
                                 % (number, _file_name(key), expected, line))
    return first, second


def _check_value(key: str, value: Any) -> None:
    """Raise SsconfError if ``value`` cannot be written as ``key``'s file."""
    fmt = VALID_KEYS.get(key)
    if fmt is None:
        raise errors.SsconfError("unknown ssconf key %r (known: %s)"
                                 % (key, ", ".join(sorted(VALID_KEYS))))
    if not isinstance(value, str):
        raise errors.SsconfError("ssconf key %r: value must be a string, got %s %r"
                                 % (key, type(value).__name__, value))
    value = _content(value)
    if len(value.encode("utf-8")) + 1 > MAX_SIZE:
        raise errors.SsconfError("ssconf key %r: value of %d bytes exceeds the limit of %d"
                                 % (key, len(value.encode("utf-8")), MAX_SIZE))
    if "\r" in value or "\0" in value:
        raise errors.SsconfError("ssconf key %r: value contains a carriage return or NUL"
                                 % key)
    if fmt is Format.SINGLE:
        if "\n" in value:
            raise errors.SsconfError("ssconf key %r: expected a single line, got %r"
                                     % (key, value))
        return
    for number, line in enumerate(_split_lines(value), start=1):
        if not line:
            raise errors.SsconfError("line %d of %s: empty line" % (number, _file_name(key)))
        if fmt is not Format.LINES:
            _parse_pair(key, number, line, fmt)


def verify_keys(values: Mapping[str, Any]) -> None:
    """Check every key and value of ``values`` before anything is written.

    Unknown keys, non-string values, newlines in single-line values and
    malformed pair lines raise errors.SsconfError naming the key.
    """
    for key in sorted(values):
        _check_value(key, values[key])


# -- writing -----------------------------------------------------------------------

def write_files(values: Mapping[str, str], paths: pathutils.Paths | None = None) -> None:
    """Make the node's ssconf files exactly ``values``.

    Each file is replaced atomically (mode 0444); files of keys that are not
    in ``values`` are removed, so a disabled hypervisor's parameters or a key
    dropped by a newer master do not linger. All values are checked first:
    bad input raises errors.SsconfError and changes nothing.
    """
    verify_keys(values)
    if paths is None:
        paths = pathutils.current()
    os.makedirs(paths.data_dir, mode=0o755, exist_ok=True)
    for key in sorted(values):
        value = _content(values[key])
        data = (value + "\n" if value else "").encode("utf-8")
        path = paths.ssconf_file(key)
        # Most pushes change one or two keys: leave identical files alone.
        if not _same_file(path, data):
            io.write_file_atomic(path, data, mode=FILE_MODE)
    for key in _present_keys(paths):
        if key not in values:
            os.unlink(paths.ssconf_file(key))


def _same_file(path: str, data: bytes) -> bool:
    """Whether ``path`` holds exactly ``data`` with the ssconf file mode."""
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_mode & 0o7777 != FILE_MODE:
                return False
            return handle.read(len(data) + 1) == data
    except OSError:
        return False


def _present_keys(paths: pathutils.Paths) -> list[str]:
    """Keys whose ssconf file exists on this node (any key, known or not)."""
    prefix = pathutils.SSCONF_FILE_PREFIX
    try:
        names = os.listdir(paths.data_dir)
    except FileNotFoundError:
        return []
    return sorted(name[len(prefix):] for name in names
                  if name.startswith(prefix) and len(name) > len(prefix)
                  and os.path.isfile(os.path.join(paths.data_dir, name)))


# -- reading -----------------------------------------------------------------------

def _parse_bool(key: str, text: str) -> bool:
    if text == "True":
        return True
    if text == "False":
        return False
    raise errors.SsconfError("%s: expected 'True' or 'False', got %r" % (_file_name(key), text))


def _parse_int(key: str, text: str, what: str = "an integer") -> int:
    try:
        return int(text)
    except ValueError:
        raise errors.SsconfError("%s: expected %s, got %r"
                                 % (_file_name(key), what, text)) from None


def _parse_uid_range(key: str, number: int, line: str) -> tuple[int, int]:
    """Parse a uid pool line, ``lower-upper`` or a single uid."""
    lower_text, sep, upper_text = line.partition("-")
    try:
        lower = int(lower_text)
        upper = int(upper_text) if sep else lower
    except ValueError:
        raise errors.SsconfError("line %d of %s: expected 'uid' or 'lower-upper', got %r"
                                 % (number, _file_name(key), line)) from None
    if lower > upper:
        raise errors.SsconfError("line %d of %s: range %r has its lower bound above its upper"
                                 % (number, _file_name(key), line))
    return lower, upper


def format_uid_pool(uid_pool: Iterable[tuple[int, int] | list[int]]) -> list[str]:
    """Ganeti's uid pool lines: ``lower-upper``, or ``uid`` for a single one."""
    return [str(lower) if lower == upper else "%d-%d" % (lower, upper)
            for lower, upper in uid_pool]


class SimpleStore:
    """Reads this node's ssconf files.

    Every getter reads its file afresh (the node daemon may replace it at
    any time). A missing, oversized or malformed file raises
    errors.SsconfError naming the file and the problem.
    """

    def __init__(self, paths: pathutils.Paths | None = None) -> None:
        self._paths = paths if paths is not None else pathutils.current()

    @property
    def paths(self) -> pathutils.Paths:
        return self._paths

    def file_path(self, key: str) -> str:
        return self._paths.ssconf_file(key)

    def read_value(self, key: str) -> str:
        """The content of ``key``'s file without its trailing newline."""
        if key not in VALID_KEYS:
            raise errors.ProgrammerError("unknown ssconf key %r" % key)
        path = self.file_path(key)
        try:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_SIZE + 1)
        except FileNotFoundError:
            raise errors.SsconfError("%s is missing (%s): this node has no ssconf data"
                                     " for %r" % (_file_name(key), path, key)) from None
        except OSError as err:
            raise errors.SsconfError("cannot read %s (%s): %s"
                                     % (_file_name(key), path, err.strerror)) from None
        if len(raw) > MAX_SIZE:
            raise errors.SsconfError("%s (%s) is larger than the limit of %d bytes"
                                     % (_file_name(key), path, MAX_SIZE))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise errors.SsconfError("%s (%s) is not valid UTF-8: %s"
                                     % (_file_name(key), path, err)) from None
        return _content(text)

    def present_keys(self) -> list[str]:
        """Keys with a file on this node."""
        return _present_keys(self._paths)

    def read_all(self) -> dict[str, str]:
        """Every known key present on this node, with its value."""
        return {key: self.read_value(key) for key in self.present_keys() if key in VALID_KEYS}

    # -- shapes ------------------------------------------------------------------
    def _single(self, key: str, allow_empty: bool = False) -> str:
        text = self.read_value(key)
        if "\n" in text:
            raise errors.SsconfError("%s: expected a single line, got %d lines"
                                     % (_file_name(key), text.count("\n") + 1))
        if not text and not allow_empty:
            raise errors.SsconfError("%s is empty" % _file_name(key))
        return text

    def _lines(self, key: str) -> list[str]:
        lines = _split_lines(self.read_value(key))
        for number, line in enumerate(lines, start=1):
            if not line:
                raise errors.SsconfError("line %d of %s: empty line" % (number, _file_name(key)))
        return lines

    def _pairs(self, key: str) -> list[tuple[str, str]]:
        fmt = VALID_KEYS[key]
        return [_parse_pair(key, number, line, fmt)
                for number, line in enumerate(self._lines(key), start=1)]

    def _mapping(self, key: str) -> dict[str, str]:
        result: dict[str, str] = {}
        for first, second in self._pairs(key):
            if first in result:
                raise errors.SsconfError("%s: %r appears twice" % (_file_name(key), first))
            result[first] = second
        return result

    def _typed_mapping(self, key: str, convert: Callable[[str], Any]) -> dict[str, Any]:
        return {name: convert(value) for name, value in self._mapping(key).items()}

    # -- cluster -----------------------------------------------------------------
    def get_cluster_name(self) -> str:
        return self._single(KEY_CLUSTER_NAME)

    def get_cluster_tags(self) -> list[str]:
        return self._lines(KEY_CLUSTER_TAGS)

    def get_release_version(self) -> str:
        return self._single(KEY_RELEASE_VERSION)

    def get_primary_ip_family(self) -> int:
        family = _parse_int(KEY_PRIMARY_IP_FAMILY, self._single(KEY_PRIMARY_IP_FAMILY),
                            "an address family number")
        if family not in (constants.IP4_FAMILY, constants.IP6_FAMILY):
            raise errors.SsconfError("%s: expected %d (IPv4) or %d (IPv6), got %d"
                                     % (_file_name(KEY_PRIMARY_IP_FAMILY),
                                        constants.IP4_FAMILY, constants.IP6_FAMILY, family))
        return family

    def get_maintain_node_health(self) -> bool:
        return _parse_bool(KEY_MAINTAIN_NODE_HEALTH, self._single(KEY_MAINTAIN_NODE_HEALTH))

    def get_enabled_user_shutdown(self) -> bool:
        return _parse_bool(KEY_ENABLED_USER_SHUTDOWN,
                           self._single(KEY_ENABLED_USER_SHUTDOWN))

    def get_hypervisor_list(self) -> list[str]:
        return self._lines(KEY_HYPERVISOR_LIST)

    def get_enabled_disk_templates(self) -> list[str]:
        return self._lines(KEY_ENABLED_DISK_TEMPLATES)

    def get_hvparams(self, hypervisor: str) -> dict[str, str]:
        """Cluster-level parameters of ``hypervisor``, values as text."""
        key = hvparams_key(hypervisor)
        if key not in VALID_KEYS:
            raise errors.SsconfError("unknown hypervisor %r (known: %s)"
                                     % (hypervisor, ", ".join(sorted(constants.HYPER_TYPES))))
        return self._mapping(key)

    def get_file_storage_dir(self) -> str:
        return self._single(KEY_FILE_STORAGE_DIR, allow_empty=True)

    def get_shared_file_storage_dir(self) -> str:
        return self._single(KEY_SHARED_FILE_STORAGE_DIR, allow_empty=True)

    def get_gluster_storage_dir(self) -> str:
        return self._single(KEY_GLUSTER_STORAGE_DIR, allow_empty=True)

    def get_uid_pool(self) -> list[tuple[int, int]]:
        return [_parse_uid_range(KEY_UID_POOL, number, line)
                for number, line in enumerate(self._lines(KEY_UID_POOL), start=1)]

    def get_redistribute_files(self) -> list[tuple[str, str]]:
        """The administrator's extra files: (``all``/``master-candidates``, path)."""
        pairs = self._pairs(KEY_REDISTRIBUTE_FILES)
        for number, (target, path) in enumerate(pairs, start=1):
            if target not in REDISTRIBUTE_TARGETS or not os.path.isabs(path):
                raise errors.SsconfError(
                    "line %d of %s: expected '<all|master-candidates> <absolute path>',"
                    " got %r" % (number, _file_name(KEY_REDISTRIBUTE_FILES),
                                 "%s %s" % (target, path)))
        return pairs

    # -- master ------------------------------------------------------------------
    def get_master_node(self) -> str:
        return self._single(KEY_MASTER_NODE)

    def get_master_ip(self) -> str:
        return self._single(KEY_MASTER_IP)

    def get_master_netdev(self) -> str:
        return self._single(KEY_MASTER_NETDEV, allow_empty=True)

    def get_master_netmask(self) -> int:
        return _parse_int(KEY_MASTER_NETMASK, self._single(KEY_MASTER_NETMASK),
                          "a netmask length")

    def get_master_candidates(self) -> list[str]:
        return self._lines(KEY_MASTER_CANDIDATES)

    def get_master_candidates_ips(self) -> list[str]:
        return self._lines(KEY_MASTER_CANDIDATES_IPS)

    def get_master_candidates_certs(self) -> dict[str, str]:
        """Node UUID → digest of its client certificate."""
        return self._mapping(KEY_MASTER_CANDIDATES_CERTS)

    # -- nodes and instances -----------------------------------------------------
    def get_node_list(self) -> list[str]:
        return self._lines(KEY_NODE_LIST)

    def get_node_primary_ips(self) -> dict[str, str]:
        return self._mapping(KEY_NODE_PRIMARY_IPS)

    def get_node_secondary_ips(self) -> dict[str, str]:
        return self._mapping(KEY_NODE_SECONDARY_IPS)

    def get_node_vm_capable(self) -> dict[str, bool]:
        return self._typed_mapping(KEY_NODE_VM_CAPABLE,
                                   lambda text: _parse_bool(KEY_NODE_VM_CAPABLE, text))

    def get_online_nodes(self) -> list[str]:
        return self._lines(KEY_ONLINE_NODES)

    def get_offline_nodes(self) -> list[str]:
        return self._lines(KEY_OFFLINE_NODES)

    def get_ssh_ports(self) -> dict[str, int]:
        return self._typed_mapping(
            KEY_SSH_PORTS, lambda text: _parse_int(KEY_SSH_PORTS, text, "a port number"))

    def get_instance_list(self) -> list[str]:
        return self._lines(KEY_INSTANCE_LIST)

    def get_nodegroups(self) -> dict[str, str]:
        """Node group UUID → name."""
        return self._mapping(KEY_NODEGROUPS)

    def get_networks(self) -> dict[str, str]:
        """Network UUID → name."""
        return self._mapping(KEY_NETWORKS)


# -- computing the values from the configuration -----------------------------------

def nice_sort_key(name: str) -> list[tuple[int, int, str]]:
    """Sort key putting ``node2`` before ``node10`` (Ganeti's natural order)."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", name) if part]


def _nice_sorted(names: Iterable[str]) -> list[str]:
    return sorted(names, key=nice_sort_key)


def _join_lines(key: str, items: list[str]) -> str:
    """One item per line; an item that is empty or spans lines is refused."""
    for item in items:
        if not item or "\n" in item or "\r" in item:
            raise errors.SsconfError("ssconf key %r: item %r would not be one line of %s"
                                     % (key, item, _file_name(key)))
    return "\n".join(items)


def _param_lines(params: Mapping[str, Any]) -> list[str]:
    return ["%s=%s" % (name, params[name]) for name in sorted(params)]


def compute_values(config_data: objects.ConfigData) -> dict[str, str]:
    """Every ssconf value of the cluster described by ``config_data``.

    Nodes and instances are listed in natural name order; hvparams keys hold
    the cluster-level values (defaults filled in) of each enabled
    hypervisor. A value that could not be written (e.g. a tag with a
    newline) raises errors.SsconfError naming its key.
    """
    cluster = config_data.cluster
    nodes = sorted(config_data.nodes.values(), key=lambda node: nice_sort_key(node.name))
    master = config_data.nodes.get(cluster.master_node)
    if master is None:
        raise errors.ConfigurationError("cluster master_node %r is not a node of the"
                                        " configuration" % cluster.master_node)
    candidates = [node for node in nodes if node.master_candidate]

    def ssh_port(node: objects.Node) -> Any:
        group = config_data.nodegroups.get(node.group)
        return cluster.fill_ndparams(node, group)[paramdefs.ND_SSH_PORT]

    single: dict[str, str] = {
        KEY_CLUSTER_NAME: cluster.cluster_name,
        KEY_FILE_STORAGE_DIR: cluster.file_storage_dir,
        KEY_SHARED_FILE_STORAGE_DIR: cluster.shared_file_storage_dir,
        KEY_GLUSTER_STORAGE_DIR: cluster.gluster_storage_dir,
        KEY_MASTER_IP: cluster.master_ip,
        KEY_MASTER_NETDEV: cluster.master_netdev,
        KEY_MASTER_NETMASK: str(cluster.master_netmask),
        KEY_MASTER_NODE: master.name,
        KEY_PRIMARY_IP_FAMILY: str(cluster.primary_ip_family),
        KEY_RELEASE_VERSION: constants.RELEASE_VERSION,
        KEY_MAINTAIN_NODE_HEALTH: str(cluster.maintain_node_health),
        KEY_ENABLED_USER_SHUTDOWN: str(cluster.enabled_user_shutdown),
    }
    lines: dict[str, list[str]] = {
        KEY_CLUSTER_TAGS: sorted(cluster.tags),
        KEY_MASTER_CANDIDATES: [node.name for node in candidates],
        KEY_MASTER_CANDIDATES_IPS: [node.primary_ip for node in candidates],
        KEY_MASTER_CANDIDATES_CERTS: _param_lines(cluster.candidate_certs),
        KEY_NODE_LIST: [node.name for node in nodes],
        KEY_NODE_PRIMARY_IPS: ["%s %s" % (node.name, node.primary_ip) for node in nodes],
        # Ganeti gives every node a secondary address, its primary one by default.
        KEY_NODE_SECONDARY_IPS: ["%s %s" % (node.name, node.secondary_ip or node.primary_ip)
                                 for node in nodes],
        KEY_NODE_VM_CAPABLE: ["%s=%s" % (node.name, node.vm_capable) for node in nodes],
        KEY_OFFLINE_NODES: [node.name for node in nodes if node.offline],
        KEY_ONLINE_NODES: [node.name for node in nodes if not node.offline],
        KEY_SSH_PORTS: ["%s=%s" % (node.name, ssh_port(node)) for node in nodes],
        KEY_INSTANCE_LIST: _nice_sorted(instance.name
                                        for instance in config_data.instances.values()),
        KEY_HYPERVISOR_LIST: list(cluster.enabled_hypervisors),
        KEY_ENABLED_DISK_TEMPLATES: list(cluster.enabled_disk_templates),
        KEY_UID_POOL: format_uid_pool(cluster.uid_pool),
        KEY_NODEGROUPS: _nice_sorted("%s %s" % (uuid, group.name)
                                     for uuid, group in config_data.nodegroups.items()),
        KEY_NETWORKS: _nice_sorted("%s %s" % (uuid, net.name)
                                   for uuid, net in config_data.networks.items()),
        KEY_REDISTRIBUTE_FILES: ["%s %s" % (entry["nodes"], entry["path"])
                                 for entry in cluster.redistribute_files],
    }
    for hypervisor in cluster.enabled_hypervisors:
        lines[hvparams_key(hypervisor)] = _param_lines(cluster.fill_hvparams_for(hypervisor))

    values = dict(single)
    values.update((key, _join_lines(key, items)) for key, items in lines.items())
    verify_keys(values)
    return values
