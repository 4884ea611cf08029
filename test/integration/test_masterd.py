"""A REAL ganeti-masterd and the REAL gnt-job / gnt-debug commands.

One masterd serves the whole module (tests here do not disturb each other:
each looks only at the jobs it submitted). Restarts, kills and scheduling
order are in test_masterd_restart.py.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from master_cluster import MasterCluster, MasterProcess, running_master

from ganeti import cli_jobs, constants, errors, luxi, serializer

DELAY = "OP_TEST_DELAY"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MasterCluster]:
    with running_master(str(tmp_path_factory.mktemp("masterd"))) as master_cluster:
        yield master_cluster


@pytest.fixture
def master(cluster: MasterCluster) -> MasterProcess:
    return cluster.master


def delay_op(duration: float, **extra: Any) -> dict[str, Any]:
    return {"OP_ID": DELAY, "duration": duration, **extra}


def final_status(client: luxi.Client, job_id: int) -> str:
    return cli_jobs.wait_for_job(client, job_id, feedback=None)


def test_cluster_queries(master: MasterProcess) -> None:
    with master.client() as client:
        info = client.query_cluster_info()
        assert info["name"] == "cluster.example.com"
        assert info["master"] == "node1"
        assert info["enabled_hypervisors"] == [constants.HT_FAKE]
        assert info["protocol_version"] == constants.PROTOCOL_VERSION
        assert client.query_config_values(["cluster_name", "master_node", "drain_flag"]) == [
            "cluster.example.com", "node1", False]
        assert client.query_tags(constants.TAG_CLUSTER, "") == ["test-cluster"]
        with pytest.raises(errors.OpPrereqError, match="Unknown configuration field"):
            client.query_config_values(["nosuch"])
        with pytest.raises(errors.OpPrereqError, match="Node 'nosuch' is not known"):
            client.query_tags(constants.TAG_NODE, "nosuch")
    assert os.stat(master.paths.master_socket).st_mode & 0o777 == 0o660


def test_jobs_from_many_clients_at_once(master: MasterProcess) -> None:
    per_client, clients = 10, 8
    ids: list[list[int]] = [[] for _ in range(clients)]
    failures: list[BaseException] = []

    def submit(index: int) -> None:
        try:
            with master.client() as client:
                for _ in range(per_client):
                    ids[index].append(client.submit_job([delay_op(0)]))
        except BaseException as err:  # reported below
            failures.append(err)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    all_ids = [job_id for chunk in ids for job_id in chunk]
    assert len(set(all_ids)) == per_client * clients
    with master.client() as client:
        assert {final_status(client, job_id) for job_id in all_ids} == {"success"}
        rows = client.query_jobs(all_ids, ["id", "status", "summary"])
    assert all(row[1] == "success" and row[2][0].startswith("TEST_DELAY(") for row in rows)
    for job_id in all_ids:
        assert os.path.exists(master.paths.job_file(job_id))


def test_cli_submit_prints_job_id_then_wait_list_info(master: MasterProcess) -> None:
    result = master.run_cli("debug", "delay", "--submit", "0.1")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("JobID: ")
    job_id = int(result.stderr.split()[1])
    waited = master.run_cli("job", "wait", str(job_id))
    assert waited.returncode == 0, waited.stderr
    listing = master.run_cli("job", "list", "--no-headers", "--separator=|", str(job_id))
    assert listing.stdout.startswith("%d|success|TEST_DELAY(" % job_id)
    info = master.run_cli("job", "info", str(job_id))
    assert info.returncode == 0
    assert "- Job ID: %d" % job_id in info.stdout
    assert "- Opcode: OP_TEST_DELAY" in info.stdout
    assert "duration: 0.1" in info.stdout
    printed = master.run_cli("debug", "delay", "--print-jobid", "0")
    assert printed.returncode == 0, printed.stderr
    first = printed.stdout.splitlines()[0]
    with master.client() as client:
        assert client.query_jobs([int(first)], ["status"]) == [["success"]]


def test_cli_list_headers_fields_and_unknown_field(master: MasterProcess) -> None:
    job_id = master.client().submit_job([delay_op(0)])
    final_status(master.client(), job_id)
    listing = master.run_cli("job", "list", "-o", "+priority", str(job_id))
    header, row = listing.stdout.splitlines()
    assert header.split() == ["ID", "Status", "Summary", "Priority"]
    assert row.split()[:2] == [str(job_id), "success"] and row.split()[-1] == "0"
    unknown = master.run_cli("job", "list", "-o", "id,bogus", str(job_id))
    assert unknown.returncode == 14
    assert "Unknown output fields selected: bogus" in unknown.stderr
    assert unknown.stdout.splitlines()[1].split() == [str(job_id), "??"]
    fields = master.run_cli("job", "list-fields", "--no-headers")
    names = [line.split()[0] for line in fields.stdout.splitlines()]
    assert {"id", "status", "summary", "received_ts", "oplog"} <= set(names)


def test_dependencies(master: MasterProcess) -> None:
    with master.client() as client:
        results = client.submit_many_jobs([
            [delay_op(0.3)],
            [delay_op(0, depends=[[-1, ["success"]]])],
        ])
        assert [ok for ok, _ in results] == [True, True]
        first, second = (job_id for _, job_id in results)
        assert final_status(client, second) == "success"
        first_end = client.query_jobs([first], ["end_ts"])[0][0]
        second_exec = client.query_jobs([second], ["opexec"])[0][0][0]
        assert second_exec >= first_end
        missing = client.submit_job([delay_op(0, depends=[[999999, []]])])
        assert final_status(client, missing) == "error"


def test_cancel_waiting_job_with_cli(master: MasterProcess) -> None:
    with master.client() as client:
        blocker, waiter = (job_id for _, job_id in client.submit_many_jobs([
            [delay_op(2)], [delay_op(0, depends=[[-1, []]])]]))
        result = master.run_cli("job", "cancel", str(waiter))
        assert result.returncode == 0, result.stdout + result.stderr
        assert final_status(client, waiter) == "canceled"
        assert client.query_jobs([blocker], ["status"])[0][0] in ("running", "success")
        watch = master.run_cli("job", "watch", str(waiter))
        assert watch.returncode == 1
        assert "canceled" in watch.stderr


def test_drain_flag(master: MasterProcess) -> None:
    with master.client() as client:
        client.set_drain_flag(True)
        try:
            assert client.query_config_values(["drain_flag"]) == [True]
            with pytest.raises(errors.JobQueueDrainError):
                client.submit_job([delay_op(0)])
            refused = master.run_cli("debug", "delay", "0")
            assert refused.returncode == 1
            assert refused.stderr.strip() == ("Failure: the job queue is marked for drain and"
                                              " doesn't accept new requests")
            forced = client.submit_job_to_drained_queue([delay_op(0)])
            assert final_status(client, forced) == "success"
        finally:
            client.set_drain_flag(False)
        assert final_status(client, client.submit_job([delay_op(0)])) == "success"


def test_archive_and_autoarchive(master: MasterProcess) -> None:
    with master.client() as client:
        job_id = client.submit_job([delay_op(0)])
        final_status(client, job_id)
        result = master.run_cli("job", "archive", str(job_id))
        assert result.returncode == 0, result.stderr
        assert not os.path.exists(master.paths.job_file(job_id))
        assert os.path.exists(master.paths.archived_job_file(job_id))
        listing = master.run_cli("job", "list", "--no-headers")
        assert str(job_id) not in [line.split()[0] for line in listing.stdout.splitlines()]
        assert client.query_jobs([job_id], ["status"]) == [["success"]]  # still readable
        later = client.submit_job([delay_op(0)])
        final_status(client, later)
        auto = master.run_cli("job", "autoarchive", "all")
        assert auto.returncode == 0, auto.stderr
        assert auto.stdout.startswith("Archived ")
        assert os.path.exists(master.paths.archived_job_file(later))
        bad = master.run_cli("job", "autoarchive", "soon")
        assert bad.returncode == 1 and "Invalid time specification" in bad.stderr


def test_wait_for_job_change_wakes_on_change(master: MasterProcess) -> None:
    with master.client() as client, master.client() as other:
        job_id = client.submit_job([delay_op(1.0)])
        status = client.query_jobs([job_id], ["status"])[0]
        seen: list[Any] = []
        waiter = threading.Thread(target=lambda: seen.append(
            client.wait_for_job_change(job_id, ["status"], status, 0, 60)))
        waiter.start()
        # The blocked waiter does not block other clients.
        assert other.query_jobs([job_id], ["id"]) == [[job_id]]
        waiter.join()
        assert seen[0] != "nochange"
        assert seen[0][0] != status
        assert final_status(other, job_id) == "success"


def test_gnt_debug_locks_shows_the_running_job(master: MasterProcess) -> None:
    with master.client() as client:
        job_id = client.submit_job([delay_op(3)])
        while client.query_jobs([job_id], ["status"])[0][0] != "running":
            time.sleep(0.05)
        result = master.run_cli("debug", "locks", "--no-headers", "--separator=|")
        assert result.returncode == 0, result.stderr
        rows = [line.split("|") for line in result.stdout.splitlines()]
        held = [row for row in rows if str(job_id) in row[2].split(",")]
        assert held and held[0][0] == "cluster/BGL" and held[0][1] == "shared"
        client.cancel_job(job_id)
        final_status(client, job_id)


def _raw_exchange(path: str, payload: bytes) -> tuple[Any, bool]:
    """Send bytes, read one reply; the reply and whether the connection stayed open."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(30)
        sock.connect(path)
        sock.sendall(payload)
        data = b""
        while luxi.ETX not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        reply = serializer.load(data.split(luxi.ETX)[0]) if data else None
        sock.sendall(luxi.format_request("QueryConfigValues", [["cluster_name"]]) + luxi.ETX)
        try:
            still_open = luxi.ETX in sock.recv(65536)
        except OSError:
            still_open = False
    return reply, still_open


@pytest.mark.parametrize("payload, message", [
    (b"\x00\xffgarbage" + luxi.ETX, "not valid JSON"),
    (b"[1, 2, 3]" + luxi.ETX, "must be a JSON object"),
    (luxi.format_request("Shutdown", []) + luxi.ETX, "Unknown luxi method 'Shutdown'"),
    (luxi.format_request("CancelJob", ["one", False]) + luxi.ETX, "argument 0 must be"),
    (luxi.format_request("SubmitJob", [[{"OP_ID": DELAY, "duration": "long"}]]) + luxi.ETX,
     "parameter 'duration' must be"),
    (luxi.format_request("SubmitJob", [[{"OP_ID": "OP_NO_SUCH"}]]) + luxi.ETX,
     "Unknown opcode"),
])
def test_bad_luxi_input_gets_an_error_reply(master: MasterProcess, payload: bytes,
                                            message: str) -> None:
    before = master.client().query_jobs(None, ["id"])
    reply, still_open = _raw_exchange(master.paths.master_socket, payload)
    assert reply["success"] is False
    assert message in str(reply["result"])
    assert still_open
    assert len(master.client().query_jobs(None, ["id"])) == len(before)  # nothing queued
    assert master.running


def test_oversized_message_closes_only_that_connection(master: MasterProcess) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(30)
        sock.connect(master.paths.master_socket)
        chunk = b"x" * (1024 * 1024)
        try:
            for _ in range(luxi.MAX_MESSAGE_SIZE // len(chunk) + 2):
                sock.sendall(chunk)
        except OSError:
            pass  # the master closed the connection while we were still sending
        data = b""
        try:
            while luxi.ETX not in data:
                received = sock.recv(65536)
                if not received:
                    break
                data += received
        except OSError:
            pass
    if data:
        reply = serializer.load(data.split(luxi.ETX)[0])
        assert reply["success"] is False and "larger than" in str(reply["result"])
    assert master.running
    assert master.client().query_config_values(["master_node"]) == ["node1"]
