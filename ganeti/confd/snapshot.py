"""The configuration as confd holds it: loaded once, indexed for fast answers.

A ``Snapshot`` is immutable once built: a reload builds a new one and the
server swaps it in, so a query never sees half of two configurations.
Beside the objects it keeps the plain JSON tree (for the generic path
query) and the lookups the fixed queries need (names, the link → IP →
instance map, each node's instances and DRBD minors).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ganeti import confd, config, config_verify, constants, errors, paramdefs
from ganeti.objects import Cluster, ConfigData, Disk, Instance, Node

#: One NODE_DRBD entry: node, minor, instance, disk ("disk/N"), role, peer.
DrbdMinor = tuple[str, int, str, str, str, str]


@dataclass
class Snapshot:
    """One loaded config.data with its lookup indexes."""

    data: ConfigData
    plain: dict[str, Any]
    serial: int
    nodes_by_name: dict[str, Node] = field(default_factory=dict)
    instances_by_name: dict[str, Instance] = field(default_factory=dict)
    #: link → instance IP → instance UUID
    link_ips: dict[str, dict[str, str]] = field(default_factory=dict)
    #: node UUID → (primary instance UUIDs, secondary instance UUIDs)
    node_instances: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    drbd_minors: dict[str, list[DrbdMinor]] = field(default_factory=dict)
    #: Lookups built on first use by the queries that need them.
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def cluster(self) -> Cluster:
        cluster = self.data.cluster
        assert isinstance(cluster, Cluster)
        return cluster

    @property
    def default_link(self) -> str:
        defaults = self.cluster.nicparams.get(constants.VALUE_DEFAULT) or {}
        link = defaults.get(paramdefs.NIC_LINK)
        if isinstance(link, str) and link:
            return link
        return str(paramdefs.NICPARAMS.defaults().get(paramdefs.NIC_LINK) or "")

    def find_node(self, name_or_uuid: str) -> Node | None:
        return _find(self.data.nodes, self.nodes_by_name, name_or_uuid)

    def find_instance(self, name_or_uuid: str) -> Instance | None:
        return _find(self.data.instances, self.instances_by_name, name_or_uuid)

    def node_name(self, node_uuid: str) -> str:
        node = self.data.nodes.get(node_uuid)
        return node.name if node is not None else node_uuid

    @property
    def master_node(self) -> Node | None:
        return self.data.nodes.get(self.cluster.master_node)

    def instance_disks(self, instance: Instance) -> list[Disk]:
        disks = self.data.disks
        return [disks[uuid] for uuid in instance.disks if uuid in disks]


def _find(by_uuid: dict[str, Any], by_name: dict[str, Any], key: str) -> Any:
    """By UUID, exact name, or a unique short name (first label), as Ganeti does."""
    found = by_uuid.get(key) or by_name.get(key)
    if found is not None:
        return found
    prefix = key + "."
    matches = [obj for name, obj in by_name.items() if name.startswith(prefix)]
    return matches[0] if len(matches) == 1 else None


def load(raw: bytes) -> Snapshot:
    """Build a snapshot from config.data bytes.

    Raises ConfigurationError if the file can't be used (not JSON, a version
    we don't read, no cluster object); the caller keeps its old snapshot.
    """
    with config_verify.paused_gc():
        plain = config.parse_config(raw)
        problem = config_verify.verify_version(plain.get("version"))
        if problem:
            raise errors.ConfigVersionMismatch(problem)
        if plain["version"] != constants.CONFIG_VERSION:
            plain = config.upgrade_legacy(plain)
        data = ConfigData.from_dict(plain)
        if not isinstance(data._data.get("cluster"), Cluster):
            raise errors.ConfigurationError("Configuration has no cluster object")
        for name in ("nodes", "instances", "nodegroups", "networks", "disks"):
            if not isinstance(data._data.get(name, {}), dict):
                raise errors.ConfigurationError("Configuration field %r must be a "
                                                "dictionary" % name)
        serial = data.serial_no if isinstance(data.serial_no, int) else 0
        snap = Snapshot(data, plain, serial)
        _index(snap)
    return snap


def _index(snap: Snapshot) -> None:
    data = snap.data
    snap.nodes_by_name = {n.name: n for n in data.nodes.values() if isinstance(n, Node)}
    snap.instances_by_name = {i.name: i for i in data.instances.values()
                              if isinstance(i, Instance)}
    default_link = snap.default_link
    node_instances = snap.node_instances = {uuid: ([], []) for uuid in data.nodes}
    for inst_uuid, inst in data.instances.items():
        if not isinstance(inst, Instance):
            continue
        for nic in inst.nics:
            if nic.ip:
                link = nic.nicparams.get(paramdefs.NIC_LINK) or default_link
                snap.link_ips.setdefault(link, {})[nic.ip] = inst_uuid
        node_instances.setdefault(inst.primary_node, ([], []))[0].append(inst_uuid)
        disks = snap.instance_disks(inst)
        secondaries: list[str] = []
        for disk in disks:
            for node in disk.all_nodes():
                if node != inst.primary_node and node not in secondaries:
                    secondaries.append(node)
        for node in secondaries:
            node_instances.setdefault(node, ([], []))[1].append(inst_uuid)
        for index, disk in enumerate(disks):
            for node_uuid, minor, peer in _drbd_minors(disk):
                role = (confd.DRBD_ROLE_PRIMARY if node_uuid == inst.primary_node
                        else confd.DRBD_ROLE_SECONDARY)
                snap.drbd_minors.setdefault(node_uuid, []).append(
                    (snap.node_name(node_uuid), minor, inst.name, "disk/%d" % index, role,
                     snap.node_name(peer)))


def _drbd_minors(disk: Disk) -> Iterator[tuple[str, int, str]]:
    """(node UUID, minor, peer UUID) of each DRBD device in the disk tree."""
    for dev in disk.walk():
        logical_id = dev.logical_id
        if dev.dev_type != constants.DT_DRBD8 or len(logical_id) < 5:
            continue
        node_a, node_b, _port, minor_a, minor_b = logical_id[:5]
        yield node_a, minor_a, node_b
        yield node_b, minor_b, node_a
