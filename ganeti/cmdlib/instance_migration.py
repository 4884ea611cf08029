"""gnt-instance failover, migrate and console: OpInstanceFailover, OpInstanceMigrate,
OpInstanceConsole.

Failover and migration move an instance whose disks every node can reach
(shared storage: sharedfile, and diskless) to another node: the one given
(``target_node``) or one an allocator picks (``iallocator``; the built-in one
when neither is given). Migration runs the hypervisor's steps (migration_info
on the source, accept_instance on the target, instance_migrate, then both
finalize steps; a failure aborts on both sides and leaves the instance where it
was). Failover stops the instance on the source and starts it on the target. An
instance that is not running, or has ``always_failover``, is failed over.
``migrate --cleanup`` repairs an interrupted migration (``migration_cleanup``).
"""

from __future__ import annotations

from typing import Any

from ganeti import allocator, constants, errors, iallocator, locking, opcodes, paramdefs
from ganeti.cmdlib import instance_utils as iu
from ganeti.cmdlib import lu_for, migration_cleanup
from ganeti.cmdlib.base import FeedbackFn, LogicalUnit, QueryLU

#: Templates whose disks are reachable from every node.
SHARED_TEMPLATES = frozenset([constants.DT_DISKLESS, constants.DT_SHARED_FILE])


class _MoveLU(LogicalUnit):
    """Common part of failover and migrate (shared storage)."""

    HTYPE = constants.HTYPE_INSTANCE

    def expand_names(self) -> None:
        self.inst = iu.expand_instance(self.cfg, self.op.instance_name)
        self.op.instance_name = self.inst.name
        self.target_uuid: str | None = None
        if self.op.get("target_node"):
            self.target_uuid = self.expand_node(self.op.target_node)[0]
        nodes: Any = locking.ALL_SET
        if self.target_uuid is not None:
            nodes = [self.inst.primary_node, self.target_uuid]
        self.needed_locks = {locking.LEVEL_INSTANCE: [self.inst.name],
                             locking.LEVEL_NODE: nodes}

    def build_hooks_env(self) -> dict[str, Any]:
        env = iu.instance_hooks_env(self.cfg, self.inst)
        env["OLD_PRIMARY"] = iu.node_name(self.cfg, self.inst.primary_node)
        env["NEW_PRIMARY"] = iu.node_name(self.cfg, self.target_uuid or "")
        return env

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        pre, post = iu.instance_hooks_nodes(self.cfg, self.inst)
        if self.target_uuid:
            post = list(dict.fromkeys([*post, self.target_uuid]))
        return pre, post

    def check_shared_storage(self, action: str) -> str:
        disks = self.cfg.get_instance_disks(iu.instance_uuid(self.inst))
        template = disks[0].dev_type if disks else constants.DT_DISKLESS
        if template not in SHARED_TEMPLATES:
            raise errors.OpPrereqError(
                "Instance %s has disk template %s; %s needs shared storage (%s)"
                % (self.inst.name, template, action, ", ".join(sorted(SHARED_TEMPLATES))),
                errors.ECODE_STATE)
        return template

    def choose_target(self, memory: int, vcpus: int) -> str:
        """The target node's UUID: the given one, checked, or an allocator's choice."""
        if self.target_uuid is not None:
            if self.target_uuid == self.inst.primary_node:
                raise errors.OpPrereqError("Instance %s is already on node %s"
                                           % (self.inst.name, self.op.target_node),
                                           errors.ECODE_INVAL)
            node = iu.check_node_online(self.cfg, self.target_uuid, "move an instance there")
            if node.drained:
                raise errors.OpPrereqError("Node %s is drained: no instance may move there"
                                           % node.name, errors.ECODE_STATE)
            if not node.vm_capable:
                raise errors.OpPrereqError("Node %s is not vm-capable" % node.name,
                                           errors.ECODE_STATE)
            return self.target_uuid
        model = iallocator.build_model(self)
        source = model.nodes[self.inst.primary_node]
        request = iallocator.relocate_request(self.inst.name, 0, [source.name])
        name = allocator.resolve_name(self, self.op.get("iallocator"))
        if name == allocator.BUILTIN:
            chosen = allocator.relocate(model, request, memory, vcpus, source.group)
        else:
            names = iallocator.run_allocator(self.context.paths, name,
                                             iallocator.build_input(model, request))
            chosen = [n.uuid for n in (model.node_by_name(x) for x in names) if n is not None]
            if len(chosen) != 1:
                raise errors.OpPrereqError("Instance allocator %s gave no usable node: %r"
                                           % (name, names), errors.ECODE_NORES)
        self.target_uuid = chosen[0]
        self.log_info("Selected node %s as the target of instance %s",
                      iu.node_name(self.cfg, chosen[0]), self.inst.name)
        return chosen[0]

    def is_running(self) -> bool:
        address = iu.node_address(self, self.inst.primary_node)
        if address.offline:
            return False
        cluster = self.cfg.get_cluster_info()
        result = self.rpc.call_one("instance_info", address,
                                   [self.inst.name, self.inst.hypervisor,
                                    cluster.fill_hvparams_for(self.inst.hypervisor)])
        return bool(result.success and result.payload)

    def set_primary(self, target_uuid: str) -> None:
        """Record the new primary node, on the instance and its (shared) disks."""
        for disk in self.cfg.get_instance_disks(iu.instance_uuid(self.inst)):
            disk.nodes = [target_uuid if n == self.inst.primary_node else n
                          for n in disk.nodes] or [target_uuid]
            self.cfg.update(disk)
        self.inst.primary_node = target_uuid
        self.cfg.update(self.inst)

    def prepare(self, action: str) -> None:
        self.check_shared_storage(action)
        cluster = self.cfg.get_cluster_info()
        be = cluster.fill_beparams(self.inst)
        self.memory = be[paramdefs.BE_MAXMEM]
        self.running = self.inst.admin_state == constants.ADMINST_UP and self.is_running()
        self.choose_target(self.memory, be[paramdefs.BE_VCPUS])
        assert self.target_uuid is not None
        if self.inst.admin_state == constants.ADMINST_UP:
            iu.check_node_free_memory(self, self.target_uuid,
                                      "%s of instance %s" % (action, self.inst.name),
                                      self.memory, self.inst.hypervisor)

    def failover(self, feedback_fn: FeedbackFn) -> None:
        inst = self.inst
        assert self.target_uuid is not None
        source = iu.node_name(self.cfg, inst.primary_node)
        target = iu.node_name(self.cfg, self.target_uuid)
        was_up = inst.admin_state == constants.ADMINST_UP
        if was_up:
            feedback_fn("* shutting down instance %s on source node %s" % (inst.name, source))
            ok = iu.shutdown_instance(self, inst, self.op.get("shutdown_timeout") or 0,
                                      ignore_failures=bool(self.op.get("ignore_consistency")))
            if not ok:
                self.log_warning("Continuing despite the failed shutdown"
                                 " (--ignore-consistency)")
        iu.shutdown_disks(self, inst, ignore_failures=True)
        self.set_primary(self.target_uuid)
        if was_up:
            feedback_fn("* starting instance %s on target node %s" % (inst.name, target))
            iu.start_instance(self, inst)
        feedback_fn("Instance %s is now on node %s" % (inst.name, target))

    def migrate(self, feedback_fn: FeedbackFn, live: bool) -> None:
        inst = self.inst
        assert self.target_uuid is not None
        src = iu.node_address(self, inst.primary_node)
        dst = iu.node_address(self, self.target_uuid)
        data = iu.instance_rpc_dict(self.cfg, inst)
        feedback_fn("* checking where instance %s runs" % inst.name)
        info = self.rpc.call_one("migration_info", src, [data])
        if not info.success:
            raise errors.OpExecError("Cannot migrate instance %s: %s"
                                     % (inst.name, iu.result_error(info)))
        feedback_fn("* preparing %s to accept the instance" % dst.name)
        accepted = self.rpc.call_one("accept_instance", dst, [data, info.payload, dst.address])
        if not accepted.success:
            raise errors.OpExecError("Target node %s refused instance %s: %s"
                                     % (dst.name, inst.name, iu.result_error(accepted)))
        feedback_fn("* migrating instance to %s (%s)" % (dst.name, "live" if live else
                                                          "non-live"))
        moved = self.rpc.call_one("instance_migrate", src,
                                  [self.cfg.get_cluster_name(), data, dst.address, live])
        success = moved.success
        finished = self.rpc.call_one("instance_finalize_migration_dst", dst,
                                     [data, info.payload, success])
        success = success and finished.success
        cleaned = self.rpc.call_one("instance_finalize_migration_src", src,
                                    [data, success, live])
        if not success:
            reason = iu.result_error(moved if not moved.success else finished)
            raise errors.OpExecError("Migration of instance %s to %s failed: %s; the"
                                     " instance stays on %s" % (inst.name, dst.name, reason,
                                                                src.name))
        if not cleaned.success:
            self.log_warning("Source node %s could not clean up after the migration: %s",
                             src.name, iu.result_error(cleaned))
        self.set_primary(self.target_uuid)
        feedback_fn("* done: instance %s now runs on %s" % (inst.name, dst.name))


@lu_for(opcodes.OpInstanceFailover)
class LUInstanceFailover(_MoveLU):
    HPATH = "instance-failover"

    def check_prereq(self) -> None:
        if self.op.get("cleanup"):
            raise errors.OpPrereqError("--cleanup applies to migrations only (gnt-instance"
                                       " migrate --cleanup)", errors.ECODE_INVAL)
        self.prepare("failover")

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        self.failover(feedback_fn)
        return None


@lu_for(opcodes.OpInstanceMigrate)
class LUInstanceMigrate(_MoveLU):
    HPATH = "instance-migrate"

    def check_prereq(self) -> None:
        if self.op.get("cleanup"):
            self.check_shared_storage("migration cleanup")
            if self.target_uuid == self.inst.primary_node:
                raise errors.OpPrereqError("Instance %s is already on node %s"
                                           % (self.inst.name, self.op.target_node),
                                           errors.ECODE_INVAL)
            return
        self.prepare("migration")
        be = self.cfg.get_cluster_info().fill_beparams(self.inst)
        self.use_failover = False
        if be.get(paramdefs.BE_ALWAYS_FAILOVER) or not self.running:
            why = ("the instance has always_failover set" if self.running
                   else "the instance is not running")
            if not (self.op.get("allow_failover") or be.get(paramdefs.BE_ALWAYS_FAILOVER)):
                raise errors.OpPrereqError("Cannot migrate instance %s: %s (use --allow-failover"
                                           " to fail it over instead)" % (self.inst.name, why),
                                           errors.ECODE_STATE)
            self.log_info("Failing over instead of migrating: %s", why)
            self.use_failover = True

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        if self.op.get("cleanup"):
            migration_cleanup.clean_up(self, feedback_fn)
            return None
        if self.use_failover:
            self.failover(feedback_fn)
            return None
        mode = self.op.get("mode")
        live = self.op.get("live")
        if live is None:
            live = mode != constants.HT_MIGRATION_NONLIVE
        self.migrate(feedback_fn, bool(live))
        return None


@lu_for(opcodes.OpInstanceConsole)
class LUInstanceConsole(QueryLU):
    """How to reach the instance's console (the CLI hands off to it)."""

    def check_prereq(self) -> None:
        self.inst = iu.expand_instance(self.cfg, self.op.instance_name)
        iu.check_node_online(self.cfg, self.inst.primary_node, "connect to the console")
        if self.inst.admin_state != constants.ADMINST_UP:
            raise errors.OpPrereqError("Instance %s is not marked up (admin state %s): no"
                                       " console" % (self.inst.name, self.inst.admin_state),
                                       errors.ECODE_STATE)

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        address = iu.node_address(self, self.inst.primary_node)
        result = self.rpc.call_one("instance_console_info", address,
                                   [[iu.instance_rpc_dict(self.cfg, self.inst)]])
        consoles = result.raise_if_failed("console of %s" % self.inst.name)
        console = consoles.get(self.inst.name)
        if console is None:
            raise errors.OpExecError("Node %s gave no console for instance %s"
                                     % (address.name, self.inst.name))
        return console
