"""gnt-instance move: OpInstanceMove, copying a non-mirrored instance to another node.

The instance is stopped, new disks are created on the target node (new UUIDs,
so new file names: on a local cluster all nodes may share one storage
directory), then each disk's bytes are copied in chunks through the master
(``blockdev_read_chunk`` on the source, ``blockdev_write_chunk`` on the
target), with progress in the job log. Only then does the configuration point
at the new disks and the new primary; the old disks are removed and the
instance is started again if it was up. A failure before that removes the new
disks and leaves the instance where it was.
"""

from __future__ import annotations

from typing import Any

from ganeti import constants, errors, locking, opcodes, paramdefs
from ganeti.cmdlib import instance_utils as iu
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import FeedbackFn, LogicalUnit
from ganeti.cmdlib.chunk_copy import CHUNK_SIZE, copy_chunks
from ganeti.objects import Disk

#: Templates whose data can be copied to another node.
MOVABLE_TEMPLATES = frozenset([constants.DT_FILE, constants.DT_PLAIN, constants.DT_DISKLESS])


@lu_for(opcodes.OpInstanceMove)
class LUInstanceMove(LogicalUnit):
    """Move an instance to another node by copying its disks."""

    HPATH = "instance-move"
    HTYPE = constants.HTYPE_INSTANCE

    def expand_names(self) -> None:
        self.inst = iu.expand_instance(self.cfg, self.op.instance_name)
        self.op.instance_name = self.inst.name
        self.target_uuid, self.target_name = self.expand_node(self.op.target_node)
        self.needed_locks = {locking.LEVEL_INSTANCE: [self.inst.name],
                             locking.LEVEL_NODE: [self.inst.primary_node, self.target_uuid]}

    def build_hooks_env(self) -> dict[str, Any]:
        env = iu.instance_hooks_env(self.cfg, self.inst)
        env["TARGET_NODE"] = self.target_name
        env["SHUTDOWN_TIMEOUT"] = self.op.shutdown_timeout
        return env

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        pre, post = iu.instance_hooks_nodes(self.cfg, self.inst)
        return pre, list(dict.fromkeys([*post, self.target_uuid]))

    def check_prereq(self) -> None:
        inst = self.inst
        if self.target_uuid == inst.primary_node:
            raise errors.OpPrereqError("Instance %s is already on node %s"
                                       % (inst.name, self.target_name), errors.ECODE_STATE)
        self.disks = self.cfg.get_instance_disks(iu.instance_uuid(inst))
        template = self.disks[0].dev_type if self.disks else constants.DT_DISKLESS
        if template not in MOVABLE_TEMPLATES:
            raise errors.OpPrereqError("Instance %s has disk template %s; move copies only %s"
                                       " disks (use failover/migrate for shared storage)"
                                       % (inst.name, template,
                                          ", ".join(sorted(MOVABLE_TEMPLATES))),
                                       errors.ECODE_STATE)
        self.template = template
        node = iu.check_node_online(self.cfg, self.target_uuid, "move an instance there")
        if node.drained or not node.vm_capable:
            raise errors.OpPrereqError("Node %s is %s: no instance may move there"
                                       % (node.name, "drained" if node.drained
                                          else "not vm-capable"), errors.ECODE_STATE)
        iu.check_node_online(self.cfg, inst.primary_node, "copy the instance's disks")
        if self.op.compress != constants.IEC_NONE:
            raise errors.OpPrereqError("Compression %r is not supported for moves (only %s)"
                                       % (self.op.compress, constants.IEC_NONE),
                                       errors.ECODE_INVAL)
        if inst.admin_state == constants.ADMINST_UP:
            memory = self.cfg.get_cluster_info().fill_beparams(inst)[paramdefs.BE_MAXMEM]
            iu.check_node_free_memory(self, self.target_uuid,
                                      "starting instance %s" % inst.name, memory,
                                      inst.hypervisor)

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        inst = self.inst
        was_up = inst.admin_state == constants.ADMINST_UP
        if was_up:
            feedback_fn("* shutting down instance %s on node %s"
                        % (inst.name, iu.node_name(self.cfg, inst.primary_node)))
            ok = iu.shutdown_instance(self, inst, self.op.shutdown_timeout,
                                      ignore_failures=bool(self.op.ignore_consistency))
            if not ok:
                self.log_warning("Continuing despite the failed shutdown"
                                 " (--ignore-consistency)")
        ec_id = "move-%s" % self.owner
        specs = [{constants.IDISK_SIZE: d.size, constants.IDISK_MODE: d.mode,
                  constants.IDISK_NAME: d.name} for d in self.disks]
        new_disks = iu.generate_disks(self, self.template, specs, inst.name,
                                      self.target_uuid, ec_id)
        if new_disks:
            feedback_fn("* creating %d disk(s) on node %s" % (len(new_disks), self.target_name))
            iu.create_disks(self, inst, new_disks, target_node_uuid=self.target_uuid)
        try:
            iu.assemble_disks(self, inst)
            for index, (old, new) in enumerate(zip(self.disks, new_disks, strict=True)):
                self._copy(index, old, new, feedback_fn)
        except BaseException:
            iu.shutdown_disks(self, inst, ignore_failures=True)
            iu.remove_created(self, [(self.target_uuid, disk) for disk in new_disks])
            self.cfg.release_reservations(ec_id)
            raise
        iu.shutdown_disks(self, inst, ignore_failures=True)
        old_disks = list(self.disks)
        for old in old_disks:
            self.cfg.remove_instance_disk(iu.instance_uuid(inst), old.uuid or "")
        for new in new_disks:
            self.cfg.add_instance_disk(iu.instance_uuid(inst), new, ec_id=ec_id)
        source_uuid = inst.primary_node
        inst.primary_node = self.target_uuid
        self.cfg.update(inst)
        self.cfg.release_reservations(ec_id)
        feedback_fn("* removing the old disks from node %s" % iu.node_name(self.cfg,
                                                                          source_uuid))
        iu.remove_disks(self, inst, old_disks, target_node_uuid=source_uuid,
                        ignore_failures=True)
        if was_up:
            feedback_fn("* starting instance %s on node %s" % (inst.name, self.target_name))
            iu.start_instance(self, inst)
        feedback_fn("Instance %s moved to node %s" % (inst.name, self.target_name))
        return None

    def _copy(self, index: int, old: Disk, new: Disk, feedback_fn: FeedbackFn) -> None:
        """Copy one disk's bytes from the source to the target, reporting progress."""
        src = iu.node_address(self, self.inst.primary_node)
        dst = iu.node_address(self, self.target_uuid)
        sizes = self.rpc.call_one("blockdev_getsize", src, [[iu.disk_rpc_dict(self.cfg, old)]])
        total = (sizes.raise_if_failed("disk %d size" % index) or [None])[0] or old.size << 20
        old_dict = iu.disk_rpc_dict(self.cfg, old)
        new_dict = iu.disk_rpc_dict(self.cfg, new)
        what = "copying disk %d" % index

        def read(offset: int) -> str:
            return self.rpc.call_one("blockdev_read_chunk", src, [old_dict, offset, CHUNK_SIZE]
                                     ).raise_if_failed(what)

        def write(offset: int, data: str) -> None:
            self.rpc.call_one("blockdev_write_chunk", dst, [new_dict, offset, data]
                              ).raise_if_failed(what)

        def progress(percent: int, offset: int) -> str:
            return ("  - disk/%d: %d%% copied (%d of %d MiB)"
                    % (index, percent, offset >> 20, total >> 20))

        offset = copy_chunks(self, read, write, total, progress, feedback_fn)
        feedback_fn("  - disk/%d: done, %d bytes copied" % (index, offset))
