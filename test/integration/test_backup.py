"""gnt-backup export/import/list/remove (and their RAPI paths) on a real 3-node cluster.

The "diskcopy" test OS dumps a disk's raw bytes and writes them back, so the
bytes written into an instance's disk must come back in the imported
instance; the "recorder" OS shows the export/import scripts' environment.
"""

from __future__ import annotations

import configparser
import os
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest
from instance_cluster import Gnt, running_instance_cluster
from test_rapi_helpers import USERS, RapiCluster

from ganeti import constants

_ADD = ("gnt-instance", "add", "--no-name-check", "--no-ip-check")
_IMPORT = ("gnt-backup", "import", "--no-name-check", "--no-ip-check")
_MIB = 1024 * 1024


@pytest.fixture(scope="module")
def gnt() -> Iterator[Gnt]:
    with running_instance_cluster() as runner:
        yield runner


@pytest.fixture(scope="module")
def rapi(gnt: Gnt) -> RapiCluster:
    """The local cluster's own ganeti-rapi, with the test users."""
    shim = SimpleNamespace(nodes=SimpleNamespace(master=gnt.cluster.master))
    server = RapiCluster(cast(Any, shim), constants.DEFAULT_RAPI_PORT)
    server.write_users(USERS)
    for _ in range(200):
        if server.call("GET", "/2/features").status == 200:
            return server
        time.sleep(0.05)
    raise AssertionError("ganeti-rapi did not accept the test users")


def _export_dir(gnt: Gnt, node: int, name: str = "") -> str:
    return os.path.join(gnt.paths(node).export_dir, name)


def _exports(gnt: Gnt, *argv: str) -> list[list[str]]:
    return gnt.rows("gnt-backup", "list", *argv)


def _config_ini(gnt: Gnt, node: int, name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    assert parser.read(os.path.join(_export_dir(gnt, node, name), "config.ini"))
    return parser


def _image(gnt: Gnt, instance: str) -> str:
    files = gnt.files_of(instance)
    assert len(files) == 1, files
    return files[0]


def _mac(gnt: Gnt, instance: str) -> str:
    return gnt.rows("gnt-instance", "list", "-o", "nic.mac/0", instance)[0][0]


def test_bytes_round_trip_through_export_and_import(gnt: Gnt) -> None:
    node1, node2, node3 = (gnt.node_name(i) for i in (1, 2, 3))
    gnt(*_ADD, "-t", "file", "--disk", "0:size=8", "-o", "diskcopy", "-n", node1,
        "-B", "maxmem=96,minmem=64,vcpus=2", "--tags", "blue,green", "bk1")
    pattern = os.urandom(_MIB) + b"the middle" + os.urandom(4096)
    with open(_image(gnt, "bk1"), "r+b") as handle:
        handle.seek(3 * _MIB)
        handle.write(pattern)
    with open(_image(gnt, "bk1"), "rb") as handle:
        original = handle.read()
    assert len(original) == 8 * _MIB
    mac = _mac(gnt, "bk1")

    out = gnt("gnt-backup", "export", "-n", node2, "bk1").stdout
    assert "Shutting down instance bk1" in out and "Starting instance bk1" in out
    assert "disk/0: %d bytes dumped (the script announced %d)" % (8 * _MIB, 8 * _MIB) in out
    assert "disk/0: 100%% copied to %s" % node2 in out
    assert gnt.instances()["bk1"]["status"] == "running"
    # The export on node 2: config.ini (Ganeti's format) and the disk's dump.
    ini = _config_ini(gnt, 2, "bk1")
    assert ini["export"]["version"] == "0" and ini["export"]["os"] == "diskcopy"
    assert ini["export"]["source"] == node1 and ini["export"]["compression"] == "none"
    inst = ini["instance"]
    assert (inst["name"], inst["disk_count"], inst["disk0_size"], inst["nic_count"]) == \
        ("bk1", "1", "8", "1")
    assert (inst["maxmem"], inst["minmem"], inst["vcpus"]) == ("96", "64", "2")
    assert inst["disk_template"] == "file" and inst["tags"] == "blue green"
    assert inst["nic0_mac"] == mac and inst["hypervisor"] == "fake"
    assert ini["backend"]["maxmem"] == "96"
    with open(_export_dir(gnt, 2, "bk1/" + inst["disk0_dump"]), "rb") as handle:
        assert handle.read() == original
    # Nothing is left behind: no staging directories on the primary or the target.
    assert os.listdir(_export_dir(gnt, 2)) == ["bk1"]
    assert not os.path.exists(_export_dir(gnt, 1)) or os.listdir(_export_dir(gnt, 1)) == []
    assert _exports(gnt) == [[node2, "bk1"]]
    assert _exports(gnt, "--node", node1) == []

    # A new export elsewhere replaces the older one.
    gnt("gnt-backup", "export", "-n", node3, "bk1")
    assert _exports(gnt) == [[node3, "bk1"]]
    assert not os.path.exists(_export_dir(gnt, 2, "bk1"))

    gnt("gnt-instance", "remove", "-f", "bk1")
    out = gnt(*_IMPORT, "-n", node2, "--src-node", node3, "bk1").stdout
    assert "disk/0: 100%% copied to %s" % node2 in out
    assert gnt.instances()["bk1"] == {"status": "running", "admin_state": "up",
                                       "pnode": node2}
    with open(_image(gnt, "bk1"), "rb") as handle:
        assert handle.read() == original
    # What the export said: memory, vcpus, tags, template, the same MAC.
    row = gnt.rows("gnt-instance", "list", "-o",
                   "be/maxmem,be/minmem,be/vcpus,tags,disk_template,os", "bk1")[0]
    assert row == ["96", "64", "2", "blue,green", "file", "diskcopy"]
    assert _mac(gnt, "bk1") == mac
    # The export stays until it is removed; its staging copy on node 2 is gone.
    assert _exports(gnt) == [[node3, "bk1"]]
    assert not os.path.exists(_export_dir(gnt, 2)) or os.listdir(_export_dir(gnt, 2)) == []

    gnt("gnt-backup", "remove", "bk1")
    assert _exports(gnt) == []
    assert not os.path.exists(_export_dir(gnt, 3, "bk1"))
    gnt("gnt-instance", "remove", "-f", "bk1")


def test_script_environment_noshutdown_and_remove_instance(gnt: Gnt) -> None:
    node1, node3 = gnt.node_name(1), gnt.node_name(3)
    gnt(*_ADD, "-t", "file", "--disk", "0:size=4", "--disk", "1:size=4", "-o",
        "recorder+default", "-O", "flavour=blue", "-n", node1, "rec1")
    out = gnt("gnt-backup", "export", "--noshutdown", "-n", node1, "rec1").stdout
    assert "Shutting down" not in out and "may be inconsistent" in out
    assert gnt.instances()["rec1"]["status"] == "running"
    env = gnt.recorded_env(1, "recorder", "export", "rec1")  # the last disk's run
    assert env["EXPORT_INDEX"] == "1" and env["EXPORT_DEVICE"] == env["EXPORT_DISK_PATH"]
    assert env["EXPORT_DEVICE"] == env["DISK_1_PATH"] and env["EXP_SIZE_FD"].isdigit()
    assert (env["OS_NAME"], env["INSTANCE_NAME"], env["DISK_COUNT"]) == \
        ("recorder", "rec1", "2")
    assert env["OSP_FLAVOUR"] == "blue" and env["OS_VARIANT"] == "default"
    assert _exports(gnt) == [[node1, "rec1"]]

    # Imported under another name (the original keeps its MAC: a new one is asked).
    gnt(*_IMPORT, "-n", node3, "--src-node", node1, "--src-dir", "rec1",
        "--net", "0:mac=generate", "--no-start", "rec2")
    assert gnt.instances()["rec2"] == {"status": "ADMIN_down", "admin_state": "down",
                                       "pnode": node3}
    env = gnt.recorded_env(3, "recorder", "import", "rec2")
    assert env["IMPORT_INDEX"] == "1" and env["IMPORT_DEVICE"] == env["DISK_1_PATH"]
    assert env["IMPORT_DISK_PATH"] == env["IMPORT_DEVICE"] and env["OSP_FLAVOUR"] == "blue"
    assert "EXP_SIZE_FD" not in env
    rename = gnt.recorded_env(3, "recorder", "rename", "rec2")
    assert rename["OLD_INSTANCE_NAME"] == "rec1"
    assert gnt.rows("gnt-instance", "list", "-o", "disk.count,osparams", "rec2")[0] == \
        ["2", "flavour=blue"]

    # --remove-instance: exported, then gone.
    out = gnt("gnt-backup", "export", "--remove-instance", "-n", node1, "rec2").stdout
    assert "Removing instance rec2" in out
    assert "rec2" not in gnt.instances() and gnt.files_of("rec2") == []
    assert _exports(gnt) == [[node1, "rec1"], [node1, "rec2"]]
    # A removed instance's export is removed by its full name.
    gnt("gnt-backup", "remove", "rec2")
    gnt("gnt-backup", "remove", "rec1")
    assert _exports(gnt) == []
    gnt("gnt-instance", "remove", "-f", "rec1")


def test_bad_input_changes_nothing(gnt: Gnt) -> None:
    node1, node2 = gnt.node_name(1), gnt.node_name(2)
    gnt(*_ADD, "-t", "file", "--disk", "0:size=4", "-o", "diskcopy", "-n", node1, "bad1")
    before = gnt.config()["instances"]
    for argv, message in (
            (["-n", "nosuchnode"], "Node 'nosuchnode' is not known"),
            (["-n", node2, "--transport-compression", "gzip"], "Compression 'gzip'"),
            (["-n", node2, "--noshutdown", "--remove-instance"], "without shutting it"),
            (["-n", node2, "--zero-free-space"], "zero-free-space"),
            ([], "Target node must be specified")):
        output = gnt.fails("gnt-backup", "export", *argv, "bad1")
        assert message in output, (argv, output)
    assert gnt.fails("gnt-backup", "export", "-n", node2, "nosuchinstance") \
        .count("nosuchinstance")
    for argv, message in (
            (["-n", node2, "nothere"], "No export found for relative path nothere"),
            (["-n", node2, "--src-node", node1, "nothere"], "No export or invalid export"),
            (["-n", node2, "--src-node", node1, "--src-dir", "../etc", "x"],
             "Invalid source directory '../etc'"),
            (["-n", node2, "--src-dir", "/etc/x", "x"], "not below the export directory")):
        output = gnt.fails(*_IMPORT, *argv)
        assert message in output, (argv, output)
    assert gnt.config()["instances"] == before
    assert _exports(gnt) == []
    assert gnt.instances()["bad1"]["status"] == "running"
    output = gnt.fails("gnt-backup", "list", "-o", "node,nosuchfield")
    assert "nosuchfield" in output
    fields = gnt.rows("gnt-backup", "list-fields")
    assert [row[0] for row in fields] == ["export", "node"]
    gnt("gnt-instance", "remove", "-f", "bad1")


def test_rapi_export_prepare_remove_and_import(gnt: Gnt, rapi: RapiCluster) -> None:
    node1, node2, node3 = (gnt.node_name(i) for i in (1, 2, 3))
    gnt(*_ADD, "-t", "file", "--disk", "0:size=4", "-o", "diskcopy", "-n", node1, "ra1")
    job = rapi.wait_job(int(rapi.ok("PUT", "/2/instances/ra1/prepare-export?mode=local")))
    assert job["status"] == "success" and job["opresult"] == [None]
    job = rapi.wait_job(int(rapi.ok("PUT", "/2/instances/ra1/prepare-export?mode=remote")))
    assert job["status"] == "error" and "not supported" in str(job["opresult"])

    job = rapi.wait_job(int(rapi.ok("PUT", "/2/instances/ra1/export",
                                    {"destination": node2, "mode": "local"})))
    assert job["status"] == "success", job
    assert job["opresult"] == [[True, [True]]]
    assert rapi.ok("PUT", "/2/query/export", {"fields": ["node", "export"]})["data"] == \
        [[[0, node2], [0, "ra1"]]]
    gnt("gnt-instance", "remove", "-f", "ra1")

    body = {"__version__": 1, "mode": "import", "name": "ra1", "src_node": node2, "pnode": node3,
            "name_check": False, "ip_check": False, "disks": [], "nics": []}
    job = rapi.wait_job(int(rapi.ok("POST", "/2/instances", body)))
    assert job["status"] == "success", job
    assert gnt.instances()["ra1"]["pnode"] == node3

    job = rapi.wait_job(int(rapi.ok("DELETE", "/2/instances/ra1/export")))
    assert job["status"] == "success", job
    assert _exports(gnt) == []
    gnt("gnt-instance", "remove", "-f", "ra1")
