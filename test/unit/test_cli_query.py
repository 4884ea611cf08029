"""Query fields (ganeti.query), filters, the luxi handlers and list rendering."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from ganeti import cli_query, constants, errors, luxi, query, serializer
from ganeti.server import luxi_server


def test_query_fields_definitions_and_unknown() -> None:
    answer = query.query_fields("job", ["id", "nosuch"])
    assert answer["fields"][0] == {"name": "id", "title": "ID",
                                   "kind": constants.QFT_NUMBER, "doc": "Job ID"}
    assert answer["fields"][1]["kind"] == constants.QFT_UNKNOWN
    every = query.query_fields("lock")["fields"]
    assert [f["name"] for f in every] == ["mode", "name", "owner", "pending"]


def test_query_result_format_and_filter() -> None:
    items = [{"id": 1, "status": "success"}, {"id": 2, "status": "error"},
             {"id": 3, "status": "success"}]
    answer = query.query("job", ["id", "status", "bogus"], items,
                         ["&", ["==", "status", "success"], [">", "id", 1]])
    assert answer["data"] == [[[constants.RS_NORMAL, 3], [constants.RS_NORMAL, "success"],
                               [constants.RS_UNKNOWN, None]]]
    answer = query.query("job", ["id"], items, ["|", ["=", "id", 1], ["!", ["?", "id"]]])
    assert answer["data"] == [[[0, 1]]]
    answer = query.query("job", ["id"], items, ["=~", "status", "^err"])
    assert answer["data"] == [[[0, 2]]]


@pytest.mark.parametrize("qfilter, message", [
    (["==", "nosuch", 1], "unknown field 'nosuch'"),
    (["<>", "id", 1], "unknown operator"),
    ("id", "expected \\[operator"),
    (["=~", "status", "("], "bad regular expression"),
])
def test_bad_filters_are_named(qfilter: Any, message: str) -> None:
    with pytest.raises(errors.QueryFilterParseError, match=message):
        query.compile_filter("job", qfilter)


def test_unsupported_and_unknown_resources() -> None:
    with pytest.raises(errors.OpPrereqError, match="'extstorage' are not supported yet"):
        query.query_fields("extstorage")
    with pytest.raises(errors.OpPrereqError, match="Unknown query resource 'vm'"):
        query.query_fields("vm")


def test_render_symbols_and_separator() -> None:
    answer = {"fields": [{"name": "id", "title": "ID", "kind": "number", "doc": ""},
                         {"name": "x", "title": "x", "kind": "unknown", "doc": ""}],
              "data": [[[0, 1], [1, None]], [[0, 12], [1, None]]]}
    lines = cli_query.render(answer, argparse.Namespace(no_headers=False, separator=None,
                                                        units=None))
    assert lines == ["ID x", " 1 ??", "12 ??"]
    lines = cli_query.render(answer, argparse.Namespace(no_headers=True, separator="|",
                                                        units=None))
    assert lines == ["1|??", "12|??"]


class StubQueue:
    """Records submissions; enough of JobQueue for the handlers."""

    def __init__(self) -> None:
        self.submitted: list[list[dict[str, Any]]] = []

    def submit_job(self, ops: list[dict[str, Any]], to_drained: bool = False) -> int:
        self.submitted.append(ops)
        return len(self.submitted)

    def submit_many_jobs(self, jobs: list[list[dict[str, Any]]]) -> list[Any]:
        return [[True, self.submit_job(ops)] for ops in jobs]

    def query_jobs(self, job_ids: Any, fields: list[str]) -> list[Any]:
        return [[{"id": 5, "status": "queued"}[f] for f in fields]]

    def is_drained(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        def unexpected(*args: Any) -> Any:
            raise AssertionError("unexpected queue call %s%r" % (name, args))
        return unexpected


class StubContext:
    def __init__(self, tmp_path: Any) -> None:
        self.jobqueue = StubQueue()
        self.cfg = None
        self.glm = None
        self.paths = argparse.Namespace(watcher_pause_file=str(tmp_path / "watcher.pause"))
        self.node_name = "node1"


def _call(methods: luxi_server.LuxiMethods, method: str, *args: Any) -> Any:
    reply = methods.handle_message(luxi.format_request(method, list(args),
                                                       constants.PROTOCOL_VERSION))
    return serializer.load(reply)


@pytest.fixture
def methods(tmp_path: Any) -> luxi_server.LuxiMethods:
    return luxi_server.LuxiMethods(StubContext(tmp_path))


@pytest.mark.parametrize("data, message", [
    (b"\xff\xfe garbage", "not valid JSON"),
    (b'{"method": "Reboot", "args": []}', "Unknown luxi method"),
    (b'{"method": "CancelJob", "args": ["one", true]}', "argument 0 must be"),
    (b'{"method": "QueryJobs", "args": [null, ["id"]], "version": 1}', "version mismatch"),
])
def test_bad_requests_get_error_replies(methods: luxi_server.LuxiMethods, data: bytes,
                                        message: str) -> None:
    reply = serializer.load(methods.handle_message(data))
    assert reply["success"] is False
    assert message in reply["result"][1][0]


def test_query_jobs_via_query(methods: luxi_server.LuxiMethods) -> None:
    reply = _call(methods, "Query", "job", ["id", "status", "archived"], None)
    assert reply["result"]["data"] == [[[0, 5], [0, "queued"], [0, False]]]
    reply = _call(methods, "Query", "extstorage", ["name"], None)
    assert reply["success"] is False and "not supported yet" in reply["result"][1][0]


def test_watcher_pause(methods: luxi_server.LuxiMethods, tmp_path: Any) -> None:
    import time
    path = str(tmp_path / "watcher.pause")
    until = int(time.time()) + 3600
    assert _call(methods, "SetWatcherPause", until)["result"] == until
    assert luxi_server.read_watcher_pause(path) == until
    assert _call(methods, "SetWatcherPause", None)["success"] is True
    assert not (tmp_path / "watcher.pause").exists()
    assert luxi_server.read_watcher_pause(path) is None
    _call(methods, "SetWatcherPause", time.time() - 10)
    assert luxi_server.read_watcher_pause(path) is None  # expired
