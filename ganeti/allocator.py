"""Choosing nodes for instances: the built-in allocator and the external ones.

``choose_nodes`` is the one entry point for ``-I`` (and the default allocator).
The built-in allocator works on ``iallocator.ClusterModel`` (configuration plus
live node figures): it places an instance on the usable node (online, not
drained, vm-capable, in an allocatable group) with the most free memory left
afterwards, among those with enough free memory, disk space and vCPUs (the
group's ``vcpu-ratio`` policy). Templates mirrored between two nodes need a
secondary that could take the instance over (N+1 memory). Groups are tried in
their policy's order (preferred before last_resort; unallocable never).

``run_request`` answers the requests that move or place several instances
(node-evacuate, change-group, multi-allocate) with the built-in functions of the
same names or with a script; their answers have the protocol's shapes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
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
        names = run_external(lu, allocator, model, request)
        chosen = _check_external_answer(model, allocator, names, request)
    lu.log_info("Allocator %s selected node(s) %s for instance %s", allocator,
                ", ".join(model.nodes[uuid].name for uuid in chosen), name)
    return chosen


def run_external(lu: LogicalUnit, allocator: str, model: ClusterModel,
                 request: Mapping[str, Any], extra_params: Mapping[str, Any] | None = None
                 ) -> Any:
    """Run the allocator script ``allocator`` on ``request``; its checked ``result``.

    The cluster's ``default_iallocator_params`` go to the default allocator only;
    ``extra_params`` (``--name[=value]`` options) to any.
    """
    cluster = lu.cfg.get_cluster_info()
    params = dict(cluster.default_iallocator_params
                  if allocator == cluster.default_iallocator else {})
    params.update(extra_params or {})
    return iallocator.run_allocator(lu.context.paths, allocator,
                                    iallocator.build_input(model, request), params)


def run_request(lu: LogicalUnit, iallocator_name: str | None, model: ClusterModel,
                request: Mapping[str, Any], extra_params: Mapping[str, Any] | None = None
                ) -> tuple[str, Any]:
    """(allocator name, result) of a node-evacuate, change-group or multi-allocate
    request, answered by the built-in allocator or by a script."""
    allocator = resolve_name(lu, iallocator_name)
    if allocator != BUILTIN:
        return allocator, run_external(lu, allocator, model, request, extra_params)
    handlers = {constants.IALLOCATOR_MODE_NODE_EVAC: node_evacuate,
                constants.IALLOCATOR_MODE_CHG_GROUP: change_group,
                constants.IALLOCATOR_MODE_MULTI_ALLOC: multi_allocate}
    handler = handlers.get(request["type"])
    if handler is None:
        raise errors.OpPrereqError("The built-in allocator does not answer %r requests"
                                   % request["type"], errors.ECODE_INVAL)
    return allocator, handler(model, request)


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


def _fitting_nodes(model: ClusterModel, group_uuid: str, memory: int, disk: int, vcpus: int,
                   needs_disk: bool, reasons: list[str],
                   excluded: Collection[str] = ()) -> list[NodeModel]:
    """The group's nodes (but ``excluded`` names) that could take an instance, best
    first; why the others cannot is appended to ``reasons``."""
    ratio = float(model.groups[group_uuid]["ipolicy"].get("vcpu-ratio", 4.0))
    fitting = []
    for node in sorted((n for n in model.nodes.values() if n.group == group_uuid),
                       key=lambda n: n.name):
        if node.name in excluded:
            continue
        why = _why_not(node, memory, disk, vcpus, ratio, needs_disk)
        if why is None:
            fitting.append(node)
        else:
            reasons.append("%s: %s" % (node.name, why))
    fitting.sort(key=lambda n: _score(n, memory))
    return fitting


def allocate(model: ClusterModel, request: Mapping[str, Any]) -> list[str]:
    """The built-in answer to an "allocate" request: node UUIDs, primary first."""
    memory = int(request["memory"])
    vcpus = int(request["vcpus"])
    disk = int(request["disk_space_total"])
    template = request["disk_template"]
    # Externally shared storage (sharedfile) is not on a node's own disk.
    needs_disk = _needs_disk(template)
    wanted = int(request["required_nodes"])
    reasons: list[str] = []
    for group_uuid in _group_order(model, request.get("group_name")):
        fitting = _fitting_nodes(model, group_uuid, memory, disk, vcpus, needs_disk,
                                 reasons)
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


# -- moving and placing several instances: node-evacuate, change-group, multi-allocate ------

#: Templates whose disks every node reaches: such instances migrate (or fail over).
SHARED_TEMPLATES = constants.DTS_EXT_MIRROR | frozenset([constants.DT_DISKLESS])
#: Templates whose disks the built-in allocator moves by copying (gnt-instance move).
COPIED_TEMPLATES = frozenset([constants.DT_FILE, constants.DT_PLAIN])


def _needs_disk(template: str) -> bool:
    """Whether the template's disks take space on the node itself."""
    return template not in SHARED_TEMPLATES


def _book(node: NodeModel, memory: int, vcpus: int, disk: int) -> None:
    """Count an instance placed on ``node``, so later choices of the request see it."""
    if node.free_memory is not None:
        node.free_memory -= memory
    if node.free_disk is not None:
        node.free_disk -= disk
    node.i_pri_memory += memory
    node.i_pri_vcpus += vcpus


def _running_memory(instance: Mapping[str, Any]) -> int:
    """Memory the instance needs on its new node: none when it is not marked up."""
    return int(instance["memory"]) if instance["admin_state"] == constants.ADMINST_UP else 0


def _migrate_job(name: str, target: str) -> list[dict[str, Any]]:
    # A stopped instance (or one with always_failover) is failed over instead.
    return [{"OP_ID": "OP_INSTANCE_MIGRATE", "instance_name": name, "target_node": target,
             "allow_failover": True, "ignore_hvversions": True}]


def _move_job(name: str, target: str) -> list[dict[str, Any]]:
    return [{"OP_ID": "OP_INSTANCE_MOVE", "instance_name": name, "target_node": target}]


def _relocate(model: ClusterModel, name: str, instance: Mapping[str, Any],
              group_uuids: Sequence[str]) -> tuple[NodeModel | None, str]:
    """The best node for ``instance`` in the first of ``group_uuids`` that has one
    (never its current nodes), booked in the model; or (None, why not)."""
    template = instance["disk_template"]
    memory, vcpus = _running_memory(instance), int(instance["vcpus"])
    disk = int(instance["disk_space_total"]) if _needs_disk(template) else 0
    reasons: list[str] = []
    for group_uuid in group_uuids:
        fitting = _fitting_nodes(model, group_uuid, memory, disk, vcpus, _needs_disk(template),
                                 reasons, excluded=instance["nodes"])
        if fitting:
            target = fitting[0]
            _book(target, memory, vcpus, disk)
            return target, ""
    return None, "no node can take instance %s: %s" % (
        name, "; ".join(reasons) or "no other node in the group(s)")


def _unknown_or_unmovable(model: ClusterModel, name: str, mode: str | None) -> str | None:
    """Why the built-in allocator cannot move instance ``name`` at all, or None."""
    instance = model.instances.get(name)
    if instance is None:
        return "instance %s is not known" % name
    template = instance["disk_template"]
    if mode == constants.NODE_EVAC_SEC and template not in constants.DTS_INT_MIRROR:
        return "Instances with disk template '%s' can't execute change secondary" % template
    if template in constants.DTS_INT_MIRROR:
        return "the built-in allocator does not move %s instances" % template
    if mode is not None and template not in SHARED_TEMPLATES:
        return ("Instances of type %s cannot be relocated (use gnt-instance move to copy"
                " them to another node)" % template)
    if template not in SHARED_TEMPLATES | COPIED_TEMPLATES:
        return "the built-in allocator does not move %s instances" % template
    return None


def node_evacuate(model: ClusterModel, request: Mapping[str, Any]) -> list[list[Any]]:
    """The built-in answer to a "node-evacuate" request: ``[moved, failed, jobs]``.

    Instances on shared storage (and diskless ones) migrate to the best node of their
    own group (a stopped one fails over); other templates are refused, as Ganeti's
    allocator does. ``moved`` is ``[[name, group name, [node]], …]``, ``failed``
    ``[[name, reason], …]`` and ``jobs`` one job (a list of opcodes) per moved instance.
    """
    moved: list[list[Any]] = []
    failed: list[list[str]] = []
    jobs: list[list[dict[str, Any]]] = []
    for name in request["instances"]:
        why = _unknown_or_unmovable(model, name, request["evac_mode"])
        if why is not None:
            failed.append([name, why])
            continue
        instance = model.instances[name]
        primary = model.node_by_name(instance["nodes"][0])
        if primary is None:
            failed.append([name, "its primary node %s is not known" % instance["nodes"][0]])
            continue
        target, why = _relocate(model, name, instance, [primary.group])
        if target is None:
            failed.append([name, why])
            continue
        moved.append([name, model.groups[target.group]["name"], [target.name]])
        jobs.append(_migrate_job(name, target.name))
    return [moved, failed, jobs]


def change_group(model: ClusterModel, request: Mapping[str, Any]) -> list[list[Any]]:
    """The built-in answer to a "change-group" request: ``[moved, failed, jobs]``.

    Each instance goes to the best node of the first target group (policy order;
    default: every allocatable group but its own) with room: shared-storage and
    diskless instances migrate there, file and plain ones are copied (instance move).
    """
    moved: list[list[Any]] = []
    failed: list[list[str]] = []
    jobs: list[list[dict[str, Any]]] = []
    for name in request["instances"]:
        why = _unknown_or_unmovable(model, name, None)
        if why is not None:
            failed.append([name, why])
            continue
        instance = model.instances[name]
        own_groups = {node.group for node in model.nodes.values()
                      if node.name in instance["nodes"]}
        wanted = list(request["target_groups"]) or [
            uuid for uuid in _group_order(model, None) if uuid not in own_groups]
        groups = sorted((uuid for uuid in wanted if uuid in model.groups),
                        key=lambda uuid: (_POLICY_ORDER.get(model.groups[uuid]["alloc_policy"],
                                                            len(_POLICY_ORDER)),
                                          model.groups[uuid]["name"]))
        target, why = _relocate(model, name, instance, groups)
        if target is None:
            failed.append([name, why if groups else "no target group"])
            continue
        moved.append([name, model.groups[target.group]["name"], [target.name]])
        job = _migrate_job if instance["disk_template"] in SHARED_TEMPLATES else _move_job
        jobs.append(job(name, target.name))
    return [moved, failed, jobs]


def multi_allocate(model: ClusterModel, request: Mapping[str, Any]) -> list[list[Any]]:
    """The built-in answer to a "multi-allocate" request: ``[allocated, failed]``, with
    ``allocated`` as ``[[name, [node, …]], …]`` and ``failed`` the names that fit nowhere.

    Instances are placed one after the other, each seeing the ones placed before it.
    """
    allocated: list[list[Any]] = []
    failed: list[str] = []
    for wanted in request["instances"]:
        try:
            chosen = allocate(model, wanted)
        except errors.OpPrereqError:
            failed.append(wanted["name"])
            continue
        disk = int(wanted["disk_space_total"]) if _needs_disk(wanted["disk_template"]) else 0
        for uuid in chosen:
            _book(model.nodes[uuid], int(wanted["memory"]), int(wanted["vcpus"]), disk)
        allocated.append([wanted["name"], [model.nodes[uuid].name for uuid in chosen]])
    return [allocated, failed]
