"""gnt-cluster verify and redist-conf on real node daemons and a real masterd."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from master_cluster import MasterCluster
from redist_cluster import (
    CLUSTER_PATHS,
    SSCONF_NODE_LIST,
    messages,
    problems,
    verify_cluster,
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MasterCluster]:
    with verify_cluster(str(tmp_path_factory.mktemp("verify")), count=3) as built:
        yield built


def _verify(cluster: MasterCluster, *args: str) -> tuple[int, list[str], str]:
    result = cluster.master.run_cli("cluster", "verify", *args)
    return result.returncode, problems(result.stdout), result.stdout + result.stderr


def _redist(cluster: MasterCluster) -> None:
    result = cluster.master.run_cli("cluster", "redist-conf")
    assert result.returncode == 0, result.stderr


def test_clean_cluster_verifies(cluster: MasterCluster) -> None:
    code, found, output = _verify(cluster)
    assert found == [], output
    assert code == 0, output
    lines = messages(output)
    for step in ("* Verifying cluster config", "* Gathering data (3 nodes)",
                 "* Verifying node status", "* Verifying configuration file consistency"):
        assert step in lines


def test_tampered_ssconf_is_reported_and_fixed_by_redist(cluster: MasterCluster) -> None:
    tampered = cluster.nodes.node("node2").paths.ssconf_file("node_list")
    with open(tampered, "a", encoding="ascii") as handle:
        handle.write("intruder.example.com\n")
    code, found, output = _verify(cluster, "--error-codes")
    assert code == 1, output
    assert len(found) == 1, output
    prefix = ("- ERROR:ECLUSTERFILECHECK:cluster::File %s found with 2 different checksums ("
              % SSCONF_NODE_LIST)
    assert found[0].startswith(prefix), output
    variants = sorted(found[0][len(prefix):].rstrip(")").split("; "))
    assert [v.split(" on ", 1)[1] for v in variants] in (
        ["node1, node3", "node2"], ["node2", "node1, node3"]), \
        output

    # Without --error-codes: Ganeti's human form.
    code, found, output = _verify(cluster)
    assert code == 1
    assert len(found) == 1 and found[0].startswith("- ERROR: cluster: File %s found with 2"
                                                   % SSCONF_NODE_LIST), output

    # -I demotes the code to a warning: exit 0.
    code, found, output = _verify(cluster, "-I", "ECLUSTERFILECHECK")
    assert code == 0, output
    assert len(found) == 1 and found[0].startswith("- WARNING: cluster: File"), output

    _redist(cluster)
    code, found, output = _verify(cluster)
    assert (code, found) == (0, []), output


def test_missing_file_names_the_node(cluster: MasterCluster) -> None:
    os.unlink(cluster.nodes.node("node3").paths.ssconf_file("cluster_name"))
    code, found, output = _verify(cluster)
    assert code == 1
    assert found == ["- ERROR: cluster: File %s is missing from node(s) node3"
                     % CLUSTER_PATHS.ssconf_file("cluster_name")], output
    _redist(cluster)
    assert _verify(cluster)[:2] == (0, [])


def test_stale_config_on_a_candidate(cluster: MasterCluster) -> None:
    config = cluster.nodes.node("node3").paths.config_file
    with open(config, "ab") as handle:
        handle.write(b" ")
    code, found, output = _verify(cluster, "--error-codes")
    assert code == 1
    assert any(line.startswith("- ERROR:ECLUSTERFILECHECK:cluster::File %s found with 2"
                               % CLUSTER_PATHS.config_file) and "node3" in line
               for line in found), output
    _redist(cluster)
    assert _verify(cluster)[:2] == (0, [])


def test_unreachable_node_is_an_rpc_error(cluster: MasterCluster) -> None:
    node3 = cluster.nodes.node("node3")
    node3.stop()
    try:
        code, found, output = _verify(cluster, "--error-codes")
    finally:
        node3.start()
    assert code == 1
    assert any(line.startswith("- ERROR:ENODERPC:node:node3:while contacting node:")
               for line in found), output
    # The other nodes can't reach node3's noded either.
    assert any(line.startswith("- ERROR:ENODENET:node:node1:tcp communication with node"
                               " 'node3'") for line in found), output
    assert _verify(cluster)[:2] == (0, [])


def test_simulated_errors_fail(cluster: MasterCluster) -> None:
    code, found, output = _verify(cluster, "--debug-simulate-errors", "--error-codes")
    assert code == 1
    codes = {line.split(":")[1] for line in found}
    assert {"ECLUSTERCFG", "ENODERPC", "ENODEVERSION", "ENODETIME",
            "ECLUSTERFILECHECK"} <= codes, output
    # Nothing was really wrong.
    assert _verify(cluster)[:2] == (0, [])


def test_unknown_group_is_refused(cluster: MasterCluster) -> None:
    result = cluster.master.run_cli("cluster", "verify", "--node-group", "nosuchgroup")
    assert result.returncode == 1
    assert "nosuchgroup" in result.stderr


def test_bad_ignore_code_is_a_usage_error(cluster: MasterCluster) -> None:
    result = cluster.master.run_cli("cluster", "verify", "-I", "EBOGUS")
    assert result.returncode == 2
    assert "EBOGUS" in result.stderr
