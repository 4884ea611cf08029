"""Configuration objects: round trips, field checks, parameter layering."""

from __future__ import annotations

import copy
import json
import os

import pytest

from ganeti import constants, errors, objects, paramdefs
from ganeti.objects import (
    NIC,
    Cluster,
    ConfigData,
    Disk,
    Instance,
    Node,
    NodeGroup,
)

DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data")
GANETI_30 = os.path.join(DATA_DIR, "ganeti-3.0-config.data")

WEB1 = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"
DB1 = "c2d3e4f5-b6c7-4d8e-9f0a-1b2c3d4e5f60"
TEST1 = "c3d4e5f6-c7d8-4e9f-8a0b-2c3d4e5f6071"
NODE1 = "6f2d1c8e-0a55-4e41-8a5c-0b7b6c2f9a01"
NODE2 = "a4b3c2d1-e0f9-48a7-b6c5-d4e3f2a1b0c9"
GROUP = "3c9e6f8a-1b2d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.fixture
def raw() -> dict:
    with open(GANETI_30, encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture
def data(raw: dict) -> ConfigData:
    return ConfigData.from_dict(copy.deepcopy(raw))


# -- round trips -------------------------------------------------------------------------

def test_ganeti_config_round_trips_exactly(raw: dict) -> None:
    original = copy.deepcopy(raw)
    loaded = ConfigData.from_dict(raw)
    assert loaded.to_dict() == original
    # Also through the serializer used for saving.
    assert json.loads(json.dumps(loaded.to_dict(), sort_keys=True)) == original
    assert raw == original, "from_dict must not change its input"


def test_nested_objects_are_objects(data: ConfigData) -> None:
    assert isinstance(data.cluster, Cluster)
    inst = data.instances[WEB1]
    assert isinstance(inst, Instance)
    assert all(isinstance(n, NIC) for n in inst.nics)
    drbd = data.disks["d0000002-0000-4000-8000-000000000002"]
    assert [c.dev_type for c in drbd.children] == ["plain", "plain"]
    assert isinstance(drbd.children[0], Disk)
    assert drbd.all_nodes() == [NODE2, NODE1]
    assert [d.size for d in drbd.walk()] == [20480, 20480, 128]


def test_unknown_fields_are_preserved_everywhere(raw: dict) -> None:
    raw["future_top_level"] = {"x": 1}
    raw["cluster"]["site_field"] = [1, 2]
    raw["instances"][WEB1]["new_field"] = "kept"
    raw["instances"][WEB1]["nics"][0]["nic_extra"] = True
    raw["disks"]["d0000002-0000-4000-8000-000000000002"]["children"][0]["child_x"] = 5
    raw["nodes"][NODE1]["node_x"] = None
    expected = copy.deepcopy(raw)
    loaded = ConfigData.from_dict(raw)
    assert loaded.to_dict() == expected
    assert loaded.instances[WEB1].extra_fields() == {"new_field": "kept"}
    assert loaded.type_problems() == []


def test_absent_fields_read_as_defaults_without_changing_output(raw: dict) -> None:
    expected = copy.deepcopy(raw)
    loaded = ConfigData.from_dict(raw)
    test1 = loaded.instances[TEST1]  # has no "tags" and no "network_port"
    assert test1.tags == []
    assert test1.network_port is None
    assert loaded.to_dict() == expected


def test_changes_to_absent_mutable_defaults_are_kept(data: ConfigData) -> None:
    test1 = data.instances[TEST1]
    test1.tags.append("new")
    assert data.to_dict()["instances"][TEST1]["tags"] == ["new"]


def test_new_object_has_defaults_and_rejects_unknown_fields() -> None:
    inst = Instance(name="x.example.com", primary_node="n", os="debootstrap")
    as_dict = inst.to_dict()
    assert as_dict["admin_state"] == constants.ADMINST_DOWN
    assert as_dict["nics"] == [] and as_dict["disks"] == [] and as_dict["tags"] == []
    assert "network_port" not in as_dict  # optional fields without value are omitted
    with pytest.raises(errors.ProgrammerError, match=r"no field.*colour"):
        Instance(colour="blue")


def test_copy_is_deep(data: ConfigData) -> None:
    inst = data.instances[WEB1]
    clone = inst.copy()
    clone.nics[0].nicparams["link"] = "other"
    clone.beparams["vcpus"] = 8
    assert inst.nics[0].nicparams == {}
    assert inst.beparams["vcpus"] == 2
    assert clone != inst
    assert inst.copy() == inst


def test_to_dict_gives_plain_data(data: ConfigData) -> None:
    plain = data.to_dict()

    def walk(value: object) -> None:
        assert not isinstance(value, objects.ConfigObject)
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
    walk(plain)


# -- field type checks ---------------------------------------------------------------

def test_type_problems_name_object_and_field(raw: dict) -> None:
    raw["instances"][WEB1]["admin_state"] = "sideways"
    raw["instances"][WEB1]["disks_active"] = "yes"
    raw["nodes"][NODE1]["master_candidate"] = 1
    raw["instances"][DB1]["tags"] = ["ok", 7]
    loaded = ConfigData.from_dict(raw)
    web1 = loaded.instances[WEB1].type_problems()
    assert any("Instance 'web1.example.com'" in p and "'admin_state'" in p
               and "sideways" in p for p in web1)
    assert any("'disks_active'" in p and "a boolean" in p for p in web1)
    node = loaded.nodes[NODE1].type_problems()
    assert node and "'master_candidate'" in node[0] and "node1.example.com" in node[0]
    db1 = loaded.instances[DB1].type_problems()
    assert db1 and "'tags'" in db1[0] and "7" in db1[0]


def test_nested_field_of_wrong_type_is_reported_not_crashing(raw: dict) -> None:
    raw["instances"][WEB1]["nics"] = "eth0"
    loaded = ConfigData.from_dict(raw)
    problems = loaded.instances[WEB1].type_problems()
    assert problems and "'nics'" in problems[0]


def test_optional_fields_accept_null(data: ConfigData) -> None:
    nic = data.instances[WEB1].nics[1]
    assert nic.ip is None
    assert nic.type_problems() == []


def test_int_field_rejects_bool() -> None:
    disk = Disk.from_dict({"dev_type": "plain", "size": True})
    problems = disk.type_problems()
    assert problems and "'size'" in problems[0]


# -- parameter layering ----------------------------------------------------------------

def test_fill_hvparams_layers_defaults_cluster_os_instance(data: ConfigData) -> None:
    cluster = data.cluster
    web1 = data.instances[WEB1]
    filled = cluster.fill_hvparams(web1)
    kvm_defaults = paramdefs.HVPARAMS[constants.HT_KVM].defaults()
    assert set(filled) == set(kvm_defaults)
    assert filled["vnc_bind_address"] == "0.0.0.0"           # cluster
    assert filled["kernel_args"] == "ro console=ttyS0"      # os_hvp for debootstrap
    assert filled["kernel_path"] == ""                      # instance
    assert filled["serial_speed"] == 38400                  # default/cluster
    no_globals = cluster.fill_hvparams(web1, skip_globals=True)
    assert "migration_port" not in no_globals and "kernel_path" in no_globals


def test_fill_hvparams_fake_instance(data: ConfigData) -> None:
    assert data.cluster.fill_hvparams(data.instances[TEST1]) == {"migration_mode": "live"}


def test_fill_beparams_with_legacy_memory_alias(data: ConfigData) -> None:
    cluster = data.cluster
    web1 = cluster.fill_beparams(data.instances[WEB1])
    assert web1 == {"vcpus": 2, "maxmem": 1024, "minmem": 512, "auto_balance": True,
                    "always_failover": False, "spindle_use": 1}
    db1 = cluster.fill_beparams(data.instances[DB1])  # {"memory": 2048}
    assert db1["maxmem"] == 2048 and db1["minmem"] == 2048 and db1["vcpus"] == 1
    assert cluster.fill_beparams({"memory": 64, "minmem": 32})["minmem"] == 32


def test_fill_nicparams(data: ConfigData) -> None:
    cluster = data.cluster
    nic0, nic1 = data.instances[WEB1].nics
    assert cluster.fill_nicparams(nic0) == {"mode": "bridged", "link": "br0", "vlan": ""}
    assert cluster.fill_nicparams(nic1)["link"] == "br-internal"
    assert cluster.fill_nicparams(None)["mode"] == "bridged"


def test_fill_ndparams_cluster_group_node(data: ConfigData) -> None:
    cluster = data.cluster
    group = data.nodegroups[GROUP]
    node2 = data.nodes[NODE2]
    assert cluster.fill_ndparams(node2, group)["spindle_count"] == 4
    group.ndparams["spindle_count"] = 2
    group.ndparams["ssh_port"] = 2222
    filled = cluster.fill_ndparams(data.nodes[NODE1], group)
    assert filled["spindle_count"] == 2 and filled["ssh_port"] == 2222
    assert cluster.fill_ndparams(node2, group)["spindle_count"] == 4  # node wins
    assert cluster.fill_ndparams(None, None)["ovs_name"] == "switch1"


def test_fill_diskparams_cluster_group(data: ConfigData) -> None:
    cluster = data.cluster
    group = data.nodegroups[GROUP]
    drbd = cluster.fill_diskparams(constants.DT_DRBD8, group)
    assert drbd["resync-rate"] == 102400                    # group
    assert drbd["metavg"] == "xenvg"                        # cluster
    assert cluster.fill_diskparams(constants.DT_DRBD8, None)["resync-rate"] == 61440
    assert cluster.fill_diskparams(constants.DT_PLAIN, group) == {"stripes": 1}
    with pytest.raises(errors.ParameterError, match="Unknown disk template 'floppy'"):
        cluster.fill_diskparams("floppy", group)


def test_fill_osparams_base_variant_instance(data: ConfigData) -> None:
    cluster = data.cluster
    assert cluster.fill_osparams("debootstrap+bookworm", {"suite": "trixie"}) == {
        "dhcp": "yes", "suite": "trixie"}
    assert cluster.fill_osparams("debootstrap+bookworm", None) == {
        "dhcp": "yes", "suite": "bookworm"}
    assert cluster.fill_osparams("other", {"a": "1"}) == {"a": "1"}


def test_fill_ipolicy_group_overrides(data: ConfigData) -> None:
    policy = data.cluster.fill_ipolicy(data.nodegroups[GROUP])
    assert policy["vcpu-ratio"] == 2.0 and policy["spindle-ratio"] == 32.0


def test_unknown_parameter_is_rejected_naming_family_name_object(data: ConfigData) -> None:
    web1 = data.instances[WEB1]
    web1.hvparams["turbo"] = True
    with pytest.raises(errors.ParameterError) as info:
        data.cluster.fill_hvparams(web1)
    message = str(info.value)
    assert "hvparams/kvm" in message and "'turbo'" in message
    assert "web1.example.com" in message


def test_bad_parameter_value_is_rejected(data: ConfigData) -> None:
    db1 = data.instances[DB1]
    db1.beparams["vcpus"] = "many"
    with pytest.raises(errors.ParameterError, match=r"beparams.*'vcpus'.*positive integer"):
        data.cluster.fill_beparams(db1)
    with pytest.raises(errors.ParameterError, match=r"nicparams.*'mode'"):
        data.cluster.fill_nicparams({"mode": "wireless"})
    node = data.nodes[NODE1]
    node.ndparams["ssh_port"] = 0
    with pytest.raises(errors.ParameterError, match="ndparams of Node 'node1"):
        data.cluster.fill_ndparams(node, data.nodegroups[GROUP])


def test_unknown_hypervisor_is_rejected(data: ConfigData) -> None:
    with pytest.raises(errors.ParameterError, match="Unknown hypervisor 'vmware'"):
        data.cluster.fill_hvparams_for("vmware")


# -- parameter definitions ----------------------------------------------------------------

def test_every_default_passes_its_own_check() -> None:
    families = [paramdefs.BEPARAMS, paramdefs.NICPARAMS, paramdefs.NDPARAMS,
                *paramdefs.HVPARAMS.values(), *paramdefs.DISKPARAMS.values()]
    for family in families:
        assert family.problems(family.defaults(), "test") == [], family.name


def test_families_cover_every_hypervisor_and_disk_template() -> None:
    assert set(paramdefs.HVPARAMS) == set(constants.HYPER_TYPES)
    assert set(paramdefs.DISKPARAMS) == set(constants.DISK_TEMPLATES)


def test_ganeti_names_and_defaults() -> None:
    kvm = paramdefs.HVPARAMS[constants.HT_KVM].defaults()
    assert len(kvm) == 65  # Ganeti 3.0 kvm parameter list
    assert kvm["migration_port"] == 8102 and kvm["migration_bandwidth"] == 32
    assert kvm["spice_tls_ciphers"] == "HIGH:-DES:-3DES:-EXPORT:-DH"
    assert kvm["disk_aio"] == "threads" and kvm["vnet_hdr"] is True
    assert paramdefs.BEPARAMS.defaults() == {"vcpus": 1, "maxmem": 128, "minmem": 128,
                                             "auto_balance": True, "always_failover": False,
                                             "spindle_use": 1}
    assert paramdefs.NDPARAMS.defaults()["ovs_name"] == "switch1"
    assert paramdefs.DISKPARAMS[constants.DT_GLUSTER].defaults() == {
        "host": "127.0.0.1", "port": 24007, "volume": "gv0", "access": "kernelspace"}
    assert paramdefs.DISKPARAMS[constants.DT_DRBD8].defaults()["resync-rate"] == 61440


def test_defaults_are_fresh_copies() -> None:
    first = paramdefs.BEPARAMS.defaults()
    first["vcpus"] = 99
    assert paramdefs.BEPARAMS.defaults()["vcpus"] == 1


def test_fill_dict_later_layers_win() -> None:
    assert paramdefs.fill_dict({"a": 1, "b": 1}, None, {"b": 2}) == {"a": 1, "b": 2}


def test_node_and_group_defaults() -> None:
    node = Node(name="n1", primary_ip="192.0.2.1", group="g")
    assert node.master_capable is True and node.vm_capable is True
    group = NodeGroup(name="default")
    assert group.alloc_policy == constants.ALLOC_POLICY_PREFERRED
    assert Cluster().redistribute_files == []
