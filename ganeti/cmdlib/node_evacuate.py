"""gnt-node migrate and evacuate: OpNodeMigrate and OpNodeEvacuate.

Neither moves an instance itself: each computes one job per instance and
returns the jobs (``ResultWithJobs``), which the job queue submits; their ids
are the opcode's result (``{"jobs": [[true, id], …]}``), and the client
follows them. Node migration asks one OpInstanceMigrate per primary instance
(each picks its target: the given node, an allocator, or the built-in one).
Node evacuation asks an allocator (``node-evacuate`` request, built-in unless
``-I`` names a script such as hail) where each instance goes, and refuses the
whole request, changing nothing, if any instance cannot move.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ganeti import allocator, constants, errors, iallocator, locking, opcodes
from ganeti.cmdlib import instance_utils as iu
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import FeedbackFn, LogicalUnit, NoHooksLU, ResultWithJobs

#: Opcodes an allocator's evacuation or group-change jobs may hold.
EVACUATION_OPCODES = frozenset(["OP_INSTANCE_FAILOVER", "OP_INSTANCE_MIGRATE",
                                "OP_INSTANCE_REPLACE_DISKS", "OP_INSTANCE_MOVE"])


def evacuation_jobs(lu: LogicalUnit, allocator_name: str, result: Sequence[Any],
                    early_release: bool, show_nodes: bool) -> list[list[opcodes.OpCode]]:
    """The jobs of a node-evacuate or change-group answer ``[moved, failed, jobs]``.

    Any failed instance fails the whole request (OpExecError naming each and why),
    so that nothing moves. Every opcode is validated and must be one that moves an
    instance; ``early_release`` is passed on to the opcodes that take it.
    """
    moved, failed, jobs = result
    if failed:
        reasons = ", ".join("%s (%s)" % (name, reason) for name, reason in failed)
        lu.log_warning("Unable to evacuate instances %s", reasons)
        raise errors.OpExecError("Unable to evacuate instances %s" % reasons)
    if moved:
        lu.log_info("Instances to be moved: %s", ", ".join(
            "%s (to %s)" % (name, ", ".join(nodes) if show_nodes else group)
            for name, group, nodes in moved))
    loaded: list[list[opcodes.OpCode]] = []
    for job in jobs:
        ops = []
        for data in job:
            if not isinstance(data, dict) or data.get("OP_ID") not in EVACUATION_OPCODES:
                raise errors.OpExecError("Instance allocator %s answered with an opcode that"
                                         " does not move an instance: %r"
                                         % (allocator_name, data))
            try:
                op = opcodes.OpCode.from_dict(data)
            except errors.GenericError as err:
                raise errors.OpExecError("Instance allocator %s answered with an invalid"
                                         " opcode: %s" % (allocator_name, err)) from err
            if any(param.name == "early_release" for param in type(op).ALL_PARAMS):
                op.early_release = early_release
            ops.append(op)
        loaded.append(ops)
    return loaded


def _node_instances(lu: LogicalUnit, node_uuid: str, mode: str) -> list[str]:
    """Names of the node's instances that ``mode`` (a NODE_EVAC_* mode) moves."""
    primary, secondary = lu.cfg.get_node_instances(node_uuid)
    uuids = {constants.NODE_EVAC_PRI: primary, constants.NODE_EVAC_SEC: secondary,
             constants.NODE_EVAC_ALL: primary + secondary}[mode]
    return sorted(lu.cfg.get_instance_info(uuid).name for uuid in uuids)


@lu_for(opcodes.OpNodeMigrate)
class LUNodeMigrate(LogicalUnit):
    """One migration job per primary instance of the node."""

    HPATH = "node-migrate"
    HTYPE = constants.HTYPE_NODE
    REQ_BGL = False

    def expand_names(self) -> None:
        self.node_uuid, self.op.node_name = self.expand_node(self.op.node_name)
        if self.op.get("target_node"):
            target_uuid, self.op.target_node = self.expand_node(self.op.target_node)
            if target_uuid == self.node_uuid:
                raise errors.OpPrereqError("Cannot migrate the instances of node %s to the"
                                           " node itself" % self.op.node_name,
                                           errors.ECODE_INVAL)
        if self.op.get("target_node") and self.op.get("iallocator"):
            raise errors.OpPrereqError("Give either a target node (-n) or an allocator (-I),"
                                       " not both", errors.ECODE_INVAL)
        self.needed_locks = {locking.LEVEL_NODE: [self.node_uuid]}
        self.share_locks[locking.LEVEL_NODE] = True

    def build_hooks_env(self) -> dict[str, Any]:
        return {"NODE_NAME": self.op.node_name,
                "ALLOW_RUNTIME_CHANGES": self.op.allow_runtime_changes}

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        master = [self.cfg.get_master_node()]
        return master, master

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        names = _node_instances(self, self.node_uuid, constants.NODE_EVAC_PRI)
        if not names:
            self.log_info("No primary instances on node %s", self.op.node_name)
        params = {key: self.op.get(key) for key in ("mode", "live", "iallocator", "target_node")
                  if self.op.get(key) is not None}
        return ResultWithJobs([
            [opcodes.OpInstanceMigrate(instance_name=name,
                                       allow_runtime_changes=self.op.allow_runtime_changes,
                                       ignore_ipolicy=self.op.ignore_ipolicy, **params)]
            for name in names])


@lu_for(opcodes.OpNodeEvacuate)
class LUNodeEvacuate(NoHooksLU):
    """Move instances off a node: one job per instance, as an allocator plans them."""

    REQ_BGL = False

    def check_arguments(self) -> None:
        if self.op.get("remote_node") and self.op.get("iallocator"):
            raise errors.OpPrereqError("Give either a new secondary node (-n) or an allocator"
                                       " (-I), not both", errors.ECODE_INVAL)

    def expand_names(self) -> None:
        self.node_uuid, self.op.node_name = self.expand_node(self.op.node_name)
        if self.op.get("remote_node"):
            remote_uuid, self.op.remote_node = self.expand_node(self.op.remote_node)
            if remote_uuid == self.node_uuid:
                raise errors.OpPrereqError("Can not use evacuated node as a new secondary"
                                           " node", errors.ECODE_INVAL)
            if self.op.mode != constants.NODE_EVAC_SEC:
                raise errors.OpPrereqError("Without the use of an iallocator only secondary"
                                           " instances can be evacuated", errors.ECODE_INVAL)
        self.instance_names = _node_instances(self, self.node_uuid, self.op.mode)
        self.needed_locks = {locking.LEVEL_INSTANCE: self.instance_names,
                             locking.LEVEL_NODE: locking.ALL_SET}
        self.share_locks = dict.fromkeys(locking.LEVELS, True)

    def check_prereq(self) -> None:
        current = _node_instances(self, self.node_uuid, self.op.mode)
        if current != self.instance_names:
            raise errors.OpPrereqError("Instances on node %s changed since the locks were"
                                       " acquired (now %s, were %s); retry the operation"
                                       % (self.op.node_name, ", ".join(current) or "none",
                                          ", ".join(self.instance_names) or "none"),
                                       errors.ECODE_STATE)
        if self.op.get("remote_node"):
            # Only internally mirrored (DRBD) instances have a secondary to replace.
            for name in self.instance_names:
                inst = self.cfg.get_instance_info_by_name(name)
                template = self.cfg.get_instance_disk_template(iu.instance_uuid(inst))
                if template not in constants.DTS_INT_MIRROR:
                    raise errors.OpPrereqError(
                        "Instance %s has disk template %s, which has no secondary node to"
                        " replace" % (name, template), errors.ECODE_STATE)
        if self.instance_names:
            self.log_info("Evacuating instances from node '%s': %s", self.op.node_name,
                          ", ".join(self.instance_names))
        else:
            self.log_info("No instances to evacuate from node '%s'", self.op.node_name)

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        if not self.instance_names:
            return ResultWithJobs([])
        if self.op.get("remote_node"):
            return ResultWithJobs([
                [opcodes.OpInstanceReplaceDisks(
                    instance_name=name, remote_node=self.op.remote_node, disks=[],
                    mode=constants.REPLACE_DISK_CHG, early_release=self.op.early_release)]
                for name in self.instance_names])
        model = iallocator.build_model(self)
        request = iallocator.node_evacuate_request(self.instance_names, self.op.mode)
        # hail's option; the built-in allocator has no soft errors to ignore.
        extra = {"ignore-soft-errors": True} if self.op.get("ignore_soft_errors") else {}
        name, result = allocator.run_request(self, self.op.get("iallocator"), model, request,
                                             extra)
        jobs = evacuation_jobs(self, name, result, self.op.early_release, show_nodes=True)
        return ResultWithJobs(jobs)
