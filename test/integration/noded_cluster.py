"""A cluster of real ganeti-noded processes on loopback, for integration tests.

``start_cluster(base_dir, count=3)`` generates a cluster certificate and a
client certificate per node, creates one node root per node under
``base_dir`` (node1 → 127.0.1.1, node2 → 127.0.1.2, …), writes a minimal
ssconf (node1 is the master), starts a noded in the foreground for each
on one free port, and waits until every node answers ``version``.
``NodedCluster.stop()`` stops them all (SIGTERM, then SIGKILL).

The pytest fixture ``noded_cluster`` (module scope, see conftest.py) gives a
three-node cluster; tests that stop or pause a node must bring it back
(``node.start()`` / ``node.resume()``) or use their own cluster.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from ganeti import constants, pathutils, ssconf
from ganeti.rpc.client import NodeAddress, RpcClient
from ganeti.utils import x509

TREE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NODED = os.path.join(TREE, "daemons", "ganeti-noded")
DAEMON_UTIL = os.path.join(TREE, "daemons", "daemon-util")
#: Seconds to wait for a noded to answer after start.
START_TIMEOUT = 20.0
CLUSTER_NAME = "cluster.example.com"


def node_ip(index: int) -> str:
    """Loopback address of node ``index`` (1-based): 127.0.1.<index>."""
    if not 1 <= index <= 254:
        raise ValueError("node index must be from 1 to 254, got %d" % index)
    return "127.0.1.%d" % index


def free_port(addresses: Sequence[str]) -> int:
    """A TCP port free on every one of ``addresses`` (checked by binding)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind((addresses[0], 0))
            port = probe.getsockname()[1]
        if all(_port_free(address, port) for address in addresses):
            return port
    raise RuntimeError("no TCP port free on all of %s" % ", ".join(addresses))


def _port_free(address: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def node_env(root: str) -> dict[str, str]:
    """Environment of a process acting on the node rooted at ``root``."""
    env = dict(os.environ)
    env[pathutils.ROOTDIR_ENV] = root
    env["PYTHONPATH"] = os.pathsep.join(p for p in (TREE, env.get("PYTHONPATH", "")) if p)
    return env


@dataclass
class NodedNode:
    """One node: its root, its address and its noded process."""

    name: str
    address: str
    port: int
    root: str
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def paths(self) -> pathutils.Paths:
        return pathutils.for_root(self.root)

    @property
    def node_address(self) -> NodeAddress:
        return NodeAddress(self.name, self.address, self.port)

    @property
    def log_file(self) -> str:
        return self.paths.daemon_log_file(constants.NODED)

    @property
    def pid_file(self) -> str:
        return self.paths.daemon_pid_file(constants.NODED)

    def log_text(self) -> str:
        try:
            with open(self.log_file, encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except FileNotFoundError:
            return ""

    def command(self) -> list[str]:
        return [sys.executable, NODED, "-f", "-b", self.address, "-p", str(self.port),
                *self.extra_args]

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start noded in the foreground and wait until it accepts connections."""
        if self.running:
            return
        self.launch()
        self.wait_listening(timeout)

    def launch(self) -> None:
        """Start the noded process without waiting for it."""
        stderr_path = os.path.join(self.root, "noded.stderr")
        with open(stderr_path, "ab") as stderr:
            self.process = subprocess.Popen(self.command(), env=node_env(self.root),
                                            stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=stderr)

    def wait_listening(self, timeout: float = START_TIMEOUT) -> None:
        wait_listening(self.address, self.port, timeout, self.process)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM (SIGKILL after ``timeout``); the exit status, None if not started."""
        if self.process is None:
            return None
        self.resume()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        status = self.process.returncode
        self.process = None
        return status

    def signal(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signum)

    def pause(self) -> None:
        """Freeze the daemon (SIGSTOP): it accepts connections but never answers."""
        self.signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.signal(signal.SIGCONT)


def wait_listening(address: str, port: int, timeout: float,
                   process: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until ``address:port`` accepts TCP connections (or the process died)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError("noded on %s:%d exited with status %s during start-up"
                               % (address, port, process.returncode))
        with contextlib.suppress(OSError), socket.create_connection((address, port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError("noded on %s:%d did not start listening within %.0f s"
                       % (address, port, timeout))


@dataclass
class NodedCluster:
    base_dir: str
    nodes: list[NodedNode]
    clients: list[RpcClient] = field(default_factory=list, repr=False)

    @property
    def master(self) -> NodedNode:
        return self.nodes[0]

    @property
    def cluster_cert_file(self) -> str:
        return self.master.paths.server_cert_file

    def node(self, name: str) -> NodedNode:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def addresses(self, offline: Sequence[str] = ()) -> list[NodeAddress]:
        """Every node's address; the named nodes marked offline."""
        return [NodeAddress(n.name, n.address, n.port, offline=n.name in offline)
                for n in self.nodes]

    def client(self, **kwargs: object) -> RpcClient:
        """An RPC client acting as the master (closed by ``stop``)."""
        client = RpcClient(self.master.paths, **kwargs)  # type: ignore[arg-type]
        self.clients.append(client)
        return client

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Wait until every running node answers ``version``."""
        client = self.client()
        deadline = time.monotonic() + timeout
        targets = [n.node_address for n in self.nodes if n.running]
        while True:
            results = client.call("version", targets, timeout=5)
            if all(r.success for r in results.values()):
                return
            if time.monotonic() > deadline:
                raise RuntimeError("nodes not ready: %s"
                                   % "; ".join(r.describe() for r in results.values()
                                               if not r.success))
            time.sleep(0.1)

    def stop(self) -> None:
        for client in self.clients:
            client.close()
        self.clients.clear()
        for node in self.nodes:
            node.stop()


def write_node_files(root: str, name: str, cluster_pem: bytes,
                     ssconf_values: dict[str, str], client_cert: bool = True) -> None:
    """Certificates and ssconf of one node root."""
    paths = pathutils.for_root(root)
    x509.write_file(paths.server_cert_file, cluster_pem)
    if client_cert:
        x509.write_file(paths.client_cert_file, x509.generate_client_cert(cluster_pem, name))
    ssconf.write_files(ssconf_values, paths)


def minimal_ssconf(names: Sequence[str], ips: Sequence[str]) -> dict[str, str]:
    return {
        ssconf.KEY_CLUSTER_NAME: CLUSTER_NAME,
        ssconf.KEY_MASTER_NODE: names[0],
        ssconf.KEY_MASTER_IP: ips[0],
        ssconf.KEY_NODE_LIST: "\n".join(names),
        ssconf.KEY_ONLINE_NODES: "\n".join(names),
        ssconf.KEY_MASTER_CANDIDATES: "\n".join(names),
        ssconf.KEY_NODE_PRIMARY_IPS: "\n".join("%s %s" % p for p in zip(names, ips)),
        ssconf.KEY_RELEASE_VERSION: constants.RELEASE_VERSION,
    }


def start_cluster(base_dir: str, count: int = 3, port: int | None = None,
                  extra_args: Sequence[str] = (), start: bool = True,
                  client_certs: bool = True,
                  start_timeout: float = START_TIMEOUT) -> NodedCluster:
    """Create ``count`` node roots under ``base_dir`` and start their nodeds.

    With ``client_certs=False`` only the master gets a node client
    certificate (quicker set-up for large benchmark clusters).
    """
    names = ["node%d" % i for i in range(1, count + 1)]
    ips = [node_ip(i) for i in range(1, count + 1)]
    port = port or free_port(ips)
    cluster_pem = x509.generate_cluster_cert()
    values = minimal_ssconf(names, ips)
    nodes = []
    for name, ip in zip(names, ips):
        root = os.path.join(base_dir, name)
        os.makedirs(root, exist_ok=True)
        write_node_files(root, name, cluster_pem, values,
                         client_cert=client_certs or name == names[0])
        nodes.append(NodedNode(name, ip, port, root, tuple(extra_args)))
    cluster = NodedCluster(base_dir, nodes)
    if start:
        try:
            for node in nodes:  # launch all, then wait: they start in parallel
                node.launch()
            for node in nodes:
                node.wait_listening(start_timeout)
            cluster.wait_ready(start_timeout)
        except BaseException:
            cluster.stop()
            raise
    return cluster


@contextlib.contextmanager
def running_cluster(base_dir: str, count: int = 3,
                    extra_args: Sequence[str] = ()) -> Iterator[NodedCluster]:
    cluster = start_cluster(base_dir, count, extra_args=extra_args)
    try:
        yield cluster
    finally:
        cluster.stop()
