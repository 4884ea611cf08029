"""Running a command on another machine over SSH (paramiko), for node bootstrap.

``run_command`` connects to ``address:port`` as ``user`` with a private key,
checks the server's host key against a known_hosts file (entries under the
node's name, ``[name]:port`` for ports other than 22, as OpenSSH writes
them), runs one command, writes ``stdin_data`` on the channel's standard
input (secrets travel there, never on a command line), and returns its exit
status and output. An unknown host key is refused unless
``accept_new_host_key`` is set, in which case it is recorded (trust on first
use); a key that differs from the recorded one is always refused.

Every failure raises ``SshError`` whose ``reason`` is one of the REASON_*
values and whose message names the host and the cause.
"""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import time
from dataclasses import dataclass

import paramiko

from ganeti import errors
from ganeti.utils import io

DEFAULT_PORT = 22
#: Seconds for the TCP connection and the SSH handshake.
CONNECT_TIMEOUT = 15.0

REASON_CONNECT = "connect"
REASON_HOST_KEY_UNKNOWN = "host-key-unknown"
REASON_HOST_KEY_MISMATCH = "host-key-mismatch"
REASON_AUTH = "auth"
REASON_KEY = "private-key"
REASON_PROTOCOL = "protocol"
REASON_TIMEOUT = "timeout"


class SshError(errors.GenericError):
    """An SSH connection or command could not be run; ``reason`` says why."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class SshResult:
    exit_status: int
    stdout: str
    stderr: str


def host_key_name(name: str, port: int) -> str:
    """The known_hosts name of ``name`` on ``port`` (OpenSSH's convention)."""
    return name if port == DEFAULT_PORT else "[%s]:%d" % (name, port)


def _load_known_hosts(path: str) -> paramiko.HostKeys:
    keys = paramiko.HostKeys()
    if os.path.exists(path):
        try:
            keys.load(path)
        except (OSError, paramiko.SSHException) as err:
            raise SshError("Can't read the known hosts file %s: %s" % (path, err),
                           REASON_HOST_KEY_UNKNOWN) from err
    return keys


def fingerprint(key: paramiko.PKey) -> str:
    """``SHA256:…`` fingerprint, as ssh-keygen -l shows it."""
    return key.fingerprint if hasattr(key, "fingerprint") else \
        base64.b64encode(key.get_fingerprint()).decode()


def check_host_key(known_hosts_file: str, names: list[str], port: int, key: paramiko.PKey,
                   accept_new: bool) -> bool:
    """Check ``key`` of the host known as ``names`` (first one recorded if new).

    Returns True when the key was new and got recorded; raises SshError if
    it is unknown (and not accepted) or differs from the recorded one.
    """
    known = _load_known_hosts(known_hosts_file)
    for name in names:
        entry = known.lookup(host_key_name(name, port))
        if entry is None:
            continue
        recorded = entry.get(key.get_name())
        if recorded is not None and recorded == key:
            return False
        others = ", ".join(sorted(entry.keys()))
        raise SshError(
            "Host key mismatch for %s (port %d): the server presented %s key %s, but %s"
            " records %s for this host; if the node was reinstalled, remove its old entry"
            " from that file first" % (names[0], port, key.get_name(), fingerprint(key),
                                       known_hosts_file, others or "other keys"),
            REASON_HOST_KEY_MISMATCH)
    if not accept_new:
        raise SshError(
            "Host key of %s (port %d) is not in %s: the server presented %s key %s; to"
            " trust it on first use, repeat with --accept-new-host-key"
            % (names[0], port, known_hosts_file, key.get_name(), fingerprint(key)),
            REASON_HOST_KEY_UNKNOWN)
    line = paramiko.hostkeys.HostKeyEntry([host_key_name(names[0], port)], key).to_line()
    try:
        with open(known_hosts_file, "rb") as handle:
            existing = handle.read()
    except FileNotFoundError:
        existing = b""
    if existing and not existing.endswith(b"\n"):
        existing += b"\n"
    os.makedirs(os.path.dirname(known_hosts_file), exist_ok=True)
    io.write_file_atomic(known_hosts_file, existing + (line or "").encode(), mode=0o644)
    return True


def _load_private_key(key_file: str) -> paramiko.PKey:
    try:
        return paramiko.PKey.from_path(key_file)
    except FileNotFoundError as err:
        raise SshError("SSH private key %s does not exist" % key_file, REASON_KEY) from err
    except (OSError, paramiko.SSHException, ValueError) as err:
        raise SshError("Can't load the SSH private key %s: %s" % (key_file, err),
                       REASON_KEY) from err


def run_command(address: str, port: int, command: str, *, key_file: str,
                known_hosts_file: str, host_name: str | None = None, user: str = "root",
                stdin_data: bytes = b"", accept_new_host_key: bool = False,
                timeout: float = 120.0) -> SshResult:
    """Run ``command`` on ``address:port`` (see the module doc); ``host_name``
    is the name the host key is recorded under (default: ``address``)."""
    name = host_name or address
    names = [name] if name == address else [name, address]
    pkey = _load_private_key(key_file)
    try:
        sock = socket.create_connection((address, port), timeout=CONNECT_TIMEOUT)
    except OSError as err:
        raise SshError("Can't connect to %s (%s port %d) over SSH: %s"
                       % (name, address, port, err.strerror or err), REASON_CONNECT) from err
    transport = paramiko.Transport(sock)
    try:
        try:
            transport.start_client(timeout=CONNECT_TIMEOUT)
        except (paramiko.SSHException, OSError, EOFError) as err:
            raise SshError("SSH handshake with %s (%s port %d) failed: %s"
                           % (name, address, port, err), REASON_PROTOCOL) from err
        check_host_key(known_hosts_file, names, port, transport.get_remote_server_key(),
                       accept_new_host_key)
        try:
            transport.auth_publickey(user, pkey)
        except (paramiko.AuthenticationException, paramiko.SSHException) as err:
            raise SshError("SSH authentication as %s on %s (%s port %d) with key %s failed:"
                           " %s" % (user, name, address, port, key_file, err),
                           REASON_AUTH) from err
        return _exec(transport, name, command, stdin_data, timeout)
    finally:
        transport.close()
        with contextlib.suppress(OSError):
            sock.close()


def _exec(transport: paramiko.Transport, name: str, command: str, stdin_data: bytes,
          timeout: float) -> SshResult:
    try:
        channel = transport.open_session(timeout=CONNECT_TIMEOUT)
        channel.settimeout(timeout)
        channel.exec_command(command)
        if stdin_data:
            channel.sendall(stdin_data)
        channel.shutdown_write()
        stdout, stderr = bytearray(), bytearray()
        deadline = time.monotonic() + timeout
        while True:
            if channel.recv_ready():
                stdout += channel.recv(65536)
                continue
            if channel.recv_stderr_ready():
                stderr += channel.recv_stderr(65536)
                continue
            # Data precedes the exit status on a channel: once the status is in
            # and the buffers are empty, everything was read.
            if channel.exit_status_ready():
                break
            if time.monotonic() > deadline:
                raise SshError("Command on %s did not finish within %.0f s" % (name, timeout),
                               REASON_TIMEOUT)
            time.sleep(0.01)
        status = channel.recv_exit_status()
    except TimeoutError as err:
        raise SshError("Command on %s did not finish within %.0f s" % (name, timeout),
                       REASON_TIMEOUT) from err
    except paramiko.SSHException as err:
        raise SshError("Running a command on %s over SSH failed: %s" % (name, err),
                       REASON_PROTOCOL) from err
    return SshResult(status, stdout.decode("utf-8", "replace"),
                     stderr.decode("utf-8", "replace"))
