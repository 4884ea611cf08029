"""A real ganeti-rapi in front of a real ganeti-masterd, and an HTTPS client.

Imported by the test_rapi_* modules (it holds no tests itself). ``RapiCluster``
creates a one-node cluster with master_cluster's helpers, writes the RAPI
certificate, a users file, a token file and (optionally) a policy file,
and runs ``daemons/ganeti-rapi -f`` on the node's loopback address.
``RapiCluster.call`` sends one request and returns status, headers and the
decoded JSON body.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from master_cluster import MasterCluster, create_cluster, master_env
from noded_cluster import TREE, free_port

from ganeti import constants, pathutils, serializer
from ganeti.rapi import auth
from ganeti.utils import io, x509

RAPI = os.path.join(TREE, "daemons", "ganeti-rapi")
START_TIMEOUT = 30.0

#: Users of the test users file: name -> (password, options); "carol" is stored as {HA1}.
USERS = {
    "admin": ("adminpw", "write"),
    "reader": ("readpw", "read"),
    "carol": ("carolpw", "write"),
    "alice": ("alicepw", "read"),
    "bob": ("bobpw", "read"),
}
#: Bearer tokens of the test token file: token -> (name, options, scheme).
TOKENS = {
    "tok-admin-0123456789": ("robot", "write", auth.SCHEME_PBKDF2),
    "tok-reader-abcdef": ("robot-ro", "read", auth.SCHEME_SHA256),
}


def users_file_text(users: dict[str, tuple[str, str]]) -> str:
    lines = ["# test users"]
    for name, (password, options) in users.items():
        stored = ("{HA1}" + auth.ha1_hash(name, password)) if name == "carol" else password
        lines.append("%s %s %s" % (name, stored, options))
    return "\n".join(lines) + "\n"


def tokens_file_text() -> str:
    return "".join("%s %s %s\n" % (name, auth.hash_token(token, scheme, iterations=1000),
                                   options)
                   for token, (name, options, scheme) in TOKENS.items())


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any
    raw: bytes


@dataclass
class RapiCluster:
    cluster: MasterCluster
    port: int
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def node(self) -> Any:
        return self.cluster.nodes.master

    @property
    def address(self) -> str:
        return str(self.node.address)

    @property
    def paths(self) -> pathutils.Paths:
        return pathutils.for_root(self.node.root)

    def start(self) -> None:
        stderr_path = os.path.join(self.node.root, "rapi.stderr")
        env = master_env(self.node.root, self.node.name)
        with open(stderr_path, "ab") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, RAPI, "-f", "-b", self.address, "-p", str(self.port),
                 *self.extra_args], env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("ganeti-rapi exited during start-up: %s"
                                   % self.stderr_text())
            with contextlib.suppress(OSError), \
                    socket.create_connection((self.address, self.port), timeout=1):
                return
            time.sleep(0.05)
        raise RuntimeError("ganeti-rapi did not listen within %.0f s" % START_TIMEOUT)

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        status = self.process.returncode
        self.process = None
        return status

    def stderr_text(self) -> str:
        with contextlib.suppress(OSError), open(os.path.join(self.node.root, "rapi.stderr"),
                                                encoding="utf-8", errors="replace") as handle:
            return handle.read()
        return ""

    def log_text(self) -> str:
        with contextlib.suppress(OSError), open(self.paths.daemon_log_file(constants.RAPI),
                                                encoding="utf-8", errors="replace") as handle:
            return handle.read()
        return ""

    def write_users(self, users: dict[str, tuple[str, str]]) -> None:
        io.write_file_atomic(self.paths.rapi_users_file, users_file_text(users).encode(),
                             mode=0o600)

    def write_policy(self, policy: dict[str, Any] | None) -> None:
        path = self.paths.rapi_policy_file
        if policy is None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            return
        io.write_file_atomic(path, serializer.dump_bytes(policy), mode=0o600)

    # -- requests ---------------------------------------------------------------------

    def connection(self, timeout: float = 60.0) -> http.client.HTTPSConnection:
        ctx = ssl.create_default_context(cafile=self.paths.rapi_cert_file)
        ctx.check_hostname = False
        return http.client.HTTPSConnection(self.address, self.port, context=ctx,
                                           timeout=timeout)

    def call(self, method: str, path: str, body: Any = None, user: str | None = "admin",
             password: str | None = None, token: str | None = None,
             headers: dict[str, str] | None = None, raw: bytes | None = None) -> Reply:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = "Bearer %s" % token
        elif user is not None:
            secret = password if password is not None else USERS[user][0]
            sent["Authorization"] = "Basic %s" % base64.b64encode(
                ("%s:%s" % (user, secret)).encode()).decode()
        data = raw
        if data is None and body is not None:
            data = serializer.dump_bytes(body)
            sent.setdefault("Content-Type", "application/json")
        conn = self.connection()
        try:
            conn.request(method, path, body=data, headers=sent)
            response = conn.getresponse()
            payload = response.read()
            reply_headers = {key.lower(): value for key, value in response.getheaders()}
        finally:
            conn.close()
        decoded = serializer.load(payload) if payload else None
        return Reply(response.status, reply_headers, decoded, payload)

    def ok(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        reply = self.call(method, path, body, **kwargs)
        assert reply.status == 200, (method, path, reply.status, reply.body)
        return reply.body

    def wait_job(self, job_id: int, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.ok("GET", "/2/jobs/%d" % job_id)
            if job["status"] in constants.JOBS_FINALIZED:
                return dict(job)
            time.sleep(0.05)
        raise AssertionError("job %d did not finish within %.0f s" % (job_id, timeout))


#: The OS definition written on every node (scripts that succeed, API 20).
TEST_OS = "dummy"


def write_test_os(paths: pathutils.Paths) -> None:
    os_dir = os.path.join(paths.os_search_path[0], TEST_OS)
    os.makedirs(os_dir, exist_ok=True)
    for name, content in (("ganeti_api_version", "20\n"), ("parameters.list", "")):
        with open(os.path.join(os_dir, name), "w", encoding="ascii") as handle:
            handle.write(content)
    for script in ("create", "import", "export", "rename", "verify"):
        path = os.path.join(os_dir, script)
        with open(path, "w", encoding="ascii") as handle:
            handle.write("#!/bin/sh\nexit 0\n")
        os.chmod(path, 0o755)


@contextlib.contextmanager
def running_rapi(base_dir: str, extra_args: tuple[str, ...] = (), count: int = 2,
                 policy: dict[str, Any] | None = None) -> Iterator[RapiCluster]:
    """A cluster (node1 the master) with masterd and ganeti-rapi running on node1."""
    cluster = create_cluster(base_dir, count=count, start_noded=True)
    try:
        for member in cluster.nodes.nodes:
            write_test_os(pathutils.for_root(member.root))
        node = cluster.nodes.master
        paths = pathutils.for_root(node.root)
        x509.write_file(paths.rapi_cert_file, x509.generate_cluster_cert(node.name))
        os.makedirs(paths.rapi_data_dir, exist_ok=True)
        rapi = RapiCluster(cluster, free_port([node.address]), extra_args)
        rapi.write_users(USERS)
        io.write_file_atomic(paths.rapi_tokens_file, tokens_file_text().encode(), mode=0o600)
        rapi.write_policy(policy)
        rapi.start()
        try:
            yield rapi
        finally:
            rapi.stop()
    finally:
        cluster.stop()
