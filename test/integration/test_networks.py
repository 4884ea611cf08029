"""gnt-network, NICs on networks and /2/networks on a real two-node cluster.

One cluster (masterd, two nodeds, ganeti-rapi) for the module: networks are
created, connected and used by instances through the real CLI, RAPI and
Debian's RAPI client; every step is checked against the configuration the
master wrote and the environment the recorder OS saw.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from test_rapi_helpers import RapiCluster, running_rapi

from ganeti import constants, pathutils, serializer

TREE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEST_OS_DIR = os.path.join(TREE, "test", "data", "os")
DEBIAN_PYTHON = "/usr/bin/python3"
DEBIAN_CLIENT = "/usr/lib/python3/dist-packages/ganeti/rapi/client.py"


@pytest.fixture(scope="module")
def rapi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RapiCluster]:
    with running_rapi(str(tmp_path_factory.mktemp("networks"))) as cluster:
        for node in cluster.cluster.nodes.nodes:
            search_path = pathutils.for_root(node.root).os_search_path[0]
            for name in ("recorder", "failing"):
                shutil.copytree(os.path.join(TEST_OS_DIR, name),
                                os.path.join(search_path, name), dirs_exist_ok=True)
        yield cluster


def gnt(rapi: RapiCluster, command: str, *args: str, ok: bool = True
        ) -> subprocess.CompletedProcess[str]:
    result = rapi.cluster.master.run_cli(command, *args, timeout=120)
    if ok:
        assert result.returncode == 0, (command, args, result.stdout, result.stderr)
    else:
        assert result.returncode != 0, (command, args, result.stdout)
    return result


def fails(rapi: RapiCluster, command: str, *args: str) -> str:
    """A refused command's message; the configuration must be left as it was."""
    before = config(rapi)
    result = gnt(rapi, command, *args, ok=False)
    after = config(rapi)
    for key in ("networks", "instances", "nodegroups"):
        assert after[key] == before[key], key
    return result.stderr


def config(rapi: RapiCluster) -> dict[str, Any]:
    with open(rapi.paths.config_file, encoding="utf-8") as handle:
        data: dict[str, Any] = serializer.load(handle.read())
    return data


def network(rapi: RapiCluster, name: str) -> dict[str, Any]:
    [net] = [n for n in config(rapi)["networks"].values() if n["name"] == name]
    return net


def rows(rapi: RapiCluster, command: str, *args: str) -> list[list[str]]:
    out = gnt(rapi, command, *args, "--no-headers", "--separator=|").stdout
    return [line.split("|") for line in out.splitlines() if line]


def recorded_env(rapi: RapiCluster, instance: str) -> dict[str, str]:
    root = rapi.cluster.nodes.nodes[0].root
    path = os.path.join(pathutils.for_root(root).os_search_path[0], "recorder", "records",
                        "create-%s.env" % instance)
    with open(path, encoding="utf-8") as handle:
        return dict(line.rstrip("\n").split("=", 1) for line in handle if "=" in line)


def add_instance(rapi: RapiCluster, name: str, nic: str, *extra: str, ok: bool = True,
                 os_name: str = "recorder+default") -> subprocess.CompletedProcess[str]:
    node = rapi.cluster.nodes.nodes[0].name
    return gnt(rapi, "instance", "add", "-t", "diskless", "-o", os_name, "--no-name-check",
               "--no-ip-check", "-n", node, "--net", "0:" + nic, *extra, name, ok=ok)


def test_network_cli_and_instances(rapi: RapiCluster) -> None:
    # Bad definitions are refused, naming the problem.
    assert "host bits set" in fails(rapi, "network", "add", "--network", "192.0.2.1/29", "x")
    assert "too small" in fails(rapi, "network", "add", "--network", "192.0.2.0/31", "x")
    assert "Gateway 198.51.100.1 is not inside" in fails(
        rapi, "network", "add", "--network", "192.0.2.0/29", "--gateway", "198.51.100.1", "x")
    assert "--network option must be given" in fails(rapi, "network", "add", "x")

    gnt(rapi, "network", "add", "--network", "192.0.2.0/29", "--gateway", "192.0.2.1",
        "--add-reserved-ips", "192.0.2.6", "--mac-prefix", "02:AA:bb", "--tags", "t1,t2",
        "net1")
    assert "overlaps network 'net1'" in fails(rapi, "network", "add", "--network",
                                              "192.0.2.0/30", "other")
    assert rows(rapi, "network", "list") == [
        ["net1", "192.0.2.0/29", "192.0.2.1", "02:aa:bb", "", "t1,t2"]]
    assert network(rapi, "net1")["ext_reservations"] == "11000011"

    # Connected to the (only) group when no group is named; then used by instances.
    assert "not connected to node group default" in fails(
        rapi, "instance", "add", "-t", "diskless", "-o", "recorder+default", "--no-name-check",
        "--no-ip-check", "-n", rapi.cluster.nodes.nodes[0].name, "--net",
        "0:network=net1,ip=pool", "early")
    gnt(rapi, "network", "connect", "-N", "mode=bridged,link=br9", "net1")
    assert rows(rapi, "network", "list", "-o", "name,group_list,group_cnt") == [
        ["net1", "default (bridged, br9, )", "1"]]
    assert "still connected to node group(s) default" in fails(
        rapi, "network", "remove", "net1")

    add_instance(rapi, "inst1", "network=net1,ip=pool")
    net_uuid = network(rapi, "net1")["uuid"]
    assert network(rapi, "net1")["reservations"] == "00100000"
    env = recorded_env(rapi, "inst1")
    assert env["NIC_0_IP"] == "192.0.2.2"
    assert (env["NIC_0_MODE"], env["NIC_0_LINK"], env["NIC_0_BRIDGE"]) == ("bridged", "br9",
                                                                           "br9")
    assert env["NIC_0_MAC"].startswith("02:aa:bb:")
    assert {k: v for k, v in env.items() if k.startswith("NIC_0_NETWORK_")} == {
        "NIC_0_NETWORK_NAME": "net1", "NIC_0_NETWORK_UUID": net_uuid,
        "NIC_0_NETWORK_SUBNET": "192.0.2.0/29", "NIC_0_NETWORK_GATEWAY": "192.0.2.1",
        "NIC_0_NETWORK_MAC_PREFIX": "02:aa:bb", "NIC_0_NETWORK_TAGS": "t1 t2"}
    assert rows(rapi, "instance", "list", "-o",
                "name,nic.ip/0,nic.network.name/0,nic.networks.names,nic.link/0") == [
        ["inst1", "192.0.2.2", "net1", "net1", "br9"]]
    info = gnt(rapi, "network", "info", "net1").stdout
    assert "  Free: 3 (37.50%)" in info and "XXX...XX" in info
    assert "connected to node groups:\n    default (mode:bridged link:br9 vlan:)" in info
    assert "used by 1 instances:\n    inst1: 0:192.0.2.2" in info
    assert "192.0.2.0, 192.0.2.1, 192.0.2.6, 192.0.2.7" in info

    # Addresses: taken, outside, exhausted, and a NIC without network inside it.
    assert "already in use" in fails(rapi, "instance", "add", "-t", "diskless", "-o",
                                     "recorder+default", "--no-name-check", "--no-ip-check",
                                     "--net", "0:network=net1,ip=192.0.2.2", "clash")
    assert "not inside network net1" in add_instance(
        rapi, "outside", "network=net1,ip=10.9.9.9", ok=False).stderr
    assert "belongs to network net1" in add_instance(rapi, "plain", "ip=192.0.2.3",
                                                     ok=False).stderr
    assert "mode and link come from" in add_instance(
        rapi, "badmode", "network=net1,mode=routed", ok=False).stderr
    add_instance(rapi, "inst2", "network=net1,ip=192.0.2.3", "--no-start")
    add_instance(rapi, "inst3", "network=net1,ip=pool", "--no-start")
    add_instance(rapi, "inst4", "network=net1,ip=pool", "--no-start")
    assert network(rapi, "net1")["reservations"] == "00111100"
    assert "no free IP address left" in add_instance(rapi, "inst5", "network=net1,ip=pool",
                                                     ok=False).stderr
    assert "inst5" not in rows(rapi, "instance", "list", "-o", "name")[0]

    # A NIC leaving the network (removed) gives its address back; an added one takes one.
    gnt(rapi, "instance", "remove", "-f", "inst4")
    assert network(rapi, "net1")["reservations"] == "00111000"
    gnt(rapi, "instance", "modify", "--net", "add:network=net1,ip=pool", "inst3")
    assert network(rapi, "net1")["reservations"] == "00111100"
    gnt(rapi, "instance", "modify", "--net", "1:remove", "inst3")
    gnt(rapi, "instance", "modify", "--net", "0:ip=192.0.2.5", "inst2")
    assert network(rapi, "net1")["reservations"] == "00101100"

    # A failed creation keeps nothing reserved.
    assert "failing OS" in add_instance(rapi, "broken", "network=net1,ip=pool",
                                        os_name="failing", ok=False).stderr
    assert network(rapi, "net1")["reservations"] == "00101100"

    # Disconnect is refused while instances use the network; removal gives addresses back.
    assert "still used by instances of node group default" in fails(
        rapi, "network", "disconnect", "net1", "default")
    for name in ("inst1", "inst2", "inst3"):
        gnt(rapi, "instance", "remove", "-f", name)
    assert network(rapi, "net1")["reservations"] == "00000000"
    assert "not used by any instances" in gnt(rapi, "network", "info", "net1").stdout

    gnt(rapi, "network", "modify", "--gateway", "192.0.2.2", "--mac-prefix", "none", "net1")
    assert network(rapi, "net1")["ext_reservations"] == "10100011"
    assert network(rapi, "net1").get("mac_prefix") is None
    assert "at least one" in fails(rapi, "network", "modify", "net1")
    gnt(rapi, "network", "add-tags", "net1", "t3")
    assert gnt(rapi, "network", "list-tags", "net1").stdout.split() == ["t1", "t2", "t3"]
    gnt(rapi, "network", "rename", "net1", "net9")
    gnt(rapi, "network", "disconnect", "net9")
    gnt(rapi, "network", "remove", "net9")
    assert config(rapi)["networks"] == {}
    fields = rows(rapi, "network", "list-fields")
    assert [f[0] for f in fields if f[0] in ("free_count", "map", "inst_cnt")] == [
        "free_count", "inst_cnt", "map"]


def test_networks_over_rapi(rapi: RapiCluster) -> None:
    job = rapi.ok("POST", "/2/networks", {"network_name": "rnet", "network": "198.51.100.0/28",
                                          "gateway": "198.51.100.1", "tags": ["r1"]})
    assert rapi.wait_job(int(job))["status"] == constants.JOB_STATUS_SUCCESS
    job = rapi.ok("PUT", "/2/networks/rnet/connect", {
        "group_name": "default", "network_mode": "routed", "network_link": "rt1"})
    assert rapi.wait_job(int(job))["status"] == constants.JOB_STATUS_SUCCESS
    assert rapi.ok("GET", "/2/networks") == [{"name": "rnet", "uri": "/2/networks/rnet"}]
    [bulk] = rapi.ok("GET", "/2/networks?bulk=1")
    assert bulk["group_list"] == [["default", "routed", "rt1", ""]]
    assert (bulk["free_count"], bulk["reserved_count"], bulk["tags"]) == (13, 3, ["r1"])
    one = rapi.ok("GET", "/2/networks/rnet")
    assert one["gateway"] == "198.51.100.1" and one["map"] == "XX" + "." * 13 + "X"
    answer = rapi.ok("GET", "/2/query/network?fields=name,free_count,inst_cnt")
    assert answer["data"] == [[[0, "rnet"], [0, 13], [0, 0]]]

    # Removal while connected: the job fails with the reason, and nothing changes.
    job = rapi.ok("DELETE", "/2/networks/rnet")
    failed = rapi.wait_job(int(job))
    assert failed["status"] == constants.JOB_STATUS_ERROR
    assert "still connected" in serializer.dump(failed["opresult"])
    job = rapi.ok("PUT", "/2/networks/rnet/modify", {"add_reserved_ips": ["198.51.100.9"]})
    assert rapi.wait_job(int(job))["status"] == constants.JOB_STATUS_SUCCESS
    assert network(rapi, "rnet")["ext_reservations"][9] == "1"
    job = rapi.ok("PUT", "/2/networks/rnet/tags?tag=r2")
    assert rapi.wait_job(int(job))["status"] == constants.JOB_STATUS_SUCCESS
    assert rapi.ok("GET", "/2/networks/rnet/tags") == ["r1", "r2"]
    for path, body in (("/2/networks/rnet/disconnect", {"group_name": "default"}),
                       ("/2/networks/rnet/rename", {"new_name": "rnet2"})):
        job = rapi.ok("PUT", path, body)
        assert rapi.wait_job(int(job))["status"] == constants.JOB_STATUS_SUCCESS
    job = rapi.ok("DELETE", "/2/networks/rnet2")
    assert rapi.wait_job(int(job))["status"] == constants.JOB_STATUS_SUCCESS
    assert rapi.ok("GET", "/2/networks") == []


@pytest.mark.skipif(not (os.path.exists(DEBIAN_PYTHON) and os.path.exists(DEBIAN_CLIENT)),
                    reason="Debian's python3-ganeti-rapi is not installed")
def test_networks_with_debian_client(rapi: RapiCluster) -> None:
    from test_rapi_client import client_calls

    def call(name: str, *args: Any, **kwargs: Any) -> Any:
        [(status, value)] = client_calls(rapi, (name, list(args), kwargs))
        assert status == "ok", (name, value)
        return value

    def done(job_id: Any) -> None:
        assert call("WaitForJobCompletion", job_id, period=0) is True

    done(call("CreateNetwork", "cnet", "203.0.113.0/29", gateway="203.0.113.1",
              add_reserved_ips="203.0.113.5"))  # no tags: the client sends "tags": null
    done(call("AddNetworkTags", "cnet", ["c1"]))
    done(call("ConnectNetwork", "cnet", "default", "bridged", "br3"))
    assert call("GetNetworks") == ["cnet"]
    info = call("GetNetwork", "cnet")
    assert info["group_list"] == [["default", "bridged", "br3", ""]]
    assert info["external_reservations"] == "203.0.113.0, 203.0.113.1, 203.0.113.5, 203.0.113.7"
    done(call("ModifyNetwork", "cnet", remove_reserved_ips=["203.0.113.5"]))
    done(call("AddNetworkTags", "cnet", ["c2"]))
    assert call("GetNetworkTags", "cnet") == ["c1", "c2"]
    done(call("DisconnectNetwork", "cnet", "default"))
    done(call("DeleteNetwork", "cnet"))
    assert call("GetNetworks") == []
