"""gnt-node list-storage/modify-storage/repair-storage/volumes and gnt-cluster
verify-disks/repair-disk-sizes on a real three-node local cluster, and the
RAPI storage resources of the nodes (through the cluster's own ganeti-rapi).
"""

from __future__ import annotations

import base64
import http.client
import os
import shutil
import ssl
import time
from collections.abc import Iterator
from typing import Any

import pytest
from instance_cluster import Gnt, running_instance_cluster

from ganeti import constants, serializer
from ganeti.utils import io

pytestmark = pytest.mark.timeout(600)

ADD = ("gnt-instance", "add", "--no-name-check", "--no-ip-check", "-o", "recorder+default")
RAPI_USER, RAPI_PASSWORD = "storage-admin", "storage-secret"


@pytest.fixture(scope="module")
def gnt() -> Iterator[Gnt]:
    with running_instance_cluster() as cluster:
        yield cluster
        # masterd put the master IP on lo; leave no address behind.
        cluster("gnt-cluster", "deactivate-master-ip", "--yes", check=False)


def _fs_size_mib(directory: str) -> int:
    stats = os.statvfs(directory)
    return stats.f_blocks * stats.f_frsize // (1024 * 1024)


def _disk_of(gnt: Gnt, instance: str) -> dict[str, Any]:
    config = gnt.config()
    inst = next(i for i in config["instances"].values() if i["name"] == instance)
    return dict(config["disks"][inst["disks"][0]])


# -- list-storage ------------------------------------------------------------------------

def test_list_storage_of_file_storage(gnt: Gnt) -> None:
    directory = gnt.file_storage_dir()
    # 3 MiB of real data below the directory: "used" counts allocated blocks.
    probe_dir = os.path.join(directory, "storage-probe")
    os.makedirs(probe_dir, exist_ok=True)
    with open(os.path.join(probe_dir, "blob"), "wb") as handle:
        handle.write(os.urandom(3 * 1024 * 1024))
    try:
        rows = gnt.rows("gnt-node", "list-storage", "--storage-type", "file", "--units", "m")
    finally:
        shutil.rmtree(probe_dir)
    names = [gnt.node_name(i) for i in (1, 2, 3)]
    assert [row[0] for row in rows] == names
    for _node, kind, name, size, used, free, allocatable in rows:
        assert (kind, name, allocatable) == ("file", directory, "Y")
        assert int(size) == _fs_size_mib(directory)
        assert int(used) >= 3
        assert 0 <= int(free) <= int(size)

    table = gnt("gnt-node", "list-storage", "-t", "file", "-o", "name,node",
                gnt.node_name(2)).stdout.splitlines()
    assert table[0].split() == ["Name", "Node"]
    assert [line.split() for line in table[1:]] == [[directory, gnt.node_name(2)]]


def test_list_storage_bad_input(gnt: Gnt) -> None:
    # The first enabled template is diskless, which has no storage to report.
    out = gnt.fails("gnt-node", "list-storage")
    assert "Storage reporting for storage type 'diskless'" in out
    assert "--storage-type" in out
    out = gnt.fails("gnt-node", "list-storage", "-t", "lvm-vg")
    assert "No disk template of storage type 'lvm-vg' is enabled" in out
    out = gnt.fails("gnt-node", "list-storage", "-t", "file", "-o", "name,bogus")
    assert "Unknown output fields selected: bogus" in out
    out = gnt.fails("gnt-node", "list-storage", "-t", "file", "nosuch-node")
    assert "Node 'nosuch-node' is not known" in out
    result = gnt("gnt-node", "list-storage", "-t", "rados", check=False)
    assert result.returncode == 2 and "invalid choice: 'rados'" in result.stderr


# -- modify-storage / repair-storage ---------------------------------------------------------

def test_modify_and_repair_storage_refuse_what_the_cluster_lacks(gnt: Gnt) -> None:
    node = gnt.node_name(1)
    out = gnt.fails("gnt-node", "modify-storage", "--allocatable", "no", node, "lvm-pv",
                    "/dev/nosuch")
    assert "No disk template of storage type 'lvm-pv' is enabled" in out
    out = gnt.fails("gnt-node", "repair-storage", node, "lvm-vg", "xenvg")
    assert "No disk template of storage type 'lvm-vg' is enabled" in out
    out = gnt.fails("gnt-node", "repair-storage", "nosuch-node", "lvm-vg", "xenvg")
    assert "Node 'nosuch-node' is not known" in out
    # Only lvm-pv can be modified and only lvm-vg repaired (as Ganeti).
    result = gnt("gnt-node", "modify-storage", "--allocatable", "no", node, "file", "x",
                 check=False)
    assert result.returncode == 2 and "invalid choice: 'file'" in result.stderr
    result = gnt("gnt-node", "modify-storage", "--allocatable", "maybe", node, "lvm-pv", "x",
                 check=False)
    assert result.returncode == 2 and "maybe" in result.stderr
    result = gnt("gnt-node", "modify-storage", node, "lvm-pv", "/dev/nosuch")
    assert "No changes to perform" in result.stderr


def test_volumes_lists_no_logical_volume_here(gnt: Gnt) -> None:
    lines = gnt("gnt-node", "volumes").stdout.splitlines()
    assert lines[0].split() == ["Node", "PhysDev", "VG", "Name", "Size", "Instance"]
    # This machine has no volume group, so no node has a volume.
    assert lines[1:] == []
    out = gnt.fails("gnt-node", "volumes", "-o", "node,color")
    assert "Unknown output fields selected: color" in out


# -- verify-disks / repair-disk-sizes --------------------------------------------------------

def test_verify_disks_finds_a_missing_file_disk(gnt: Gnt) -> None:
    gnt(*ADD, "-t", "file", "--disk", "0:size=8", "-n", gnt.node_name(1), "vd1")
    try:
        result = gnt("gnt-cluster", "verify-disks")
        assert result.stdout.strip() == "No disks need to be activated."
        image = _disk_of(gnt, "vd1")["logical_id"][1]
        os.rename(image, image + ".away")
        try:
            result = gnt("gnt-cluster", "verify-disks", check=False)
            assert result.returncode == 1
            assert result.stdout.splitlines() == [
                "Instance vd1 has missing logical volumes:",
                "\t%s %s" % (gnt.node_name(1), image),
                "You need to replace or recreate disks for all the above instances if this"
                " message persists after fixing broken nodes."]
        finally:
            os.rename(image + ".away", image)
        assert gnt("gnt-cluster", "verify-disks", "--node-group", "default").returncode == 0
        out = gnt.fails("gnt-cluster", "verify-disks", "--node-group", "nosuch")
        assert "Node group 'nosuch' is not known" in out
    finally:
        gnt("gnt-instance", "remove", "-f", "vd1")


def test_repair_disk_sizes_records_a_grown_file(gnt: Gnt) -> None:
    gnt(*ADD, "-t", "file", "--disk", "0:size=16", "-n", gnt.node_name(2), "rds1")
    try:
        disk = _disk_of(gnt, "rds1")
        assert disk["size"] == 16
        # Grown behind the cluster's back.
        os.truncate(disk["logical_id"][1], 40 * 1024 * 1024)
        result = gnt("gnt-cluster", "repair-disk-sizes", "rds1")
        assert ("Disk 0 of instance rds1 has mismatched size, correcting: recorded 16,"
                " actual 40") in result.stdout
        assert _disk_of(gnt, "rds1")["size"] == 40
        # Nothing left to correct: no change, no message.
        serial = gnt.config()["serial_no"]
        again = gnt("gnt-cluster", "repair-disk-sizes")
        assert "mismatched" not in again.stdout
        assert gnt.config()["serial_no"] == serial
        out = gnt.fails("gnt-cluster", "repair-disk-sizes", "nosuch-instance")
        assert "Instance 'nosuch-instance' not known" in out
        assert gnt.config()["serial_no"] == serial
    finally:
        gnt("gnt-instance", "remove", "-f", "rds1")


# -- RAPI -------------------------------------------------------------------------------------

class _Rapi:
    """HTTPS calls to the local cluster's ganeti-rapi on the master."""

    def __init__(self, gnt: Gnt) -> None:
        self.paths = gnt.paths(1)
        self.address = gnt.cluster.node(1).address

    def call(self, method: str, path: str) -> tuple[int, Any]:
        ctx = ssl.create_default_context(cafile=self.paths.rapi_cert_file)
        ctx.check_hostname = False
        conn = http.client.HTTPSConnection(self.address, constants.DEFAULT_RAPI_PORT,
                                           context=ctx, timeout=60)
        secret = base64.b64encode(("%s:%s" % (RAPI_USER, RAPI_PASSWORD)).encode()).decode()
        try:
            conn.request(method, path, headers={"Authorization": "Basic %s" % secret})
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        return response.status, serializer.load(body) if body else None

    def job(self, method: str, path: str) -> dict[str, Any]:
        status, job_id = self.call(method, path)
        assert status == 200, (path, status, job_id)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status, job = self.call("GET", "/2/jobs/%d" % int(job_id))
            if job["status"] in constants.JOBS_FINALIZED:
                return dict(job)
            time.sleep(0.1)
        raise AssertionError("job %s did not finish" % job_id)


@pytest.fixture(scope="module")
def rapi(gnt: Gnt) -> Iterator[_Rapi]:
    paths = gnt.paths(1)
    if not os.path.exists(paths.rapi_cert_file):
        pytest.skip("the local cluster's master has no RAPI certificate")
    os.makedirs(paths.rapi_data_dir, exist_ok=True)
    io.write_file_atomic(paths.rapi_users_file,
                         ("%s %s write\n" % (RAPI_USER, RAPI_PASSWORD)).encode(), mode=0o600)
    client = _Rapi(gnt)
    deadline = time.monotonic() + 30
    while client.call("GET", "/2/nodes")[0] != 200:
        if time.monotonic() > deadline:
            pytest.fail("the cluster's ganeti-rapi does not accept the test user")
        time.sleep(0.2)
    yield client


def test_rapi_node_storage(gnt: Gnt, rapi: _Rapi) -> None:
    node = gnt.node_name(3)
    job = rapi.job("GET", "/2/nodes/%s/storage?storage_type=file&output_fields=node,name,"
                          "allocatable" % node)
    assert job["status"] == "success", job
    assert job["opresult"] == [[[node, gnt.file_storage_dir(), True]]]

    status, body = rapi.call("GET", "/2/nodes/%s/storage?storage_type=file" % node)
    assert status == 400 and "output_fields" in body["explain"]

    job = rapi.job("PUT", "/2/nodes/%s/storage/modify?storage_type=file&name=%s"
                          "&allocatable=0" % (node, gnt.file_storage_dir()))
    assert job["status"] == "error"
    assert "Storage units of type 'file' can not be modified" in str(job["opresult"])

    job = rapi.job("PUT", "/2/nodes/%s/storage/repair?storage_type=lvm-vg&name=xenvg" % node)
    assert job["status"] == "error"
    assert "No disk template of storage type 'lvm-vg' is enabled" in str(job["opresult"])
