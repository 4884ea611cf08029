"""Consistency checks of a whole configuration, in one pass.

``verify(config_data)`` returns every problem found, each naming the object
and the field; an empty list means the configuration is sound. The config
writer refuses to load or save anything that fails, and ``gnt-cluster
verify`` reports the same list.
"""

from __future__ import annotations

import contextlib
import gc
import ipaddress
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ganeti import constants, paramdefs
from ganeti.objects import (
    NIC,
    Cluster,
    ConfigData,
    ConfigObject,
    Disk,
    Instance,
    Network,
    Node,
    NodeGroup,
)


def verify_version(version: Any) -> str | None:
    """Why ``version`` cannot be loaded, or None."""
    if not isinstance(version, int) or isinstance(version, bool):
        return "Config field 'version' must be an integer, got %r" % (version,)
    if not constants.CONFIG_VERSION_MIN_LOADABLE <= version <= constants.CONFIG_VERSION:
        return ("Config field 'version' is %d; this version loads %d to %d"
                % (version, constants.CONFIG_VERSION_MIN_LOADABLE, constants.CONFIG_VERSION))
    return None


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector.

    Walking a large configuration allocates many small short-lived objects;
    with tens of thousands of live objects each collection is costly and
    finds nothing, so large loads, checks and saves run without it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def verify(data: ConfigData, type_check: Iterable[ConfigObject] | None = None) -> list[str]:
    """Every inconsistency of ``data``, each naming object and field.

    Field types are checked for every object, or, when ``type_check`` is
    given, only for those objects (and what they contain) and the cluster:
    the config writer passes what a change touched, as everything else was
    checked when loaded. References, uniqueness and parameters are always
    checked in full.
    """
    with paused_gc():
        return _verify(data, type_check)


def _verify(data: ConfigData, type_check: Iterable[ConfigObject] | None) -> list[str]:
    problems: list[str] = []
    add = problems.append
    version_problem = verify_version(data._data.get("version"))
    if version_problem:
        add(version_problem)
    if type_check is None:
        walk = data.all_objects()
    else:
        cluster_obj = data._data.get("cluster")
        walk = _with_nested([cluster_obj, *type_check] if isinstance(cluster_obj, ConfigObject)
                            else type_check)
    for where, obj in walk:
        if not obj.is_well_typed():
            problems.extend(obj.type_problems(where()))
    problems.extend(data.type_problems("Config"))

    cluster = data._data.get("cluster")
    if not isinstance(cluster, Cluster):
        add("Config: field 'cluster' is missing")
        return problems

    nodes = _container(data, "nodes", Node, problems)
    groups = _container(data, "nodegroups", NodeGroup, problems)
    instances = _container(data, "instances", Instance, problems)
    networks = _container(data, "networks", Network, problems)
    disks = _container(data, "disks", Disk, problems)
    filters = data._data.get("filters")

    _check_uuids(cluster, [nodes, groups, instances, networks, disks,
                           filters if isinstance(filters, dict) else {}], add)
    _check_unique_names("Node", nodes, add)
    _check_unique_names("NodeGroup", groups, add)
    _check_unique_names("Instance", instances, add)
    _check_unique_names("Network", networks, add)

    _check_cluster(cluster, nodes, networks, add)
    for group in groups.values():
        _check_group(group, networks, add)
    for node in nodes.values():
        node_where = _LazyName(node)
        if node._data.get("group") not in groups:
            add("%s: field 'group' refers to unknown node group %r"
                % (node_where, node._data.get("group")))
        _params(paramdefs.NDPARAMS, node._data.get("ndparams"), node_where, "ndparams", add)
    _check_instances(cluster, instances, nodes, disks, networks, add)
    return problems


def _with_nested(objs: Iterable[ConfigObject]
                 ) -> Iterator[tuple[Callable[[], str], ConfigObject]]:
    """The objects and the objects they contain (NICs, disk children)."""
    pending: list[tuple[Callable[[], str], ConfigObject]] = [
        (obj.describe, obj) for obj in objs]
    while pending:
        where, obj = pending.pop()
        yield where, obj
        for fld in obj._NESTED:
            value = obj._data.get(fld.name)
            items = (value if isinstance(value, list) else
                     list(value.values()) if isinstance(value, dict) else [value])
            for index, child in enumerate(items):
                if isinstance(child, ConfigObject):
                    pending.append((_nested_where(where, fld.name, index), child))


def _nested_where(parent: Callable[[], str], field: str, index: int) -> Callable[[], str]:
    return lambda: "%s %s %d" % (parent(), field, index)


def _container(data: ConfigData, name: str, cls: type[ConfigObject],
               problems: list[str]) -> dict[str, Any]:
    value = data._data.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        return {}  # the type problem is already reported
    good = {k: v for k, v in value.items() if isinstance(v, cls)}
    for key in value.keys() - good.keys():
        problems.append("Config: %s entry %r is not an object" % (name, key))
    return good


def _check_uuids(cluster: Cluster, containers: list[Mapping[str, Any]],
                 add: Any) -> None:
    seen: dict[str, object] = {}
    cluster_uuid = cluster._data.get("uuid")
    if cluster_uuid:
        seen[cluster_uuid] = "Cluster"
    for container in containers:
        for key, obj in container.items():
            if not isinstance(obj, ConfigObject):
                continue
            where = _LazyName(obj)
            uuid = obj._data.get("uuid")
            if uuid is None:
                add("%s: field 'uuid' is missing (stored under %r)" % (where, key))
                continue
            if uuid != key:
                add("%s: field 'uuid' is %r but the object is stored under %r"
                    % (where, uuid, key))
            other = seen.get(uuid)
            if other is not None:
                add("%s: field 'uuid' %r is also used by %s" % (where, uuid, other))
            else:
                seen[uuid] = where


def _check_unique_names(kind: str, objects: Mapping[str, ConfigObject], add: Any) -> None:
    seen: dict[str, str] = {}
    for key, obj in objects.items():
        name = obj._data.get("name")
        if not name:
            add("%s %r: field 'name' is empty" % (kind, key))
            continue
        if name in seen:
            add("%s %r: field 'name' is also used by the %s with UUID %r"
                % (kind, name, kind, seen[name]))
        else:
            seen[name] = key


def _params(family: paramdefs.ParamFamily, values: Any, where: object, field: str,
            add: Any) -> None:
    if values is None:
        return
    if not isinstance(values, dict):
        return  # reported as a type problem
    if family.all_good(values):
        return
    where = str(where)
    for problem in family.problems(values, str(where)):
        add(problem.replace("%s of %s" % (family.name, where),
                            "%s: field '%s'" % (where, field), 1))


def _check_cluster(cluster: Cluster, nodes: Mapping[str, Node],
                   networks: Mapping[str, Network], add: Any) -> None:
    data = cluster._data
    master = data.get("master_node")
    node = nodes.get(master) if isinstance(master, str) else None
    if node is None:
        add("Cluster: field 'master_node' refers to unknown node %r" % (master,))
    elif not node._data.get("master_candidate"):
        add("Cluster: field 'master_node' names %s, which is not a master candidate"
            % node.describe())
    elif node._data.get("offline"):
        add("Cluster: field 'master_node' names %s, which is offline" % node.describe())
    hvparams = data.get("hvparams")
    if isinstance(hvparams, dict):
        for hv, values in hvparams.items():
            family = paramdefs.HVPARAMS.get(hv)
            if family is None:
                add("Cluster: field 'hvparams' has unknown hypervisor %r" % hv)
            else:
                _params(family, values, "Cluster", "hvparams/%s" % hv, add)
    os_hvp = data.get("os_hvp")
    if isinstance(os_hvp, dict):
        for os_name, per_hv in os_hvp.items():
            if not isinstance(per_hv, dict):
                add("Cluster: field 'os_hvp/%s' must be a dictionary" % os_name)
                continue
            for hv, values in per_hv.items():
                family = paramdefs.HVPARAMS.get(hv)
                if family is None:
                    add("Cluster: field 'os_hvp/%s' has unknown hypervisor %r" % (os_name, hv))
                else:
                    _params(family, values, "Cluster", "os_hvp/%s/%s" % (os_name, hv), add)
    for field, family in (("beparams", paramdefs.BEPARAMS),
                          ("nicparams", paramdefs.NICPARAMS)):
        layer = data.get(field)
        if isinstance(layer, dict):
            for key, values in layer.items():
                if key != constants.VALUE_DEFAULT:
                    add("Cluster: field '%s' has unknown key %r (only %r)"
                        % (field, key, constants.VALUE_DEFAULT))
                else:
                    _params(family, values, "Cluster", "%s/%s" % (field, key), add)
    _params(paramdefs.NDPARAMS, data.get("ndparams"), "Cluster", "ndparams", add)
    _check_diskparams(data.get("diskparams"), "Cluster", add)
    network = data.get("instance_communication_network")
    if network and not any(n._data.get("name") == network for n in networks.values()):
        add("Cluster: field 'instance_communication_network' refers to unknown network %r"
            % network)


def _check_diskparams(values: Any, where: str, add: Any) -> None:
    if not isinstance(values, dict):
        return
    for template, params in values.items():
        family = paramdefs.DISKPARAMS.get(template)
        if family is None:
            add("%s: field 'diskparams' has unknown disk template %r" % (where, template))
        else:
            _params(family, params, where, "diskparams/%s" % template, add)


def _check_group(group: NodeGroup, networks: Mapping[str, Network], add: Any) -> None:
    where = group.describe()
    _params(paramdefs.NDPARAMS, group._data.get("ndparams"), where, "ndparams", add)
    _check_diskparams(group._data.get("diskparams"), where, add)
    connected = group._data.get("networks")
    if isinstance(connected, dict):
        for net_uuid, nicparams in connected.items():
            if net_uuid not in networks:
                add("%s: field 'networks' refers to unknown network %r" % (where, net_uuid))
            _params(paramdefs.NICPARAMS, nicparams, where, "networks/%s" % net_uuid, add)


def _check_instances(cluster: Cluster, instances: Mapping[str, Instance],
                     nodes: Mapping[str, Node], disks: Mapping[str, Disk],
                     networks: Mapping[str, Network], add: Any) -> None:
    disk_owner: dict[str, object] = {}
    macs: dict[str, object] = {}
    ips: dict[tuple[str, str], object] = {}
    ports: dict[int, object] = {}
    highest_port = cluster._data.get("highest_used_port") or 0
    be_family = paramdefs.BEPARAMS
    nic_family = paramdefs.NICPARAMS
    for inst in instances.values():
        data = inst._data
        where = _LazyName(inst)
        if data.get("primary_node") not in nodes:
            add("%s: field 'primary_node' refers to unknown node %r"
                % (where, data.get("primary_node")))
        hv_family = paramdefs.HVPARAMS.get(data.get("hypervisor") or "")
        if data.get("hvparams"):
            if hv_family is not None:
                _params(hv_family, data["hvparams"], where, "hvparams", add)
        if data.get("beparams"):
            _params(be_family, data["beparams"], where, "beparams", add)
        port = data.get("network_port")
        if isinstance(port, int):
            if port in ports:
                add("%s: field 'network_port' %d is also used by %s" % (where, port, ports[port]))
            else:
                ports[port] = where
            if port > highest_port and not isinstance(highest_port, bool):
                add("%s: field 'network_port' %d is above the cluster's highest_used_port %d"
                    % (where, port, highest_port))
        disk_names: set[str] = set()
        for index, disk_uuid in enumerate(data.get("disks") or ()):
            disk = disks.get(disk_uuid)
            if disk is None:
                add("%s: field 'disks' item %d refers to unknown disk %r"
                    % (where, index, disk_uuid))
                continue
            owner = disk_owner.get(disk_uuid)
            if owner is not None:
                add("%s: field 'disks' item %d: disk %r already belongs to %s"
                    % (where, index, disk_uuid, owner))
            else:
                disk_owner[disk_uuid] = where
            name = disk._data.get("name")
            if name:
                if name in disk_names:
                    add("%s: field 'disks' item %d: disk name %r is used twice"
                        % (where, index, name))
                disk_names.add(name)
        for index, nic in enumerate(data.get("nics") or ()):
            if not isinstance(nic, NIC):
                continue
            nic_data = nic._data
            nic_where = _LazyName(inst, " NIC %d" % index)
            mac = nic_data.get("mac")
            if mac:
                if mac in macs:
                    add("%s: field 'mac' %s is also used by %s" % (nic_where, mac, macs[mac]))
                else:
                    macs[mac] = nic_where
            network = nic_data.get("network")
            if network is not None and network not in networks:
                add("%s: field 'network' refers to unknown network %r" % (nic_where, network))
            ip = nic_data.get("ip")
            if ip and network is not None:
                key = (network, ip)
                if key in ips:
                    add("%s: field 'ip' %s is also used by %s in network %r"
                        % (nic_where, ip, ips[key], network))
                else:
                    ips[key] = nic_where
            if nic_data.get("nicparams"):
                _params(nic_family, nic_data["nicparams"], nic_where, "nicparams", add)
    node_set = nodes.keys()
    for disk_uuid, disk in disks.items():
        if disk_uuid not in disk_owner:
            add("%s: no instance lists it in its field 'disks'" % disk.describe())
        _check_disk_nodes(disk, node_set, disk.describe, add)


def verify_network_pools(data: ConfigData) -> list[str]:
    """Disagreements between the networks' address pools and the instances' NICs.

    Reported by ``gnt-cluster verify`` but not a reason to refuse loading or
    saving: a stale reservation (which Ganeti itself could leave behind) must
    not stop a cluster.
    """
    problems: list[str] = []
    holders: dict[tuple[str, str], str] = {}
    for inst in data.instances.values():
        for index, nic in enumerate(inst.nics):
            if nic.network and nic.ip:
                holders[(nic.network, nic.ip)] = "Instance %r NIC %d" % (inst.name, index)
    for net_uuid, net in data.networks.items():
        try:
            subnet = ipaddress.IPv4Network(net.network, strict=False)
        except ValueError:
            continue  # the type and reference checks report it
        base = int(subnet.network_address)
        bits = net.reservations or ""
        if bits and len(bits) != subnet.num_addresses:
            problems.append("%s: field 'reservations' has %d entries for the %d addresses of %s"
                            % (net.describe(), len(bits), subnet.num_addresses, subnet))
            continue
        for index, bit in enumerate(bits):
            address = str(ipaddress.IPv4Address(base + index))
            if bit == "1" and (net_uuid, address) not in holders:
                problems.append("%s: IP %s is reserved for an instance but no NIC holds it"
                                % (net.describe(), address))
        if net.gateway and ipaddress.IPv4Address(net.gateway) not in subnet:
            problems.append("%s: gateway %s is outside the network %s"
                            % (net.describe(), net.gateway, subnet))
    for (net_uuid, address), where in sorted(holders.items()):
        net = data.networks.get(net_uuid)
        if net is None:
            continue  # reported as an unknown network
        try:
            subnet = ipaddress.IPv4Network(net.network, strict=False)
            inside = ipaddress.ip_address(address) in subnet
        except ValueError:
            continue
        if not inside:
            continue
        index = int(ipaddress.IPv4Address(address)) - int(subnet.network_address)
        bits = net.reservations or ""
        if index >= len(bits) or bits[index] != "1":
            problems.append("%s: IP %s is in the pool of %s but not reserved there"
                            % (where, address, net.describe()))
    return problems


def _check_disk_nodes(disk: Disk, node_set: Any, where: Any, add: Any) -> None:
    disk_nodes = disk._data.get("nodes")
    if disk_nodes and not node_set >= set(disk_nodes):
        for node in disk_nodes:
            if node not in node_set:
                add("%s: field 'nodes' refers to unknown node %r" % (where(), node))
    for index, child in enumerate(disk._data.get("children") or ()):
        if isinstance(child, Disk):
            _check_disk_nodes(child, node_set,
                              lambda index=index: "%s child %d" % (where(), index), add)


class _LazyName:
    """An object's description, formatted only if an error message needs it."""

    __slots__ = ("obj", "suffix")

    def __init__(self, obj: ConfigObject, suffix: str = "") -> None:
        self.obj = obj
        self.suffix = suffix

    def __str__(self) -> str:
        return self.obj.describe() + self.suffix
