"""Fake instances driven through real noded processes and the RPC client."""

from __future__ import annotations

import os

import pytest
from noded_cluster import NodedCluster
from test_storage_rpc import configure_file_storage, file_disk

from ganeti import constants, errors, hypervisor

FAKE = [constants.HT_FAKE]
HVPARAMS = {constants.HT_FAKE: {"migration_mode": "live"}}


def make_instance(name: str, maxmem: int = 128, vcpus: int = 1,
                  disks: list | None = None, os_name: str = "tiny") -> dict:
    return {"name": name, "uuid": "uuid-" + name, "os": os_name,
            "hypervisor": constants.HT_FAKE, "hvparams": {"migration_mode": "live"},
            "beparams": {"maxmem": maxmem, "minmem": maxmem, "vcpus": vcpus},
            "osparams": {}, "nics": [], "disks": disks or [], "primary_node": "node1",
            "admin_state": "up"}


def running_on(cluster: NodedCluster) -> dict[str, list[str]]:
    results = cluster.client().call("instance_list", cluster.addresses(), [FAKE, HVPARAMS])
    return {name: result.raise_if_failed() for name, result in results.items()}


def test_start_info_reboot_stop(noded_cluster):
    client = noded_cluster.client()
    node = noded_cluster.nodes[0].node_address
    inst = make_instance("alpha.example.com", maxmem=300, vcpus=3)
    client.call_one("instance_start", node, [inst, False]).raise_if_failed()
    assert running_on(noded_cluster) == {"node1": [inst["name"]], "node2": [], "node3": []}
    info = client.call_one("instance_info", node,
                           [inst["name"], constants.HT_FAKE, {}]).raise_if_failed()
    assert (info["memory"], info["vcpus"], info["state"]) == (300, 3, "running")
    everything = client.call_one("all_instances_info", node, [FAKE, HVPARAMS]
                                 ).raise_if_failed()
    assert everything[inst["name"]]["memory"] == 300
    # starting again leaves it running (Ganeti's node-side behaviour)
    client.call_one("instance_start", node, [inst, False]).raise_if_failed()
    client.call_one("instance_reboot", node, [inst, "hard", 10]).raise_if_failed()
    client.call_one("instance_shutdown", node, [inst, 10]).raise_if_failed()
    client.call_one("instance_shutdown", node, [inst, 10]).raise_if_failed()  # no-op
    assert client.call_one("instance_info", node,
                           [inst["name"], constants.HT_FAKE, {}]).raise_if_failed() is None
    failed = client.call_one("instance_reboot", node, [inst, "soft", 10])
    assert isinstance(failed.exception, errors.HypervisorError)
    with pytest.raises(errors.HypervisorError, match="not running"):
        failed.raise_if_failed()


def test_node_info_counts_fake_instances(noded_cluster):
    client = noded_cluster.client()
    node = noded_cluster.nodes[2]
    inst = make_instance("beta.example.com", maxmem=1000)
    client.call_one("instance_start", node.node_address, [inst, False]).raise_if_failed()
    try:
        hv = hypervisor.get_hypervisor(constants.HT_FAKE, node.paths)
        assert hv.get_node_info({})["memory_hv"] == 1000
    finally:
        client.call_one("instance_shutdown", node.node_address, [inst, 5]).raise_if_failed()


def test_migration_between_nodes(noded_cluster):
    client = noded_cluster.client()
    src, dst = noded_cluster.nodes[0], noded_cluster.nodes[1]
    inst = make_instance("gamma.example.com", maxmem=256)
    client.call_one("instance_start", src.node_address, [inst, False]).raise_if_failed()
    info = client.call_one("migration_info", src.node_address, [inst]).raise_if_failed()
    client.call_one("accept_instance", dst.node_address,
                    [inst, info, dst.address]).raise_if_failed()
    client.call_one("instance_migrate", src.node_address,
                    ["cluster", inst, dst.address, True]).raise_if_failed()
    status = client.call_one("instance_get_migration_status", src.node_address,
                             [inst]).raise_if_failed()
    assert status["status"] == "completed"
    client.call_one("instance_finalize_migration_dst", dst.node_address,
                    [inst, info, True]).raise_if_failed()
    client.call_one("instance_finalize_migration_src", src.node_address,
                    [inst, True, True]).raise_if_failed()
    placement = running_on(noded_cluster)
    assert inst["name"] in placement["node2"] and inst["name"] not in placement["node1"]
    client.call_one("instance_shutdown", dst.node_address, [inst, 5]).raise_if_failed()


def test_instance_with_file_disk_and_os_install(noded_cluster):
    node = noded_cluster.nodes[0]
    storage_dir = configure_file_storage(node)
    os_dir = os.path.join(node.paths.os_search_path[0], "dumper")
    os.makedirs(os_dir, exist_ok=True)
    with open(os.path.join(os_dir, "ganeti_api_version"), "w") as handle:
        handle.write("15\n10\n")
    scripts = {"create": "#!/bin/sh\nenv > \"$(pwd)/create.env\"\n",
               "import": "#!/bin/sh\n", "export": "#!/bin/sh\n", "rename": "#!/bin/sh\n"}
    for script, body in scripts.items():
        with open(os.path.join(os_dir, script), "w") as handle:
            handle.write(body)
        os.chmod(os.path.join(os_dir, script), 0o755)
    client = noded_cluster.client()
    disk = file_disk(os.path.join(storage_dir, "delta", "disk0"), 16)
    inst = make_instance("delta.example.com", disks=[disk], os_name="dumper")
    target = node.node_address
    client.call_one("blockdev_create", target,
                    [disk, 16, inst["name"], True, "", False]).raise_if_failed()
    client.call_one("instance_os_add", target, [inst, False, 0]).raise_if_failed()
    with open(os.path.join(os_dir, "create.env")) as handle:
        env = dict(line.split("=", 1) for line in handle.read().splitlines() if "=" in line)
    assert env["INSTANCE_NAME"] == inst["name"]
    assert env["DISK_COUNT"] == "1"
    assert env["DISK_0_PATH"] == disk["logical_id"][1]
    assert env["OS_API_VERSION"] == "15"
    client.call_one("blockdev_assemble", target, [disk, inst["name"], True, 0]
                    ).raise_if_failed()
    client.call_one("instance_start", target, [inst, False]).raise_if_failed()
    assert os.readlink(os.path.join(node.paths.instance_disks_dir,
                                    inst["name"] + ":0")) == disk["logical_id"][1]
    client.call_one("instance_shutdown", target, [inst, 5]).raise_if_failed()
    client.call_one("blockdev_remove", target, [disk]).raise_if_failed()
    assert not os.path.exists(disk["logical_id"][1])
