"""Choosing nodes for instances: the built-in allocator and the external ones.

``choose_nodes`` is the one entry point for ``-I`` (and the default allocator).
The built-in allocator works on ``iallocator.ClusterModel`` (configuration plus
live node figures): it places an instance on the usable node (online, not
drained, vm-capable, in an allocatable group) with the most free memory left
afterwards, among those with enough free memory, disk space and vCPUs (the
group's ``vcpu-ratio`` policy). Templates mirrored between two nodes need a
secondary that could take the instance over (N+1 memory). Groups are tried in
their policy's order (preferred before last_resort; unallocable never).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ganeti import constants, errors, iallocator
from ganeti.iallocator import ClusterModel, NodeModel

if TYPE_CHECKING:
    from ganeti.cmdlib.base import LogicalUnit

#: Name of the built-in allocator (``-I builtin``; also used when no default is set).
BUILTIN = "builtin"

_POLICY_ORDER = {constants.ALLOC_POLICY_PREFERRED: 0, constants.ALLOC_POLICY_LAST_RESORT: 1}


def resolve_name(lu: LogicalUnit, iallocator_name: str | None) -> str:
    """The allocator to use: None/"." mean the cluster default (built-in when unset)."""
    if iallocator_name in (None, "", constants.DEFAULT_IALLOCATOR_SHORTCUT):
        return lu.cfg.get_cluster_info().default_iallocator or BUILTIN
    return str(iallocator_name)


def choose_nodes(lu: LogicalUnit, iallocator_name: str | None, *, name: str,
                 disk_template: str, memory: int, vcpus: int,
                 disks: Sequence[Mapping[str, Any]], nics: Sequence[Mapping[str, Any]],
                 os: str, hypervisor: str, tags: Sequence[str] = (), spindle_use: int = 1,
                 group_name: str | None = None) -> list[str]:
    """Node UUIDs for a new instance, primary first (a secondary too for mirrored templates).

    ``iallocator_name``: None or "." (the cluster's default allocator, built-in when
    unset), ``"builtin"``, or the name of a script in the allocator search path, run with
    Ganeti's iallocator protocol (request type "allocate"). ``memory`` is the maximum
    memory in MiB, ``disks`` a list of ``{"size": MiB, "mode": …}``. Offline, drained and
    non-vm-capable nodes are never chosen. Raises OpPrereqError (ECODE_NORES) naming
    the shortfall when no node fits.
    """
    allocator = resolve_name(lu, iallocator_name)
    model = iallocator.build_model(lu, disk_template)
    request = iallocator.allocate_request(
        name=name, disk_template=disk_template, memory=memory, vcpus=vcpus, disks=disks,
        nics=nics, os=os, hypervisor=hypervisor, tags=tags, spindle_use=spindle_use,
        group_name=group_name)
    if allocator == BUILTIN:
        chosen = allocate(model, request)
    else:
        params = lu.cfg.get_cluster_info().default_iallocator_params \
            if allocator == lu.cfg.get_cluster_info().default_iallocator else {}
        names = iallocator.run_allocator(lu.context.paths, allocator,
                                         iallocator.build_input(model, request), params)
        chosen = _check_external_answer(model, allocator, names, request)
    lu.log_info("Allocator %s selected node(s) %s for instance %s", allocator,
                ", ".join(model.nodes[uuid].name for uuid in chosen), name)
    return chosen


def _check_external_answer(model: ClusterModel, allocator: str, names: Sequence[str],
                           request: Mapping[str, Any]) -> list[str]:
    wanted = request["required_nodes"]
    if len(names) != wanted:
        raise errors.OpPrereqError("Instance allocator %s returned %d node(s) (%s), %d wanted"
                                   % (allocator, len(names), ", ".join(names), wanted),
                                   errors.ECODE_NORES)
    chosen = []
    for node_name in names:
        node = model.node_by_name(node_name)
        if node is None:
            raise errors.OpPrereqError("Instance allocator %s chose unknown node '%s'"
                                       % (allocator, node_name), errors.ECODE_NORES)
        if not node.usable:
            raise errors.OpPrereqError("Instance allocator %s chose node %s, which is offline,"
                                       " drained or not vm-capable" % (allocator, node.name),
                                       errors.ECODE_NORES)
        chosen.append(node.uuid)
    return chosen


# -- the built-in allocator ---------------------------------------------------------------

def _group_order(model: ClusterModel, group_name: str | None) -> list[str]:
    if group_name:
        for uuid, group in model.groups.items():
            if group["name"] == group_name or uuid == group_name:
                return [uuid]
        raise errors.OpPrereqError("Node group '%s' is not known" % group_name,
                                   errors.ECODE_NOENT)
    allocatable = [uuid for uuid, group in model.groups.items()
                   if group["alloc_policy"] in _POLICY_ORDER]
    return sorted(allocatable, key=lambda uuid: (
        _POLICY_ORDER[model.groups[uuid]["alloc_policy"]], model.groups[uuid]["name"]))


def _why_not(node: NodeModel, memory: int, disk: int, vcpus: int, vcpu_ratio: float,
             needs_disk: bool) -> str | None:
    """Why ``node`` cannot take the instance, or None."""
    if node.offline:
        return "offline"
    if node.drained:
        return "drained"
    if not node.vm_capable:
        return "not vm-capable"
    if not node.has_data:
        return "no data (%s)" % (node.no_data_reason or "node did not answer")
    assert node.free_memory is not None
    if node.free_memory < memory:
        return "%d MiB free memory, %d MiB needed" % (node.free_memory, memory)
    if needs_disk and (node.free_disk or 0) < disk:
        return "%d MiB free disk, %d MiB needed" % (node.free_disk or 0, disk)
    cpus = node.total_cpus or 1
    if node.i_pri_vcpus + vcpus > vcpu_ratio * cpus:
        return "%d vCPUs in use of %g allowed (%d CPUs, vcpu-ratio %g), %d more needed" % (
            node.i_pri_vcpus, vcpu_ratio * cpus, cpus, vcpu_ratio, vcpus)
    return None


def _score(node: NodeModel, memory: int) -> tuple[int, int, str]:
    assert node.free_memory is not None
    # Most memory left afterwards first; then fewer instances; then the name.
    return (-(node.free_memory - memory), node.i_pri_memory, node.name)


def allocate(model: ClusterModel, request: Mapping[str, Any]) -> list[str]:
    """The built-in answer to an "allocate" request: node UUIDs, primary first."""
    memory = int(request["memory"])
    vcpus = int(request["vcpus"])
    disk = int(request["disk_space_total"])
    template = request["disk_template"]
    # Externally shared storage (sharedfile) is not on a node's own disk.
    needs_disk = template not in constants.DTS_EXT_MIRROR and template != constants.DT_DISKLESS
    wanted = int(request["required_nodes"])
    reasons: list[str] = []
    for group_uuid in _group_order(model, request.get("group_name")):
        ratio = float(model.groups[group_uuid]["ipolicy"].get("vcpu-ratio", 4.0))
        members = sorted((n for n in model.nodes.values() if n.group == group_uuid),
                         key=lambda n: n.name)
        fitting = []
        for node in members:
            why = _why_not(node, memory, disk, vcpus, ratio, needs_disk)
            if why is None:
                fitting.append(node)
            else:
                reasons.append("%s: %s" % (node.name, why))
        fitting.sort(key=lambda n: _score(n, memory))
        if len(fitting) >= wanted:
            return [node.uuid for node in fitting[:wanted]]
        if fitting:
            reasons.append("group %s: only %d suitable node(s), %d needed"
                           % (model.groups[group_uuid]["name"], len(fitting), wanted))
    raise errors.OpPrereqError(
        "Can't find a node for instance %s (%d MiB memory, %d vCPUs, %d MiB disk): %s"
        % (request["name"], memory, vcpus, disk,
           "; ".join(reasons) or "no node group allows allocation"), errors.ECODE_NORES)


def relocate(model: ClusterModel, request: Mapping[str, Any], memory: int, vcpus: int,
             group_uuid: str) -> list[str]:
    """The built-in answer to a "relocate": a new node in the same group, not one of
    ``relocate_from``."""
    excluded = set(request["relocate_from"])
    sub = ClusterModel(model.cluster_name, model.cluster_tags, model.enabled_hypervisors,
                       model.ipolicy, {group_uuid: model.groups[group_uuid]},
                       {uuid: node for uuid, node in model.nodes.items()
                        if node.name not in excluded})
    return allocate(sub, {"name": request["name"], "memory": memory, "vcpus": vcpus,
                          "disk_space_total": request["disk_space_total"],
                          "disk_template": constants.DT_SHARED_FILE, "required_nodes": 1})
