"""ConfigWriter: loading with validation, saving, changes, reservations."""

from __future__ import annotations

import copy
import json
import os
import shutil
import threading
from collections.abc import Callable

import pytest

from ganeti import config, constants, errors, serializer
from ganeti.config import ConfigWriter
from ganeti.objects import NIC, ConfigData, Disk, Instance, Network, Node, NodeGroup

DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data")
GANETI_30 = os.path.join(DATA_DIR, "ganeti-3.0-config.data")
GANETI_211 = os.path.join(DATA_DIR, "ganeti-2.11-config.data")

WEB1 = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"
DB1 = "c2d3e4f5-b6c7-4d8e-9f0a-1b2c3d4e5f60"
TEST1 = "c3d4e5f6-c7d8-4e9f-8a0b-2c3d4e5f6071"
NODE1 = "6f2d1c8e-0a55-4e41-8a5c-0b7b6c2f9a01"
NODE2 = "a4b3c2d1-e0f9-48a7-b6c5-d4e3f2a1b0c9"
GROUP = "3c9e6f8a-1b2d-4e5f-8a9b-0c1d2e3f4a5b"
NET = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
DISK1 = "d0000001-0000-4000-8000-000000000001"
DISK2 = "d0000002-0000-4000-8000-000000000002"


def _raw() -> dict:
    with open(GANETI_30, encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture
def path(tmp_path: str) -> str:
    target = os.path.join(str(tmp_path), "config.data")
    shutil.copy(GANETI_30, target)
    return target


@pytest.fixture
def writer(path: str) -> ConfigWriter:
    return ConfigWriter(path)


def _write(tmp_path: object, data: dict) -> str:
    target = os.path.join(str(tmp_path), "broken.data")
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    return target


def _problems(tmp_path: object, change: Callable[[dict], None]) -> list[str]:
    """Apply ``change`` to the Ganeti config, load it, return the reported problems."""
    data = _raw()
    change(data)
    target = _write(tmp_path, data)
    with open(target, "rb") as handle:
        before = handle.read()
    with pytest.raises(errors.ConfigVerifyError) as info:
        ConfigWriter(target)
    with open(target, "rb") as handle:
        assert handle.read() == before, "a failed load must not touch the file"
    return info.value.problems


def _has(problems: list[str], *parts: str) -> bool:
    return any(all(part in p for part in parts) for p in problems)


# -- loading -------------------------------------------------------------------------------

def test_loads_ganeti_30_config(writer: ConfigWriter) -> None:
    assert writer.verify_config() == []
    assert writer.get_cluster_name() == "cluster.example.com"
    assert writer.get_master_node() == NODE1
    assert writer.get_node_info_by_name("node2.example.com").uuid == NODE2
    assert writer.get_instance_info_by_name("db1.example.com").uuid == DB1
    assert [d.uuid for d in writer.get_instance_disks(DB1)] == [
        DISK2, "d0000003-0000-4000-8000-000000000003"]
    assert writer.get_instance_disk_template(DB1) == constants.DT_DRBD8
    assert writer.get_instance_disk_template(TEST1) == constants.DT_DISKLESS
    assert writer.get_instance_secondary_nodes(DB1) == [NODE1]
    assert writer.get_node_instances(NODE1) == ([WEB1], [DB1])
    assert sorted(n.name for n in writer.get_master_candidates()) == [
        "node1.example.com", "node2.example.com"]
    assert writer.get_nodegroup(GROUP).name == "default"
    assert writer.get_nodegroup_members(GROUP) == [NODE1, NODE2]
    assert writer.find_node("node1") is writer.get_node_info(NODE1)
    assert writer.find_instance("web1.example.com") is writer.get_instance_info(WEB1)
    assert writer.find_network("public") is writer.get_network(NET)


def test_unknown_lookups_raise_noent(writer: ConfigWriter) -> None:
    with pytest.raises(errors.OpPrereqError) as info:
        writer.get_instance_info_by_name("nope")
    assert info.value.args[1] == errors.ECODE_NOENT
    with pytest.raises(errors.OpPrereqError):
        writer.get_node_info("nope")


def test_save_without_changes_keeps_data_except_serial(path: str,
                                                       writer: ConfigWriter) -> None:
    writer.save()
    with open(path, encoding="utf-8") as handle:
        saved = json.load(handle)
    original = _raw()
    assert saved["serial_no"] == original["serial_no"] + 1
    assert saved["mtime"] > original["mtime"]
    for key in ("serial_no", "mtime"):
        del saved[key]
        del original[key]
    assert saved == original


def test_loads_legacy_layout_and_saves_current_format(tmp_path: object) -> None:
    target = os.path.join(str(tmp_path), "config.data")
    shutil.copy(GANETI_211, target)
    writer = ConfigWriter(target)
    inst = writer.get_instance_info_by_name("legacy1.example.com")
    assert inst.disks == ["dddddddd-0000-4000-8000-000000000001"]
    disk = writer.get_instance_disks(inst.uuid or "")[0]
    assert disk.dev_type == constants.DT_DRBD8 and len(disk.children) == 2
    assert disk.nodes == ["11111111-2222-4333-8444-555555555555",
                          "22222222-3333-4444-8555-666666666666"]
    assert writer.get_instance_secondary_nodes(inst.uuid or "") == [
        "22222222-3333-4444-8555-666666666666"]
    assert writer.get_cluster_info().fill_beparams(inst)["maxmem"] == 256
    writer.save()
    with open(target, encoding="utf-8") as handle:
        saved = json.load(handle)
    assert saved["version"] == constants.CONFIG_VERSION
    assert isinstance(saved["instances"][inst.uuid]["disks"][0], str)
    assert "disk_template" not in saved["instances"][inst.uuid]
    assert ConfigWriter(target).verify_config() == []


@pytest.mark.parametrize("version", [constants.CONFIG_VERSION + 10000,
                                     constants.build_version(2, 10, 0), "3.0"])
def test_unloadable_version_is_refused(tmp_path: object, version: object) -> None:
    data = _raw()
    data["version"] = version
    with pytest.raises(errors.ConfigVersionMismatch, match="'version'"):
        ConfigWriter(_write(tmp_path, data))


def test_invalid_json_is_refused(tmp_path: object) -> None:
    target = os.path.join(str(tmp_path), "config.data")
    with open(target, "w", encoding="utf-8") as handle:
        handle.write('{"version": 3000000, "cluster": ')
    with pytest.raises(errors.ConfigurationError, match="not valid JSON"):
        ConfigWriter(target)


def test_missing_file_is_reported(tmp_path: object) -> None:
    with pytest.raises(errors.ConfigurationError, match="does not exist"):
        ConfigWriter(os.path.join(str(tmp_path), "none.data"))


# -- every kind of inconsistency is caught, naming object and field ---------------------

def test_duplicate_node_name(tmp_path: object) -> None:
    problems = _problems(tmp_path, lambda d: d["nodes"][NODE2].update(
        name="node1.example.com"))
    assert _has(problems, "Node 'node1.example.com'", "'name'", "also used")


def test_duplicate_instance_name(tmp_path: object) -> None:
    problems = _problems(tmp_path, lambda d: d["instances"][DB1].update(
        name="web1.example.com"))
    assert _has(problems, "Instance 'web1.example.com'", "'name'")


def test_duplicate_group_name(tmp_path: object) -> None:
    def change(d: dict) -> None:
        other = copy.deepcopy(d["nodegroups"][GROUP])
        other["uuid"] = "00000000-0000-4000-8000-00000000aaaa"
        d["nodegroups"][other["uuid"]] = other
    assert _has(_problems(tmp_path, change), "NodeGroup 'default'", "'name'")


def test_duplicate_network_name(tmp_path: object) -> None:
    def change(d: dict) -> None:
        other = copy.deepcopy(d["networks"][NET])
        other["uuid"] = "00000000-0000-4000-8000-00000000bbbb"
        d["networks"][other["uuid"]] = other
    assert _has(_problems(tmp_path, change), "Network 'public'", "'name'")


def test_uuid_used_twice_across_kinds(tmp_path: object) -> None:
    def change(d: dict) -> None:
        net = d["networks"].pop(NET)
        net["uuid"] = NODE1
        d["networks"][NODE1] = net
        for inst in d["instances"].values():
            for nic in inst["nics"]:
                if nic.get("network") == NET:
                    nic["network"] = NODE1
        d["nodegroups"][GROUP]["networks"] = {}
    assert _has(_problems(tmp_path, change), "Network 'public'", "'uuid'", "also used by",
                "Node 'node1.example.com'")


def test_uuid_differs_from_key(tmp_path: object) -> None:
    problems = _problems(tmp_path, lambda d: d["instances"][WEB1].update(
        uuid="00000000-0000-4000-8000-000000000999"))
    assert _has(problems, "Instance 'web1.example.com'", "'uuid'", "stored under")


def test_duplicate_mac(tmp_path: object) -> None:
    problems = _problems(tmp_path, lambda d: d["instances"][DB1]["nics"][0].update(
        mac="aa:11:22:3e:5c:01"))
    assert _has(problems, "Instance 'db1.example.com' NIC 0", "'mac'", "aa:11:22:3e:5c:01",
                "web1.example.com")


def test_duplicate_ip_in_network(tmp_path: object) -> None:
    problems = _problems(tmp_path, lambda d: d["instances"][DB1]["nics"][0].update(
        ip="203.0.113.3", network=NET))
    assert _has(problems, "Instance 'db1.example.com' NIC 0", "'ip'", "203.0.113.3", NET)


def test_same_ip_without_network_is_allowed(tmp_path: object) -> None:
    data = _raw()
    data["instances"][DB1]["nics"][0]["ip"] = "192.0.2.50"
    data["instances"][WEB1]["nics"][1]["ip"] = "192.0.2.50"
    assert ConfigWriter(_write(tmp_path, data)).verify_config() == []


def test_instance_primary_node_unknown(tmp_path: object) -> None:
    problems = _problems(tmp_path, lambda d: d["instances"][WEB1].update(
        primary_node="no-such-node"))
    assert _has(problems, "Instance 'web1.example.com'", "'primary_node'", "no-such-node")


def test_node_group_unknown(tmp_path: object) -> None:
    problems = _problems(tmp_path, lambda d: d["nodes"][NODE2].update(group="no-group"))
    assert _has(problems, "Node 'node2.example.com'", "'group'", "no-group")


def test_instance_disk_unknown(tmp_path: object) -> None:
    problems = _problems(tmp_path, lambda d: d["instances"][WEB1]["disks"].append("nodisk"))
    assert _has(problems, "Instance 'web1.example.com'", "'disks'", "item 1", "nodisk")


def test_disk_without_instance(tmp_path: object) -> None:
    problems = _problems(tmp_path, lambda d: d["instances"][WEB1].update(disks=[]))
    assert _has(problems, "Disk 'root'", "'disks'", "no instance")


def test_disk_of_two_instances(tmp_path: object) -> None:
    problems = _problems(tmp_path, lambda d: d["instances"][TEST1]["disks"].append(DISK1))
    assert _has(problems, "Instance 'test1.example.com'", "'disks'", DISK1,
                "already belongs to Instance 'web1.example.com'")


def test_disk_node_unknown(tmp_path: object) -> None:
    problems = _problems(tmp_path, lambda d: d["disks"][DISK2]["children"][1].update(
        nodes=[NODE2, "ghost"]))
    assert _has(problems, "Disk", "child 1", "'nodes'", "ghost")


def test_master_node_unknown(tmp_path: object) -> None:
    problems = _problems(tmp_path, lambda d: d["cluster"].update(master_node="ghost"))
    assert _has(problems, "Cluster", "'master_node'", "ghost")


def test_master_node_not_candidate(tmp_path: object) -> None:
    problems = _problems(tmp_path, lambda d: d["nodes"][NODE1].update(
        master_candidate=False))
    assert _has(problems, "Cluster", "'master_node'", "node1.example.com",
                "not a master candidate")


def test_nic_network_unknown(tmp_path: object) -> None:
    problems = _problems(tmp_path, lambda d: d["instances"][DB1]["nics"][0].update(
        network="ghost-net"))
    assert _has(problems, "Instance 'db1.example.com' NIC 0", "'network'", "ghost-net")


def test_unknown_hvparam(tmp_path: object) -> None:
    problems = _problems(tmp_path, lambda d: d["instances"][WEB1]["hvparams"].update(
        turbo=True))
    assert _has(problems, "Instance 'web1.example.com'", "'hvparams'", "'turbo'")


def test_bad_cluster_beparam(tmp_path: object) -> None:
    problems = _problems(tmp_path, lambda d: d["cluster"]["beparams"]["default"].update(
        vcpus=0))
    assert _has(problems, "Cluster", "'beparams/default'", "'vcpus'", "positive integer")


def test_unknown_group_diskparam(tmp_path: object) -> None:
    problems = _problems(tmp_path, lambda d: d["nodegroups"][GROUP]["diskparams"].update(
        plain={"stripez": 2}))
    assert _has(problems, "NodeGroup 'default'", "'diskparams/plain'", "'stripez'")


def test_field_of_wrong_type(tmp_path: object) -> None:
    problems = _problems(tmp_path, lambda d: d["nodes"][NODE2].update(offline="no"))
    assert _has(problems, "Node 'node2.example.com'", "'offline'", "a boolean", "'no'")


def test_disk_child_field_of_wrong_type(tmp_path: object) -> None:
    problems = _problems(tmp_path, lambda d: d["disks"][DISK2]["children"][0].update(
        size="big"))
    assert _has(problems, "Disk", "child 0", "'size'", "'big'")


def test_duplicate_network_port(tmp_path: object) -> None:
    problems = _problems(tmp_path, lambda d: d["instances"][DB1].update(network_port=11002))
    assert _has(problems, "Instance 'db1.example.com'", "'network_port'", "11002")


def test_bad_redistribute_files_entry(tmp_path: object) -> None:
    problems = _problems(tmp_path, lambda d: d["cluster"].update(
        redistribute_files=[{"path": "relative/file", "nodes": "all"}]))
    assert _has(problems, "Cluster", "'redistribute_files'")


def test_every_problem_is_reported_at_once(tmp_path: object) -> None:
    def change(d: dict) -> None:
        d["nodes"][NODE2]["group"] = "no-group"
        d["instances"][WEB1]["primary_node"] = "ghost"
        d["instances"][DB1]["nics"][0]["mac"] = "aa:11:22:3e:5c:01"
        d["cluster"]["master_node"] = "ghost"
    problems = _problems(tmp_path, change)
    assert len(problems) >= 4
    assert _has(problems, "'group'") and _has(problems, "'primary_node'")
    assert _has(problems, "'mac'") and _has(problems, "'master_node'")


# -- saving and changes ---------------------------------------------------------------------

def test_update_bumps_serials_and_saves(path: str, writer: ConfigWriter) -> None:
    inst = writer.get_instance_info(WEB1)
    old_serial, old_mtime = inst.serial_no, inst.mtime
    old_config_serial = writer.get_config_serial()
    inst.beparams["vcpus"] = 4
    writer.update(inst)
    assert inst.serial_no == old_serial + 1 and inst.mtime > old_mtime
    assert writer.get_config_serial() == old_config_serial + 1
    reloaded = ConfigWriter(path)
    saved = reloaded.get_instance_info(WEB1)
    assert saved.beparams["vcpus"] == 4 and saved.serial_no == old_serial + 1
    assert reloaded.get_config_serial() == old_config_serial + 1
    assert reloaded.get_node_info(NODE1).serial_no == writer.get_node_info(NODE1).serial_no


def test_update_of_unknown_object_is_refused(writer: ConfigWriter) -> None:
    stranger = Instance(uuid="00000000-0000-4000-8000-0000000000ff", name="x")
    with pytest.raises(errors.ConfigurationError, match="not in the configuration"):
        writer.update(stranger)


def test_update_with_a_copy_replaces_the_object(path: str, writer: ConfigWriter) -> None:
    clone = writer.get_node_info(NODE2).copy()
    clone.drained = True
    writer.update(clone)
    assert writer.get_node_info(NODE2).drained is True
    assert ConfigWriter(path).get_node_info(NODE2).drained is True


def test_inconsistent_change_is_not_saved(path: str, writer: ConfigWriter) -> None:
    with open(path, "rb") as handle:
        before = handle.read()
    inst = writer.get_instance_info(DB1)
    inst.name = "web1.example.com"
    with pytest.raises(errors.ConfigVerifyError, match=r"web1\.example\.com"):
        writer.update(inst)
    with open(path, "rb") as handle:
        assert handle.read() == before
    assert writer.get_instance_info(DB1).name == "db1.example.com"  # memory restored
    assert writer.verify_config() == []


def test_bad_field_type_change_is_not_saved(writer: ConfigWriter) -> None:
    node = writer.get_node_info(NODE2)
    node.offline = "yes"  # type: ignore[assignment]
    with pytest.raises(errors.ConfigVerifyError, match="'offline'"):
        writer.update(node)
    assert writer.get_node_info(NODE2).offline is False


def test_add_and_remove_node(path: str, writer: ConfigWriter) -> None:
    node = Node(name="node3.example.com", primary_ip="192.0.2.13", group=GROUP)
    writer.add_node(node, "job-1")
    assert node.uuid and node.ctime > 0 and node.serial_no == 1
    assert ConfigWriter(path).get_node_info_by_name("node3.example.com").uuid == node.uuid
    with pytest.raises(errors.OpPrereqError, match="already exists"):
        writer.add_node(Node(name="node3.example.com", primary_ip="192.0.2.14",
                             group=GROUP))
    with pytest.raises(errors.ConfigurationError, match="'group'"):
        writer.add_node(Node(name="node4.example.com", primary_ip="1.2.3.4", group="x"))
    writer.remove_node(node.uuid or "")
    assert writer.find_node("node3.example.com") is None
    with pytest.raises(errors.OpPrereqError, match="still has instances"):
        writer.remove_node(NODE2)
    with pytest.raises(errors.OpPrereqError, match="master"):
        writer.remove_node(NODE1)
    assert ConfigWriter(path).find_node("node3.example.com") is None


def test_add_nodegroup_and_network(writer: ConfigWriter) -> None:
    group = NodeGroup(name="rack2")
    writer.add_nodegroup(group)
    assert writer.find_nodegroup("rack2") is group
    net = Network(name="private", network="10.9.0.0/24")
    writer.add_network(net)
    assert writer.find_network("private") is net
    writer.remove_nodegroup(group.uuid or "")
    assert writer.find_nodegroup("rack2") is None
    with pytest.raises(errors.OpPrereqError, match="not empty"):
        writer.remove_nodegroup(GROUP)


def _new_instance(writer: ConfigWriter, name: str, ec_id: str,
                  ip: str | None = None) -> tuple[Instance, list[Disk]]:
    names = writer.generate_unique_names(ec_id, [".disk0"])
    disk = Disk(uuid=writer.generate_uuid(ec_id), dev_type=constants.DT_PLAIN,
                logical_id=["xenvg", names[0]], nodes=[NODE2], iv_name="disk/0", size=1024)
    nic = NIC(uuid=writer.generate_uuid(ec_id),
              mac=writer.generate_mac(ec_id, NET if ip else None),
              ip=ip, network=NET if ip else None)
    inst = Instance(name=name, primary_node=NODE2, os="debootstrap+default",
                    hypervisor=constants.HT_KVM, nics=[nic], admin_state="up")
    return inst, [disk]


def test_add_and_remove_instance(path: str, writer: ConfigWriter) -> None:
    ip = writer.generate_ip(NET, "job-7")
    assert ip == "203.0.113.2"
    inst, disks = _new_instance(writer, "new1.example.com", "job-7", ip)
    assert inst.nics[0].mac.startswith("aa:11:22:")  # type: ignore[union-attr]
    writer.add_instance(inst, disks, "job-7")
    writer.release_reservations("job-7")
    reloaded = ConfigWriter(path)
    saved = reloaded.get_instance_info_by_name("new1.example.com")
    assert saved.disks == [disks[0].uuid]
    assert reloaded.get_network(NET).reservations == "00110000"
    assert writer.get_instance_disks(inst.uuid or "")[0].size == 1024
    with pytest.raises(errors.ReservationError, match="already in use"):
        writer.reserve_ip(NET, ip, "job-8")
    writer.remove_instance(inst.uuid or "")
    reloaded = ConfigWriter(path)
    assert reloaded.find_instance("new1.example.com") is None
    assert disks[0].uuid not in reloaded.get_config_data().disks
    assert reloaded.get_network(NET).reservations == "00010000"


def test_remove_instance_returns_port_to_pool(writer: ConfigWriter) -> None:
    writer.remove_instance(WEB1)
    assert 11002 in writer.get_cluster_info().tcpudp_port_pool
    assert writer.allocate_port() in (11001, 11002)


def test_allocate_port_grows_highest_used(writer: ConfigWriter) -> None:
    assert writer.allocate_port() == 11001  # from the pool first
    assert writer.allocate_port() == 11004
    assert writer.get_cluster_info().highest_used_port == 11004


def test_add_and_remove_instance_disk(writer: ConfigWriter) -> None:
    disk = Disk(dev_type=constants.DT_PLAIN, logical_id=["xenvg", "extra"],
                nodes=[NODE1], size=512, iv_name="disk/1")
    writer.add_instance_disk(WEB1, disk)
    assert writer.get_instance_info(WEB1).disks == [DISK1, disk.uuid]
    writer.remove_instance_disk(WEB1, disk.uuid or "")
    assert writer.get_instance_info(WEB1).disks == [DISK1]
    assert writer.verify_config() == []


def test_create_writes_first_config(tmp_path: object) -> None:
    data = ConfigData.from_dict(_raw())
    target = os.path.join(str(tmp_path), "new", "config.data")
    os.makedirs(os.path.dirname(target))
    writer = ConfigWriter.create(target, data)
    assert writer.verify_config() == []
    assert os.stat(target).st_mode & 0o777 == 0o600
    with pytest.raises(errors.ConfigurationError, match="already exists"):
        ConfigWriter.create(target, data)


def test_create_refuses_inconsistent_data(tmp_path: object) -> None:
    raw = _raw()
    raw["cluster"]["master_node"] = "ghost"
    target = os.path.join(str(tmp_path), "config.data")
    with pytest.raises(errors.ConfigVerifyError, match="master_node"):
        ConfigWriter.create(target, ConfigData.from_dict(raw))
    assert not os.path.exists(target)


def test_save_hooks_run_after_save(writer: ConfigWriter) -> None:
    seen: list[int] = []
    writer.add_save_hook(lambda w: seen.append(w.get_config_serial()))
    writer.save()
    assert seen == [writer.get_config_serial()]
    assert json.loads(writer.last_saved_bytes())["serial_no"] == seen[0]


def test_stale_temp_files_are_removed_on_open(path: str) -> None:
    directory = os.path.dirname(path)
    stale = os.path.join(directory, ".config.data.tmpabc123")
    with open(stale, "w", encoding="utf-8") as handle:
        handle.write('{"half": ')
    ConfigWriter(path)
    assert not os.path.exists(stale)


def test_dump_config_is_the_project_serializer_format(path: str,
                                                      writer: ConfigWriter) -> None:
    dumped = config.dump_config(writer.get_config_data())
    data = json.loads(dumped)
    assert dumped == serializer.dump_bytes(data)
    assert config.parse_config(dumped) == data


# -- reservations and generators -------------------------------------------------------------

def test_generated_macs_are_unique_and_reserved(writer: ConfigWriter) -> None:
    macs = {writer.generate_mac("job-1") for _ in range(500)}
    assert len(macs) == 500
    assert all(m.startswith("aa:00:00:") for m in macs)
    mac = next(iter(macs))
    with pytest.raises(errors.ReservationError, match="reserved by another job"):
        writer.reserve_mac(mac, "job-2")
    writer.release_reservations("job-1")
    writer.reserve_mac(mac, "job-2")


def test_reserving_a_mac_in_use_fails(writer: ConfigWriter) -> None:
    with pytest.raises(errors.ReservationError, match="already in use"):
        writer.reserve_mac("AA:11:22:3E:5C:01", "job-1")


def test_generated_mac_skips_config_and_reserved(writer: ConfigWriter,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # Force the random source to propose a MAC in use, then a reserved one.
    proposals = iter([0x4F1102, 0x000001, 0x000001, 0x000002])
    monkeypatch.setattr(config.random, "getrandbits", lambda bits: next(proposals))
    assert writer.generate_mac("job-1") == "aa:00:00:00:00:01"
    assert writer.generate_mac("job-2") == "aa:00:00:00:00:02"


def test_generated_uuids_and_names_are_unique(writer: ConfigWriter) -> None:
    uuids = {writer.generate_uuid("job") for _ in range(200)}
    assert len(uuids) == 200
    assert not uuids & set(writer.get_all_instances_info())
    names = writer.generate_unique_names("job", [".disk0_data", ".disk0_meta"])
    assert names[0].endswith(".disk0_data") and names[1].endswith(".disk0_meta")
    assert names[0][:36] != names[1][:36]


def test_ip_reservations(writer: ConfigWriter) -> None:
    assert writer.generate_ip(NET, "job-1") == "203.0.113.2"
    assert writer.generate_ip(NET, "job-2") == "203.0.113.4"
    with pytest.raises(errors.ReservationError, match="another job"):
        writer.reserve_ip(NET, "203.0.113.2", "job-3")
    with pytest.raises(errors.ReservationError, match="already in use"):
        writer.reserve_ip(NET, "203.0.113.1", "job-3")  # gateway, externally reserved
    with pytest.raises(errors.ReservationError, match="not in network"):
        writer.reserve_ip(NET, "10.0.0.1", "job-3")
    writer.release_reservations("job-1")
    writer.reserve_ip(NET, "203.0.113.2", "job-3")
    assert writer.generate_ip(NET, "job-4") == "203.0.113.5"


def test_reservations_hold_under_threads(writer: ConfigWriter) -> None:
    results: dict[str, list[str]] = {}
    errors_seen: list[BaseException] = []

    def worker(ec_id: str) -> None:
        try:
            got = []
            for _ in range(100):
                got.append(writer.generate_mac(ec_id))
                got.append(writer.generate_uuid(ec_id))
            got.append(writer.generate_ip(NET, ec_id))
            results[ec_id] = got
        except BaseException as err:  # pragma: no cover - reported below
            errors_seen.append(err)

    threads = [threading.Thread(target=worker, args=("job-%d" % i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors_seen
    every = [value for got in results.values() for value in got]
    assert len(every) == len(set(every)) == 4 * 201
    ips = sorted(got[-1] for got in results.values())
    assert ips == ["203.0.113.2", "203.0.113.4", "203.0.113.5", "203.0.113.6"]


def test_concurrent_updates_all_land(path: str, writer: ConfigWriter) -> None:
    def worker(index: int) -> None:
        for step in range(5):
            inst = writer.get_instance_info(WEB1)
            with writer.locked():
                inst.tags.append("t%d-%d" % (index, step))
                writer.update(inst)
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tags = ConfigWriter(path).get_instance_info(WEB1).tags
    assert len([t for t in tags if t.startswith("t")]) == 20


def test_update_cluster_and_disk(path: str, writer: ConfigWriter) -> None:
    cluster = writer.get_cluster_info()
    old_serial = cluster.serial_no
    cluster.redistribute_files = [{"path": "/etc/ganeti/extra.conf", "nodes": "all"}]
    writer.update(cluster)
    assert cluster.serial_no == old_serial + 1
    disk = writer.get_disk_info(DISK1)
    disk.size = 20480
    writer.update(disk)
    reloaded = ConfigWriter(path)
    assert reloaded.get_cluster_info().redistribute_files == [
        {"path": "/etc/ganeti/extra.conf", "nodes": "all"}]
    assert reloaded.get_disk_info(DISK1).size == 20480
    assert reloaded.get_disk_info(DISK1).serial_no == 2
