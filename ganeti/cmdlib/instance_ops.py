"""Instance lifecycle LUs: startup, shutdown, reboot and remove."""

from __future__ import annotations

from typing import Any

from ganeti import constants, errors, locking, opcodes, paramdefs
from ganeti.cmdlib import instance_utils as iu
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import FeedbackFn


def _is_running(lu: iu.InstanceLU) -> bool:
    """Whether the hypervisor on the primary node runs the instance (False if offline)."""
    inst = lu.instance
    address = iu.node_address(lu, inst.primary_node)
    if address.offline:
        return False
    hvparams = lu.cfg.get_cluster_info().fill_hvparams(inst)
    result = lu.rpc.call_one("instance_info", address, [inst.name, inst.hypervisor, hvparams])
    if not result.success:
        raise errors.OpPrereqError("Cannot ask node %s about instance %s: %s"
                                   % (address.name, inst.name, iu.result_error(result)),
                                   errors.ECODE_ENVIRON)
    return result.payload is not None


@lu_for(opcodes.OpInstanceStartup)
class LUInstanceStartup(iu.InstanceLU):
    HPATH = "instance-start"

    def check_prereq(self) -> None:
        super().check_prereq()
        inst = self.instance
        iu.check_instance_state(inst, [constants.ADMINST_UP, constants.ADMINST_DOWN], "start")
        cluster = self.cfg.get_cluster_info()
        try:
            hv_family = paramdefs.hv_family(inst.hypervisor)
            if self.op.hvparams:
                hv_family.check(self.op.hvparams, "startup -H")
            self.beparams = cluster.fill_beparams(inst)
            if self.op.beparams:
                paramdefs.BEPARAMS.check(self.op.beparams, "startup -B")
                self.beparams.update(paramdefs.BEPARAMS.resolve_aliases(dict(self.op.beparams)))
        except errors.ParameterError as err:
            raise errors.OpPrereqError(str(err), errors.ECODE_INVAL) from err
        self.primary_offline = iu.node_address(self, inst.primary_node).offline
        if self.primary_offline:
            if not self.op.ignore_offline_nodes:
                raise errors.OpPrereqError("Primary node %s of instance %s is offline (use"
                                           " --ignore-offline to only mark it up)"
                                           % (iu.node_name(self.cfg, inst.primary_node),
                                              inst.name), errors.ECODE_STATE)
            self.running = False
            return
        self.running = _is_running(self)
        if not self.running:
            iu.check_node_free_memory(self, inst.primary_node,
                                      "starting instance %s" % inst.name,
                                      int(self.beparams[paramdefs.BE_MINMEM]), inst.hypervisor)

    def hooks_extra_env(self) -> dict[str, Any]:
        return {"FORCE": self.op.force}

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        inst = self.instance
        if not self.op.no_remember and inst.admin_state != constants.ADMINST_UP:
            inst.admin_state = constants.ADMINST_UP
            inst.admin_state_source = constants.ADMIN_SOURCE
            self.cfg.update(inst)
        if self.primary_offline:
            self.log_warning("Primary node offline: instance %s only marked as up", inst.name)
            return None
        if self.running:
            self.log_info("Instance %s is already running", inst.name)
            return None
        iu.start_instance(self, inst, hvparams=self.op.hvparams or None,
                          beparams=self.op.beparams or None,
                          startup_paused=bool(self.op.startup_paused))
        return None


@lu_for(opcodes.OpInstanceShutdown)
class LUInstanceShutdown(iu.InstanceLU):
    HPATH = "instance-stop"

    def check_prereq(self) -> None:
        super().check_prereq()
        iu.check_instance_state(self.instance, [constants.ADMINST_UP, constants.ADMINST_DOWN],
                                "stop")
        self.primary_offline = iu.node_address(self, self.instance.primary_node).offline
        if self.primary_offline and not self.op.ignore_offline_nodes:
            raise errors.OpPrereqError("Primary node %s of instance %s is offline (use"
                                       " --ignore-offline to only mark it down)"
                                       % (iu.node_name(self.cfg, self.instance.primary_node),
                                          self.instance.name), errors.ECODE_STATE)

    def hooks_extra_env(self) -> dict[str, Any]:
        return {"TIMEOUT": self.op.timeout}

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        inst = self.instance
        if not self.op.no_remember and inst.admin_state != constants.ADMINST_DOWN:
            inst.admin_state = constants.ADMINST_DOWN
            inst.admin_state_source = self.op.get("admin_state_source") or \
                constants.ADMIN_SOURCE
            self.cfg.update(inst)
        if self.primary_offline:
            self.log_warning("Primary node offline: instance %s only marked as down",
                             inst.name)
            return None
        iu.shutdown_instance(self, inst, int(self.op.timeout))
        iu.shutdown_disks(self, inst, ignore_failures=True)
        iu.set_disks_active(self, inst, False)
        return None


@lu_for(opcodes.OpInstanceReboot)
class LUInstanceReboot(iu.InstanceLU):
    HPATH = "instance-reboot"

    def check_prereq(self) -> None:
        super().check_prereq()
        inst = self.instance
        iu.check_instance_state(inst, [constants.ADMINST_UP], "reboot")
        iu.check_node_online(self.cfg, inst.primary_node, "reboot instance %s" % inst.name)
        self.running = _is_running(self)

    def hooks_extra_env(self) -> dict[str, Any]:
        return {"IGNORE_SECONDARIES": self.op.ignore_secondaries,
                "REBOOT_TYPE": self.op.reboot_type,
                "SHUTDOWN_TIMEOUT": self.op.shutdown_timeout}

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        inst = self.instance
        reboot_type = self.op.reboot_type
        if self.running and reboot_type in (constants.INSTANCE_REBOOT_SOFT,
                                            constants.INSTANCE_REBOOT_HARD):
            result = self.rpc.call_one(
                "instance_reboot", iu.node_address(self, inst.primary_node),
                [iu.instance_rpc_dict(self.cfg, inst), reboot_type,
                 int(self.op.shutdown_timeout)], timeout=int(self.op.shutdown_timeout) + 60)
            if not result.success:
                raise errors.OpExecError("Could not reboot instance %s: %s"
                                         % (inst.name, iu.result_error(result)))
            return None
        # A full reboot, or the instance was not running: stop, cycle the disks, start.
        if self.running:
            iu.shutdown_instance(self, inst, int(self.op.shutdown_timeout))
        iu.shutdown_disks(self, inst, ignore_failures=True)
        iu.start_instance(self, inst)
        return None


@lu_for(opcodes.OpInstanceRemove)
class LUInstanceRemove(iu.InstanceLU):
    HPATH = "instance-remove"
    NODES_SHARED = False

    def hooks_extra_env(self) -> dict[str, Any]:
        return {"SHUTDOWN_TIMEOUT": self.op.shutdown_timeout}

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        _, post = iu.instance_hooks_nodes(self.cfg, self.instance)
        return [self.cfg.get_master_node()], post

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        inst = self.instance
        ignore = bool(self.op.ignore_failures)
        self.log_info("Shutting down instance %s on node %s", inst.name,
                      iu.node_name(self.cfg, inst.primary_node))
        if not iu.shutdown_instance(self, inst, int(self.op.shutdown_timeout),
                                    ignore_failures=ignore):
            self.log_warning("Instance %s may still run on node %s", inst.name,
                             iu.node_name(self.cfg, inst.primary_node))
        iu.shutdown_disks(self, inst, ignore_failures=True)
        self.log_info("Removing the disks of instance %s", inst.name)
        iu.remove_disks(self, inst, ignore_failures=ignore)
        self.log_info("Removing instance %s from the cluster configuration", inst.name)
        self.cfg.remove_instance(iu.instance_uuid(inst))
        self.glm.remove(self.owner, locking.LEVEL_INSTANCE, inst.name)
        return None
