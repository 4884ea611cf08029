"""ganeti-masterd with real node daemons: OpTestDelay on nodes through node RPC."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from master_cluster import MasterCluster, running_master


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MasterCluster]:
    with running_master(str(tmp_path_factory.mktemp("masterd-nodes")), count=2,
                        start_noded=True) as master_cluster:
        yield master_cluster


def test_delay_on_nodes(cluster: MasterCluster) -> None:
    master = cluster.master
    result = master.run_cli("debug", "delay", "--no-master", "-n", "node1", "-n", "node2",
                            "--print-jobid", "0.1")
    assert result.returncode == 0, result.stderr
    job_id = int(result.stdout.splitlines()[0])
    with master.client() as client:
        ops = client.query_jobs([job_id], ["ops", "status"])[0]
    assert ops[1] == "success"
    assert ops[0][0]["on_nodes"] == ["node1", "node2"]
    assert ops[0][0]["on_master"] is False


def test_delay_on_unknown_node_fails_clearly(cluster: MasterCluster) -> None:
    result = cluster.master.run_cli("debug", "delay", "-n", "node9", "0")
    assert result.returncode == 1
    assert "node9" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1  # one line, no traceback


def test_delay_on_a_stopped_node_reports_the_node(cluster: MasterCluster) -> None:
    node2 = cluster.nodes.node("node2")
    node2.stop()
    try:
        result = cluster.master.run_cli("debug", "delay", "--no-master", "-n", "node2", "0")
        assert result.returncode == 1
        assert "node2" in result.stderr
    finally:
        node2.start()
