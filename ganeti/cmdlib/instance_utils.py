"""Helpers shared by the instance logical units (create, start/stop, disks, migration…).

What the nodes receive: ``instance_rpc_dict`` builds the instance dictionary
of the instance RPC procedures with FILLED hypervisor, backend and OS
parameters, FULL disk dictionaries and node NAMES (``primary_node``,
``secondary_nodes``; the UUID stays in ``primary_node_uuid``).

Disks: ``generate_disks`` makes the Disk objects of a template (file paths
below the cluster's storage directory, unique LV names), ``create_disks``
creates them on their nodes and removes what it created if one fails,
``remove_disks``, ``assemble_disks`` and ``shutdown_disks`` do the rest.

Also: instance lookup and state checks, free-memory checks, starting an
instance, and the instances' hooks environment (Ganeti's INSTANCE_* names).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ganeti import constants, errors, locking, network, objects, paramdefs
from ganeti.cmdlib.base import LogicalUnit
from ganeti.rpc.client import NodeAddress, RpcResult

if TYPE_CHECKING:
    from ganeti.config import ConfigWriter


# -- lookups and state checks -------------------------------------------------------------

def expand_instance(cfg: ConfigWriter, name: str) -> objects.Instance:
    """The instance named ``name`` (or with that UUID); OpPrereqError if unknown.

    A unique short name also matches ("web1" finds "web1.example.com").
    """
    inst = cfg.find_instance(name)
    if inst is not None:
        return inst
    prefix = name + "."
    with cfg.locked() as data:
        matches = [i for i in data.instances.values() if i.name.startswith(prefix)]
    if len(matches) == 1:
        return matches[0]
    raise errors.OpPrereqError("Instance '%s' not known" % name, errors.ECODE_NOENT)


def instance_uuid(inst: objects.Instance) -> str:
    assert inst.uuid is not None
    return inst.uuid


def check_instance_state(inst: objects.Instance, allowed: Iterable[str], action: str) -> None:
    """Refuse ``action`` unless the admin state is one of ``allowed``."""
    allowed = list(allowed)
    if inst.admin_state not in allowed:
        raise errors.OpPrereqError("Instance %s is %s (admin state); cannot %s it (needs %s)"
                                   % (inst.name, inst.admin_state, action,
                                      " or ".join(allowed)), errors.ECODE_STATE)


def check_node_online(cfg: ConfigWriter, node_uuid: str, what: str) -> objects.Node:
    node = cfg.get_node_info(node_uuid)
    if node.offline:
        raise errors.OpPrereqError("Node %s is offline: cannot %s" % (node.name, what),
                                   errors.ECODE_STATE)
    return node


def node_address(lu: LogicalUnit, node_uuid: str) -> NodeAddress:
    return lu.context.node_address(node_uuid)


def node_name(cfg: ConfigWriter, node_uuid: str) -> str:
    node = cfg.find_node(node_uuid)
    return node.name if node is not None else node_uuid


def result_error(result: RpcResult) -> str:
    """The node's own message of a failed RPC (its exception's text when remote)."""
    if result.exception is not None and result.exception.args:
        return str(result.exception.args[0])
    return result.error or "unknown error"


# -- what the nodes receive -----------------------------------------------------------------

def disk_rpc_dict(cfg: ConfigWriter, disk: objects.Disk) -> dict[str, Any]:
    """A full disk dictionary (children included) with filled disk parameters."""
    data = disk.to_dict()
    cluster = cfg.get_cluster_info()
    try:
        params = cluster.fill_diskparams(disk.dev_type, None)
    except (errors.ParameterError, errors.ProgrammerError, KeyError):
        params = {}
    params.update(disk.params)
    data["params"] = params
    data["children"] = [disk_rpc_dict(cfg, child) for child in disk.children]
    return data


def instance_rpc_dict(cfg: ConfigWriter, inst: objects.Instance,
                      disks: Sequence[objects.Disk] | None = None,
                      hvparams: Mapping[str, Any] | None = None,
                      beparams: Mapping[str, Any] | None = None,
                      osparams: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The instance as the instance RPC procedures take it.

    Parameters are filled (cluster defaults below the instance's values);
    ``hvparams``/``beparams`` override them for one call (startup -H/-B),
    ``osparams`` replaces the effective OS parameters (private and secret
    ones included: such a dict must never be logged). ``disks`` defaults to
    the instance's disks in the configuration (pass them for an instance not
    added yet).
    """
    cluster = cfg.get_cluster_info()
    data = inst.to_dict()
    filled_hv = cluster.fill_hvparams(inst)
    filled_hv.update(hvparams or {})
    filled_be = cluster.fill_beparams(inst)
    filled_be.update(paramdefs.BEPARAMS.resolve_aliases(dict(beparams or {})))
    data["hvparams"] = filled_hv
    data["beparams"] = filled_be
    if osparams is not None:
        data["osparams"] = dict(osparams)
        data["osparams_private"] = {}
    else:
        from ganeti.cmdlib.os_params import cluster_os_params

        public, private = cluster_os_params(cluster, inst.os)
        public.update(inst.osparams)
        private.update(inst.osparams_private)
        data["osparams"] = public
        data["osparams_private"] = private
    if disks is None:
        disks = configured_disks(cfg, inst)
    data["disks"] = [disk_rpc_dict(cfg, disk) for disk in disks]
    data["nics"] = []
    for nic in inst.nics:
        nic_data = nic.to_dict()
        nic_data["nicparams"] = cluster.fill_nicparams(nic)
        netinfo = _netinfo(cfg, nic)
        if netinfo is not None:
            nic_data["netinfo"] = netinfo
        data["nics"].append(nic_data)
    data["primary_node_uuid"] = inst.primary_node
    data["primary_node"] = node_name(cfg, inst.primary_node)
    secondaries: list[str] = []
    for disk in disks:
        for uuid in disk.all_nodes():
            if uuid != inst.primary_node and uuid not in secondaries:
                secondaries.append(uuid)
    data["secondary_nodes"] = [node_name(cfg, uuid) for uuid in secondaries]
    return data


def _netinfo(cfg: ConfigWriter, nic: objects.NIC) -> dict[str, Any] | None:
    """The network of a NIC as a dictionary (Ganeti's ``netinfo``), if it has one."""
    if not nic.network:
        return None
    net = cfg.get_networks().get(nic.network)
    return net.to_dict() if net is not None else None


# -- disks -----------------------------------------------------------------------------------

def file_storage_dir(cluster: objects.Cluster, template: str, instance_name: str,
                     subdir: str | None = None) -> str:
    """Where a file/sharedfile instance's images go: the cluster's storage directory
    for the template, an optional relative sub-directory, then the instance's name."""
    base = (cluster.file_storage_dir if template == constants.DT_FILE
            else cluster.shared_file_storage_dir)
    if not base:
        raise errors.OpPrereqError("The cluster has no %s storage directory; set it with"
                                   " gnt-cluster modify" % template, errors.ECODE_STATE)
    if subdir:
        if os.path.isabs(subdir) or ".." in subdir.split("/"):
            raise errors.OpPrereqError("File storage directory %r must be a relative path"
                                       " without '..' (it is placed below %s)"
                                       % (subdir, base), errors.ECODE_INVAL)
        base = os.path.join(base, subdir)
    return os.path.join(base, instance_name)


def generate_disks(lu: LogicalUnit, template: str, disk_specs: Sequence[Mapping[str, Any]],
                   instance_name: str, pnode_uuid: str, ec_id: str, base_index: int = 0,
                   file_driver: str | None = None, file_subdir: str | None = None
                   ) -> list[objects.Disk]:
    """The Disk objects of a new instance's (or new) disks; nothing is created yet.

    ``disk_specs`` are checked disk definitions (``size`` in MiB, ``mode``,
    ``name``, ``vg``); ``base_index`` is the index of the first disk.
    """
    if template == constants.DT_DISKLESS:
        return []
    cluster = lu.cfg.get_cluster_info()
    disks: list[objects.Disk] = []
    for offset, spec in enumerate(disk_specs):
        index = base_index + offset
        uuid = lu.cfg.generate_uuid(ec_id)
        if template in (constants.DT_FILE, constants.DT_SHARED_FILE):
            directory = file_storage_dir(cluster, template, instance_name, file_subdir)
            logical_id: list[Any] = [file_driver or constants.FD_LOOP,
                                     os.path.join(directory, "%s.%s.disk%d"
                                                  % (uuid, template, index))]
        elif template == constants.DT_PLAIN:
            vg = spec.get(constants.IDISK_VG) or cluster.volume_group_name
            if not vg:
                raise errors.OpPrereqError("Disk %d: no volume group given and the cluster has"
                                           " none" % index, errors.ECODE_INVAL)
            logical_id = [vg, "%s.disk%d" % (uuid, index)]
        else:
            raise errors.OpPrereqError("Disk template %s is not supported for new disks"
                                       " (supported: %s)" % (template, ", ".join(
                                           sorted(SUPPORTED_TEMPLATES - {
                                               constants.DT_DISKLESS}))), errors.ECODE_INVAL)
        disks.append(objects.Disk(
            uuid=uuid, dev_type=template, logical_id=logical_id, size=int(spec["size"]),
            mode=spec.get(constants.IDISK_MODE) or constants.DISK_RDWR,
            name=spec.get(constants.IDISK_NAME) or None, iv_name="disk/%d" % index,
            nodes=[pnode_uuid], params={}))
    return disks


#: Templates this master can create disks for.
SUPPORTED_TEMPLATES = frozenset([constants.DT_DISKLESS, constants.DT_FILE,
                                 constants.DT_SHARED_FILE, constants.DT_PLAIN])


def create_disks(lu: LogicalUnit, inst: objects.Instance, disks: Sequence[objects.Disk],
                 target_node_uuid: str | None = None) -> None:
    """Create every disk on its nodes (on ``target_node_uuid`` instead, if given).

    If one creation fails, the devices created so far are removed again and
    OpExecError names the disk, the node and the node's reason.
    """
    created: list[tuple[str, objects.Disk]] = []
    for index, disk in enumerate(disks):
        nodes = [target_node_uuid] if target_node_uuid else disk.all_nodes()
        for node_uuid in nodes:
            on_primary = node_uuid == (target_node_uuid or inst.primary_node)
            result = lu.rpc.call_one("blockdev_create", node_address(lu, node_uuid),
                                     [disk_rpc_dict(lu.cfg, disk), disk.size, inst.name,
                                      on_primary, "originstname+%s" % inst.name, False])
            if not result.success:
                remove_created(lu, created)
                raise errors.OpExecError("Cannot create disk %d of instance %s on node %s: %s"
                                         % (index, inst.name, node_name(lu.cfg, node_uuid),
                                            result_error(result)))
            created.append((node_uuid, disk))


def remove_created(lu: LogicalUnit, created: Sequence[tuple[str, objects.Disk]]) -> None:
    """Roll back disk creations (node UUID, disk); failures become warnings."""
    for node_uuid, disk in reversed(created):
        result = lu.rpc.call_one("blockdev_remove", node_address(lu, node_uuid),
                                 [disk_rpc_dict(lu.cfg, disk)])
        if not result.success:
            lu.log_warning("Could not remove disk %s on node %s after a failure: %s",
                           disk.iv_name, node_name(lu.cfg, node_uuid), result_error(result))


def remove_disks(lu: LogicalUnit, inst: objects.Instance,
                 disks: Sequence[objects.Disk] | None = None,
                 target_node_uuid: str | None = None, ignore_failures: bool = False) -> bool:
    """Remove the instance's disks (or ``disks``) from their nodes; True if all went.

    Failures are warnings when ``ignore_failures``, else OpExecError after
    trying every disk. Disks of a file template also lose their (empty)
    instance directory on the node.
    """
    if disks is None:
        disks = lu.cfg.get_instance_disks(instance_uuid(inst))
    problems: list[str] = []
    for disk in disks:
        nodes = [target_node_uuid] if target_node_uuid else disk.all_nodes()
        for node_uuid in nodes:
            address = node_address(lu, node_uuid)
            if address.offline:
                problems.append("node %s is offline (disk %s left there)"
                                % (address.name, disk.iv_name))
                continue
            result = lu.rpc.call_one("blockdev_remove", address, [disk_rpc_dict(lu.cfg, disk)])
            if not result.success:
                problems.append("disk %s on node %s: %s" % (disk.iv_name, address.name,
                                                            result_error(result)))
    for problem in problems:
        lu.log_warning("Could not remove a disk of instance %s: %s", inst.name, problem)
    if problems and not ignore_failures:
        raise errors.OpExecError("Could not remove all disks of instance %s: %s"
                                 % (inst.name, "; ".join(problems)))
    return not problems


def assemble_disks(lu: LogicalUnit, inst: objects.Instance, ignore_size: bool = False
                   ) -> list[tuple[str, str, str | None]]:
    """Activate the instance's disks on its nodes; [(node name, iv_name, path)] of the
    primary's devices. OpExecError (after deactivating again) if one fails."""
    disks = lu.cfg.get_instance_disks(instance_uuid(inst))
    info: list[tuple[str, str, str | None]] = []
    for index, disk in enumerate(disks):
        for node_uuid in disk.all_nodes():
            as_primary = node_uuid == inst.primary_node
            address = node_address(lu, node_uuid)
            result = lu.rpc.call_one("blockdev_assemble", address,
                                     [disk_rpc_dict(lu.cfg, disk), inst.name, as_primary,
                                      index])
            if not result.success:
                shutdown_disks(lu, inst, ignore_failures=True)
                raise errors.OpExecError("Cannot activate disk %d of instance %s on node %s:"
                                         " %s" % (index, inst.name, address.name,
                                                  result_error(result)))
            if as_primary:
                info.append((address.name, disk.iv_name or "disk/%d" % index,
                             result.payload[0]))
    return info


def shutdown_disks(lu: LogicalUnit, inst: objects.Instance, ignore_failures: bool = False
                   ) -> bool:
    """Deactivate the instance's disks on every node; True if all went."""
    problems: list[str] = []
    for disk in lu.cfg.get_instance_disks(instance_uuid(inst)):
        for node_uuid in disk.all_nodes():
            address = node_address(lu, node_uuid)
            if address.offline:
                continue
            result = lu.rpc.call_one("blockdev_shutdown", address,
                                     [disk_rpc_dict(lu.cfg, disk)])
            if not result.success:
                problems.append("disk %s on node %s: %s" % (disk.iv_name, address.name,
                                                            result_error(result)))
    for problem in problems:
        lu.log_warning("Could not deactivate a disk of instance %s: %s", inst.name, problem)
    if problems and not ignore_failures:
        raise errors.OpExecError("Could not deactivate all disks of instance %s: %s"
                                 % (inst.name, "; ".join(problems)))
    return not problems


def set_disks_active(lu: LogicalUnit, inst: objects.Instance, active: bool) -> None:
    if inst.disks_active != active:
        inst.disks_active = active
        lu.cfg.update(inst)


# -- memory and start ----------------------------------------------------------------------

def node_free_memory(lu: LogicalUnit, node_uuids: Iterable[str], hypervisor: str
                     ) -> dict[str, int | None]:
    """node UUID -> free memory (MiB) its hypervisor reports; None: no answer."""
    cluster = lu.cfg.get_cluster_info()
    uuids = list(dict.fromkeys(node_uuids))
    addresses = {uuid: node_address(lu, uuid) for uuid in uuids}
    online = [a for a in addresses.values() if not a.offline]
    hv_specs = [[hypervisor, cluster.fill_hvparams_for(hypervisor)]]
    results = lu.rpc.call("node_info", online, [[], hv_specs]) if online else {}
    free: dict[str, int | None] = {}
    for uuid, address in addresses.items():
        result = results.get(address.name)
        value: int | None = None
        if result is not None and result.success:
            for hv_info in result.payload.get("hypervisor") or []:
                if isinstance(hv_info.get("memory_free"), int):
                    value = hv_info["memory_free"]
        free[uuid] = value
    return free


def check_node_free_memory(lu: LogicalUnit, node_uuid: str, reason: str, requested: int,
                           hypervisor: str) -> None:
    """OpPrereqError unless the node reports at least ``requested`` MiB free."""
    free = node_free_memory(lu, [node_uuid], hypervisor)[node_uuid]
    name = node_name(lu.cfg, node_uuid)
    if free is None:
        raise errors.OpPrereqError("Cannot check free memory on node %s (%s): the node did"
                                   " not answer" % (name, reason), errors.ECODE_ENVIRON)
    if requested > free:
        raise errors.OpPrereqError("Not enough memory on node %s for %s: needed %d MiB,"
                                   " available %d MiB" % (name, reason, requested, free),
                                   errors.ECODE_NORES)


def start_instance(lu: LogicalUnit, inst: objects.Instance,
                   hvparams: Mapping[str, Any] | None = None,
                   beparams: Mapping[str, Any] | None = None,
                   startup_paused: bool = False) -> None:
    """Activate the disks and start the instance on its primary node.

    On failure the disks are deactivated again and OpExecError says why.
    """
    assemble_disks(lu, inst)
    set_disks_active(lu, inst, True)
    data = instance_rpc_dict(lu.cfg, inst, hvparams=hvparams, beparams=beparams)
    result = lu.rpc.call_one("instance_start", node_address(lu, inst.primary_node),
                             [data, startup_paused])
    if not result.success:
        shutdown_disks(lu, inst, ignore_failures=True)
        set_disks_active(lu, inst, False)
        raise errors.OpExecError("Could not start instance %s on node %s: %s"
                                 % (inst.name, node_name(lu.cfg, inst.primary_node),
                                    result_error(result)))


def shutdown_instance(lu: LogicalUnit, inst: objects.Instance, timeout: int,
                      ignore_failures: bool = False) -> bool:
    """Stop the instance on its primary node; True if it stopped (or was offline)."""
    address = node_address(lu, inst.primary_node)
    if address.offline:
        lu.log_warning("Primary node %s of instance %s is offline; not stopping it there",
                       address.name, inst.name)
        return True
    result = lu.rpc.call_one("instance_shutdown", address,
                             [instance_rpc_dict(lu.cfg, inst), int(timeout)],
                             timeout=int(timeout) + 60)
    if result.success:
        return True
    message = "Could not stop instance %s on node %s: %s" % (inst.name, address.name,
                                                            result_error(result))
    if not ignore_failures:
        raise errors.OpExecError(message)
    lu.log_warning("%s", message)
    return False


def configured_disks(cfg: ConfigWriter, inst: objects.Instance) -> list[objects.Disk]:
    """The instance's disks in the configuration; none for one not added (yet)."""
    try:
        return cfg.get_instance_disks(instance_uuid(inst))
    except errors.OpPrereqError:
        return []


# -- hooks -----------------------------------------------------------------------------------

def instance_hooks_env(cfg: ConfigWriter, inst: objects.Instance,
                       disks: Sequence[objects.Disk] | None = None,
                       override: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Ganeti's instance hook variables (without the GANETI_ prefix).

    ``disks`` defaults to the instance's disks in the configuration;
    ``override`` adds or replaces variables.
    """
    cluster = cfg.get_cluster_info()
    if disks is None:
        disks = configured_disks(cfg, inst)
    secondaries: list[str] = []
    for disk in disks:
        for uuid in disk.all_nodes():
            if uuid != inst.primary_node and uuid not in secondaries:
                secondaries.append(uuid)
    try:
        bep = cluster.fill_beparams(inst)
    except errors.GenericError:
        bep = dict(inst.beparams)
    try:
        hvp = cluster.fill_hvparams(inst)
    except errors.GenericError:
        hvp = dict(inst.hvparams)
    secondary_names = " ".join(node_name(cfg, uuid) for uuid in secondaries)
    env: dict[str, Any] = {
        "OP_TARGET": inst.name,
        "INSTANCE_NAME": inst.name,
        "INSTANCE_PRIMARY": node_name(cfg, inst.primary_node),
        "INSTANCE_SECONDARIES": secondary_names,
        "INSTANCE_SECONDARY": secondary_names,
        "INSTANCE_OS_TYPE": inst.os,
        "INSTANCE_STATUS": inst.admin_state,
        "INSTANCE_MAXMEM": bep.get(paramdefs.BE_MAXMEM),
        "INSTANCE_MINMEM": bep.get(paramdefs.BE_MINMEM),
        "INSTANCE_MEMORY": bep.get(paramdefs.BE_MAXMEM),
        "INSTANCE_VCPUS": bep.get(paramdefs.BE_VCPUS),
        "INSTANCE_DISK_TEMPLATE": disks[0].dev_type if disks else constants.DT_DISKLESS,
        "INSTANCE_HYPERVISOR": inst.hypervisor,
        "INSTANCE_NIC_COUNT": len(inst.nics),
        "INSTANCE_DISK_COUNT": len(disks),
        "INSTANCE_TAGS": " ".join(inst.tags),
    }
    for idx, nic in enumerate(inst.nics):
        try:
            nicparams = cluster.fill_nicparams(nic)
        except errors.GenericError:
            nicparams = dict(nic.nicparams)
        mode = nicparams.get(paramdefs.NIC_MODE)
        link = nicparams.get(paramdefs.NIC_LINK)
        values = {"NAME": nic.name, "UUID": nic.uuid, "IP": nic.ip, "MAC": nic.mac,
                  "MODE": mode, "LINK": link, "VLAN": nicparams.get(paramdefs.NIC_VLAN)}
        if mode == constants.NIC_MODE_BRIDGED:
            values["BRIDGE"] = link
        for key, value in values.items():
            env["INSTANCE_NIC%d_%s" % (idx, key)] = "" if value is None else value
        netinfo = _netinfo(cfg, nic)
        if netinfo is not None:
            env.update(network.hooks_env(netinfo, "INSTANCE_NIC%d_" % idx))
        elif nic.network:
            env["INSTANCE_NIC%d_NETWORK_NAME" % idx] = nic.network
    for idx, disk in enumerate(disks):
        values = {"SIZE": disk.size, "MODE": disk.mode, "NAME": disk.name, "UUID": disk.uuid,
                  "DEV_TYPE": disk.dev_type}
        for key, value in values.items():
            env["INSTANCE_DISK%d_%s" % (idx, key)] = "" if value is None else value
    for kind, params in (("BE", bep), ("HV", hvp)):
        for key, value in params.items():
            env["INSTANCE_%s_%s" % (kind, key)] = value
    env.update(override or {})
    return env


def instance_hooks_nodes(cfg: ConfigWriter, inst: objects.Instance,
                         disks: Sequence[objects.Disk] | None = None
                         ) -> tuple[list[str], list[str]]:
    """Master, primary and secondaries (UUIDs), for both phases."""
    if disks is None:
        disks = configured_disks(cfg, inst)
    nodes = [cfg.get_master_node(), inst.primary_node]
    for disk in disks:
        nodes.extend(disk.all_nodes())
    unique = list(dict.fromkeys(nodes))
    return unique, list(unique)


# -- a base for LUs acting on one existing instance -------------------------------------------

class InstanceLU(LogicalUnit):
    """An LU on one instance (``op.instance_name``): locks the instance exclusively and
    its nodes (shared unless ``NODES_SHARED`` is False); ``self.instance`` is set."""

    HTYPE = constants.HTYPE_INSTANCE
    REQ_BGL = False
    NODES_SHARED = True

    def expand_names(self) -> None:
        inst = expand_instance(self.cfg, self.op.instance_name)
        self.instance_name = inst.name
        self.needed_locks = {locking.LEVEL_INSTANCE: [inst.name], locking.LEVEL_NODE: []}
        self.share_locks[locking.LEVEL_NODE] = self.NODES_SHARED

    def declare_locks(self, level: int) -> None:
        if level == locking.LEVEL_NODE:
            assert self.needed_locks is not None
            inst = self.cfg.find_instance(self.instance_name)
            if inst is not None:
                self.needed_locks[level] = self.cfg.get_instance_nodes(instance_uuid(inst)) \
                    + list(self.extra_node_locks())

    def extra_node_locks(self) -> list[str]:
        """More node UUIDs to lock (e.g. a migration target)."""
        return []

    def check_prereq(self) -> None:
        inst = self.cfg.find_instance(self.instance_name)
        if inst is None:
            raise errors.OpPrereqError("Instance '%s' was removed meanwhile"
                                       % self.instance_name, errors.ECODE_NOENT)
        self.instance = inst

    def build_hooks_env(self) -> dict[str, Any]:
        return instance_hooks_env(self.cfg, self.instance, override=self.hooks_extra_env())

    def hooks_extra_env(self) -> dict[str, Any]:
        return {}

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        return instance_hooks_nodes(self.cfg, self.instance)
