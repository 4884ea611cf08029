"""Debian's Ganeti RAPI client (python3-ganeti-rapi) against ganeti-rapi.

The client is Ganeti's own ``GanetiRapiClient``; it lives in Debian's
dist-packages under the package name ``ganeti`` (clashing with ours), so it
runs under /usr/bin/python3 in a subprocess: the driver below reads a list
of calls as JSON and answers each one's result or the client's error.
Every answer is checked against the master's real state (luxi).
Operations whose logical unit does not exist yet are skipped, naming it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from noded_cluster import CLUSTER_NAME
from test_rapi_helpers import TEST_OS, USERS, RapiCluster, running_rapi

from ganeti import cmdlib, constants, opcodes, serializer

DEBIAN_PYTHON = "/usr/bin/python3"
DEBIAN_CLIENT = "/usr/lib/python3/dist-packages/ganeti/rapi/client.py"

DRIVER = r'''
import json, sys
from ganeti.rapi import client as rapi_client

config = json.loads(sys.stdin.readline())
cl = rapi_client.GanetiRapiClient(
    config["host"], port=config["port"], username=config["user"],
    password=config["password"],
    curl_config_fn=rapi_client.GenericCurlConfig(cafile=config["cafile"], timeout=120))
results = []
for name, args, kwargs in config["calls"]:
    try:
        results.append(["ok", getattr(cl, name)(*args, **kwargs)])
    except rapi_client.GanetiApiError as err:
        results.append(["error", {"code": err.code, "message": str(err)}])
print(json.dumps(results))
'''

pytestmark = pytest.mark.skipif(
    not (os.path.exists(DEBIAN_PYTHON) and os.path.exists(DEBIAN_CLIENT)),
    reason="Debian's python3-ganeti-rapi is not installed (apt-get install"
           " python3-ganeti-rapi)")


@pytest.fixture(scope="module")
def rapi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RapiCluster]:
    with running_rapi(str(tmp_path_factory.mktemp("rapi-client"))) as cluster:
        yield cluster


def client_calls(rapi: RapiCluster, *calls: tuple[str, list[Any], dict[str, Any]],
                 user: str = "admin") -> list[Any]:
    config = {"host": rapi.address, "port": rapi.port, "user": user,
              "password": USERS[user][0], "cafile": rapi.paths.rapi_cert_file,
              "calls": [list(call) for call in calls]}
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "PYTHONHOME")}
    done = subprocess.run([DEBIAN_PYTHON, "-c", DRIVER], input=serializer.dump(config) + "\n",
                          capture_output=True, text=True, timeout=300, env=env, cwd="/",
                          check=False)
    assert done.returncode == 0, done.stderr
    return list(serializer.load(done.stdout))


def one(rapi: RapiCluster, name: str, *args: Any, **kwargs: Any) -> Any:
    [(status, value)] = client_calls(rapi, (name, list(args), kwargs))
    assert status == "ok", (name, value)
    return value


def job_status(rapi: RapiCluster, job_id: int) -> str:
    with rapi.cluster.master.client() as client:
        return str(client.query_jobs([job_id], ["status"])[0][0])


def require_lus(*op_ids: str) -> None:
    missing = [op_id for op_id in op_ids if op_id not in cmdlib.LU_REGISTRY]
    if missing:
        pytest.skip("no logical unit yet for %s" % ", ".join(missing))


def test_info_features_version(rapi: RapiCluster) -> None:
    results = client_calls(rapi, ("GetVersion", [], {}), ("GetInfo", [], {}),
                           ("GetFeatures", [], {}))
    assert [status for status, _ in results] == ["ok"] * 3
    version, info, features = (value for _, value in results)
    assert version == 2
    assert info["name"] == CLUSTER_NAME and info["master"] == "node1"
    assert "instance-create-reqv1" in features


def test_jobs(rapi: RapiCluster) -> None:
    job_id = one(rapi, "AddClusterTags", ["client-tag"])
    assert one(rapi, "WaitForJobCompletion", job_id, period=0) is True
    assert job_status(rapi, job_id) == constants.JOB_STATUS_SUCCESS
    assert "client-tag" in one(rapi, "GetClusterTags")
    status = one(rapi, "GetJobStatus", job_id)
    assert status["status"] == "success" and status["ops"][0]["OP_ID"] == "OP_TAGS_SET"
    assert job_id in one(rapi, "GetJobs")
    assert job_id in [job["id"] for job in one(rapi, "GetJobs", bulk=True)]
    change = one(rapi, "WaitForJobChange", job_id, ["status"], None, None)
    assert change["job_info"] == ["success"]
    job_id = one(rapi, "DeleteClusterTags", ["client-tag"])
    assert one(rapi, "WaitForJobCompletion", job_id, period=0) is True
    assert "client-tag" not in one(rapi, "GetClusterTags")


def test_cancel_job(rapi: RapiCluster) -> None:
    op = opcodes.OpTestDelay(duration=60.0, on_master=True)
    with rapi.cluster.master.client() as client:
        job_id = client.submit_job([op.to_dict()])
    result = one(rapi, "CancelJob", job_id)
    assert result[0] is True
    assert one(rapi, "WaitForJobCompletion", job_id, period=0) is False
    assert job_status(rapi, job_id) == constants.JOB_STATUS_CANCELED


def test_nodes_and_roles(rapi: RapiCluster) -> None:
    assert one(rapi, "GetNodes") == ["node1", "node2"]
    bulk = one(rapi, "GetNodes", bulk=True)
    assert [node["name"] for node in bulk] == ["node1", "node2"]
    assert one(rapi, "GetNode", "node2")["pip"] == "127.0.1.2"
    assert one(rapi, "GetNodeRole", "node1") == "master"
    job_id = one(rapi, "SetNodeRole", "node2", "drained")
    assert one(rapi, "WaitForJobCompletion", job_id, period=0) is True
    with rapi.cluster.master.client() as client:
        row = client.query(constants.QR_NODE, ["drained"], ["=", "name", "node2"])
    assert row["data"] == [[[0, True]]]
    job_id = one(rapi, "SetNodeRole", "node2", "master-candidate")
    assert one(rapi, "WaitForJobCompletion", job_id, period=0) is True
    assert one(rapi, "GetNodeRole", "node2") == "master-candidate"
    job_id = one(rapi, "AddNodeTags", "node2", ["rack:9"])
    assert one(rapi, "WaitForJobCompletion", job_id, period=0) is True
    assert one(rapi, "GetNodeTags", "node2") == ["rack:9"]


def test_groups(rapi: RapiCluster) -> None:
    job_id = one(rapi, "CreateGroup", "blue", alloc_policy="preferred")
    assert one(rapi, "WaitForJobCompletion", job_id, period=0) is True
    assert sorted(one(rapi, "GetGroups")) == ["blue", "default"]
    assert one(rapi, "GetGroup", "blue")["alloc_policy"] == "preferred"
    job_id = one(rapi, "ModifyGroup", "blue", alloc_policy="unallocable")
    assert one(rapi, "WaitForJobCompletion", job_id, period=0) is True
    assert one(rapi, "GetGroup", "blue")["alloc_policy"] == "unallocable"
    job_id = one(rapi, "DeleteGroup", "blue")
    assert one(rapi, "WaitForJobCompletion", job_id, period=0) is True
    assert one(rapi, "GetGroups") == ["default"]


def test_query(rapi: RapiCluster) -> None:
    answer = one(rapi, "Query", "node", ["name", "pip"], qfilter=["=", "name", "node1"])
    assert answer["data"] == [[[0, "node1"], [0, "127.0.1.1"]]]
    fields = one(rapi, "QueryFields", "node", fields=["name"])
    assert fields["fields"][0]["name"] == "name"


def test_errors_reach_the_client(rapi: RapiCluster) -> None:
    [(status, error)] = client_calls(rapi, ("GetNode", ["node9"], {}))
    assert status == "error" and error["code"] == 404
    assert "Node 'node9' not found" in error["message"]
    [(status, error)] = client_calls(rapi, ("AddClusterTags", [["x"]], {}), user="reader")
    assert status == "error" and error["code"] == 403 and "OP_TAGS_SET" in error["message"]


def test_operating_systems(rapi: RapiCluster) -> None:
    require_lus("OP_OS_DIAGNOSE")
    names = one(rapi, "GetOperatingSystems")
    assert isinstance(names, list)


INSTANCE_LUS = ("OP_INSTANCE_CREATE", "OP_INSTANCE_STARTUP", "OP_INSTANCE_SHUTDOWN",
                "OP_INSTANCE_REBOOT", "OP_INSTANCE_REINSTALL", "OP_INSTANCE_SET_PARAMS",
                "OP_INSTANCE_REMOVE", "OP_TAGS_SET")


def run_job(rapi: RapiCluster, call: str, *args: Any, **kwargs: Any) -> None:
    """One client call submitting a job, waited for; fails with the job's error."""
    job_id = one(rapi, call, *args, **kwargs)
    if not one(rapi, "WaitForJobCompletion", job_id, period=0):
        raise AssertionError("%s failed: %s" % (call, one(rapi, "GetJobStatus",
                                                            job_id)["opresult"]))


def instance_value(rapi: RapiCluster, name: str, field: str) -> Any:
    with rapi.cluster.master.client() as client:
        answer = client.query(constants.QR_INSTANCE, [field], ["=", "name", name])
    return answer["data"][0][0][1]


def create_instance(rapi: RapiCluster, name: str) -> None:
    job_id = one(rapi, "CreateInstance", "create", name, "diskless", [], [],
                 pnode="node1", os=TEST_OS, hypervisor=constants.HT_FAKE, no_install=True,
                 ip_check=False, name_check=False, start=False)
    if not one(rapi, "WaitForJobCompletion", job_id, period=0):
        pytest.skip("instance creation failed here: %s"
                    % one(rapi, "GetJobStatus", job_id)["opresult"])


def test_instance_lifecycle(rapi: RapiCluster) -> None:
    require_lus(*INSTANCE_LUS)
    create_instance(rapi, "inst1.example.com")
    assert one(rapi, "GetInstances") == ["inst1.example.com"]
    assert one(rapi, "GetInstance", "inst1.example.com")["admin_state"] == "down"
    bulk = one(rapi, "GetInstances", bulk=True)
    assert [(i["name"], i["os"], i["pnode"]) for i in bulk] == [
        ("inst1.example.com", TEST_OS, "node1")]
    run_job(rapi, "StartupInstance", "inst1.example.com")
    assert instance_value(rapi, "inst1.example.com", "admin_state") == "up"
    run_job(rapi, "RebootInstance", "inst1.example.com", reboot_type="hard")
    run_job(rapi, "ShutdownInstance", "inst1.example.com")
    assert instance_value(rapi, "inst1.example.com", "admin_state") == "down"
    run_job(rapi, "ModifyInstance", "inst1.example.com", beparams={"maxmem": 256})
    assert instance_value(rapi, "inst1.example.com", "be/maxmem") == 256
    run_job(rapi, "ReinstallInstance", "inst1.example.com", no_startup=True)
    run_job(rapi, "AddInstanceTags", "inst1.example.com", ["owner:admin"])
    assert one(rapi, "GetInstanceTags", "inst1.example.com") == ["owner:admin"]
    run_job(rapi, "DeleteInstance", "inst1.example.com")
    assert one(rapi, "GetInstances") == []
    with rapi.cluster.master.client() as client:
        assert client.query(constants.QR_INSTANCE, ["name"], None)["data"] == []


def test_rename_instance(rapi: RapiCluster) -> None:
    require_lus("OP_INSTANCE_CREATE", "OP_INSTANCE_RENAME", "OP_INSTANCE_REMOVE")
    create_instance(rapi, "old.example.com")
    try:
        run_job(rapi, "RenameInstance", "old.example.com", "new.example.com",
                ip_check=False, name_check=False)
        assert one(rapi, "GetInstances") == ["new.example.com"]
    finally:
        for name in one(rapi, "GetInstances"):
            run_job(rapi, "DeleteInstance", name)
