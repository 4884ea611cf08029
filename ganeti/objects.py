"""Configuration objects: Cluster, NodeGroup, Node, Instance, Disk, NIC, …

Each class declares its fields once, as class attributes built by the
``f_*`` helpers (name from the attribute, type, default). Serialization,
type validation on load and the defaults all come from that declaration.

An object keeps its fields in a plain dictionary (``_data``) using
Ganeti's ``config.data`` field names, so loading wraps parsed JSON without
copying field by field, fields unknown to us (a newer Ganeti's, a site's)
are kept, and ``to_dict(from_dict(d)) == d`` exactly. A field absent from
the file reads as its default; reading a mutable default stores it (so
in-place changes stick) but it is only written back if it was changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar, Generic, TypeVar, overload

from ganeti import constants, errors, ht, paramdefs

T = TypeVar("T")
ObjT = TypeVar("ObjT", bound="ConfigObject")

_REGISTRY: dict[str, type[ConfigObject]] = {}


class Field(Generic[T]):
    """One declared field: JSON types accepted, default, optional value check.

    ``child`` names the ConfigObject class for nested objects; ``shape`` says
    how they nest: ``"one"``, ``"list"`` or ``"dict"`` (keyed by UUID).
    """

    __slots__ = ("_child_cls", "_good_values", "check", "child", "default", "doc", "factory",
                 "item_type", "name", "plain", "shape", "types")

    def __init__(self, types: tuple[type, ...], default: Any = None, *,
                 factory: Callable[[], Any] | None = None, check: ht.Check | None = None,
                 child: str | None = None, shape: str | None = None,
                 item_type: type | None = None, doc: str = "") -> None:
        self.name = ""
        self.item_type = item_type
        #: Only the JSON type matters (checked once per object shape).
        self.plain = check is None and shape is None and item_type is None
        self._good_values: set[Any] = set()
        self.types = types
        self.default = default
        self.factory = factory
        self.check = check
        self.child = child
        self.shape = shape
        self.doc = doc
        self._child_cls: type[ConfigObject] | None = None

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @property
    def child_cls(self) -> type[ConfigObject]:
        if self._child_cls is None:
            assert self.child is not None
            self._child_cls = _REGISTRY[self.child]
        return self._child_cls

    def make_default(self) -> Any:
        return self.factory() if self.factory is not None else self.default

    @overload
    def __get__(self, obj: None, owner: type) -> Field[T]: ...
    @overload
    def __get__(self, obj: ConfigObject, owner: type) -> T: ...

    def __get__(self, obj: ConfigObject | None, owner: type) -> Any:
        if obj is None:
            return self
        try:
            return obj._data[self.name]
        except KeyError:
            pass
        if self.factory is None:
            return self.default
        # Store the fresh mutable default so changes made in place stick, but
        # remember it was absent so an unchanged default is not written back.
        value = obj._data[self.name] = self.factory()
        if obj._materialized is None:
            obj._materialized = set()
        obj._materialized.add(self.name)
        return value

    def __set__(self, obj: ConfigObject, value: T) -> None:
        obj._data[self.name] = value
        if obj._materialized is not None:
            obj._materialized.discard(self.name)

    @property
    def good_values(self) -> set[Any]:
        """Values of this (constrained) field already found good."""
        return self._good_values

    def container_problem(self, value: Any) -> bool:
        """True if even the JSON type of ``value`` is wrong (not just its content)."""
        if value is None:
            return not (self.default is None and self.factory is None)
        return not isinstance(value, self.types) or (
            isinstance(value, bool) and bool not in self.types)

    def remember_good(self, value: Any) -> None:
        """Note a value found good, so the next check is a set lookup."""
        kind = type(value)
        if (kind is str or kind is int) and len(self._good_values) < 4096:
            self._good_values.add(value)

    def type_problem(self, value: Any) -> str | None:
        """Why ``value`` does not fit this field, or None."""
        if value is None and self.default is None and self.factory is None:
            return None
        if not isinstance(value, self.types) or (
                isinstance(value, bool) and bool not in self.types):
            return "must be %s, got %s" % (self.describe(), ht.describe_value(value))
        if self.check is not None and not self.check(value):
            return "must be %s, got %s" % (self.check.desc, ht.describe_value(value))
        if self.item_type is not None:
            bad = [item for item in _as_any(value) if type(item) is not self.item_type]
            if bad:
                return "must be %s, got item %s" % (self.describe(), ht.describe_value(bad[0]))
        if self.shape == "list":
            cls = self.child_cls
            if not all(isinstance(item, cls) for item in _as_any(value)):
                return "must be a list of %s objects" % cls.__name__
        elif self.shape == "dict":
            cls = self.child_cls
            if not all(isinstance(item, cls) for item in _as_any(value).values()):
                return "must be a dictionary of %s objects" % cls.__name__
        return None

    def describe(self) -> str:
        if self.check is not None:
            return self.check.desc
        if self.item_type is str:
            return "a list of strings"
        if self.item_type is int:
            return "a list of integers"
        if self.shape == "one":
            return "a %s object" % self.child
        names = {str: "a string", int: "an integer", float: "a number", bool: "a boolean",
                 list: "a list", dict: "a dictionary"}
        return " or ".join(names.get(t, t.__name__) for t in self.types)


def _as_any(value: Any) -> Any:
    return value


# -- field constructors (typed for mypy) ---------------------------------------------

def f_str(default: str = "", check: ht.Check | None = None, doc: str = "") -> Field[str]:
    return Field((str,), default, check=check, doc=doc)


def f_opt_str(check: ht.Check | None = None, doc: str = "") -> Field[str | None]:
    return Field((str,), None, check=check, doc=doc)


def f_int(default: int = 0, doc: str = "") -> Field[int]:
    return Field((int,), default, doc=doc)


def f_opt_int(doc: str = "") -> Field[int | None]:
    return Field((int,), None, doc=doc)


def f_float(default: float = 0.0, doc: str = "") -> Field[float]:
    return Field((float, int), default, doc=doc)


def f_bool(default: bool = False, doc: str = "") -> Field[bool]:
    return Field((bool,), default, doc=doc)


def f_opt_bool(doc: str = "") -> Field[bool | None]:
    return Field((bool,), None, doc=doc)


def f_list(doc: str = "") -> Field[list[Any]]:
    return Field((list,), factory=list, doc=doc)


def f_dict(doc: str = "") -> Field[dict[str, Any]]:
    return Field((dict,), factory=dict, doc=doc)


def f_opt_dict(doc: str = "") -> Field[dict[str, Any] | None]:
    return Field((dict,), None, doc=doc)


def f_obj(child: str, doc: str = "") -> Field[Any]:
    return Field((ConfigObject,), None, child=child, shape="one", doc=doc)


def f_objlist(child: str, doc: str = "") -> Field[list[Any]]:
    return Field((list,), factory=list, child=child, shape="list", doc=doc)


def f_objdict(child: str, doc: str = "") -> Field[dict[str, Any]]:
    return Field((dict,), factory=dict, child=child, shape="dict", doc=doc)


# -- the base class -------------------------------------------------------------------

class ConfigObject:
    """Base of every configuration object; see the module doc."""

    __slots__ = ("_data", "_materialized")

    FIELDS: ClassVar[dict[str, Field[Any]]] = {}
    _NESTED: ClassVar[tuple[Field[Any], ...]] = ()
    _FAST_CHECKS: ClassVar[list[tuple[str, int, Any]] | None] = None
    _GOOD_SHAPES: ClassVar[set[tuple[tuple[str, ...], tuple[type, ...]]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields: dict[str, Field[Any]] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, Field):
                    fields[name] = value
        cls.FIELDS = fields
        cls._NESTED = tuple(f for f in fields.values() if f.shape is not None)
        cls._FAST_CHECKS = None  # built on first use, once every class exists
        cls._GOOD_SHAPES = set()
        _REGISTRY[cls.__name__] = cls

    def __init__(self, **values: Any) -> None:
        """A new object: given fields, plus every field with a default."""
        unknown = set(values) - set(self.FIELDS)
        if unknown:
            raise errors.ProgrammerError("%s has no field(s) %s"
                                         % (type(self).__name__, ", ".join(sorted(unknown))))
        data: dict[str, Any] = {}
        for name, fld in self.FIELDS.items():
            if name in values:
                data[name] = values[name]
            else:
                default = fld.make_default()
                if default is not None:
                    data[name] = default
        self._data = data
        self._materialized: set[str] | None = None

    # -- (de)serialization -------------------------------------------------------

    @classmethod
    def from_dict(cls: type[ObjT], data: Mapping[str, Any]) -> ObjT:
        """Wrap a ``config.data`` dictionary; nested objects become objects.

        Values of the wrong type are kept as they are: ``type_problems``
        reports them, so a bad file is described completely, not just its
        first problem.
        """
        obj = cls.__new__(cls)
        own = dict(data)
        for fld in cls._NESTED:
            raw = own.get(fld.name)
            if raw is None:
                continue
            child = fld.child_cls
            if fld.shape == "list":
                if isinstance(raw, list):
                    own[fld.name] = [child.from_dict(i) if isinstance(i, dict) else i
                                     for i in raw]
            elif fld.shape == "dict":
                if isinstance(raw, dict):
                    own[fld.name] = {k: child.from_dict(v) if isinstance(v, dict) else v
                                     for k, v in raw.items()}
            elif isinstance(raw, dict):
                own[fld.name] = child.from_dict(raw)
        obj._data = own
        obj._materialized = None
        return obj

    def export(self) -> dict[str, Any]:
        """The stored fields, nested objects left as objects (for the encoder)."""
        if not self._materialized:
            return self._data
        return {k: v for k, v in self._data.items()
                if k not in self._materialized or v != self.FIELDS[k].make_default()}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dictionary with Ganeti's field names."""
        result = dict(self.export())
        for fld in self._NESTED:
            value = result.get(fld.name)
            if value is None:
                continue
            result[fld.name] = _plain(value)
        return result

    def copy(self: ObjT) -> ObjT:
        """A deep copy (through the plain form, so nothing is shared)."""
        return type(self).from_dict(_deep_copy(self.to_dict()))

    def extra_fields(self) -> dict[str, Any]:
        """Fields present in the data that this class does not declare."""
        return {k: v for k, v in self._data.items() if k not in self.FIELDS}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConfigObject) or type(other) is not type(self):
            return False
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        ident = self._data.get("name") or self._data.get("uuid") or ""
        return "<%s %s>" % (type(self).__name__, ident)

    # -- validation --------------------------------------------------------------

    def describe(self) -> str:
        """How error messages name this object: ``Instance 'web1'``."""
        name = self._data.get("name") or self._data.get("uuid")
        return "%s %r" % (type(self).__name__, name) if name else type(self).__name__

    def is_well_typed(self) -> bool:
        """Quick answer to ``not self.type_problems()`` (fast on large configs).

        Field types are checked once per distinct shape (keys and value
        types) of a class; then only list items (in C, through sets of item
        types) and constrained values (against values already found good)
        need looking at.
        """
        data = self._data
        cls = type(self)
        if (tuple(data), tuple(map(type, data.values()))) not in cls._GOOD_SHAPES:
            return not self.type_problems()
        fast = cls._FAST_CHECKS
        if fast is None:
            fast = cls._FAST_CHECKS = _fast_checks(cls)
        get = data.get
        for name, kind, allowed in fast:
            value = get(name)
            if value is None:
                continue
            if kind == _ITEMS:
                if value and set(map(type, value)) != allowed:
                    return not self.type_problems()
            elif kind == _VALUES:
                if value and set(map(type, value.values())) != allowed:
                    return not self.type_problems()
            elif kind == _ONE:
                if type(value) is not allowed:
                    return not self.type_problems()
            elif kind == _KNOWN:
                if value not in allowed:
                    return not self.type_problems()
            elif not allowed(value):
                return not self.type_problems()
        return True

    def type_problems(self, where: str | None = None) -> list[str]:
        """Every declared field whose value has the wrong type (not recursive)."""
        data = self._data
        cls = type(self)
        problems: list[str] = []
        fields = cls.FIELDS
        shape_ok = True
        for name, value in data.items():
            fld = fields.get(name)
            if fld is None:
                continue
            problem = fld.type_problem(value)
            if problem:
                problems.append("%s: field '%s' %s" % (where or self.describe(), name, problem))
                if fld.plain or fld.container_problem(value):
                    shape_ok = False
            elif not fld.plain:
                fld.remember_good(value)
        if shape_ok:
            cls._GOOD_SHAPES.add((tuple(data), tuple(map(type, data.values()))))
        return problems

    def bump_serial(self, now: float | None = None) -> None:
        """Count a change: serial_no + 1 and mtime = now (objects that have them)."""
        data = self._data
        if "serial_no" in self.FIELDS:
            data["serial_no"] = int(data.get("serial_no") or 0) + 1
        if "mtime" in self.FIELDS:
            data["mtime"] = time.time() if now is None else now


_ITEMS, _VALUES, _ONE, _KNOWN, _CHECK = range(5)


def _fast_checks(cls: type[ConfigObject]) -> list[tuple[str, int, Any]]:
    """What ``is_well_typed`` looks at beyond the shape, per non-plain field."""
    checks: list[tuple[str, int, Any]] = []
    for fld in cls.FIELDS.values():
        if fld.plain:
            continue
        if fld.item_type is not None:
            checks.append((fld.name, _ITEMS, {fld.item_type}))
        elif fld.shape == "list":
            checks.append((fld.name, _ITEMS, {fld.child_cls}))
        elif fld.shape == "dict":
            checks.append((fld.name, _VALUES, {fld.child_cls}))
        elif fld.shape == "one":
            checks.append((fld.name, _ONE, fld.child_cls))
        elif all(t in (str, int) for t in fld.types):
            checks.append((fld.name, _KNOWN, fld.good_values))
        else:
            assert fld.check is not None
            checks.append((fld.name, _CHECK, fld.check))
    return checks


def _plain(value: Any) -> Any:
    if isinstance(value, ConfigObject):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def encoder_default(value: Any) -> Any:
    """``default`` hook for JSON encoders: objects serialize as their fields."""
    if isinstance(value, ConfigObject):
        return value.export()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError("Cannot serialize %r" % (value,))


# -- shared field groups ---------------------------------------------------------------

class _Stamped(ConfigObject):
    """Objects with identity, serial number and timestamps."""

    __slots__ = ()
    uuid = f_opt_str(doc="Unique identifier")
    serial_no = f_int(1, doc="Incremented on every change")
    ctime = f_float(doc="Creation time")
    mtime = f_float(doc="Last modification time")


class _Taggable(_Stamped):
    __slots__ = ()
    tags = Field[list[str]]((list,), factory=list, item_type=str, doc="Tags")


_ADMIN_STATE = ht.TElemOf(constants.ADMINST_ALL)
_ALLOC_POLICY = ht.TElemOf(constants.VALID_ALLOC_POLICIES)
_DISK_MODE = ht.TElemOf(constants.DISK_ACCESS_SET)


class NIC(ConfigObject):
    """A network interface of an instance."""

    __slots__ = ()
    uuid = f_opt_str(doc="Unique identifier")
    name = f_opt_str(doc="Optional name")
    mac = f_opt_str(doc="MAC address")
    ip = f_opt_str(doc="IP address, if any")
    network = f_opt_str(doc="UUID of the network it is connected to")
    nicparams = f_dict(doc="Per-NIC mode/link/vlan overrides")
    netinfo = f_opt_dict(doc="Network information (runtime only)")
    pci = f_opt_int(doc="PCI slot (hotplug)")
    hvinfo = f_opt_dict(doc="Hypervisor-specific data (hotplug)")


class Disk(_Stamped):
    """A disk; DRBD disks have their data and metadata volumes as children."""

    __slots__ = ()
    name = f_opt_str(doc="Optional name")
    dev_type = f_str(constants.DT_PLAIN, check=ht.TElemOf(constants.DISK_TEMPLATES),
                     doc="Disk template of the device")
    logical_id = f_list(doc="Template-specific identity (vg/lv, drbd pair, path…)")
    children = f_objlist("Disk", doc="Component devices (DRBD: data, metadata)")
    nodes = Field[list[str]]((list,), factory=list, item_type=str,
                             doc="UUIDs of the nodes holding the disk")
    iv_name = f_opt_str(doc="Instance-visible name (disk/N)")
    size = f_int(doc="Size in MiB")
    mode = f_str(constants.DISK_RDWR, check=_DISK_MODE, doc="rw or ro")
    params = f_dict(doc="Disk parameters")
    spindles = f_opt_int(doc="Spindles (exclusive storage)")
    forthcoming = f_opt_bool(doc="Created by a forthcoming instance, not yet real")
    pci = f_opt_int(doc="PCI slot (hotplug)")
    hvinfo = f_opt_dict(doc="Hypervisor-specific data (hotplug)")

    def all_nodes(self) -> list[str]:
        """Nodes of this disk and its children, without repetition."""
        seen: list[str] = []
        for disk in self.walk():
            for node in disk.nodes:
                if node not in seen:
                    seen.append(node)
        return seen

    def walk(self) -> Iterator[Disk]:
        """This disk and all its children, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


class Instance(_Taggable):
    """A virtual machine; ``disks`` lists disk UUIDs (Ganeti ≥ 2.14)."""

    __slots__ = ()
    name = f_str(doc="Instance name (FQDN)")
    primary_node = f_str(doc="UUID of the primary node")
    os = f_str(doc="OS definition (name+variant)")
    hypervisor = f_str(constants.HT_KVM, check=ht.TElemOf(constants.HYPER_TYPES),
                       doc="Hypervisor")
    hvparams = f_dict(doc="Hypervisor parameter overrides")
    beparams = f_dict(doc="Backend parameter overrides")
    osparams = f_dict(doc="OS parameter overrides")
    osparams_private = f_dict(doc="Private OS parameter overrides")
    admin_state = f_str(constants.ADMINST_DOWN, check=_ADMIN_STATE,
                        doc="Administrative state: up, down, offline")
    admin_state_source = f_str("admin", doc="Who set admin_state: admin or user")
    nics = f_objlist("NIC", doc="Network interfaces")
    disks = Field[list[str]]((list,), factory=list, item_type=str,
                             doc="UUIDs of the disks, in order")
    disk_template = f_opt_str(doc="Legacy (Ganeti < 2.14); derived from the disks now")
    disks_active = f_bool(doc="Whether the disks should be active")
    network_port = f_opt_int(doc="Console port allocated from the cluster pool")
    forthcoming = f_opt_bool(doc="Reserved but not yet created")


class Node(_Taggable):
    """A node of the cluster."""

    __slots__ = ()
    name = f_str(doc="Node name (FQDN)")
    primary_ip = f_str(doc="Primary IP address")
    secondary_ip = f_opt_str(doc="Secondary (replication) IP address")
    master_candidate = f_bool(doc="Holds a copy of the configuration")
    offline = f_bool(doc="Marked offline")
    drained = f_bool(doc="No new instances are placed here")
    group = f_str(doc="UUID of its node group")
    master_capable = f_bool(True, doc="May become master (candidate)")
    vm_capable = f_bool(True, doc="May host instances")
    ndparams = f_dict(doc="Node parameter overrides")
    powered = f_bool(True, doc="Power state as known through OOB")
    hv_state = f_opt_dict(doc="Hypervisor resource state")
    hv_state_static = f_dict(doc="Hypervisor resource state set by the admin")
    disk_state = f_opt_dict(doc="Disk resource state")
    disk_state_static = f_dict(doc="Disk resource state set by the admin")


class NodeGroup(_Taggable):
    """A group of nodes sharing policies and parameters."""

    __slots__ = ()
    name = f_str(doc="Group name")
    ndparams = f_dict(doc="Node parameter overrides")
    diskparams = f_dict(doc="Disk parameter overrides per template")
    ipolicy = f_dict(doc="Instance policy overrides")
    hv_state_static = f_dict(doc="Hypervisor resource state set by the admin")
    disk_state_static = f_dict(doc="Disk resource state set by the admin")
    alloc_policy = f_str(constants.ALLOC_POLICY_PREFERRED, check=_ALLOC_POLICY,
                         doc="preferred, last_resort or unallocable")
    networks = f_dict(doc="Connected networks: UUID -> nicparams")


class Network(_Taggable):
    """An IP network with its address pool."""

    __slots__ = ()
    name = f_str(doc="Network name")
    mac_prefix = f_opt_str(doc="MAC prefix for NICs in this network")
    network = f_str(doc="IPv4 network (CIDR)")
    network6 = f_opt_str(doc="IPv6 network (CIDR)")
    gateway = f_opt_str(doc="IPv4 gateway")
    gateway6 = f_opt_str(doc="IPv6 gateway")
    reservations = f_opt_str(doc="Bitmap of addresses used by instances")
    ext_reservations = f_opt_str(doc="Bitmap of externally reserved addresses")


class Filter(ConfigObject):
    """A job filter rule (Ganeti ≥ 2.13)."""

    __slots__ = ()
    uuid = f_opt_str(doc="Unique identifier")
    watermark = f_int(doc="Highest job id when the filter was added")
    priority = f_int(doc="Lower values are applied first")
    predicates = f_list(doc="Conditions on jobs")
    action = Field[Any]((str, list), "CONTINUE", doc="ACCEPT, PAUSE, REJECT, CONTINUE, RATE_LIMIT")
    reason_trail = f_list(doc="Why the filter was added")


_REDIST_ENTRY = ht.TStrictDict(True, {"path": ht.TAbsolutePath,
                                      "nodes": ht.TElemOf(["all", "master-candidates"])})


class Cluster(_Taggable):
    """Cluster-wide settings and parameter defaults."""

    __slots__ = ()
    cluster_name = f_str(doc="Cluster name (FQDN)")
    rsahostkeypub = f_str(doc="Cluster SSH RSA host public key")
    dsahostkeypub = f_opt_str(doc="Cluster SSH DSA host public key (legacy)")
    highest_used_port = f_int(doc="Highest TCP/UDP port handed out")
    tcpudp_port_pool = Field[list[int]]((list,), factory=list, item_type=int,
                                        doc="Ports freed and available for reuse")
    mac_prefix = f_str(constants.DEFAULT_MAC_PREFIX, check=ht.TMacPrefix,
                       doc="Prefix of generated MAC addresses")
    volume_group_name = f_opt_str(doc="LVM volume group for plain/drbd")
    reserved_lvs = f_list(doc="Logical volumes verify ignores")
    drbd_usermode_helper = f_opt_str(doc="DRBD usermode helper")
    default_bridge = f_opt_str(doc="Legacy default bridge")
    default_hypervisor = f_opt_str(doc="Legacy default hypervisor")
    master_node = f_str(doc="UUID of the master node")
    master_ip = f_str(doc="Master IP address")
    master_netdev = f_str(doc="Network device for the master IP")
    master_netmask = f_int(32, doc="Netmask (prefix length) of the master IP")
    use_external_mip_script = f_bool(doc="Use an external master IP script")
    file_storage_dir = f_str(doc="Directory of file-based disks")
    shared_file_storage_dir = f_str(doc="Directory of shared-file disks")
    gluster_storage_dir = f_str(doc="Directory of gluster disks")
    enabled_hypervisors = Field[list[str]](
        (list,), factory=lambda: [constants.HT_KVM],
        check=ht.TListOf(ht.TElemOf(constants.HYPER_TYPES)), doc="Enabled hypervisors")
    hvparams = f_dict(doc="Hypervisor parameters per hypervisor")
    ipolicy = f_dict(doc="Instance policy")
    os_hvp = f_dict(doc="Hypervisor parameters per OS and hypervisor")
    beparams = f_dict(doc="Backend parameters, under the key 'default'")
    osparams = f_dict(doc="OS parameters per OS name")
    osparams_private_cluster = f_dict(doc="Private OS parameters per OS name")
    nicparams = f_dict(doc="NIC parameters, under the key 'default'")
    ndparams = f_dict(doc="Node parameters")
    diskparams = f_dict(doc="Disk parameters per disk template")
    candidate_pool_size = f_int(constants.MASTER_POOL_SIZE_DEFAULT,
                                doc="Wanted number of master candidates")
    modify_etc_hosts = f_bool(True, doc="Maintain /etc/hosts")
    modify_ssh_setup = f_bool(True, doc="Maintain SSH keys")
    maintain_node_health = f_bool(doc="Shut down unknown instances on offline nodes")
    uid_pool = f_list(doc="User-id ranges for instances")
    default_iallocator = f_str(doc="Default instance allocator")
    default_iallocator_params = f_dict(doc="Parameters of the default allocator")
    hidden_os = f_list(doc="OS definitions hidden from listings")
    blacklisted_os = f_list(doc="OS definitions that may not be used")
    primary_ip_family = Field[int]((int,), constants.IP4_FAMILY, check=ht.TElemOf(
        [constants.IP4_FAMILY, constants.IP6_FAMILY]), doc="Address family of primary IPs")
    prealloc_wipe_disks = f_bool(doc="Wipe disks before use")
    hv_state_static = f_dict(doc="Hypervisor resource state set by the admin")
    disk_state_static = f_dict(doc="Disk resource state set by the admin")
    enabled_disk_templates = Field[list[str]](
        (list,), factory=lambda: list(constants.DEFAULT_ENABLED_DISK_TEMPLATES),
        check=ht.TListOf(ht.TElemOf(constants.DISK_TEMPLATES)), doc="Enabled disk templates")
    candidate_certs = f_dict(doc="Client certificate digests of master candidates")
    max_running_jobs = f_int(constants.DEFAULT_MAX_RUNNING_JOBS, doc="Concurrent jobs")
    max_tracked_jobs = f_int(constants.DEFAULT_MAX_TRACKED_JOBS, doc="Jobs tracked")
    install_image = f_str(doc="Image for safe OS installation")
    instance_communication_network = f_str(doc="Network for instance communication")
    zeroing_image = f_str(doc="Image for zeroing disks")
    compression_tools = f_list(doc="Allowed compression tools for moves")
    enabled_user_shutdown = f_bool(doc="Track user-initiated shutdowns")
    data_collectors = f_dict(doc="Monitoring data collector settings")
    ssh_key_type = f_opt_str(doc="Type of the cluster SSH keys")
    ssh_key_bits = f_opt_int(doc="Size of the cluster SSH keys")
    redistribute_files = Field[list[dict[str, str]]](
        (list,), factory=list, check=ht.TListOf(_REDIST_ENTRY),
        doc="Extra files RedistributeConfig copies: {path, nodes: all|master-candidates}")

    # -- parameter layering --------------------------------------------------------

    def fill_hvparams(self, instance: Instance, skip_globals: bool = False) -> dict[str, Any]:
        """Effective hypervisor parameters: defaults, cluster, OS, instance."""
        hv = instance.hypervisor
        family = paramdefs.hv_family(hv)
        os_layer = self._os_hvp_layer(instance.os, hv)
        params = fill_params(family, [
            ("cluster", self.hvparams.get(hv)),
            ("OS %r" % instance.os, os_layer),
            (instance.describe(), instance.hvparams),
        ])
        if skip_globals:
            for name in paramdefs.HVC_GLOBALS:
                params.pop(name, None)
        return params

    def fill_hvparams_for(self, hypervisor: str, os_name: str | None = None,
                          overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Effective hypervisor parameters for an instance being created."""
        family = paramdefs.hv_family(hypervisor)
        return fill_params(family, [
            ("cluster", self.hvparams.get(hypervisor)),
            ("OS %r" % os_name, self._os_hvp_layer(os_name, hypervisor)),
            ("the request", overrides),
        ])

    def _os_hvp_layer(self, os_name: str | None, hypervisor: str) -> dict[str, Any] | None:
        if not os_name:
            return None
        for_os = self.os_hvp.get(os_name) or self.os_hvp.get(os_name.split("+", 1)[0])
        return for_os.get(hypervisor) if for_os else None

    def fill_beparams(self, instance: Instance | Mapping[str, Any]) -> dict[str, Any]:
        """Effective backend parameters: defaults, cluster, instance."""
        layer: Mapping[str, Any] | None
        if isinstance(instance, Instance):
            owner, layer = instance.describe(), instance.beparams
        else:
            owner, layer = "the request", instance
        return fill_params(paramdefs.BEPARAMS, [
            ("cluster", self.beparams.get(constants.VALUE_DEFAULT)), (owner, layer)])

    def fill_nicparams(self, nic: NIC | Mapping[str, Any] | None) -> dict[str, Any]:
        """Effective NIC parameters: defaults, cluster, NIC."""
        layer: Mapping[str, Any] | None
        if isinstance(nic, NIC):
            owner, layer = "NIC %s" % (nic.name or nic.mac or nic.uuid), nic.nicparams
        else:
            owner, layer = "the request", nic
        return fill_params(paramdefs.NICPARAMS, [
            ("cluster", self.nicparams.get(constants.VALUE_DEFAULT)), (owner, layer)])

    def fill_ndparams(self, node: Node | None, group: NodeGroup | None) -> dict[str, Any]:
        """Effective node parameters: defaults, cluster, node group, node."""
        return fill_params(paramdefs.NDPARAMS, [
            ("cluster", self.ndparams),
            (group.describe() if group else "", group.ndparams if group else None),
            (node.describe() if node else "", node.ndparams if node else None),
        ])

    def fill_diskparams(self, template: str, group: NodeGroup | None) -> dict[str, Any]:
        """Effective disk parameters of ``template``: defaults, cluster, group."""
        family = paramdefs.disk_family(template)
        return fill_params(family, [
            ("cluster", self.diskparams.get(template)),
            (group.describe() if group else "",
             group.diskparams.get(template) if group else None),
        ])

    def fill_osparams(self, os_name: str,
                      instance_osparams: Mapping[str, Any] | None) -> dict[str, Any]:
        """Effective OS parameters: cluster (OS, then OS+variant), instance.

        OS parameters are free-form strings declared by each OS definition,
        so only the layering happens here; the OS validates the names.
        """
        base = os_name.split("+", 1)[0]
        layers: list[Mapping[str, Any] | None] = [self.osparams.get(base)]
        if base != os_name:
            layers.append(self.osparams.get(os_name))
        layers.append(instance_osparams)
        return paramdefs.fill_dict(*layers)

    def fill_ipolicy(self, group: NodeGroup | None) -> dict[str, Any]:
        """Effective instance policy: cluster, then the group's overrides."""
        return paramdefs.fill_dict(self.ipolicy, group.ipolicy if group else None)


def fill_params(family: paramdefs.ParamFamily,
                layers: Iterable[tuple[str, Mapping[str, Any] | None]]) -> dict[str, Any]:
    """The one layering helper: defaults, then each layer, checked on the way.

    A layer is ``(owner description, values)``; an unknown name or a bad
    value raises ParameterError naming the family, the parameter and owner.
    """
    result = family.defaults()
    for owner, values in layers:
        if values:
            family.check(values, owner)
            result.update(family.resolve_aliases(values))
    return result


class ConfigData(ConfigObject):
    """The whole configuration, as stored in ``config.data``."""

    __slots__ = ()
    version = f_int(constants.CONFIG_VERSION, doc="Format version")
    cluster = f_obj("Cluster", doc="Cluster settings")
    nodes = f_objdict("Node", doc="Nodes by UUID")
    nodegroups = f_objdict("NodeGroup", doc="Node groups by UUID")
    instances = f_objdict("Instance", doc="Instances by UUID")
    networks = f_objdict("Network", doc="Networks by UUID")
    disks = f_objdict("Disk", doc="Disks by UUID")
    filters = f_objdict("Filter", doc="Job filters by UUID")
    serial_no = f_int(1, doc="Incremented on every save")
    ctime = f_float(doc="Creation time")
    mtime = f_float(doc="Last modification time")

    def all_objects(self) -> Iterator[tuple[Callable[[], str], ConfigObject]]:
        """Every object, cluster first, with a function describing where it sits.

        The description is computed only when asked for (error messages), so
        walking a large configuration stays cheap.
        """
        cluster = self._data.get("cluster")
        if isinstance(cluster, ConfigObject):
            yield (lambda: "Cluster"), cluster
        for fld in (ConfigData.nodes, ConfigData.nodegroups, ConfigData.instances,
                    ConfigData.networks, ConfigData.disks, ConfigData.filters):
            container = self._data.get(fld.name)
            if not isinstance(container, dict):
                continue
            for key, obj in container.items():
                if not isinstance(obj, ConfigObject):
                    continue
                yield _where(obj, key), obj
                if isinstance(obj, Instance):
                    for index, nic in enumerate(obj._data.get("nics") or ()):
                        if isinstance(nic, NIC):
                            yield _nic_where(obj, key, index), nic
                elif isinstance(obj, Disk) and obj._data.get("children"):
                    yield from _disk_children(obj, _where(obj, key))


def _where(obj: ConfigObject, key: str) -> Callable[[], str]:
    return lambda: "%s %r" % (type(obj).__name__, obj._data.get("name") or key)


def _nic_where(inst: ConfigObject, key: str, index: int) -> Callable[[], str]:
    return lambda: "Instance %r NIC %d" % (inst._data.get("name") or key, index)


def _disk_children(disk: Disk, where: Callable[[], str]
                   ) -> Iterator[tuple[Callable[[], str], ConfigObject]]:
    for index, child in enumerate(disk._data.get("children") or ()):
        if isinstance(child, Disk):
            child_where = _child_where(where, index)
            yield child_where, child
            yield from _disk_children(child, child_where)


def _child_where(parent: Callable[[], str], index: int) -> Callable[[], str]:
    return lambda: "%s child %d" % (parent(), index)
