"""Cluster-level logical units: the cluster information queries."""

from __future__ import annotations

import platform
from typing import Any

from ganeti import config, constants, errors, opcodes
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import FeedbackFn, QueryLU

#: Cluster attributes copied as they are into the cluster information.
_PLAIN_CLUSTER_FIELDS = (
    "enabled_hypervisors", "os_hvp", "osparams", "candidate_pool_size", "max_running_jobs",
    "max_tracked_jobs", "master_netdev", "master_netmask", "use_external_mip_script",
    "volume_group_name", "drbd_usermode_helper", "file_storage_dir",
    "shared_file_storage_dir", "gluster_storage_dir", "maintain_node_health", "ctime",
    "mtime", "uuid", "uid_pool", "default_iallocator", "default_iallocator_params",
    "reserved_lvs", "prealloc_wipe_disks", "hidden_os", "blacklisted_os",
    "enabled_disk_templates", "install_image", "instance_communication_network",
    "zeroing_image", "compression_tools", "enabled_user_shutdown", "data_collectors",
    "modify_etc_hosts", "modify_ssh_setup", "ssh_key_type", "ssh_key_bits", "master_ip",
)


def cluster_info(cfg: config.ConfigWriter) -> dict[str, Any]:
    """The cluster information (QueryClusterInfo, RAPI /2/info, gnt-cluster info)."""
    with cfg.locked():
        cluster = cfg.get_cluster_info()
        master = cfg.get_master_node_info()
        hypervisors = list(cluster.enabled_hypervisors)
        info: dict[str, Any] = {
            "software_version": constants.RELEASE_VERSION,
            "protocol_version": constants.PROTOCOL_VERSION,
            "config_version": constants.CONFIG_VERSION,
            "os_api_version": max(constants.OS_API_VERSIONS),
            "export_version": constants.EXPORT_VERSION,
            "vcs_version": constants.RELEASE_VERSION,
            "architecture": [platform.architecture()[0], platform.machine()],
            "name": cluster.cluster_name,
            "master": master.name,
            "default_hypervisor": hypervisors[0] if hypervisors else None,
            "hvparams": {hv: cluster.fill_hvparams_for(hv) for hv in hypervisors},
            "beparams": dict(cluster.beparams),
            "nicparams": dict(cluster.nicparams),
            "ndparams": dict(cluster.ndparams),
            "diskparams": dict(cluster.diskparams),
            "ipolicy": dict(cluster.ipolicy),
            "tags": list(cluster.tags),
            "primary_ip_version": 6 if cluster.primary_ip_family == constants.IP6_FAMILY
            else 4,
        }
        for name in _PLAIN_CLUSTER_FIELDS:
            info[name] = getattr(cluster, name)
    return info


#: Fields of OpClusterConfigQuery / luxi QueryConfigValues (Ganeti's).
def config_values(cfg: config.ConfigWriter, fields: list[str], drained: bool,
                  watcher_pause: float | None) -> list[Any]:
    """Values of the named configuration fields, in order; unknown ones raise."""
    cluster = cfg.get_cluster_info()
    getters = {
        "cluster_name": lambda: cluster.cluster_name,
        "master_node": lambda: cfg.get_master_node_info().name,
        "drain_flag": lambda: drained,
        "watcher_pause": lambda: watcher_pause,
        "volume_group_name": lambda: cluster.volume_group_name,
        "modify_ssh_setup": lambda: cluster.modify_ssh_setup,
        "ssh_key_type": lambda: cluster.ssh_key_type,
        "ssh_key_bits": lambda: cluster.ssh_key_bits,
    }
    unknown = [name for name in fields if name not in getters]
    if unknown:
        raise errors.OpPrereqError("Unknown configuration field(s) %s; known: %s"
                                   % (", ".join(unknown), ", ".join(sorted(getters))),
                                   errors.ECODE_INVAL)
    return [getters[name]() for name in fields]


@lu_for(opcodes.OpClusterQuery)
class LUClusterQuery(QueryLU):
    """Return the cluster information."""

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        return cluster_info(self.cfg)


@lu_for(opcodes.OpClusterConfigQuery)
class LUClusterConfigQuery(QueryLU):
    """Return selected configuration values."""

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        queue = self.context.jobqueue
        drained = queue.is_drained() if queue is not None else False
        return config_values(self.cfg, list(self.op.output_fields), drained, None)
