"""The master's queue and processor against real node daemons: OpTestDelay on
nodes, hooks run by the nodes' hooks runner, and job queue replication to the
other master candidates (jobqueue_update, jobqueue_rename, drain flag)."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from noded_cluster import CLUSTER_NAME, NodedCluster

from ganeti import cmdlib, config, constants, errors, objects, opcodes
from ganeti.cmdlib.base import FeedbackFn, LogicalUnit
from ganeti.context import MasterContext
from ganeti.jqueue.queue import JobQueue
from ganeti.jqueue.storage import JobStorage

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "unit"))
import master_testlib as mt

GROUP_UUID = mt.GROUP_UUID

def _node_uuid(index: int) -> str:
    return "0c0c0c0c-0000-4000-8000-0000000000%02d" % index


def _config(cluster: NodedCluster) -> dict[str, Any]:
    nodes = {}
    for index, node in enumerate(cluster.nodes, start=1):
        nodes[_node_uuid(index)] = {"uuid": _node_uuid(index), "name": node.name,
                                    "primary_ip": node.address, "group": GROUP_UUID,
                                    "master_candidate": True}
    data = mt.config_dict()
    data["cluster"]["cluster_name"] = CLUSTER_NAME
    data["cluster"]["master_node"] = _node_uuid(1)
    data["nodes"] = nodes
    return data


@pytest.fixture(scope="module")
def master(noded_cluster: NodedCluster) -> Iterator[MasterContext]:
    paths = noded_cluster.master.paths
    if os.path.exists(paths.config_file):
        os.unlink(paths.config_file)
    cfg = config.ConfigWriter.create(paths.config_file,
                                     objects.ConfigData.from_dict(_config(noded_cluster)))
    context = MasterContext.build(paths, noded_cluster.master.name, cfg=cfg,
                                  rpc=noded_cluster.client(),
                                  noded_port=noded_cluster.master.port)
    yield context


@pytest.fixture
def queue(master: MasterContext) -> Iterator[JobQueue]:
    q = JobQueue(master, worker_count=2)
    q.start()
    yield q
    q.shutdown(10)


def test_delay_on_nodes_runs_through_node_rpc(queue):
    job_id = queue.submit_job([{"OP_ID": "OP_TEST_DELAY", "duration": 0.05,
                                "on_master": False, "on_nodes": ["node2", "node3"],
                                "no_locks": False, "repeat": 2}])
    assert mt.wait_done(queue, job_id) == constants.JOB_STATUS_SUCCESS
    log = queue.query_jobs([job_id], ["oplog"])[0][0][0]
    assert [entry[3] for entry in log] == [" - INFO: Test delay iteration 0/1",
                                           " - INFO: Test delay iteration 1/1"]


def test_queue_is_replicated_to_master_candidates(queue, noded_cluster):
    job_id = queue.submit_job([mt.dummy({"value": 1})])
    # Acknowledged means on the candidates too, and a shown end is theirs as well.
    for name in ("node2", "node3"):
        assert os.path.exists(noded_cluster.node(name).paths.job_file(job_id))
    assert mt.wait_done(queue, job_id) == constants.JOB_STATUS_SUCCESS
    for name in ("node2", "node3"):
        copy = JobStorage(noded_cluster.node(name).paths).read_job(job_id, archived=False)
        assert copy is not None and copy.calc_status() == constants.JOB_STATUS_SUCCESS
    assert queue.replicator.flush(30)
    with open(queue.context.paths.job_file(job_id), "rb") as handle:
        on_master = handle.read()
    for name in ("node2", "node3"):
        node_paths = noded_cluster.node(name).paths
        with open(node_paths.job_file(job_id), "rb") as handle:
            assert handle.read() == on_master
        with open(node_paths.queue_serial_file, encoding="ascii") as handle:
            assert int(handle.read()) >= job_id
    assert queue.archive_job(job_id)
    queue.set_drain_flag(True)
    try:
        assert queue.replicator.flush(30)
        for name in ("node2", "node3"):
            node_paths = noded_cluster.node(name).paths
            assert not os.path.exists(node_paths.job_file(job_id))
            assert os.path.exists(node_paths.archived_job_file(job_id))
            assert os.path.exists(node_paths.queue_drain_file)
    finally:
        queue.set_drain_flag(False)
    assert queue.replicator.flush(30)
    assert not os.path.exists(noded_cluster.node("node2").paths.queue_drain_file)


class HookedLU(LogicalUnit):
    HPATH = "cluster-modify"
    HTYPE = constants.HTYPE_CLUSTER
    REQ_BGL = False
    executed = 0

    def expand_names(self) -> None:
        self.needed_locks = {}

    def build_hooks_env(self) -> dict[str, Any]:
        return {"OP_TARGET": CLUSTER_NAME, "NEW_VG_NAME": "xenvg"}

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        return ["node2", "node3"], ["node2"]

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        HookedLU.executed += 1
        return "modified"


def _hook(cluster: NodedCluster, node: str, phase: str, name: str, body: str) -> str:
    directory = cluster.node(node).paths.hooks_dir("cluster-modify", phase)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("#!/bin/sh\n" + body)
    os.chmod(path, stat.S_IRWXU)
    return path


def test_hooks_run_on_the_nodes_and_a_failing_pre_hook_aborts(queue, noded_cluster,
                                                               monkeypatch, tmp_path):
    monkeypatch.setitem(cmdlib.LU_REGISTRY, opcodes.OpTestJqueue.OP_ID, HookedLU)
    env_dump = tmp_path / "env.json"
    python = sys.executable
    _hook(noded_cluster, "node2", "pre", "10-record",
          "exec %s -c 'import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1], "
          "\"w\"))' %s\n" % (python, env_dump))
    _hook(noded_cluster, "node2", "post", "10-complain", "echo post trouble; exit 3\n")
    job_id = queue.submit_job([{"OP_ID": "OP_TEST_JQUEUE"}])
    assert mt.wait_done(queue, job_id) == "success"
    assert HookedLU.executed == 1
    env = json.loads(env_dump.read_text())
    assert env["GANETI_HOOKS_PHASE"] == "pre"
    assert env["GANETI_HOOKS_PATH"] == "cluster-modify"
    assert env["GANETI_OP_CODE"] == "OP_TEST_JQUEUE"
    assert env["GANETI_OBJECT_TYPE"] == "CLUSTER"
    assert env["GANETI_MASTER"] == "node1"
    assert env["GANETI_NEW_VG_NAME"] == "xenvg"
    assert env["PATH"] == "/sbin:/bin:/usr/sbin:/usr/bin"
    log = [entry[3] for entry in queue.query_jobs([job_id], ["oplog"])[0][0][0]]
    assert any("10-complain" in line and "post trouble" in line for line in log)

    failing = _hook(noded_cluster, "node3", "pre", "20-veto", "echo no way; exit 1\n")
    try:
        job_id = queue.submit_job([{"OP_ID": "OP_TEST_JQUEUE"}])
        assert mt.wait_done(queue, job_id) == "error"
        error = errors.decode(queue.query_jobs([job_id], ["opresult"])[0][0][0])
        assert isinstance(error, errors.HooksAbort)
        assert "node3" in error.args[0] and "20-veto" in error.args[0]
        assert "no way" in error.args[0]
        assert HookedLU.executed == 1  # not run again
    finally:
        os.unlink(failing)
