"""The fake hypervisor's rules and the instance procedures built on it."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from ganeti import constants, errors, hypervisor, pathutils, serializer, ssconf
from ganeti.backend import instance as inst_backend
from ganeti.hypervisor import hv_base, hv_fake

MIB = 1024 * 1024


@pytest.fixture
def node(tmp_path, monkeypatch) -> pathutils.Paths:
    root = tmp_path / "node"
    root.mkdir()
    monkeypatch.setenv(pathutils.ROOTDIR_ENV, str(root))
    return pathutils.for_root(str(root))


@pytest.fixture
def hv(node) -> hv_fake.FakeHypervisor:
    result = hypervisor.get_hypervisor(constants.HT_FAKE)
    assert isinstance(result, hv_fake.FakeHypervisor)
    return result


def make_instance(name: str = "inst1.example.com", maxmem: int = 512, vcpus: int = 2,
                  disks: list | None = None) -> dict:
    return {"name": name, "uuid": "uuid-" + name, "os": "debootstrap",
            "hypervisor": constants.HT_FAKE,
            "hvparams": {"migration_mode": "live"},
            "beparams": {"maxmem": maxmem, "minmem": maxmem, "vcpus": vcpus},
            "osparams": {}, "nics": [], "disks": disks or [], "primary_node": "node1",
            "admin_state": "up"}


def test_registry():
    assert hypervisor.get_hypervisor_class(constants.HT_FAKE) is hv_fake.FakeHypervisor
    with pytest.raises(errors.HypervisorError, match="Unknown hypervisor 'vmware'"):
        hypervisor.get_hypervisor("vmware")
    with pytest.raises(errors.HypervisorError, match="'kvm' is not implemented"):
        hypervisor.get_hypervisor(constants.HT_KVM)


def test_start_info_stop(hv):
    inst = make_instance()
    assert hv.list_instances({}) == []
    hv.start_instance(inst, [], False)
    assert hv.list_instances({}) == [inst["name"]]
    info = hv.get_instance_info(inst["name"], {})
    assert info is not None
    assert (info["memory"], info["vcpus"], info["state"]) == (512, 2, "running")
    assert info["time"] >= 0
    everything = hv.get_all_instances_info({})
    assert set(everything) == {inst["name"]}
    assert everything[inst["name"]]["memory"] == 512
    hv.stop_instance(inst)
    assert hv.list_instances({}) == []
    assert hv.get_instance_info(inst["name"], {}) is None
    hv.stop_instance(inst)  # stopping a stopped instance: no-op
    assert hv.list_instances({}) == []


def test_state_file_is_json_in_the_state_dir(hv, node):
    inst = make_instance()
    hv.start_instance(inst, [], True)
    state_file = os.path.join(node.hypervisor_state_dir("fake"), inst["name"] + ".running")
    with open(state_file) as handle:
        state = serializer.load(handle.read())
    assert state["memory"] == 512 and state["state"] == hv_base.HV_STATE_PAUSED
    leftovers = [n for n in os.listdir(node.hypervisor_state_dir("fake")) if ".tmp" in n]
    assert leftovers == []


def test_start_running_fails_reboot_stopped_fails(hv):
    inst = make_instance()
    with pytest.raises(errors.HypervisorError, match=r"reboot instance .*not running"):
        hv.reboot_instance(inst)
    hv.start_instance(inst, [], False)
    with pytest.raises(errors.HypervisorError, match="already running"):
        hv.start_instance(inst, [], False)
    hv.reboot_instance(inst)
    assert hv.get_instance_info(inst["name"], {})["state"] == "running"


def test_bad_beparams_change_nothing(hv):
    inst = make_instance()
    inst["beparams"] = {"vcpus": 1}
    with pytest.raises(errors.HypervisorError, match="maxmem"):
        hv.start_instance(inst, [], False)
    inst["beparams"] = {"maxmem": 128, "vcpus": 0}
    with pytest.raises(errors.HypervisorError, match="vcpus"):
        hv.start_instance(inst, [], False)
    assert hv.list_instances({}) == []


def test_corrupt_state_is_reported(hv, node):
    inst = make_instance()
    hv.start_instance(inst, [], False)
    with open(os.path.join(node.hypervisor_state_dir("fake"), inst["name"] + ".running"),
              "w") as handle:
        handle.write("{not json")
    with pytest.raises(errors.HypervisorError, match="corrupt"):
        hv.get_instance_info(inst["name"], {})


def test_node_info_subtracts_instance_memory(hv, monkeypatch):
    fake_memory = SimpleNamespace(total=8192 * MIB, available=6144 * MIB)
    monkeypatch.setattr(hv_fake.psutil, "virtual_memory", lambda: fake_memory)
    before = hv.get_node_info({})
    assert before["memory_total"] == 8192
    assert before["memory_free"] == 6144
    assert before["memory_dom0"] == 2048
    assert before["cpu_total"] >= 1 and before["cpu_nodes"] == 1
    hv.start_instance(make_instance("a", maxmem=1024), [], False)
    hv.start_instance(make_instance("b", maxmem=512), [], False)
    after = hv.get_node_info({})
    assert after["memory_free"] == 6144 - 1536
    assert after["memory_hv"] == 1536
    assert hv.verify({}) is None


def test_parameter_checks(hv):
    hv.check_parameter_syntax({"migration_mode": "non-live"})
    with pytest.raises(errors.ParameterError, match="unknown parameter 'kernel_path'"):
        hv.check_parameter_syntax({"kernel_path": "/boot/vmlinuz"})
    with pytest.raises(errors.ParameterError, match="migration_mode"):
        hv.validate_parameters({"migration_mode": "teleport"})


def test_migration_between_two_nodes(tmp_path):
    src = hv_fake.FakeHypervisor(pathutils.for_root(str(tmp_path / "a")))
    dst = hv_fake.FakeHypervisor(pathutils.for_root(str(tmp_path / "b")))
    inst = make_instance(maxmem=256)
    with pytest.raises(errors.HypervisorError, match="not running"):
        src.migration_info(inst)
    src.start_instance(inst, [], False)
    info = src.migration_info(inst)
    dst.accept_instance(inst, info, "192.0.2.2")
    assert dst.list_instances({}) == []  # not running there until finalized
    with pytest.raises(errors.HypervisorError, match="migration to this node"):
        dst.start_instance(inst, [], False)
    src.migrate_instance("cluster", inst, "192.0.2.2", True)
    status = src.get_migration_status(inst)
    assert status["status"] == hv_base.HV_MIGRATION_COMPLETED
    assert status["transferred_ram"] == status["total_ram"] == 256
    dst.finalize_migration_dst(inst, info, True)
    src.finalize_migration_src(inst, True, True)
    assert dst.list_instances({}) == [inst["name"]]
    assert src.list_instances({}) == []
    assert dst.get_instance_info(inst["name"], {})["memory"] == 256


def test_failed_migration_keeps_source(tmp_path):
    src = hv_fake.FakeHypervisor(pathutils.for_root(str(tmp_path / "a")))
    dst = hv_fake.FakeHypervisor(pathutils.for_root(str(tmp_path / "b")))
    inst = make_instance()
    src.start_instance(inst, [], False)
    info = src.migration_info(inst)
    dst.accept_instance(inst, info, "target")
    src.migrate_instance("cluster", inst, "target", False)
    dst.finalize_migration_dst(inst, info, False)
    src.finalize_migration_src(inst, False, False)
    assert dst.list_instances({}) == []
    assert src.list_instances({}) == [inst["name"]]
    assert src.get_migration_status(inst)["status"] == hv_base.HV_MIGRATION_FAILED
    with pytest.raises(errors.HypervisorError, match="not accepted"):
        dst.finalize_migration_dst(inst, info, True)


# -- the backend procedures -----------------------------------------------------------

def test_backend_start_is_idempotent_and_stop_too(hv):
    inst = make_instance()
    inst_backend.instance_start(inst, False)
    inst_backend.instance_start(inst, False)  # already running: left alone
    assert inst_backend.instance_list([constants.HT_FAKE], {}) == [inst["name"]]
    info = inst_backend.instance_info(inst["name"], constants.HT_FAKE, {})
    assert info is not None and info["memory"] == 512
    everything = inst_backend.all_instances_info([constants.HT_FAKE], {})
    assert set(everything) == {inst["name"]}
    inst_backend.instance_shutdown(inst, 10)
    inst_backend.instance_shutdown(inst, 10)
    assert inst_backend.instance_info(inst["name"], constants.HT_FAKE, {}) is None


def test_backend_reboot(hv):
    inst = make_instance()
    with pytest.raises(errors.HypervisorError, match="not running"):
        inst_backend.instance_reboot(inst, constants.INSTANCE_REBOOT_SOFT, 10)
    inst_backend.instance_start(inst, False)
    inst_backend.instance_reboot(inst, constants.INSTANCE_REBOOT_SOFT, 10)
    inst_backend.instance_reboot(inst, constants.INSTANCE_REBOOT_HARD, 10)
    assert inst_backend.instance_list([constants.HT_FAKE], {}) == [inst["name"]]
    with pytest.raises(errors.HypervisorError, match="full reboots are done by the master"):
        inst_backend.instance_reboot(inst, constants.INSTANCE_REBOOT_FULL, 10)


def test_backend_start_needs_its_disks(hv, node):
    storage_dir = node.default_file_storage_dir
    os.makedirs(storage_dir)
    ssconf.write_files({"file_storage_dir": storage_dir}, node)
    os.makedirs(node.conf_dir)
    with open(node.file_storage_paths_file, "w") as handle:
        handle.write(storage_dir + "\n")
    image = os.path.join(storage_dir, "disk0")
    disk = {"uuid": "d0", "dev_type": constants.DT_FILE, "size": 4, "mode": "rw",
            "logical_id": [constants.FD_LOOP, image], "params": {}, "children": []}
    inst = make_instance(disks=[disk])
    with pytest.raises(errors.BlockDeviceError, match=r"disk 0 .* is not set up"):
        inst_backend.instance_start(inst, False)
    assert hv.list_instances({}) == []
    with open(image, "wb") as handle:
        handle.truncate(4 * MIB)
    inst_backend.instance_start(inst, False)
    link = os.path.join(node.instance_disks_dir, inst["name"] + ":0")
    assert os.readlink(link) == image
    inst_backend.instance_shutdown(inst, 5)
    assert not os.path.lexists(link)


def test_backend_console_and_migration_status(hv):
    inst = make_instance()
    consoles = inst_backend.console_info([inst])
    assert consoles[inst["name"]]["kind"] == hv_base.CONS_MESSAGE
    inst_backend.instance_start(inst, False)
    assert inst_backend.get_migration_status(inst)["status"] == hv_base.HV_MIGRATION_FAILED
