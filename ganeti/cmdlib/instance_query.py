"""LUInstanceQueryData: the detailed view of ``gnt-instance info``."""

from __future__ import annotations

from typing import Any

from ganeti import constants, errors, locking, objects, opcodes
from ganeti.cmdlib import instance_utils as iu
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import FeedbackFn, NoHooksLU


@lu_for(opcodes.OpInstanceQueryData)
class LUInstanceQueryData(NoHooksLU):
    """Configuration and (unless ``static``) runtime data of instances, by name."""

    REQ_BGL = False

    def expand_names(self) -> None:
        names = list(self.op.instances or [])
        if names:
            self.wanted = [iu.expand_instance(self.cfg, name).name for name in names]
        else:
            self.wanted = sorted(i.name for i in self.cfg.get_all_instances_info().values())
        self.needed_locks = {}
        if self.op.use_locking:
            self.needed_locks[locking.LEVEL_INSTANCE] = self.wanted
            self.share_locks[locking.LEVEL_INSTANCE] = True

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        result = {}
        for name in self.wanted:
            inst = self.cfg.find_instance(name)
            if inst is None:
                raise errors.OpExecError("Instance %s was removed meanwhile" % name)
            result[name] = self._describe(inst)
        return result

    def _run_state(self, inst: objects.Instance) -> tuple[str | None, dict[str, Any] | None]:
        if self.op.static:
            return None, None
        address = iu.node_address(self, inst.primary_node)
        if address.offline:
            return None, None
        hvparams = self.cfg.get_cluster_info().fill_hvparams(inst)
        result = self.rpc.call_one("instance_info", address,
                                   [inst.name, inst.hypervisor, hvparams])
        if not result.success:
            self.log_warning("Cannot ask node %s about %s: %s", address.name, inst.name,
                             iu.result_error(result))
            return None, None
        info = result.payload
        return ("up" if info is not None else "down"), info

    def _describe(self, inst: objects.Instance) -> dict[str, Any]:
        cfg = self.cfg
        cluster = cfg.get_cluster_info()
        disks = cfg.get_instance_disks(iu.instance_uuid(inst))
        run_state, info = self._run_state(inst)
        disk_data = []
        for index, disk in enumerate(disks):
            disk_data.append({
                "iv_name": disk.iv_name or "disk/%d" % index, "name": disk.name,
                "uuid": disk.uuid, "size": disk.size, "mode": disk.mode,
                "dev_type": disk.dev_type, "logical_id": list(disk.logical_id),
                "nodes": [iu.node_name(cfg, n) for n in disk.all_nodes()],
                "spindles": disk.spindles, "params": dict(disk.params),
            })
        nic_data = []
        for nic in inst.nics:
            params = cluster.fill_nicparams(nic)
            nic_data.append({"name": nic.name, "uuid": nic.uuid, "ip": nic.ip,
                             "mac": nic.mac, "mode": params.get("mode"),
                             "link": params.get("link"), "vlan": params.get("vlan"),
                             "network": nic.network})
        secondaries: list[str] = []
        for disk in disks:
            for node_uuid in disk.all_nodes():
                name = iu.node_name(cfg, node_uuid)
                if node_uuid != inst.primary_node and name not in secondaries:
                    secondaries.append(name)
        return {
            "name": inst.name,
            "uuid": inst.uuid,
            "config_state": inst.admin_state,
            "admin_state_source": inst.admin_state_source,
            "run_state": run_state,
            "runtime": info,
            "pnode": iu.node_name(cfg, inst.primary_node),
            "snodes": secondaries,
            "os": inst.os,
            "hypervisor": inst.hypervisor,
            "network_port": inst.network_port,
            "disk_template": disks[0].dev_type if disks else constants.DT_DISKLESS,
            "disks_active": inst.disks_active,
            "disks": disk_data,
            "nics": nic_data,
            "hv_instance": dict(inst.hvparams),
            "hv_actual": cluster.fill_hvparams(inst),
            "be_instance": dict(inst.beparams),
            "be_actual": cluster.fill_beparams(inst),
            "os_instance": dict(inst.osparams),
            "os_actual": cluster.fill_osparams(inst.os, inst.osparams),
            "tags": list(inst.tags),
            "serial_no": inst.serial_no,
            "ctime": inst.ctime,
            "mtime": inst.mtime,
        }
