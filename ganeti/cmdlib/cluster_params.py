"""gnt-cluster modify: OpClusterSetParams.

Every change is computed and checked in ``check_prereq`` (a bad value names
the parameter family, the parameter and what was expected, and nothing is
changed); ``exec`` applies them in one configuration save. A parameter value
of ``default`` (or None, the CLI's ``-name``) removes the cluster's override.
Growing the candidate pool promotes nodes, which then get their files
(RedistributeConfig for the new candidates); changing the extra files list
or the enabled hypervisors re-sends the replicated files.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from typing import Any

from ganeti import constants, errors, opcodes, paramdefs
from ganeti.cmdlib import lu_for, os_params
from ganeti.cmdlib import node as node_lu
from ganeti.cmdlib.base import FeedbackFn, LogicalUnit
from ganeti.cmdlib.cluster_redist import CLUSTER_PATHS, redistribute_config
from ganeti.objects import Cluster

#: Opcode parameter -> cluster field, for values taken as they are.
_PLAIN_FIELDS = {
    "vg_name": "volume_group_name",
    "max_running_jobs": "max_running_jobs",
    "max_tracked_jobs": "max_tracked_jobs",
    "maintain_node_health": "maintain_node_health",
    "prealloc_wipe_disks": "prealloc_wipe_disks",
    "drbd_helper": "drbd_usermode_helper",
    "default_iallocator": "default_iallocator",
    "default_iallocator_params": "default_iallocator_params",
    "mac_prefix": "mac_prefix",
    "master_netdev": "master_netdev",
    "master_netmask": "master_netmask",
    "reserved_lvs": "reserved_lvs",
    "use_external_mip_script": "use_external_mip_script",
    "modify_etc_hosts": "modify_etc_hosts",
    "install_image": "install_image",
    "zeroing_image": "zeroing_image",
    "compression_tools": "compression_tools",
    "enabled_user_shutdown": "enabled_user_shutdown",
    "uid_pool": "uid_pool",
}

#: Parameters handled below besides the plain ones.
_HANDLED = frozenset(_PLAIN_FIELDS) | {
    "force", "hvparams", "beparams", "nicparams", "ndparams", "diskparams",
    "enabled_hypervisors", "enabled_disk_templates", "candidate_pool_size",
    "file_storage_dir", "shared_file_storage_dir", "gluster_storage_dir",
    "add_redistribute_files", "remove_redistribute_files",
} | os_params.CLUSTER_OS_PARAMS


#: Files the cluster replicates itself: they can't be extra files.
_FIXED_REPLICATED_FILES = frozenset([
    CLUSTER_PATHS.config_file, CLUSTER_PATHS.server_cert_file, CLUSTER_PATHS.client_cert_file,
    CLUSTER_PATHS.rapi_cert_file, CLUSTER_PATHS.rapi_users_file,
    CLUSTER_PATHS.confd_hmac_key_file, CLUSTER_PATHS.cluster_domain_secret_file,
])


def _check_family(family: paramdefs.ParamFamily, values: Mapping[str, Any]) -> None:
    try:
        family.check(values, "cluster")
    except errors.ParameterError as err:
        raise errors.OpPrereqError(str(err), errors.ECODE_INVAL) from None


@lu_for(opcodes.OpClusterSetParams)
class LUClusterSetParams(LogicalUnit):
    """Change cluster-wide parameters."""

    HPATH = "cluster-modify"
    HTYPE = constants.HTYPE_CLUSTER

    def check_arguments(self) -> None:
        common = {param.name for param in opcodes.OpCode.ALL_PARAMS}
        unsupported = sorted(name for name in type(self.op).PARAMS_BY_NAME
                             if name not in _HANDLED and name not in common
                             and self.op.get(name) is not None)
        if unsupported:
            raise errors.OpPrereqError("gnt-cluster modify can't change %s yet"
                                       % ", ".join(unsupported), errors.ECODE_INVAL)
        if all(self.op.get(name) is None for name in _HANDLED - {"force"}):
            raise errors.OpPrereqError("Please give at least one of the parameters to"
                                       " change", errors.ECODE_INVAL)

    def expand_names(self) -> None:
        self.needed_locks = {}

    def build_hooks_env(self) -> dict[str, Any]:
        return {"OP_TARGET": self.cfg.get_cluster_name(),
                "NEW_VG_NAME": self.op.get("vg_name") or ""}

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        master = self.cfg.get_master_node()
        return [master], [master]

    # -- prerequisites ------------------------------------------------------------------

    def check_prereq(self) -> None:
        with self.cfg.locked():
            self.new = copy.deepcopy(self.cfg.get_cluster_info())
            instances = list(self.cfg.get_all_instances_info().values())
        new = self.new
        for param, field in _PLAIN_FIELDS.items():
            value = self.op.get(param)
            if value is not None:
                setattr(new, field, value)
        self._prereq_enabled(new, instances)
        self._prereq_params(new)
        self._prereq_storage_dirs(new)
        self._prereq_redistribute_files(new)
        os_params.apply_cluster_os_changes(new, self.op)
        if self.op.get("candidate_pool_size") is not None:
            new.candidate_pool_size = self.op.candidate_pool_size

    def _prereq_enabled(self, new: Cluster, instances: list[Any]) -> None:
        for param, what, used_by in (
                ("enabled_hypervisors", "hypervisor",
                 lambda inst: [inst.hypervisor]),
                ("enabled_disk_templates", "disk template",
                 lambda inst: [self.cfg.get_instance_disk_template(inst.uuid)])):
            wanted = self.op.get(param)
            if wanted is None:
                continue
            if not wanted:
                raise errors.OpPrereqError("%s: at least one %s must be enabled"
                                           % (param, what), errors.ECODE_INVAL)
            if len(set(wanted)) != len(wanted):
                raise errors.OpPrereqError("%s: %s given twice" % (param, what),
                                           errors.ECODE_INVAL)
            for inst in instances:
                for value in used_by(inst):
                    if value and value not in wanted:
                        raise errors.OpPrereqError(
                            "Cannot disable %s '%s': instance %s uses it"
                            % (what, value, inst.name), errors.ECODE_STATE)
            setattr(new, param, list(wanted))

    def _prereq_params(self, new: Cluster) -> None:
        hvparams = self.op.get("hvparams") or {}
        for hv_name, changes in hvparams.items():
            try:
                family = paramdefs.hv_family(hv_name)
            except errors.ParameterError as err:
                raise errors.OpPrereqError("hvparams: %s" % err, errors.ECODE_INVAL) from None
            merged = paramdefs.updated_params(new.hvparams.get(hv_name), changes)
            _check_family(family, merged)
            new.hvparams[hv_name] = merged
        for param, family in (("beparams", paramdefs.BEPARAMS),
                              ("nicparams", paramdefs.NICPARAMS)):
            changes = self.op.get(param)
            if changes is not None:
                holder = getattr(new, param)
                merged = paramdefs.updated_params(holder.get(constants.VALUE_DEFAULT), changes)
                _check_family(family, family.resolve_aliases(merged))
                holder[constants.VALUE_DEFAULT] = merged
        if self.op.get("ndparams") is not None:
            merged = paramdefs.updated_params(new.ndparams, self.op.ndparams)
            _check_family(paramdefs.NDPARAMS, merged)
            new.ndparams = merged
        for template, changes in (self.op.get("diskparams") or {}).items():
            try:
                family = paramdefs.disk_family(template)
            except errors.ParameterError as err:
                raise errors.OpPrereqError("diskparams: %s" % err,
                                           errors.ECODE_INVAL) from None
            merged = paramdefs.updated_params(new.diskparams.get(template), changes)
            _check_family(family, merged)
            new.diskparams[template] = merged

    def _prereq_storage_dirs(self, new: Cluster) -> None:
        for param in ("file_storage_dir", "shared_file_storage_dir", "gluster_storage_dir"):
            value = self.op.get(param)
            if value is None:
                continue
            if value and not os.path.isabs(value):
                raise errors.OpPrereqError("%s must be an absolute path, got %r"
                                           % (param, value), errors.ECODE_INVAL)
            setattr(new, param, os.path.normpath(value) if value else "")

    def _prereq_redistribute_files(self, new: Cluster) -> None:
        entries = {entry["path"]: dict(entry) for entry in new.redistribute_files}
        for path in self.op.get("remove_redistribute_files") or []:
            path = os.path.normpath(path)
            if path not in entries:
                raise errors.OpPrereqError("%s is not on the list of redistributed files"
                                           " (listed: %s)" % (path, ", ".join(sorted(entries))
                                                              or "none"), errors.ECODE_NOENT)
            del entries[path]
        fixed = _FIXED_REPLICATED_FILES
        for entry in self.op.get("add_redistribute_files") or []:
            path = os.path.normpath(entry["path"])
            if path in fixed:
                raise errors.OpPrereqError("%s is already replicated by the cluster itself;"
                                           " it can't be an extra file" % path,
                                           errors.ECODE_INVAL)
            entries[path] = {"path": path, "nodes": entry["nodes"]}
        new.redistribute_files = [entries[path] for path in sorted(entries)]


    # -- execution ------------------------------------------------------------------------

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        old = self.cfg.get_cluster_info()
        files_changed = (old.redistribute_files != self.new.redistribute_files
                         or old.enabled_hypervisors != self.new.enabled_hypervisors)
        self.cfg.update(self.new)
        promoted = (node_lu.fill_candidate_pool(self.cfg)
                    if self.op.get("candidate_pool_size") is not None else [])
        if promoted:
            feedback_fn("Promoted nodes to master candidate role: %s"
                        % ", ".join(node.name for node in promoted))
        if files_changed:
            redistribute_config(self.context, None, self.log_warning)
        if promoted:
            # New candidates get their files and confd, as on any promotion.
            node_lu.push_config(self, [node.uuid or "" for node in promoted])
        return None
