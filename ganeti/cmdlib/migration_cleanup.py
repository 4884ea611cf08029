"""gnt-instance migrate --cleanup: repair a migration interrupted between two nodes.

The hypervisors of every online node say where the instance really runs:

- on its primary node only: the configuration is right; a migration marker left
  on the source is cleared (so the next migration may start);
- on one other node only: the migration went through; that node becomes the
  primary node;
- on the primary and one other node: the source's hypervisor says whether the
  migration completed. If it did, the source's copy is dropped and the other
  node becomes primary; if not, the migration is aborted on both sides. If both
  copies still run after that, the operation stops and says so (only an
  administrator can tell which copy is right);
- nowhere: nothing to decide; the instance should be stopped and started again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ganeti import errors
from ganeti.cmdlib import instance_utils as iu
from ganeti.cmdlib.base import FeedbackFn

if TYPE_CHECKING:
    from ganeti.cmdlib.instance_migration import LUInstanceMigrate

#: A hypervisor's status of a migration that finished (hv_base.HV_MIGRATION_COMPLETED).
_MIGRATION_COMPLETED = "completed"


def _locations(lu: LUInstanceMigrate, feedback_fn: FeedbackFn) -> list[str]:
    """UUIDs of the online nodes whose hypervisor runs the instance."""
    feedback_fn("* checking where the instance actually runs (if this hangs, the hypervisor"
                " might be in a bad state)")
    inst = lu.inst
    cluster = lu.cfg.get_cluster_info()
    online = lu.cfg.get_online_node_list()
    answers = lu.rpc.call("instance_list", lu.context.node_addresses(online),
                          [[inst.hypervisor],
                           {inst.hypervisor: cluster.fill_hvparams_for(inst.hypervisor)}])
    found = []
    for uuid in online:
        name = iu.node_name(lu.cfg, uuid)
        answer = answers.get(name)
        if answer is None or not answer.success:
            raise errors.OpExecError("Can't contact node %s: %s" % (
                name, iu.result_error(answer) if answer is not None else "no answer"))
        if inst.name in answer.payload:
            found.append(uuid)
    return found


def _finalize_source(lu: LUInstanceMigrate, success: bool) -> None:
    source = iu.node_address(lu, lu.inst.primary_node)
    result = lu.rpc.call_one("instance_finalize_migration_src", source,
                             [iu.instance_rpc_dict(lu.cfg, lu.inst), success, True])
    if not result.success:
        raise errors.OpExecError("Node %s could not finish the migration of instance %s: %s"
                                 % (source.name, lu.inst.name, iu.result_error(result)))


def _abort(lu: LUInstanceMigrate, other_uuid: str) -> None:
    """Abort the migration on both sides (the instance stays on its primary)."""
    data = iu.instance_rpc_dict(lu.cfg, lu.inst)
    source = iu.node_address(lu, lu.inst.primary_node)
    target = iu.node_address(lu, other_uuid)
    info = lu.rpc.call_one("migration_info", source, [data])
    aborted = lu.rpc.call_one("instance_finalize_migration_dst", target,
                              [data, info.payload if info.success else None, False])
    if not aborted.success:
        raise errors.OpExecError("Instance migration cleanup failed on %s: %s"
                                 % (target.name, iu.result_error(aborted)))
    _finalize_source(lu, False)


def _migration_completed(lu: LUInstanceMigrate) -> bool:
    """Whether the primary's hypervisor says its outgoing migration completed."""
    source = iu.node_address(lu, lu.inst.primary_node)
    status = lu.rpc.call_one("instance_get_migration_status", source,
                             [iu.instance_rpc_dict(lu.cfg, lu.inst)])
    return bool(status.success and status.payload.get("status") == _MIGRATION_COMPLETED)


def clean_up(lu: LUInstanceMigrate, feedback_fn: FeedbackFn) -> None:
    """Find where the instance runs and make the configuration and the nodes agree."""
    inst = lu.inst
    primary = inst.primary_node
    locations = _locations(lu, feedback_fn)
    others = [uuid for uuid in locations if uuid != primary]
    if primary in locations and len(others) == 1:
        other_name = iu.node_name(lu.cfg, others[0])
        if _migration_completed(lu):
            feedback_fn("* the migration to %s had completed; stopping the copy left on %s"
                        % (other_name, iu.node_name(lu.cfg, primary)))
            _finalize_source(lu, True)
        else:
            feedback_fn("Trying to cleanup after failed migration")
            _abort(lu, others[0])
        locations = _locations(lu, feedback_fn)
        others = [uuid for uuid in locations if uuid != primary]
    if len(others) > 1 or (others and primary in locations):
        raise errors.OpExecError("Instance seems to be running on two nodes, or the"
                                 " hypervisor is confused; you will have to ensure manually"
                                 " that it runs only on one and restart this operation"
                                 " (it runs on %s)" % ", ".join(
                                     iu.node_name(lu.cfg, uuid) for uuid in locations))
    if not locations:
        raise errors.OpExecError("Instance does not seem to be running at all; in this case"
                                 " it's safer to repair by running 'gnt-instance stop' to"
                                 " ensure disk shutdown, and then restarting it")
    if others:
        feedback_fn("* instance running on node %s, updating config"
                    % iu.node_name(lu.cfg, others[0]))
        lu.set_primary(others[0])
    else:
        feedback_fn("* instance confirmed to be running on its primary node (%s)"
                    % iu.node_name(lu.cfg, primary))
        # Clears a migration marker an interrupted migration left on the source.
        _finalize_source(lu, False)
    feedback_fn("* done")
