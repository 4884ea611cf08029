"""gnt-backup pieces without a cluster: the node's export files and scripts, the
export's config.ini format, and import's --src-dir rules."""

from __future__ import annotations

import os

import pytest
from test_backend_os import MIB, make_instance, write_os

from ganeti import constants, errors, objects, pathutils
from ganeti.backend import export
from ganeti.cmdlib import export_support as es
from ganeti.cmdlib import instance_import

EXPORT = """#!/bin/sh
env > "$(pwd)/export.env"
echo 4096 > "/dev/fd/$EXP_SIZE_FD"
head -c 4096 "$EXPORT_DEVICE"
"""
IMPORT = """#!/bin/sh
env > "$(pwd)/import.env"
dd of="$IMPORT_DEVICE" conv=notrunc status=none
"""
FAILING_EXPORT = """#!/bin/sh
echo "half a dump"
echo "the tape broke" >&2
exit 4
"""


@pytest.fixture
def node(tmp_path, monkeypatch) -> pathutils.Paths:
    """A node root of its own (as test_backend_os's), with an OS search directory."""
    root = tmp_path / "node"
    root.mkdir()
    monkeypatch.setenv(pathutils.ROOTDIR_ENV, str(root))
    monkeypatch.setenv("SOME_LEAKY_VARIABLE", "should-not-reach-scripts")
    paths = pathutils.for_root(str(root))
    os.makedirs(paths.os_search_path[0])
    return paths


def _env(path: str) -> dict[str, str]:
    with open(path) as handle:
        return dict(line.rstrip("\n").split("=", 1) for line in handle if "=" in line)


def test_export_and_import_scripts_move_the_bytes(node: pathutils.Paths) -> None:
    os_dir = write_os(node, "debootstrap", scripts={"export": EXPORT, "import": IMPORT})
    instance = make_instance(node)
    image = instance["disks"][0]["logical_id"][1]
    with open(image, "r+b") as handle:
        handle.write(b"A" * 4096)
    written = export.export_disk(instance, 0, "web1.new", "disk-uuid", 0)
    assert written == {"size": 4096, "predicted": 4096}
    dump = os.path.join(node.export_dir, "web1.new", "disk-uuid")
    with open(dump, "rb") as handle:
        assert handle.read() == b"A" * 4096
    env = _env(os.path.join(os_dir, "export.env"))
    assert env["EXPORT_DEVICE"] == env["EXPORT_DISK_PATH"] == image
    assert env["EXPORT_INDEX"] == "0" and env["OSP_DIST"] == "bookworm"
    assert "SOME_LEAKY_VARIABLE" not in env

    with open(image, "r+b") as handle:
        handle.write(b"\0" * 4096)
    export.import_disk(instance, 0, "web1.new", "disk-uuid", 0)
    with open(image, "rb") as handle:
        assert handle.read(4097) == b"A" * 4096 + b"\0"
    env = _env(os.path.join(os_dir, "import.env"))
    assert env["IMPORT_DEVICE"] == env["IMPORT_DISK_PATH"] == image
    assert env["IMPORT_INDEX"] == "0" and "EXP_SIZE_FD" not in env


def test_failing_export_leaves_no_dump_and_names_the_log(node: pathutils.Paths) -> None:
    write_os(node, "debootstrap", scripts={"export": FAILING_EXPORT})
    instance = make_instance(node)
    with pytest.raises(errors.OpExecError, match="exited with code 4") as failure:
        export.export_disk(instance, 0, "web1.new", "disk-uuid", 0)
    assert "the tape broke" in str(failure.value)
    assert not os.path.exists(os.path.join(node.export_dir, "web1.new", "disk-uuid"))
    with pytest.raises(errors.ExportError, match="has no disk 3"):
        export.export_disk(instance, 3, "web1.new", "x", 0)


def test_listing_finalizing_chunks_and_removal(node: pathutils.Paths) -> None:
    assert export.export_list() == []  # no export directory yet
    export.export_write_chunk("web1.new", "d0", 0, "aGVsbG8=")
    export.export_write_chunk("web1.new", "d0", 5, "IHdvcmxk")
    assert export.export_file_size("web1.new", "d0") == 11
    assert export.export_read_chunk("web1.new", "d0", 6, 100) == "d29ybGQ="
    assert export.export_read_chunk("web1.new", "d0", 11, 100) == ""
    os.makedirs(os.path.join(node.export_dir, ".staging-web1"))
    export.finalize_export("web1", "[export]\nversion = 0\n")
    assert export.export_list() == ["web1"]  # staging directories are not listed
    assert export.export_info("web1") == "[export]\nversion = 0\n"
    with pytest.raises(errors.ExportError, match="No export found"):
        export.export_info("web2")
    export.export_remove("web1/d0")
    assert os.listdir(os.path.join(node.export_dir, "web1")) == ["config.ini"]
    export.export_remove("web1")
    export.export_remove("web1")  # a missing export is no error
    assert export.export_list() == []


@pytest.mark.parametrize("path", ["../etc", "/etc/passwd", "", "a/../../b", "web1/../.."])
def test_paths_stay_in_the_export_directory(node: pathutils.Paths, path: str) -> None:
    with pytest.raises(errors.ExportError):
        export.resolve(path)
    with pytest.raises(errors.ExportError):
        export.export_remove(path)


def test_symlinks_cannot_lead_out(node: pathutils.Paths, tmp_path) -> None:
    os.makedirs(node.export_dir)
    os.symlink(str(tmp_path), os.path.join(node.export_dir, "escape"))
    with pytest.raises(errors.ExportError, match="leads outside"):
        export.export_write_chunk("escape", "x", 0, "")
    assert not os.path.exists(tmp_path / "x")


class _Cfg:
    """The little of ConfigWriter that build_config reads."""

    def __init__(self, cluster: objects.Cluster, disks: list[objects.Disk]) -> None:
        self.cluster, self.disks = cluster, disks

    def get_cluster_info(self) -> objects.Cluster:
        return self.cluster

    def get_instance_disks(self, uuid: str) -> list[objects.Disk]:
        return self.disks

    def find_node(self, name: str) -> None:
        return None


def test_config_ini_round_trip() -> None:
    cluster = objects.Cluster(enabled_hypervisors=[constants.HT_FAKE])
    disks = [objects.Disk(uuid="d-uuid", dev_type=constants.DT_FILE, size=512, name="root",
                          iv_name="disk/0", logical_id=[constants.FD_LOOP, "/x"],
                          nodes=["n1"], params={}, mode="rw")]
    inst = objects.Instance(
        uuid="i-uuid", name="web1.example.com", primary_node="n1", os="deb+alt",
        hypervisor=constants.HT_FAKE, hvparams={}, beparams={"maxmem": 300, "vcpus": 2},
        osparams={"dist": "bookworm"}, osparams_private={"key": "100%"},
        nics=[objects.NIC(uuid="n-uuid", mac="aa:00:00:00:00:01", ip=None,
                          nicparams={"mode": "bridged", "link": "br0"})],
        disks=["d-uuid"], tags=["a", "b"], admin_state="up")
    text = es.build_config(_Cfg(cluster, disks), inst, disks, ["d-uuid"])
    assert "[export]\nversion = 0\n" in text and "nic0_ip = None\n" in text
    config = es.parse_config(text, "node1:web1")
    assert (config.os, config.name, config.hypervisor, config.disk_template) == \
        ("deb+alt", "web1.example.com", constants.HT_FAKE, constants.DT_FILE)
    assert config.tags == ["a", "b"]
    assert config.disks == [{"size": 512, "name": "root", "dump": "d-uuid"}]
    assert config.nics == [{"mac": "aa:00:00:00:00:01", "ip": None, "name": None,
                            "network": None, "mode": "bridged", "link": "br0",
                            "vlan": None}]
    assert config.beparams["maxmem"] == "300" and config.beparams["vcpus"] == "2"
    assert config.osparams == {"dist": "bookworm"}
    assert config.osparams_private == {"key": "100%"}
    assert "migration_mode" not in config.hvparams  # cluster-wide: not exported


@pytest.mark.parametrize(("text", "message"), [
    ("[instance]\nname = x\n", r"no \[export\] section"),
    ("[export]\nversion = 1\nos = d\n[instance]\nname = x\n", "version 1"),
    ("[export]\nversion = 0\n[instance]\nname = x\n", "names no OS"),
    ("[export]\nversion = 0\nos = d\n[instance]\nname = x\ndisk0_size = big\n",
     "disk0_size is 'big'"),
    ("not an ini file", "unreadable config.ini"),
])
def test_bad_config_ini_is_named(text: str, message: str) -> None:
    with pytest.raises(errors.OpPrereqError, match=message):
        es.parse_config(text, "node1:x")


def test_source_directory_rules() -> None:
    base = pathutils.for_root("/").export_dir
    assert instance_import._relative_path("web1") == "web1"
    assert instance_import._relative_path(base + "/web1/") == "web1"
    for bad, message in (("../etc", "Invalid source directory"),
                         ("/etc/web1", "not below the export directory"),
                         (base, "not below")):
        with pytest.raises(errors.OpPrereqError, match=message):
            instance_import._relative_path(bad)
    assert MIB  # the shared helpers' size unit
