"""ganeti-masterd across restarts and with a single worker (scheduling order).

With ``--workers 1`` a running job keeps the others queued, so the order
in which they run shows the priorities; SIGKILL and restart show what the
queue keeps.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from master_cluster import MASTERD, MasterCluster, MasterProcess, create_cluster, master_env

from ganeti import cli_jobs, constants, luxi


def delay_op(duration: float, **extra: Any) -> dict[str, Any]:
    return {"OP_ID": "OP_TEST_DELAY", "duration": duration, **extra}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MasterCluster]:
    master_cluster = create_cluster(str(tmp_path_factory.mktemp("masterd-restart")),
                                    master_args=("--workers", "1"))
    try:
        yield master_cluster
    finally:
        master_cluster.stop()


@pytest.fixture
def master(cluster: MasterCluster) -> Iterator[MasterProcess]:
    cluster.master.start()  # a test may have stopped or killed it
    yield cluster.master


def wait_status(client: luxi.Client, job_id: int, status: str) -> None:
    while client.query_jobs([job_id], ["status"])[0][0] != status:
        time.sleep(0.02)


def exec_order(client: luxi.Client, job_ids: list[int]) -> list[int]:
    for job_id in job_ids:
        assert cli_jobs.wait_for_job(client, job_id, feedback=None) == "success"
    started = {row[0]: row[1][0] for row in client.query_jobs(job_ids, ["id", "opexec"])}
    return sorted(job_ids, key=lambda job_id: started[job_id])


def test_priorities_decide_the_order(master: MasterProcess) -> None:
    with master.client() as client:
        blocker = client.submit_job([delay_op(0.5)])
        wait_status(client, blocker, "running")
        low = client.submit_job([delay_op(0, priority=constants.OP_PRIO_LOW)])
        normal = client.submit_job([delay_op(0)])
        high = client.submit_job([delay_op(0, priority=constants.OP_PRIO_HIGH)])
        assert exec_order(client, [low, normal, high]) == [high, normal, low]


def test_change_priority_changes_the_order(master: MasterProcess) -> None:
    with master.client() as client:
        blocker = client.submit_job([delay_op(0.5)])
        wait_status(client, blocker, "running")
        first = client.submit_job([delay_op(0)])
        second = client.submit_job([delay_op(0)])
        result = master.run_cli("job", "change-priority", "--priority", "high", str(second))
        assert result.returncode == 0, result.stdout + result.stderr
        assert client.query_jobs([second], ["priority"]) == [[constants.OP_PRIO_HIGH]]
        assert exec_order(client, [first, second]) == [second, first]


def test_sigkill_and_restart_keep_every_acknowledged_job(master: MasterProcess) -> None:
    with master.client() as client:
        running = client.submit_job([delay_op(30)])
        wait_status(client, running, "running")
        queued = [client.submit_job([delay_op(0)]) for _ in range(5)]
    master.kill()
    master.start()
    with master.client() as client:
        rows = client.query_jobs([running, *queued], ["id", "status", "opresult"])
        assert all(row is not None for row in rows)
        assert rows[0][1] == "error"
        assert "restarted" in str(rows[0][2][0])
        for job_id in queued:
            assert cli_jobs.wait_for_job(client, job_id, feedback=None) == "success"
        info = master.run_cli("job", "info", str(running))
        assert "Status: error" in info.stdout and "restarted" in info.stdout


def test_clean_shutdown_marks_jobs_still_running(master: MasterProcess) -> None:
    # A short shutdown timeout: the 30 s job cannot finish and is marked failed.
    master.stop()
    master.extra_args = (*master.extra_args, "--shutdown-timeout", "0.2")
    master.start()
    try:
        with master.client() as client:
            job_id = client.submit_job([delay_op(30)])
            wait_status(client, job_id, "running")
        assert master.stop() == 0
        assert "ganeti-masterd stopped" in master.log_text()
        master.start()
        with master.client() as client:
            status, result = client.query_jobs([job_id], ["status", "opresult"])[0]
        assert status == "error" and "shut down" in str(result)
    finally:
        master.stop()
        master.extra_args = master.extra_args[:-2]


def test_refuses_to_start_on_a_non_master(master: MasterProcess) -> None:
    env = master_env(master.root, "node7")
    result = subprocess.run([sys.executable, MASTERD, "-f"], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "this node (node7) is not the master node" in result.stderr
    assert "names node1 as the master" in result.stderr
    # The running master was not disturbed.
    assert master.client().query_config_values(["master_node"]) == ["node1"]


def test_second_master_on_the_same_node_is_refused(master: MasterProcess) -> None:
    result = subprocess.run([sys.executable, MASTERD, "-f"], env=master.env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "ganeti-masterd is already running on this node" in result.stderr
    assert master.client().query_config_values(["master_node"]) == ["node1"]


def test_daemonized_start_and_daemon_util(master: MasterProcess, tmp_path: Any) -> None:
    from master_cluster import TREE

    master.stop()
    daemon_util = [sys.executable, "%s/daemons/daemon-util" % TREE]
    started = subprocess.run([*daemon_util, "start", constants.MASTERD, *master.extra_args],
                             env=master.env, capture_output=True, text=True, timeout=60,
                             check=False)
    try:
        assert started.returncode == 0, started.stderr
        check = subprocess.run([*daemon_util, "check", constants.MASTERD], env=master.env,
                               timeout=60, check=False)
        assert check.returncode == 0
        with master.client() as client:
            job_id = client.submit_job([delay_op(0)])
            assert cli_jobs.wait_for_job(client, job_id, feedback=None) == "success"
    finally:
        stopped = subprocess.run([*daemon_util, "stop", constants.MASTERD], env=master.env,
                                 timeout=90, check=False)
    assert stopped.returncode == 0
    check = subprocess.run([*daemon_util, "check", constants.MASTERD], env=master.env,
                           timeout=60, check=False)
    assert check.returncode == 1
