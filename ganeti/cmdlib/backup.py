"""gnt-backup on the master: OpBackupPrepare, OpBackupExport, OpBackupRemove and the
"export" query resource.

An export (mode "local") writes the instance to the export directory of a
node of the cluster: each disk goes through the OS definition's ``export``
script on the primary node (its output is the disk's dump), the dumps are
copied to the target node when it is another one, and ``config.ini``
describes the instance (see ``export_support``). The instance is shut down
for the export unless ``--noshutdown``: file and LVM disks here cannot be
snapshotted, so the images of the running instance are then read as they
are (the job log says so). It is started again afterwards if it was running,
unless it is removed (``--remove-instance``). A successful export removes
the older exports of the instance from the other nodes, as Ganeti does.
Remote exports (to another cluster) are not supported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ganeti import constants, errors, locking, opcodes, query
from ganeti.cmdlib import export_support as es
from ganeti.cmdlib import instance_utils as iu
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import FeedbackFn, LogicalUnit, NoHooksLU
from ganeti.cmdlib.query import ITEM_SOURCES
from ganeti.query import FieldStatus, QueryField

if TYPE_CHECKING:
    from ganeti.context import MasterContext

#: Templates whose disks the node can read for an export.
EXPORTABLE_TEMPLATES = frozenset([constants.DT_DISKLESS, constants.DT_FILE,
                                  constants.DT_SHARED_FILE, constants.DT_PLAIN])
#: Where the export is written on the target node until it is complete.
NEW_SUFFIX = ".new"


def _refuse_remote(mode: str) -> None:
    if mode != constants.EXPORT_MODE_LOCAL:
        raise errors.OpPrereqError("Export mode %r is not supported (only %r: exports to a"
                                   " node of this cluster)" % (mode, constants.EXPORT_MODE_LOCAL),
                                   errors.ECODE_INVAL)


@lu_for(opcodes.OpBackupPrepare)
class LUBackupPrepare(NoHooksLU):
    """Prepare an export; local exports need nothing (the result is None, as Ganeti's)."""

    REQ_BGL = False

    def check_arguments(self) -> None:
        _refuse_remote(self.op.mode)

    def expand_names(self) -> None:
        self.inst = iu.expand_instance(self.cfg, self.op.instance_name)
        self.needed_locks = {locking.LEVEL_INSTANCE: [self.inst.name]}

    def check_prereq(self) -> None:
        iu.check_node_online(self.cfg, self.inst.primary_node, "prepare an export")

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        return None


@lu_for(opcodes.OpBackupExport)
class LUBackupExport(LogicalUnit):
    """Export an instance to the export directory of a node of the cluster."""

    HPATH = "instance-export"
    HTYPE = constants.HTYPE_INSTANCE
    REQ_BGL = False

    def check_arguments(self) -> None:
        op = self.op
        _refuse_remote(op.mode)
        if not isinstance(op.target_node, str):
            raise errors.OpPrereqError("A local export needs one target node name, got %r"
                                       % (op.target_node,), errors.ECODE_INVAL)
        if op.compress != constants.IEC_NONE:
            raise errors.OpPrereqError("Compression %r is not supported for exports (only %r)"
                                       % (op.compress, constants.IEC_NONE),
                                       errors.ECODE_INVAL)
        if op.zero_free_space:
            raise errors.OpPrereqError("Zeroing the free space (--zero-free-space) is not"
                                       " supported", errors.ECODE_INVAL)
        if op.get("zeroing_timeout_fixed") is not None or \
                op.get("zeroing_timeout_per_mib") is not None:
            raise errors.OpPrereqError("Zeroing timeout options can only be used with the"
                                       " --zero-free-space option", errors.ECODE_INVAL)
        if op.long_sleep and not op.shutdown:
            raise errors.OpPrereqError("The long sleep option only makes sense when the"
                                       " instance can be shut down", errors.ECODE_INVAL)

    def expand_names(self) -> None:
        self.inst = iu.expand_instance(self.cfg, self.op.instance_name)
        self.op.instance_name = self.inst.name
        self.target_uuid, self.target_name = self.expand_node(self.op.target_node)
        self.op.target_node = self.target_name
        # Every node: older exports of the instance are removed wherever they are.
        self.needed_locks = {locking.LEVEL_INSTANCE: [self.inst.name],
                             locking.LEVEL_NODE: locking.ALL_SET}
        self.share_locks[locking.LEVEL_NODE] = True

    def check_prereq(self) -> None:
        inst, op = self.inst, self.op
        iu.check_node_online(self.cfg, inst.primary_node, "export instance %s" % inst.name)
        target = iu.check_node_online(self.cfg, self.target_uuid, "export an instance to it")
        if target.drained:
            raise errors.OpPrereqError("Node %s is drained: no export may go there"
                                       % target.name, errors.ECODE_STATE)
        if op.remove_instance and inst.admin_state == constants.ADMINST_UP and \
                not op.shutdown:
            raise errors.OpPrereqError("Can not remove instance %s without shutting it down"
                                       " first (--noshutdown with --remove-instance)"
                                       % inst.name, errors.ECODE_STATE)
        self.disks = self.cfg.get_instance_disks(iu.instance_uuid(inst))
        self.template = self.disks[0].dev_type if self.disks else constants.DT_DISKLESS
        if self.template not in EXPORTABLE_TEMPLATES:
            raise errors.OpPrereqError("Instance %s has disk template %s; exports read only"
                                       " %s disks" % (inst.name, self.template, ", ".join(
                                           sorted(EXPORTABLE_TEMPLATES))),
                                       errors.ECODE_STATE)
        if not inst.os:
            raise errors.OpPrereqError("Instance %s has no OS: its disks cannot be exported"
                                       " through an OS export script" % inst.name,
                                       errors.ECODE_STATE)

    def build_hooks_env(self) -> dict[str, Any]:
        return iu.instance_hooks_env(self.cfg, self.inst, override={
            "EXPORT_MODE": self.op.mode,
            "EXPORT_NODE": self.target_name,
            "EXPORT_DO_SHUTDOWN": self.op.shutdown,
            "SHUTDOWN_TIMEOUT": self.op.shutdown_timeout,
            "REMOVE_INSTANCE": str(bool(self.op.remove_instance)),
        })

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        nodes = list(dict.fromkeys([self.cfg.get_master_node(), self.inst.primary_node,
                                    self.target_uuid]))
        return nodes, list(nodes)

    # -- exec -------------------------------------------------------------------------------

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        inst, op = self.inst, self.op
        was_up = inst.admin_state == constants.ADMINST_UP
        stopped = False
        if op.shutdown and was_up:
            feedback_fn("Shutting down instance %s" % inst.name)
            iu.shutdown_instance(self, inst, int(op.shutdown_timeout))
            stopped = True
        elif was_up and self.disks:
            self.log_warning("Instance %s keeps running (--noshutdown): %s disks cannot be"
                             " snapshotted, so the images of the running instance are read"
                             " as they are and the export may be inconsistent",
                             inst.name, self.template)
        activate = bool(self.disks) and not inst.disks_active
        failure: BaseException | None = None
        try:
            if activate:
                feedback_fn("Activating disks for %s" % inst.name)
                iu.assemble_disks(self, inst)
            self._export(feedback_fn)
        except BaseException as err:
            failure = err
        if activate:
            feedback_fn("Deactivating disks for %s" % inst.name)
            iu.shutdown_disks(self, inst, ignore_failures=True)
        if stopped and not (op.remove_instance and failure is None):
            feedback_fn("Starting instance %s" % inst.name)
            try:
                iu.start_instance(self, inst)
            except errors.GenericError as err:
                if failure is None:
                    raise
                self.log_warning("%s", err)
        if failure is not None:
            raise failure
        if op.remove_instance:
            feedback_fn("Removing instance %s" % inst.name)
            self._remove_instance()
        others = [uuid for uuid in self.cfg.get_node_list() if uuid != self.target_uuid]
        if others:
            feedback_fn("Removing old exports for instance %s" % inst.name)
            es.remove_exports(self, inst.name, others)
        return [True, [True] * len(self.disks)]

    def _export(self, feedback_fn: FeedbackFn) -> None:
        """Dump every disk, bring the dumps to the target, write config.ini there."""
        inst = self.inst
        primary = inst.primary_node
        staging = inst.name + NEW_SUFFIX
        local = primary == self.target_uuid
        # The primary dumps straight into the export when it is the target; else into
        # a hidden directory of its own, copied over and removed.
        dump_dir = staging if local else ".export-%s-%s" % (inst.name, self.owner)
        dumps = [disk.uuid or "disk%d" % index for index, disk in enumerate(self.disks)]
        target = iu.node_address(self, self.target_uuid)
        source = iu.node_address(self, primary)
        data = iu.instance_rpc_dict(self.cfg, inst)
        debug = int(self.op.get("debug_level") or 0)
        try:
            for index, dump in enumerate(dumps):
                label = "disk/%d" % index
                feedback_fn("Exporting %s with the OS export script on node %s"
                            % (label, source.name))
                result = self.rpc.call_one("export_disk", source,
                                           [data, index, dump_dir, dump, debug])
                written = result.raise_if_failed("Exporting %s of %s" % (label, inst.name))
                feedback_fn("  - %s: %d bytes dumped%s" % (
                    label, written["size"],
                    "" if written.get("predicted") is None
                    else " (the script announced %d)" % written["predicted"]))
                if not local:
                    es.copy_dump(self, primary, dump_dir, self.target_uuid, staging, dump,
                                 label, feedback_fn)
                    self.rpc.call_one("export_remove", source, [dump_dir + "/" + dump])
            feedback_fn("Finalizing export on %s" % target.name)
            config_text = es.build_config(self.cfg, inst, self.disks, dumps)
            self.rpc.call_one("finalize_export", target, [inst.name, config_text]
                              ).raise_if_failed("Finalizing the export of %s" % inst.name)
        except BaseException:
            self.log_warning("Export of %s failed; removing its partial data from node %s",
                             inst.name, target.name)
            self.rpc.call_one("export_remove", target, [staging])
            raise
        finally:
            if not local:
                self.rpc.call_one("export_remove", source, [dump_dir])

    def _remove_instance(self) -> None:
        """Remove the exported instance (its disks, then its configuration)."""
        inst = self.inst
        ignore = bool(self.op.ignore_remove_failures)
        iu.shutdown_disks(self, inst, ignore_failures=True)
        iu.remove_disks(self, inst, ignore_failures=ignore)
        self.cfg.remove_instance(iu.instance_uuid(inst))
        self.glm.remove(self.owner, locking.LEVEL_INSTANCE, inst.name)


@lu_for(opcodes.OpBackupRemove)
class LUBackupRemove(NoHooksLU):
    """Remove the exports of an instance (which may be gone already) from every node."""

    REQ_BGL = False

    def expand_names(self) -> None:
        self.needed_locks = {locking.LEVEL_NODE: locking.ALL_SET}
        self.share_locks[locking.LEVEL_NODE] = True

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        # A removed instance is only known by the name its export carries: the full one.
        inst = None
        try:
            inst = iu.expand_instance(self.cfg, self.op.instance_name)
        except errors.OpPrereqError:
            pass
        name = inst.name if inst is not None else self.op.instance_name
        removed = es.remove_exports(self, name, self.cfg.get_node_list())
        for node in removed:
            feedback_fn("Removed the export of %s from node %s" % (name, node))
        if not removed and inst is None:
            feedback_fn("Export not found. If trying to remove an export belonging to a"
                        " deleted instance please use its Fully Qualified Domain Name.")
        return None


# -- the "export" query resource -----------------------------------------------------------

@dataclass(frozen=True)
class ExportRow:
    """One export on one node; a node that could not tell has one row with a status."""

    node: str
    export: str | None
    status: int = constants.RS_NORMAL


def _export_name(row: ExportRow) -> str:
    if row.export is None:
        raise FieldStatus(row.status)
    return row.export


query.register_resource(constants.QR_EXPORT, [
    QueryField("node", "Node", constants.QFT_TEXT, lambda row: row.node, "Node name"),
    QueryField("export", "Export", constants.QFT_TEXT, _export_name, "Export name"),
])


def export_items(context: MasterContext) -> list[ExportRow]:
    """Every export of every node, by node name then export name."""
    with context.cfg.locked():
        node_uuids = list(context.cfg.get_node_list())
    rows: list[ExportRow] = []
    for node, exports, status in es.list_exports(context, node_uuids).values():
        if exports is None:
            rows.append(ExportRow(node, None, status))
        else:
            rows.extend(ExportRow(node, export) for export in exports)
    return sorted(rows, key=lambda row: (row.node, row.export or ""))


ITEM_SOURCES[constants.QR_EXPORT] = lambda context, needed: export_items(context)
