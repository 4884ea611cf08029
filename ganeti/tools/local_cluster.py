"""A multi-node cluster on this one machine (the embedded default).

``local-cluster up [-n N] [--dir DIR]`` creates N node roots under DIR
(node<i> at 127.0.1.<i>, named node<i>.<domain>), a cluster hosts file in
each, an sshd on the nodes' loopback addresses for ``gnt-node add`` (its own
configuration, host key and authorized_keys under DIR; per listen address
it sets GANETI_ROOTDIR and GANETI_HOSTNAME, so a login reaches that node),
then runs ``gnt-cluster init`` on node1 and ``gnt-node add`` for the
others, and writes wrapper scripts (DIR/bin/gnt-*) that act on the master.
``down`` stops every daemon it started (by pid file) and the sshd, and
removes nothing else; ``env`` prints the exports pointing gnt-* at the master.

Each node uses the standard ports on its own address (noded 1811, confd
1814, RAPI 5080), so ports never collide. As root the sshd listens on port
22 when that is free on the nodes' addresses (else 2222); otherwise it runs
unprivileged on a high port, where logins (and so node adds over SSH as
root) only work for the user running it.

``LocalCluster`` is the Python API the integration tests use.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ganeti import constants, daemon, errors, netutils, pathutils
from ganeti.server import daemon_util

DEFAULT_NODES = 3
DEFAULT_DOMAIN = "cluster.local"
#: The cluster's name is this label under the domain.
CLUSTER_LABEL = "ganeti"
SSHD = "/usr/sbin/sshd"
SSH_KEYGEN = "ssh-keygen"
#: Ports tried for the sshd when 22 is not available, in order.
SSH_FALLBACK_PORTS = tuple(range(2222, 2322))
COMMAND_TIMEOUT = 300.0
#: The source tree (for PYTHONPATH in SSH logins).
_TREE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class LocalClusterError(errors.GenericError):
    """The local cluster could not be brought up or down."""


def node_address(index: int) -> str:
    if not 1 <= index <= 254:
        raise LocalClusterError("node index must be from 1 to 254, got %d" % index)
    return "127.0.1.%d" % index


@dataclass(frozen=True)
class LocalNode:
    index: int
    name: str
    address: str
    root: str

    @property
    def paths(self) -> pathutils.Paths:
        return pathutils.for_root(self.root)


def _port_free(address: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def gnt_commands() -> list[str]:
    """Module names of the gnt-* commands (``gnt_cluster``, …)."""
    client_dir = os.path.join(_TREE, "ganeti", "client")
    return sorted(name[:-3] for name in os.listdir(client_dir)
                  if name.startswith("gnt_") and name.endswith(".py"))


def _has_subcommand(module: str, command: str) -> bool:
    import importlib

    try:
        loaded = importlib.import_module("ganeti.client.%s" % module)
    except ImportError:
        return False
    commands = getattr(loaded, "COMMANDS", None)
    if commands is None and hasattr(loaded, "commands"):
        commands = loaded.commands()
    return commands is not None and command in commands


@dataclass
class LocalCluster:
    """N nodes on this machine; ``up()``, ``down()``, ``run_cli()``, ``env()``."""

    base_dir: str
    nodes: int = DEFAULT_NODES
    domain: str = DEFAULT_DOMAIN
    first_index: int = 1
    hypervisors: Sequence[str] = (constants.HT_FAKE,)
    disk_templates: Sequence[str] = (constants.DT_DISKLESS, constants.DT_FILE)
    ssh_port: int | None = None
    feedback: Any = field(default=None, repr=False)
    #: Node names that joined (filled by ``up`` or loaded from the state file).
    joined: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.base_dir = os.path.abspath(self.base_dir)
        if self.nodes < 1:
            raise LocalClusterError("a cluster needs at least one node, got %d" % self.nodes)
        node_address(self.first_index + self.nodes - 1)  # range check

    # -- layout ---------------------------------------------------------------------

    @property
    def layout(self) -> pathutils.LocalClusterPaths:
        return pathutils.LocalClusterPaths(self.base_dir)

    @property
    def cluster_name(self) -> str:
        return "%s.%s" % (CLUSTER_LABEL, self.domain)

    def node_list(self) -> list[LocalNode]:
        return [LocalNode(i, "node%d.%s" % (i, self.domain), node_address(i),
                          self.layout.node_root(i))
                for i in range(self.first_index, self.first_index + self.nodes)]

    @property
    def master(self) -> LocalNode:
        return self.node_list()[0]

    def node(self, which: int | str) -> LocalNode:
        """A node by index (1-based within this cluster) or by (short) name."""
        for number, node in enumerate(self.node_list(), start=1):
            if which in (number, node.name, node.name.split(".")[0]):
                return node
        raise LocalClusterError("no node %r in this local cluster (nodes: %s)"
                                % (which, ", ".join(n.name for n in self.node_list())))

    def env(self, which: int | str = 1) -> dict[str, str]:
        """Environment variables that make commands act on a node."""
        node = self.node(which)
        return {pathutils.ROOTDIR_ENV: node.root, netutils.HOSTNAME_ENV: node.name}

    def full_env(self, which: int | str = 1) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.env(which))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_TREE, env.get("PYTHONPATH")) if p)
        return env

    def _say(self, message: str) -> None:
        if self.feedback is not None:
            self.feedback(message)

    # -- commands ---------------------------------------------------------------------

    def run_cli(self, which: int | str, argv: Sequence[str], timeout: float = COMMAND_TIMEOUT,
                check: bool = False) -> subprocess.CompletedProcess[str]:
        """Run ``gnt-<cmd> args…`` (argv[0] is e.g. ``gnt-node``) on a node."""
        if not argv or not argv[0].startswith("gnt-"):
            raise LocalClusterError("expected a gnt-* command, got %r" % (list(argv),))
        module = "ganeti.client.%s" % argv[0].replace("-", "_")
        result = subprocess.run([sys.executable, "-m", module, *argv[1:]],
                                env=self.full_env(which), capture_output=True, text=True,
                                timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise LocalClusterError("%s failed (exit %d): %s"
                                    % (" ".join(argv), result.returncode,
                                       (result.stderr or result.stdout).strip()))
        return result

    # -- up ------------------------------------------------------------------------------

    def up(self) -> None:
        """Create the node roots and sshd, init the cluster, add the other nodes.

        On a directory whose cluster exists already (after ``down``, or an
        ``up`` that stopped half-way) it starts the daemons of the nodes that
        joined and adds the ones that did not. Refuses while it runs.
        """
        if self.running_pids():
            raise LocalClusterError("the local cluster in %s is already running; run"
                                    " 'local-cluster down --dir %s' first"
                                    % (self.base_dir, self.base_dir))
        for node in self.node_list():
            if not netutils.is_local_address(node.address):
                raise LocalClusterError("cannot use address %s for %s: it is not an address"
                                        " of this machine" % (node.address, node.name))
        os.makedirs(self.base_dir, exist_ok=True)
        self._write_node_roots()
        from ganeti import bootstrap

        bootstrap.ensure_ssh_key(self.master.paths)
        existing = bootstrap.already_in_cluster(self.master.paths) is not None
        ssh_ready = self._start_sshd()
        self._save_state()
        self._write_wrappers()
        if existing:
            self._restart_joined()
        else:
            self._init_master()
            if ssh_ready:
                # We made the sshd's host key, so the master may trust it from the start.
                self._write_known_hosts()
            self.joined = [self.master.name]
        self._save_state()
        self._add_nodes(ssh_ready)
        self._save_state()

    def _restart_joined(self) -> None:
        """Start the daemons of the nodes already in the cluster (master last)."""
        joined = [n for n in self.node_list() if n.name in self.joined] or [self.master]
        for node in sorted(joined, key=lambda n: n.name == self.master.name):
            self._say("Starting the daemons of %s" % node.name)
            result = daemon_util.run(["start-all"], env=self.full_env(node.name),
                                     timeout=COMMAND_TIMEOUT)
            if result.returncode != 0:
                raise LocalClusterError("starting the daemons of %s failed: %s"
                                        % (node.name, (result.stderr or
                                                       result.stdout).strip()))
        self.joined = [n.name for n in joined]

    def _write_node_roots(self) -> None:
        hosts = [(n.address, [n.name, n.name.split(".")[0]]) for n in self.node_list()]
        hosts.append((self.master.address, [self.cluster_name, CLUSTER_LABEL]))
        hosts_text = netutils.format_hosts(hosts)
        for node in self.node_list():
            paths = node.paths
            os.makedirs(paths.data_dir, mode=0o755, exist_ok=True)
            with open(paths.cluster_hosts_file, "w", encoding="utf-8") as handle:
                handle.write(hosts_text)
            # File disks live in the master root's storage directories (the
            # cluster-wide path); every node allows them.
            os.makedirs(os.path.dirname(paths.file_storage_paths_file), exist_ok=True)
            master_paths = self.master.paths
            with open(paths.file_storage_paths_file, "w", encoding="utf-8") as handle:
                handle.write("%s\n%s\n" % (master_paths.default_file_storage_dir,
                                           master_paths.default_shared_file_storage_dir))

    def _choose_ssh_port(self) -> int:
        addresses = [n.address for n in self.node_list()]
        candidates = ([self.ssh_port] if self.ssh_port else
                      ([22] if os.geteuid() == 0 else []) + list(SSH_FALLBACK_PORTS))
        for port in candidates:
            if all(_port_free(a, port) for a in addresses):
                return port
        raise LocalClusterError("no SSH port free on %s (tried %s)"
                                % (", ".join(addresses),
                                   ", ".join(str(p) for p in candidates[:5])))

    def _start_sshd(self) -> bool:
        """Start the nodes' sshd; False (with a message) if sshd is not installed."""
        if not os.access(SSHD, os.X_OK):
            self._say("%s not found: install Debian's openssh-server to add nodes over SSH;"
                      " only node1 will be set up" % SSHD)
            self.ssh_port = self.ssh_port or 22
            return False
        # A restarted cluster keeps its port: the nodes' ssh_port parameter says it.
        self.ssh_port = self._choose_ssh_port()
        layout = self.layout
        os.makedirs(layout.sshd_dir, mode=0o700, exist_ok=True)
        if not os.path.exists(layout.sshd_host_key):
            subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C",
                            "local-cluster", "-f", layout.sshd_host_key],
                           check=True, capture_output=True)
        with open(self.master.paths.ssh_pub_key_file, encoding="utf-8") as handle:
            master_key = handle.read().strip()
        with open(layout.sshd_authorized_keys, "w", encoding="utf-8") as handle:
            handle.write(master_key + "\n")
        os.chmod(layout.sshd_authorized_keys, 0o600)
        with open(layout.sshd_config, "w", encoding="utf-8") as handle:
            handle.write(self._sshd_config())
        if os.geteuid() == 0:
            # Debian's sshd refuses to start without its privilege separation directory.
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        result = subprocess.run([SSHD, "-f", layout.sshd_config, "-E", layout.sshd_log_file],
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise LocalClusterError("sshd did not start (exit %d): %s; see %s"
                                    % (result.returncode, result.stderr.strip(),
                                       layout.sshd_log_file))
        self._wait_sshd()
        return True

    def _sshd_config(self) -> str:
        layout = self.layout
        lines = [
            "# Written by local-cluster: one sshd for the nodes of %s" % self.base_dir,
            "Port %d" % self.ssh_port if self.ssh_port else "",
            *("ListenAddress %s" % n.address for n in self.node_list()),
            "HostKey %s" % layout.sshd_host_key,
            "PidFile %s" % layout.sshd_pid_file,
            "AuthorizedKeysFile %s" % layout.sshd_authorized_keys,
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "StrictModes no",
            "UsePAM no",
            "PrintMotd no",
            "LogLevel VERBOSE",
        ]
        for node in self.node_list():
            lines += [
                "Match LocalAddress %s" % node.address,
                "    SetEnv %s=%s %s=%s PYTHONPATH=%s" % (
                    pathutils.ROOTDIR_ENV, node.root, netutils.HOSTNAME_ENV, node.name,
                    _TREE),
            ]
        return "\n".join(line for line in lines if line) + "\n"

    def _wait_sshd(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        address = self.master.address
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), \
                    socket.create_connection((address, self.ssh_port or 22), 0.5):
                return
            time.sleep(0.05)
        raise LocalClusterError("sshd does not accept connections on %s port %s; see %s"
                                % (address, self.ssh_port, self.layout.sshd_log_file))

    def _write_known_hosts(self) -> None:
        """Record the sshd's host key for every node in the master's known_hosts."""
        with open(self.layout.sshd_host_key + ".pub", encoding="utf-8") as handle:
            key_type, key_data = handle.read().split()[:2]
        port = self.ssh_port or 22

        def host(name: str) -> str:
            return name if port == 22 else "[%s]:%d" % (name, port)

        lines = ["%s,%s %s %s\n" % (host(n.name), host(n.address), key_type, key_data)
                 for n in self.node_list()]
        known_hosts = self.master.paths.known_hosts_file
        with open(known_hosts, "a", encoding="utf-8") as handle:
            handle.writelines(lines)

    def _init_master(self) -> None:
        argv = ["gnt-cluster", "init",
                "--enabled-hypervisors=%s" % ",".join(self.hypervisors),
                "--enabled-disk-templates=%s" % ",".join(self.disk_templates),
                "--node-parameters=ssh_port=%d" % (self.ssh_port or 22),
                "--no-etc-hosts", self.cluster_name]
        self._say("Initialising cluster %s on %s" % (self.cluster_name, self.master.name))
        self.run_cli(1, argv, check=True)

    def _add_nodes(self, ssh_ready: bool) -> None:
        missing = [n for n in self.node_list() if n.name not in self.joined]
        if not missing:
            return
        if not ssh_ready:
            self._say("No sshd: nodes other than node1 were not added")
            return
        if not _has_subcommand("gnt_node", "add"):
            self._say("gnt-node add is not available yet: only node1 is in the cluster")
            return
        for node in missing:
            self._say("Adding %s" % node.name)
            result = self.run_cli(1, ["gnt-node", "add", node.name])
            if result.returncode != 0:
                hint = "" if os.geteuid() == 0 else (
                    " (not running as root: node add logs in over SSH as root, which only"
                    " works when local-cluster runs as root)")
                raise LocalClusterError("gnt-node add %s failed (exit %d): %s%s"
                                        % (node.name, result.returncode,
                                           (result.stderr or result.stdout).strip(), hint))
            self.joined.append(node.name)
            self._save_state()  # a later failure must not make up add it twice

    def _write_wrappers(self) -> None:
        bin_dir = self.layout.bin_dir
        os.makedirs(bin_dir, exist_ok=True)
        master = self.master
        import_path = ":".join(wrapper_import_path())
        for module in gnt_commands():
            script = os.path.join(bin_dir, module.replace("_", "-"))
            # python -S with the import path spelled out: the start-up of every command
            # then skips site's .pth hooks (an editable install's finder among them),
            # tens of milliseconds a command on this kind of machine.
            with open(script, "w", encoding="utf-8") as handle:
                handle.write("#!/bin/sh\n# local-cluster: %s on the master %s\n"
                             "export %s='%s' %s='%s' PYTHONPATH='%s'\n"
                             "exec '%s' -S -m ganeti.client.%s \"$@\"\n"
                             % (module.replace("_", "-"), master.name,
                                pathutils.ROOTDIR_ENV, master.root, netutils.HOSTNAME_ENV,
                                master.name, import_path, sys.executable, module))
            os.chmod(script, 0o755)

    # -- state ------------------------------------------------------------------------

    def _save_state(self) -> None:
        state = {
            "nodes": self.nodes, "domain": self.domain, "first_index": self.first_index,
            "ssh_port": self.ssh_port, "cluster_name": self.cluster_name,
            "joined": self.joined,
        }
        os.makedirs(self.base_dir, exist_ok=True)
        with open(self.layout.state_file, "w", encoding="utf-8") as handle:
            json.dump(state, handle, indent=1, sort_keys=True)

    @classmethod
    def load(cls, base_dir: str) -> LocalCluster:
        """The local cluster ``up`` created in ``base_dir``."""
        layout = pathutils.LocalClusterPaths(os.path.abspath(base_dir))
        try:
            with open(layout.state_file, encoding="utf-8") as handle:
                state = json.load(handle)
        except FileNotFoundError:
            raise LocalClusterError("no local cluster in %s (%s does not exist)"
                                    % (base_dir, layout.state_file)) from None
        return cls(base_dir, nodes=state["nodes"], domain=state["domain"],
                   first_index=state["first_index"], ssh_port=state.get("ssh_port"),
                   joined=list(state.get("joined") or []))

    # -- down ------------------------------------------------------------------------

    def running_pids(self) -> dict[str, int]:
        """``{"<node>/<daemon>" or "sshd": pid}`` of what runs now."""
        found: dict[str, int] = {}
        for node in self.node_list():
            for name in daemon_util.START_ORDER:
                pid = daemon_util.running_pid(name, node.paths)
                if pid is not None:
                    found["%s/%s" % (node.name, name)] = pid
        sshd = self._sshd_pid()
        if sshd is not None:
            found["sshd"] = sshd
        return found

    def _sshd_pid(self) -> int | None:
        pid = daemon.read_pid(self.layout.sshd_pid_file)
        if pid is None:
            return None
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as handle:
                cmdline = handle.read()
        except OSError:
            return None
        # A recycled pid is not our sshd: it must run with our configuration (sshd
        # rewrites its title, so look for the path anywhere in the command line).
        return pid if self.layout.sshd_config.encode() in cmdline else None

    def down(self, timeout: float = 30.0) -> list[str]:
        """Stop every daemon of every node and the sshd; what was stopped.

        Returns once every one of those processes has exited.
        """
        pids = self.running_pids()
        stopped: list[str] = []
        for node in reversed(self.node_list()):
            env = self.full_env(node.name)
            running = [n for n in daemon_util.START_ORDER
                       if daemon_util.running_pid(n, node.paths) is not None]
            if not running:
                continue
            result = daemon_util.run(["stop-all"], env=env, timeout=timeout * 6)
            if result.returncode != 0:
                raise LocalClusterError("stopping the daemons of %s failed: %s"
                                        % (node.name, result.stderr.strip()))
            stopped += ["%s/%s" % (node.name, n) for n in running]
        pid = self._sshd_pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self._sshd_pid() is not None and time.monotonic() < deadline:
                time.sleep(0.05)
            if self._sshd_pid() is not None:
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.layout.sshd_pid_file)
            stopped.append("sshd")
        _wait_exited(list(pids.values()), timeout)
        release_loopback_master_ip(self.node(1).paths)
        return stopped

    def exports(self, which: int | str = 1) -> str:
        lines = ["export %s=%s" % (k, shlex_quote(v)) for k, v in self.env(which).items()]
        lines.append("export PATH=%s:\"$PATH\"" % shlex_quote(self.layout.bin_dir))
        return "\n".join(lines)


def wrapper_import_path() -> list[str]:
    """Where the gnt-* wrappers find ganeti and its dependencies without ``site``."""
    import site

    import ganeti

    tree = os.path.dirname(os.path.dirname(os.path.abspath(ganeti.__file__)))
    user = [site.getusersitepackages()] if site.ENABLE_USER_SITE else []
    return [tree] + [p for p in site.getsitepackages() + user if os.path.isdir(p)]


def release_loopback_master_ip(paths: pathutils.Paths) -> None:
    """Drop the /32 a stopped test cluster's masterd put on ``lo``, if it did.

    masterd brings the master IP up on its device, as Ganeti's does, and leaves it
    there when it stops. On this machine's clusters that is a loopback address on
    ``lo`` that the kernel answers for anyway, so leaving it would only pile up
    addresses from cluster after cluster. Best effort: nothing else is touched.
    """
    from ganeti import ssconf

    store = ssconf.SimpleStore(paths)
    try:
        ip, netdev = store.get_master_ip(), store.get_master_netdev()
    except errors.GenericError:
        return
    if netdev != "lo" or not ip.startswith("127.") or os.geteuid() != 0:
        return
    subprocess.run(["ip", "addr", "del", "%s/32" % ip, "dev", "lo"], capture_output=True,
                   check=False)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent counts as exited)."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as handle:
            state = handle.read().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _wait_exited(pids: list[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while any(_alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            raise LocalClusterError("processes %s did not exit within %.0f s"
                                    % (", ".join(str(p) for p in pids if _alive(p)),
                                       timeout))
        time.sleep(0.02)


def shlex_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


# -- command line ------------------------------------------------------------------------

def _print(message: str) -> None:
    print(message, flush=True)


def _cmd_up(options: argparse.Namespace) -> int:
    cluster = LocalCluster(options.dir, nodes=options.nodes, domain=options.domain,
                           hypervisors=options.hypervisors.split(","),
                           disk_templates=options.disk_templates.split(","),
                           ssh_port=options.ssh_port, feedback=_print)
    with contextlib.suppress(LocalClusterError):
        # Brought up before: keep its addresses, names and SSH port; grow if asked.
        previous = LocalCluster.load(options.dir)
        cluster.nodes = max(cluster.nodes, previous.nodes)
        cluster.domain, cluster.first_index = previous.domain, previous.first_index
        cluster.ssh_port, cluster.joined = previous.ssh_port, previous.joined
    try:
        cluster.up()
    except BaseException:
        _print("Bringing the cluster up failed; stopping what was started")
        cluster.down()
        raise
    _print("Local cluster %s is up with %d node(s): %s"
           % (cluster.cluster_name, len(cluster.joined), ", ".join(cluster.joined)))
    _print("Point the gnt-* commands at its master with:\n  eval \"$(%s env --dir %s)\"\n"
           "or run the wrappers in %s (e.g. %s/gnt-node list)."
           % (os.path.basename(sys.argv[0]) or "local-cluster", cluster.base_dir,
              cluster.layout.bin_dir, cluster.layout.bin_dir))
    return 0


def _cmd_down(options: argparse.Namespace) -> int:
    cluster = LocalCluster.load(options.dir)
    stopped = cluster.down()
    _print("Stopped: %s" % (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def _cmd_env(options: argparse.Namespace) -> int:
    cluster = LocalCluster.load(options.dir)
    _print(cluster.exports(options.node))
    return 0


def _cmd_status(options: argparse.Namespace) -> int:
    cluster = LocalCluster.load(options.dir)
    running = cluster.running_pids()
    for node in cluster.node_list():
        daemons = sorted(name.split("/", 1)[1] for name in running
                         if name.startswith(node.name + "/"))
        _print("%s %s %s" % (node.name, node.address, ", ".join(daemons) or "(stopped)"))
    _print("sshd: %s" % ("pid %d, port %s" % (running["sshd"], cluster.ssh_port)
                         if "sshd" in running else "(stopped)"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="local-cluster",
        description="Bring up, inspect and stop a multi-node cluster on this machine.")
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    dir_help = "directory of the node roots (default: %(default)s)"
    default_dir = pathutils.default_local_cluster_dir()
    up = sub.add_parser("up", help="create the nodes, init the cluster, add the nodes")
    up.add_argument("-n", "--nodes", type=int, default=DEFAULT_NODES,
                    help="number of nodes (default: %(default)s)")
    up.add_argument("--dir", default=default_dir, help=dir_help)
    up.add_argument("--domain", default=DEFAULT_DOMAIN,
                    help="DNS domain of the node names (default: %(default)s)")
    up.add_argument("--hypervisors", default=constants.HT_FAKE,
                    help="enabled hypervisors (default: %(default)s)")
    up.add_argument("--disk-templates", default="%s,%s" % (constants.DT_DISKLESS,
                                                           constants.DT_FILE),
                    help="enabled disk templates (default: %(default)s)")
    up.add_argument("--ssh-port", type=int, default=None,
                    help="port of the nodes' sshd (default: 22 as root if free, else 2222+)")
    up.set_defaults(func=_cmd_up)
    down = sub.add_parser("down", help="stop every daemon of the nodes and the sshd")
    down.add_argument("--dir", default=default_dir, help=dir_help)
    down.set_defaults(func=_cmd_down)
    env = sub.add_parser("env", help="print the exports that point gnt-* at a node")
    env.add_argument("--dir", default=default_dir, help=dir_help)
    env.add_argument("--node", default="1", help="node number or name (default: the master)")
    env.set_defaults(func=_cmd_env)
    status = sub.add_parser("status", help="show which daemons run on which node")
    status.add_argument("--dir", default=default_dir, help=dir_help)
    status.set_defaults(func=_cmd_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    options = build_parser().parse_args(None if argv is None else list(argv))
    if getattr(options, "node", None) is not None and str(options.node).isdigit():
        options.node = int(options.node)
    try:
        return int(options.func(options))
    except (errors.GenericError, OSError, subprocess.SubprocessError) as err:
        print("local-cluster: %s" % err, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

