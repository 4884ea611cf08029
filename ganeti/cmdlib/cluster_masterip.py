"""The cluster's master IP: gnt-cluster activate-master-ip / deactivate-master-ip.

The master IP lives on the master node's ``master_netdev``. The node adds or
removes it (``ip addr``, or the administrator's master-ip-setup script when
the cluster sets ``use_external_mip_script``) through the
node_activate_master_ip / node_deactivate_master_ip procedures. The helpers
here are shared by the LUs, masterd's start-up (which activates it) and the
master failover (which deactivates it on the old master).
"""

from __future__ import annotations

from typing import Any

from ganeti import constants, errors, objects, opcodes
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import FeedbackFn, LogicalUnit, NoHooksLU
from ganeti.cmdlib.instance_utils import result_error
from ganeti.rpc.client import NodeAddress, RpcClient, RpcResult

ACTIVATE = "node_activate_master_ip"
DEACTIVATE = "node_deactivate_master_ip"


def master_network_params(cluster: objects.Cluster) -> dict[str, Any]:
    """What the node procedures take (Ganeti's MasterNetworkParameters, without uuid)."""
    family = cluster.primary_ip_family
    if family not in (constants.IP4_FAMILY, constants.IP6_FAMILY):
        family = constants.IP6_FAMILY if ":" in cluster.master_ip else constants.IP4_FAMILY
    return {"ip": cluster.master_ip, "netmask": int(cluster.master_netmask),
            "netdev": cluster.master_netdev, "ip_family": family}


def change_master_ip(rpc: RpcClient, master: NodeAddress, cluster: objects.Cluster,
                     activate: bool, timeout: float | None = None) -> RpcResult:
    """Bring the master IP up (``activate``) or down on ``master``."""
    return rpc.call_one(ACTIVATE if activate else DEACTIVATE, master,
                        [master_network_params(cluster),
                         bool(cluster.use_external_mip_script)], timeout=timeout)


class _MasterIpLU(NoHooksLU):
    """Activate or deactivate the master IP on the master node (holds the BGL)."""

    ACTIVATE: bool

    def expand_names(self) -> None:
        self.needed_locks = {}

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        cluster = self.cfg.get_cluster_info()
        if not cluster.master_netdev:
            raise errors.OpPrereqError("The cluster has no master network device"
                                       " (master_netdev); set it with gnt-cluster modify"
                                       " --master-netdev", errors.ECODE_INVAL)
        master = self.context.node_address(self.cfg.get_master_node())
        result = change_master_ip(self.rpc, master, cluster, self.ACTIVATE)
        if not result.success:
            raise errors.OpExecError("Could not %s the master IP %s on %s: %s"
                                     % ("activate" if self.ACTIVATE else "deactivate",
                                        cluster.master_ip, master.name, result_error(result)))
        feedback_fn("%s: %s" % (master.name, result.payload))
        return None


@lu_for(opcodes.OpClusterActivateMasterIp)
class LUClusterActivateMasterIp(_MasterIpLU):
    ACTIVATE = True


@lu_for(opcodes.OpClusterDeactivateMasterIp)
class LUClusterDeactivateMasterIp(_MasterIpLU):
    ACTIVATE = False


def change_master_ip_or_warn(lu: LogicalUnit, cluster: objects.Cluster, activate: bool
                             ) -> None:
    """For LUs that move or drop the master IP (rename, destroy): a failure is a warning."""
    if not cluster.master_netdev:
        return
    master = lu.context.node_address(lu.cfg.get_master_node())
    result = change_master_ip(lu.rpc, master, cluster, activate)
    if result.success:
        lu.log_info("%s: %s", master.name, result.payload)
    else:
        lu.log_warning("Could not %s the master IP %s on %s: %s",
                       "activate" if activate else "deactivate", cluster.master_ip,
                       master.name, result_error(result))


def activate_at_startup(rpc: RpcClient, master: NodeAddress, cluster: objects.Cluster
                        ) -> str | None:
    """masterd's start-up: activate the master IP; the problem, or None if it worked."""
    if not cluster.master_netdev:
        return "the cluster has no master network device; master IP not activated"
    try:
        result = change_master_ip(rpc, master, cluster, True)
    except errors.GenericError as err:
        return "can't activate the master IP %s: %s" % (cluster.master_ip, err)
    if not result.success:
        return "can't activate the master IP %s: %s" % (cluster.master_ip, result_error(result))
    return None
