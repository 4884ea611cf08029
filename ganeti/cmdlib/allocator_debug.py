"""OpTestAllocator (gnt-debug allocator): show an allocator request, or its answer.

Direction ``in`` returns the JSON document an allocator would read for the
request (a made-up instance for ``allocate``/``multi-allocate``, existing
instances for the other modes); direction ``out`` runs the allocator on it
(the built-in one, or a script) and returns its answer as JSON text.
"""

from __future__ import annotations

from typing import Any

from ganeti import allocator, constants, errors, iallocator, opcodes, serializer
from ganeti.cmdlib import instance_utils as iu
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import FeedbackFn, QueryLU
from ganeti.cmdlib.instance_change_group import group_uuids

_NEW_INSTANCE_MODES = (constants.IALLOCATOR_MODE_ALLOC, constants.IALLOCATOR_MODE_MULTI_ALLOC)


@lu_for(opcodes.OpTestAllocator)
class LUTestAllocator(QueryLU):
    """Build an allocator request and show it, or run the allocator on it."""

    def check_prereq(self) -> None:
        op, cfg = self.op, self.cfg
        mode = op.mode
        if mode in _NEW_INSTANCE_MODES:
            for field in ("memory", "vcpus", "disks"):
                if op.get(field) is None:
                    raise errors.OpPrereqError("Missing '%s' for a %s request" % (field, mode),
                                               errors.ECODE_INVAL)
            if cfg.find_instance(op.name) is not None:
                raise errors.OpPrereqError("Instance '%s' already in the cluster" % op.name,
                                           errors.ECODE_EXISTS)
            for index, disk in enumerate(op.disks):
                if not (isinstance(disk, dict) and isinstance(disk.get("size"), int)
                        and disk.get("mode", constants.DISK_RDWR)
                        in constants.DISK_ACCESS_SET):
                    raise errors.OpPrereqError("Invalid contents of the 'disks' parameter"
                                               " (disk %d: %r)" % (index, disk),
                                               errors.ECODE_INVAL)
        elif mode in (constants.IALLOCATOR_MODE_RELOC,
                      constants.IALLOCATOR_MODE_ALLOCATE_SECONDARY):
            iu.expand_instance(cfg, op.name)
        else:
            names = op.get("instances") or []
            if not names:
                raise errors.OpPrereqError("Missing instances", errors.ECODE_INVAL)
            self.instance_names = [iu.expand_instance(cfg, name).name for name in names]
            self.target_uuids = group_uuids(cfg, op.get("target_groups") or [])
        if op.direction == constants.IALLOCATOR_DIR_OUT and not op.get("iallocator"):
            raise errors.OpPrereqError("Missing allocator name", errors.ECODE_INVAL)

    def _request(self, template: str) -> dict[str, Any]:
        op, cluster = self.op, self.cfg.get_cluster_info()
        mode = op.mode
        if mode in _NEW_INSTANCE_MODES:
            def one(name: str) -> dict[str, Any]:
                return iallocator.allocate_request(
                    name=name, disk_template=template, memory=op.memory, vcpus=op.vcpus,
                    disks=op.disks, nics=op.get("nics") or [], os=op.get("os") or "",
                    hypervisor=op.get("hypervisor") or cluster.enabled_hypervisors[0],
                    tags=op.get("tags") or [], spindle_use=op.spindle_use,
                    group_name=op.get("group_name"))
            if mode == constants.IALLOCATOR_MODE_ALLOC:
                return one(op.name)
            return iallocator.multi_allocate_request(
                [one("%s%d" % (op.name, index)) for index in range(op.count)])
        if mode == constants.IALLOCATOR_MODE_RELOC:
            inst = iu.expand_instance(self.cfg, op.name)
            disks = self.cfg.get_instance_disks(iu.instance_uuid(inst))
            return iallocator.relocate_request(
                inst.name, iallocator.disk_space_total(template, [{"size": d.size}
                                                                  for d in disks]),
                [iu.node_name(self.cfg, uuid) for uuid in
                 self.cfg.get_instance_secondary_nodes(iu.instance_uuid(inst))])
        if mode == constants.IALLOCATOR_MODE_ALLOCATE_SECONDARY:
            return {"type": mode, "name": iu.expand_instance(self.cfg, op.name).name}
        if mode == constants.IALLOCATOR_MODE_NODE_EVAC:
            return iallocator.node_evacuate_request(self.instance_names,
                                                    op.get("evac_mode")
                                                    or constants.NODE_EVAC_ALL)
        return iallocator.change_group_request(self.instance_names, self.target_uuids)

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        template = self.op.get("disk_template") or \
            self.cfg.get_cluster_info().enabled_disk_templates[0]
        model = iallocator.build_model(self, template)
        request = self._request(template)
        if self.op.direction == constants.IALLOCATOR_DIR_IN:
            return serializer.dump(iallocator.build_input(model, request))
        name = allocator.resolve_name(self, self.op.iallocator)
        if name != allocator.BUILTIN:
            # The script's own answer, unchanged, as Ganeti shows it.
            return iallocator.run_allocator_text(self.context.paths, name,
                                                 iallocator.build_input(model, request))
        try:
            if request["type"] == constants.IALLOCATOR_MODE_ALLOC:
                chosen = allocator.allocate(model, request)
                result: Any = [model.nodes[uuid].name for uuid in chosen]
            else:
                result = allocator.run_request(self, name, model, request)[1]
        except errors.OpPrereqError as err:
            return serializer.dump({"success": False, "info": str(err.args[0]),
                                    "result": None})
        return serializer.dump({"success": True, "info": "built-in allocator",
                                "result": result})
