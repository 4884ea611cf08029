"""ganeti-rapi: SIGHUP re-reads the users file; every route answers or says why not.

A real ganeti-rapi in front of a real masterd (test_rapi_helpers). The users
file is made a symbolic link to a file in another directory, the case inotify
on the RAPI directory cannot see: only SIGHUP brings its changes in. Job
filter rules (/2/filters) answer 501 naming them, and a sweep over every
route checks that none answers 500 or an unexplained error.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable, Iterator

import pytest
from test_rapi_helpers import USERS, RapiCluster, running_rapi, users_file_text

from ganeti.rapi import routes
from ganeti.rapi.baserlib import Resource
from ganeti.rapi.resources import filters
from ganeti.utils import io


@pytest.fixture(scope="module")
def rapi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RapiCluster]:
    with running_rapi(str(tmp_path_factory.mktemp("rapi-reload"))) as cluster:
        yield cluster


def eventually(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met within %.0f s" % timeout)
        time.sleep(0.1)


def _status(rapi: RapiCluster, user: str, password: str) -> int:
    return rapi.call("GET", "/2/info", user=user, password=password).status


def test_sighup_rereads_a_users_file_inotify_cannot_see(rapi: RapiCluster,
                                                        tmp_path: os.PathLike[str]) -> None:
    users_file = rapi.paths.rapi_users_file
    outside = os.path.join(str(tmp_path), "elsewhere")
    os.makedirs(outside)
    target = os.path.join(outside, "users")
    io.write_file_atomic(target, users_file_text(USERS).encode(), mode=0o600)
    link = users_file + ".link"
    os.symlink(target, link)
    os.replace(link, users_file)  # an event in the watched directory: read at once
    try:
        eventually(lambda: _status(rapi, "admin", USERS["admin"][0]) == 200)
        with open(target, "w", encoding="utf-8") as handle:  # outside the watched directory
            handle.write("dave davepw write\n")
        time.sleep(1.0)  # time enough for inotify, had it seen the change
        assert _status(rapi, "dave", "davepw") == 401
        assert _status(rapi, "admin", USERS["admin"][0]) == 200

        assert rapi.process is not None
        rapi.process.send_signal(signal.SIGHUP)
        eventually(lambda: _status(rapi, "dave", "davepw") == 200)
        assert _status(rapi, "admin", USERS["admin"][0]) == 401
        assert rapi.process.poll() is None  # SIGHUP does not stop the daemon
        assert "Users, tokens and policy files will be re-read (SIGHUP)" in rapi.log_text()
    finally:
        rapi.write_users(USERS)  # a plain file again (replaces the link)
        eventually(lambda: _status(rapi, "admin", USERS["admin"][0]) == 200)


def test_sighup_keeps_serving_when_nothing_changed(rapi: RapiCluster) -> None:
    assert rapi.process is not None
    rapi.process.send_signal(signal.SIGHUP)
    eventually(lambda: _status(rapi, "reader", USERS["reader"][0]) == 200)
    assert _status(rapi, "reader", "wrong") == 401


@pytest.mark.parametrize("method,path,body", [
    ("GET", "/2/filters", None),
    ("GET", "/2/filters?bulk=1", None),
    ("POST", "/2/filters", {"priority": 1, "predicates": [], "action": "REJECT"}),
    ("GET", "/2/filters/0f2b6e0c-1c7a-4f58-9d47-000000000001", None),
    ("PUT", "/2/filters/0f2b6e0c-1c7a-4f58-9d47-000000000001", {"action": "ACCEPT"}),
    ("DELETE", "/2/filters/0f2b6e0c-1c7a-4f58-9d47-000000000001", None),
])
def test_job_filters_answer_501_naming_them(rapi: RapiCluster, method: str, path: str,
                                            body: object) -> None:
    reply = rapi.call(method, path, body)
    assert reply.status == 501, reply.body
    assert reply.body["code"] == 501
    assert reply.body["explain"] == filters.NOT_IMPLEMENTED
    assert "/2/filters" in reply.body["explain"]


def test_job_filters_need_credentials_first(rapi: RapiCluster) -> None:
    assert rapi.call("GET", "/2/filters", user=None).status == 401
    reply = rapi.call("POST", "/2/filters", {"action": "ACCEPT"}, user="reader")
    assert reply.status == 403, reply.body


_PARAM = re.compile(r"\{([a-z_]+)(?::[^}]*)?\}")
#: Values for path parameters: objects that do not exist (or a valid index).
_SAMPLE_VALUES = {"job_id": "987654", "disk_index": "0", "resource": "instance"}


def _sample_path(template: str) -> str:
    return _PARAM.sub(lambda m: _SAMPLE_VALUES.get(m.group(1), "no-such-" + m.group(1)),
                      template)


@pytest.mark.parametrize("template,resource", routes.ROUTES,
                         ids=[template for template, _ in routes.ROUTES])
def test_every_route_answers_or_says_why(rapi: RapiCluster, template: str,
                                         resource: type[Resource]) -> None:
    path = _sample_path(template)
    for method in ("GET", "PUT", "POST", "DELETE"):
        if method != "GET" and resource.offers(method):
            continue  # would change the cluster; the other tests cover writes
        reply = rapi.call(method, path)
        assert reply.status != 500, (method, path, reply.body)
        if reply.status == 200:
            continue
        assert isinstance(reply.body, dict) and reply.body.get("explain"), (method, path,
                                                                           reply.body)
        if not resource.offers(method):
            assert reply.status == 501, (method, path, reply.body)
            assert "is not supported on %s" % path in reply.body["explain"]
        elif reply.status == 501:
            assert "not implemented" in reply.body["explain"].lower() \
                or "cannot do" in reply.body["explain"], (method, path, reply.body)
        else:
            assert reply.status in (400, 404), (method, path, reply.body)
