"""Many instance creations at once: every change reaches disk, nodes and candidates.

The master writes config.data with a group commit and pushes config and
ssconf in shared rounds after the configuration lock is let go; job files
reach the candidates in batched rounds; a hook point without scripts is
answered by the node without a child process. These tests submit creations
side by side and check the resulting state everywhere.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from instance_cluster import Gnt, running_instance_cluster

from ganeti import constants, luxi, serializer, ssconf

WAIT_LIMIT = 300.0


@pytest.fixture(scope="module")
def gnt() -> Iterator[Gnt]:
    with running_instance_cluster() as runner:
        yield runner


def _client(gnt: Gnt) -> luxi.Client:
    return luxi.Client(gnt.paths(1).master_socket)


def _create_op(name: str, node: str) -> dict[str, Any]:
    return {"OP_ID": "OP_INSTANCE_CREATE", "instance_name": name, "mode": "create",
            "disk_template": constants.DT_DISKLESS, "disks": [], "nics": [{}],
            "os_type": "v10", "pnode": node, "name_check": False, "ip_check": False,
            "beparams": {"maxmem": 8, "minmem": 8}}


def _submit_and_wait(gnt: Gnt, ops: list[dict[str, Any]]) -> list[list[Any]]:
    """Submit one job per opcode together; [[id, status, result]] once all ended."""
    client = _client(gnt)
    ids = []
    for success, value in client.submit_many_jobs([[op] for op in ops]):
        assert success, value
        ids.append(int(value))
    deadline = time.monotonic() + WAIT_LIMIT
    while True:
        rows = client.query_jobs(ids, ["id", "status", "opresult"])
        if all(row[1] in constants.JOBS_FINALIZED for row in rows):
            return rows
        assert time.monotonic() < deadline, rows
        time.sleep(0.2)


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def test_parallel_creates_reach_disk_nodes_and_candidates(gnt: Gnt) -> None:
    nodes = [gnt.node_name(i) for i in (1, 2, 3)]
    # A post hook on node 3 only: it must run for the instances placed there.
    record = os.path.join(gnt.paths(3).root, "post-hook-record")
    hook_dir = gnt.paths(3).hooks_dir("instance-add", "post")
    os.makedirs(hook_dir, exist_ok=True)
    script = os.path.join(hook_dir, "50-record")
    with open(script, "w", encoding="utf-8") as handle:
        handle.write("#!/bin/sh\necho \"$GANETI_INSTANCE_NAME\" >> '%s'\n" % record)
    os.chmod(script, 0o755)
    names = ["par%02d.example.com" % i for i in range(24)]
    try:
        rows = _submit_and_wait(gnt, [_create_op(name, nodes[i % 3])
                                      for i, name in enumerate(names)])
    finally:
        os.unlink(script)
    assert [row[1] for row in rows] == ["success"] * len(names)

    instances = gnt.instances()
    assert set(names) <= set(instances)
    for index, name in enumerate(names):
        assert instances[name]["pnode"] == nodes[index % 3]

    # config.data: the master's file holds every instance; each candidate has
    # the same serial number (the save's push ended before the jobs did).
    master_config = gnt.config()
    assert set(names) <= {i["name"] for i in master_config["instances"].values()}
    for which in (2, 3):
        node = gnt.cluster.node(which)
        node_info = next(n for n in master_config["nodes"].values() if n["name"] == node.name)
        if node_info["master_candidate"]:
            copy = serializer.load(_read(gnt.paths(which).config_file))
            assert copy["serial_no"] == master_config["serial_no"]

    # ssconf on every node lists every instance, in natural order.
    for which in (1, 2, 3):
        listed = ssconf.SimpleStore(gnt.paths(which)).read_value(ssconf.KEY_INSTANCE_LIST)
        assert set(names) <= set(listed.splitlines())
        assert listed.splitlines() == sorted(listed.splitlines(), key=ssconf.nice_sort_key)

    # Each finished job's file is on the candidates with its final status.
    for which in (2, 3):
        queue_dir = gnt.paths(which).queue_dir
        for job_id, status, _result in rows:
            job = serializer.load(_read(os.path.join(queue_dir, "job-%d" % job_id)))
            assert [op["status"] for op in job["ops"]] == [status]

    hooked = sorted(_read(record).split())
    assert hooked == sorted(name for i, name in enumerate(names) if i % 3 == 2)


def test_the_same_name_twice_at_once_creates_it_once(gnt: Gnt) -> None:
    name = "twice.example.com"
    serial_before = gnt.config()["serial_no"]
    rows = _submit_and_wait(gnt, [_create_op(name, gnt.node_name(1)),
                                  _create_op(name, gnt.node_name(2))])
    assert sorted(row[1] for row in rows) == ["error", "success"]
    failed = next(row for row in rows if row[1] == "error")
    message = str(failed[2])
    assert name in message
    assert "already exists" in message or "being created" in message
    config = gnt.config()
    assert [i["name"] for i in config["instances"].values()].count(name) == 1
    assert config["serial_no"] > serial_before
    for which in (1, 2, 3):
        listed = ssconf.SimpleStore(gnt.paths(which)).read_value(ssconf.KEY_INSTANCE_LIST)
        assert listed.splitlines().count(name) == 1


def test_bad_creation_changes_nothing_anywhere(gnt: Gnt) -> None:
    before = gnt.config()
    ssconf_before = ssconf.SimpleStore(gnt.paths(2)).read_value(ssconf.KEY_INSTANCE_LIST)
    op = _create_op("bad.example.com", gnt.node_name(1))
    op["os_type"] = "no-such-os"
    rows = _submit_and_wait(gnt, [op])
    assert rows[0][1] == "error"
    assert "no-such-os" in str(rows[0][2])
    after = gnt.config()
    assert after["serial_no"] == before["serial_no"]
    assert "bad.example.com" not in {i["name"] for i in after["instances"].values()}
    assert ssconf.SimpleStore(gnt.paths(2)).read_value(ssconf.KEY_INSTANCE_LIST) == \
        ssconf_before


def test_removals_after_parallel_creates_leave_a_verified_cluster(gnt: Gnt) -> None:
    names = ["gone%02d.example.com" % i for i in range(6)]
    rows = _submit_and_wait(gnt, [_create_op(name, gnt.node_name(1 + i % 3))
                                  for i, name in enumerate(names)])
    assert [row[1] for row in rows] == ["success"] * len(names)
    removals = [{"OP_ID": "OP_INSTANCE_REMOVE", "instance_name": name,
                 "ignore_failures": False} for name in names]
    rows = _submit_and_wait(gnt, removals)
    assert [row[1] for row in rows] == ["success"] * len(names)
    for which in (1, 2, 3):
        listed = ssconf.SimpleStore(gnt.paths(which)).read_value(ssconf.KEY_INSTANCE_LIST)
        assert not set(names) & set(listed.splitlines())
    result = gnt("gnt-cluster", "verify", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
