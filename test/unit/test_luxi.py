"""luxi: framing, request validation, replies and the client over a real socket."""

import os
import socket
import threading

import pytest

from ganeti import errors, luxi, serializer


def test_reader_splits_and_joins_messages():
    reader = luxi.MessageReader()
    assert list(reader.feed(b'{"a":1}\x03{"b"')) == [b'{"a":1}']
    assert list(reader.feed(b':2}\x03\x03')) == [b'{"b":2}', b""]


def test_reader_refuses_oversized_messages():
    reader = luxi.MessageReader(max_size=10)
    with pytest.raises(luxi.ProtocolError, match="larger than 10 bytes"):
        list(reader.feed(b"x" * 11))
    # the reader is usable again afterwards
    assert list(reader.feed(b"ok\x03")) == [b"ok"]


def test_parse_request_accepts_valid_calls():
    data = luxi.format_request("SubmitJob", [[{"OP_ID": "OP_TEST_DELAY"}]], 3000000)
    assert luxi.parse_request(data) == ("SubmitJob", [[{"OP_ID": "OP_TEST_DELAY"}]], 3000000)
    assert luxi.parse_request(luxi.format_request("QueryClusterInfo", [])) == \
        ("QueryClusterInfo", [], None)


@pytest.mark.parametrize("data, message", [
    (b"garbage", "not valid JSON"),
    (b"[1,2]", "must be a JSON object"),
    (b'{"args": []}', "lacks a method"),
    (b'{"method": "DropAll", "args": []}', "Unknown luxi method 'DropAll'"),
    (b'{"method": "SubmitJob", "args": {}}', "args must be a list"),
    (b'{"method": "SubmitJob", "args": []}', "expected 1 arguments, got 0"),
    (b'{"method": "SubmitJob", "args": ["x"]}', "argument 0 must be a list of dictionaries"),
    (b'{"method": "SetDrainFlag", "args": [1]}', "argument 0 must be a boolean"),
    (b'{"method": "QueryTags", "args": ["planet", "x"]}', "argument 0 must be one of"),
    (b'\xff\xfe', "not valid JSON"),
])
def test_parse_request_names_the_problem(data, message):
    with pytest.raises(luxi.ProtocolError, match=message):
        luxi.parse_request(data)


def test_parse_response():
    assert luxi.parse_response(luxi.format_response(True, 17)) == 17
    failure = luxi.format_response(False, errors.encode(
        errors.OpPrereqError("no such instance", errors.ECODE_NOENT)))
    with pytest.raises(errors.OpPrereqError, match="no such instance"):
        luxi.parse_response(failure)
    with pytest.raises(errors.LuxiError, match="Master reported an error"):
        luxi.parse_response(luxi.format_response(False, "plain text"))
    with pytest.raises(luxi.ProtocolError, match="Invalid reply"):
        luxi.parse_response(b'{"result": 1}')


class _EchoServer:
    """A real unix-socket server answering luxi calls from a thread."""

    def __init__(self, path, close_after=None):
        self.path = path
        self.calls = []
        self.close_after = close_after
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(5)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._handle(conn)

    def _handle(self, conn):
        reader = luxi.MessageReader()
        served = 0
        with conn:
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                for message in reader.feed(data):
                    try:
                        method, args, _ = luxi.parse_request(message)
                    except luxi.ProtocolError as err:
                        reply = luxi.format_response(False, errors.encode(err))
                    else:
                        self.calls.append((method, args))
                        reply = luxi.format_response(True, {"method": method, "args": args})
                    conn.sendall(reply + luxi.ETX)
                    served += 1
                    if self.close_after is not None and served >= self.close_after:
                        return

    def stop(self):
        self.sock.close()


def test_client_round_trips_over_a_socket(tmp_path):
    server = _EchoServer(str(tmp_path / "sock"))
    try:
        with luxi.Client(server.path) as client:
            assert client.call("QueryClusterInfo") == {"method": "QueryClusterInfo", "args": []}
            assert client.query("instance", ["name"], None)["args"] == [
                "instance", ["name"], None]
            assert client.set_drain_flag(True)["args"] == [True]
        assert [c[0] for c in server.calls] == ["QueryClusterInfo", "Query", "SetDrainFlag"]
    finally:
        server.stop()


def test_client_reconnects_once_when_master_closed_the_connection(tmp_path):
    server = _EchoServer(str(tmp_path / "sock"), close_after=1)
    try:
        client = luxi.Client(server.path)
        client.call("QueryClusterInfo")
        assert client.call("QueryClusterInfo")["method"] == "QueryClusterInfo"
        client.close()
    finally:
        server.stop()


def test_client_without_master_says_so(tmp_path):
    with pytest.raises(luxi.NoMasterError, match="is ganeti-masterd running"):
        luxi.Client(str(tmp_path / "nothing-here")).call("QueryClusterInfo")


def test_client_refuses_unknown_methods_before_sending(tmp_path):
    with pytest.raises(errors.ProgrammerError):
        luxi.Client(str(tmp_path / "x")).call("Nope")


def test_client_times_out(tmp_path):
    path = str(tmp_path / "sock")
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.bind(path)
    silent.listen(1)
    try:
        client = luxi.Client(path, rw_timeout=0.2)
        with pytest.raises(luxi.RequestTimeoutError):
            client.call("QueryClusterInfo")
    finally:
        silent.close()
        os.unlink(path)


def test_messages_are_compact_json():
    data = luxi.format_request("SetDrainFlag", [False])
    assert serializer.load(data) == {"method": "SetDrainFlag", "args": [False]}
