"""Checking instance disks against the nodes: verify-disks and repair-disk-sizes.

``OpClusterVerifyDisks`` submits one ``OpGroupVerifyDisks`` job per node
group. A group's check asks each online node for the sizes of the disks it
should hold for instances whose disks are active (one blockdev_getsize per
node): a disk the node does not find is missing; a node that does not
answer is reported. The result is Ganeti's triple: {node: error},
[instances whose disks need activating], {instance: [[node, volume]…]}.
Degradation is a DRBD matter; file, sharedfile, plain and diskless disks
are either present or missing.

``OpClusterRepairDiskSizes`` measures each disk on its primary node and
corrects the size recorded in the configuration where it differs; it
returns [[instance, disk index, "size", new size in MiB]…].
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ganeti import constants, locking, objects, opcodes
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import (
    FeedbackFn,
    NoHooksLU,
    ResultWithJobs,
    named_or_all_groups,
    require_nodegroup,
)
from ganeti.cmdlib.instance_utils import disk_rpc_dict, expand_instance, result_error

_MIB_SHIFT = 20


def _volume_name(disk: objects.Disk) -> str:
    """How verify-disks names a missing device: vg/lv for LVM, the path for files."""
    if disk.dev_type == constants.DT_PLAIN and len(disk.logical_id) == 2:
        return "%s/%s" % tuple(disk.logical_id)
    if disk.dev_type in (constants.DT_FILE, constants.DT_SHARED_FILE) \
            and len(disk.logical_id) == 2:
        return str(disk.logical_id[1])
    return disk.iv_name or str(disk.uuid)


@lu_for(opcodes.OpClusterVerifyDisks)
class LUClusterVerifyDisks(NoHooksLU):
    """Submit one disk verification job per node group (or for the named group)."""

    REQ_BGL = False

    def expand_names(self) -> None:
        self.needed_locks = {}

    def check_prereq(self) -> None:
        named_or_all_groups(self.cfg, self.op.get("group_name"))

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        groups = named_or_all_groups(self.cfg, self.op.get("group_name"))
        return ResultWithJobs([[opcodes.OpGroupVerifyDisks(
            group_name=name, is_strict=self.op.get("is_strict", True))] for name in groups])


@lu_for(opcodes.OpGroupVerifyDisks)
class LUGroupVerifyDisks(NoHooksLU):
    """Check the disks of a group's instances whose disks should be active."""

    REQ_BGL = False

    def expand_names(self) -> None:
        self.group_uuid = str(require_nodegroup(self.cfg, self.op.group_name).uuid)
        self.needed_locks = {locking.LEVEL_NODEGROUP: [self.group_uuid],
                             locking.LEVEL_INSTANCE: [], locking.LEVEL_NODE: []}
        for level in (locking.LEVEL_NODEGROUP, locking.LEVEL_INSTANCE, locking.LEVEL_NODE):
            self.share_locks[level] = True

    def _group_instances(self) -> list[objects.Instance]:
        members = set(self.cfg.get_nodegroup_members(self.group_uuid))
        return [inst for inst in self.cfg.get_all_instances_info().values()
                if inst.primary_node in members]

    def declare_locks(self, level: int) -> None:
        assert self.needed_locks is not None
        if level == locking.LEVEL_INSTANCE:
            self.needed_locks[level] = [inst.name for inst in self._group_instances()]
        elif level == locking.LEVEL_NODE:
            nodes = set(self.cfg.get_nodegroup_members(self.group_uuid))
            for inst in self._group_instances():
                nodes.update(self.cfg.get_instance_nodes(str(inst.uuid)))
            self.needed_locks[level] = sorted(nodes)

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        # node uuid -> [(instance, disk)] of the disks it should hold
        expected: dict[str, list[tuple[objects.Instance, objects.Disk]]] = defaultdict(list)
        locked = self.owned_locks(locking.LEVEL_INSTANCE)
        for inst in self._group_instances():
            if inst.name not in locked or not inst.disks_active:
                continue
            for disk in self.cfg.get_instance_disks(str(inst.uuid)):
                for node_uuid in disk.all_nodes():
                    expected[node_uuid].append((inst, disk))
        bad_nodes: dict[str, str] = {}
        missing: dict[str, list[list[str]]] = defaultdict(list)
        for node_uuid, disks in sorted(expected.items()):
            address = self.context.node_address(node_uuid)
            if address.offline:
                continue
            result = self.rpc.call_one("blockdev_getsize", address,
                                       [[disk_rpc_dict(self.cfg, d) for _, d in disks]])
            if not result.success:
                bad_nodes[address.name] = result_error(result)
                continue
            for (inst, disk), size in zip(disks, result.payload):
                if size is None:
                    missing[inst.name].append([address.name, _volume_name(disk)])
        for volumes in missing.values():
            volumes.sort()
        # Present disks of these templates need no activation (no DRBD to reconnect).
        return [bad_nodes, [], dict(missing)]


@lu_for(opcodes.OpClusterRepairDiskSizes)
class LUClusterRepairDiskSizes(NoHooksLU):
    """Record the real sizes of instance disks where the configuration differs."""

    REQ_BGL = False

    def expand_names(self) -> None:
        names = list(self.op.instances)
        if names:
            wanted: list[str] | None = list(dict.fromkeys(
                expand_instance(self.cfg, name).name for name in names))
        else:
            wanted = locking.ALL_SET
        self.needed_locks = {locking.LEVEL_INSTANCE: wanted, locking.LEVEL_NODE: []}
        self.share_locks[locking.LEVEL_NODE] = True

    def declare_locks(self, level: int) -> None:
        assert self.needed_locks is not None
        if level == locking.LEVEL_NODE:
            nodes: set[str] = set()
            for inst in self._instances():
                nodes.add(inst.primary_node)
            self.needed_locks[level] = sorted(nodes)

    def _instances(self) -> list[objects.Instance]:
        locked = self.owned_locks(locking.LEVEL_INSTANCE)
        return sorted((inst for inst in self.cfg.get_all_instances_info().values()
                       if inst.name in locked), key=lambda inst: inst.name)

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        changed: list[list[Any]] = []
        per_node: dict[str, list[tuple[objects.Instance, int, objects.Disk]]] = \
            defaultdict(list)
        for inst in self._instances():
            for index, disk in enumerate(self.cfg.get_instance_disks(str(inst.uuid))):
                per_node[inst.primary_node].append((inst, index, disk))
        for node_uuid, disks in sorted(per_node.items()):
            address = self.context.node_address(node_uuid)
            if address.offline:
                self.log_warning("Node %s is offline: disk sizes of its instances not"
                                 " checked", address.name)
                continue
            result = self.rpc.call_one("blockdev_getsize", address,
                                       [[disk_rpc_dict(self.cfg, d) for _, _, d in disks]])
            if not result.success:
                self.log_warning("Failure in blockdev_getsize call to node %s, ignoring: %s",
                                 address.name, result_error(result))
                continue
            if len(result.payload) != len(disks):
                self.log_warning("Invalid result from node %s: %d sizes for %d disks,"
                                 " ignoring", address.name, len(result.payload), len(disks))
                continue
            for (inst, index, disk), size in zip(disks, result.payload):
                change = self._check_disk(inst, index, disk, size)
                if change is not None:
                    changed.append(change)
        return changed

    def _check_disk(self, inst: objects.Instance, index: int, disk: objects.Disk,
                    size_bytes: int | None) -> list[Any] | None:
        if size_bytes is None:
            self.log_warning("Disk %d of instance %s did not return size information,"
                             " ignoring", index, inst.name)
            return None
        size = size_bytes >> _MIB_SHIFT
        if size == disk.size:
            return None
        self.log_info("Disk %d of instance %s has mismatched size, correcting: recorded %d,"
                      " actual %d", index, inst.name, disk.size, size)
        disk.size = size
        self.cfg.update(disk)
        return [inst.name, index, "size", size]

