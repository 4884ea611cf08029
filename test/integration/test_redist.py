"""RedistributeConfig: extra files, candidates, pool growth, modify's errors."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from master_cluster import MasterCluster
from redist_cluster import CLUSTER_PATHS, node_has, problems, read_node_file, verify_cluster

from ganeti.config import ConfigWriter

EXTRA_ALL = "/etc/ganeti-test/extra-all.conf"
EXTRA_MC = "/etc/ganeti-test/extra-candidates.conf"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MasterCluster]:
    # node3 is no master candidate; the pool (2) is full.
    with verify_cluster(str(tmp_path_factory.mktemp("redist")), count=3,
                        candidates=["node1", "node2"], pool_size=2) as built:
        yield built


def _master_file(cluster: MasterCluster, cluster_path: str, content: bytes) -> None:
    path = os.path.join(cluster.nodes.master.root, cluster_path.lstrip("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(content)


def _config(cluster: MasterCluster) -> ConfigWriter:
    return ConfigWriter(cluster.nodes.master.paths.config_file)


def _verify_clean(cluster: MasterCluster) -> None:
    result = cluster.master.run_cli("cluster", "verify")
    assert (result.returncode, problems(result.stdout)) == (0, []), result.stdout


def test_candidate_files_only_on_candidates(cluster: MasterCluster) -> None:
    for name in ("node1", "node2"):
        assert node_has(cluster, name, CLUSTER_PATHS.config_file)
        assert node_has(cluster, name, CLUSTER_PATHS.rapi_cert_file)
    assert not node_has(cluster, "node3", CLUSTER_PATHS.config_file)
    assert not node_has(cluster, "node3", CLUSTER_PATHS.rapi_cert_file)
    assert node_has(cluster, "node3", CLUSTER_PATHS.ssconf_file("node_list"))
    assert read_node_file(cluster, "node2", CLUSTER_PATHS.config_file) == read_node_file(
        cluster, "node1", CLUSTER_PATHS.config_file)
    _verify_clean(cluster)


def test_config_on_a_non_candidate_is_flagged(cluster: MasterCluster) -> None:
    stray = os.path.join(cluster.nodes.node("node3").root,
                         CLUSTER_PATHS.config_file.lstrip("/"))
    with open(stray, "wb") as handle:
        handle.write(read_node_file(cluster, "node1", CLUSTER_PATHS.config_file))
    try:
        result = cluster.master.run_cli("cluster", "verify")
    finally:
        os.unlink(stray)
    assert result.returncode == 1
    assert problems(result.stdout) == ["- ERROR: cluster: File %s should not exist on node(s)"
                                       " node3" % CLUSTER_PATHS.config_file], result.stdout
    _verify_clean(cluster)


def test_save_pushes_config_and_ssconf(cluster: MasterCluster) -> None:
    result = cluster.master.run_cli("cluster", "add-tags", "pushed-tag")
    if "no logical unit implements it" in result.stderr:
        pytest.skip("OpTagsSet has no logical unit yet")
    assert result.returncode == 0, result.stderr
    for name in ("node2", "node3"):
        tags = read_node_file(cluster, name, CLUSTER_PATHS.ssconf_file("cluster_tags"))
        assert b"pushed-tag" in tags.split(b"\n")
    assert read_node_file(cluster, "node2", CLUSTER_PATHS.config_file) == read_node_file(
        cluster, "node1", CLUSTER_PATHS.config_file)


def test_extra_files_reach_their_nodes(cluster: MasterCluster) -> None:
    _master_file(cluster, EXTRA_ALL, b"for every node\n")
    _master_file(cluster, EXTRA_MC, b"for the candidates\n")
    result = cluster.master.run_cli(
        "cluster", "modify", "--add-redistribute-file", EXTRA_ALL,
        "--add-redistribute-file", EXTRA_MC + ":master-candidates")
    assert result.returncode == 0, result.stderr + result.stdout
    for name in ("node2", "node3"):
        assert read_node_file(cluster, name, EXTRA_ALL) == b"for every node\n"
    assert read_node_file(cluster, "node2", EXTRA_MC) == b"for the candidates\n"
    assert not node_has(cluster, "node3", EXTRA_MC)
    entries = _config(cluster).get_cluster_info().redistribute_files
    assert entries == [{"path": EXTRA_ALL, "nodes": "all"},
                       {"path": EXTRA_MC, "nodes": "master-candidates"}]
    _verify_clean(cluster)

    # A changed master copy: verify reports the node copies, redist-conf fixes them.
    _master_file(cluster, EXTRA_ALL, b"changed on the master\n")
    result = cluster.master.run_cli("cluster", "verify", "--error-codes")
    assert result.returncode == 1
    assert any(line.startswith("- ERROR:ECLUSTERFILECHECK:cluster::File %s found with 2"
                               % EXTRA_ALL) for line in problems(result.stdout)), result.stdout
    assert cluster.master.run_cli("cluster", "redist-conf").returncode == 0
    assert read_node_file(cluster, "node3", EXTRA_ALL) == b"changed on the master\n"
    _verify_clean(cluster)


def test_removing_an_unlisted_file_is_refused(cluster: MasterCluster) -> None:
    serial = _config(cluster).get_config_serial()
    result = cluster.master.run_cli("cluster", "modify", "--remove-redistribute-file",
                                    "/etc/not-listed")
    assert result.returncode == 1
    assert "/etc/not-listed is not on the list of redistributed files" in result.stderr
    assert _config(cluster).get_config_serial() == serial


@pytest.mark.parametrize("args, expected", [
    (["-B", "bogus=1"], "beparams of cluster: unknown parameter 'bogus'"),
    (["-H", "fake:no_such_param=1"], "unknown parameter 'no_such_param'"),
    (["-H", "nohv:x=1"], "Unknown hypervisor 'nohv'"),
    (["--node-parameters", "ssh_port=notaport"], "ssh_port"),
    (["--enabled-hypervisors", "fake,nonexistent"], "nonexistent"),
    (["--file-storage-dir", "relative/dir"], "file_storage_dir must be an absolute path"),
    (["--add-redistribute-file", "relative.conf"], "expected an absolute path"),
    (["--add-redistribute-file", CLUSTER_PATHS.config_file], "already replicated"),
])
def test_modify_rejects_bad_parameters(cluster: MasterCluster, args: list[str],
                                       expected: str) -> None:
    serial = _config(cluster).get_config_serial()
    result = cluster.master.run_cli("cluster", "modify", *args)
    assert result.returncode == 1, result.stdout
    assert expected in result.stderr
    assert _config(cluster).get_config_serial() == serial


def test_modify_params_and_default_removes_override(cluster: MasterCluster) -> None:
    result = cluster.master.run_cli("cluster", "modify", "-B", "vcpus=2",
                                    "--node-parameters", "spindle_count=3")
    assert result.returncode == 0, result.stderr
    info = _config(cluster).get_cluster_info()
    assert info.beparams["default"]["vcpus"] == 2
    assert info.ndparams["spindle_count"] == 3
    result = cluster.master.run_cli("cluster", "modify", "-B", "vcpus=default")
    assert result.returncode == 0, result.stderr
    assert "vcpus" not in _config(cluster).get_cluster_info().beparams["default"]


def test_growing_the_pool_promotes_and_ships_files(cluster: MasterCluster) -> None:
    result = cluster.master.run_cli("cluster", "modify", "-C", "3")
    assert result.returncode == 0, result.stderr
    assert "Promoted nodes to master candidate role: node3" in result.stdout
    node3 = _config(cluster).get_node_info_by_name("node3")
    assert node3.master_candidate
    assert read_node_file(cluster, "node3", CLUSTER_PATHS.config_file) == read_node_file(
        cluster, "node1", CLUSTER_PATHS.config_file)
    assert node_has(cluster, "node3", CLUSTER_PATHS.rapi_cert_file)
    if _config(cluster).get_cluster_info().redistribute_files:
        assert node_has(cluster, "node3", EXTRA_MC)
    _verify_clean(cluster)
