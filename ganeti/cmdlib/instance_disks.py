"""Instance disk LUs: activate, deactivate, grow and recreate disks."""

from __future__ import annotations

from typing import Any

from ganeti import constants, errors, opcodes
from ganeti.cmdlib import instance_utils as iu
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import FeedbackFn

#: Templates whose disks can grow.
GROWABLE_TEMPLATES = frozenset([constants.DT_FILE, constants.DT_SHARED_FILE,
                                constants.DT_PLAIN])


@lu_for(opcodes.OpInstanceActivateDisks)
class LUInstanceActivateDisks(iu.InstanceLU):
    """Activate the disks; the result lists [node, iv_name, path] per disk."""

    HPATH = None

    def check_prereq(self) -> None:
        super().check_prereq()
        iu.check_instance_state(self.instance, [constants.ADMINST_UP, constants.ADMINST_DOWN],
                                "activate the disks of")
        iu.check_node_online(self.cfg, self.instance.primary_node,
                             "activate the disks of instance %s" % self.instance.name)

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        info = iu.assemble_disks(self, self.instance, bool(self.op.ignore_size))
        iu.set_disks_active(self, self.instance, True)
        return [list(item) for item in info]


@lu_for(opcodes.OpInstanceDeactivateDisks)
class LUInstanceDeactivateDisks(iu.InstanceLU):
    HPATH = None

    def check_prereq(self) -> None:
        super().check_prereq()
        inst = self.instance
        if not self.op.force:
            from ganeti.cmdlib.instance_ops import _is_running

            if _is_running(self):
                raise errors.OpPrereqError("Instance %s is running; stop it before"
                                           " deactivating its disks" % inst.name,
                                           errors.ECODE_STATE)

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        iu.shutdown_disks(self, self.instance, ignore_failures=bool(self.op.force))
        iu.set_disks_active(self, self.instance, False)
        return None


@lu_for(opcodes.OpInstanceGrowDisk)
class LUInstanceGrowDisk(iu.InstanceLU):
    HPATH = "disk-grow"

    def check_prereq(self) -> None:
        super().check_prereq()
        inst = self.instance
        disks = self.cfg.get_instance_disks(iu.instance_uuid(inst))
        index = int(self.op.disk)
        if index >= len(disks):
            raise errors.OpPrereqError("Instance %s has no disk %d (it has %d disk(s))"
                                       % (inst.name, index, len(disks)), errors.ECODE_INVAL)
        disk = disks[index]
        if disk.dev_type not in GROWABLE_TEMPLATES:
            raise errors.OpPrereqError("Disks of template %s cannot grow" % disk.dev_type,
                                       errors.ECODE_INVAL)
        amount = int(self.op.amount)
        if self.op.absolute:
            if amount < disk.size:
                raise errors.OpPrereqError("Disk %d of %s is %d MiB; it cannot shrink to %d MiB"
                                           % (index, inst.name, disk.size, amount),
                                           errors.ECODE_INVAL)
            self.delta, self.target = amount - disk.size, amount
        else:
            self.delta, self.target = amount, disk.size + amount
        for node_uuid in disk.all_nodes():
            iu.check_node_online(self.cfg, node_uuid, "grow disk %d of %s" % (index,
                                                                              inst.name))
        self.disk = disk

    def hooks_extra_env(self) -> dict[str, Any]:
        return {"DISK": self.op.disk, "AMOUNT": self.op.amount}

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        disk, inst = self.disk, self.instance
        if self.delta == 0:
            self.log_info("Disk %d of %s is %d MiB already", self.op.disk, inst.name,
                          disk.size)
            return None
        # The backing storage everywhere (a dry run first), then the device the
        # instance sees on the primary (Ganeti's order; a no-op for images).
        steps = [(True, True, disk.all_nodes()), (False, True, disk.all_nodes()),
                 (False, False, [inst.primary_node])]
        for dryrun, backingstore, nodes in steps:
            for node_uuid in nodes:
                result = self.rpc.call_one("blockdev_grow", iu.node_address(self, node_uuid),
                                           [iu.disk_rpc_dict(self.cfg, disk), self.delta,
                                            dryrun, backingstore, False])
                if not result.success:
                    raise errors.OpExecError("Cannot grow disk %s of %s on node %s: %s"
                                             % (self.op.disk, inst.name,
                                                iu.node_name(self.cfg, node_uuid),
                                                iu.result_error(result)))
        disk.size = self.target
        self.cfg.update(disk)
        self.log_info("Disk %d of %s grown to %d MiB", self.op.disk, inst.name, self.target)
        return None


@lu_for(opcodes.OpInstanceRecreateDisks)
class LUInstanceRecreateDisks(iu.InstanceLU):
    """Recreate missing disks (all, or the listed indexes), optionally on a new node."""

    HPATH = "instance-recreate-disks"
    NODES_SHARED = False

    def extra_node_locks(self) -> list[str]:
        return [self.expand_node(name)[0] for name in self.op.nodes or []]

    def check_prereq(self) -> None:
        super().check_prereq()
        inst = self.instance
        iu.check_instance_state(inst, [constants.ADMINST_DOWN, constants.ADMINST_OFFLINE],
                                "recreate the disks of")
        disks = self.cfg.get_instance_disks(iu.instance_uuid(inst))
        wanted: dict[int, dict[str, Any]] = {}
        for item in self.op.disks or []:
            index, changes = (item, {}) if isinstance(item, int) else (item[0], item[1])
            if index >= len(disks):
                raise errors.OpPrereqError("Instance %s has no disk %d" % (inst.name, index),
                                           errors.ECODE_INVAL)
            unknown = set(changes) - {constants.IDISK_SIZE, constants.IDISK_MODE}
            if unknown:
                raise errors.OpPrereqError("Disk %d: only size and mode can change when"
                                           " recreating, not %s" % (index, ", ".join(
                                               sorted(unknown))), errors.ECODE_INVAL)
            wanted[index] = dict(changes)
        if not wanted:
            wanted = {index: {} for index in range(len(disks))}
        self.new_pnode: str | None = None
        nodes = [self.expand_node(name)[0] for name in self.op.nodes or []]
        if len(nodes) > 1:
            raise errors.OpPrereqError("Disks of instance %s live on one node; got %d nodes"
                                       % (inst.name, len(nodes)), errors.ECODE_INVAL)
        if nodes:
            self.new_pnode = nodes[0]
            iu.check_node_online(self.cfg, nodes[0], "recreate disks there")
        else:
            for disk in disks:
                for node_uuid in disk.all_nodes():
                    iu.check_node_online(self.cfg, node_uuid, "recreate disks there")
        self.selected = [(index, disks[index], changes)
                         for index, changes in sorted(wanted.items())]

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        inst = self.instance
        if self.new_pnode is not None and self.new_pnode != inst.primary_node:
            inst.primary_node = self.new_pnode
            for _, disk, _ in self.selected:
                disk.nodes = [self.new_pnode]
                self.cfg.update(disk)
            self.cfg.update(inst)
        to_create = []
        for index, disk, changes in self.selected:
            if constants.IDISK_SIZE in changes:
                disk.size = int(changes[constants.IDISK_SIZE])
            if constants.IDISK_MODE in changes:
                disk.mode = changes[constants.IDISK_MODE]
            if changes:
                self.cfg.update(disk)
            address = iu.node_address(self, inst.primary_node)
            found = self.rpc.call_one("blockdev_find", address,
                                      [iu.disk_rpc_dict(self.cfg, disk)])
            if found.success and found.payload is not None:
                self.log_info("Disk %d of %s exists on %s; left as it is", index, inst.name,
                              address.name)
                continue
            to_create.append(disk)
        iu.create_disks(self, inst, to_create)
        self.log_info("Recreated %d disk(s) of %s", len(to_create), inst.name)
        return None
