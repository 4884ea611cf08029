"""The generic query (CONFIG_QUERY): a configuration value by path, secrets kept out.

A path is a JSON pointer (RFC 6901: ``/``-separated, ``~1`` for ``/`` and
``~0`` for ``~`` inside a segment) into config.data, with two conveniences:
an object in ``nodes``, ``nodegroups``, ``instances``, ``networks`` or
``disks`` may be named by UUID or by name (or a unique short name), and an
item of a list of objects (an instance's ``nics``, a disk's ``children``)
by index, name or UUID. ``/networks/<net>/ips/<address>`` tells whether an
address is free in the network's pool; ``/networks/<net>/ips`` counts the
pool.

Only what the ALLOW-LIST below names can be read: every object kind lists
its readable fields, so a field not listed (the cluster's host keys and
candidate certificates, private OS parameters, fields a later version
adds) is refused, and a value returned whole has them removed. Parameter
dictionaries (hypervisor and OS parameters) lose the entries whose name
contains a secret word (password, secret, key, token, private), and a DRBD
disk's ``logical_id`` loses its shared secret. ``allowed_paths()`` lists
the readable paths (``confd-query --list-paths``, man page).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from typing import Any

from ganeti import confd
from ganeti.confd.snapshot import Snapshot

#: Words that mark a parameter as secret (matched against ``_``-separated parts).
SECRET_WORDS = frozenset(["password", "passwd", "secret", "key", "token", "private"])
#: Items of a DRBD logical_id that may be shown (the 6th is the shared secret).
_DRBD_PUBLIC_ITEMS = 5


class QueryError(Exception):
    """A path that can't be answered; ``answer`` is what the reply carries."""

    answer: Any = confd.ERROR_ARGUMENT


class BadPath(QueryError):
    answer = confd.ERROR_ARGUMENT


class NotFound(QueryError):
    answer = confd.ERROR_UNKNOWN_ENTRY


class Refused(QueryError):
    """Not on the allow-list: the answer is this message (names the path)."""

    @property
    def answer(self) -> Any:
        return str(self)


def is_secret_name(name: str) -> bool:
    return any(part in SECRET_WORDS for part in name.lower().replace("-", "_").split("_"))


class Rule:
    """How one kind of value is shown whole (``view``) and entered (``step``)."""

    def view(self, value: Any, snap: Snapshot) -> Any:
        raise NotImplementedError

    def step(self, value: Any, segment: str, where: str, snap: Snapshot) -> tuple[Any, Rule]:
        raise NotImplementedError

    def paths(self) -> Iterator[str]:
        """Path suffixes readable below this level (for the documentation)."""
        return iter(())


class Leaf(Rule):
    """A value readable whole, and everything inside it."""

    def view(self, value: Any, snap: Snapshot) -> Any:
        return value

    def step(self, value: Any, segment: str, where: str, snap: Snapshot) -> tuple[Any, Rule]:
        if isinstance(value, dict):
            if segment not in value:
                raise NotFound("%s has no key %r" % (where, segment))
            return value[segment], self
        if isinstance(value, list):
            return value[_index(value, segment, where)], self
        raise BadPath("%s is a single value, it has no %r" % (where, segment))


LEAF = Leaf()


def _index(value: list[Any], segment: str, where: str) -> int:
    if not segment.isdigit():
        raise BadPath("%s is a list: %r is not an index" % (where, segment))
    index = int(segment)
    if index >= len(value):
        raise NotFound("%s has %d items, no index %d" % (where, len(value), index))
    return index


class Fields(Rule):
    """An object whose readable fields are listed; the others are refused."""

    def __init__(self, kind: str, fields: dict[str, Rule],
                 virtual: dict[str, Callable[[dict[str, Any], Snapshot], tuple[Any, Rule]]]
                 | None = None) -> None:
        self.kind = kind
        self.fields = fields
        self.virtual = virtual or {}
        self._listing = False

    def view(self, value: Any, snap: Snapshot) -> Any:
        if not isinstance(value, dict):
            return value
        fields = self.fields
        return {k: fields[k].view(v, snap) for k, v in value.items() if k in fields}

    def step(self, value: Any, segment: str, where: str, snap: Snapshot) -> tuple[Any, Rule]:
        if not isinstance(value, dict):
            raise NotFound("%s is not an object" % (where or "/"))
        rule = self.fields.get(segment)
        if rule is not None:
            if segment not in value:
                raise NotFound("%s has no field %r" % (where or "/", segment))
            return value[segment], rule
        maker = self.virtual.get(segment)
        if maker is not None:
            return maker(value, snap)
        if segment in value:
            raise Refused("%s/%s: field %r of %s is not readable through confd (not on "
                          "the allow-list)" % (where, segment, segment, self.kind))
        raise NotFound("%s has no field %r" % (where or "/", segment))

    def paths(self) -> Iterator[str]:
        if self._listing:  # nested in itself (disk children): same fields again
            yield "/... (the same fields as %s)" % self.kind
            return
        self._listing = True
        try:
            for name, rule in sorted(self.fields.items()):
                yield "/" + name
                for sub in rule.paths():
                    yield "/" + name + sub
            for name in sorted(self.virtual):
                yield "/" + name
                for sub in _VIRTUAL_PATHS.get(name, ()):
                    yield "/" + name + sub
        finally:
            self._listing = False


class Collection(Rule):
    """A dictionary of objects by UUID, also reachable by name."""

    def __init__(self, kind: str, item: Rule) -> None:
        self.kind = kind
        self.item = item

    def view(self, value: Any, snap: Snapshot) -> Any:
        if not isinstance(value, dict):
            return value
        return {k: self.item.view(v, snap) for k, v in value.items()}

    def step(self, value: Any, segment: str, where: str, snap: Snapshot) -> tuple[Any, Rule]:
        if not isinstance(value, dict):
            raise NotFound("%s is not a dictionary" % where)
        if segment in value:
            return value[segment], self.item
        uuid = _lookup_name(_names(snap, self.kind, value), segment)
        if uuid is None:
            raise NotFound("%s has no entry with UUID or name %r" % (where, segment))
        return value[uuid], self.item

    def paths(self) -> Iterator[str]:
        yield "/<name or uuid>"
        for sub in self.item.paths():
            yield "/<name or uuid>" + sub


def _names(snap: Snapshot, kind: str, container: dict[str, Any]) -> dict[str, str]:
    """Name → UUID of a collection, built once per snapshot."""
    cache: dict[str, dict[str, str]] = snap.cache.setdefault("names", {})
    names = cache.get(kind)
    if names is None:
        names = cache[kind] = {v["name"]: k for k, v in container.items()
                               if isinstance(v, dict) and isinstance(v.get("name"), str)}
    return names


def _lookup_name(names: dict[str, str], key: str) -> str | None:
    if key in names:
        return names[key]
    prefix = key + "."
    matches = [uuid for name, uuid in names.items() if name.startswith(prefix)]
    return matches[0] if len(matches) == 1 else None


class Items(Rule):
    """A list of objects: by index, or by the name or UUID of an item."""

    def __init__(self, item: Rule) -> None:
        self.item = item

    def view(self, value: Any, snap: Snapshot) -> Any:
        if not isinstance(value, list):
            return value
        return [self.item.view(v, snap) for v in value]

    def step(self, value: Any, segment: str, where: str, snap: Snapshot) -> tuple[Any, Rule]:
        if not isinstance(value, list):
            raise NotFound("%s is not a list" % where)
        if segment.isdigit():
            return value[_index(value, segment, where)], self.item
        for item in value:
            if isinstance(item, dict) and segment in (item.get("name"), item.get("uuid")):
                return item, self.item
        raise NotFound("%s has no item with index, name or UUID %r" % (where, segment))

    def paths(self) -> Iterator[str]:
        yield "/<index, name or uuid>"
        for sub in self.item.paths():
            yield "/<index, name or uuid>" + sub


class Params(Rule):
    """A parameter dictionary: entries with a secret-looking name are left out."""

    def view(self, value: Any, snap: Snapshot) -> Any:
        if not isinstance(value, dict):
            return value
        return {k: v for k, v in value.items() if not is_secret_name(k)}

    def step(self, value: Any, segment: str, where: str, snap: Snapshot) -> tuple[Any, Rule]:
        if is_secret_name(segment):
            raise Refused("%s/%s: parameter %r looks secret and is not readable through "
                          "confd" % (where, segment, segment))
        return LEAF.step(value, segment, where, snap)

    def paths(self) -> Iterator[str]:
        yield "/<parameter> (not secret-looking)"


PARAMS = Params()


class PerKey(Rule):
    """A dictionary whose every value follows ``item`` (e.g. hvparams per hypervisor)."""

    def __init__(self, item: Rule) -> None:
        self.item = item

    def view(self, value: Any, snap: Snapshot) -> Any:
        if not isinstance(value, dict):
            return value
        return {k: self.item.view(v, snap) for k, v in value.items()}

    def step(self, value: Any, segment: str, where: str, snap: Snapshot) -> tuple[Any, Rule]:
        value, _leaf = LEAF.step(value, segment, where, snap)
        return value, self.item

    def paths(self) -> Iterator[str]:
        yield "/<key>"
        for sub in self.item.paths():
            yield "/<key>" + sub


class LogicalId(Rule):
    """A disk's logical_id; a DRBD one (6 items) loses its shared secret."""

    def view(self, value: Any, snap: Snapshot) -> Any:
        if isinstance(value, list) and len(value) > _DRBD_PUBLIC_ITEMS:
            return value[:_DRBD_PUBLIC_ITEMS]
        return value

    def step(self, value: Any, segment: str, where: str, snap: Snapshot) -> tuple[Any, Rule]:
        shown = self.view(value, snap)
        if isinstance(value, list) and segment.isdigit() and len(shown) <= int(segment) \
                < len(value):
            raise Refused("%s/%s: the DRBD shared secret is not readable through confd"
                          % (where, segment))
        return LEAF.step(shown, segment, where, snap)


# -- network address pools (virtual: /networks/<net>/ips[/<address>]) ----------------------

class AddressTable(Rule):
    """The address pool of one network."""

    def __init__(self, network: dict[str, Any]) -> None:
        self.network = network

    def _bitmaps(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str, str]:
        cidr = self.network.get("network")
        try:
            net = ipaddress.ip_network(str(cidr), strict=False)
        except ValueError:
            raise NotFound("network %r has no valid address range (%r)"
                           % (self.network.get("name"), cidr)) from None
        size = net.num_addresses
        used = self.network.get("reservations") or ""
        ext = self.network.get("ext_reservations") or ""
        if len(used) != size:
            used = "0" * size
        if len(ext) != size:  # no bitmap yet: network and broadcast addresses reserved
            ext = "1" + "0" * (size - 2) + "1" if size > 2 else "1" * size
        return net, used, ext

    def view(self, value: Any, snap: Snapshot) -> Any:
        net, used, ext = self._bitmaps()
        free = sum(1 for a, b in zip(used, ext) if a == "0" and b == "0")
        return {"network": str(net), "size": net.num_addresses, "free": free,
                "reserved": used.count("1"), "external_reserved": ext.count("1")}

    def step(self, value: Any, segment: str, where: str, snap: Snapshot) -> tuple[Any, Rule]:
        net, used, ext = self._bitmaps()
        try:
            address = ipaddress.ip_address(segment)
        except ValueError:
            raise BadPath("%s: %r is not an IP address" % (where, segment)) from None
        if address not in net:
            raise NotFound("%s: address %s is not in network %s" % (where, address, net))
        index = int(address) - int(net.network_address)
        reserved, external = used[index] == "1", ext[index] == "1"
        owner = _address_owner(snap, self.network.get("uuid"), str(address))
        return {"address": str(address), "free": not (reserved or external),
                "reserved": reserved, "external_reserved": external,
                "instance": owner}, LEAF


def _address_owner(snap: Snapshot, network_uuid: Any, address: str) -> str | None:
    """The instance with a NIC on this network using this address, if any."""
    for inst in snap.data.instances.values():
        for nic in inst.nics:
            if nic.ip == address and nic.network == network_uuid:
                return inst.name
    return None


def _address_table(network: dict[str, Any], snap: Snapshot) -> tuple[Any, Rule]:
    return None, AddressTable(network)


_VIRTUAL_PATHS = {"ips": ("/<address>",)}


# -- THE ALLOW-LIST --------------------------------------------------------------------------

_STAMPS = {"uuid": LEAF, "serial_no": LEAF, "ctime": LEAF, "mtime": LEAF}
_TAGGED = {**_STAMPS, "tags": LEAF}

CLUSTER = Fields("the cluster", {
    **_TAGGED,
    "cluster_name": LEAF, "master_node": LEAF, "master_ip": LEAF, "master_netdev": LEAF,
    "master_netmask": LEAF, "use_external_mip_script": LEAF, "mac_prefix": LEAF,
    "volume_group_name": LEAF, "reserved_lvs": LEAF, "drbd_usermode_helper": LEAF,
    "file_storage_dir": LEAF, "shared_file_storage_dir": LEAF, "gluster_storage_dir": LEAF,
    "enabled_hypervisors": LEAF, "enabled_disk_templates": LEAF,
    "hvparams": PerKey(PARAMS), "os_hvp": PerKey(PerKey(PARAMS)), "beparams": LEAF,
    "osparams": PerKey(PARAMS), "nicparams": LEAF, "ndparams": LEAF, "diskparams": LEAF,
    "ipolicy": LEAF, "candidate_pool_size": LEAF, "modify_etc_hosts": LEAF,
    "modify_ssh_setup": LEAF, "maintain_node_health": LEAF, "uid_pool": LEAF,
    "default_iallocator": LEAF, "default_iallocator_params": LEAF, "hidden_os": LEAF,
    "blacklisted_os": LEAF, "primary_ip_family": LEAF, "prealloc_wipe_disks": LEAF,
    "hv_state_static": LEAF, "disk_state_static": LEAF, "max_running_jobs": LEAF,
    "max_tracked_jobs": LEAF, "install_image": LEAF, "instance_communication_network": LEAF,
    "zeroing_image": LEAF, "compression_tools": LEAF, "enabled_user_shutdown": LEAF,
    "data_collectors": LEAF, "highest_used_port": LEAF, "redistribute_files": LEAF,
})

NODE = Fields("a node", {
    **_TAGGED,
    "name": LEAF, "primary_ip": LEAF, "secondary_ip": LEAF, "master_candidate": LEAF,
    "offline": LEAF, "drained": LEAF, "group": LEAF, "master_capable": LEAF,
    "vm_capable": LEAF, "ndparams": LEAF, "powered": LEAF, "hv_state": LEAF,
    "hv_state_static": LEAF, "disk_state": LEAF, "disk_state_static": LEAF,
})

NODEGROUP = Fields("a node group", {
    **_TAGGED,
    "name": LEAF, "ndparams": LEAF, "diskparams": LEAF, "ipolicy": LEAF,
    "alloc_policy": LEAF, "networks": LEAF, "hv_state_static": LEAF,
    "disk_state_static": LEAF,
})

NIC = Fields("a NIC", {
    "uuid": LEAF, "name": LEAF, "mac": LEAF, "ip": LEAF, "network": LEAF,
    "nicparams": LEAF, "pci": LEAF,
})

INSTANCE = Fields("an instance", {
    **_TAGGED,
    "name": LEAF, "primary_node": LEAF, "os": LEAF, "hypervisor": LEAF,
    "hvparams": PARAMS, "beparams": LEAF, "osparams": PARAMS, "admin_state": LEAF,
    "admin_state_source": LEAF, "nics": Items(NIC), "disks": LEAF, "disk_template": LEAF,
    "disks_active": LEAF, "network_port": LEAF, "forthcoming": LEAF,
})

DISK = Fields("a disk", {
    **_STAMPS,
    "name": LEAF, "dev_type": LEAF, "logical_id": LogicalId(), "nodes": LEAF,
    "iv_name": LEAF, "size": LEAF, "mode": LEAF, "params": LEAF, "spindles": LEAF,
    "forthcoming": LEAF, "pci": LEAF,
})
DISK.fields["children"] = Items(DISK)

NETWORK = Fields("a network", {
    **_TAGGED,
    "name": LEAF, "network": LEAF, "network6": LEAF, "gateway": LEAF, "gateway6": LEAF,
    "mac_prefix": LEAF, "reservations": LEAF, "ext_reservations": LEAF,
}, virtual={"ips": _address_table})

ROOT = Fields("the configuration", {
    "version": LEAF, "serial_no": LEAF, "ctime": LEAF, "mtime": LEAF,
    "cluster": CLUSTER,
    "nodes": Collection("nodes", NODE),
    "nodegroups": Collection("nodegroups", NODEGROUP),
    "instances": Collection("instances", INSTANCE),
    "networks": Collection("networks", NETWORK),
    "disks": Collection("disks", DISK),
})


def parse_path(path: Any) -> list[str]:
    """The segments of a JSON pointer ("" and "/" are the whole configuration)."""
    if not isinstance(path, str):
        raise BadPath("the query must be a path string, got %r" % (path,))
    if path in ("", "/"):
        return []
    if not path.startswith("/"):
        raise BadPath("path %r must start with '/'" % path)
    parts = path[1:].split("/")
    if parts[-1] == "":
        parts.pop()  # a trailing slash names the same value
    segments = []
    for part in parts:
        if not part:
            raise BadPath("path %r has an empty segment" % path)
        if "~" in part.replace("~0", "").replace("~1", ""):
            raise BadPath("path %r: '~' must be followed by 0 or 1" % path)
        segments.append(part.replace("~1", "/").replace("~0", "~"))
    return segments


def query(snap: Snapshot, path: Any) -> Any:
    """The value at ``path``, with what the allow-list keeps out removed.

    Raises BadPath (malformed), NotFound (no such value) or Refused (not on
    the allow-list), each naming the path.
    """
    value: Any = snap.plain
    rule: Rule = ROOT
    where = ""
    for segment in parse_path(path):
        value, rule = rule.step(value, segment, where, snap)
        where += "/" + segment.replace("~", "~0").replace("/", "~1")
    return rule.view(value, snap)


def allowed_paths() -> list[str]:
    """Every readable path pattern, for the documentation."""
    return ["/", *ROOT.paths()]
