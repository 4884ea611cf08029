"""The configuration writer: the one place that reads and changes config.data.

``ConfigWriter`` loads ``config.data`` (refusing an inconsistent or
unreadable one, with every problem listed), answers queries, applies
changes and saves atomically, bumping serial numbers and modification
times. One lock makes it safe for the master's many job workers. Values
handed out while a job prepares a change (MACs, IPs, UUIDs, volume names)
are reserved under the job's execution context id (``ec_id``) until
``release_reservations(ec_id)``.

Objects returned by the getters are the live ones: change them and pass
them to ``update``, which checks, counts and saves the change.
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
import time
import uuid as uuidlib
from collections.abc import Callable, Iterator
from typing import Any

from ganeti import config_verify, constants, errors, objects, pathutils, serializer
from ganeti.config_commit import ConfigLock, GroupWriter, SaveToken
from ganeti.network import AddressPool
from ganeti.objects import (
    NIC,
    ConfigData,
    ConfigObject,
    Disk,
    Instance,
    Network,
    Node,
    NodeGroup,
)
from ganeti.utils import io

#: Reservation kinds (``reserve``/``release_reservations``).
RES_MAC = "mac"
RES_UUID = "uuid"
RES_NAME = "name"
RES_LV = "lv"


def _ip_kind(network_uuid: str) -> str:
    return "ip:%s" % network_uuid


def parse_config(raw: bytes) -> dict[str, Any]:
    """Parse config.data bytes into plain data (no objects yet)."""
    with config_verify.paused_gc():
        try:
            data = serializer.load(raw)
        except ValueError as err:
            raise errors.ConfigurationError("Configuration is not valid JSON: %s"
                                            % err) from err
    if not isinstance(data, dict):
        raise errors.ConfigurationError("Configuration must be a JSON object")
    return data


def dump_config(data: ConfigData) -> bytes:
    """Serialize a configuration (sorted keys, compact)."""
    with config_verify.paused_gc():
        return serializer.dump_bytes(data.to_dict())


def upgrade_legacy(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a Ganeti < 2.13 layout (disks inside instances) to the current one.

    Disks move to the top-level ``disks`` dictionary keyed by UUID, instances
    keep the list of UUIDs, and each disk gets its ``nodes``. The result is
    loaded as the current version (saving writes the new format).
    """
    instances = data.get("instances")
    if not isinstance(instances, dict):
        return data
    if "disks" in data and not any(
            isinstance(i, dict) and any(isinstance(d, dict) for d in i.get("disks") or ())
            for i in instances.values()):
        return data
    disks: dict[str, Any] = dict(data.get("disks") or {})
    for inst_uuid, inst in instances.items():
        if not isinstance(inst, dict):
            continue
        uuids: list[Any] = []
        for index, disk in enumerate(inst.get("disks") or ()):
            if not isinstance(disk, dict):
                uuids.append(disk)
                continue
            disk = dict(disk)
            disk_uuid = disk.get("uuid") or str(uuidlib.uuid4())
            disk["uuid"] = disk_uuid
            disk.setdefault("nodes", _legacy_disk_nodes(disk, inst.get("primary_node")))
            disk.setdefault("iv_name", "disk/%d" % index)
            disk.setdefault("serial_no", 1)
            for stamp in ("ctime", "mtime"):
                if stamp in inst:
                    disk.setdefault(stamp, inst[stamp])
            disks[disk_uuid] = disk
            uuids.append(disk_uuid)
        inst["disks"] = uuids
        if "disk_template" in inst:
            del inst["disk_template"]
        inst.setdefault("uuid", inst_uuid)
    data["disks"] = disks
    data.setdefault("filters", {})
    return data


def _legacy_disk_nodes(disk: dict[str, Any], primary: Any) -> list[Any]:
    logical_id = disk.get("logical_id")
    if disk.get("dev_type") == constants.DT_DRBD8 and isinstance(logical_id, list) \
            and len(logical_id) >= 2:
        return [logical_id[0], logical_id[1]]
    return [primary] if primary else []


def load_config_data(raw: bytes) -> ConfigData:
    """Parse, upgrade and wrap config.data bytes; verify separately.

    Raises ConfigVersionMismatch for a version outside what we load.
    """
    with config_verify.paused_gc():
        data = parse_config(raw)
        problem = config_verify.verify_version(data.get("version"))
        if problem:
            raise errors.ConfigVersionMismatch(problem)
        if data["version"] != constants.CONFIG_VERSION:
            data = upgrade_legacy(data)
            data["version"] = constants.CONFIG_VERSION
        return ConfigData.from_dict(data)


def _remove_stale_temp_files(path: str) -> None:
    """Remove temp files a killed writer left beside ``path``."""
    directory = os.path.dirname(os.path.abspath(path))
    prefix = ".%s.tmp" % os.path.basename(path)
    with contextlib.suppress(FileNotFoundError):
        for entry in os.listdir(directory):
            if entry.startswith(prefix):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(directory, entry))


class ConfigWriter:
    """Loads, checks, queries, changes and saves the cluster configuration."""

    def __init__(self, path: str | None = None) -> None:
        """Load ``path`` (default: this node's config.data) and verify it.

        Raises ConfigVersionMismatch or ConfigVerifyError (listing every
        problem) if the file cannot be used.
        """
        self._path = path or pathutils.current().config_file
        self._lock = ConfigLock()
        self._reservations: dict[str, dict[Any, str]] = {}
        self._mac_index: set[str] | None = None
        self._save_hooks: list[Callable[[ConfigWriter], None]] = []
        _remove_stale_temp_files(self._path)
        try:
            raw = self._read()
        except FileNotFoundError as err:
            raise errors.ConfigurationError("Configuration file %s does not exist"
                                            % self._path) from err
        # One pause for the whole load: the collector would otherwise walk the
        # hundreds of thousands of new containers between the steps.
        with config_verify.paused_gc():
            self._data = load_config_data(raw)
            self._last_saved = raw
            problems = config_verify.verify(self._data)
        self._writer = GroupWriter(self._path, raw, self._data.serial_no, self._reload)
        self._save_tokens = threading.local()
        if problems:
            raise errors.ConfigVerifyError("Configuration %s is inconsistent" % self._path,
                                           problems)

    def _read(self) -> bytes:
        with open(self._path, "rb") as handle:
            return handle.read()

    @classmethod
    def create(cls, path: str, config_data: ConfigData) -> ConfigWriter:
        """Write a first configuration (cluster init) and open it.

        The data must verify; an existing file is not overwritten.
        """
        if os.path.exists(path):
            raise errors.ConfigurationError("Configuration file %s already exists" % path)
        problems = config_verify.verify(config_data)
        if problems:
            raise errors.ConfigVerifyError("New configuration is inconsistent", problems)
        now = time.time()
        for _where, obj in config_data.all_objects():
            if "ctime" in obj.FIELDS and not obj._data.get("ctime"):
                obj._data["ctime"] = now
            if "mtime" in obj.FIELDS and not obj._data.get("mtime"):
                obj._data["mtime"] = now
        config_data._data.setdefault("ctime", now)
        config_data.mtime = now
        io.write_file_atomic(path, dump_config(config_data), mode=0o600)
        return cls(path)

    @property
    def path(self) -> str:
        return self._path

    # -- locking, verification, saving ----------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[ConfigData]:
        """Hold the configuration lock; yields the live data (read only!)."""
        with self._lock:
            yield self._data

    def verify_config(self) -> list[str]:
        """Every consistency problem of the in-memory configuration."""
        with self._lock:
            return (config_verify.verify(self._data)
                    + config_verify.verify_network_pools(self._data))

    def add_save_hook(self, hook: Callable[[ConfigWriter], None]) -> None:
        """Call ``hook(writer)`` after saves (distribution, ssconf).

        Hooks run in the saving thread once it released the configuration
        lock, before the mutator returns; several saves under one hold of
        the lock run them once.
        """
        self._save_hooks.append(hook)

    def _after_save(self) -> None:
        """After the lock is let go: wait until the save is on disk, run the hooks."""
        token: SaveToken = self._save_tokens.token
        self._writer.wait(token)
        for hook in self._save_hooks:
            hook(self)

    def _reload(self, raw: bytes, reset: Callable[[], None]) -> None:
        with self._lock:
            self._data = load_config_data(raw)
            self._last_saved = raw
            self._mac_index = None
            reset()

    def durable_serial(self) -> int:
        """The serial number config.data on disk holds (saves may be in flight)."""
        return self._writer.durable_serial()

    def last_saved_bytes(self) -> bytes:
        """The exact bytes of config.data as last loaded or saved."""
        with self._lock:
            return self._last_saved

    def _save(self, changed: tuple[ConfigObject, ...] = (), new: tuple[ConfigObject, ...] = (),
              full: bool = False) -> None:
        """Verify and stage for writing; on failure, restore the last saved state.

        The write itself is a group commit (``ganeti.config_commit``): once the
        thread lets the configuration lock go, it waits until config.data on
        disk holds the change (ConfigWriteError if the write failed), then the
        save hooks run; only then does the mutator return.

        ``changed`` objects get their serial number and mtime bumped; field
        types are checked for ``changed`` and ``new`` objects (all when
        ``full``), consistency for everything.
        """
        now = time.time()
        for obj in changed:
            obj.bump_serial(now)
        self._data.bump_serial(now)
        self._mac_index = None
        problems = config_verify.verify(self._data, None if full else changed + new)
        if problems:
            self._data = load_config_data(self._last_saved)
            raise errors.ConfigVerifyError("Refusing to save an inconsistent configuration",
                                           problems)
        raw = dump_config(self._data)
        self._last_saved = raw
        self._save_tokens.token = self._writer.stage(self._data.serial_no, raw)
        self._lock.after_release(self._after_save)

    def save(self) -> None:
        """Save the configuration as it is (serial number bumped, fully verified)."""
        with self._lock:
            self._save(full=True)

    # -- getters ---------------------------------------------------------------------

    def get_config_data(self) -> ConfigData:
        return self._data

    def get_cluster_info(self) -> objects.Cluster:
        cluster: objects.Cluster = self._data.cluster
        return cluster

    def get_cluster_name(self) -> str:
        return self.get_cluster_info().cluster_name

    def get_config_serial(self) -> int:
        return self._data.serial_no

    def get_master_node(self) -> str:
        """UUID of the master node."""
        return self.get_cluster_info().master_node

    def get_master_node_info(self) -> Node:
        return self.get_node_info(self.get_master_node())

    def get_node_info(self, node_uuid: str) -> Node:
        node = self._data.nodes.get(node_uuid)
        if node is None:
            raise errors.OpPrereqError("Node %r is not known" % node_uuid, errors.ECODE_NOENT)
        return node

    def get_node_info_by_name(self, name: str) -> Node:
        with self._lock:
            for node in self._data.nodes.values():
                if node.name == name:
                    return node
            raise errors.OpPrereqError("Node %r is not known" % name, errors.ECODE_NOENT)

    def find_node(self, name_or_uuid: str) -> Node | None:
        """The node with this UUID or name (also the short name), or None."""
        with self._lock:
            nodes = self._data.nodes
            if name_or_uuid in nodes:
                return nodes[name_or_uuid]
            return _find_by_name(nodes.values(), name_or_uuid)

    def get_all_nodes_info(self) -> dict[str, Node]:
        with self._lock:
            return dict(self._data.nodes)

    def get_node_list(self) -> list[str]:
        with self._lock:
            return list(self._data.nodes)

    def get_online_node_list(self) -> list[str]:
        with self._lock:
            return [u for u, n in self._data.nodes.items() if not n.offline]

    def get_master_candidates(self) -> list[Node]:
        with self._lock:
            return [n for n in self._data.nodes.values() if n.master_candidate]

    def get_nodegroup(self, group_uuid: str) -> NodeGroup:
        group = self._data.nodegroups.get(group_uuid)
        if group is None:
            raise errors.OpPrereqError("Node group %r is not known" % group_uuid,
                                       errors.ECODE_NOENT)
        return group

    def get_nodegroups(self) -> dict[str, NodeGroup]:
        with self._lock:
            return dict(self._data.nodegroups)

    def find_nodegroup(self, name_or_uuid: str) -> NodeGroup | None:
        with self._lock:
            groups = self._data.nodegroups
            if name_or_uuid in groups:
                return groups[name_or_uuid]
            return next((g for g in groups.values() if g.name == name_or_uuid), None)

    def get_nodegroup_members(self, group_uuid: str) -> list[str]:
        with self._lock:
            return [u for u, n in self._data.nodes.items() if n.group == group_uuid]

    def get_instance_info(self, instance_uuid: str) -> Instance:
        inst = self._data.instances.get(instance_uuid)
        if inst is None:
            raise errors.OpPrereqError("Instance %r is not known" % instance_uuid,
                                       errors.ECODE_NOENT)
        return inst

    def get_instance_info_by_name(self, name: str) -> Instance:
        with self._lock:
            for inst in self._data.instances.values():
                if inst.name == name:
                    return inst
            raise errors.OpPrereqError("Instance %r is not known" % name, errors.ECODE_NOENT)

    def find_instance(self, name_or_uuid: str) -> Instance | None:
        with self._lock:
            instances = self._data.instances
            if name_or_uuid in instances:
                return instances[name_or_uuid]
            return _find_by_name(instances.values(), name_or_uuid)

    def get_all_instances_info(self) -> dict[str, Instance]:
        with self._lock:
            return dict(self._data.instances)

    def get_instance_disks(self, instance_uuid: str) -> list[Disk]:
        """The instance's disks, in order."""
        with self._lock:
            disks = self._data.disks
            return [disks[d] for d in self.get_instance_info(instance_uuid).disks]

    def get_disk_info(self, disk_uuid: str) -> Disk:
        disk = self._data.disks.get(disk_uuid)
        if disk is None:
            raise errors.OpPrereqError("Disk %r is not known" % disk_uuid, errors.ECODE_NOENT)
        return disk

    def get_instance_nodes(self, instance_uuid: str) -> list[str]:
        """Primary node first, then the other nodes holding its disks."""
        with self._lock:
            inst = self.get_instance_info(instance_uuid)
            result = [inst.primary_node]
            for disk in self.get_instance_disks(instance_uuid):
                for node in disk.all_nodes():
                    if node not in result:
                        result.append(node)
            return result

    def get_instance_secondary_nodes(self, instance_uuid: str) -> list[str]:
        return self.get_instance_nodes(instance_uuid)[1:]

    def get_instance_disk_template(self, instance_uuid: str) -> str:
        """The disk template, from the disks (diskless without disks)."""
        disks = self.get_instance_disks(instance_uuid)
        return disks[0].dev_type if disks else constants.DT_DISKLESS

    def get_node_instances(self, node_uuid: str) -> tuple[list[str], list[str]]:
        """UUIDs of instances with this node as primary, and as secondary."""
        with self._lock:
            primary: list[str] = []
            secondary: list[str] = []
            disks = self._data.disks
            for inst_uuid, inst in self._data.instances.items():
                if inst.primary_node == node_uuid:
                    primary.append(inst_uuid)
                    continue
                for disk_uuid in inst.disks:
                    disk = disks.get(disk_uuid)
                    if disk is not None and node_uuid in disk.all_nodes():
                        secondary.append(inst_uuid)
                        break
            return primary, secondary

    def get_network(self, network_uuid: str) -> Network:
        net = self._data.networks.get(network_uuid)
        if net is None:
            raise errors.OpPrereqError("Network %r is not known" % network_uuid,
                                       errors.ECODE_NOENT)
        return net

    def get_networks(self) -> dict[str, Network]:
        with self._lock:
            return dict(self._data.networks)

    def find_network(self, name_or_uuid: str) -> Network | None:
        with self._lock:
            networks = self._data.networks
            if name_or_uuid in networks:
                return networks[name_or_uuid]
            return next((n for n in networks.values() if n.name == name_or_uuid), None)

    # -- mutators --------------------------------------------------------------------

    def add_node(self, node: Node, ec_id: str | None = None) -> None:
        """Add a node (its group must exist; name and UUID must be new)."""
        with self._lock:
            self._stamp_new(node)
            self._check_new("Node", node, self._data.nodes)
            if node.group not in self._data.nodegroups:
                raise errors.ConfigurationError("Node %r: field 'group' refers to unknown "
                                                "node group %r" % (node.name, node.group))
            self._data.nodes[_uuid_of(node)] = node
            self._commit(ec_id, (self._data.cluster,), new=(node,),
                         undo=lambda: self._data.nodes.pop(_uuid_of(node)))

    def remove_node(self, node_uuid: str) -> None:
        """Remove a node that no instance uses and that is not the master."""
        with self._lock:
            node = self.get_node_info(node_uuid)
            if node_uuid == self.get_master_node():
                raise errors.OpPrereqError("Node %r is the master node" % node.name,
                                           errors.ECODE_INVAL)
            primary, secondary = self.get_node_instances(node_uuid)
            if primary or secondary:
                raise errors.OpPrereqError("Node %r still has instances" % node.name,
                                           errors.ECODE_STATE)
            del self._data.nodes[node_uuid]
            self._commit(None, (self._data.cluster,),
                         undo=lambda: self._data.nodes.__setitem__(node_uuid, node))

    def add_nodegroup(self, group: NodeGroup, ec_id: str | None = None) -> None:
        with self._lock:
            self._stamp_new(group)
            self._check_new("NodeGroup", group, self._data.nodegroups)
            self._data.nodegroups[_uuid_of(group)] = group
            self._commit(ec_id, (self._data.cluster,), new=(group,),
                         undo=lambda: self._data.nodegroups.pop(_uuid_of(group)))

    def remove_nodegroup(self, group_uuid: str) -> None:
        with self._lock:
            group = self.get_nodegroup(group_uuid)
            if self.get_nodegroup_members(group_uuid):
                raise errors.OpPrereqError("Node group %r is not empty" % group.name,
                                           errors.ECODE_STATE)
            if len(self._data.nodegroups) == 1:
                raise errors.OpPrereqError("Node group %r is the last one" % group.name,
                                           errors.ECODE_STATE)
            del self._data.nodegroups[group_uuid]
            self._commit(None, (self._data.cluster,),
                         undo=lambda: self._data.nodegroups.__setitem__(group_uuid, group))

    def add_network(self, network: Network, ec_id: str | None = None) -> None:
        with self._lock:
            self._stamp_new(network)
            self._check_new("Network", network, self._data.networks)
            self._data.networks[_uuid_of(network)] = network
            self._commit(ec_id, (self._data.cluster,), new=(network,),
                         undo=lambda: self._data.networks.pop(_uuid_of(network)))

    def remove_network(self, network_uuid: str) -> None:
        """Remove a network no node group is connected to."""
        with self._lock:
            network = self.get_network(network_uuid)
            groups = sorted(g.name for g in self._data.nodegroups.values()
                            if network_uuid in g.networks)
            if groups:
                raise errors.OpPrereqError("Network %r is still connected to node group(s) %s"
                                           % (network.name, ", ".join(groups)),
                                           errors.ECODE_STATE)
            del self._data.networks[network_uuid]
            self._commit(None, (self._data.cluster,),
                         undo=lambda: self._data.networks.__setitem__(network_uuid, network))

    def add_instance(self, instance: Instance, disks: list[Disk],
                     ec_id: str | None = None) -> None:
        """Add an instance and its disks (``instance.disks`` is set from them).

        NIC addresses in networks are marked used in the network's pool.
        """
        with self._lock:
            self._stamp_new(instance)
            self._check_new("Instance", instance, self._data.instances)
            for disk in disks:
                self._stamp_new(disk)
                if _uuid_of(disk) in self._data.disks:
                    raise errors.ConfigurationError("Disk UUID %r is already in use"
                                                    % disk.uuid)
            instance.disks = [_uuid_of(d) for d in disks]
            inst_uuid = _uuid_of(instance)
            self._data.instances[inst_uuid] = instance
            for disk in disks:
                self._data.disks[_uuid_of(disk)] = disk
            marked = self._mark_nic_ips(instance, True)

            def undo() -> None:
                self._data.instances.pop(inst_uuid, None)
                for disk in disks:
                    self._data.disks.pop(_uuid_of(disk), None)
                self._mark_nic_ips(instance, False, only=marked)
            self._commit(ec_id, (self._data.cluster,), undo=undo, new=(instance, *disks))

    def remove_instance(self, instance_uuid: str) -> None:
        """Remove an instance, its disks, its IPs and its console port."""
        with self._lock:
            inst = self.get_instance_info(instance_uuid)
            disks = {d: self._data.disks[d] for d in inst.disks if d in self._data.disks}
            del self._data.instances[instance_uuid]
            for disk_uuid in disks:
                del self._data.disks[disk_uuid]
            marked = self._mark_nic_ips(inst, False)
            cluster = self._data.cluster
            port = inst.network_port
            if port is not None and port not in cluster.tcpudp_port_pool:
                cluster.tcpudp_port_pool.append(port)

            def undo() -> None:
                self._data.instances[instance_uuid] = inst
                self._data.disks.update(disks)
                self._mark_nic_ips(inst, True, only=marked)
                if port is not None and port in cluster.tcpudp_port_pool:
                    cluster.tcpudp_port_pool.remove(port)
            self._commit(None, (cluster,), undo=undo)

    def add_instance_disk(self, instance_uuid: str, disk: Disk, index: int | None = None,
                          ec_id: str | None = None) -> None:
        """Attach a new disk to an instance (at ``index``, default last)."""
        with self._lock:
            inst = self.get_instance_info(instance_uuid)
            self._stamp_new(disk)
            disk_uuid = _uuid_of(disk)
            if disk_uuid in self._data.disks:
                raise errors.ConfigurationError("Disk UUID %r is already in use" % disk_uuid)
            old = list(inst.disks)
            self._data.disks[disk_uuid] = disk
            inst.disks.insert(len(old) if index is None else index, disk_uuid)

            def undo() -> None:
                self._data.disks.pop(disk_uuid, None)
                inst.disks = old
            self._commit(ec_id, (inst,), undo=undo, new=(disk,))

    def remove_instance_disk(self, instance_uuid: str, disk_uuid: str) -> None:
        with self._lock:
            inst = self.get_instance_info(instance_uuid)
            if disk_uuid not in inst.disks:
                raise errors.OpPrereqError("Disk %r does not belong to instance %r"
                                           % (disk_uuid, inst.name), errors.ECODE_INVAL)
            disk = self._data.disks.pop(disk_uuid)
            old = list(inst.disks)
            inst.disks.remove(disk_uuid)

            def undo() -> None:
                self._data.disks[disk_uuid] = disk
                inst.disks = old
            self._commit(None, (inst,), undo=undo)

    def update(self, obj: ConfigObject, ec_id: str | None = None,
               old_nics: list[NIC] | None = None) -> None:
        """Save a changed object of this configuration (serial and mtime bumped).

        ``obj`` is the live object (or a copy with the same UUID, which then
        replaces it). Raises ConfigurationError if it is not in the config.
        For an instance whose NICs changed, ``old_nics`` (the NICs before the
        change) lets the networks' pools follow: addresses no NIC holds any
        more are released, new ones marked used, in the same save.
        """
        if old_nics is not None and isinstance(obj, Instance):
            self._update_instance_nics(obj, old_nics, ec_id)
            return
        with self._lock:
            container = self._container_for(obj)
            if container is None:
                if obj is not self._data.cluster and not isinstance(obj, objects.Cluster):
                    raise errors.ConfigurationError("%s is not in the configuration"
                                                    % obj.describe())
                old = self._data.cluster
                self._data.cluster = obj
                self._commit(ec_id, (obj,),
                             undo=lambda: setattr(self._data, "cluster", old))
                return
            key = _uuid_of(obj)
            current = container.get(key)
            if current is None or type(current) is not type(obj):
                raise errors.ConfigurationError("%s is not in the configuration"
                                                % obj.describe())
            container[key] = obj
            self._commit(ec_id, (obj,), undo=lambda: container.__setitem__(key, current))

    def _update_instance_nics(self, instance: Instance, old_nics: list[NIC],
                              ec_id: str | None) -> None:
        with self._lock:
            key = _uuid_of(instance)
            current = self._data.instances.get(key)
            if current is None:
                raise errors.ConfigurationError("%s is not in the configuration"
                                                % instance.describe())
            old_view = Instance(nics=old_nics)
            kept = {(n.network, n.ip) for n in instance.nics if n.network and n.ip}
            released = self._mark_nic_ips(old_view, False,
                                          only=[(n.network, n.ip) for n in old_nics
                                                if n.network and n.ip
                                                and (n.network, n.ip) not in kept])
            self._data.instances[key] = instance
            marked = self._mark_nic_ips(instance, True)

            def undo() -> None:
                self._data.instances[key] = current
                self._mark_nic_ips(instance, False, only=marked)
                self._mark_nic_ips(old_view, True, only=released)
            networks = tuple(self._data.networks[uuid] for uuid in
                             dict.fromkeys(uuid for uuid, _ in released + marked))
            self._commit(ec_id, (instance, *networks), undo=undo)

    def _container_for(self, obj: ConfigObject) -> dict[str, Any] | None:
        containers: dict[type, dict[str, Any]] = {
            Node: self._data.nodes, NodeGroup: self._data.nodegroups,
            Instance: self._data.instances, Network: self._data.networks,
            Disk: self._data.disks, objects.Filter: self._data.filters,
        }
        return containers.get(type(obj))

    def _commit(self, ec_id: str | None, changed: tuple[ConfigObject, ...],
                undo: Callable[[], None], new: tuple[ConfigObject, ...] = ()) -> None:
        """Save after a change; if that fails, undo the change and re-raise."""
        try:
            self._save(changed, new)
        except errors.ConfigVerifyError:
            # _save restored the last saved state already; nothing to undo.
            raise
        except BaseException:
            undo()
            raise

    def _stamp_new(self, obj: ConfigObject) -> None:
        data = obj._data
        if not data.get("uuid"):
            data["uuid"] = self._new_uuid()
        now = time.time()
        if "ctime" in obj.FIELDS and not data.get("ctime"):
            data["ctime"] = now
        if "mtime" in obj.FIELDS and not data.get("mtime"):
            data["mtime"] = now
        if "serial_no" in obj.FIELDS:
            # _save bumps it for changed objects; a new object starts at 1.
            data["serial_no"] = data.get("serial_no") or 1

    def _check_new(self, kind: str, obj: ConfigObject, container: dict[str, Any]) -> None:
        uuid = _uuid_of(obj)
        if uuid in container or uuid in self._all_uuids():
            raise errors.ConfigurationError("%s %r: UUID %r is already in use"
                                            % (kind, obj._data.get("name"), uuid))
        name = obj._data.get("name")
        if any(o._data.get("name") == name for o in container.values()):
            raise errors.OpPrereqError("%s %r already exists" % (kind, name),
                                       errors.ECODE_EXISTS)

    def _mark_nic_ips(self, instance: Instance, used: bool,
                      only: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
        """Set or clear NIC addresses in their networks' pools; returns what changed."""
        changed: list[tuple[str, str]] = []
        for nic in instance.nics:
            if not nic.network or not nic.ip:
                continue
            if only is not None and (nic.network, nic.ip) not in only:
                continue
            network = self._data.networks.get(nic.network)
            if network is None:
                continue
            pool = AddressPool(network)
            if pool.contains(nic.ip) and pool.is_reserved(nic.ip, external=False) != used:
                pool.set(nic.ip, used)
                changed.append((nic.network, nic.ip))
        return changed

    # -- ports -----------------------------------------------------------------------

    def allocate_port(self) -> int:
        """A free TCP/UDP port for an instance console (saved at once)."""
        with self._lock:
            cluster = self._data.cluster
            pool = cluster.tcpudp_port_pool
            if pool:
                port = pool.pop(0)
                self._commit(None, (cluster,), undo=lambda: pool.insert(0, port))
                return port
            old = cluster.highest_used_port
            port = max(old, constants.FIRST_DRBD_PORT - 1) + 1
            if port > constants.LAST_DRBD_PORT:
                raise errors.ConfigurationError("No free TCP/UDP port left (highest used"
                                                " %d)" % old)
            cluster.highest_used_port = port
            self._commit(None, (cluster,),
                         undo=lambda: setattr(cluster, "highest_used_port", old))
            return port

    # -- reservations and generators ------------------------------------------------------

    def reserve(self, kind: str, value: Any, ec_id: str) -> None:
        """Reserve ``value`` of ``kind`` for ``ec_id``; ReservationError if taken."""
        with self._lock:
            holders = self._reservations.setdefault(kind, {})
            holder = holders.get(value)
            if holder is not None and holder != ec_id:
                raise errors.ReservationError("%s %r is already reserved by another job"
                                              % (kind, value))
            holders[value] = ec_id

    def release_reservations(self, ec_id: str) -> None:
        """Forget everything reserved under ``ec_id``."""
        with self._lock:
            for holders in self._reservations.values():
                for value in [v for v, holder in holders.items() if holder == ec_id]:
                    del holders[value]

    def _reserved(self, kind: str) -> dict[Any, str]:
        return self._reservations.get(kind, {})

    def _all_uuids(self) -> set[str]:
        data = self._data
        result: set[str] = set()
        for container in (data.nodes, data.nodegroups, data.instances, data.networks,
                          data.disks, data.filters):
            result.update(container)
        for inst in data.instances.values():
            result.update(n.uuid for n in inst.nics if n.uuid)
        cluster_uuid = data.cluster.uuid
        if cluster_uuid:
            result.add(cluster_uuid)
        return result

    def _new_uuid(self) -> str:
        used = self._all_uuids()
        reserved = self._reserved(RES_UUID)
        while True:
            candidate = str(uuidlib.uuid4())
            if candidate not in used and candidate not in reserved:
                return candidate

    def generate_uuid(self, ec_id: str) -> str:
        """A new UUID, unused in the config and reserved for ``ec_id``."""
        with self._lock:
            value = self._new_uuid()
            self._reservations.setdefault(RES_UUID, {})[value] = ec_id
            return value

    def generate_unique_names(self, ec_id: str, exts: list[str]) -> list[str]:
        """One unique name per extension (``<uuid><ext>``), e.g. for volumes."""
        with self._lock:
            names: list[str] = []
            holders = self._reservations.setdefault(RES_LV, {})
            for ext in exts:
                name = self.generate_uuid(ec_id) + ext
                holders[name] = ec_id
                names.append(name)
            return names

    def _config_macs(self) -> set[str]:
        if self._mac_index is None:
            self._mac_index = {nic.mac.lower() for inst in self._data.instances.values()
                               for nic in inst.nics if nic.mac}
        return self._mac_index

    def generate_mac(self, ec_id: str, network_uuid: str | None = None) -> str:
        """A new MAC under the network's or the cluster's prefix, reserved."""
        with self._lock:
            prefix = self._data.cluster.mac_prefix
            if network_uuid is not None:
                prefix = self.get_network(network_uuid).mac_prefix or prefix
            used = self._config_macs()
            holders = self._reservations.setdefault(RES_MAC, {})
            for _attempt in range(64):
                suffix = random.getrandbits(24)
                mac = "%s:%02x:%02x:%02x" % (prefix.lower(), suffix >> 16,
                                             (suffix >> 8) & 0xFF, suffix & 0xFF)
                if mac not in used and mac not in holders:
                    holders[mac] = ec_id
                    return mac
            raise errors.ConfigurationError("Cannot generate a free MAC under prefix %s"
                                            % prefix)

    def reserve_mac(self, mac: str, ec_id: str) -> None:
        """Reserve a given MAC; ReservationError if in use or reserved."""
        with self._lock:
            if mac.lower() in self._config_macs():
                raise errors.ReservationError("MAC %s is already in use" % mac)
            self.reserve(RES_MAC, mac.lower(), ec_id)

    def reserve_ip(self, network_uuid: str, address: str, ec_id: str,
                   check_external: bool = True) -> None:
        """Reserve ``address`` in a network; ReservationError if taken."""
        with self._lock:
            pool = AddressPool(self.get_network(network_uuid))
            if not pool.contains(address):
                raise errors.ReservationError("IP %s is not in network %s (%s)"
                                              % (address, pool.network.name,
                                                 pool.network.network))
            if pool.is_reserved(address, external=check_external):
                raise errors.ReservationError("IP %s in network %s is already in use"
                                              % (address, pool.network.name))
            self.reserve(_ip_kind(network_uuid), address, ec_id)

    def generate_ip(self, network_uuid: str, ec_id: str) -> str:
        """A free address of the network, reserved for ``ec_id``."""
        with self._lock:
            pool = AddressPool(self.get_network(network_uuid))
            holders = self._reservations.setdefault(_ip_kind(network_uuid), {})
            for address in pool.free_addresses():
                if address not in holders:
                    holders[address] = ec_id
                    return address
            raise errors.ReservationError("Network %s has no free address"
                                          % pool.network.name)


def _uuid_of(obj: ConfigObject) -> str:
    uuid = obj._data.get("uuid")
    if not isinstance(uuid, str) or not uuid:
        raise errors.ProgrammerError("%s has no UUID" % obj.describe())
    return uuid


def _find_by_name(objs: Any, name: str) -> Any:
    """Exact name, else a unique match of the first label (short name)."""
    short: list[Any] = []
    for obj in objs:
        obj_name = obj.name
        if obj_name == name:
            return obj
        if obj_name.split(".", 1)[0] == name:
            short.append(obj)
    return short[0] if len(short) == 1 else None
