"""daemon-util: start, stop and check the daemons of this node.

``daemon-util start|stop|check <daemon> [daemon options]`` and
``daemon-util start-all|stop-all``. The daemons are found beside the
daemon-util executable (or in ``GANETI_DAEMONS_DIR``); start-all starts, in
``START_ORDER``, those that are installed and that this node's role calls
for (per ssconf: masterd and rapi on the master, confd on master
candidates), and stop-all stops every installed one in the reverse order.
A daemon's extra options may also come from the environment variable
``<NAME>_ARGS`` (e.g. ``NODED_ARGS="-b 127.0.1.2"``).

Network daemons listen on this node's primary address (ssconf
``node_primary_ips`` entry of this node's name) unless ``-b`` is given, so
several nodes of a local cluster share the standard ports on one machine.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time

from ganeti import constants, daemon, errors, netutils, pathutils, ssconf

#: Start order; a new daemon is one more entry (stop-all uses the reverse).
START_ORDER = (
    constants.NODED,
    constants.CONFD,
    constants.MASTERD,
    constants.RAPI,
    constants.MOND,
)
#: Seconds stop waits for a daemon to exit after SIGTERM before SIGKILL.
STOP_TIMEOUT = 30.0
DAEMONS_DIR_ENV = "GANETI_DAEMONS_DIR"
#: Daemons that listen on a network address (take -b/--bind).
NETWORK_DAEMONS = frozenset([constants.NODED, constants.CONFD, constants.RAPI,
                             constants.MOND])
#: Daemons only the master runs, and those only master candidates run.
MASTER_DAEMONS = frozenset([constants.MASTERD, constants.RAPI])
CANDIDATE_DAEMONS = frozenset([constants.CONFD])
_BIND_FLAGS = ("-b", "--bind")

USAGE = """usage: daemon-util start <daemon> [options...]
       daemon-util stop <daemon>
       daemon-util check <daemon>
       daemon-util start-all
       daemon-util stop-all
daemons: %s""" % ", ".join(START_ORDER)


def daemons_dir() -> str:
    return os.environ.get(DAEMONS_DIR_ENV) or os.path.dirname(os.path.abspath(sys.argv[0]))


def find_daemon_util() -> str:
    """Path of the daemon-util executable, for code that starts daemons.

    ``GANETI_DAEMONS_DIR`` if set, else the source tree's ``daemons/`` (an
    editable install), else the one on ``PATH``.
    """
    candidates = []
    if os.environ.get(DAEMONS_DIR_ENV):
        candidates.append(os.environ[DAEMONS_DIR_ENV])
    tree = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    candidates.append(os.path.join(tree, "daemons"))
    for directory in candidates:
        path = os.path.join(directory, "daemon-util")
        if os.path.isfile(path):
            return path
    found = shutil.which("daemon-util")
    if found is None:
        raise errors.ProgrammerError("daemon-util is not installed (not in %s nor on PATH)"
                                     % ", ".join(candidates))
    return found


def run(args: list[str], env: dict[str, str] | None = None,
        timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``daemon-util args…`` (with this Python) and capture its output."""
    return subprocess.run([sys.executable, find_daemon_util(), *args], env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def executable(name: str) -> str:
    return os.path.join(daemons_dir(), name)


def installed(name: str) -> bool:
    path = executable(name)
    return os.path.isfile(path) and os.access(path, os.X_OK)


def running_pid(name: str, paths: pathutils.Paths) -> int | None:
    """The daemon's pid if it runs (its pid file is locked), else None."""
    pid_file = paths.daemon_pid_file(name)
    if not daemon.pid_file_locked(pid_file):
        return None
    return daemon.read_pid(pid_file)


def _env_args(name: str) -> list[str]:
    short = name[len("ganeti-"):] if name.startswith("ganeti-") else name
    return shlex.split(os.environ.get("%s_ARGS" % short.upper(), ""))


def node_primary_ip(paths: pathutils.Paths) -> str | None:
    """This node's primary address per ssconf, or None if ssconf does not say."""
    try:
        ips = ssconf.SimpleStore(paths).get_node_primary_ips()
    except (errors.SsconfError, OSError):
        return None
    return ips.get(netutils.my_hostname())


def _gives_bind(args: list[str]) -> bool:
    return any(arg in _BIND_FLAGS or arg.startswith("--bind=")
               or (arg.startswith("-b") and len(arg) > 2) for arg in args)


def daemon_args(name: str, extra: list[str], paths: pathutils.Paths) -> list[str]:
    """The options a daemon is started with: environment, given, default bind."""
    args = [*_env_args(name), *extra]
    if name in NETWORK_DAEMONS and not _gives_bind(args):
        address = node_primary_ip(paths)
        if address:
            args = ["-b", address, *args]
    return args


def wanted_daemons(paths: pathutils.Paths) -> list[str]:
    """Installed daemons this node's role calls for, in start order.

    Without ssconf (a node not yet in a cluster) every installed daemon.
    """
    present = [name for name in START_ORDER if installed(name)]
    store = ssconf.SimpleStore(paths)
    me = netutils.my_hostname()
    try:
        is_master = store.get_master_node() == me
        is_candidate = me in store.get_master_candidates()
    except (errors.SsconfError, OSError):
        return present
    return [name for name in present
            if (name not in MASTER_DAEMONS or is_master)
            and (name not in CANDIDATE_DAEMONS or is_candidate or is_master)]


def start(name: str, extra: list[str], paths: pathutils.Paths) -> int:
    if running_pid(name, paths) is not None:
        print("%s is already running" % name)
        return 0
    if not installed(name):
        print("%s is not installed in %s" % (name, daemons_dir()), file=sys.stderr)
        return 1
    # The daemon detaches itself and exits 0 only once it serves.
    return subprocess.call([executable(name), *daemon_args(name, extra, paths)])


def stop(name: str, paths: pathutils.Paths, timeout: float = STOP_TIMEOUT) -> int:
    pid = running_pid(name, paths)
    if pid is None:
        return 0
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # The daemon gives up its pid file before its last threads end: stopped means
        # the process itself is gone too (or a zombie its parent has yet to reap).
        if running_pid(name, paths) is None and not _process_alive(pid):
            return 0
        time.sleep(0.05)
    print("%s (pid %d) did not stop within %.0f s, killing it" % (name, pid, timeout),
          file=sys.stderr)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return 0


def _process_alive(pid: int) -> bool:
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii") as handle:
            # "pid (comm) state ...": the state follows the last ')'.
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def check(name: str, paths: pathutils.Paths) -> int:
    return 0 if running_pid(name, paths) is not None else 1


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    paths = pathutils.current()
    if not args:
        print(USAGE, file=sys.stderr)
        return 1
    command, rest = args[0], args[1:]
    if command in ("start-all", "stop-all"):
        if rest:
            print("%s takes no arguments\n%s" % (command, USAGE), file=sys.stderr)
            return 1
        if command == "start-all":
            failed = [name for name in wanted_daemons(paths) if start(name, [], paths) != 0]
        else:
            present = [name for name in START_ORDER if installed(name)]
            failed = [name for name in reversed(present) if stop(name, paths) != 0]
        return 1 if failed else 0
    if command not in ("start", "stop", "check") or not rest:
        print(USAGE, file=sys.stderr)
        return 1
    name = rest[0]
    if name not in START_ORDER:
        print("Unknown daemon %r; daemons: %s" % (name, ", ".join(START_ORDER)),
              file=sys.stderr)
        return 1
    if command == "start":
        return start(name, rest[1:], paths)
    if len(rest) > 1:
        print("%s takes only the daemon name\n%s" % (command, USAGE), file=sys.stderr)
        return 1
    return stop(name, paths) if command == "stop" else check(name, paths)
