"""Node group logical units: add, assign nodes, change parameters, rename, remove.

Group-level parameters override the cluster's: node parameters (ndparams),
disk parameters per disk template (diskparams), the instance policy
(ipolicy) and the allocation policy. A value of ``default`` (or None)
removes an override.
"""

from __future__ import annotations

from typing import Any

from ganeti import constants, errors, locking, objects, opcodes, paramdefs
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import FeedbackFn, LogicalUnit, require_nodegroup
from ganeti.config import ConfigWriter

#: Instance policy keys a group may override (Ganeti's; "std" is cluster-only).
GROUP_IPOLICY_KEYS = frozenset(["minmax", "disk-templates", "vcpu-ratio", "spindle-ratio"])


def check_group_params(cfg: ConfigWriter, group: objects.NodeGroup) -> None:
    """Every override of ``group`` is known and valid, or OpPrereqError names it."""
    cluster = cfg.get_cluster_info()
    try:
        cluster.fill_ndparams(None, group)
        for template in group.diskparams:
            if template not in constants.DISK_TEMPLATES:
                raise errors.ParameterError(
                    "Unknown disk template '%s' in the disk parameters of %s; known: %s"
                    % (template, group.describe(), ", ".join(sorted(
                        constants.DISK_TEMPLATES))))
            cluster.fill_diskparams(template, group)
    except errors.ParameterError as err:
        raise errors.OpPrereqError(str(err), errors.ECODE_INVAL) from err
    unknown = sorted(set(group.ipolicy) - GROUP_IPOLICY_KEYS)
    if unknown:
        raise errors.OpPrereqError("Unknown instance policy key(s) %s for %s; a group may"
                                   " set: %s" % (", ".join(unknown), group.describe(),
                                                 ", ".join(sorted(GROUP_IPOLICY_KEYS))),
                                   errors.ECODE_INVAL)




def _apply_settings(op: opcodes.OpCode, group: objects.NodeGroup) -> list[tuple[str, Any]]:
    """Apply the op's group settings to ``group``; the changes as (name, value)."""
    changes: list[tuple[str, Any]] = []
    if op.get("alloc_policy") is not None:
        group.alloc_policy = op.alloc_policy
        changes.append(("alloc_policy", op.alloc_policy))
    if op.get("ndparams") is not None:
        group.ndparams = paramdefs.updated_params(group.ndparams, op.ndparams)
        changes.append(("ndparams", dict(group.ndparams)))
    if op.get("diskparams") is not None:
        merged = dict(group.diskparams)
        for template, values in op.diskparams.items():
            merged[template] = paramdefs.updated_params(merged.get(template, {}), values)
            if not merged[template]:
                del merged[template]
        group.diskparams = merged
        changes.append(("diskparams", dict(merged)))
    if op.get("ipolicy") is not None:
        group.ipolicy = paramdefs.updated_params(group.ipolicy, op.ipolicy)
        changes.append(("ipolicy", dict(group.ipolicy)))
    for name, param in (("hv_state_static", "hv_state"), ("disk_state_static", "disk_state")):
        if op.get(param) is not None:
            setattr(group, name, op.get(param))
            changes.append((param, op.get(param)))
    return changes


class _GroupLU(LogicalUnit):
    HTYPE = constants.HTYPE_GROUP

    def build_hooks_env(self) -> dict[str, Any]:
        return {"OP_TARGET": self.op.group_name, "GROUP_NAME": self.op.group_name}

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        master = self.cfg.get_master_node()
        return [master], [master]

    def _lock_group(self) -> None:
        group = require_nodegroup(self.cfg, self.op.group_name)
        assert group.uuid is not None
        self.group_uuid = group.uuid
        self.needed_locks = {locking.LEVEL_NODEGROUP: [group.uuid]}


@lu_for(opcodes.OpGroupAdd)
class LUGroupAdd(_GroupLU):
    """Create a node group."""

    HPATH = "group-add"

    def expand_names(self) -> None:
        if self.cfg.find_nodegroup(self.op.group_name) is not None:
            raise errors.OpPrereqError("Node group '%s' already exists" % self.op.group_name,
                                       errors.ECODE_EXISTS)
        self.needed_locks = {}  # the BGL, exclusive, covers the new group

    def check_prereq(self) -> None:
        self.group = objects.NodeGroup(name=self.op.group_name)
        _apply_settings(self.op, self.group)
        check_group_params(self.cfg, self.group)

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        self.cfg.add_nodegroup(self.group)
        assert self.group.uuid is not None
        self.glm.add(self.owner, locking.LEVEL_NODEGROUP, self.group.uuid)
        return None


@lu_for(opcodes.OpGroupSetParams)
class LUGroupSetParams(_GroupLU):
    """Change a node group's parameters."""

    HPATH = "group-modify"
    REQ_BGL = False

    def check_arguments(self) -> None:
        if all(self.op.get(name) is None for name in (
                "alloc_policy", "ndparams", "diskparams", "ipolicy", "hv_state",
                "disk_state")):
            raise errors.OpPrereqError("Please pass at least one modification",
                                       errors.ECODE_INVAL)

    def expand_names(self) -> None:
        self._lock_group()

    def check_prereq(self) -> None:
        self.new = self.cfg.get_nodegroup(self.group_uuid).copy()
        self.changes = _apply_settings(self.op, self.new)
        check_group_params(self.cfg, self.new)

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        self.cfg.update(self.new)
        return [[name, value] for name, value in self.changes]


@lu_for(opcodes.OpGroupRename)
class LUGroupRename(_GroupLU):
    """Rename a node group."""

    HPATH = "group-rename"
    REQ_BGL = False

    def expand_names(self) -> None:
        self._lock_group()

    def check_prereq(self) -> None:
        other = self.cfg.find_nodegroup(self.op.new_name)
        if other is not None:
            raise errors.OpPrereqError("Node group '%s' already exists" % self.op.new_name,
                                       errors.ECODE_EXISTS)

    def build_hooks_env(self) -> dict[str, Any]:
        return {"OLD_NAME": self.op.group_name, "NEW_NAME": self.op.new_name}

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        group = self.cfg.get_nodegroup(self.group_uuid).copy()
        group.name = self.op.new_name
        self.cfg.update(group)
        return self.op.new_name


@lu_for(opcodes.OpGroupRemove)
class LUGroupRemove(_GroupLU):
    """Remove an empty node group (not the last one)."""

    HPATH = "group-remove"

    def expand_names(self) -> None:
        self._lock_group()

    def check_prereq(self) -> None:
        members = self.cfg.get_nodegroup_members(self.group_uuid)
        if members:
            names = sorted(self.cfg.get_node_info(u).name for u in members)
            raise errors.OpPrereqError("Node group '%s' is not empty: it has node(s) %s;"
                                       " assign them to another group first"
                                       % (self.op.group_name, ", ".join(names)),
                                       errors.ECODE_STATE)
        if len(self.cfg.get_nodegroups()) == 1:
            raise errors.OpPrereqError("Node group '%s' is the last one and cannot be removed"
                                       % self.op.group_name, errors.ECODE_STATE)

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        self.cfg.remove_nodegroup(self.group_uuid)
        self.glm.remove(self.owner, locking.LEVEL_NODEGROUP, self.group_uuid)
        return None


@lu_for(opcodes.OpGroupAssignNodes)
class LUGroupAssignNodes(_GroupLU):
    """Move nodes into a node group."""

    HPATH = "group-assign-nodes"
    REQ_BGL = False

    def expand_names(self) -> None:
        target = require_nodegroup(self.cfg, self.op.group_name)
        assert target.uuid is not None
        self.group_uuid = target.uuid
        self.node_uuids = [self.expand_node(name)[0] for name in self.op.nodes]
        # The target group and the nodes' current groups (known once nodes are locked).
        self.needed_locks = {locking.LEVEL_NODEGROUP: locking.ALL_SET,
                             locking.LEVEL_NODE: list(dict.fromkeys(self.node_uuids))}

    def check_prereq(self) -> None:
        cfg = self.cfg
        moving = set(self.node_uuids)
        split = []
        for inst_uuid in sorted(cfg.get_all_instances_info()):
            nodes = cfg.get_instance_nodes(inst_uuid)
            if len(nodes) < 2 or not moving.intersection(nodes):
                continue
            groups = {self.group_uuid if u in moving else cfg.get_node_info(u).group
                      for u in nodes}
            if len(groups) > 1:
                split.append(cfg.get_instance_info(inst_uuid).name)
        if split and not self.op.force:
            raise errors.OpPrereqError("Moving the nodes would split instance(s) %s across"
                                       " node groups; use --force to do it anyway"
                                       % ", ".join(split), errors.ECODE_STATE)
        self.split = split

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        moved = []
        for uuid in self.node_uuids:
            node = self.cfg.get_node_info(uuid)
            if node.group == self.group_uuid:
                continue
            node = node.copy()
            node.group = self.group_uuid
            self.cfg.update(node)
            moved.append(node.name)
        if self.split:
            self.log_warning("Instance(s) %s now span node groups", ", ".join(self.split))
        return moved
