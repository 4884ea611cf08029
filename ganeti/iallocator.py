"""The external allocator (iallocator) protocol, version 2, as Ganeti documents it.

``build_model`` gathers what an allocator needs to know about the cluster: the
configuration plus one fan-out of ``node_info`` and ``all_instances_info`` for
the live memory, disk and CPU figures. ``build_input`` turns that model and a
request (``allocate``, ``relocate``, ``change-group``, ``node-evacuate``,
``multi-allocate``) into the JSON document; ``run_allocator`` runs a script
found in the allocator search path on it (masterd runs on the master, so the
script runs there directly) and ``parse_result`` checks the answer's shape.
The built-in allocator (``ganeti.allocator``) works on the same model.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ganeti import constants, errors, serializer

if TYPE_CHECKING:
    from ganeti.cmdlib.base import LogicalUnit
    from ganeti.pathutils import Paths

#: Seconds an allocator script may run.
ALLOCATOR_TIMEOUT = 300

#: Ganeti's default instance policy, sent when the cluster sets none (htools need one).
DEFAULT_IPOLICY: dict[str, Any] = {
    "minmax": [{
        "min": {"cpu-count": 1, "disk-count": 1, "disk-size": 1024, "memory-size": 128,
                "nic-count": 1, "spindle-use": 1},
        "max": {"cpu-count": 8, "disk-count": 16, "disk-size": 1024 * 1024,
                "memory-size": 32768, "nic-count": 8, "spindle-use": 12},
    }],
    "std": {"cpu-count": 1, "disk-count": 1, "disk-size": 1024, "memory-size": 128,
            "nic-count": 1, "spindle-use": 1},
    "disk-templates": sorted(constants.DISK_TEMPLATES),
    "vcpu-ratio": 4.0,
    "spindle-ratio": 32.0,
}


@dataclass
class NodeModel:
    """One node as allocators see it; live figures are None when unknown."""

    uuid: str
    name: str
    group: str
    offline: bool
    drained: bool
    vm_capable: bool
    master_capable: bool
    master_candidate: bool
    primary_ip: str
    secondary_ip: str
    tags: list[str]
    ndparams: dict[str, Any]
    total_memory: int | None = None
    reserved_memory: int | None = None
    free_memory: int | None = None
    total_disk: int | None = None
    free_disk: int | None = None
    total_cpus: int | None = None
    reserved_cpus: int | None = None
    i_pri_memory: int = 0
    i_pri_up_memory: int = 0
    #: vCPUs of the primary instances (for the vCPU ratio).
    i_pri_vcpus: int = 0
    #: Why live data is missing (node down, …), when it is.
    no_data_reason: str | None = None

    @property
    def has_data(self) -> bool:
        return self.free_memory is not None

    @property
    def usable(self) -> bool:
        """Whether new instances may be placed here."""
        return not (self.offline or self.drained or not self.vm_capable)


@dataclass
class ClusterModel:
    cluster_name: str
    cluster_tags: list[str]
    enabled_hypervisors: list[str]
    ipolicy: dict[str, Any]
    groups: dict[str, dict[str, Any]]
    nodes: dict[str, NodeModel]
    instances: dict[str, dict[str, Any]] = field(default_factory=dict)

    def node_by_name(self, name: str) -> NodeModel | None:
        for node in self.nodes.values():
            if node.name == name:
                return node
        return None


def _ipolicy(values: Mapping[str, Any] | None) -> dict[str, Any]:
    policy = dict(DEFAULT_IPOLICY)
    policy.update(values or {})
    return policy


def _disk_unit(cluster: Any, template: str) -> list[list[Any]]:
    if template == constants.DT_FILE and cluster.file_storage_dir:
        return [[constants.ST_FILE, cluster.file_storage_dir, []]]
    if template == constants.DT_SHARED_FILE and cluster.shared_file_storage_dir:
        return [[constants.ST_SHARED_FILE, cluster.shared_file_storage_dir, []]]
    if template in (constants.DT_PLAIN, constants.DT_DRBD8) and cluster.volume_group_name:
        return [[constants.ST_LVM_VG, cluster.volume_group_name, []]]
    return []


def build_model(lu: LogicalUnit, disk_template: str | None = None) -> ClusterModel:
    """The cluster as allocators see it, with live figures from one node fan-out.

    ``disk_template`` chooses the storage unit whose space becomes the nodes'
    total/free disk (default: the first enabled template with storage).
    """
    cfg = lu.cfg
    with cfg.locked():
        cluster = cfg.get_cluster_info()
        nodes = dict(cfg.get_all_nodes_info())
        groups = dict(cfg.get_nodegroups())
        instances = dict(cfg.get_all_instances_info())
        disks_by_instance = {uuid: cfg.get_instance_disks(uuid) for uuid in instances}
    templates = [disk_template] if disk_template else list(cluster.enabled_disk_templates)
    units: list[list[Any]] = []
    for template in templates:
        units = _disk_unit(cluster, template)
        if units:
            break
    hypervisors = list(cluster.enabled_hypervisors)
    hv_specs = [[hv, cluster.fill_hvparams_for(hv)] for hv in hypervisors[:1]]
    model = ClusterModel(
        cluster_name=cluster.cluster_name, cluster_tags=list(cluster.tags),
        enabled_hypervisors=hypervisors, ipolicy=_ipolicy(cluster.ipolicy),
        groups={uuid: {"name": g.name, "alloc_policy": g.alloc_policy,
                       "networks": list(g.networks), "tags": list(g.tags),
                       "ipolicy": _ipolicy(cluster.fill_ipolicy(g))}
                for uuid, g in groups.items()},
        nodes={})
    for uuid, node in nodes.items():
        group = groups.get(node.group)
        model.nodes[uuid] = NodeModel(
            uuid=uuid, name=node.name, group=node.group, offline=bool(node.offline),
            drained=bool(node.drained), vm_capable=bool(node.vm_capable),
            master_capable=bool(node.master_capable),
            master_candidate=bool(node.master_candidate), primary_ip=node.primary_ip,
            secondary_ip=node.secondary_ip or node.primary_ip, tags=list(node.tags),
            ndparams=cluster.fill_ndparams(node, group))
    asked = [n for n in model.nodes.values() if not n.offline and n.vm_capable]
    addresses = lu.context.node_addresses([n.uuid for n in asked])
    infos = lu.rpc.call("node_info", addresses, [units, hv_specs]) if addresses else {}
    running = (lu.rpc.call("all_instances_info", addresses,
                           [hypervisors, {hv: cluster.fill_hvparams_for(hv)
                                          for hv in hypervisors}])
               if addresses else {})
    for member in asked:
        info = infos.get(member.name)
        if info is None or not info.success:
            member.no_data_reason = info.error if info is not None else "not asked"
            continue
        _fill_live(member, info.payload)
    for inst in instances.values():
        be = cluster.fill_beparams(inst)
        inst_disks = disks_by_instance[inst.uuid or ""]
        template = inst_disks[0].dev_type if inst_disks else constants.DT_DISKLESS
        pnode = model.nodes.get(inst.primary_node)
        snodes = [n for d in inst_disks for n in d.all_nodes() if n != inst.primary_node]
        model.instances[inst.name] = {
            "tags": list(inst.tags), "admin_state": inst.admin_state,
            "vcpus": be["vcpus"], "memory": be["maxmem"], "spindle_use": be["spindle_use"],
            "os": inst.os, "hypervisor": inst.hypervisor, "disk_template": template,
            "disks_active": bool(inst.disks_active),
            "nodes": [model.nodes[n].name for n in [inst.primary_node, *dict.fromkeys(snodes)]
                      if n in model.nodes],
            "nics": [{"mac": nic.mac, "ip": nic.ip,
                      "mode": cluster.fill_nicparams(nic)["mode"],
                      "link": cluster.fill_nicparams(nic)["link"]} for nic in inst.nics],
            "disks": [{"size": d.size, "mode": d.mode, "spindles": d.spindles}
                      for d in inst_disks],
            "disk_space_total": disk_space_total(template, [{"size": d.size}
                                                            for d in inst_disks]),
        }
        if pnode is None:
            continue
        pnode.i_pri_memory += be["maxmem"]
        pnode.i_pri_vcpus += be["vcpus"]
        if inst.admin_state != constants.ADMINST_UP:
            continue
        pnode.i_pri_up_memory += be["maxmem"]
        answer = running.get(pnode.name)
        if pnode.free_memory is not None and answer is not None and answer.success:
            used = int((answer.payload.get(inst.name) or {}).get("memory", 0))
            # Memory an instance that should run but does not would take back.
            pnode.free_memory = max(0, pnode.free_memory - max(0, be["maxmem"] - used))
    return model


def _fill_live(node: NodeModel, payload: Mapping[str, Any]) -> None:
    hv_info: dict[str, Any] = {}
    for item in payload.get("hypervisor") or []:
        hv_info.update(item)
    node.total_memory = int(hv_info.get("memory_total", payload.get("memory_total", 0)))
    node.free_memory = int(hv_info.get("memory_free", payload.get("memory_free", 0)))
    node.reserved_memory = int(hv_info.get("memory_dom0", 0))
    node.total_cpus = int(hv_info.get("cpu_total", payload.get("cpu_total", 1)))
    node.reserved_cpus = int(hv_info.get("cpu_dom0", 0))
    storage = (payload.get("storage") or [{}])[0]
    node.total_disk = int(storage.get("storage_size") or 0)
    node.free_disk = int(storage.get("storage_free") or 0)


# -- the protocol's input -------------------------------------------------------------

def _node_input(node: NodeModel) -> dict[str, Any]:
    data: dict[str, Any] = {
        "tags": node.tags, "primary_ip": node.primary_ip, "secondary_ip": node.secondary_ip,
        "offline": node.offline, "drained": node.drained,
        "master_candidate": node.master_candidate, "group": node.group,
        "master_capable": node.master_capable, "vm_capable": node.vm_capable,
        "ndparams": node.ndparams,
    }
    if node.has_data and not node.offline and node.vm_capable:
        data.update({
            "total_memory": node.total_memory, "reserved_memory": node.reserved_memory,
            "free_memory": node.free_memory, "total_disk": node.total_disk,
            "free_disk": node.free_disk, "total_spindles": 0, "free_spindles": 0,
            "total_cpus": node.total_cpus, "reserved_cpus": node.reserved_cpus,
            "i_pri_memory": node.i_pri_memory, "i_pri_up_memory": node.i_pri_up_memory,
        })
    return data


def build_input(model: ClusterModel, request: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON document an allocator reads (protocol version 2)."""
    return {
        "version": constants.IALLOCATOR_VERSION,
        "cluster_name": model.cluster_name,
        "cluster_tags": model.cluster_tags,
        "enabled_hypervisors": model.enabled_hypervisors,
        "ipolicy": model.ipolicy,
        "nodegroups": model.groups,
        "nodes": {node.name: _node_input(node) for node in model.nodes.values()},
        "instances": model.instances,
        "request": dict(request),
    }


def required_nodes(disk_template: str) -> int:
    return 2 if disk_template in constants.DTS_INT_MIRROR else 1


def allocate_request(*, name: str, disk_template: str, memory: int, vcpus: int,
                     disks: Sequence[Mapping[str, Any]], nics: Sequence[Mapping[str, Any]],
                     os: str, hypervisor: str, tags: Sequence[str] = (),
                     spindle_use: int = 1, group_name: str | None = None) -> dict[str, Any]:
    disk_list = [{"size": int(d["size"]), "mode": d.get("mode", constants.DISK_RDWR),
                  "spindles": d.get("spindles")} for d in disks]
    return {
        "type": constants.IALLOCATOR_MODE_ALLOC, "name": name,
        "disk_template": disk_template, "group_name": group_name, "tags": list(tags),
        "os": os, "vcpus": vcpus, "memory": memory, "spindle_use": spindle_use,
        "disks": disk_list,
        "disk_space_total": disk_space_total(disk_template, disk_list),
        "nics": [dict(nic) for nic in nics],
        "required_nodes": required_nodes(disk_template), "hypervisor": hypervisor,
    }


def relocate_request(name: str, disk_space: int, relocate_from: Sequence[str]
                     ) -> dict[str, Any]:
    return {"type": constants.IALLOCATOR_MODE_RELOC, "name": name,
            "disk_space_total": disk_space, "required_nodes": 1,
            "relocate_from": list(relocate_from)}


def node_evacuate_request(instances: Sequence[str], evac_mode: str) -> dict[str, Any]:
    return {"type": constants.IALLOCATOR_MODE_NODE_EVAC, "instances": list(instances),
            "evac_mode": evac_mode}


def change_group_request(instances: Sequence[str], target_groups: Sequence[str]
                         ) -> dict[str, Any]:
    return {"type": constants.IALLOCATOR_MODE_CHG_GROUP, "instances": list(instances),
            "target_groups": list(target_groups)}


def multi_allocate_request(requests: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"type": constants.IALLOCATOR_MODE_MULTI_ALLOC,
            "instances": [dict(r) for r in requests]}


def disk_space_total(disk_template: str, disks: Sequence[Mapping[str, Any]]) -> int:
    """MiB the template needs on a node for ``disks`` (DRBD adds 128 MiB of metadata)."""
    if disk_template == constants.DT_DISKLESS:
        return 0
    extra = 128 if disk_template == constants.DT_DRBD8 else 0
    return sum(int(d["size"]) + extra for d in disks)


# -- running a script ----------------------------------------------------------------

def find_allocator(paths: Paths, name: str) -> str:
    """The allocator script ``name`` in the search path; OpPrereqError if absent."""
    if not name or "/" in name or name.startswith("."):
        raise errors.OpPrereqError("Invalid allocator name %r" % name, errors.ECODE_INVAL)
    for directory in paths.iallocator_search_path:
        path = os.path.join(directory, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise errors.OpPrereqError("Instance allocator '%s' not found in the allocator search"
                               " path (%s)" % (name, ", ".join(paths.iallocator_search_path)),
                               errors.ECODE_NOENT)


def run_allocator(paths: Paths, name: str, data: Mapping[str, Any],
                  params: Mapping[str, Any] | None = None) -> Any:
    """Run allocator ``name`` on ``data``; its ``result`` (or OpPrereqError saying why not)."""
    return parse_result(name, run_allocator_text(paths, name, data, params),
                        data["request"]["type"])


def run_allocator_text(paths: Paths, name: str, data: Mapping[str, Any],
                       params: Mapping[str, Any] | None = None) -> str:
    """Run allocator ``name`` on ``data``; what it printed (OpPrereqError if it failed)."""
    script = find_allocator(paths, name)
    argv = [script]
    for key, value in sorted((params or {}).items()):
        argv.append("--%s" % key if value is True or value == "" else "--%s=%s" % (key, value))
    # A directory of its own: hail leaves a "<input>.args" file beside its input.
    with tempfile.TemporaryDirectory(prefix="ganeti-ialloc-") as workdir:
        input_file = os.path.join(workdir, "input.json")
        with open(input_file, "w", encoding="utf-8") as handle:
            handle.write(serializer.dump(dict(data)))
        argv.append(input_file)
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, check=False,
                                  timeout=ALLOCATOR_TIMEOUT, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise errors.OpPrereqError("Instance allocator %s could not run: %s"
                                       % (name, err), errors.ECODE_NORES) from err
    if proc.returncode != 0:
        raise errors.OpPrereqError("Instance allocator %s failed (exit code %d): %s"
                                   % (name, proc.returncode,
                                      (proc.stderr or proc.stdout).strip()[-2000:]),
                                   errors.ECODE_NORES)
    return proc.stdout


def parse_result(name: str, text: str, request_type: str) -> Any:
    """The ``result`` of an allocator's answer, its shape checked for the request type."""
    try:
        answer = serializer.load(text)
    except ValueError as err:
        raise errors.OpPrereqError("Instance allocator %s returned invalid JSON: %s"
                                   % (name, err), errors.ECODE_NORES) from None
    if not isinstance(answer, dict) or "success" not in answer:
        raise errors.OpPrereqError("Instance allocator %s returned no 'success' key"
                                   % name, errors.ECODE_NORES)
    if "result" not in answer and "nodes" in answer:
        answer["result"] = answer["nodes"]  # the protocol's legacy key
    if not answer["success"]:
        raise errors.OpPrereqError("Instance allocator %s could not satisfy the request: %s"
                                   % (name, answer.get("info", "no reason given")),
                                   errors.ECODE_NORES)
    result = answer.get("result")
    if request_type in (constants.IALLOCATOR_MODE_ALLOC, constants.IALLOCATOR_MODE_RELOC):
        ok = isinstance(result, list) and all(isinstance(n, str) for n in result)
    elif request_type in (constants.IALLOCATOR_MODE_NODE_EVAC,
                          constants.IALLOCATOR_MODE_CHG_GROUP):
        ok = isinstance(result, list) and len(result) == 3 and all(
            isinstance(part, list) for part in result)
    elif request_type == constants.IALLOCATOR_MODE_MULTI_ALLOC:
        ok = isinstance(result, list) and len(result) == 2 and all(
            isinstance(part, list) for part in result)
    else:
        ok = True
    if not ok:
        raise errors.OpPrereqError("Instance allocator %s returned a result of the wrong"
                                   " shape for a %s request: %r" % (name, request_type, result),
                                   errors.ECODE_NORES)
    return result
