"""daemon-util: start, stop and check the daemons of this node.

``daemon-util start|stop|check <daemon> [daemon options]`` and
``daemon-util start-all|stop-all``. The daemons are found beside the
daemon-util executable (or in ``GANETI_DAEMONS_DIR``); start-all starts, in
``START_ORDER``, those that are installed, and stop-all stops them in the
reverse order. A daemon's extra options may also come from the environment
variable ``<NAME>_ARGS`` (e.g. ``NODED_ARGS="-b 127.0.1.2"``).
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time

from ganeti import constants, daemon, pathutils

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

USAGE = """usage: daemon-util start <daemon> [options...]
       daemon-util stop <daemon>
       daemon-util check <daemon>
       daemon-util start-all
       daemon-util stop-all
daemons: %s""" % ", ".join(START_ORDER)


def daemons_dir() -> str:
    return os.environ.get(DAEMONS_DIR_ENV) or os.path.dirname(os.path.abspath(sys.argv[0]))


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


def start(name: str, extra: list[str], paths: pathutils.Paths) -> int:
    if running_pid(name, paths) is not None:
        print("%s is already running" % name)
        return 0
    if not installed(name):
        print("%s is not installed in %s" % (name, daemons_dir()), file=sys.stderr)
        return 1
    # The daemon detaches itself and exits 0 only once it serves.
    return subprocess.call([executable(name), *_env_args(name), *extra])


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
        if running_pid(name, paths) is None:
            return 0
        time.sleep(0.05)
    print("%s (pid %d) did not stop within %.0f s, killing it" % (name, pid, timeout),
          file=sys.stderr)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return 0


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
        present = [name for name in START_ORDER if installed(name)]
        if command == "start-all":
            failed = [name for name in present if start(name, [], paths) != 0]
        else:
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
