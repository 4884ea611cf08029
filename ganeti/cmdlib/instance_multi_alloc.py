"""OpInstanceMultiAlloc: place several new instances at once (gnt-instance
batch-create, RAPI /2/instances-multi-alloc).

Either every instance names its primary node, or none does and one allocator
places them all (``multi-allocate`` request, each placement seeing the ones
before it). The result is one OpInstanceCreate job per instance that found a
node (``ResultWithJobs``) plus Ganeti's ``allocatable`` and ``failed`` lists
of instance names; instances that fit nowhere are listed, not created.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ganeti import allocator, constants, errors, iallocator, locking, opcodes, paramdefs
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import FeedbackFn, NoHooksLU, ResultWithJobs
from ganeti.cmdlib.instance_create import parse_disk_specs


@lu_for(opcodes.OpInstanceMultiAlloc)
class LUInstanceMultiAlloc(NoHooksLU):
    """Allocate nodes for several instances and submit their creation jobs."""

    REQ_BGL = False

    def check_arguments(self) -> None:
        self.creates = self.op.create_opcodes()
        if not self.creates:
            raise errors.OpPrereqError("No instances given to allocate", errors.ECODE_INVAL)
        with_nodes = []
        for create in self.creates:
            if create.get("iallocator") is not None:
                raise errors.OpPrereqError("iallocator are not allowed to be set on instance"
                                           " objects (instance %s)" % create.instance_name,
                                           errors.ECODE_INVAL)
            with_nodes.append(bool(create.get("pnode")))
        if any(with_nodes) and not all(with_nodes):
            raise errors.OpPrereqError("There are instance objects providing pnode/snode"
                                       " while others do not", errors.ECODE_INVAL)
        self.use_allocator = not any(with_nodes)
        duplicates = sorted(name for name, count in Counter(
            create.instance_name for create in self.creates).items() if count > 1)
        if duplicates:
            raise errors.OpPrereqError("There are duplicate instance names: %s"
                                       % ", ".join(duplicates), errors.ECODE_INVAL)

    def expand_names(self) -> None:
        if self.use_allocator:
            nodes: Any = locking.ALL_SET
        else:
            nodes = sorted({self.expand_node(create.pnode)[0] for create in self.creates})
        self.needed_locks = {locking.LEVEL_NODE: nodes}
        self.share_locks = dict.fromkeys(locking.LEVELS, True)

    def _request(self, create: opcodes.OpCode) -> dict[str, Any]:
        """The allocation request of one instance."""
        cluster = self.cfg.get_cluster_info()
        template = create.get("disk_template")
        if not template:
            raise errors.OpPrereqError("Instance %s: no disk template given"
                                       % create.instance_name, errors.ECODE_INVAL)
        try:
            be = cluster.fill_beparams(create.get("beparams") or {})
        except errors.ParameterError as err:
            raise errors.OpPrereqError("Instance %s: %s" % (create.instance_name, err),
                                       errors.ECODE_INVAL) from err
        try:
            disks = parse_disk_specs(template, list(create.disks))
        except errors.OpPrereqError as err:
            raise errors.OpPrereqError("Instance %s: %s" % (create.instance_name,
                                                            err.args[0]),
                                       errors.ECODE_INVAL) from err
        return iallocator.allocate_request(
            name=create.instance_name, disk_template=template,
            memory=int(be[paramdefs.BE_MAXMEM]), vcpus=int(be[paramdefs.BE_VCPUS]),
            disks=disks, nics=[dict(nic) for nic in create.nics], os=create.os_type or "",
            hypervisor=create.get("hypervisor") or (cluster.enabled_hypervisors or [""])[0],
            tags=list(create.get("tags") or []), spindle_use=int(be["spindle_use"]),
            group_name=create.get("group_name"))

    def check_prereq(self) -> None:
        names = [create.instance_name for create in self.creates]
        existing = [name for name in names if self.cfg.find_instance(name) is not None]
        if existing:
            raise errors.OpPrereqError("Instance(s) %s already exist" % ", ".join(existing),
                                       errors.ECODE_EXISTS)
        if not self.use_allocator:
            self.allocatable = [[name, [create.pnode]] for name, create
                                in zip(names, self.creates, strict=True)]
            self.failed: list[str] = []
        else:
            model = iallocator.build_model(self)
            request = iallocator.multi_allocate_request(
                [self._request(create) for create in self.creates])
            used, result = allocator.run_request(self, self.op.get("iallocator"), model,
                                                 request)
            self.allocatable, self.failed = self._checked(used, result, names, model)
        self.dry_run_result = {constants.ALLOCATABLE_KEY: [n for n, _ in self.allocatable],
                               constants.FAILED_KEY: self.failed, constants.JOB_IDS_KEY: []}

    @staticmethod
    def _checked(used: str, result: Any, names: list[str], model: iallocator.ClusterModel
                 ) -> tuple[list[list[Any]], list[str]]:
        """The allocator's ``[allocated, failed]``, every instance answered for once."""
        allocated, failed = result
        answered: list[str] = []
        for entry in allocated:
            if not (isinstance(entry, list) and len(entry) == 2
                    and isinstance(entry[1], list) and entry[1]):
                raise errors.OpPrereqError("Instance allocator %s returned a malformed"
                                           " placement: %r" % (used, entry),
                                           errors.ECODE_NORES)
            for node_name in entry[1]:
                node = model.node_by_name(node_name)
                if node is None or not node.usable:
                    raise errors.OpPrereqError("Instance allocator %s chose node %r for"
                                               " instance %s, which is unknown, offline,"
                                               " drained or not vm-capable"
                                               % (used, node_name, entry[0]),
                                               errors.ECODE_NORES)
            answered.append(entry[0])
        answered.extend(failed)
        if sorted(answered) != sorted(names):
            raise errors.OpPrereqError("Instance allocator %s answered for %s, asked for %s"
                                       % (used, ", ".join(sorted(map(str, answered))),
                                          ", ".join(sorted(names))), errors.ECODE_NORES)
        return allocated, list(failed)

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        by_name = {create.instance_name: create for create in self.creates}
        jobs = []
        for name, nodes in self.allocatable:
            create = by_name[name].copy()
            create.pnode = nodes[0]
            if len(nodes) > 1:
                create.snode = nodes[1]
            jobs.append([create])
        if self.failed:
            self.log_warning("No node found for instance(s) %s; they are not created",
                             ", ".join(self.failed))
        allocatable = [name for name, _ in self.allocatable]
        return ResultWithJobs(jobs, **{constants.ALLOCATABLE_KEY: allocatable,
                                       constants.FAILED_KEY: self.failed})
