"""gnt-instance add -I: the built-in allocator, an external allocator script and hail,
on a real 3-node cluster with the fake hypervisor."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator

import pytest
from ops_cluster import gnt, instance_rows, node_names, ops_cluster_up

from ganeti.tools.local_cluster import LocalCluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    yield from ops_cluster_up(tmp_path_factory)


_HAIL = "/usr/lib/ganeti/3.0/usr/lib/ganeti/iallocators/hail"
_ADD = ("gnt-instance", "add", "--no-name-check", "--no-ip-check", "-t", "diskless", "-o",
        "recorder+default")

_PICK_LAST = """#!/usr/bin/env python3
import json, shutil, sys
data = json.load(open(sys.argv[-1]))
shutil.copy(sys.argv[-1], %r)
req = data["request"]
nodes = sorted(n for n, d in data["nodes"].items()
               if not d["offline"] and not d["drained"] and d["free_memory"] >= req["memory"])
print(json.dumps({"success": bool(nodes), "info": "nothing fits", "result": nodes[-1:]}))
"""


def _install_allocator(cluster: LocalCluster, name: str, body: str | None = None,
                       target: str | None = None) -> None:
    directory = cluster.master.paths.iallocator_search_path[0]
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    if target is not None:
        os.symlink(target, path)
        return
    assert body is not None
    with open(path, "w") as handle:
        handle.write(body)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)


def test_external_allocator_speaks_the_protocol(cluster: LocalCluster,
                                                tmp_path: object) -> None:
    saved = os.path.join(str(tmp_path), "request.json")
    _install_allocator(cluster, "pick-last", _PICK_LAST % saved)
    out = gnt(cluster, *_ADD, "-B", "maxmem=256,vcpus=2", "-I", "pick-last",
              "ext1").stdout
    last = node_names(cluster)[-1]
    assert "Allocator pick-last selected node(s) %s" % last in out
    assert instance_rows(cluster)["ext1"] == [last, "running"]
    with open(saved) as handle:
        data = json.load(handle)
    assert data["version"] == 2 and data["cluster_name"] == cluster.cluster_name
    request = data["request"]
    assert (request["type"], request["name"], request["memory"], request["vcpus"],
            request["required_nodes"], request["disk_template"]) == \
        ("allocate", "ext1", 256, 2, 1, "diskless")
    assert set(data["nodes"]) == set(node_names(cluster))
    assert {"free_memory", "total_memory", "total_cpus", "i_pri_memory"} <= \
        set(data["nodes"][last])
    refused = gnt(cluster, *_ADD, "-B", "maxmem=100000000", "-I", "pick-last", "ext2",
                  ok=False)
    assert "pick-last could not satisfy the request: nothing fits" in refused.stderr
    assert "ext2" not in instance_rows(cluster)
    refused = gnt(cluster, *_ADD, "-I", "no-such-allocator", "ext3", ok=False)
    assert "no-such-allocator' not found in the allocator search path" in refused.stderr
    gnt(cluster, "gnt-instance", "remove", "-f", "ext1")


@pytest.mark.skipif(not os.access(_HAIL, os.X_OK),
                    reason="Debian's ganeti-htools-3.0 (hail) is not installed")
def test_hail_places_an_instance(cluster: LocalCluster) -> None:
    _install_allocator(cluster, "hail", target=_HAIL)
    out = gnt(cluster, *_ADD, "-I", "hail", "hail1").stdout
    pnode, status = instance_rows(cluster)["hail1"]
    assert "Allocator hail selected node(s) %s" % pnode in out
    assert pnode in node_names(cluster) and status == "running"
    gnt(cluster, "gnt-instance", "remove", "-f", "hail1")


def test_builtin_allocator_memory_drained_offline(cluster: LocalCluster) -> None:
    first, second, third = node_names(cluster)
    gnt(cluster, *_ADD, "-B", "maxmem=4096", "-n", first, "big1")
    gnt(cluster, *_ADD, "-B", "maxmem=2048", "-n", second, "big2")
    # The node with the most free memory (the fake hypervisor counts its instances).
    gnt(cluster, *_ADD, "-I", "builtin", "al1")
    assert instance_rows(cluster)["al1"][0] == third
    gnt(cluster, "gnt-instance", "remove", "-f", "al1")

    # Offline and drained nodes are never chosen.
    gnt(cluster, "gnt-node", "modify", "-O", "yes", third)
    gnt(cluster, *_ADD, "-I", "builtin", "al2")
    assert instance_rows(cluster)["al2"][0] == second
    gnt(cluster, "gnt-node", "modify", "-D", "yes", second)
    gnt(cluster, *_ADD, "-I", ".", "al3")  # the cluster default: built-in
    assert instance_rows(cluster)["al3"][0] == first

    # Not enough memory anywhere: a clear error naming each node; nothing created.
    refused = gnt(cluster, *_ADD, "-B", "maxmem=100000000", "-I", "builtin", "al4",
                  ok=False)
    assert "Can't find a node for instance al4" in refused.stderr
    assert "%s: offline" % third in refused.stderr
    assert "%s: drained" % second in refused.stderr
    assert "%s: " % first in refused.stderr and "MiB free memory, 100000000 MiB needed" \
        in refused.stderr
    assert "al4" not in instance_rows(cluster)
    gnt(cluster, "gnt-node", "modify", "-D", "no", second)
    for name in ("big1", "big2", "al2", "al3"):
        gnt(cluster, "gnt-instance", "remove", "-f", name)
