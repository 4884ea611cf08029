"""gnt-cluster master-failover and masterd's start-up vote, on three real nodes.

The round trip (to node2 and back) runs on the local cluster (init, nodes
added over SSH). The tests that kill nodes build their own cluster each
(three noded processes, every node a master candidate, masterd on node1)
with master_cluster's fixture; a masterd that the failover starts there
through daemon-util is stopped by its pid file.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from local_cluster_fixture import local_cluster  # noqa: F401 (fixture)
from master_cluster import MASTERD, MasterCluster, create_cluster, master_env

from ganeti import constants, luxi, pathutils, ssconf
from ganeti.config import ConfigWriter
from ganeti.jqueue.storage import JobStorage
from ganeti.server import daemon_util
from ganeti.tools.local_cluster import LocalCluster
from ganeti.utils import io

pytestmark = pytest.mark.timeout(300)

#: Daemons a failover may start on a node (stopped by pid file at teardown).
MASTER_DAEMONS = (constants.RAPI, constants.MASTERD)


def _stop_by_pid_file(paths: pathutils.Paths) -> None:
    for name in MASTER_DAEMONS:
        pid = daemon_util.running_pid(name, paths)
        if pid is None:
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while daemon_util.running_pid(name, paths) is not None:
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                break
            time.sleep(0.05)


@contextlib.contextmanager
def three_nodes(base: str, non_candidates: tuple[str, ...] = ()) -> Iterator[MasterCluster]:
    cluster = create_cluster(base, count=3, start_noded=True, start_master=False)
    try:
        _share_master_config(cluster)
        if non_candidates:
            _demote(cluster, non_candidates)
        cluster.master.start()
        yield cluster
    finally:
        cluster.stop()
        for node in cluster.nodes.nodes:
            _stop_by_pid_file(node.paths)


def _share_master_config(cluster: MasterCluster) -> None:
    """Give every candidate node1's config.data (the fixture builds one per node)."""
    with open(cluster.nodes.master.paths.config_file, "rb") as handle:
        raw = handle.read()
    for node in cluster.nodes.nodes[1:]:
        io.write_file_atomic(node.paths.config_file, raw, mode=0o600)


def _demote(cluster: MasterCluster, names: tuple[str, ...]) -> None:
    """Make ``names`` regular nodes in every copy of the config (and ssconf)."""
    for node in cluster.nodes.nodes:
        cfg = ConfigWriter(node.paths.config_file)
        with cfg.locked():
            for name in names:
                entry = cfg.get_node_info_by_name(name)
                entry.master_candidate = False
                cfg.update(entry)
        with cfg.locked() as data:
            ssconf.write_files(ssconf.compute_values(data), node.paths)


def failover(cluster: MasterCluster, node: str, *args: str,
             timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    root = cluster.nodes.node(node).root
    return subprocess.run(
        [sys.executable, "-m", "ganeti.client.gnt_cluster", "master-failover", "-v",
         "--noded-port", str(cluster.nodes.master.port), *args],
        env=master_env(root, node), capture_output=True, text=True, timeout=timeout,
        check=False)


def master_in_ssconf(cluster: MasterCluster, node: str) -> str:
    return ssconf.SimpleStore(cluster.nodes.node(node).paths).get_master_node()


def config_of(cluster: MasterCluster, node: str) -> tuple[int, str]:
    """(serial, master name) of a node's config.data."""
    cfg = ConfigWriter(cluster.nodes.node(node).paths.config_file)
    return cfg.get_config_serial(), cfg.get_master_node_info().name


def client_of(cluster: MasterCluster, node: str) -> luxi.Client:
    return luxi.Client(cluster.nodes.node(node).paths.master_socket)


def wait_finished(client: luxi.Client, ids: list[int], timeout: float = 30.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        statuses = [row[0] for row in client.query_jobs(ids, ["status"])]
        if all(status in constants.JOBS_FINALIZED for status in statuses):
            return statuses
        if time.monotonic() > deadline:
            raise AssertionError("jobs %s did not finish: %s" % (ids, statuses))
        time.sleep(0.05)


def assert_replicated(cluster: MasterCluster, node: str, job_id: int, status: str) -> None:
    """``node``'s copy of the queue already shows the job with ``status``: the master
    shows a job's end only once the candidates hold it."""
    job = JobStorage(cluster.nodes.node(node).paths).read_job(job_id, archived=False)
    assert job is not None, "job %d is not on %s" % (job_id, node)
    assert job.calc_status() == status, (job_id, node, job.calc_status())


def start_masterd(cluster: MasterCluster, node: str, *args: str
                  ) -> subprocess.CompletedProcess[str]:
    """Start masterd on ``node`` (detaching); its exit status tells whether it serves."""
    root = cluster.nodes.node(node).root
    return subprocess.run([sys.executable, MASTERD, "--noded-port",
                           str(cluster.nodes.master.port), "--vote-wait", "1", *args],
                          env=master_env(root, node), capture_output=True, text=True,
                          timeout=120, check=False)


def test_planned_failover_keeps_jobs_and_config(tmp_path: str) -> None:
    with three_nodes(str(tmp_path)) as cluster:
        with cluster.master.client() as client:
            ids = [client.submit_job([{"OP_ID": "OP_TEST_DELAY", "duration": 0.0}])
                   for _ in range(3)]
            statuses = wait_finished(client, ids)
            before = client.query_jobs(ids, ["id", "status", "ops"])
        serial_before, master_before = config_of(cluster, "node1")
        assert master_before == "node1" and statuses == ["success"] * 3

        # A stale drain flag on the new master alone (Ganeti's QA case) must not survive.
        node2_paths = cluster.nodes.node("node2").paths
        io.write_file_atomic(node2_paths.queue_drain_file, b"")

        result = failover(cluster, "node2")
        assert result.returncode == 0, result.stderr + result.stdout
        assert "from node1 to node2" in result.stdout
        assert "Job queue drain flag cleared" in result.stdout
        assert not os.path.exists(node2_paths.queue_drain_file)

        # The old master's daemon was stopped through RPC.
        assert cluster.master.process is not None
        assert cluster.master.process.wait(30) is not None
        assert daemon_util.running_pid(constants.MASTERD, cluster.nodes.node("node2").paths)
        for node in ("node1", "node2", "node3"):
            assert master_in_ssconf(cluster, node) == "node2"
            serial, master = config_of(cluster, node)
            assert master == "node2" and serial > serial_before

        with client_of(cluster, "node2") as client:
            after = client.query_jobs(ids, ["id", "status", "ops"])
            assert after == before
            new_id = client.submit_job([{"OP_ID": "OP_TEST_DELAY", "duration": 0.0}])
            assert new_id > max(ids)
            assert wait_finished(client, [new_id]) == ["success"]

        # The commands log records the failover.
        with open(cluster.nodes.node("node2").paths.commands_log_file,
                  encoding="utf-8") as handle:
            assert "master-failover to node2" in handle.read()


def test_failover_after_master_death_and_the_old_master_steps_down(tmp_path: str) -> None:
    with three_nodes(str(tmp_path)) as cluster:
        with cluster.master.client() as client:
            job_id = client.submit_job([{"OP_ID": "OP_TEST_DELAY", "duration": 0.0}])
            wait_finished(client, [job_id])
        # No waiting: the finished job is on the candidate before anyone sees it end.
        assert_replicated(cluster, "node2", job_id, "success")
        # The master machine dies: masterd and noded gone.
        cluster.master.kill()
        node1 = cluster.nodes.node("node1")
        node1.stop()
        serial_before, _ = config_of(cluster, "node1")

        result = failover(cluster, "node2")
        assert result.returncode == 0, result.stderr + result.stdout
        assert "Could not stop the master daemons on the old master node1" in result.stderr
        assert "2 of 3 nodes name node1" in result.stdout
        with client_of(cluster, "node2") as client:
            assert client.query_jobs([job_id], ["status"]) == [["success"]]

        # node1 comes back with its stale files: config and ssconf name itself.
        node1.start()
        assert master_in_ssconf(cluster, "node1") == "node1"
        outcome = start_masterd(cluster, "node1")
        assert outcome.returncode != 0
        assert "a majority of the nodes names node2" in outcome.stderr
        assert "refusing to act as a second master" in outcome.stderr, outcome.stderr
        assert daemon_util.running_pid(constants.MASTERD, node1.paths) is None
        # It adopted the majority's view, so it now votes for node2 too.
        assert master_in_ssconf(cluster, "node1") == "node2", outcome.stderr
        serial, master = config_of(cluster, "node1")
        assert master == "node2" and serial > serial_before
        # node2 is still the only master.
        with client_of(cluster, "node2") as client:
            assert client.query_jobs([job_id], ["status"]) == [["success"]]


def test_failover_refused_without_majority_unless_no_voting(tmp_path: str) -> None:
    with three_nodes(str(tmp_path)) as cluster:
        cluster.master.kill()
        cluster.nodes.node("node1").stop()
        cluster.nodes.node("node3").stop()
        serials = {node: config_of(cluster, node) for node in ("node1", "node2", "node3")}

        result = failover(cluster, "node2")
        assert result.returncode == 1
        assert "No strict majority of the 3 nodes agrees that node1 is the master" in \
            result.stderr
        assert "--no-voting" in result.stderr
        assert {node: config_of(cluster, node) for node in serials} == serials
        assert master_in_ssconf(cluster, "node2") == "node1"
        assert daemon_util.running_pid(constants.MASTERD,
                                       cluster.nodes.node("node2").paths) is None

        # Without --yes-do-it and without a terminal: refused, nothing changed.
        result = failover(cluster, "node2", "--no-voting")
        assert result.returncode == 13, result.stderr
        assert config_of(cluster, "node2") == serials["node2"]

        result = failover(cluster, "node2", "--no-voting", "--yes-do-it")
        assert result.returncode == 0, result.stderr + result.stdout
        assert "Voting skipped" in result.stdout
        # masterd started although only one node of three answers: the flag
        # reached it (it logs that it skipped the vote).
        node2 = cluster.nodes.node("node2")
        assert daemon_util.running_pid(constants.MASTERD, node2.paths) is not None
        with open(node2.paths.daemon_log_file(constants.MASTERD), encoding="utf-8") as handle:
            assert "started with --no-voting" in handle.read()
        with open(node2.paths.commands_log_file, encoding="utf-8") as handle:
            assert "WITHOUT voting" in handle.read()
        assert config_of(cluster, "node2")[1] == "node2"


def test_masterd_no_voting_needs_confirmation(tmp_path: str) -> None:
    with three_nodes(str(tmp_path)) as cluster:
        cluster.master.stop()
        outcome = start_masterd(cluster, "node1", "--no-voting")
        assert outcome.returncode != 0
        assert "--yes-do-it" in outcome.stderr
        assert daemon_util.running_pid(constants.MASTERD, cluster.nodes.master.paths) is None


def test_failover_takes_the_newest_candidate_config(tmp_path: str) -> None:
    with three_nodes(str(tmp_path)) as cluster:
        # node3's copy is newer than node2's (node2 missed the last updates).
        node3_cfg = ConfigWriter(cluster.nodes.node("node3").paths.config_file)
        with node3_cfg.locked():
            cluster_obj = node3_cfg.get_cluster_info()
            cluster_obj.tags = [*cluster_obj.tags, "newest"]
            node3_cfg.update(cluster_obj)
        newest = node3_cfg.get_config_serial()
        cluster.master.stop()
        cluster.nodes.node("node1").stop()

        result = failover(cluster, "node2")
        assert result.returncode == 0, result.stderr + result.stdout
        assert "from node3" in result.stdout
        cfg = ConfigWriter(cluster.nodes.node("node2").paths.config_file)
        assert "newest" in cfg.get_cluster_info().tags
        assert cfg.get_config_serial() > newest


def test_failover_bad_input(tmp_path: str) -> None:
    with three_nodes(str(tmp_path), non_candidates=("node3",)) as cluster:
        before = {node: config_of(cluster, node) for node in ("node1", "node2", "node3")}
        result = failover(cluster, "node3")
        assert result.returncode == 1
        assert "This node (node3) is not a master candidate" in result.stderr
        assert "node1, node2" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1

        result = failover(cluster, "node1")
        assert result.returncode == 1
        assert "This node (node1) is already the master" in result.stderr

        # A node without a configuration copy at all.
        node3 = cluster.nodes.node("node3")
        os.rename(node3.paths.config_file, node3.paths.config_file + ".away")
        result = failover(cluster, "node3")
        assert result.returncode == 1
        assert "has no configuration file" in result.stderr
        assert "not a master candidate" in result.stderr
        os.rename(node3.paths.config_file + ".away", node3.paths.config_file)

        assert {node: config_of(cluster, node) for node in before} == before
        assert cluster.master.running
        with cluster.master.client() as client:
            assert client.query_config_values(["master_node"]) == ["node1"]


def test_round_trip_on_the_local_cluster(local_cluster: LocalCluster) -> None:  # noqa: F811
    first, second = (node.name for node in local_cluster.node_list()[:2])
    submitted = local_cluster.run_cli(first, ["gnt-debug", "delay", "--print-jobid", "0"])
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.splitlines()[0]
    try:
        for target, previous in ((second, first), (first, second)):
            result = local_cluster.run_cli(target, ["gnt-cluster", "master-failover"])
            assert result.returncode == 0, result.stderr + result.stdout
            assert "from %s to %s" % (previous, target) in result.stdout
            for node in local_cluster.node_list():
                assert master_in_root(local_cluster, node.name) == target
            getmaster = local_cluster.run_cli(previous, ["gnt-cluster", "getmaster"])
            assert getmaster.stdout.strip() == target, getmaster.stderr
            with luxi.Client(local_cluster.node(target).paths.master_socket) as client:
                assert client.query_jobs([int(job_id)], ["status"]) == [["success"]]
            assert daemon_util.running_pid(constants.MASTERD,
                                           local_cluster.node(previous).paths) is None
        verify = local_cluster.run_cli(first, ["gnt-cluster", "verify"])
        assert verify.returncode == 0, verify.stdout + verify.stderr
    finally:
        # Leave the module's cluster as it was: the master on its first node.
        if master_in_root(local_cluster, first) != first:
            local_cluster.run_cli(first, ["gnt-cluster", "master-failover"])


def master_in_root(cluster: LocalCluster, node: str) -> str:
    return ssconf.SimpleStore(cluster.node(node).paths).get_master_node()
