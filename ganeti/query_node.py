"""Query fields of nodes and node groups (``gnt-node list``, ``gnt-group list``).

Fields are declared once here, with Ganeti's names, titles and kinds, and
registered with ``ganeti.query``. The items are ``NodeRow``/``GroupRow``
snapshots built from the configuration (``node_items``, ``group_items``);
live node fields (memory, disk, CPUs, boot id) come from the ``node_info``
RPC, asked only when a live field is wanted (``collect_live_data``).
A live cell of an offline node has status RS_OFFLINE, of a node that did
not answer RS_NODATA, of a node that cannot host instances RS_UNAVAIL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ganeti import constants, objects, query
from ganeti.query import FieldStatus, QueryField

if TYPE_CHECKING:
    from ganeti.config import ConfigWriter
    from ganeti.rpc.client import NodeAddress, RpcClient


@dataclass
class NodeRow:
    """One node and what its fields need."""

    node: objects.Node
    group: objects.NodeGroup | None
    cluster: objects.Cluster
    master_uuid: str
    pinst: list[str] = field(default_factory=list)
    sinst: list[str] = field(default_factory=list)
    #: node_info answer merged with its hypervisor's; None: no data asked or got.
    live: dict[str, Any] | None = None


@dataclass
class GroupRow:
    group: objects.NodeGroup
    cluster: objects.Cluster
    nodes: list[str] = field(default_factory=list)
    pinst: list[str] = field(default_factory=list)


def node_role(node: objects.Node, master_uuid: str) -> str:
    """Ganeti's one-letter role: M(aster), C(andidate), D(rained), O(ffline), R(egular)."""
    if node.uuid == master_uuid:
        return constants.NR_MASTER
    if node.master_candidate:
        return constants.NR_MCANDIDATE
    if node.drained:
        return constants.NR_DRAINED
    if node.offline:
        return constants.NR_OFFLINE
    return constants.NR_REGULAR


def _timestamps(what: str) -> list[QueryField]:
    return [
        QueryField("ctime", "CTime", constants.QFT_TIMESTAMP,
                   lambda row: getattr(row, what).ctime, "Creation timestamp"),
        QueryField("mtime", "MTime", constants.QFT_TIMESTAMP,
                   lambda row: getattr(row, what).mtime, "Modification timestamp"),
    ]


def _node_attr(name: str) -> Callable[[NodeRow], Any]:
    return lambda row: getattr(row.node, name)


def _node_group(row: NodeRow) -> objects.NodeGroup:
    if row.group is None:
        raise FieldStatus(constants.RS_UNAVAIL)
    return row.group


def _live(key: str, kind: str) -> Callable[[NodeRow], Any]:
    def getter(row: NodeRow) -> Any:
        if row.node.offline:
            raise FieldStatus(constants.RS_OFFLINE)
        if not row.node.vm_capable:
            raise FieldStatus(constants.RS_UNAVAIL)
        if row.live is None:
            raise FieldStatus(constants.RS_NODATA)
        value = row.live[key]  # KeyError: unavailable
        if kind == constants.QFT_TEXT:
            return value
        try:
            return int(value)
        except (TypeError, ValueError):
            raise FieldStatus(constants.RS_UNAVAIL) from None
    return getter


#: Live fields: name, title, kind, key in the node_info data, doc (Ganeti's).
NODE_LIVE_FIELDS: tuple[tuple[str, str, str, str, str], ...] = (
    ("bootid", "BootID", constants.QFT_TEXT, "bootid",
     "Random UUID renewed for each system reboot, can be used for detecting reboots by"
     " tracking changes"),
    ("cnodes", "CNodes", constants.QFT_NUMBER, "cpu_nodes",
     "Number of NUMA domains on node (if exported by hypervisor)"),
    ("cnos", "CNOs", constants.QFT_NUMBER, "cpu_dom0",
     "Number of logical processors used by the node OS (dom0 for Xen)"),
    ("csockets", "CSockets", constants.QFT_NUMBER, "cpu_sockets",
     "Number of physical CPU sockets (if exported by hypervisor)"),
    ("ctotal", "CTotal", constants.QFT_NUMBER, "cpu_total", "Number of logical processors"),
    ("dfree", "DFree", constants.QFT_UNIT, "storage_free",
     "Available storage space in storage unit"),
    ("dtotal", "DTotal", constants.QFT_UNIT, "storage_size",
     "Total storage space in storage unit used for instance disk allocation"),
    ("spfree", "SpFree", constants.QFT_NUMBER, "spindles_free",
     "Available spindles in volume group (exclusive storage only)"),
    ("sptotal", "SpTotal", constants.QFT_NUMBER, "spindles_total",
     "Total spindles in volume group (exclusive storage only)"),
    ("mfree", "MFree", constants.QFT_UNIT, "memory_free",
     "Memory available for instance allocations"),
    ("mnode", "MNode", constants.QFT_UNIT, "memory_dom0",
     "Amount of memory used by node (dom0 for Xen)"),
    ("mtotal", "MTotal", constants.QFT_UNIT, "memory_total",
     "Total amount of memory of physical machine"),
)
NODE_LIVE_FIELD_NAMES = frozenset(spec[0] for spec in NODE_LIVE_FIELDS)


def _node_fields() -> list[QueryField]:
    text, boolean, number, other = (constants.QFT_TEXT, constants.QFT_BOOL,
                                    constants.QFT_NUMBER, constants.QFT_OTHER)
    fields = [
        QueryField("name", "Node", text, _node_attr("name"), "Node name"),
        QueryField("uuid", "UUID", text, _node_attr("uuid"), "Node UUID"),
        QueryField("drained", "Drained", boolean, _node_attr("drained"),
                   "Whether node is drained"),
        QueryField("master_candidate", "MasterC", boolean, _node_attr("master_candidate"),
                   "Whether node is a master candidate"),
        QueryField("master_capable", "MasterCapable", boolean, _node_attr("master_capable"),
                   "Whether node can become a master candidate"),
        QueryField("offline", "Offline", boolean, _node_attr("offline"),
                   "Whether node is marked offline"),
        QueryField("vm_capable", "VMCapable", boolean, _node_attr("vm_capable"),
                   "Whether node can host instances"),
        QueryField("serial_no", "SerialNo", number, _node_attr("serial_no"),
                   "Node object serial number, incremented on each modification"),
        QueryField("pip", "PrimaryIP", text, _node_attr("primary_ip"), "Primary IP address"),
        QueryField("sip", "SecondaryIP", text, _node_attr("secondary_ip"),
                   "Secondary IP address"),
        QueryField("tags", "Tags", other, lambda row: list(row.node.tags), "Tags"),
        QueryField("master", "IsMaster", boolean,
                   lambda row: row.node.uuid == row.master_uuid, "Whether node is master"),
        QueryField("group", "Group", text, lambda row: _node_group(row).name, "Node group"),
        QueryField("group.uuid", "GroupUUID", text, _node_attr("group"),
                   "UUID of node group"),
        QueryField("powered", "Powered", boolean, _node_attr("powered"),
                   "Whether node is thought to be powered on"),
        QueryField("ndparams", "NodeParameters", other,
                   lambda row: row.cluster.fill_ndparams(row.node, _node_group(row)),
                   "Merged node parameters"),
        QueryField("custom_ndparams", "CustomNodeParameters", other,
                   lambda row: dict(row.node.ndparams), "Custom node parameters"),
        QueryField("hv_state", "HypervisorState", other,
                   lambda row: _present(row.node.hv_state), "Hypervisor state"),
        QueryField("disk_state", "DiskState", other,
                   lambda row: _present(row.node.disk_state), "Disk state"),
        QueryField("role", "Role", text, lambda row: node_role(row.node, row.master_uuid),
                   'Node role; "M" for master, "C" for master candidate, "R" for regular,'
                   ' "D" for drained, "O" for offline'),
        QueryField("pinst_cnt", "Pinst", number, lambda row: len(row.pinst),
                   "Number of instances with this node as primary"),
        QueryField("pinst_list", "PriInstances", other, lambda row: list(row.pinst),
                   "List of instances with this node as primary"),
        QueryField("sinst_cnt", "Sinst", number, lambda row: len(row.sinst),
                   "Number of instances with this node as secondary"),
        QueryField("sinst_list", "SecInstances", other, lambda row: list(row.sinst),
                   "List of instances with this node as secondary"),
    ]
    fields += [QueryField(name, title, kind, _live(key, kind), doc)
               for name, title, kind, key, doc in NODE_LIVE_FIELDS]
    return fields + _timestamps("node")


def _present(value: Any) -> Any:
    if value is None:
        raise FieldStatus(constants.RS_UNAVAIL)
    return value


def _group_fields() -> list[QueryField]:
    text, number, other = constants.QFT_TEXT, constants.QFT_NUMBER, constants.QFT_OTHER

    def attr(name: str) -> Callable[[GroupRow], Any]:
        return lambda row: getattr(row.group, name)

    fields = [
        QueryField("name", "Group", text, attr("name"), "Group name"),
        QueryField("uuid", "UUID", text, attr("uuid"), "Group UUID"),
        QueryField("alloc_policy", "AllocPolicy", text, attr("alloc_policy"),
                   "Allocation policy for group"),
        QueryField("serial_no", "SerialNo", number, attr("serial_no"),
                   "Group object serial number, incremented on each modification"),
        QueryField("tags", "Tags", other, lambda row: list(row.group.tags), "Tags"),
        QueryField("node_cnt", "Nodes", number, lambda row: len(row.nodes),
                   "Number of nodes"),
        QueryField("node_list", "NodeList", other, lambda row: list(row.nodes),
                   "List of nodes"),
        QueryField("pinst_cnt", "Instances", number, lambda row: len(row.pinst),
                   "Number of primary instances"),
        QueryField("pinst_list", "InstanceList", other, lambda row: list(row.pinst),
                   "List of primary instances"),
        QueryField("ndparams", "NDParams", other,
                   lambda row: row.cluster.fill_ndparams(None, row.group),
                   "Node parameters"),
        QueryField("custom_ndparams", "CustomNDParams", other,
                   lambda row: dict(row.group.ndparams), "Custom node parameters"),
        QueryField("ipolicy", "InstancePolicy", other,
                   lambda row: row.cluster.fill_ipolicy(row.group), "Instance policy"),
        QueryField("custom_ipolicy", "CustomInstancePolicy", other,
                   lambda row: dict(row.group.ipolicy), "Custom instance policy"),
        QueryField("diskparams", "DiskParameters", other,
                   lambda row: {t: row.cluster.fill_diskparams(t, row.group)
                                for t in row.cluster.enabled_disk_templates},
                   "Disk parameters (merged)"),
        QueryField("custom_diskparams", "CustomDiskParameters", other,
                   lambda row: dict(row.group.diskparams), "Custom disk parameters"),
        QueryField("networks", "Networks", other, lambda row: sorted(row.group.networks),
                   "UUIDs of the connected networks"),
    ]
    return fields + _timestamps("group")


query.register_resource(constants.QR_NODE, _node_fields())
query.register_resource(constants.QR_GROUP, _group_fields())

#: What ``gnt-node list`` and ``gnt-group list`` show without ``-o``.
DEFAULT_NODE_FIELDS = ("name", "dtotal", "dfree", "mtotal", "mnode", "mfree", "pinst_cnt",
                       "sinst_cnt")
DEFAULT_GROUP_FIELDS = ("name", "node_cnt", "pinst_cnt", "alloc_policy", "ndparams")


# -- items -------------------------------------------------------------------------------

def node_rows(cfg: ConfigWriter) -> list[NodeRow]:
    """A row per node, sorted by name, from one consistent view of the config."""
    with cfg.locked() as data:
        cluster = data.cluster
        master_uuid = cluster.master_node
        rows = {uuid: NodeRow(node.copy(), data.nodegroups.get(node.group), cluster,
                              master_uuid)
                for uuid, node in data.nodes.items()}
        for inst_uuid, inst in data.instances.items():
            nodes = cfg.get_instance_nodes(inst_uuid)
            if nodes and nodes[0] in rows:
                rows[nodes[0]].pinst.append(inst.name)
            for secondary in nodes[1:]:
                if secondary in rows:
                    rows[secondary].sinst.append(inst.name)
    result = sorted(rows.values(), key=lambda row: row.node.name)
    for row in result:
        row.pinst.sort()
        row.sinst.sort()
    return result


def group_items(cfg: ConfigWriter) -> list[GroupRow]:
    with cfg.locked() as data:
        cluster = data.cluster
        rows = {uuid: GroupRow(group.copy(), cluster) for uuid, group in data.nodegroups.items()}
        node_group = {}
        for node in data.nodes.values():
            node_group[node.uuid] = node.group
            if node.group in rows:
                rows[node.group].nodes.append(node.name)
        for inst in data.instances.values():
            group = node_group.get(inst.primary_node)
            if group in rows:
                rows[group].pinst.append(inst.name)
    result = sorted(rows.values(), key=lambda row: row.group.name)
    for row in result:
        row.nodes.sort()
        row.pinst.sort()
    return result


def storage_units(cluster: objects.Cluster) -> list[list[Any]]:
    """The storage unit ``dtotal``/``dfree`` report: the first enabled template's."""
    for template in cluster.enabled_disk_templates:
        if template in (constants.DT_PLAIN, constants.DT_DRBD8) \
                and cluster.volume_group_name:
            return [[constants.ST_LVM_VG, cluster.volume_group_name, []]]
        if template == constants.DT_FILE and cluster.file_storage_dir:
            return [[constants.ST_FILE, cluster.file_storage_dir, []]]
        if template == constants.DT_SHARED_FILE and cluster.shared_file_storage_dir:
            return [[constants.ST_SHARED_FILE, cluster.shared_file_storage_dir, []]]
    return []


def _merge_live(payload: dict[str, Any]) -> dict[str, Any]:
    """node_info's answer as one flat dict: node figures, hypervisor's, storage's."""
    live = {key: value for key, value in payload.items()
            if key not in ("storage", "hypervisor")}
    for hv_info in payload.get("hypervisor") or []:
        live.update({k: v for k, v in hv_info.items() if k != "name"})
    for unit in payload.get("storage") or []:
        live.update({k: v for k, v in unit.items() if k in ("storage_size", "storage_free")})
        break
    # Ganeti's bootid is the node's, not the hypervisor's.
    if "bootid" in payload:
        live["bootid"] = payload["bootid"]
    return live


def collect_live_data(rpc: RpcClient, addresses: Sequence[NodeAddress],
                      cluster: objects.Cluster) -> dict[str, dict[str, Any]]:
    """node name -> live data of the nodes that answered ``node_info``.

    A node whose storage cannot be reported is asked again without storage,
    so its memory and CPU figures still show.
    """
    if not addresses:
        return {}
    hv_specs: list[list[Any]] = []
    if cluster.enabled_hypervisors:
        hv = cluster.enabled_hypervisors[0]
        hv_specs = [[hv, cluster.fill_hvparams_for(hv)]]
    from ganeti.rpc.client import KIND_REMOTE_ERROR

    units = storage_units(cluster)
    results = rpc.call("node_info", list(addresses), [units, hv_specs])
    live = {name: _merge_live(res.payload) for name, res in results.items() if res.success}
    retry = [a for a in addresses if a.name not in live and units
             and results[a.name].kind == KIND_REMOTE_ERROR]
    if retry:
        again = rpc.call("node_info", retry, [[], hv_specs])
        live.update({name: _merge_live(res.payload) for name, res in again.items()
                     if res.success})
    return live


def node_items(cfg: ConfigWriter, rpc: RpcClient | None, noded_port: int,
               needed: Iterable[str]) -> list[NodeRow]:
    """Rows for a node query; live data only when a live field is ``needed``."""
    from ganeti.rpc.client import NodeAddress

    rows = node_rows(cfg)
    if rpc is None or not NODE_LIVE_FIELD_NAMES.intersection(needed):
        return rows
    targets = [NodeAddress(row.node.name, row.node.primary_ip, noded_port, False)
               for row in rows if not row.node.offline and row.node.vm_capable]
    live = collect_live_data(rpc, targets, cfg.get_cluster_info())
    for row in rows:
        row.live = live.get(row.node.name)
    return rows
