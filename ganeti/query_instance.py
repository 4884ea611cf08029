"""Query fields of instances (``gnt-instance list``, luxi Query, RAPI), and their status.

Fields carry Ganeti's names, titles and kinds and are registered with
``ganeti.query`` once. Items are ``InstanceRow`` objects built from one
consistent view of the configuration; live data (which instances run where,
with what memory and CPUs) comes from ONE fan-out of ``all_instances_info``
to every online node, asked only when a live field is wanted.

Status values (Ganeti's): running, ADMIN_down, ADMIN_offline, USER_down,
ERROR_up (runs but should not), ERROR_down (should run but does not),
ERROR_wrongnode (runs on another node than its primary), ERROR_nodedown (the
primary did not answer), ERROR_nodeoffline (the primary is marked offline).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ganeti import constants, errors, objects, paramdefs, query
from ganeti.query import FieldStatus, QueryField

if TYPE_CHECKING:
    from ganeti.config import ConfigWriter
    from ganeti.rpc.client import RpcClient

#: Fields that need the nodes' live data.
LIVE_FIELDS = frozenset(["oper_state", "oper_ram", "oper_vcpus", "status", "console"])
#: Per-index fields for this many disks/NICs (Ganeti declares a fixed number too).
MAX_INDEXED = 8


@dataclass
class InstanceRow:
    """One instance and what its fields need."""

    inst: objects.Instance
    cluster: objects.Cluster
    disks: list[objects.Disk]
    pnode: objects.Node | None
    snodes: list[str] = field(default_factory=list)
    group_name: str | None = None
    group_uuid: str | None = None
    #: Live data wanted? Then: the info of the node running it, and where.
    live_asked: bool = False
    live: dict[str, Any] | None = None
    live_node: str | None = None
    #: The primary node answered all_instances_info.
    pnode_answered: bool = False
    #: Network UUID -> name, for the NICs' network name fields.
    network_names: dict[str, str] = field(default_factory=dict)
    #: Filled parameters, shared by the rows of one query (None: this row's own).
    params: FilledParams | None = None

    def filled(self) -> FilledParams:
        if self.params is None:
            self.params = FilledParams(self.cluster)
        return self.params


def _layer_key(values: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """A hashable form of a parameter layer (None if a value is not hashable)."""
    if not values:
        return ()
    key = tuple(sorted(values.items()))
    try:
        hash(key)
    except TypeError:
        return None
    return key


class FilledParams:
    """Instances' filled parameters, computed once per distinct own-parameter layer.

    Most instances of a cluster override nothing or the same few values, so a
    query over a thousand instances fills a handful of parameter sets rather
    than a thousand (the cluster's ``fill_*`` do the layering and checks).
    The dicts returned are shared: read them, never change them.
    """

    def __init__(self, cluster: objects.Cluster) -> None:
        self.cluster = cluster
        self._cache: dict[tuple[Any, ...], dict[str, Any]] = {}

    def _get(self, kind: str, extra: tuple[Any, ...], layer: Mapping[str, Any],
             fill: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        key = _layer_key(layer)
        if key is None:
            return fill()
        full = (kind, *extra, key)
        found = self._cache.get(full)
        if found is None:
            found = self._cache[full] = fill()
        return found

    def beparams(self, inst: objects.Instance) -> dict[str, Any]:
        return self._get("be", (), inst.beparams, lambda: self.cluster.fill_beparams(inst))

    def hvparams(self, inst: objects.Instance) -> dict[str, Any]:
        return self._get("hv", (inst.hypervisor, inst.os), inst.hvparams,
                         lambda: self.cluster.fill_hvparams(inst))

    def nicparams(self, nic: objects.NIC) -> dict[str, Any]:
        return self._get("nic", (), nic.nicparams, lambda: self.cluster.fill_nicparams(nic))


def instance_status(row: InstanceRow) -> str:
    """Ganeti's status value of an instance from config plus live data."""
    inst, pnode = row.inst, row.pnode
    if pnode is not None and pnode.offline:
        return constants.INSTST_NODEOFFLINE
    if not row.pnode_answered:
        return constants.INSTST_NODEDOWN
    if row.live is not None:
        if pnode is not None and row.live_node != pnode.name:
            return constants.INSTST_WRONGNODE
        if inst.admin_state == constants.ADMINST_UP:
            return constants.INSTST_RUNNING
        return constants.INSTST_ERRORUP
    if inst.admin_state == constants.ADMINST_UP:
        return constants.INSTST_ERRORDOWN
    if inst.admin_state == constants.ADMINST_DOWN:
        if (inst.admin_state_source == constants.USER_SOURCE
                and row.cluster.enabled_user_shutdown):
            return constants.INSTST_USERDOWN
        return constants.INSTST_ADMINDOWN
    return constants.INSTST_ADMINOFFLINE


# -- getters ----------------------------------------------------------------------------

def _attr(name: str) -> Callable[[InstanceRow], Any]:
    return operator.attrgetter("inst." + name)


def _check_live(row: InstanceRow) -> None:
    if row.pnode is not None and row.pnode.offline:
        raise FieldStatus(constants.RS_OFFLINE)
    if not row.pnode_answered:
        raise FieldStatus(constants.RS_NODATA)


def _oper_state(row: InstanceRow) -> bool:
    _check_live(row)
    return row.live is not None


def _live_value(key: str) -> Callable[[InstanceRow], Any]:
    def getter(row: InstanceRow) -> Any:
        _check_live(row)
        if row.live is None:
            raise FieldStatus(constants.RS_UNAVAIL)
        return row.live[key]
    return getter


def _status(row: InstanceRow) -> str:
    return instance_status(row)


def _template(row: InstanceRow) -> str:
    return row.disks[0].dev_type if row.disks else constants.DT_DISKLESS


def _filled_be(row: InstanceRow) -> dict[str, Any]:
    return row.filled().beparams(row.inst)


def _filled_hv(row: InstanceRow) -> dict[str, Any]:
    return row.filled().hvparams(row.inst)


def _filled_os(row: InstanceRow) -> dict[str, Any]:
    return row.cluster.fill_osparams(row.inst.os, row.inst.osparams)


def _indexed(items: Callable[[InstanceRow], list[Any]], index: int,
             value: Callable[[Any], Any]) -> Callable[[InstanceRow], Any]:
    def getter(row: InstanceRow) -> Any:
        found = items(row)
        if index >= len(found):
            raise FieldStatus(constants.RS_UNAVAIL)
        return value(found[index])
    return getter


def _network_name(row: InstanceRow, nic: objects.NIC) -> str | None:
    if not nic.network:
        return None
    return row.network_names.get(nic.network, nic.network)


def _nic_param(row: InstanceRow, nic: objects.NIC, key: str) -> Any:
    return row.filled().nicparams(nic).get(key)


def _disk_fields() -> list[QueryField]:
    text, number, other, unit = (constants.QFT_TEXT, constants.QFT_NUMBER,
                                 constants.QFT_OTHER, constants.QFT_UNIT)

    def disks(row: InstanceRow) -> list[objects.Disk]:
        return row.disks

    fields = [
        QueryField("disk_template", "Disk_template", text, _template,
                   "Instance disk template"),
        QueryField("disk_usage", "DiskUsage", unit,
                   lambda row: sum(d.size for d in row.disks), "Total disk space used by"
                   " instance on each of its nodes; this is not the disk size visible to the"
                   " instance, but the usage on the node"),
        QueryField("disk.count", "Disks", number, lambda row: len(row.disks),
                   "Number of disks"),
        QueryField("disk.sizes", "Disk_sizes", other, lambda row: [d.size for d in row.disks],
                   "List of disk sizes"),
        QueryField("disk.spindles", "Disk_spindles", other,
                   lambda row: [d.spindles for d in row.disks], "List of disk spindles"),
        QueryField("disk.names", "Disk_names", other, lambda row: [d.name for d in row.disks],
                   "List of disk names"),
        QueryField("disk.uuids", "Disk_UUIDs", other, lambda row: [d.uuid for d in row.disks],
                   "List of disk UUIDs"),
        QueryField("sda_size", "LegacyDisk/0", unit,
                   _indexed(disks, 0, lambda d: d.size), "Size of disk/0 (legacy name)"),
        QueryField("sdb_size", "LegacyDisk/1", unit,
                   _indexed(disks, 1, lambda d: d.size), "Size of disk/1 (legacy name)"),
    ]
    for i in range(MAX_INDEXED):
        fields += [
            QueryField("disk.size/%d" % i, "Disk/%d" % i, unit,
                       _indexed(disks, i, lambda d: d.size), "Disk size of %s disk" % _nth(i)),
            QueryField("disk.spindles/%d" % i, "DiskSpindles/%d" % i, number,
                       _indexed(disks, i, lambda d: d.spindles),
                       "Spindles of %s disk" % _nth(i)),
            QueryField("disk.name/%d" % i, "DiskName/%d" % i, text,
                       _indexed(disks, i, lambda d: d.name), "Name of %s disk" % _nth(i)),
            QueryField("disk.uuid/%d" % i, "DiskUUID/%d" % i, text,
                       _indexed(disks, i, lambda d: d.uuid), "UUID of %s disk" % _nth(i)),
        ]
    return fields


def _nth(index: int) -> str:
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(index + 1 if index < 3 else 0, "th")
    return "%d%s" % (index + 1, suffix)


def _nic_fields() -> list[QueryField]:
    text, number, other = constants.QFT_TEXT, constants.QFT_NUMBER, constants.QFT_OTHER

    def nics(row: InstanceRow) -> list[objects.NIC]:
        return list(row.inst.nics)

    def all_params(key: str) -> Callable[[InstanceRow], list[Any]]:
        return lambda row: [_nic_param(row, nic, key) for nic in row.inst.nics]

    def bridges(row: InstanceRow) -> list[Any]:
        result = []
        for nic in row.inst.nics:
            params = row.filled().nicparams(nic)
            result.append(params.get(paramdefs.NIC_LINK)
                          if params.get(paramdefs.NIC_MODE) == constants.NIC_MODE_BRIDGED
                          else None)
        return result

    fields = [
        QueryField("nic.count", "NICs", number, lambda row: len(row.inst.nics),
                   "Number of network interfaces"),
        QueryField("nic.macs", "NIC_MACs", other, lambda row: [n.mac for n in row.inst.nics],
                   "List containing each network interface's MAC address"),
        QueryField("nic.ips", "NIC_IPs", other, lambda row: [n.ip for n in row.inst.nics],
                   "List containing each network interface's IP address"),
        QueryField("nic.names", "NIC_Names", other,
                   lambda row: [n.name for n in row.inst.nics],
                   "List containing each network interface's name"),
        QueryField("nic.uuids", "NIC_UUIDs", other,
                   lambda row: [n.uuid for n in row.inst.nics],
                   "List containing each network interface's UUID"),
        QueryField("nic.modes", "NIC_modes", other, all_params(paramdefs.NIC_MODE),
                   "List containing each network interface's mode"),
        QueryField("nic.links", "NIC_links", other, all_params(paramdefs.NIC_LINK),
                   "List containing each network interface's link"),
        QueryField("nic.vlans", "NIC_VLANs", other, all_params(paramdefs.NIC_VLAN),
                   "List containing each network interface's VLAN"),
        QueryField("nic.bridges", "NIC_bridges", other, bridges,
                   "List containing each network interface's bridge"),
        QueryField("nic.networks", "NIC_networks", other,
                   lambda row: [n.network for n in row.inst.nics],
                   "List containing each interface's network"),
        QueryField("nic.networks.names", "NIC_networks_names", other,
                   lambda row: [_network_name(row, n) for n in row.inst.nics],
                   "List containing the name of each interface's network"),
        QueryField("ip", "IP_address", text, _indexed(nics, 0, lambda n: n.ip),
                   "IP address of 1st network interface (legacy name)"),
        QueryField("mac", "MAC_address", text, _indexed(nics, 0, lambda n: n.mac),
                   "MAC address of 1st network interface (legacy name)"),
    ]
    def network_name(index: int) -> Callable[[InstanceRow], Any]:
        return lambda row: _indexed(nics, index, lambda nic: _network_name(row, nic))(row)

    for i in range(MAX_INDEXED):
        def param(key: str, index: int = i) -> Callable[[InstanceRow], Any]:
            return lambda row: _indexed(nics, index,
                                        lambda nic: _nic_param(row, nic, key))(row)
        fields += [
            QueryField("nic.mac/%d" % i, "NicMAC/%d" % i, text,
                       _indexed(nics, i, lambda n: n.mac), "MAC address of %s network"
                       " interface" % _nth(i)),
            QueryField("nic.ip/%d" % i, "NicIP/%d" % i, text,
                       _indexed(nics, i, lambda n: n.ip), "IP address of %s network"
                       " interface" % _nth(i)),
            QueryField("nic.name/%d" % i, "NicName/%d" % i, text,
                       _indexed(nics, i, lambda n: n.name), "Name of %s network"
                       " interface" % _nth(i)),
            QueryField("nic.uuid/%d" % i, "NicUUID/%d" % i, text,
                       _indexed(nics, i, lambda n: n.uuid), "UUID of %s network"
                       " interface" % _nth(i)),
            QueryField("nic.mode/%d" % i, "NicMode/%d" % i, text, param(paramdefs.NIC_MODE),
                       "Mode of %s network interface" % _nth(i)),
            QueryField("nic.link/%d" % i, "NicLink/%d" % i, text, param(paramdefs.NIC_LINK),
                       "Link of %s network interface" % _nth(i)),
            QueryField("nic.vlan/%d" % i, "NicVLAN/%d" % i, text, param(paramdefs.NIC_VLAN),
                       "VLAN of %s network interface" % _nth(i)),
            QueryField("nic.network/%d" % i, "NicNetwork/%d" % i, text,
                       _indexed(nics, i, lambda n: n.network),
                       "Network of %s network interface" % _nth(i)),
            QueryField("nic.network.name/%d" % i, "NicNetworkName/%d" % i, text,
                       network_name(i), "Network name of %s network interface" % _nth(i)),
        ]
    return fields


def _param_getter(filled: Callable[[InstanceRow], dict[str, Any]], key: str
                  ) -> Callable[[InstanceRow], Any]:
    return lambda row: filled(row)[key]


def _param_fields() -> list[QueryField]:
    other = constants.QFT_OTHER
    fields = [
        QueryField("hvparams", "HypervisorParameters", other, _filled_hv,
                   "Hypervisor parameters (merged)"),
        QueryField("custom_hvparams", "CustomHypervisorParameters", other,
                   lambda row: dict(row.inst.hvparams), "Custom hypervisor parameters"),
        QueryField("beparams", "BackendParameters", other, _filled_be,
                   "Backend parameters (merged)"),
        QueryField("custom_beparams", "CustomBackendParameters", other,
                   lambda row: dict(row.inst.beparams), "Custom backend parameters"),
        QueryField("osparams", "OpSysParameters", other, _filled_os,
                   "Operating system parameters (merged)"),
        QueryField("custom_osparams", "CustomOpSysParameters", other,
                   lambda row: dict(row.inst.osparams), "Custom operating system parameters"),
        QueryField("custom_nicparams", "CustomNicParameters", other,
                   lambda row: [dict(n.nicparams) for n in row.inst.nics],
                   "Custom network interface parameters"),
    ]
    be_titles = {paramdefs.BE_MAXMEM: "ConfigMaxMem", paramdefs.BE_MINMEM: "ConfigMinMem",
                 paramdefs.BE_VCPUS: "ConfigVCPUs",
                 paramdefs.BE_AUTO_BALANCE: "Auto_balance",
                 paramdefs.BE_ALWAYS_FAILOVER: "Always_failover",
                 paramdefs.BE_SPINDLE_USE: "Spindle_use"}
    for pdef in paramdefs.BEPARAMS.params.values():
        name = pdef.name
        kind = (constants.QFT_UNIT if name in (paramdefs.BE_MAXMEM, paramdefs.BE_MINMEM)
                else constants.QFT_BOOL if isinstance(pdef.default, bool)
                else constants.QFT_NUMBER if isinstance(pdef.default, int) else other)
        fields.append(QueryField("be/%s" % name, be_titles.get(name, "be/%s" % name), kind,
                                 _param_getter(_filled_be, name),
                                 "The \"%s\" backend parameter" % name))
    fields.append(QueryField("be/memory", "ConfigMemory", constants.QFT_UNIT,
                             lambda row: _filled_be(row)[paramdefs.BE_MAXMEM],
                             "The \"maxmem\" backend parameter (legacy name)"))
    fields.append(QueryField("vcpus", "ConfigVCPUs", constants.QFT_NUMBER,
                             lambda row: _filled_be(row)[paramdefs.BE_VCPUS],
                             "The \"vcpus\" backend parameter (legacy name)"))
    hv_names: set[str] = set()
    for hv in constants.HYPER_TYPES:
        try:
            hv_names.update(paramdefs.hv_family(hv).params)
        except errors.ParameterError:  # a hypervisor without parameters
            continue
    for name in sorted(hv_names):
        fields.append(QueryField("hv/%s" % name, "hv/%s" % name, other,
                                 _param_getter(_filled_hv, name),
                                 "The \"%s\" hypervisor parameter" % name))
    return fields


def _instance_fields() -> list[QueryField]:
    text, boolean, number, other = (constants.QFT_TEXT, constants.QFT_BOOL,
                                    constants.QFT_NUMBER, constants.QFT_OTHER)

    def pnode_name(row: InstanceRow) -> str:
        return row.pnode.name if row.pnode is not None else row.inst.primary_node

    def group(row: InstanceRow, value: str | None) -> str:
        if value is None:
            raise FieldStatus(constants.RS_UNAVAIL)
        return value

    fields = [
        QueryField("name", "Instance", text, _attr("name"), "Instance name"),
        QueryField("uuid", "UUID", text, _attr("uuid"), "Instance UUID"),
        QueryField("os", "OS", text, _attr("os"), "Operating system"),
        QueryField("hypervisor", "Hypervisor", text, _attr("hypervisor"), "Hypervisor name"),
        QueryField("pnode", "Primary_node", text, pnode_name, "Primary node"),
        QueryField("pnode.group", "PrimaryNodeGroup", text,
                   lambda row: group(row, row.group_name), "Primary node's group"),
        QueryField("pnode.group.uuid", "PrimaryNodeGroupUUID", text,
                   lambda row: group(row, row.group_uuid), "Primary node's group UUID"),
        QueryField("snodes", "Secondary_Nodes", other, lambda row: list(row.snodes),
                   "Secondary nodes; usually this will just be one node"),
        QueryField("admin_state", "InstanceState", text, _attr("admin_state"),
                   "Desired state of the instance"),
        QueryField("admin_up", "Autostart", boolean,
                   lambda row: row.inst.admin_state == constants.ADMINST_UP,
                   "Desired state of the instance"),
        QueryField("admin_state_source", "InstanceStateSource", text,
                   _attr("admin_state_source"), "Who last changed the desired state of the"
                   " instance"),
        QueryField("disks_active", "DisksActive", boolean, _attr("disks_active"),
                   "Desired state of the instance's disks"),
        QueryField("oper_state", "Running", boolean, _oper_state,
                   "Actual state of instance"),
        QueryField("oper_ram", "Memory", constants.QFT_UNIT, _live_value("memory"),
                   "Actual memory usage as seen by hypervisor"),
        QueryField("oper_vcpus", "VCPUs", number, _live_value("vcpus"),
                   "Actual number of VCPUs as seen by hypervisor"),
        QueryField("status", "Status", text, _status,
                   "Instance status; \"running\" if instance is set to be running and"
                   " actually is, \"ADMIN_down\" if instance is stopped and is not running,"
                   " \"ERROR_wrongnode\" if instance is running but not on its designated"
                   " primary node, \"ERROR_up\" if instance should be stopped but is"
                   " actually running, \"ERROR_down\" if instance should run but doesn't,"
                   " \"ERROR_nodedown\" if instance's primary node is down,"
                   " \"ERROR_nodeoffline\" if instance's primary node is marked offline,"
                   " \"ADMIN_offline\" if instance is offline and does not use dynamic"
                   " resources, \"USER_down\" if the user shut the instance down"),
        QueryField("network_port", "Network_port", number, _attr("network_port"),
                   "Instance network port if available (e.g. for VNC console)"),
        QueryField("tags", "Tags", other, lambda row: list(row.inst.tags), "Tags"),
        QueryField("serial_no", "SerialNo", number, _attr("serial_no"),
                   "Instance object serial number, incremented on each modification"),
        QueryField("ctime", "CTime", constants.QFT_TIMESTAMP, _attr("ctime"),
                   "Creation timestamp"),
        QueryField("mtime", "MTime", constants.QFT_TIMESTAMP, _attr("mtime"),
                   "Modification timestamp"),
    ]
    return fields + _disk_fields() + _nic_fields() + _param_fields()


query.register_resource(constants.QR_INSTANCE, _instance_fields())


# -- items -------------------------------------------------------------------------------

def instance_rows(cfg: ConfigWriter) -> list[InstanceRow]:
    """A row per instance, sorted by name, from one consistent view of the config."""
    with cfg.locked() as data:
        cluster = data.cluster
        nodes = data.nodes
        groups = data.nodegroups
        all_disks = data.disks
        network_names = {uuid: net.name for uuid, net in data.networks.items()}
        params = FilledParams(cluster)
        rows = []
        for inst in data.instances.values():
            disks = [all_disks[d] for d in inst.disks if d in all_disks]
            pnode = nodes.get(inst.primary_node)
            snodes: list[str] = []
            for disk in disks:
                for uuid in disk.all_nodes():
                    if uuid != inst.primary_node:
                        name = nodes[uuid].name if uuid in nodes else uuid
                        if name not in snodes:
                            snodes.append(name)
            group = groups.get(pnode.group) if pnode is not None else None
            rows.append(InstanceRow(inst, cluster, disks, pnode, snodes,
                                    group.name if group is not None else None,
                                    group.uuid if group is not None else None,
                                    network_names=network_names, params=params))
    rows.sort(key=lambda row: row.inst.name)
    return rows


def collect_live_data(rpc: RpcClient, cfg: ConfigWriter, noded_port: int
                      ) -> tuple[dict[str, tuple[str, dict[str, Any]]], set[str]]:
    """(instance name -> (node name, info), names of the nodes that answered).

    One ``all_instances_info`` call to every online vm-capable node at once.
    """
    from ganeti.rpc.client import NodeAddress

    cluster = cfg.get_cluster_info()
    with cfg.locked() as data:
        targets = [NodeAddress(node.name, node.primary_ip, noded_port, False)
                   for node in data.nodes.values() if not node.offline and node.vm_capable]
    hypervisors = list(cluster.enabled_hypervisors)
    hvparams = {hv: cluster.fill_hvparams_for(hv) for hv in hypervisors}
    if not targets or not hypervisors:
        return {}, set()
    results = rpc.call("all_instances_info", targets, [hypervisors, hvparams])
    live: dict[str, tuple[str, dict[str, Any]]] = {}
    answered: set[str] = set()
    for node_name in sorted(results):
        result = results[node_name]
        if not result.success or not isinstance(result.payload, dict):
            continue
        answered.add(node_name)
        for name, info in result.payload.items():
            previous = live.get(name)
            # Running on two nodes: keep what the primary reports (decided per row).
            if previous is None:
                live[name] = (node_name, info)
            else:
                live.setdefault(name + "\0" + node_name, (node_name, info))
    return live, answered


def instance_items(cfg: ConfigWriter, rpc: RpcClient | None, noded_port: int,
                   needed: Iterable[str]) -> list[InstanceRow]:
    """Rows for an instance query; live data only when a live field is ``needed``."""
    rows = instance_rows(cfg)
    if rpc is None or not LIVE_FIELDS.intersection(needed):
        for row in rows:
            row.pnode_answered = True
        return rows
    live, answered = collect_live_data(rpc, cfg, noded_port)
    for row in rows:
        row.live_asked = True
        pnode_name = row.pnode.name if row.pnode is not None else None
        row.pnode_answered = pnode_name in answered
        found = live.get(row.inst.name)
        if found is None:
            continue
        node_name, info = found
        other = live.get(row.inst.name + "\0" + (pnode_name or ""))
        if node_name != pnode_name and other is not None:
            node_name, info = other
        row.live, row.live_node = info, node_name
    return rows
