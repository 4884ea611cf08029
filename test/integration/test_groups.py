"""gnt-group on a real one-node local cluster: add, list, info, modify, assign, rename,
remove, tags, and the refusals that must leave the configuration unchanged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from local_cluster_fixture import running_local_cluster
from test_nodes import _kill_leftover_sshd

from ganeti.config import ConfigWriter
from ganeti.tools.local_cluster import LocalCluster

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    base = str(tmp_path_factory.mktemp("groups-cluster"))
    cluster = None
    try:
        with running_local_cluster(base, nodes=1) as cluster:
            yield cluster
    finally:
        if cluster is not None:
            _kill_leftover_sshd(cluster)


def ok(cluster: LocalCluster, *argv: str) -> str:
    result = cluster.run_cli(1, list(argv))
    assert result.returncode == 0, "%s failed (%d): %s%s" % (
        " ".join(argv), result.returncode, result.stdout, result.stderr)
    return result.stdout


def config_bytes(cluster: LocalCluster) -> bytes:
    with open(cluster.master.paths.config_file, "rb") as handle:
        return handle.read()


def refused(cluster: LocalCluster, *argv: str) -> str:
    before = config_bytes(cluster)
    result = cluster.run_cli(1, list(argv))
    assert result.returncode != 0, "%s succeeded: %s" % (" ".join(argv), result.stdout)
    assert config_bytes(cluster) == before, "%s changed the configuration" % " ".join(argv)
    return result.stderr + result.stdout


def groups(cluster: LocalCluster, fields: str = "name,node_cnt,alloc_policy"
           ) -> dict[str, list[str]]:
    out = ok(cluster, "gnt-group", "list", "--no-headers", "--separator=|", "-o", fields)
    return {row[0]: row[1:] for row in (line.split("|") for line in out.splitlines())}


def test_group_lifecycle(cluster: LocalCluster) -> None:
    master = cluster.master.name
    assert groups(cluster) == {"default": ["1", "preferred"]}
    header = ok(cluster, "gnt-group", "list").splitlines()[0].split()
    assert header == ["Group", "Nodes", "Instances", "AllocPolicy", "NDParams"]

    ok(cluster, "gnt-group", "add", "--alloc-policy=last_resort",
       "--node-parameters=spindle_count=4", "--ipolicy-vcpu-ratio=2.5", "rack2")
    assert groups(cluster)["rack2"] == ["0", "last_resort"]
    group = ConfigWriter(cluster.master.paths.config_file).find_nodegroup("rack2")
    assert group is not None
    assert group.ndparams == {"spindle_count": 4} and group.ipolicy == {"vcpu-ratio": 2.5}
    ndparams = groups(cluster, "name,ndparams")["rack2"][0]
    assert "spindle_count=4" in ndparams

    err = refused(cluster, "gnt-group", "add", "rack2")
    assert "already exists" in err
    err = refused(cluster, "gnt-group", "add", "--node-parameters=nosuchparam=1", "rack3")
    assert "nosuchparam" in err
    err = refused(cluster, "gnt-group", "modify", "--node-parameters=spindle_count=-3", "rack2")
    assert "spindle_count" in err

    out = ok(cluster, "gnt-group", "modify", "--alloc-policy=preferred",
             "--node-parameters=spindle_count=default", "rack2")
    assert "alloc_policy" in out
    group = ConfigWriter(cluster.master.paths.config_file).find_nodegroup("rack2")
    assert group is not None
    assert group.ndparams == {} and group.alloc_policy == "preferred"

    ok(cluster, "gnt-group", "assign-nodes", "rack2", master)
    assert groups(cluster, "name,node_list") == {"default": [""], "rack2": [master]}
    assert ok(cluster, "gnt-node", "list", "--no-headers", "-o", "group").split() == ["rack2"]
    err = refused(cluster, "gnt-group", "remove", "rack2")
    assert "not empty" in err and master in err
    err = refused(cluster, "gnt-group", "assign-nodes", "rack2", "no-such-node")
    assert "no-such-node" in err

    ok(cluster, "gnt-group", "rename", "default", "spare")
    err = refused(cluster, "gnt-group", "rename", "spare", "rack2")
    assert "already exists" in err
    info = ok(cluster, "gnt-group", "info", "rack2")
    assert "Node group: rack2" in info and master in info

    ok(cluster, "gnt-group", "add-tags", "rack2", "row:4")
    assert ok(cluster, "gnt-group", "list-tags", "rack2").split() == ["row:4"]
    ok(cluster, "gnt-group", "remove-tags", "rack2", "row:4")

    ok(cluster, "gnt-group", "remove", "spare")
    assert list(groups(cluster)) == ["rack2"]
    err = refused(cluster, "gnt-group", "remove", "rack2")
    assert "not empty" in err or "last" in err
    fields = ok(cluster, "gnt-group", "list-fields", "--no-headers")
    assert {"name", "node_cnt", "pinst_cnt", "alloc_policy", "ndparams", "ipolicy"} <= {
        line.split()[0] for line in fields.splitlines()}
