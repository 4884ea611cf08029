"""File disks and OS definitions through real noded processes and the RPC client."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from noded_cluster import NodedCluster, NodedNode

from ganeti import constants, errors, ssconf

MIB = 1024 * 1024


def configure_file_storage(node: NodedNode) -> str:
    """Give the node a cluster file storage dir (ssconf) and allow it; return the dir."""
    paths = node.paths
    storage_dir = paths.default_file_storage_dir
    os.makedirs(storage_dir, exist_ok=True)
    values = ssconf.SimpleStore(paths).read_all()
    values["file_storage_dir"] = storage_dir
    ssconf.write_files(values, paths)
    os.makedirs(paths.conf_dir, exist_ok=True)
    with open(paths.file_storage_paths_file, "w") as handle:
        handle.write(storage_dir + "\n")
    return storage_dir


def file_disk(path: str, size: int, fmt: str = "raw") -> dict:
    return {"uuid": "disk-uuid", "name": None, "dev_type": constants.DT_FILE,
            "logical_id": [constants.FD_LOOP, path], "size": size, "mode": "rw",
            "iv_name": "disk/0", "params": {"format": fmt}, "children": []}


@pytest.fixture(scope="module")
def storage_node(noded_cluster: NodedCluster) -> NodedNode:
    node = noded_cluster.nodes[1]
    configure_file_storage(node)
    return node


def test_file_disk_life_cycle(noded_cluster, storage_node):
    client = noded_cluster.client()
    target = storage_node.node_address
    path = os.path.join(storage_node.paths.default_file_storage_dir, "web1", "disk0")
    disk = file_disk(path, 32)
    created = client.call_one("blockdev_create", target,
                              [disk, 32, "web1", True, "web1", False]).raise_if_failed()
    assert created == path
    assert os.stat(path).st_size == 32 * MIB
    # only the called node got the disk
    other = noded_cluster.nodes[2].paths.default_file_storage_dir
    assert not os.path.exists(os.path.join(other, "web1"))
    sizes = client.call_one("blockdev_getsize", target, [[disk]]).raise_if_failed()
    assert sizes == [32 * MIB]
    client.call_one("blockdev_grow", target, [disk, 16, False, True, False]).raise_if_failed()
    assert os.stat(path).st_size == 48 * MIB
    found = client.call_one("blockdev_find", target, [disk]).raise_if_failed()
    assert found["dev_path"] == path and found["size"] == 48 * MIB
    link, uri = client.call_one("blockdev_assemble", target,
                                [disk, "web1", True, 0]).raise_if_failed()
    assert os.readlink(link) == path and uri is None
    client.call_one("blockdev_remove", target, [disk]).raise_if_failed()
    assert not os.path.exists(path)
    assert client.call_one("blockdev_find", target, [disk]).raise_if_failed() is None


def test_qcow2_disk(noded_cluster, storage_node):
    client = noded_cluster.client()
    target = storage_node.node_address
    path = os.path.join(storage_node.paths.default_file_storage_dir, "web2.qcow2")
    disk = file_disk(path, 20, "qcow2")
    client.call_one("blockdev_create", target,
                    [disk, 20, "web2", False, "", False]).raise_if_failed()
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", path], check=True,
                                     capture_output=True, text=True).stdout)
    assert info["format"] == "qcow2" and info["virtual-size"] == 20 * MIB
    client.call_one("blockdev_remove", target, [disk]).raise_if_failed()
    assert not os.path.exists(path)


def test_path_escape_refused_over_rpc(noded_cluster, storage_node, tmp_path):
    client = noded_cluster.client()
    target = storage_node.node_address
    escape = storage_node.paths.default_file_storage_dir + "/../../escaped.img"
    result = client.call_one("blockdev_create", target,
                             [file_disk(escape, 8), 8, "web3", False, "", False])
    assert not result.success
    assert isinstance(result.exception, errors.FileStoragePathError)
    assert escape in str(result.exception)
    with pytest.raises(errors.FileStoragePathError, match="outside"):
        result.raise_if_failed()
    assert not os.path.exists(os.path.normpath(escape))


def test_unconfigured_node_refuses_file_disks(noded_cluster):
    node = noded_cluster.nodes[2]  # no file storage configured there
    client = noded_cluster.client()
    path = os.path.join(node.paths.default_file_storage_dir, "x.img")
    result = client.call_one("blockdev_create", node.node_address,
                             [file_disk(path, 8), 8, "web4", False, "", False])
    assert isinstance(result.exception, errors.FileStoragePathError)
    assert "file_storage_dir" in str(result.exception)


def test_storage_list_over_rpc(noded_cluster, storage_node):
    client = noded_cluster.client()
    rows = client.call_one("storage_list", storage_node.node_address,
                           [constants.ST_FILE, [], None, ["name", "size", "free"]]
                           ).raise_if_failed()
    assert len(rows) == 1
    name, size, free = rows[0]
    assert name == storage_node.paths.default_file_storage_dir
    assert size > 0 and 0 <= free <= size


def test_os_diagnose_over_rpc(noded_cluster):
    node = noded_cluster.nodes[0]
    os_dir = os.path.join(node.paths.os_search_path[0], "tiny")
    os.makedirs(os_dir, exist_ok=True)
    with open(os.path.join(os_dir, "ganeti_api_version"), "w") as handle:
        handle.write("10\n")
    for script in ("create", "import", "export", "rename"):
        with open(os.path.join(os_dir, script), "w") as handle:
            handle.write("#!/bin/sh\nexit 0\n")
        os.chmod(os.path.join(os_dir, script), 0o755)
    client = noded_cluster.client()
    results = client.call("os_diagnose", noded_cluster.addresses())
    by_node = {name: r.raise_if_failed() for name, r in results.items()}
    assert [row[:4] for row in by_node[node.name]] == [["tiny", os_dir, True, ""]]
    assert by_node[noded_cluster.nodes[1].name] == []
    os_def = client.call_one("os_get", node.node_address, ["tiny"]).raise_if_failed()
    assert os_def["api_versions"] == [10]
    missing = client.call_one("os_get", noded_cluster.nodes[1].node_address, ["tiny"])
    assert isinstance(missing.exception, errors.InvalidOS)

