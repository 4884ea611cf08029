"""ssconf: computing the values, writing the files, reading them back."""

from __future__ import annotations

import os
import stat
from typing import Any

import pytest

from ganeti import constants, errors, objects, pathutils, serializer, ssconf

NODE_UUIDS = {
    "node1.example.com": "11111111-0000-0000-0000-000000000001",
    "node2.example.com": "11111111-0000-0000-0000-000000000002",
    "node10.example.com": "11111111-0000-0000-0000-000000000010",
}
GROUP_UUID = "22222222-0000-0000-0000-000000000001"
NET_UUID = "33333333-0000-0000-0000-000000000001"
GANETI_CONFIG = os.path.join(os.path.dirname(__file__), os.pardir, "data",
                             "ganeti-3.0-config.data")


@pytest.fixture
def paths(tmp_path: Any) -> pathutils.Paths:
    return pathutils.for_root(str(tmp_path))


def sample_values() -> dict[str, str]:
    """One value for every fixed key, in Ganeti's formats."""
    return {
        ssconf.KEY_CLUSTER_NAME: "cluster.example.com",
        ssconf.KEY_CLUSTER_TAGS: "tag-a\ntag-b",
        ssconf.KEY_FILE_STORAGE_DIR: "/srv/ganeti/file-storage",
        ssconf.KEY_SHARED_FILE_STORAGE_DIR: "/srv/ganeti/shared-file-storage",
        ssconf.KEY_GLUSTER_STORAGE_DIR: "",
        ssconf.KEY_MASTER_CANDIDATES: "node1.example.com\nnode2.example.com",
        ssconf.KEY_MASTER_CANDIDATES_IPS: "192.0.2.1\n192.0.2.2",
        ssconf.KEY_MASTER_CANDIDATES_CERTS: "uuid-1=AA:BB\nuuid-2=CC:DD",
        ssconf.KEY_MASTER_IP: "192.0.2.100",
        ssconf.KEY_MASTER_NETDEV: "eth0",
        ssconf.KEY_MASTER_NETMASK: "24",
        ssconf.KEY_MASTER_NODE: "node1.example.com",
        ssconf.KEY_NODE_LIST: "node1.example.com\nnode2.example.com",
        ssconf.KEY_NODE_PRIMARY_IPS: "node1.example.com 192.0.2.1\nnode2.example.com 192.0.2.2",
        ssconf.KEY_NODE_SECONDARY_IPS: "node1.example.com 198.51.100.1\n"
                                       "node2.example.com 198.51.100.2",
        ssconf.KEY_NODE_VM_CAPABLE: "node1.example.com=True\nnode2.example.com=False",
        ssconf.KEY_OFFLINE_NODES: "",
        ssconf.KEY_ONLINE_NODES: "node1.example.com\nnode2.example.com",
        ssconf.KEY_PRIMARY_IP_FAMILY: "2",
        ssconf.KEY_INSTANCE_LIST: "inst2.example.com\ninst10.example.com",
        ssconf.KEY_RELEASE_VERSION: "0.1.0",
        ssconf.KEY_HYPERVISOR_LIST: "kvm\nfake",
        ssconf.KEY_ENABLED_DISK_TEMPLATES: "plain\nfile",
        ssconf.KEY_MAINTAIN_NODE_HEALTH: "False",
        ssconf.KEY_UID_POOL: "1000-1999\n3000",
        ssconf.KEY_NODEGROUPS: "%s default" % GROUP_UUID,
        ssconf.KEY_NETWORKS: "%s net1" % NET_UUID,
        ssconf.KEY_ENABLED_USER_SHUTDOWN: "True",
        ssconf.KEY_SSH_PORTS: "node1.example.com=22\nnode2.example.com=2222",
        ssconf.KEY_REDISTRIBUTE_FILES: "all /etc/foo.conf\nmaster-candidates /etc/bar",
        ssconf.hvparams_key("kvm"): "acpi=True\nkernel_path=/boot/vmlinuz",
        ssconf.hvparams_key("fake"): "migration_mode=live",
    }


def write_raw(paths: pathutils.Paths, key: str, text: str) -> None:
    os.makedirs(paths.data_dir, exist_ok=True)
    path = paths.ssconf_file(key)
    if os.path.exists(path):
        os.chmod(path, 0o644)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


# -- writing ----------------------------------------------------------------------

def test_every_fixed_key_is_in_the_sample() -> None:
    fixed = {k for k in ssconf.VALID_KEYS if not k.startswith(ssconf.HVPARAMS_PREFIX)}
    assert fixed == {k for k in sample_values() if not k.startswith(ssconf.HVPARAMS_PREFIX)}


def test_write_creates_read_only_files_in_ganeti_format(paths: pathutils.Paths) -> None:
    ssconf.write_files(sample_values(), paths)
    path = paths.ssconf_file("node_primary_ips")
    assert os.path.basename(path) == "ssconf_node_primary_ips"
    with open(path, encoding="utf-8") as handle:
        assert handle.read() == "node1.example.com 192.0.2.1\nnode2.example.com 192.0.2.2\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o444
    with open(paths.ssconf_file("offline_nodes"), encoding="utf-8") as handle:
        assert handle.read() == ""


def test_write_leaves_no_temporary_files(paths: pathutils.Paths) -> None:
    values = sample_values()
    ssconf.write_files(values, paths)
    ssconf.write_files(values, paths)  # replacing read-only files works too
    names = sorted(os.listdir(paths.data_dir))
    assert names == sorted("ssconf_" + key for key in values)


def test_stale_keys_are_removed(paths: pathutils.Paths) -> None:
    values = sample_values()
    ssconf.write_files(values, paths)
    write_raw(paths, "obsolete_key", "left by an older version\n")
    del values[ssconf.hvparams_key("fake")]
    values[ssconf.KEY_HYPERVISOR_LIST] = "kvm"
    ssconf.write_files(values, paths)
    assert not os.path.exists(paths.ssconf_file("hvparams_fake"))
    assert not os.path.exists(paths.ssconf_file("obsolete_key"))
    assert ssconf.SimpleStore(paths).present_keys() == sorted(values)


def test_unrelated_files_are_kept(paths: pathutils.Paths) -> None:
    os.makedirs(paths.data_dir)
    with open(paths.config_file, "w", encoding="utf-8") as handle:
        handle.write("{}")
    ssconf.write_files(sample_values(), paths)
    assert os.path.exists(paths.config_file)


@pytest.mark.parametrize("key, value, message", [
    ("no_such_key", "x", "unknown ssconf key 'no_such_key'"),
    ("hvparams_nohv", "a=b", "unknown ssconf key 'hvparams_nohv'"),
    ("cluster_name", "two\nlines", "ssconf key 'cluster_name': expected a single line"),
    ("cluster_name", 42, "value must be a string, got int"),
    ("node_primary_ips", "node1 192.0.2.1\nnode2", "line 2 of ssconf_node_primary_ips:"
                                                   " expected 'first second', got 'node2'"),
    ("node_vm_capable", "node1", "line 1 of ssconf_node_vm_capable: expected 'key=value'"),
    ("node_list", "a\n\nb", "line 2 of ssconf_node_list: empty line"),
    ("cluster_name", "x" * ssconf.MAX_SIZE, "exceeds the limit"),
])
def test_bad_values_are_refused_and_nothing_is_written(
        paths: pathutils.Paths, key: str, value: Any, message: str) -> None:
    values: dict[str, Any] = sample_values()
    values[key] = value
    with pytest.raises(errors.SsconfError) as err:
        ssconf.write_files(values, paths)
    assert message in str(err.value)
    assert not os.path.exists(paths.data_dir) or os.listdir(paths.data_dir) == []


def test_bad_values_leave_existing_files_alone(paths: pathutils.Paths) -> None:
    ssconf.write_files(sample_values(), paths)
    values = sample_values()
    values[ssconf.KEY_CLUSTER_NAME] = "renamed.example.com"
    values[ssconf.KEY_MASTER_IP] = "bad\nip"
    with pytest.raises(errors.SsconfError):
        ssconf.write_files(values, paths)
    assert ssconf.SimpleStore(paths).get_cluster_name() == "cluster.example.com"


# -- reading ------------------------------------------------------------------------

def test_round_trip_every_key(paths: pathutils.Paths) -> None:
    values = sample_values()
    ssconf.write_files(values, paths)
    store = ssconf.SimpleStore(paths)
    assert store.read_all() == values
    assert store.get_cluster_name() == "cluster.example.com"
    assert store.get_cluster_tags() == ["tag-a", "tag-b"]
    assert store.get_file_storage_dir() == "/srv/ganeti/file-storage"
    assert store.get_shared_file_storage_dir() == "/srv/ganeti/shared-file-storage"
    assert store.get_gluster_storage_dir() == ""
    assert store.get_master_candidates() == ["node1.example.com", "node2.example.com"]
    assert store.get_master_candidates_ips() == ["192.0.2.1", "192.0.2.2"]
    assert store.get_master_candidates_certs() == {"uuid-1": "AA:BB", "uuid-2": "CC:DD"}
    assert store.get_master_ip() == "192.0.2.100"
    assert store.get_master_netdev() == "eth0"
    assert store.get_master_netmask() == 24
    assert store.get_master_node() == "node1.example.com"
    assert store.get_node_list() == ["node1.example.com", "node2.example.com"]
    assert store.get_node_primary_ips() == {"node1.example.com": "192.0.2.1",
                                            "node2.example.com": "192.0.2.2"}
    assert store.get_node_secondary_ips() == {"node1.example.com": "198.51.100.1",
                                              "node2.example.com": "198.51.100.2"}
    assert store.get_node_vm_capable() == {"node1.example.com": True,
                                           "node2.example.com": False}
    assert store.get_offline_nodes() == []
    assert store.get_online_nodes() == ["node1.example.com", "node2.example.com"]
    assert store.get_primary_ip_family() == constants.IP4_FAMILY
    assert store.get_instance_list() == ["inst2.example.com", "inst10.example.com"]
    assert store.get_release_version() == "0.1.0"
    assert store.get_hypervisor_list() == ["kvm", "fake"]
    assert store.get_enabled_disk_templates() == ["plain", "file"]
    assert store.get_maintain_node_health() is False
    assert store.get_uid_pool() == [(1000, 1999), (3000, 3000)]
    assert store.get_nodegroups() == {GROUP_UUID: "default"}
    assert store.get_networks() == {NET_UUID: "net1"}
    assert store.get_enabled_user_shutdown() is True
    assert store.get_ssh_ports() == {"node1.example.com": 22, "node2.example.com": 2222}
    assert store.get_redistribute_files() == [("all", "/etc/foo.conf"),
                                              ("master-candidates", "/etc/bar")]
    assert store.get_hvparams("kvm") == {"acpi": "True", "kernel_path": "/boot/vmlinuz"}
    assert store.get_hvparams("fake") == {"migration_mode": "live"}


def test_default_paths_follow_ganeti_rootdir(tmp_path: Any,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pathutils.ROOTDIR_ENV, str(tmp_path))
    ssconf.write_files({ssconf.KEY_CLUSTER_NAME: "rooted.example.com"})
    assert os.path.exists(pathutils.for_root(str(tmp_path)).ssconf_file("cluster_name"))
    assert ssconf.SimpleStore().get_cluster_name() == "rooted.example.com"


def test_missing_file_names_the_file(paths: pathutils.Paths) -> None:
    with pytest.raises(errors.SsconfError) as err:
        ssconf.SimpleStore(paths).get_master_node()
    assert "ssconf_master_node is missing" in str(err.value)
    assert paths.ssconf_file("master_node") in str(err.value)


@pytest.mark.parametrize("key, text, getter, message", [
    ("node_primary_ips", "a 192.0.2.1\nb 192.0.2.2\nx\n", "get_node_primary_ips",
     "line 3 of ssconf_node_primary_ips: expected 'first second', got 'x'"),
    ("node_primary_ips", "a 1.1.1.1\na 2.2.2.2\n", "get_node_primary_ips",
     "ssconf_node_primary_ips: 'a' appears twice"),
    ("node_vm_capable", "a=yes\n", "get_node_vm_capable",
     "ssconf_node_vm_capable: expected 'True' or 'False', got 'yes'"),
    ("maintain_node_health", "maybe\n", "get_maintain_node_health",
     "ssconf_maintain_node_health: expected 'True' or 'False', got 'maybe'"),
    ("primary_ip_family", "inet\n", "get_primary_ip_family",
     "ssconf_primary_ip_family: expected an address family number, got 'inet'"),
    ("primary_ip_family", "7\n", "get_primary_ip_family",
     "ssconf_primary_ip_family: expected 2 (IPv4) or 10 (IPv6), got 7"),
    ("master_netmask", "255.255.255.0\n", "get_master_netmask",
     "ssconf_master_netmask: expected a netmask length, got '255.255.255.0'"),
    ("cluster_name", "a\nb\n", "get_cluster_name",
     "ssconf_cluster_name: expected a single line, got 2 lines"),
    ("cluster_name", "", "get_cluster_name", "ssconf_cluster_name is empty"),
    ("node_list", "a\n\nb\n", "get_node_list", "line 2 of ssconf_node_list: empty line"),
    ("uid_pool", "100-50\n", "get_uid_pool", "line 1 of ssconf_uid_pool: range '100-50'"),
    ("uid_pool", "1000\nabc\n", "get_uid_pool",
     "line 2 of ssconf_uid_pool: expected 'uid' or 'lower-upper', got 'abc'"),
    ("ssh_ports", "a=ssh\n", "get_ssh_ports", "ssconf_ssh_ports: expected a port number"),
    ("redistribute_files", "some /etc/x\n", "get_redistribute_files",
     "line 1 of ssconf_redistribute_files: expected '<all|master-candidates> <absolute"),
    ("redistribute_files", "all relative/path\n", "get_redistribute_files",
     "got 'all relative/path'"),
    ("cluster_name", "x" * (ssconf.MAX_SIZE + 1), "get_cluster_name",
     "is larger than the limit of %d bytes" % ssconf.MAX_SIZE),
])
def test_malformed_files_give_clear_errors(paths: pathutils.Paths, key: str, text: str,
                                           getter: str, message: str) -> None:
    write_raw(paths, key, text)
    with pytest.raises(errors.SsconfError) as err:
        getattr(ssconf.SimpleStore(paths), getter)()
    assert message in str(err.value)


def test_non_utf8_file_is_refused(paths: pathutils.Paths) -> None:
    os.makedirs(paths.data_dir)
    with open(paths.ssconf_file("cluster_name"), "wb") as handle:
        handle.write(b"\xff\xfe\n")
    with pytest.raises(errors.SsconfError, match=r"ssconf_cluster_name .* is not valid UTF-8"):
        ssconf.SimpleStore(paths).get_cluster_name()


def test_unknown_hypervisor_is_refused(paths: pathutils.Paths) -> None:
    with pytest.raises(errors.SsconfError, match="unknown hypervisor 'vmware'"):
        ssconf.SimpleStore(paths).get_hvparams("vmware")


def test_values_ending_with_a_newline_are_accepted(paths: pathutils.Paths) -> None:
    # Ganeti's master ends hvparams values with a newline.
    ssconf.write_files({ssconf.hvparams_key("fake"): "migration_mode=live\n",
                        ssconf.KEY_CLUSTER_NAME: "c.example.com\n"}, paths)
    with open(paths.ssconf_file("hvparams_fake"), encoding="utf-8") as handle:
        assert handle.read() == "migration_mode=live\n"
    store = ssconf.SimpleStore(paths)
    assert store.get_hvparams("fake") == {"migration_mode": "live"}
    assert store.get_cluster_name() == "c.example.com"


def test_file_without_trailing_newline_reads_the_same(paths: pathutils.Paths) -> None:
    write_raw(paths, "node_list", "a\nb")
    assert ssconf.SimpleStore(paths).get_node_list() == ["a", "b"]


# -- helpers ------------------------------------------------------------------------

def test_nice_sort_orders_numbers_naturally() -> None:
    names = ["node10", "node2", "node1", "node1a", "alpha", "node02x"]
    assert sorted(names, key=ssconf.nice_sort_key) == [
        "alpha", "node1", "node1a", "node2", "node02x", "node10"]


def test_uid_pool_format() -> None:
    assert ssconf.format_uid_pool([[1000, 1999], [3000, 3000]]) == ["1000-1999", "3000"]
    assert ssconf.format_uid_pool([]) == []


# -- computing from a configuration ---------------------------------------------------

def _node(name: str, ip_suffix: int, **extra: Any) -> dict[str, Any]:
    data = {
        "uuid": NODE_UUIDS[name], "name": name, "primary_ip": "192.0.2.%d" % ip_suffix,
        "secondary_ip": "198.51.100.%d" % ip_suffix, "master_candidate": False,
        "offline": False, "drained": False, "group": GROUP_UUID, "master_capable": True,
        "vm_capable": True, "ndparams": {}, "powered": True, "tags": [],
        "serial_no": 1, "ctime": 0.0, "mtime": 0.0,
    }
    data.update(extra)
    return data


def _instance(uuid: str, name: str) -> dict[str, Any]:
    return {"uuid": uuid, "name": name, "primary_node": NODE_UUIDS["node1.example.com"],
            "os": "debootstrap+default", "hypervisor": "fake", "hvparams": {},
            "beparams": {}, "osparams": {}, "admin_state": "up", "nics": [], "disks": [],
            "disks_active": True, "tags": [], "serial_no": 1, "ctime": 0.0, "mtime": 0.0}


def sample_config_dict() -> dict[str, Any]:
    master = NODE_UUIDS["node1.example.com"]
    return {
        "version": constants.CONFIG_VERSION,
        "cluster": {
            "cluster_name": "cluster.example.com",
            "master_node": master,
            "master_ip": "192.0.2.100",
            "master_netdev": "eth0",
            "master_netmask": 24,
            "enabled_hypervisors": ["fake", "kvm"],
            "enabled_disk_templates": ["file", "plain"],
            "file_storage_dir": "/srv/ganeti/file-storage",
            "shared_file_storage_dir": "/srv/ganeti/shared-file-storage",
            "gluster_storage_dir": "",
            "tags": ["zeta", "alpha"],
            "maintain_node_health": True,
            "uid_pool": [[1000, 1999], [4000, 4000]],
            "primary_ip_family": 2,
            "hvparams": {"kvm": {"kernel_path": "/boot/custom-vmlinuz"}, "fake": {}},
            "ndparams": {"ssh_port": 22},
            "candidate_certs": {master: "AB:CD"},
            "enabled_user_shutdown": False,
            "redistribute_files": [{"path": "/etc/extra.conf", "nodes": "all"}],
            "serial_no": 3, "ctime": 0.0, "mtime": 0.0,
        },
        "nodes": {
            NODE_UUIDS["node10.example.com"]: _node("node10.example.com", 10, offline=True,
                                                    vm_capable=False),
            NODE_UUIDS["node2.example.com"]: _node("node2.example.com", 2,
                                                   master_candidate=True,
                                                   secondary_ip=None,
                                                   ndparams={"ssh_port": 2222}),
            master: _node("node1.example.com", 1, master_candidate=True),
        },
        "nodegroups": {GROUP_UUID: {"uuid": GROUP_UUID, "name": "default", "ndparams": {},
                                    "serial_no": 1, "ctime": 0.0, "mtime": 0.0}},
        "instances": {
            "i-10": _instance("i-10", "inst10.example.com"),
            "i-9": _instance("i-9", "inst9.example.com"),
            "i-1": _instance("i-1", "inst1.example.com"),
        },
        "networks": {NET_UUID: {"uuid": NET_UUID, "name": "net1", "network": "10.0.0.0/24",
                                "serial_no": 1, "ctime": 0.0, "mtime": 0.0}},
        "disks": {},
        "filters": {},
        "serial_no": 7, "ctime": 0.0, "mtime": 0.0,
    }


def _config_data(data: dict[str, Any]) -> objects.ConfigData:
    return objects.ConfigData.from_dict(data)


def test_compute_values_from_a_configuration(paths: pathutils.Paths) -> None:
    values = ssconf.compute_values(_config_data(sample_config_dict()))
    assert values[ssconf.KEY_CLUSTER_NAME] == "cluster.example.com"
    assert values[ssconf.KEY_MASTER_NODE] == "node1.example.com"
    assert values[ssconf.KEY_MASTER_NETMASK] == "24"
    assert values[ssconf.KEY_NODE_LIST] == (
        "node1.example.com\nnode2.example.com\nnode10.example.com")
    assert values[ssconf.KEY_NODE_PRIMARY_IPS] == (
        "node1.example.com 192.0.2.1\nnode2.example.com 192.0.2.2\n"
        "node10.example.com 192.0.2.10")
    # A node without a secondary address uses its primary one.
    assert values[ssconf.KEY_NODE_SECONDARY_IPS] == (
        "node1.example.com 198.51.100.1\nnode2.example.com 192.0.2.2\n"
        "node10.example.com 198.51.100.10")
    assert values[ssconf.KEY_NODE_VM_CAPABLE] == (
        "node1.example.com=True\nnode2.example.com=True\nnode10.example.com=False")
    assert values[ssconf.KEY_MASTER_CANDIDATES] == "node1.example.com\nnode2.example.com"
    assert values[ssconf.KEY_MASTER_CANDIDATES_IPS] == "192.0.2.1\n192.0.2.2"
    assert values[ssconf.KEY_MASTER_CANDIDATES_CERTS] == (
        "%s=AB:CD" % NODE_UUIDS["node1.example.com"])
    assert values[ssconf.KEY_ONLINE_NODES] == "node1.example.com\nnode2.example.com"
    assert values[ssconf.KEY_OFFLINE_NODES] == "node10.example.com"
    assert values[ssconf.KEY_INSTANCE_LIST] == (
        "inst1.example.com\ninst9.example.com\ninst10.example.com")
    assert values[ssconf.KEY_CLUSTER_TAGS] == "alpha\nzeta"
    assert values[ssconf.KEY_HYPERVISOR_LIST] == "fake\nkvm"
    assert values[ssconf.KEY_ENABLED_DISK_TEMPLATES] == "file\nplain"
    assert values[ssconf.KEY_MAINTAIN_NODE_HEALTH] == "True"
    assert values[ssconf.KEY_ENABLED_USER_SHUTDOWN] == "False"
    assert values[ssconf.KEY_PRIMARY_IP_FAMILY] == "2"
    assert values[ssconf.KEY_UID_POOL] == "1000-1999\n4000"
    assert values[ssconf.KEY_NODEGROUPS] == "%s default" % GROUP_UUID
    assert values[ssconf.KEY_NETWORKS] == "%s net1" % NET_UUID
    assert values[ssconf.KEY_RELEASE_VERSION] == constants.RELEASE_VERSION
    assert values[ssconf.KEY_SSH_PORTS] == (
        "node1.example.com=22\nnode2.example.com=2222\nnode10.example.com=22")
    assert values[ssconf.KEY_REDISTRIBUTE_FILES] == "all /etc/extra.conf"
    assert set(k for k in values if k.startswith(ssconf.HVPARAMS_PREFIX)) == {
        "hvparams_fake", "hvparams_kvm"}

    # The files written from these values read back as the configuration says.
    ssconf.write_files(values, paths)
    store = ssconf.SimpleStore(paths)
    assert store.get_master_candidates() == ["node1.example.com", "node2.example.com"]
    assert store.get_node_vm_capable()["node10.example.com"] is False
    assert store.get_maintain_node_health() is True
    kvm = store.get_hvparams("kvm")
    assert kvm["kernel_path"] == "/boot/custom-vmlinuz"
    assert len(kvm) > 1  # defaults are filled in, not only the cluster's overrides
    assert store.get_uid_pool() == [(1000, 1999), (4000, 4000)]


def test_compute_values_with_an_unknown_master_fails_clearly() -> None:
    data = sample_config_dict()
    data["cluster"]["master_node"] = "no-such-uuid"
    with pytest.raises(errors.ConfigurationError, match="master_node 'no-such-uuid'"):
        ssconf.compute_values(_config_data(data))


def test_compute_values_refuses_a_tag_with_a_newline() -> None:
    data = sample_config_dict()
    data["cluster"]["tags"] = ["fine", "bad\ntag"]
    with pytest.raises(errors.SsconfError, match=r"ssconf key .cluster_tags.: item .bad.ntag."):
        ssconf.compute_values(_config_data(data))


def test_compute_values_from_a_ganeti_config_file(paths: pathutils.Paths) -> None:
    if not os.path.exists(GANETI_CONFIG):
        pytest.skip("no sample Ganeti config.data in test/data")
    with open(GANETI_CONFIG, encoding="utf-8") as handle:
        config_data = _config_data(serializer.load(handle.read()))
    values = ssconf.compute_values(config_data)
    ssconf.write_files(values, paths)
    store = ssconf.SimpleStore(paths)
    names = sorted(node.name for node in config_data.nodes.values())
    assert sorted(store.get_node_list()) == names
    assert store.get_master_node() == config_data.nodes[config_data.cluster.master_node].name
    assert sorted(store.get_instance_list()) == sorted(
        instance.name for instance in config_data.instances.values())
    assert store.get_nodegroups() == {uuid: group.name
                                      for uuid, group in config_data.nodegroups.items()}
    assert store.get_hypervisor_list() == list(config_data.cluster.enabled_hypervisors)
