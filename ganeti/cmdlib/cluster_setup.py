"""Cluster set-up logical units: post-init, rename, destroy."""

from __future__ import annotations

from typing import Any

from ganeti import constants, errors, netutils, opcodes
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import FeedbackFn, LogicalUnit
from ganeti.cmdlib.cluster_masterip import change_master_ip_or_warn


class _ClusterLU(LogicalUnit):
    """A cluster-level LU holding only the Big Ganeti Lock (exclusively)."""

    HTYPE = constants.HTYPE_CLUSTER

    def expand_names(self) -> None:
        self.needed_locks = {}

    def _master_uuid(self) -> str:
        return self.cfg.get_master_node()


@lu_for(opcodes.OpClusterPostInit)
class LUClusterPostInit(_ClusterLU):
    """Finish ``gnt-cluster init``: run the cluster-init post hooks on the master."""

    HPATH = "cluster-init"

    def build_hooks_env(self) -> dict[str, Any]:
        return {"OP_TARGET": self.cfg.get_cluster_name()}

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        return [], [self._master_uuid()]

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        self.log_info("Cluster %s initialised with master %s", self.cfg.get_cluster_name(),
                      self.cfg.get_master_node_info().name)
        return True


@lu_for(opcodes.OpClusterDestroy)
class LUClusterDestroy(_ClusterLU):
    """Check the cluster can be destroyed; the caller then stops the master.

    As Ganeti: only the master may be left and no instance. The result is
    the master's name; ``gnt-cluster destroy`` then stops its daemons and
    removes its cluster files (bootstrap.finish_destroy).
    """

    HPATH = "cluster-destroy"

    def build_hooks_env(self) -> dict[str, Any]:
        return {"OP_TARGET": self.cfg.get_cluster_name()}

    def check_prereq(self) -> None:
        master = self._master_uuid()
        others = sorted(self.cfg.get_all_nodes_info()[u].name
                        for u in self.cfg.get_node_list() if u != master)
        if others:
            raise errors.OpPrereqError(
                "There are still %d node(s) in this cluster besides the master (%s);"
                " remove them first with gnt-node remove" % (len(others), ", ".join(others)),
                errors.ECODE_INVAL)
        instances = sorted(i.name for i in self.cfg.get_all_instances_info().values())
        if instances:
            raise errors.OpPrereqError(
                "There are still %d instance(s) in this cluster (%s); remove them first"
                % (len(instances), ", ".join(instances)), errors.ECODE_INVAL)

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        master = self.cfg.get_master_node_info()
        change_master_ip_or_warn(self, self.cfg.get_cluster_info(), activate=False)
        self.log_info("Cluster %s may now be destroyed on its master %s",
                      self.cfg.get_cluster_name(), master.name)
        return master.name


@lu_for(opcodes.OpClusterRename)
class LUClusterRename(_ClusterLU):
    """Rename the cluster; its master IP follows the new name's address."""

    HPATH = "cluster-rename"

    def build_hooks_env(self) -> dict[str, Any]:
        return {"OP_TARGET": self.cfg.get_cluster_name(), "NEW_NAME": self.op.name}

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        return [self._master_uuid()], self.cfg.get_node_list()

    def check_prereq(self) -> None:
        cluster = self.cfg.get_cluster_info()
        try:
            new_name, new_ip = netutils.resolve(self.op.name, self.context.paths)
        except errors.ResolverError as err:
            raise errors.OpPrereqError("New cluster name %r: %s" % (self.op.name, err),
                                       errors.ECODE_RESOLVER) from err
        if new_name == cluster.cluster_name and new_ip == cluster.master_ip:
            raise errors.OpPrereqError("Neither the name nor the IP address of the cluster"
                                       " has changed (%s, %s)" % (new_name, new_ip),
                                       errors.ECODE_INVAL)
        if (":" in new_ip) != (cluster.primary_ip_family == constants.IP6_FAMILY):
            raise errors.OpPrereqError("New cluster name %s resolves to %s, not an address"
                                       " of the cluster's IP family" % (new_name, new_ip),
                                       errors.ECODE_INVAL)
        self._new_name, self._new_ip = new_name, new_ip

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        cluster = self.cfg.get_cluster_info()
        old_name = cluster.cluster_name
        ip_changes = cluster.master_ip != self._new_ip
        if ip_changes:
            change_master_ip_or_warn(self, cluster, activate=False)
        cluster.cluster_name = self._new_name
        cluster.master_ip = self._new_ip
        self.cfg.update(cluster)
        if ip_changes:
            change_master_ip_or_warn(self, cluster, activate=True)
        from ganeti.cmdlib.cluster_redist import redistribute_config

        # Failures are reported through the feedback (job log) as warnings.
        redistribute_config(self.context, feedback_fn=self.log_warning)
        self.log_info("Cluster renamed from %s to %s (master IP %s)", old_name,
                      self._new_name, self._new_ip)
        return self._new_name
