"""Pieces of the daemon framework and noded that need no network."""

from __future__ import annotations

import logging
import os
from typing import Any

import pytest

from ganeti import daemon, errors
from ganeti.rpc import table
from ganeti.rpc.procedure import Timeout
from ganeti.server import noded


def test_pid_file_is_locked_while_held(tmp_path: Any) -> None:
    path = str(tmp_path / "run" / "d.pid")
    assert not daemon.pid_file_locked(path)
    held = daemon.PidFile(path)
    held.acquire()
    try:
        assert daemon.read_pid(path) == os.getpid()
        assert daemon.pid_file_locked(path)
        with pytest.raises(errors.GenericError, match="Another daemon holds"):
            daemon.PidFile(path).acquire()
    finally:
        held.release()
    assert not os.path.exists(path) and not daemon.pid_file_locked(path)


def test_stale_pid_file_is_not_running(tmp_path: Any) -> None:
    path = str(tmp_path / "stale.pid")
    with open(path, "w") as handle:
        handle.write("999999\n")
    assert not daemon.pid_file_locked(path)
    assert daemon.read_pid(path) == 999999


def test_log_reopen_follows_rotation(tmp_path: Any) -> None:
    path = str(tmp_path / "d.log")
    handler = daemon.ReopenableFileHandler(path)
    logger = logging.getLogger("test.reopen")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("before")
        os.rename(path, path + ".1")
        handler.reopen()
        logger.warning("after")
    finally:
        logger.removeHandler(handler)
        handler.close()
    with open(path + ".1") as handle:
        assert handle.read() == "before\n"
    with open(path) as handle:
        assert handle.read() == "after\n"


def test_parser_has_common_and_noded_options() -> None:
    parser = daemon.build_parser(noded.NodeDaemon())
    options = parser.parse_args(["-f", "-b", "127.0.1.9", "-p", "1999",
                                 "--max-request-size", "1000"])
    assert (options.foreground, options.bind, options.port, options.max_request_size) == \
        (True, "127.0.1.9", 1999, 1000)
    defaults = parser.parse_args([])
    assert defaults.port == 1811 and defaults.max_request_size == 64 * 1024 * 1024
    with pytest.raises(SystemExit):
        parser.parse_args(["-p", "70000"])
    with pytest.raises(SystemExit):
        parser.parse_args(["--max-request-size", "-5"])


def test_child_budget_stays_within_the_callers_timeout() -> None:
    hooks = table.get("hooks_runner")
    assert noded.child_budget(hooks, None) == float(Timeout.NORMAL)
    assert noded.child_budget(hooks, 3.0) == pytest.approx(2.7)
    assert noded.child_budget(hooks, 100.0) == pytest.approx(99.0)
    assert noded.child_budget(hooks, 1e9) == float(Timeout.NORMAL)


async def _dispatch(name: str, body: bytes) -> tuple[int, list[Any]]:
    return await noded.Dispatcher(lambda: None).dispatch(name, body, None)


@pytest.mark.parametrize("name, body, status, text", [
    ("nope", b"[]", 404, "Unknown RPC procedure 'nope'"),
    ("version", b"[", 400, "not valid JSON"),
    ("version", b"[1]", 400, "expected 0 arguments"),
    ("jobqueue_set_drain_flag", b"[1]", 400, "argument 'drain' must be a boolean"),
])
def test_dispatch_protocol_errors(name: str, body: bytes, status: int, text: str) -> None:
    import asyncio

    got_status, reply = asyncio.run(_dispatch(name, body))
    assert got_status == status and reply[0] is False and text in reply[1][1][0]


def test_dispatch_inline_version() -> None:
    import asyncio

    from ganeti import constants

    assert asyncio.run(_dispatch("version", b"[]")) == (200, [True,
                                                             constants.PROTOCOL_VERSION])


def test_noded_startup_imports_stay_light() -> None:
    """Backends and heavy libraries load on first use, not at start-up (RSS)."""
    import subprocess
    import sys

    code = ("import sys; import ganeti.server.noded; "
            "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('psutil', 'OpenSSL', 'cryptography', 'paramiko', 'pyinotify') "
            "or m.startswith(('ganeti.backend', 'ganeti.hypervisor', 'ganeti.storage')))))")
    tree = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-c", code], cwd=tree, capture_output=True,
                         text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=tree)).stdout
    assert out.strip() == ""
