"""Storage units on nodes: list, modify and repair them; list logical volumes.

Ganeti's storage units: a storage type (lvm-vg, lvm-pv, file, sharedfile…)
and a name (a volume group, a physical volume, a storage directory). The
node reports them through storage_list; storage_modify changes a field
(only an LVM physical volume's ``allocatable`` flag), storage_execute runs
an operation (only ``fix-consistency`` of a volume group). A storage type
may only be used when one of its disk templates is enabled.
"""

from __future__ import annotations

from typing import Any

from ganeti import constants, errors, locking, objects, opcodes, ssconf
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import FeedbackFn, LogicalUnit, NoHooksLU
from ganeti.cmdlib.instance_utils import disk_rpc_dict, result_error
from ganeti.config import ConfigWriter


def check_storage_type_enabled(cluster: objects.Cluster, storage_type: str) -> None:
    """OpPrereqError unless a disk template of ``storage_type`` is enabled (Ganeti's rule:
    lvm-pv counts as lvm-vg)."""
    wanted = constants.ST_LVM_VG if storage_type == constants.ST_LVM_PV else storage_type
    templates = sorted(t for t, st in constants.MAP_DISK_TEMPLATE_STORAGE_TYPE.items()
                       if st == wanted)
    if any(t in cluster.enabled_disk_templates for t in templates):
        return
    raise errors.OpPrereqError(
        "No disk template of storage type '%s' is enabled in this cluster (it needs one of"
        " %s; enabled: %s)" % (storage_type, ", ".join(templates) or "none",
                               ", ".join(cluster.enabled_disk_templates) or "none"),
        errors.ECODE_STATE)


def storage_type_args(cluster: objects.Cluster, storage_type: str) -> list[Any]:
    """The storage_list arguments of a type: the storage directories of file types."""
    if storage_type == constants.ST_FILE:
        return [[cluster.file_storage_dir]]
    if storage_type == constants.ST_SHARED_FILE:
        dirs = []
        if constants.DT_SHARED_FILE in cluster.enabled_disk_templates:
            dirs.append(cluster.shared_file_storage_dir)
        if constants.DT_GLUSTER in cluster.enabled_disk_templates:
            dirs.append(cluster.gluster_storage_dir)
        return [dirs]
    return []


def _wanted_nodes(lu: LogicalUnit, names: list[str]) -> list[str] | None:
    """UUIDs of the named nodes (each once), or ALL_SET for none named."""
    if not names:
        return locking.ALL_SET
    return list(dict.fromkeys(lu.expand_node(name)[0] for name in names))


def _sorted_by_name(cfg: ConfigWriter, uuids: frozenset[str]) -> list[tuple[str, str]]:
    """(uuid, name) of the nodes, in natural name order."""
    pairs = [(uuid, cfg.get_node_info(uuid).name) for uuid in uuids]
    return sorted(pairs, key=lambda pair: ssconf.nice_sort_key(pair[1]))


def _check_fields(fields: list[str], valid: Any) -> None:
    unknown = [name for name in fields if name not in valid]
    if unknown:
        raise errors.OpPrereqError("Unknown output fields selected: %s (known: %s)"
                                   % (", ".join(unknown), ", ".join(sorted(valid))),
                                   errors.ECODE_INVAL)


# -- list-storage ------------------------------------------------------------------------

@lu_for(opcodes.OpNodeQueryStorage)
class LUNodeQueryStorage(NoHooksLU):
    """Rows of the requested fields, one per storage unit, nodes and units in name order."""

    REQ_BGL = False

    def check_arguments(self) -> None:
        _check_fields(list(self.op.output_fields), constants.VALID_STORAGE_FIELDS)

    def expand_names(self) -> None:
        self.needed_locks = {locking.LEVEL_NODE: _wanted_nodes(self, list(self.op.nodes))}
        self.share_locks[locking.LEVEL_NODE] = True

    def check_prereq(self) -> None:
        cluster = self.cfg.get_cluster_info()
        storage_type = self.op.get("storage_type")
        if storage_type:
            check_storage_type_enabled(cluster, storage_type)
        else:
            enabled = list(cluster.enabled_disk_templates)
            storage_type = (constants.MAP_DISK_TEMPLATE_STORAGE_TYPE.get(enabled[0])
                            if enabled else None)
            if storage_type not in constants.STS_REPORT_NODE_STORAGE:
                raise errors.OpPrereqError(
                    "Storage reporting for storage type '%s' (of the first enabled disk"
                    " template) is not supported; give one of %s with --storage-type"
                    % (storage_type, ", ".join(sorted(constants.STS_REPORT_NODE_STORAGE))),
                    errors.ECODE_INVAL)
        self.storage_type: str = storage_type

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        output_fields = list(self.op.output_fields)
        # The node knows neither its name nor the type; name is needed to sort.
        node_fields = [constants.SF_NAME] + [
            name for name in output_fields
            if name not in (constants.SF_NODE, constants.SF_TYPE, constants.SF_NAME)]
        nodes = _sorted_by_name(self.cfg, self.owned_locks(locking.LEVEL_NODE))
        addresses = [self.context.node_address(uuid) for uuid, _ in nodes]
        args = storage_type_args(self.cfg.get_cluster_info(), self.storage_type)
        results = self.rpc.call("storage_list", addresses,
                                [self.storage_type, args, self.op.get("name"), node_fields])
        rows: list[list[Any]] = []
        for _uuid, node_name in nodes:
            result = results[node_name]
            if result.offline:
                continue
            if not result.success:
                self.log_warning("Can't get storage data from node %s: %s", node_name,
                                 result_error(result))
                continue
            units = sorted(result.payload, key=lambda unit: ssconf.nice_sort_key(str(unit[0])))
            for unit in units:
                values = dict(zip(node_fields, unit))
                values[constants.SF_NODE] = node_name
                values[constants.SF_TYPE] = self.storage_type
                rows.append([values[name] for name in output_fields])
        return rows


# -- modify-storage / repair-storage ------------------------------------------------------

class _NodeStorageUnitLU(NoHooksLU):
    """An LU on one storage unit of one node (locked exclusively)."""

    REQ_BGL = False

    def expand_names(self) -> None:
        if not self.op.get("name"):
            raise errors.OpPrereqError("The storage unit's name is required",
                                       errors.ECODE_INVAL)
        self.node_uuid, self.node_name = self.expand_node(self.op.node_name)
        self.needed_locks = {locking.LEVEL_NODE: [self.node_uuid]}

    def check_prereq(self) -> None:
        check_storage_type_enabled(self.cfg.get_cluster_info(), self.op.storage_type)
        node = self.cfg.get_node_info(self.node_uuid)
        if node.offline:
            raise errors.OpPrereqError("Node %s is offline" % node.name, errors.ECODE_STATE)

    def unit_args(self) -> list[Any]:
        return [self.op.storage_type,
                storage_type_args(self.cfg.get_cluster_info(), self.op.storage_type),
                self.op.name]


@lu_for(opcodes.OpNodeModifyStorage)
class LUNodeModifyStorage(_NodeStorageUnitLU):
    """Change fields of a storage unit (an LVM physical volume's allocatable flag)."""

    def check_arguments(self) -> None:
        modifiable = constants.MODIFIABLE_STORAGE_FIELDS.get(self.op.storage_type)
        if modifiable is None:
            raise errors.OpPrereqError(
                "Storage units of type '%s' can not be modified (only %s)"
                % (self.op.storage_type,
                   ", ".join(sorted(constants.MODIFIABLE_STORAGE_FIELDS))), errors.ECODE_INVAL)
        changes = dict(self.op.changes)
        unknown = sorted(set(changes) - modifiable)
        if unknown:
            raise errors.OpPrereqError(
                "The following fields can not be modified for storage units of type '%s':"
                " %s (modifiable: %s)" % (self.op.storage_type, ", ".join(unknown),
                                          ", ".join(sorted(modifiable))), errors.ECODE_INVAL)
        if not changes:
            raise errors.OpPrereqError("No changes given for storage unit %s"
                                       % self.op.name, errors.ECODE_INVAL)
        bad = {k: v for k, v in changes.items() if not isinstance(v, bool)}
        if bad:
            raise errors.OpPrereqError("Storage field values must be booleans, got %s"
                                       % ", ".join("%s=%r" % kv for kv in sorted(bad.items())),
                                       errors.ECODE_INVAL)

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        address = self.context.node_address(self.node_uuid)
        result = self.rpc.call_one("storage_modify", address,
                                   [*self.unit_args(), dict(self.op.changes)])
        if not result.success:
            raise errors.OpExecError("Failed to modify storage unit '%s' on %s: %s"
                                     % (self.op.name, self.node_name, result_error(result)))
        return None


@lu_for(opcodes.OpRepairNodeStorage)
class LURepairNodeStorage(_NodeStorageUnitLU):
    """Repair a storage unit (make a volume group consistent: vgreduce --removemissing)."""

    def check_arguments(self) -> None:
        operations = constants.VALID_STORAGE_OPERATIONS.get(self.op.storage_type, ())
        if constants.SO_FIX_CONSISTENCY not in operations:
            raise errors.OpPrereqError(
                "Storage units of type '%s' can not be repaired (only %s)"
                % (self.op.storage_type,
                   ", ".join(sorted(constants.VALID_STORAGE_OPERATIONS))), errors.ECODE_INVAL)

    def check_prereq(self) -> None:
        super().check_prereq()
        # Repairing may drop data that only the other copies still hold.
        for inst in self.cfg.get_all_instances_info().values():
            if not inst.disks_active or self.node_uuid not in self.cfg.get_instance_nodes(
                    str(inst.uuid)):
                continue
            for problem in self._faulty_disks(inst):
                if not self.op.ignore_consistency:
                    raise errors.OpPrereqError("%s (use --ignore-consistency to repair"
                                               " anyway)" % problem, errors.ECODE_STATE)
                self.log_warning("%s", problem)

    def _faulty_disks(self, inst: objects.Instance) -> list[str]:
        problems = []
        for index, disk in enumerate(self.cfg.get_instance_disks(str(inst.uuid))):
            for node_uuid in disk.all_nodes():
                if node_uuid == self.node_uuid:
                    continue
                address = self.context.node_address(node_uuid)
                if address.offline:
                    continue
                result = self.rpc.call_one("blockdev_find", address,
                                           [disk_rpc_dict(self.cfg, disk)])
                status = result.payload if result.success else None
                if status is None or status.get("is_degraded"):
                    problems.append("Instance '%s' has a faulty disk %d on node '%s'"
                                    % (inst.name, index, address.name))
        return problems

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        feedback_fn("Repairing storage unit '%s' on %s ..." % (self.op.name, self.node_name))
        address = self.context.node_address(self.node_uuid)
        result = self.rpc.call_one("storage_execute", address,
                                   [*self.unit_args(), constants.SO_FIX_CONSISTENCY])
        if not result.success:
            raise errors.OpExecError("Failed to repair storage unit '%s' on %s: %s"
                                     % (self.op.name, self.node_name, result_error(result)))
        self.log_info("%s: %s", self.node_name, result.payload)
        return None


# -- volumes -------------------------------------------------------------------------------

def instance_volumes(cfg: ConfigWriter) -> dict[tuple[str, str], str]:
    """(node uuid, "vg/lv") -> instance name, for every LVM volume of every instance."""
    owners: dict[tuple[str, str], str] = {}
    for inst in cfg.get_all_instances_info().values():
        for disk in cfg.get_instance_disks(str(inst.uuid)):
            nodes = disk.all_nodes()
            for device in disk.walk():
                if device.dev_type == constants.DT_PLAIN and len(device.logical_id) == 2:
                    volume = "%s/%s" % tuple(device.logical_id)
                    for node_uuid in device.nodes or nodes:
                        owners[(node_uuid, volume)] = inst.name
    return owners


@lu_for(opcodes.OpNodeQueryvols)
class LUNodeQueryvols(NoHooksLU):
    """The logical volumes of nodes, with the instance owning each (Ganeti's strings)."""

    REQ_BGL = False

    def check_arguments(self) -> None:
        _check_fields(list(self.op.output_fields), constants.VALID_VOLUME_FIELDS)

    def expand_names(self) -> None:
        self.needed_locks = {locking.LEVEL_NODE: _wanted_nodes(self, list(self.op.nodes))}
        self.share_locks[locking.LEVEL_NODE] = True

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        nodes = _sorted_by_name(self.cfg, self.owned_locks(locking.LEVEL_NODE))
        results = self.rpc.call("node_volumes",
                                [self.context.node_address(uuid) for uuid, _ in nodes])
        owners = instance_volumes(self.cfg)
        rows: list[list[str]] = []
        for uuid, node_name in nodes:
            result = results[node_name]
            if result.offline:
                continue
            if not result.success:
                self.log_warning("Can't compute volume data on node %s: %s", node_name,
                                 result_error(result))
                continue
            for volume in sorted(result.payload, key=lambda v: v[constants.VF_DEV]):
                values = {
                    constants.VF_NODE: node_name,
                    constants.VF_PHYS: volume[constants.VF_DEV],
                    constants.VF_VG: volume[constants.VF_VG],
                    constants.VF_NAME: volume[constants.VF_NAME],
                    constants.VF_SIZE: volume[constants.VF_SIZE],
                    constants.VF_INSTANCE: owners.get(
                        (uuid, "%s/%s" % (volume[constants.VF_VG], volume[constants.VF_NAME])),
                        "-"),
                }
                rows.append([str(values[name]) for name in self.op.output_fields])
        return rows
