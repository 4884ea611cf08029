"""What every daemon shares: options, pid file, logging, daemonizing, signals.

A daemon subclasses ``Daemon`` and runs ``run_daemon(MyDaemon(), argv)``:

- ``add_options`` adds its own command-line options to the common ones
  (``-f/--foreground``, ``-d/--debug``, ``-b/--bind``, ``-p/--port``);
- ``prepare`` runs before daemonizing (load certificates, bind sockets), so
  a bad set-up fails in the caller's terminal with a clear message;
- ``serve`` is the main coroutine; it calls ``ready()`` once it serves and
  returns when ``stopping`` is set.

SIGTERM and SIGINT set ``stopping``; SIGHUP reopens the log file (for
logrotate) and calls ``reload``. The pid file ``<run_dir>/<daemon>.pid`` is locked (flock) while
the daemon lives, so ``daemon-util check`` can tell a live daemon from a
stale file, and is removed on a clean stop. Without ``-f`` the daemon
detaches and its parent returns only once the daemon serves (or failed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import fcntl
import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import TextIO

from ganeti import errors, pathutils
from ganeti.utils import argtypes

LOG_FORMAT = "%(asctime)s: %(name)s pid=%(process)d %(levelname)s %(message)s"


class ReopenableFileHandler(logging.StreamHandler):
    """Appends to a file; ``reopen()`` starts a fresh handle (after rotation)."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(self._open())

    def _open(self) -> TextIO:
        return open(self.path, "a", encoding="utf-8")

    def reopen(self) -> None:
        self.acquire()
        try:
            old = self.stream
            self.stream = self._open()
            old.close()
        finally:
            self.release()

    def close(self) -> None:
        self.acquire()
        try:
            with contextlib.suppress(Exception):
                self.stream.close()
        finally:
            self.release()
        super().close()


def setup_logging(log_file: str | None, debug: bool, to_stderr: bool,
                  program: str) -> ReopenableFileHandler | None:
    """Log to ``log_file`` (and stderr in the foreground); returns the file handler."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    formatter = logging.Formatter(LOG_FORMAT.replace("%(name)s", program))
    file_handler = None
    if log_file:
        os.makedirs(os.path.dirname(log_file), exist_ok=True)
        file_handler = ReopenableFileHandler(log_file)
        file_handler.setFormatter(formatter)
        root.addHandler(file_handler)
    if to_stderr:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(formatter)
        root.addHandler(stream)
    return file_handler


class PidFile:
    """A pid file held under an exclusive flock for the daemon's lifetime."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EAGAIN, errno.EACCES):
                raise errors.GenericError("Another daemon holds %s (pid %s)"
                                          % (self.path, read_pid(self.path))) from err
            raise
        os.ftruncate(fd, 0)
        os.write(fd, b"%d\n" % os.getpid())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        os.close(self._fd)
        self._fd = None


def read_pid(path: str) -> int | None:
    """The pid written in a pid file, or None if absent or malformed."""
    try:
        with open(path, encoding="ascii") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def pid_file_locked(path: str) -> bool:
    """Whether a live daemon holds the pid file (its flock is taken)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


class Daemon:
    """Base class of a daemon; see the module doc for the life cycle."""

    #: Daemon name as in constants.DAEMONS (pid and log file names).
    name: str = ""
    description: str = ""
    default_port: int | None = None
    default_bind: str = "0.0.0.0"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        """Add daemon-specific options (the common ones are there already)."""

    def prepare(self, options: argparse.Namespace) -> None:
        """Check and acquire resources before detaching; raise to fail."""

    async def serve(self, options: argparse.Namespace, stopping: asyncio.Event,
                    ready: Callable[[], None]) -> None:
        """Serve until ``stopping`` is set; call ``ready()`` once serving."""
        raise NotImplementedError

    def reload(self) -> None:
        """On SIGHUP (after the log file is reopened): re-read configuration files."""


def build_parser(daemon: Daemon) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=daemon.name, description=daemon.description)
    parser.add_argument("-f", "--foreground", action="store_true",
                        help="stay in the foreground, also log to stderr")
    parser.add_argument("-d", "--debug", action="store_true", help="log debug messages")
    if daemon.default_port is not None:
        parser.add_argument("-b", "--bind", default=daemon.default_bind, metavar="ADDRESS",
                            help="address to listen on (default: %(default)s)")
        parser.add_argument("-p", "--port", type=argtypes.port, default=daemon.default_port,
                            help="TCP port to listen on (default: %(default)s)")
    daemon.add_options(parser)
    return parser


def _detach() -> int:
    """Double-fork; returns, in the daemon, the fd to report readiness on.

    The original process waits on a pipe and exits with the daemon's
    start-up verdict (0 once serving, 1 with the error on stderr).
    """
    read_fd, write_fd = os.pipe()
    if os.fork() != 0:
        os.close(write_fd)
        chunks = []
        while True:
            chunk = os.read(read_fd, 4096)
            if not chunk:
                break
            chunks.append(chunk)
        message = b"".join(chunks).decode("utf-8", "replace")
        if message == "ok":
            os._exit(0)
        sys.stderr.write((message or "daemon exited during start-up") + "\n")
        os._exit(1)
    os.close(read_fd)
    os.setsid()
    if os.fork() != 0:
        os._exit(0)
    os.chdir("/")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    return write_fd


class _Readiness:
    """The detached daemon's one report to the waiting parent (no-op with -f)."""

    def __init__(self, fd: int | None) -> None:
        self._fd = fd

    def report(self, message: str) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.write(fd, message.encode("utf-8"))
        os.close(fd)


def run_daemon(daemon: Daemon, argv: list[str] | None = None) -> int:
    """Parse options, prepare, detach unless ``-f``, serve until stopped."""
    options = build_parser(daemon).parse_args(argv)
    paths = pathutils.current()
    program = daemon.name
    try:
        daemon.prepare(options)
    except Exception as err:  # start-up failure: say why and exit non-zero
        sys.stderr.write("%s: can't start: %s\n" % (program, err))
        return 1
    # Files the daemon creates are private unless it sets a mode (Ganeti's umask).
    os.umask(0o077)
    readiness = _Readiness(None if options.foreground else _detach())
    log_handler = setup_logging(paths.daemon_log_file(program), options.debug,
                                options.foreground, program)
    pid_file = PidFile(paths.daemon_pid_file(program))
    try:
        pid_file.acquire()
    except Exception as err:
        logging.error("Can't start: %s", err)
        readiness.report("%s: can't start: %s" % (program, err))
        return 1
    try:
        asyncio.run(_main(daemon, options, log_handler, readiness))
    except Exception as err:
        logging.exception("%s stopped on an error", program)
        readiness.report("%s: can't start: %s" % (program, err))
        return 1
    finally:
        pid_file.release()
        logging.info("%s stopped", program)
    return 0


async def _main(daemon: Daemon, options: argparse.Namespace,
                log_handler: ReopenableFileHandler | None, readiness: _Readiness) -> None:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def on_stop(signame: str) -> None:
        logging.info("Received %s, stopping", signame)
        stopping.set()

    def on_hup() -> None:
        if log_handler is not None:
            log_handler.reopen()
        logging.info("Received SIGHUP, log file reopened")
        daemon.reload()

    loop.add_signal_handler(signal.SIGTERM, on_stop, "SIGTERM")
    loop.add_signal_handler(signal.SIGINT, on_stop, "SIGINT")
    loop.add_signal_handler(signal.SIGHUP, on_hup)
    await daemon.serve(options, stopping, lambda: readiness.report("ok"))
