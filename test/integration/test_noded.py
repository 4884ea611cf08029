"""ganeti-noded and the RPC client against real daemons on 127.0.1.x."""

from __future__ import annotations

import http.client
import os
import signal
import stat
import threading
import time
from typing import Any

import psutil
import pytest
from noded_cluster import NodedCluster, running_cluster

from ganeti import constants, errors, pathutils, serializer
from ganeti.http import tls
from ganeti.rpc import encoding
from ganeti.rpc.client import (
    KIND_OFFLINE,
    KIND_REFUSED,
    KIND_REMOTE_ERROR,
    KIND_TIMEOUT,
    NodeAddress,
)
from ganeti.utils import x509


def raw_post(cluster: NodedCluster, path: str, body: bytes, method: str = "POST",
             node: int = 0) -> tuple[int, Any]:
    """A hand-made request with the master's certificate; (status, decoded reply)."""
    target = cluster.nodes[node]
    paths = cluster.master.paths
    ctx = tls.client_context(paths.server_cert_file, paths.client_cert_file)
    conn = http.client.HTTPSConnection(target.address, target.port, context=ctx, timeout=10)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, serializer.load(response.read())
    finally:
        conn.close()


def assert_still_serving(cluster: NodedCluster) -> None:
    results = cluster.client().call("version", cluster.addresses())
    assert all(r.payload == constants.PROTOCOL_VERSION for r in results.values()), results


# -- basic calls -------------------------------------------------------------------

def test_version_from_every_node(noded_cluster: NodedCluster) -> None:
    results = noded_cluster.client().call_version(noded_cluster.addresses())
    assert sorted(results) == ["node1", "node2", "node3"]
    for name, result in results.items():
        assert result.success and result.node == name
        assert result.payload == constants.PROTOCOL_VERSION
        assert result.raise_if_failed() == constants.PROTOCOL_VERSION


def test_node_info_matches_psutil(noded_cluster: NodedCluster) -> None:
    results = noded_cluster.client().stub("node_info")(noded_cluster.addresses(), [], [])
    total_mib = psutil.virtual_memory().total // (1024 * 1024)
    for result in results.values():
        info = result.raise_if_failed()
        assert info["memory_total"] == total_mib
        assert 0 < info["memory_free"] <= info["memory_total"]
        assert info["cpu_total"] == psutil.cpu_count()
        assert info["storage"] == [] and info["hypervisor"] == []
        with open("/proc/sys/kernel/random/boot_id") as handle:
            assert info["bootid"] == handle.read().strip()


def test_node_info_reports_hypervisor(noded_cluster: NodedCluster) -> None:
    pytest.importorskip("ganeti.hypervisor.hv_fake")
    result = noded_cluster.client().call_one(
        "node_info", noded_cluster.master.node_address, [[], [[constants.HT_FAKE, {}]]])
    hv_info = result.raise_if_failed()["hypervisor"]
    assert len(hv_info) == 1 and hv_info[0]["name"] == constants.HT_FAKE


def test_offline_node_is_not_contacted(noded_cluster: NodedCluster) -> None:
    nodes = noded_cluster.addresses(offline=["node2"])
    # An address nobody listens on: contacting it would give "refused".
    nodes[1] = NodeAddress("node2", "127.0.1.250", 1, offline=True)
    results = noded_cluster.client().call_version(nodes)
    assert results["node2"].kind == KIND_OFFLINE and not results["node2"].success
    assert results["node1"].success and results["node3"].success
    with pytest.raises(errors.RemoteError, match=r"node2.*offline"):
        results["node2"].raise_if_failed()


def test_connections_are_reused(noded_cluster: NodedCluster) -> None:
    client = noded_cluster.client()
    port = noded_cluster.master.port

    def local_ports() -> set[int]:
        return {c.laddr.port for c in psutil.Process().net_connections(kind="tcp")
                if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED}

    others = local_ports()  # other clients' connections in this process
    client.call_version(noded_cluster.addresses())
    first = local_ports() - others
    for _ in range(3):
        client.call_version(noded_cluster.addresses())
    assert len(first) == 3 and local_ports() - others == first


def test_client_serves_many_threads_at_once(noded_cluster: NodedCluster) -> None:
    client = noded_cluster.client()
    outcomes: list[bool] = []

    def worker() -> None:
        for _ in range(5):
            results = client.call_version(noded_cluster.addresses())
            outcomes.append(all(r.success for r in results.values()))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == [True] * 40


# -- failures of one node ------------------------------------------------------------

def test_frozen_node_costs_only_its_timeout(noded_cluster: NodedCluster) -> None:
    client = noded_cluster.client()
    frozen = noded_cluster.node("node3")
    frozen.pause()
    try:
        started = time.monotonic()
        results = client.call("version", noded_cluster.addresses(), timeout=2)
        elapsed = time.monotonic() - started
    finally:
        frozen.resume()
    assert results["node1"].success and results["node2"].success
    assert results["node3"].kind == KIND_TIMEOUT
    assert "2.0 seconds" in (results["node3"].error or "")
    # Functional bound: the dead node's timeout once, not once per node.
    assert elapsed < 2 * 2
    with pytest.raises(errors.RemoteError, match=r"version on node node3 failed \(timeout\)"):
        results["node3"].raise_if_failed()


def test_stopped_node_is_refused(noded_cluster: NodedCluster) -> None:
    node = noded_cluster.node("node2")
    client = noded_cluster.client()
    assert all(r.success for r in client.call_version(noded_cluster.addresses()).values())
    node.stop()
    try:
        results = client.call_version(noded_cluster.addresses())
    finally:
        node.start()
    assert results["node2"].kind == KIND_REFUSED
    assert "127.0.1.2" in (results["node2"].error or "")
    assert results["node1"].success and results["node3"].success
    # The same client (its pooled connection to node2 gone) reaches the new daemon.
    assert client.call_version(noded_cluster.addresses())["node2"].success


# -- TLS -----------------------------------------------------------------------------

def test_foreign_client_certificate_is_refused(noded_cluster: NodedCluster,
                                               tmp_path: Any) -> None:
    foreign = str(tmp_path / "foreign.pem")
    x509.write_file(foreign, x509.generate_cluster_cert())
    client = noded_cluster.client(cert_file=foreign)
    results = client.call_version(noded_cluster.addresses())
    assert {r.kind for r in results.values()} == {KIND_REFUSED}
    assert all("alert" in (r.error or "") for r in results.values())
    assert "TLS handshake with 127.0.0.1" in noded_cluster.master.log_text()
    assert "refused" in noded_cluster.master.log_text()
    assert_still_serving(noded_cluster)


def test_client_certificate_signed_by_another_cluster_is_refused(
        noded_cluster: NodedCluster, tmp_path: Any) -> None:
    other_cluster = x509.generate_cluster_cert()
    signed_elsewhere = str(tmp_path / "client.pem")
    x509.write_file(signed_elsewhere, x509.generate_client_cert(other_cluster, "node1"))
    results = noded_cluster.client(cert_file=signed_elsewhere).call_version(
        noded_cluster.addresses())
    assert {r.kind for r in results.values()} == {KIND_REFUSED}


def test_cluster_and_node_certificates_are_accepted(noded_cluster: NodedCluster) -> None:
    node2 = noded_cluster.node("node2").paths
    for cert in (node2.client_cert_file, node2.server_cert_file):
        results = noded_cluster.client(cert_file=cert).call_version(noded_cluster.addresses())
        assert all(r.success for r in results.values()), results


def test_client_checks_the_server_certificate(noded_cluster: NodedCluster,
                                              tmp_path: Any) -> None:
    other_ca = str(tmp_path / "other-ca.pem")
    x509.write_file(other_ca, x509.generate_cluster_cert())
    results = noded_cluster.client(ca_file=other_ca).call_version(noded_cluster.addresses())
    assert {r.kind for r in results.values()} == {KIND_REFUSED}
    assert all("certificate verify failed" in (r.error or "") for r in results.values())


# -- protocol errors ----------------------------------------------------------------

def test_garbage_body_gets_an_error_reply(noded_cluster: NodedCluster) -> None:
    status, reply = raw_post(noded_cluster, "/version", b"{not json")
    assert status == 400
    assert reply[0] is False and reply[1][0] == "TypeEnforcementError"
    assert "not valid JSON" in reply[1][1][0]
    assert_still_serving(noded_cluster)


def test_unknown_procedure_is_404(noded_cluster: NodedCluster) -> None:
    status, reply = raw_post(noded_cluster, "/no_such_procedure", b"[]")
    assert status == 404
    assert reply == [False, ["ProgrammerError", ["Unknown RPC procedure 'no_such_procedure'"]]]
    with pytest.raises(errors.ProgrammerError, match="Unknown RPC procedure"):
        noded_cluster.client().call("no_such_procedure", noded_cluster.addresses())


def test_get_is_refused(noded_cluster: NodedCluster) -> None:
    status, reply = raw_post(noded_cluster, "/version", b"", method="GET")
    assert status == 400 and reply[0] is False and "POST" in reply[1][1][0]


def test_wrong_argument_types(noded_cluster: NodedCluster) -> None:
    status, reply = raw_post(noded_cluster, "/jobqueue_update", b'["job-1", 42]')
    assert status == 400 and reply[1][0] == "TypeEnforcementError"
    assert "argument 'content'" in reply[1][1][0] and "42" in reply[1][1][0]
    status, reply = raw_post(noded_cluster, "/version", b'["extra"]')
    assert status == 400 and "expected 0 arguments" in reply[1][1][0]
    status, reply = raw_post(noded_cluster, "/version", b'{"a": 1}')
    assert status == 400 and "must be a JSON list" in reply[1][1][0]
    # The client refuses before sending anything.
    with pytest.raises(errors.TypeEnforcementError, match="argument 'drain' must be a boolean"):
        noded_cluster.client().call("jobqueue_set_drain_flag", noded_cluster.addresses(),
                                    ["yes"])
    assert_still_serving(noded_cluster)


def test_oversized_body_gets_413(tmp_path: Any) -> None:
    with running_cluster(str(tmp_path), count=1,
                         extra_args=["--max-request-size", "4096"]) as cluster:
        status, reply = raw_post(cluster, "/write_ssconf_files",
                                 serializer.dump_bytes([{"cluster_name": "x" * 10000}]))
        assert status == 413
        assert reply[1][0] == "TypeEnforcementError" and "4096 bytes" in reply[1][1][0]
        assert not os.path.exists(cluster.master.paths.ssconf_file("cluster_name")) or \
            "xxxx" not in open(cluster.master.paths.ssconf_file("cluster_name")).read()
        assert_still_serving(cluster)


# -- child processes and hooks ------------------------------------------------------------

def _write_script(directory: str, name: str, body: str, executable: bool = True) -> None:
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path, "w") as handle:
        handle.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, 0o755 if executable else 0o644)


def test_hung_child_is_killed_and_reported(noded_cluster: NodedCluster) -> None:
    node = noded_cluster.node("node2")
    hooks_dir = node.paths.hooks_dir("cluster-hang", "pre")
    pid_file = os.path.join(node.root, "hang.pid")
    _write_script(hooks_dir, "10-hang", "echo $$ > %s\nexec sleep 120" % pid_file)
    client = noded_cluster.client()
    outcome: list[Any] = []

    def hang() -> None:
        outcome.append(client.call_one("hooks_runner", node.node_address,
                                       ["cluster-hang", "pre", {}], timeout=3))

    started = time.monotonic()
    hanging = threading.Thread(target=hang)
    hanging.start()
    while not os.path.exists(pid_file) and time.monotonic() - started < 3:
        time.sleep(0.02)
    # While the child hangs, the same node keeps serving other requests.
    assert client.call_one("version", node.node_address).payload == \
        constants.PROTOCOL_VERSION
    assert hanging.is_alive()
    hanging.join()
    elapsed = time.monotonic() - started
    [result] = outcome
    assert result.kind == KIND_REMOTE_ERROR, result
    assert isinstance(result.exception, errors.OpExecError)
    assert "hooks_runner did not finish within" in (result.error or "")
    assert "was killed" in (result.error or "")
    assert elapsed < 3
    with open(pid_file) as handle:
        script_pid = int(handle.read())
    deadline = time.monotonic() + 5
    while psutil.pid_exists(script_pid) and time.monotonic() < deadline:
        if psutil.Process(script_pid).status() == psutil.STATUS_ZOMBIE:
            break
        time.sleep(0.05)
    assert not psutil.pid_exists(script_pid) or \
        psutil.Process(script_pid).status() == psutil.STATUS_ZOMBIE
    # Other requests were served meanwhile and still are.
    assert_still_serving(noded_cluster)


def test_hooks_runner_order_environment_and_statuses(noded_cluster: NodedCluster) -> None:
    node = noded_cluster.node("node3")
    hooks_dir = node.paths.hooks_dir("instance-add", "post")
    _write_script(hooks_dir, "20-second",
                  'echo "second $GANETI_INSTANCE_NAME PATH=$PATH HOME=${HOME-unset} '
                  'ROOT=${GANETI_ROOTDIR-unset} cwd=$(pwd)"; read x; echo "stdin=$?"')
    _write_script(hooks_dir, "10-first", 'echo "first $GANETI_HOOKS_PHASE"')
    _write_script(hooks_dir, "30-fails", "echo failing >&2; exit 3")
    _write_script(hooks_dir, "05-not-executable", "echo never", executable=False)
    _write_script(hooks_dir, "bad.name", "echo never")
    env = {"GANETI_INSTANCE_NAME": "inst1.example.com", "GANETI_HOOKS_PHASE": "post"}
    results = noded_cluster.client().call_one("hooks_runner", node.node_address,
                                              ["instance-add", "post", env]).raise_if_failed()
    assert [r[0] for r in results] == ["05-not-executable", "10-first", "20-second",
                                       "30-fails", "bad.name"]
    by_name = {name: (status, output) for name, status, output in results}
    assert by_name["05-not-executable"] == (constants.HKR_SKIP, "")
    assert by_name["bad.name"] == (constants.HKR_SKIP, "")
    assert by_name["10-first"] == (constants.HKR_SUCCESS, "first post\n")
    status, output = by_name["20-second"]
    assert status == constants.HKR_SUCCESS
    assert output == ("second inst1.example.com PATH=/sbin:/bin:/usr/sbin:/usr/bin "
                      "HOME=unset ROOT=unset cwd=/\nstdin=1\n")
    status, output = by_name["30-fails"]
    assert status == constants.HKR_FAIL and "failing" in output and "status 3" in output


def test_hooks_runner_without_directory_runs_nothing(noded_cluster: NodedCluster) -> None:
    result = noded_cluster.client().call("hooks_runner", noded_cluster.addresses(),
                                         ["node-add", "pre", {}])
    assert [r.payload for r in result.values()] == [[], [], []]


# -- files ------------------------------------------------------------------------------

def test_upload_file_off_the_allow_list_is_refused(noded_cluster: NodedCluster) -> None:
    cluster_path = "/var/lib/ganeti/not-allowed"
    results = noded_cluster.client().call(
        "upload_file", noded_cluster.addresses(),
        [cluster_path, encoding.encode("evil"), 0o644, 0, 0, 0, 0])
    for node in noded_cluster.nodes:
        result = results[node.name]
        assert result.kind == KIND_REMOTE_ERROR
        assert "not on this node's upload allow-list" in (result.error or "")
        assert not os.path.exists(os.path.join(node.paths.data_dir, "not-allowed"))
    # Escaping the root by ".." is refused too.
    result = noded_cluster.client().call_one(
        "upload_file", noded_cluster.master.node_address,
        ["/../../../tmp/escaped", encoding.encode("x"), 0o644, 0, 0, 0, 0])
    assert result.kind == KIND_REMOTE_ERROR
    assert not os.path.exists("/tmp/escaped")


def test_upload_file_writes_config_with_mode_owner_and_times(
        noded_cluster: NodedCluster) -> None:
    cluster_path = pathutils.for_root("/").config_file
    content = serializer.dump({"serial_no": 7, "padding": "x" * 2000})
    data = encoding.encode(content)
    assert data[0] == constants.RPC_ENCODING_ZLIB_BASE64
    results = noded_cluster.client().call(
        "upload_file", noded_cluster.addresses(),
        [cluster_path, data, 0o640, "root", 0, 1000000000, 1234567890.5])
    assert all(r.success for r in results.values()), results
    for node in noded_cluster.nodes:
        path = node.paths.config_file
        with open(path) as handle:
            assert handle.read() == content
        st = os.stat(path)
        assert stat.S_IMODE(st.st_mode) == 0o640
        assert st.st_uid == 0 and st.st_gid == 0
        assert st.st_mtime == 1234567890.5


def test_upload_file_unknown_user_changes_nothing(noded_cluster: NodedCluster) -> None:
    cluster_path = pathutils.for_root("/").rapi_users_file
    result = noded_cluster.client().call_one(
        "upload_file", noded_cluster.master.node_address,
        [cluster_path, encoding.encode("admin pw write"), 0o600, "no-such-user-xyz", 0, 0, 0])
    assert result.kind == KIND_REMOTE_ERROR and "no-such-user-xyz" in (result.error or "")
    assert not os.path.exists(noded_cluster.master.paths.rapi_users_file)


def test_write_ssconf_files_and_master_node_name(noded_cluster: NodedCluster) -> None:
    from ganeti import ssconf

    node = noded_cluster.node("node3")
    client = noded_cluster.client()
    old = {key: ssconf.SimpleStore(node.paths).read_value(key)
           for key in ("cluster_name", "master_node", "node_list")}
    try:
        client.call_one("write_ssconf_files", node.node_address,
                        [dict(old, master_node="node2")]).raise_if_failed()
        assert client.call_one("master_node_name",
                               node.node_address).raise_if_failed() == "node2"
        bad = client.call_one("write_ssconf_files", node.node_address,
                              [{"no_such_key": "x"}])
        assert bad.kind == KIND_REMOTE_ERROR and "no_such_key" in (bad.error or "")
        assert client.call_one("master_node_name",
                               node.node_address).raise_if_failed() == "node2"
    finally:
        ssconf.write_files(old, node.paths)
    results = client.call("master_node_name", noded_cluster.addresses())
    assert [r.payload for r in results.values()] == ["node1"] * 3


def test_node_verify(noded_cluster: NodedCluster) -> None:
    import hashlib

    master = noded_cluster.master
    config = pathutils.for_root("/").config_file
    with open(master.paths.config_file, "w") as handle:
        handle.write("{}")
    checks = {
        constants.NV_FILELIST: [config, "/var/lib/ganeti/absent-file"],
        constants.NV_VERSION: None,
        constants.NV_TIME: None,
        constants.NV_NODENETTEST: [["node2", "127.0.1.2", master.port],
                                   ["ghost", "127.0.1.249", master.port]],
        constants.NV_HYPERVISOR: [constants.HT_FAKE, constants.HT_XEN_PVM],
    }
    before = time.time()
    reply = noded_cluster.client().call_one(
        "node_verify", master.node_address,
        [checks, "cluster.example.com", {}]).raise_if_failed()
    assert reply[constants.NV_FILELIST] == {config: hashlib.sha1(b"{}").hexdigest()}
    assert reply[constants.NV_VERSION] == [constants.PROTOCOL_VERSION,
                                           constants.RELEASE_VERSION]
    assert before - 1 <= reply[constants.NV_TIME][0] <= time.time() + 1
    assert list(reply[constants.NV_NODENETTEST]) == ["ghost"]
    assert "127.0.1.249" in reply[constants.NV_NODENETTEST]["ghost"]
    hv_verdicts = reply[constants.NV_HYPERVISOR]
    assert hv_verdicts[constants.HT_FAKE] is None
    assert "xen-pvm" in hv_verdicts[constants.HT_XEN_PVM]  # not implemented here


# -- job queue -------------------------------------------------------------------------

def test_jobqueue_update_rename_purge(noded_cluster: NodedCluster) -> None:
    client = noded_cluster.client()
    nodes = noded_cluster.addresses()
    job = serializer.dump({"id": 1, "ops": [], "padding": "y" * 3000})
    assert all(r.success for r in client.call(
        "jobqueue_update", nodes, ["job-1", encoding.encode(job)]).values())
    assert all(r.success for r in client.call(
        "jobqueue_update", nodes, ["serial", encoding.encode("1\n")]).values())
    for node in noded_cluster.nodes:
        with open(node.paths.job_file(1)) as handle:
            assert handle.read() == job
        assert stat.S_IMODE(os.stat(node.paths.job_file(1)).st_mode) == 0o640
    results = client.call("jobqueue_rename", nodes, [[["job-1", "archive/0/job-1"]]])
    assert all(r.success for r in results.values()), results
    for node in noded_cluster.nodes:
        assert not os.path.exists(node.paths.job_file(1))
        with open(node.paths.archived_job_file(1)) as handle:
            assert handle.read() == job
    # Renaming a missing file fails and moves nothing.
    result = client.call_one("jobqueue_rename", nodes[0], [[["serial", "serial2"],
                                                            ["job-9", "job-10"]]])
    assert result.kind == KIND_REMOTE_ERROR and "job-9" in (result.error or "")
    assert os.path.exists(noded_cluster.master.paths.queue_serial_file)
    # Drain flag and purge (the lock file stays).
    client.call("jobqueue_set_drain_flag", nodes, [True])
    for node in noded_cluster.nodes:
        assert os.path.exists(node.paths.queue_drain_file)
        with open(node.paths.queue_lock_file, "w"):
            pass
    assert all(r.success for r in client.call("jobqueue_purge", nodes).values())
    for node in noded_cluster.nodes:
        assert os.listdir(node.paths.queue_dir) == ["lock"]


def test_jobqueue_names_outside_the_queue_are_refused(noded_cluster: NodedCluster) -> None:
    for name in ("../config.data", "/etc/passwd", "archive/../../x", ".hidden"):
        with pytest.raises(errors.TypeEnforcementError, match="argument 'file_name'"):
            noded_cluster.client().call("jobqueue_update", noded_cluster.addresses(),
                                        [name, encoding.encode("x")])
        status, reply = raw_post(noded_cluster, "/jobqueue_update",
                                 serializer.dump_bytes([name, [0, "x"]]))
        assert status == 400 and "file_name" in reply[1][1][0]


# -- daemon life cycle ------------------------------------------------------------------

def test_sighup_reopens_the_log(noded_cluster: NodedCluster) -> None:
    node = noded_cluster.node("node2")
    rotated = node.log_file + ".1"
    os.rename(node.log_file, rotated)
    node.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "log file reopened" not in node.log_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "log file reopened" in node.log_text()
    assert "log file reopened" not in open(rotated).read()


def test_sigterm_stops_cleanly_and_removes_the_pid_file(tmp_path: Any) -> None:
    with running_cluster(str(tmp_path), count=1) as cluster:
        node = cluster.master
        assert node.process is not None
        with open(node.pid_file) as handle:
            assert int(handle.read()) == node.process.pid
        assert node.stop() == 0
        assert not os.path.exists(node.pid_file)
        assert "Received SIGTERM, stopping" in node.log_text()


def test_node_leave_cluster_removes_files_and_stops(tmp_path: Any) -> None:
    with running_cluster(str(tmp_path), count=1) as cluster:
        node = cluster.master
        client = cluster.client()  # loads the certificates before they go away
        with open(node.paths.config_file, "w") as handle:
            handle.write("{}")
        client.call_one("jobqueue_update", node.node_address,
                        ["job-3", encoding.encode("{}")]).raise_if_failed()
        message = client.call_one("node_leave_cluster", node.node_address,
                                  [False]).raise_if_failed()
        assert "node daemon stopping" in message
        assert node.process is not None
        assert node.process.wait(10) == 0
        for path in (node.paths.config_file, node.paths.server_cert_file,
                     node.paths.client_cert_file, node.paths.ssconf_file("master_node"),
                     node.paths.job_file(3)):
            assert not os.path.exists(path), path
