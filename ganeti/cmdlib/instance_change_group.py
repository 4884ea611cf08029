"""gnt-instance change-group and gnt-group evacuate: OpInstanceChangeGroup and
OpGroupEvacuate.

Both ask an allocator (``change-group`` request; built-in unless ``-I`` names a
script) for a node in another group for each instance, and return the jobs that
move them (``ResultWithJobs``): shared-storage and diskless instances migrate
(a stopped one fails over), file and plain ones are copied (instance move). If
any instance cannot move, nothing is submitted. The target groups are the ones
given (``--to``), or every allocatable group the instance does not use.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ganeti import allocator, constants, errors, iallocator, locking, objects, opcodes
from ganeti.cmdlib import instance_utils as iu
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import FeedbackFn, LogicalUnit, ResultWithJobs, require_nodegroup
from ganeti.cmdlib.node_evacuate import evacuation_jobs
from ganeti.config import ConfigWriter


def group_uuids(cfg: ConfigWriter, names: Iterable[str]) -> list[str]:
    """UUIDs of the named groups; OpPrereqError naming an unknown one."""
    uuids = []
    for name in names:
        group = require_nodegroup(cfg, name)
        assert group.uuid is not None
        uuids.append(group.uuid)
    return list(dict.fromkeys(uuids))


def _instance_groups(cfg: ConfigWriter, inst: objects.Instance) -> set[str]:
    return {cfg.get_node_info(uuid).group
            for uuid in cfg.get_instance_nodes(iu.instance_uuid(inst))}


def _default_targets(cfg: ConfigWriter, excluded: set[str]) -> list[str]:
    """Every group new instances may go to, but ``excluded``."""
    return sorted(uuid for uuid, group in cfg.get_nodegroups().items()
                  if uuid not in excluded
                  and group.alloc_policy != constants.ALLOC_POLICY_UNALLOCABLE)


def _group_names(cfg: ConfigWriter, uuids: Iterable[str]) -> str:
    return ", ".join(cfg.get_nodegroup(uuid).name for uuid in uuids)


def _change_group_jobs(lu: LogicalUnit, instance_names: list[str], target_uuids: list[str],
                       early_release: bool) -> list[list[opcodes.OpCode]]:
    model = iallocator.build_model(lu)
    request = iallocator.change_group_request(instance_names, target_uuids)
    name, result = allocator.run_request(lu, lu.op.get("iallocator"), model, request)
    return evacuation_jobs(lu, name, result, early_release, show_nodes=False)


@lu_for(opcodes.OpInstanceChangeGroup)
class LUInstanceChangeGroup(LogicalUnit):
    """Move one instance to another node group (as follow-up jobs)."""

    HPATH = "instance-change-group"
    HTYPE = constants.HTYPE_INSTANCE
    REQ_BGL = False

    def expand_names(self) -> None:
        self.inst = iu.expand_instance(self.cfg, self.op.instance_name)
        self.op.instance_name = self.inst.name
        self.requested = group_uuids(self.cfg, self.op.get("target_groups") or [])
        self.needed_locks = {locking.LEVEL_INSTANCE: [self.inst.name],
                             locking.LEVEL_NODE: locking.ALL_SET}
        self.share_locks = dict.fromkeys(locking.LEVELS, True)

    def check_prereq(self) -> None:
        used = _instance_groups(self.cfg, self.inst)
        if self.requested:
            conflicting = [uuid for uuid in self.requested if uuid in used]
            if conflicting:
                raise errors.OpPrereqError("Can't use group(s) '%s' as targets, they are used"
                                           " by the instance '%s'"
                                           % (_group_names(self.cfg, conflicting),
                                              self.inst.name), errors.ECODE_INVAL)
            self.target_uuids = self.requested
        else:
            self.target_uuids = _default_targets(self.cfg, used)
        if not self.target_uuids:
            raise errors.OpPrereqError("There are no possible target groups",
                                       errors.ECODE_INVAL)

    def build_hooks_env(self) -> dict[str, Any]:
        env = iu.instance_hooks_env(self.cfg, self.inst)
        env["TARGET_GROUPS"] = " ".join(self.target_uuids)
        return env

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        master = [self.cfg.get_master_node()]
        return master, master

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        jobs = _change_group_jobs(self, [self.inst.name], self.target_uuids,
                                  self.op.early_release)
        self.log_info("Iallocator returned %s job(s) for changing group of instance '%s'",
                      len(jobs), self.inst.name)
        return ResultWithJobs(jobs)


@lu_for(opcodes.OpGroupEvacuate)
class LUGroupEvacuate(LogicalUnit):
    """Move every instance out of a node group (as follow-up jobs)."""

    HPATH = "group-evacuate"
    HTYPE = constants.HTYPE_GROUP
    REQ_BGL = False

    def expand_names(self) -> None:
        group = require_nodegroup(self.cfg, self.op.group_name)
        assert group.uuid is not None
        self.group_uuid, self.op.group_name = group.uuid, group.name
        self.requested = group_uuids(self.cfg, self.op.get("target_groups") or [])
        if self.group_uuid in self.requested:
            raise errors.OpPrereqError("Group to be evacuated (%s) can not be used as a target"
                                       " group (targets are %s)"
                                       % (group.name, _group_names(self.cfg, self.requested)),
                                       errors.ECODE_INVAL)
        self.instance_names = self._group_instances()
        self.needed_locks = {locking.LEVEL_INSTANCE: self.instance_names,
                             locking.LEVEL_NODE: locking.ALL_SET}
        self.share_locks = dict.fromkeys(locking.LEVELS, True)

    def _group_instances(self) -> list[str]:
        """Names of the instances with a node in the group."""
        members = set(self.cfg.get_nodegroup_members(self.group_uuid))
        return sorted(inst.name for uuid, inst in self.cfg.get_all_instances_info().items()
                      if members.intersection(self.cfg.get_instance_nodes(uuid)))

    def check_prereq(self) -> None:
        current = self._group_instances()
        if current != self.instance_names:
            raise errors.OpPrereqError("Instances in node group %s changed since the locks"
                                       " were acquired (now %s, were %s); retry the"
                                       " operation" % (self.op.group_name,
                                                       ", ".join(current) or "none",
                                                       ", ".join(self.instance_names)
                                                       or "none"), errors.ECODE_STATE)
        self.target_uuids = self.requested or _default_targets(self.cfg, {self.group_uuid})
        if not self.target_uuids:
            raise errors.OpPrereqError("There are no possible target groups",
                                       errors.ECODE_INVAL)

    def build_hooks_env(self) -> dict[str, Any]:
        return {"GROUP_NAME": self.op.group_name,
                "TARGET_GROUPS": " ".join(self.target_uuids)}

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        nodes = [self.cfg.get_master_node(), *self.cfg.get_nodegroup_members(self.group_uuid)]
        nodes = list(dict.fromkeys(nodes))
        return nodes, nodes

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        if not self.instance_names:
            self.log_info("No instances to evacuate from node group %s", self.op.group_name)
            return ResultWithJobs([])
        jobs = _change_group_jobs(self, self.instance_names, self.target_uuids,
                                  self.op.early_release)
        self.log_info("Iallocator returned %s job(s) for evacuating node group %s",
                      len(jobs), self.op.group_name)
        if self.op.force_failover:
            self.log_info("Will insist on failovers")
            jobs = [[_as_failover(op) for op in job] for job in jobs]
        if self.op.sequential:
            self.log_info("Jobs will be submitted to run sequentially")
            for job in jobs[1:]:
                for op in job:
                    op.depends = [[-1, [constants.JOB_STATUS_ERROR,
                                        constants.JOB_STATUS_SUCCESS]]]
        return ResultWithJobs(jobs)


def _as_failover(op: opcodes.OpCode) -> opcodes.OpCode:
    """The failover doing what a migration opcode asks (other opcodes unchanged)."""
    if not isinstance(op, opcodes.OpInstanceMigrate):
        return op
    params = {key: op.get(key) for key in ("target_node", "iallocator")
              if op.get(key) is not None}
    return opcodes.OpInstanceFailover(instance_name=op.instance_name,
                                      ignore_ipolicy=op.ignore_ipolicy, cleanup=op.cleanup,
                                      **params)
