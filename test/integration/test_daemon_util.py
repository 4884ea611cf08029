"""daemons/daemon-util driving a real, detached ganeti-noded."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import psutil
from noded_cluster import (
    DAEMON_UTIL,
    NODED,
    free_port,
    minimal_ssconf,
    node_env,
    node_ip,
    write_node_files,
)

from ganeti import constants, pathutils
from ganeti.rpc.client import NodeAddress, RpcClient
from ganeti.utils import x509

ADDRESS = node_ip(4)


def daemon_util(root: str, *args: str, env: dict[str, str] | None = None
                ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DAEMON_UTIL, *args], env=dict(node_env(root), **(env or {})),
                          capture_output=True, text=True, timeout=60)


def _prepare_root(tmp_path: Any) -> str:
    root = str(tmp_path / "node4")
    write_node_files(root, "node4", x509.generate_cluster_cert(),
                     minimal_ssconf(["node4"], [ADDRESS]))
    return root


def _version(root: str, port: int) -> int:
    with RpcClient(pathutils.for_root(root)) as client:
        return client.call_one("version", NodeAddress("node4", ADDRESS, port),
                               timeout=10).raise_if_failed()


def test_start_check_stop(tmp_path: Any) -> None:
    root = _prepare_root(tmp_path)
    paths = pathutils.for_root(root)
    port = free_port([ADDRESS])
    assert daemon_util(root, "check", constants.NODED).returncode == 1
    try:
        started = daemon_util(root, "start", constants.NODED, "-b", ADDRESS, "-p", str(port))
        assert started.returncode == 0, started.stderr
        # start returns once the daemon serves: no waiting needed.
        assert _version(root, port) == constants.PROTOCOL_VERSION
        assert daemon_util(root, "check", constants.NODED).returncode == 0
        with open(paths.daemon_pid_file(constants.NODED)) as handle:
            pid = int(handle.read())
        # Detached: another session, not a child of ours.
        assert os.getsid(pid) != os.getsid(0)
        assert psutil.Process(pid).ppid() != os.getpid()
        again = daemon_util(root, "start", constants.NODED, "-b", ADDRESS, "-p", str(port))
        assert again.returncode == 0 and "already running" in again.stdout
    finally:
        stopped = daemon_util(root, "stop", constants.NODED)
    assert stopped.returncode == 0, stopped.stderr
    assert daemon_util(root, "check", constants.NODED).returncode == 1
    assert not os.path.exists(paths.daemon_pid_file(constants.NODED))
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    with open(paths.daemon_log_file(constants.NODED)) as handle:
        log = handle.read()
    assert "Serving node RPC on %s port %d" % (ADDRESS, port) in log
    assert "Received SIGTERM, stopping" in log
    # Stopping a stopped daemon is fine.
    assert daemon_util(root, "stop", constants.NODED).returncode == 0


def test_start_all_and_stop_all_act_on_installed_daemons(tmp_path: Any) -> None:
    root = _prepare_root(tmp_path)
    port = free_port([ADDRESS])
    # Only noded is "installed" here (other daemons would need a full cluster).
    installed = tmp_path / "sbin"
    installed.mkdir()
    os.symlink(NODED, installed / constants.NODED)
    env = {"NODED_ARGS": "-b %s -p %d" % (ADDRESS, port),
           "GANETI_DAEMONS_DIR": str(installed)}
    try:
        started = daemon_util(root, "start-all", env=env)
        assert started.returncode == 0, started.stderr
        assert _version(root, port) == constants.PROTOCOL_VERSION
    finally:
        stopped = daemon_util(root, "stop-all", env=env)
    assert stopped.returncode == 0, stopped.stderr
    assert daemon_util(root, "check", constants.NODED).returncode == 1


def test_start_fails_clearly_without_certificate(tmp_path: Any) -> None:
    root = str(tmp_path / "empty")
    os.makedirs(root)
    result = daemon_util(root, "start", constants.NODED, "-b", ADDRESS, "-p",
                         str(free_port([ADDRESS])))
    assert result.returncode == 1
    assert "can't load the cluster certificate" in result.stderr
    assert "server.pem" in result.stderr


def test_bad_usage(tmp_path: Any) -> None:
    result = daemon_util(str(tmp_path), "start", "ganeti-nonexistent")
    assert result.returncode == 1 and "Unknown daemon 'ganeti-nonexistent'" in result.stderr
    result = daemon_util(str(tmp_path), "frobnicate")
    assert result.returncode == 1 and "usage:" in result.stderr
