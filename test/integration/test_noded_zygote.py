"""noded's fork server (zygote): children forked from it, restart, kill, fallback."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from typing import Any

import psutil
import pytest
from noded_cluster import NodedCluster, NodedNode, running_cluster

from ganeti import constants, errors
from ganeti.rpc.client import KIND_REMOTE_ERROR

_WAIT = 15.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodedCluster]:
    with running_cluster(str(tmp_path_factory.mktemp("zygote")), count=1) as running:
        yield running


def _zygote_pids(node: NodedNode) -> list[int]:
    assert node.process is not None
    return [child.pid for child in psutil.Process(node.process.pid).children()
            if "ganeti.server.noded_zygote" in " ".join(child.cmdline())]


def _ready_zygote(node: NodedNode, not_pid: int | None = None) -> int:
    """The pid of the node's fork server once it is ready (and not ``not_pid``)."""
    deadline = time.monotonic() + _WAIT
    while time.monotonic() < deadline:
        pids = [pid for pid in _zygote_pids(node) if pid != not_pid]
        if len(pids) == 1 and re.search(r"Fork server %d ready" % pids[0], node.log_text()):
            return pids[0]
        time.sleep(0.05)
    raise AssertionError("no ready fork server; log:\n" + node.log_text())


def _write_hook(node: NodedNode, hook: str, body: str) -> None:
    directory = node.paths.hooks_dir(hook, "pre")
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "10-script")
    with open(path, "w") as handle:
        handle.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, 0o755)


def _grandparent_of_hook(cluster: NodedCluster) -> int:
    """Run a hook (a CHILD procedure) printing its runner's parent: who forked the child."""
    node = cluster.master
    _write_hook(node, "who-forked", "cut -d' ' -f4 /proc/$PPID/stat")
    results = cluster.client().call_one("hooks_runner", node.node_address,
                                        ["who-forked", "pre", {}]).raise_if_failed()
    [(_, status, output)] = results
    assert status == constants.HKR_SUCCESS, results
    return int(output)


def test_children_are_forked_by_the_fork_server(cluster: NodedCluster) -> None:
    node = cluster.master
    zygote = _ready_zygote(node)
    assert node.process is not None
    zygote_process = psutil.Process(zygote)
    assert zygote_process.num_threads() == 1
    listening = {c.laddr for c in psutil.Process(node.process.pid).net_connections()
                 if c.status == psutil.CONN_LISTEN}
    assert listening and not zygote_process.net_connections()
    for _ in range(3):
        assert _grandparent_of_hook(cluster) == zygote
    # Errors travel as they do from an exec'd child.
    result = cluster.client().call_one("blockdev_getsize", node.node_address,
                                       [[{"dev_type": "nope"}]])
    assert not result.success
    assert cluster.client().call_one("blockdev_getsize", node.node_address,
                                     [[]]).raise_if_failed() == []
    # Children were reaped by the fork server.
    assert all(child.status() != psutil.STATUS_ZOMBIE for child in zygote_process.children())


def test_killed_fork_server_is_restarted(cluster: NodedCluster) -> None:
    node = cluster.master
    old = _ready_zygote(node)
    os.kill(old, signal.SIGKILL)
    # Calls keep working while it is down (fallback) and after the restart.
    assert cluster.client().call_one("blockdev_getsize", node.node_address,
                                     [[]]).raise_if_failed() == []
    new = _ready_zygote(node, not_pid=old)
    assert "Fork server (pid %d) exited with status -9; restarting it" % old \
        in node.log_text()
    assert _grandparent_of_hook(cluster) == new


def test_stuck_fork_server_falls_back_and_is_replaced(cluster: NodedCluster) -> None:
    node = cluster.master
    stuck = _ready_zygote(node)
    os.kill(stuck, signal.SIGSTOP)
    try:
        # The child then comes from a new interpreter noded started itself.
        assert _grandparent_of_hook(cluster) == node.process.pid  # type: ignore[union-attr]
    finally:
        if psutil.pid_exists(stuck):
            os.kill(stuck, signal.SIGCONT)
    assert "Fork server failed to start a child for hooks_runner (no answer); running " \
        "it in a new interpreter" in node.log_text()
    replacement = _ready_zygote(node, not_pid=stuck)
    assert _grandparent_of_hook(cluster) == replacement


def test_hung_child_is_killed_with_its_scripts(cluster: NodedCluster) -> None:
    node = cluster.master
    zygote = _ready_zygote(node)
    pid_file = os.path.join(node.root, "hung.pids")
    # One script waits in the child's session, one escaped into a session of its own.
    _write_hook(node, "hang", "setsid sleep 120 & echo $! $$ > %s.tmp; mv %s.tmp %s; "
                "exec sleep 120" % (pid_file, pid_file, pid_file))
    result = cluster.client().call_one("hooks_runner", node.node_address,
                                       ["hang", "pre", {}], timeout=3)
    assert result.kind == KIND_REMOTE_ERROR, result
    assert isinstance(result.exception, errors.OpExecError)
    assert re.search(r"hooks_runner did not finish within 2\.7 seconds; its process "
                     r"\(pid \d+\) was killed", result.error or ""), result.error
    with open(pid_file) as handle:
        scripts = [int(pid) for pid in handle.read().split()]
    deadline = time.monotonic() + _WAIT
    while time.monotonic() < deadline and any(_alive(pid) for pid in scripts):
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in scripts)
    assert _zygote_pids(node) == [zygote]
    assert not psutil.Process(zygote).children()


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_fork_server_stops_with_noded(tmp_path: Any) -> None:
    with running_cluster(str(tmp_path), count=1) as own:
        node = own.master
        zygote = _ready_zygote(node)
        assert node.process is not None
        node.process.kill()  # no clean shutdown: the zygote notices the closed socket
        node.process.wait()
        deadline = time.monotonic() + _WAIT
        while _alive(zygote) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(zygote)


def test_without_fork_server_every_child_is_a_new_interpreter(tmp_path: Any) -> None:
    with running_cluster(str(tmp_path), count=1, extra_args=["--no-fork-server"]) as own:
        node = own.master
        assert _grandparent_of_hook(own) == node.process.pid  # type: ignore[union-attr]
        assert _zygote_pids(node) == []
