"""Moving instances off nodes and groups on a real 3-node cluster (fake hypervisor):
gnt-node migrate/evacuate (built-in allocator and hail), gnt-instance change-group,
gnt-group evacuate, gnt-instance migrate --cleanup, multi-allocation through RAPI
and gnt-instance batch-create."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest
from ops_cluster import config, gnt, instance_rows, node_names, ops_cluster_up
from test_rapi_helpers import USERS, RapiCluster

from ganeti import constants, serializer
from ganeti.tools.local_cluster import LocalCluster
from ganeti.utils import io

_HAIL = "/usr/lib/ganeti/3.0/usr/lib/ganeti/iallocators/hail"
_ADD = ("gnt-instance", "add", "--no-name-check", "--no-ip-check", "-o", "recorder+default")
_SHARED = ("-t", "sharedfile", "--disk", "0:size=16")
_FILE = ("-t", "file", "--disk", "0:size=4")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    yield from ops_cluster_up(tmp_path_factory)


def _state_file(cluster: LocalCluster, node: str, instance: str) -> str:
    paths = cluster.node(node.split(".")[0]).paths
    return os.path.join(paths.hypervisor_state_dir("fake"), instance + ".running")


def _runs_on(cluster: LocalCluster, instance: str) -> list[str]:
    """The nodes whose fake hypervisor runs ``instance`` (its state files)."""
    return [node for node in node_names(cluster)
            if os.path.exists(_state_file(cluster, node, instance))]


def _remove_all(cluster: LocalCluster) -> None:
    for name in instance_rows(cluster):
        gnt(cluster, "gnt-instance", "remove", "-f", name)


def _config_bytes(cluster: LocalCluster) -> bytes:
    with open(cluster.master.paths.config_file, "rb") as handle:
        return handle.read()


def _install_hail(cluster: LocalCluster) -> None:
    directory = cluster.master.paths.iallocator_search_path[0]
    os.makedirs(directory, exist_ok=True)
    link = os.path.join(directory, "hail")
    if not os.path.lexists(link):
        os.symlink(_HAIL, link)


# -- gnt-node migrate ---------------------------------------------------------------------

def test_node_migrate_moves_every_primary(cluster: LocalCluster) -> None:
    first, second, third = node_names(cluster)
    gnt(cluster, *_ADD, *_SHARED, "-n", first, "nm1")
    gnt(cluster, *_ADD, "-t", "diskless", "-n", first, "nm2")
    gnt(cluster, *_ADD, "-t", "diskless", "-n", second, "nm3")
    out = gnt(cluster, "gnt-node", "migrate", "-f", first).stdout
    assert "All instances migrated successfully." in out
    rows = instance_rows(cluster)
    for name in ("nm1", "nm2"):
        pnode, status = rows[name]
        assert pnode in (second, third) and status == "running"
        assert _runs_on(cluster, name) == [pnode]
    assert rows["nm3"] == [second, "running"]
    assert "migrating instance to" in out
    out = gnt(cluster, "gnt-node", "migrate", "-f", first).stdout
    assert "No primary instances on node %s, exiting." % first in out

    # A given target: every primary of the second node goes there.
    gnt(cluster, "gnt-node", "migrate", "-f", "-n", third, second)
    assert {name: row[0] for name, row in instance_rows(cluster).items()} == \
        dict.fromkeys(("nm1", "nm2", "nm3"), third)
    assert sorted(n for n in ("nm1", "nm2", "nm3") if _runs_on(cluster, n) == [third]) == \
        ["nm1", "nm2", "nm3"]

    # An offline target: every migration job fails, nothing moves.
    gnt(cluster, "gnt-node", "modify", "-O", "yes", second)
    try:
        before = instance_rows(cluster)
        refused = gnt(cluster, "gnt-node", "migrate", "-f", "-n", second, third, ok=False)
        assert "There were 3 errors during the node migration." in refused.stdout
        assert "offline" in refused.stderr
        assert instance_rows(cluster) == before
        refused = gnt(cluster, "gnt-node", "migrate", "-f", "nosuchnode", ok=False)
        assert "Node 'nosuchnode' is not known" in refused.stderr
        refused = gnt(cluster, "gnt-node", "migrate", "-f", "-n", third, third, ok=False)
        assert "to the node itself" in refused.stderr
        assert instance_rows(cluster) == before
    finally:
        gnt(cluster, "gnt-node", "modify", "-O", "no", second)
    _remove_all(cluster)


# -- gnt-node evacuate --------------------------------------------------------------------

def test_node_evacuate_with_the_builtin_allocator(cluster: LocalCluster) -> None:
    first, second, third = node_names(cluster)
    gnt(cluster, *_ADD, *_SHARED, "-n", second, "ev1")
    gnt(cluster, *_ADD, "-t", "diskless", "-n", second, "ev2")
    gnt(cluster, "gnt-instance", "shutdown", "ev2")
    # The third node is offline: the allocator must not choose it.
    gnt(cluster, "gnt-node", "modify", "-O", "yes", third)
    try:
        out = gnt(cluster, "gnt-node", "evacuate", "-f", "-p", second).stdout
    finally:
        gnt(cluster, "gnt-node", "modify", "-O", "no", third)
    assert "All instances evacuated successfully." in out
    assert "Instances to be moved: ev1 (to %s), ev2 (to %s)" % (first, first) in out
    rows = instance_rows(cluster)
    assert rows["ev1"] == [first, "running"] and rows["ev2"] == [first, "ADMIN_down"]
    assert _runs_on(cluster, "ev1") == [first] and _runs_on(cluster, "ev2") == []
    out = gnt(cluster, "gnt-node", "evacuate", "-f", second)
    assert "No instances to evacuate on node(s) %s, exiting." % second in out.stderr

    # A file instance cannot be relocated (only copied): the whole request is refused,
    # and the shared-storage instance beside it stays too.
    gnt(cluster, *_ADD, *_FILE, "-n", first, "evf")
    before, config_before = instance_rows(cluster), _config_bytes(cluster)
    refused = gnt(cluster, "gnt-node", "evacuate", "-f", first, ok=False)
    assert "Unable to evacuate instances evf (Instances of type file cannot be relocated" \
        in refused.stderr and "gnt-instance move" in refused.stderr
    assert instance_rows(cluster) == before and _config_bytes(cluster) == config_before
    assert _runs_on(cluster, "ev1") == [first]
    # Shared storage and file instances have no secondary node.
    out = gnt(cluster, "gnt-node", "evacuate", "-f", "-s", first)
    assert "No instances to evacuate on node(s) %s, exiting." % first in out.stderr
    refused = gnt(cluster, "gnt-node", "evacuate", "-f", "-p", "-s", first, ok=False)
    assert "Only one of the --primary-only, --secondary-only and --all" in refused.stderr
    refused = gnt(cluster, "gnt-node", "evacuate", "-f", "-I", "no-such-allocator", first,
                  ok=False)
    assert "no-such-allocator' not found in the allocator search path" in refused.stderr
    assert instance_rows(cluster) == before
    _remove_all(cluster)


@pytest.mark.skipif(not os.access(_HAIL, os.X_OK),
                    reason="Debian's ganeti-htools-3.0 (hail) is not installed")
def test_node_evacuate_with_hail(cluster: LocalCluster) -> None:
    first, second, third = node_names(cluster)
    _install_hail(cluster)
    gnt(cluster, *_ADD, *_SHARED, "-B", "maxmem=128", "-n", first, "hl1")
    gnt(cluster, *_ADD, *_SHARED, "-B", "maxmem=128", "-n", first, "hl2")
    out = gnt(cluster, "gnt-node", "evacuate", "-f", "-p", "-I", "hail", first).stdout
    assert "All instances evacuated successfully." in out
    rows = instance_rows(cluster)
    for name in ("hl1", "hl2"):
        pnode, status = rows[name]
        assert pnode in (second, third) and status == "running"
        assert _runs_on(cluster, name) == [pnode]
        assert "%s (to %s)" % (name, pnode) in out

    gnt(cluster, *_ADD, *_FILE, "-n", second, "hlf")
    before = instance_rows(cluster)
    refused = gnt(cluster, "gnt-node", "evacuate", "-f", "-I", "hail", second, ok=False)
    assert "Unable to evacuate instances hlf (Instances of type file cannot be relocated)" \
        in refused.stderr
    assert instance_rows(cluster) == before
    _remove_all(cluster)


# -- change-group and group evacuate --------------------------------------------------------

def test_change_group_and_group_evacuate(cluster: LocalCluster) -> None:
    first, second, third = node_names(cluster)
    gnt(cluster, "gnt-group", "add", "g2")
    gnt(cluster, "gnt-group", "assign-nodes", "g2", third)
    try:
        gnt(cluster, *_ADD, *_SHARED, "-n", first, "cg1")
        gnt(cluster, *_ADD, *_FILE, "-n", second, "cg2")
        files_before = {path for path in _file_disks(cluster, "cg2")}

        # Bad input: an unknown group, the instance's own group; nothing changes.
        before = instance_rows(cluster)
        refused = gnt(cluster, "gnt-instance", "change-group", "--to", "nosuch", "cg1",
                      ok=False)
        assert "Node group 'nosuch' is not known" in refused.stderr
        refused = gnt(cluster, "gnt-instance", "change-group", "--to", "default", "cg1",
                      ok=False)
        assert "Can't use group(s) 'default' as targets, they are used by the instance" \
            " 'cg1'" in refused.stderr
        assert instance_rows(cluster) == before

        out = gnt(cluster, "gnt-instance", "change-group", "--to", "g2", "cg1").stdout
        assert "Instance 'cg1' changed group successfully." in out
        assert instance_rows(cluster)["cg1"] == [third, "running"]
        assert _runs_on(cluster, "cg1") == [third]
        # A file instance is copied (instance move) to the other group.
        gnt(cluster, "gnt-instance", "change-group", "cg2")
        assert instance_rows(cluster)["cg2"] == [third, "running"]
        assert _runs_on(cluster, "cg2") == [third]
        assert files_before.isdisjoint(_file_disks(cluster, "cg2"))

        refused = gnt(cluster, "gnt-group", "evacuate", "--to", "g2", "g2", ok=False)
        assert "Group to be evacuated (g2) can not be used as a target group" in refused.stderr
        refused = gnt(cluster, "gnt-group", "evacuate", "nosuch", ok=False)
        assert "Node group 'nosuch' is not known" in refused.stderr
        out = gnt(cluster, "gnt-group", "evacuate", "--sequential", "g2").stdout
        assert "All instances evacuated successfully." in out
        rows = instance_rows(cluster)
        assert rows["cg1"][0] in (first, second) and rows["cg2"][0] in (first, second)
        assert rows["cg1"][1] == rows["cg2"][1] == "running"
        out = gnt(cluster, "gnt-group", "evacuate", "g2").stdout
        assert "All instances evacuated successfully." in out
        _remove_all(cluster)
    finally:
        gnt(cluster, "gnt-group", "assign-nodes", "default", third)
        gnt(cluster, "gnt-group", "remove", "g2")


def _file_disks(cluster: LocalCluster, instance: str) -> list[str]:
    data = config(cluster)
    inst = next(i for i in data["instances"].values() if i["name"] == instance)
    return [data["disks"][uuid]["logical_id"][1] for uuid in inst["disks"]]


# -- migrate --cleanup --------------------------------------------------------------------

def _write_state(cluster: LocalCluster, node: str, instance: str, state: dict[str, Any]) -> None:
    path = _state_file(cluster, node, instance)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    io.write_file_atomic(path, serializer.dump_bytes(state), mode=0o640)


def _read_state(cluster: LocalCluster, node: str, instance: str) -> dict[str, Any]:
    with open(_state_file(cluster, node, instance), encoding="utf-8") as handle:
        result: dict[str, Any] = json.load(handle)
    return result


def test_migrate_cleanup_resolves_an_interrupted_migration(cluster: LocalCluster) -> None:
    first, second, third = node_names(cluster)
    cleanup = ("gnt-instance", "migrate", "--cleanup", "-f", "cl1")
    gnt(cluster, *_ADD, *_SHARED, "-n", first, "cl1")
    state = _read_state(cluster, first, "cl1")

    # Running where it should: confirmed, nothing changes.
    out = gnt(cluster, *cleanup).stdout
    assert "instance confirmed to be running on its primary node (%s)" % first in out
    assert instance_rows(cluster)["cl1"] == [first, "running"]

    # Running on another node only (the migration went through): that node is primary.
    shutil.move(_state_file(cluster, first, "cl1"), _state_file(cluster, second, "cl1"))
    out = gnt(cluster, *cleanup).stdout
    assert "instance running on node %s, updating config" % second in out
    assert instance_rows(cluster)["cl1"] == [second, "running"]
    node_uuids = {n["name"]: uuid for uuid, n in config(cluster)["nodes"].items()}
    assert [d["nodes"] for d in config(cluster)["disks"].values()] == [[node_uuids[second]]]

    # On both, the source's hypervisor saying the migration completed: the source's
    # copy is stopped and the target becomes primary.
    source_state = dict(state, migration={"target": cluster.node(3).address, "live": True,
                                          "status": "completed"})
    _write_state(cluster, second, "cl1", source_state)
    _write_state(cluster, third, "cl1", state)
    out = gnt(cluster, *cleanup).stdout
    assert "the migration to %s had completed" % third in out
    assert instance_rows(cluster)["cl1"] == [third, "running"]
    assert _runs_on(cluster, "cl1") == [third]

    # On both without a finished migration: the operation refuses and changes nothing.
    _write_state(cluster, first, "cl1", state)
    config_before = _config_bytes(cluster)
    refused = gnt(cluster, *cleanup, ok=False)
    assert "Instance seems to be running on two nodes" in refused.stderr
    assert _config_bytes(cluster) == config_before
    assert sorted(_runs_on(cluster, "cl1")) == sorted([first, third])
    os.unlink(_state_file(cluster, first, "cl1"))

    # A migration marker left on the source is cleared, so a new migration works.
    _write_state(cluster, third, "cl1", source_state)
    gnt(cluster, *cleanup)
    assert _read_state(cluster, third, "cl1").get("migration") is None
    gnt(cluster, "gnt-instance", "migrate", "-f", "-n", first, "cl1")
    assert _runs_on(cluster, "cl1") == [first]

    # Running nowhere: nothing to decide.
    os.unlink(_state_file(cluster, first, "cl1"))
    refused = gnt(cluster, *cleanup, ok=False)
    assert "Instance does not seem to be running at all" in refused.stderr
    assert instance_rows(cluster)["cl1"][0] == first
    refused = gnt(cluster, "gnt-instance", "failover", "--cleanup", "-f", "cl1", ok=False)
    assert "--cleanup applies to migrations only" in refused.stderr
    gnt(cluster, "gnt-instance", "remove", "-f", "cl1")


# -- multi-allocation: RAPI and batch-create ----------------------------------------------

def _definition(name: str, **extra: Any) -> dict[str, Any]:
    return {"mode": "create", "instance_name": name, "disk_template": "diskless", "disks": [],
            "nics": [], "os_type": "recorder+default", "name_check": False, "ip_check": False,
            **extra}


@pytest.fixture(scope="module")
def rapi(cluster: LocalCluster) -> RapiCluster:
    """The local cluster's own ganeti-rapi (on the master, port 5080), with the test
    users written to its users file (which it reloads when it changes)."""
    master = cluster.master
    shim = SimpleNamespace(nodes=SimpleNamespace(master=master))
    server = RapiCluster(cast(Any, shim), constants.DEFAULT_RAPI_PORT)
    server.write_users(USERS)
    for _ in range(200):
        if server.call("GET", "/2/features").status == 200:
            return server
        time.sleep(0.05)
    raise AssertionError("ganeti-rapi did not accept the test users")


def test_multi_alloc_through_rapi(cluster: LocalCluster, rapi: RapiCluster) -> None:
    body = {"instances": [_definition("ma%d" % i) for i in range(1, 4)]
            + [_definition("ma4", beparams={"maxmem": 100000000})],
            "iallocator": "builtin"}
    job_id = rapi.ok("POST", "/2/instances-multi-alloc", body)
    job = rapi.wait_job(int(job_id))
    assert job["status"] == "success", job
    result = job["opresult"][0]
    assert sorted(result["allocatable"]) == ["ma1", "ma2", "ma3"]
    assert result["failed"] == ["ma4"]
    assert len(result["jobs"]) == 3 and all(ok for ok, _ in result["jobs"])
    for _ok, child in result["jobs"]:
        assert rapi.wait_job(int(child))["status"] == "success"
    rows = instance_rows(cluster)
    assert "ma4" not in rows
    for name in ("ma1", "ma2", "ma3"):
        assert rows[name][1] == "running" and _runs_on(cluster, name) == [rows[name][0]]

    # Bad input: a refused job naming the problem, nothing created.
    bad = {"instances": [_definition("mb1", pnode=node_names(cluster)[0]), _definition("mb2")]}
    job = rapi.wait_job(int(rapi.ok("POST", "/2/instances-multi-alloc", bad)))
    assert job["status"] == "error"
    assert "providing pnode/snode while others do not" in json.dumps(job["opresult"])
    reply = rapi.call("POST", "/2/instances-multi-alloc",
                      {"instances": [{"instance_name": "mb3", "disk_template": 3}]})
    assert reply.status == 400 and "instances" in json.dumps(reply.body)
    assert not {"mb1", "mb2", "mb3"} & set(instance_rows(cluster))
    _remove_all(cluster)


def test_batch_create(cluster: LocalCluster, tmp_path: Any) -> None:
    path = os.path.join(str(tmp_path), "batch.json")
    with open(path, "w") as handle:
        json.dump([_definition("bc1"), _definition("bc2", beparams={"maxmem": 256})], handle)
    out = gnt(cluster, "gnt-instance", "batch-create", path).stdout
    assert "All instances created successfully." in out
    rows = instance_rows(cluster, "name,pnode,status,be/maxmem")
    assert rows["bc1"][1] == rows["bc2"][1] == "running" and rows["bc2"][2] == "256"

    with open(path, "w") as handle:
        json.dump([_definition("bc3", colour="red")], handle)
    refused = gnt(cluster, "gnt-instance", "batch-create", path, ok=False)
    assert "Unknown fields in definition 0: colour" in refused.stderr
    with open(path, "w") as handle:
        handle.write("{not json")
    refused = gnt(cluster, "gnt-instance", "batch-create", path, ok=False)
    assert "Can't parse the instance definition file" in refused.stderr
    with open(path, "w") as handle:
        json.dump([_definition("bc1"), _definition("bc1")], handle)
    refused = gnt(cluster, "gnt-instance", "batch-create", path, ok=False)
    assert "There are duplicate instance names: bc1" in refused.stderr
    assert sorted(instance_rows(cluster)) == ["bc1", "bc2"]
    _remove_all(cluster)


def _wait_children(rapi: RapiCluster, job_id: int) -> dict[str, Any]:
    """The opcode result of a finished job whose follow-up jobs all succeeded."""
    job = rapi.wait_job(job_id)
    assert job["status"] == "success", job
    result: dict[str, Any] = job["opresult"][0]
    for ok, child in result["jobs"]:
        assert ok and rapi.wait_job(int(child))["status"] == "success", child
    return result


def test_node_migrate_and_evacuate_through_rapi(cluster: LocalCluster,
                                                rapi: RapiCluster) -> None:
    first, second, third = node_names(cluster)
    gnt(cluster, *_ADD, *_SHARED, "-n", first, "ra1")
    gnt(cluster, *_ADD, "-t", "diskless", "-n", first, "ra2")
    result = _wait_children(rapi, int(rapi.ok("POST", "/2/nodes/%s/migrate" % first,
                                              {"target_node": second})))
    assert len(result["jobs"]) == 2
    assert {name: row[0] for name, row in instance_rows(cluster).items()} == \
        {"ra1": second, "ra2": second}
    assert _runs_on(cluster, "ra1") == [second]

    result = _wait_children(rapi, int(rapi.ok(
        "POST", "/2/nodes/%s/evacuate" % second,
        {"mode": "primary-only", "iallocator": "builtin"})))
    assert len(result["jobs"]) == 2
    rows = instance_rows(cluster)
    assert rows["ra1"][0] in (first, third) and rows["ra2"][0] in (first, third)
    assert _runs_on(cluster, "ra1") == [rows["ra1"][0]]

    # A bad mode is refused before any job exists.
    reply = rapi.call("POST", "/2/nodes/%s/evacuate" % first, {"mode": "everything"})
    assert reply.status == 400 and "mode" in json.dumps(reply.body)
    assert instance_rows(cluster) == rows
    _remove_all(cluster)


# -- gnt-debug allocator ------------------------------------------------------------------

def test_debug_allocator_shows_requests_and_answers(cluster: LocalCluster) -> None:
    first, second, third = node_names(cluster)
    debug = ("gnt-debug", "allocator")
    data = json.loads(gnt(cluster, *debug, "--dir", "in", "-m", "allocate",
                          "--disk-template", "sharedfile", "--disks", "100,200",
                          "--memory", "256", "new1").stdout)
    assert data["version"] == 2 and set(data["nodes"]) == {first, second, third}
    request = data["request"]
    assert (request["type"], request["name"], request["memory"],
            request["disk_space_total"]) == ("allocate", "new1", 256, 300)

    gnt(cluster, *_ADD, *_SHARED, "-n", first, "dbg1")
    answer = json.loads(gnt(cluster, *debug, "--dir", "out", "-I", "builtin", "-m",
                            "node-evacuate", "--evac-mode", "primary-only", "dbg1").stdout)
    assert answer["success"] is True
    moved, failed, jobs = answer["result"]
    assert moved[0][0] == "dbg1" and moved[0][2][0] in (second, third) and failed == []
    assert jobs[0][0]["OP_ID"] == "OP_INSTANCE_MIGRATE"
    if os.access(_HAIL, os.X_OK):
        _install_hail(cluster)
        answer = json.loads(gnt(cluster, *debug, "--dir", "out", "-I", "hail", "-m",
                                "allocate", "--disk-template", "sharedfile", "--disks",
                                "1024", "new2").stdout)
        assert answer["success"] is True and answer["result"][0] in (first, second, third)

    refused = gnt(cluster, *debug, "-m", "node-evacuate", "nosuch", ok=False)
    assert "nosuch" in refused.stderr and "not known" in refused.stderr
    refused = gnt(cluster, *debug, "--dir", "out", "-m", "allocate", "dbg1", ok=False)
    assert "Instance 'dbg1' already in the cluster" in refused.stderr
    _remove_all(cluster)
