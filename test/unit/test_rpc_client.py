"""The RPC client without a network: planning, stubs, results, reply parsing."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from ganeti import constants, errors, pathutils, serializer
from ganeti.rpc import encoding, table
from ganeti.rpc.client import (
    KIND_BAD_REPLY,
    KIND_OFFLINE,
    KIND_REMOTE_ERROR,
    NodeAddress,
    RpcClient,
    RpcResult,
)
from ganeti.rpc.transport import Transport
from ganeti.utils import x509


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = str(tmp_path_factory.mktemp("client-root"))
    paths = pathutils.for_root(root)
    x509.write_file(paths.server_cert_file, x509.generate_cluster_cert())
    with RpcClient(paths) as rpc:
        yield rpc


NODES = [NodeAddress("n1", "127.0.1.1", 1811), NodeAddress("n2", "127.0.1.2", 1811)]


def test_stubs_come_from_the_table(client: RpcClient) -> None:
    for name in table.PROCEDURES:
        assert "call_" + name in dir(client)
    stub = client.call_upload_file
    assert stub.__name__ == "call_upload_file"
    params = list(inspect.signature(stub).parameters)
    assert params == ["nodes", "file_name", "data", "mode", "uid", "gid", "atime", "mtime",
                      "timeout", "per_node_args"]
    assert "allow-list" in (stub.__doc__ or "")
    with pytest.raises(AttributeError):
        client.call_no_such_procedure  # noqa: B018


def test_offline_nodes_are_not_contacted(client: RpcClient) -> None:
    offline = [NodeAddress(n.name, n.address, n.port, offline=True) for n in NODES]
    results = client.call_version(offline, timeout=1)
    assert {r.kind for r in results.values()} == {KIND_OFFLINE}
    assert all(r.offline and not r.success for r in results.values())


def test_arguments_are_checked_before_sending(client: RpcClient) -> None:
    with pytest.raises(errors.TypeEnforcementError, match="expected 1 arguments"):
        client.call("jobqueue_set_drain_flag", NODES, [])
    with pytest.raises(errors.TypeEnforcementError, match="for node n2"):
        client.call("jobqueue_set_drain_flag", NODES, [True],
                    per_node_args={"n2": ["no"]})
    with pytest.raises(errors.ProgrammerError, match="nodes not called: n9"):
        client.call("jobqueue_set_drain_flag", NODES, [True], per_node_args={"n9": [True]})
    with pytest.raises(errors.ProgrammerError, match="names a node twice"):
        client.call("version", NODES + NODES[:1])
    with pytest.raises(errors.ProgrammerError, match="timeout must be positive"):
        client.call("version", NODES, timeout=0)


def test_raise_if_failed() -> None:
    ok = RpcResult("n1", "version", True, payload=5)
    assert ok.raise_if_failed() == 5
    remote = RpcResult("n1", "blockdev_find", False, error="disk gone",
                       kind=KIND_REMOTE_ERROR,
                       exception=errors.BlockDeviceError("disk gone"))
    with pytest.raises(errors.BlockDeviceError,
                       match=r"^Finding: blockdev_find on node n1: disk gone$"):
        remote.raise_if_failed("Finding")
    prereq = RpcResult("n1", "x", False, error="bad", kind=KIND_REMOTE_ERROR,
                       exception=errors.OpPrereqError("bad", errors.ECODE_INVAL))
    with pytest.raises(errors.OpPrereqError) as info:
        prereq.raise_if_failed()
    assert info.value.args == ("x on node n1: bad", errors.ECODE_INVAL)
    bad = RpcResult("n2", "version", False, error="garbage", kind=KIND_BAD_REPLY)
    with pytest.raises(errors.RemoteError, match=r"version on node n2 failed \(bad-reply\): "
                                                 r"garbage"):
        bad.raise_if_failed()


@pytest.mark.parametrize("status, body, kind, text", [
    (200, b"not json", KIND_BAD_REPLY, "not [success, payload]"),
    (200, b"[true]", KIND_BAD_REPLY, "not [success, payload]"),
    (200, b'[true, "three"]', KIND_BAD_REPLY, "result must be an integer"),
    (500, b'[true, 3]', KIND_BAD_REPLY, "HTTP 500"),
    (200, b'[false, ["HypervisorError", ["kvm broke"]]]', KIND_REMOTE_ERROR, "kvm broke"),
    (200, b'[false, "plain message"]', KIND_REMOTE_ERROR, "plain message"),
    (404, b'[false, ["ProgrammerError", ["Unknown"]]]', KIND_REMOTE_ERROR, "Unknown"),
])
def test_reply_parsing(status: int, body: bytes, kind: str, text: str) -> None:
    result = Transport._parse(NODES[0], table.get("version"), status, body)
    assert not result.success and result.kind == kind
    assert text in (result.error or "")
    if body.startswith(b'[false, ["Hyp'):
        assert isinstance(result.exception, errors.HypervisorError)


def test_good_reply() -> None:
    result = Transport._parse(NODES[0], table.get("version"), 200,
                              serializer.dump_bytes([True, constants.PROTOCOL_VERSION]))
    assert result.success and result.payload == constants.PROTOCOL_VERSION


def test_closed_client_refuses_calls(tmp_path: Any) -> None:
    paths = pathutils.for_root(str(tmp_path))
    x509.write_file(paths.server_cert_file, x509.generate_cluster_cert())
    rpc = RpcClient(paths)
    rpc.close()
    rpc.close()
    with pytest.raises(errors.ProgrammerError, match="after close"):
        rpc.call_version(NODES)


def test_missing_certificate_is_named(tmp_path: Any) -> None:
    with pytest.raises(errors.X509CertError, match=r"server\.pem"):
        RpcClient(pathutils.for_root(str(tmp_path)))


@pytest.mark.parametrize("data", ["short text", "x" * 5000, b"\xff\x00binary",
                                  "ünïcode " * 100, ""])
def test_encoding_round_trip(data: str | bytes) -> None:
    encoded = encoding.encode(data)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    assert encoding.decode(serializer.load(serializer.dump(encoded))) == raw
    expected_kind = (constants.RPC_ENCODING_NONE if len(raw) < encoding.COMPRESS_THRESHOLD
                     and isinstance(data, str) else constants.RPC_ENCODING_ZLIB_BASE64)
    assert encoded[0] == expected_kind


@pytest.mark.parametrize("value, message", [
    ([1, "!!!not base64"], "not valid base64"),
    ([1, "aGVsbG8="], "not valid base64 of zlib"),
    ([7, "x"], "must be an encoded blob"),
    ("text", "must be an encoded blob"),
])
def test_bad_encodings(value: Any, message: str) -> None:
    with pytest.raises(errors.TypeEnforcementError, match=message):
        encoding.decode(value)
