"""Node side of modify-storage, repair-storage, volumes and the master IP helpers.

The LVM cases run against a real volume group on a loop device (the
test_storage_plain fixture; skipped where the machine does not allow one).
"""

from __future__ import annotations

import os
import subprocess

import pytest
from test_storage_plain import _run, node, volume_group  # noqa: F401 (fixtures)

from ganeti import constants, errors, objects, pathutils
from ganeti.backend import node as node_backend
from ganeti.backend import storage as storage_backend
from ganeti.cmdlib import cluster_masterip
from ganeti.rpc import defs_node


def _pv_of(vg: str) -> str:
    out = _run("pvs", "--noheadings", "-o", "pv_name,vg_name")
    for line in out.stdout.splitlines():
        name, _, group = line.strip().partition(" ")
        if group.strip() == vg:
            return name
    raise AssertionError("no physical volume of %s" % vg)


def _allocatable(pv: str) -> bool:
    rows = storage_backend.storage_list(constants.ST_LVM_PV, [], pv, ["allocatable"])
    assert len(rows) == 1
    return bool(rows[0][0])


def test_modify_pv_allocatable(node, volume_group):  # noqa: F811
    pv = _pv_of(volume_group)
    assert _allocatable(pv)
    storage_backend.storage_modify(constants.ST_LVM_PV, [], pv, {"allocatable": False})
    assert not _allocatable(pv)
    attr = _run("pvs", "--noheadings", "-o", "pv_attr", pv).stdout.strip()
    assert not attr.startswith("a")
    storage_backend.storage_modify(constants.ST_LVM_PV, [], pv, {"allocatable": True})
    assert _allocatable(pv)


def test_modify_refusals(node, volume_group):  # noqa: F811
    pv = _pv_of(volume_group)
    with pytest.raises(errors.OpExecError, match="of type 'lvm-vg' cannot be modified"):
        storage_backend.storage_modify(constants.ST_LVM_VG, [], volume_group,
                                       {"allocatable": False})
    with pytest.raises(errors.OpExecError, match="Fields size of lvm-pv storage units"):
        storage_backend.storage_modify(constants.ST_LVM_PV, [], pv, {"size": 1})
    with pytest.raises(errors.OpExecError, match="no lvm-pv storage unit named '/dev/nosuch'"):
        storage_backend.storage_modify(constants.ST_LVM_PV, [], "/dev/nosuch",
                                       {"allocatable": False})
    assert _allocatable(pv)


def test_repair_volume_group(node, volume_group):  # noqa: F811
    done = storage_backend.storage_execute(constants.ST_LVM_VG, [], volume_group,
                                           constants.SO_FIX_CONSISTENCY)
    assert done == "Volume group %s is consistent" % volume_group
    with pytest.raises(errors.OpExecError, match="no lvm-vg storage unit named 'nosuchvg'"):
        storage_backend.storage_execute(constants.ST_LVM_VG, [], "nosuchvg",
                                        constants.SO_FIX_CONSISTENCY)
    with pytest.raises(errors.OpExecError, match="not supported on lvm-pv storage units"):
        storage_backend.storage_execute(constants.ST_LVM_PV, [], _pv_of(volume_group),
                                        constants.SO_FIX_CONSISTENCY)


def test_node_volumes_lists_every_lv(node, volume_group):  # noqa: F811
    volumes = storage_backend.node_volumes()
    assert all(set(v) == {"name", "vg", "size", "dev"} for v in volumes)
    # A new volume group holds no volume.
    assert [v for v in volumes if v["vg"] == volume_group] == []
    out = _run("lvs", "--noheadings", "-o", "lv_name")
    assert len(volumes) >= len(out.stdout.split())


# -- master IP --------------------------------------------------------------------------

def _cluster(ip: str, family: int, netmask: int = 32) -> objects.Cluster:
    return objects.Cluster(master_ip=ip, master_netdev="lo", master_netmask=netmask,
                           primary_ip_family=family)


def test_master_network_params_and_env():
    params = cluster_masterip.master_network_params(_cluster("192.0.2.1",
                                                             constants.IP4_FAMILY, 24))
    assert params == {"ip": "192.0.2.1", "netmask": 24, "netdev": "lo",
                      "ip_family": constants.IP4_FAMILY}
    assert defs_node.TMasterParams(params)
    assert node_backend._master_ip_env(params) == {
        "MASTER_NETDEV": "lo", "MASTER_IP": "192.0.2.1", "MASTER_NETMASK": "24",
        "CLUSTER_IP_VERSION": "4"}
    six = cluster_masterip.master_network_params(_cluster("2001:db8::1",
                                                          constants.IP6_FAMILY, 64))
    assert node_backend._master_ip_env(six)["CLUSTER_IP_VERSION"] == "6"


@pytest.mark.parametrize("bad", [{"netdev": "lo; rm -rf /"}, {"netmask": 0},
                                 {"ip_family": 3}, {"ip": ""}])
def test_master_params_checked(bad):
    params = {"ip": "192.0.2.1", "netmask": 24, "netdev": "eth0",
              "ip_family": constants.IP4_FAMILY}
    params.update(bad)
    assert not defs_node.TMasterParams(params)


def test_configured_addresses_of_lo():
    found = node_backend.configured_addresses("lo")
    assert "127.0.0.1/8" in found["lo"]
    with pytest.raises(errors.OpExecError, match="list the addresses of nosuchdev0"):
        node_backend.configured_addresses("nosuchdev0")


def test_external_script_missing_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv(pathutils.ROOTDIR_ENV, str(tmp_path))
    params = {"ip": "192.0.2.1", "netmask": 32, "netdev": "lo",
              "ip_family": constants.IP4_FAMILY}
    script = pathutils.for_root(str(tmp_path)).external_master_setup_script
    with pytest.raises(errors.OpExecError, match="%s is missing or not executable" % script):
        node_backend.node_activate_master_ip(params, True)


def test_external_script_gets_ganeti_variables(tmp_path, monkeypatch):
    monkeypatch.setenv(pathutils.ROOTDIR_ENV, str(tmp_path))
    script = pathutils.for_root(str(tmp_path)).external_master_setup_script
    record = tmp_path / "record"
    os.makedirs(os.path.dirname(script))
    with open(script, "w", encoding="utf-8") as handle:
        handle.write("#!/bin/sh\necho \"$1 $MASTER_IP/$MASTER_NETMASK $MASTER_NETDEV "
                     "$CLUSTER_IP_VERSION\" > '%s'\necho done $1\n" % record)
    os.chmod(script, 0o755)
    params = {"ip": "192.0.2.1", "netmask": 32, "netdev": "lo",
              "ip_family": constants.IP4_FAMILY}
    assert node_backend.node_deactivate_master_ip(params, True) == "done stop"
    assert record.read_text() == "stop 192.0.2.1/32 lo 4\n"
    # A failing script is an error with its output.
    with open(script, "w", encoding="utf-8") as handle:
        handle.write("#!/bin/sh\necho 'address in use elsewhere' >&2\nexit 1\n")
    with pytest.raises(errors.OpExecError, match="address in use elsewhere"):
        node_backend.node_activate_master_ip(params, True)
    assert subprocess.run(["ip", "-o", "addr", "show", "to", "192.0.2.1"],
                          capture_output=True, text=True, check=True).stdout == ""


# -- master side: which storage types a cluster may use ---------------------------------

def test_storage_type_needs_an_enabled_template():
    from ganeti.cmdlib import node_storage

    cluster = objects.Cluster(enabled_disk_templates=[constants.DT_DISKLESS,
                                                      constants.DT_FILE],
                              file_storage_dir="/srv/files")
    node_storage.check_storage_type_enabled(cluster, constants.ST_FILE)
    for refused in (constants.ST_LVM_VG, constants.ST_LVM_PV, constants.ST_SHARED_FILE):
        with pytest.raises(errors.OpPrereqError,
                           match="No disk template of storage type '%s'" % refused):
            node_storage.check_storage_type_enabled(cluster, refused)
    cluster.enabled_disk_templates = [constants.DT_PLAIN]
    # lvm-pv counts as lvm-vg (as Ganeti).
    node_storage.check_storage_type_enabled(cluster, constants.ST_LVM_PV)
    assert node_storage.storage_type_args(cluster, constants.ST_FILE) == [["/srv/files"]]
    assert node_storage.storage_type_args(cluster, constants.ST_LVM_VG) == []
