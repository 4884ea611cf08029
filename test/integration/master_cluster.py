"""A cluster with a REAL ganeti-masterd process, for integration tests.

There is no ``gnt-cluster init`` yet, so ``create_cluster`` writes what it
would: node roots with certificates and ssconf (through noded_cluster's
helpers), and a minimal configuration (one node group, the nodes, node1
the master) with ``ConfigWriter.create``. Node daemons are started only
when asked (``start_noded=True``); jobs that run on the master alone do not
need them.

``MasterProcess`` runs ``daemons/ganeti-masterd -f`` with GANETI_ROOTDIR and
GANETI_HOSTNAME set, waits for its socket, and can stop it (SIGTERM) or
kill it (SIGKILL). ``run_cli`` runs a gnt-* command as a subprocess
(``python -m ganeti.client.gnt_<name>``) against that master.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from noded_cluster import (
    CLUSTER_NAME,
    TREE,
    NodedCluster,
    node_env,
    start_cluster,
)

from ganeti import constants, luxi, netutils, paramdefs, pathutils
from ganeti.config import ConfigWriter
from ganeti.objects import ConfigData
from ganeti.tools.local_cluster import release_loopback_master_ip

MASTERD = os.path.join(TREE, "daemons", "ganeti-masterd")
START_TIMEOUT = 30.0


def config_data(names: Sequence[str], ips: Sequence[str], master: str | None = None
                ) -> dict[str, Any]:
    """Plain data of a minimal config.data: one group, the nodes, all candidates."""
    now = time.time()
    group_uuid = str(uuid.uuid4())
    node_uuids = {name: str(uuid.uuid4()) for name in names}
    nodes = {
        node_uuids[name]: {
            "uuid": node_uuids[name], "name": name, "primary_ip": ip, "secondary_ip": ip,
            "serial_no": 1, "ctime": now, "mtime": now, "master_candidate": True,
            "master_capable": True, "vm_capable": True, "offline": False, "drained": False,
            "powered": True, "group": group_uuid, "ndparams": {}, "hv_state_static": {},
            "disk_state_static": {}, "tags": [],
        } for name, ip in zip(names, ips)}
    groups = {group_uuid: {
        "uuid": group_uuid, "name": "default", "serial_no": 1, "ctime": now, "mtime": now,
        "alloc_policy": "preferred", "ndparams": {}, "diskparams": {}, "ipolicy": {},
        "hv_state_static": {}, "disk_state_static": {}, "networks": {}, "tags": [],
    }}
    cluster = {
        "uuid": str(uuid.uuid4()), "serial_no": 1, "ctime": now, "mtime": now,
        "cluster_name": CLUSTER_NAME, "master_node": node_uuids[master or names[0]],
        "master_ip": ips[0], "master_netdev": "lo", "master_netmask": 32,
        "mac_prefix": "aa:00:00", "enabled_hypervisors": [constants.HT_FAKE],
        "enabled_disk_templates": [constants.DT_DISKLESS, constants.DT_FILE],
        "hvparams": {constants.HT_FAKE: paramdefs.HVPARAMS[constants.HT_FAKE].defaults()},
        "beparams": {"default": paramdefs.BEPARAMS.defaults()},
        "nicparams": {"default": paramdefs.NICPARAMS.defaults()},
        "ndparams": paramdefs.NDPARAMS.defaults(),
        "diskparams": {t: f.defaults() for t, f in paramdefs.DISKPARAMS.items()},
        "highest_used_port": 11000, "tcpudp_port_pool": [], "tags": ["test-cluster"],
        "rsahostkeypub": "ssh-rsa AAAA", "candidate_pool_size": 10,
    }
    return {"version": constants.CONFIG_VERSION, "serial_no": 1, "ctime": now, "mtime": now,
            "cluster": cluster, "nodes": nodes, "nodegroups": groups, "instances": {},
            "networks": {}, "disks": {}, "filters": {}}


def master_env(root: str, node_name: str) -> dict[str, str]:
    env = node_env(root)
    env[netutils.HOSTNAME_ENV] = node_name
    return env


@dataclass
class MasterProcess:
    """One ganeti-masterd process for the node rooted at ``root``."""

    root: str
    node_name: str
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def paths(self) -> pathutils.Paths:
        return pathutils.for_root(self.root)

    @property
    def env(self) -> dict[str, str]:
        return master_env(self.root, self.node_name)

    def command(self) -> list[str]:
        return [sys.executable, MASTERD, "-f", *self.extra_args]

    def start(self, timeout: float = START_TIMEOUT) -> None:
        if self.running:
            return
        stderr_path = os.path.join(self.root, "masterd.stderr")
        with open(stderr_path, "ab") as stderr:
            self.process = subprocess.Popen(self.command(), env=self.env,
                                            stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=stderr)
        self.wait_socket(timeout)

    def wait_socket(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        address = self.paths.master_socket
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError("masterd exited with status %s during start-up: %s"
                                   % (self.process.returncode, self.stderr_text()))
            with contextlib.suppress(OSError), \
                    socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.connect(address)
                if self.process is None or self.process.poll() is None:
                    return
            time.sleep(0.05)
        raise RuntimeError("masterd did not serve on %s within %.0f s" % (address, timeout))

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; the exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        status = self.process.returncode
        self.process = None
        release_loopback_master_ip(self.paths)
        return status

    def kill(self) -> None:
        """SIGKILL: the crash the queue must survive."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def client(self) -> luxi.Client:
        return luxi.Client(self.paths.master_socket)

    def log_text(self) -> str:
        try:
            with open(self.paths.daemon_log_file(constants.MASTERD), encoding="utf-8",
                      errors="replace") as handle:
                return handle.read()
        except FileNotFoundError:
            return ""

    def stderr_text(self) -> str:
        try:
            with open(os.path.join(self.root, "masterd.stderr"), encoding="utf-8",
                      errors="replace") as handle:
                return handle.read()
        except FileNotFoundError:
            return ""

    def run_cli(self, command: str, *args: str, timeout: float = 60.0
                ) -> subprocess.CompletedProcess[str]:
        """Run ``gnt-<command> args…`` against this master; output as text."""
        module = "ganeti.client.gnt_%s" % command.replace("-", "_")
        return subprocess.run([sys.executable, "-m", module, *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout, check=False)


@dataclass
class MasterCluster:
    """Node roots, their optional nodeds, and the master daemon of node1."""

    nodes: NodedCluster
    master: MasterProcess

    def stop(self) -> None:
        self.master.stop()
        self.nodes.stop()


def create_cluster(base_dir: str, count: int = 1, start_noded: bool = False,
                   master_args: Sequence[str] = (), start_master: bool = True
                   ) -> MasterCluster:
    """Node roots under ``base_dir`` with config and ssconf; masterd on node1."""
    nodes = start_cluster(base_dir, count, start=start_noded)
    names = [node.name for node in nodes.nodes]
    ips = [node.address for node in nodes.nodes]
    for node in nodes.nodes:
        ConfigWriter.create(node.paths.config_file, ConfigData.from_dict(config_data(names,
                                                                                     ips)))
    port_args = ("--noded-port", str(nodes.master.port))
    master = MasterProcess(nodes.master.root, nodes.master.name,
                           (*port_args, *master_args))
    cluster = MasterCluster(nodes, master)
    if start_master:
        try:
            master.start()
        except BaseException:
            cluster.stop()
            raise
    return cluster


@contextlib.contextmanager
def running_master(base_dir: str, count: int = 1, start_noded: bool = False,
                   master_args: Sequence[str] = ()) -> Iterator[MasterCluster]:
    cluster = create_cluster(base_dir, count, start_noded, master_args)
    try:
        yield cluster
    finally:
        cluster.stop()
