"""The fork server ("zygote") that runs noded's child-process procedures.

noded is multi-threaded, so it must not fork itself; starting a fresh
interpreter per call (``noded_child``) costs a tenth of a second or more.
Instead noded starts this single-threaded helper once. It imports the
backends of every CHILD procedure, then forks one child per request; the
child runs exactly one procedure and exits.

Protocol, on a SOCK_SEQPACKET socket pair (the zygote's end is passed as
``argv[1]``): the zygote sends ``b"R"`` once it is ready; each request is
one message whose payload is the procedure name and which carries three
descriptors: the *data* socket (noded writes the JSON arguments and shuts
its side down; the child writes the reply), the child's *stderr* (also its
stdout, so stray prints cannot corrupt the reply) and the *status* socket,
on which the zygote writes the child's pid, then its exit status (as
``subprocess`` reports it), one line each. The child is a session leader,
so noded can kill it with everything it started. EOF on the control socket
means noded is gone: the zygote exits.

``ZygoteClient`` is noded's side: it starts the zygote, restarts it when it
dies, and hands out ``ZygoteChild`` objects that behave like the
``asyncio.subprocess.Process`` of the exec fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import selectors
import signal
import socket
import sys
import time
from collections.abc import Coroutine
from typing import Any, NoReturn

logger = logging.getLogger("ganeti.noded")

#: Message the zygote sends on the control socket once its backends are loaded.
READY = b"R"
#: Seconds the zygote gets to exit after noded closes the control socket.
_STOP_TIMEOUT = 5.0
#: Seconds to wait before restarting a zygote that died; doubled while it keeps dying.
_RESTART_DELAY = 0.1
_MAX_RESTART_DELAY = 30.0
#: A zygote that ran this many seconds resets the restart delay.
_STABLE_AFTER = 10.0
#: Longest wait for the zygote to report a new child's pid.
_SPAWN_TIMEOUT = 2.0
_MODULE = "ganeti.server.noded_zygote"


# -- the zygote process ------------------------------------------------------------------

def _preload() -> None:
    """Import the backend of every CHILD procedure, so children start warm."""
    from ganeti.rpc import table
    from ganeti.rpc.procedure import Isolation

    for proc in table.PROCEDURES.values():
        if proc.isolation is Isolation.CHILD:
            try:
                proc.backend_function()
            except Exception as err:  # the child will report it when called
                logging.warning("can't preload %s: %s", proc.name, err)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _child_main(name: str, data_fd: int, err_fd: int) -> NoReturn:
    """In the forked child: run procedure ``name`` once, then exit."""
    code = 1
    try:
        os.setsid()
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(err_fd, 1)  # stray prints of the backend go to stderr
        os.dup2(err_fd, 2)
        # Nothing of the zygote (control socket, other calls' sockets) leaks on.
        os.closerange(3, data_fd)
        os.closerange(data_fd + 1, os.sysconf("SC_OPEN_MAX"))
        from ganeti.server import noded_child

        logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                            format=noded_child.LOG_FORMAT, force=True)
        raw_args = _read_all(data_fd)
        if raw_args:  # empty: noded gave up on this child before sending arguments
            _write_all(data_fd, noded_child.run_procedure(name, raw_args))
        os.close(data_fd)
        code = 0
    except BaseException:
        with contextlib.suppress(BaseException):
            logging.exception("child for %s failed", name)
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(BaseException):
                stream.flush()
        os._exit(code)


class _Server:
    """The zygote's loop: fork on requests, reap on SIGCHLD."""

    def __init__(self, control: socket.socket) -> None:
        self._control = control
        self._status: dict[int, int] = {}  # child pid -> its status socket's fd

    def run(self) -> int:
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        self._control.setblocking(True)
        self._control.sendall(READY)
        with selectors.DefaultSelector() as selector:
            selector.register(self._control, selectors.EVENT_READ)
            selector.register(wake_r, selectors.EVENT_READ)
            while True:
                for key, _ in selector.select():
                    if key.fileobj is self._control:
                        if not self._serve_request():
                            return 0
                    else:
                        with contextlib.suppress(BlockingIOError):
                            while os.read(wake_r, 512):
                                pass
                self._reap()

    def _serve_request(self) -> bool:
        """Fork a child for one request; False when noded has gone away."""
        try:
            payload, fds, _, _ = socket.recv_fds(self._control, 4096, 3)
        except ConnectionError:
            return False
        if not payload and not fds:
            return False
        if len(fds) != 3:
            logging.error("request with %d descriptors instead of 3 ignored", len(fds))
            for fd in fds:
                os.close(fd)
            return True
        data_fd, err_fd, status_fd = fds
        name = payload.decode("utf-8", "replace")
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        try:
            pid = os.fork()
        except OSError as err:
            logging.error("can't fork a child for %s: %s", name, err)
            pid = -1
        if pid == 0:
            _child_main(name, data_fd, err_fd)
        os.close(data_fd)
        os.close(err_fd)
        if pid < 0:
            os.close(status_fd)  # noded sees EOF instead of a pid and falls back
            return True
        self._status[pid] = status_fd
        self._report(pid, b"%d\n" % pid, close=False)
        return True

    def _report(self, pid: int, line: bytes, close: bool) -> None:
        fd = self._status[pid]
        with contextlib.suppress(OSError):  # noded gave up on this child
            os.write(fd, line)
        if close:
            os.close(fd)
            del self._status[pid]

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self._status:
                self._report(pid, b"%d\n" % os.waitstatus_to_exitcode(status), close=True)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].isdigit():
        sys.stderr.write("usage: %s <control socket fd>  (started by ganeti-noded)\n"
                         % argv[0])
        return 2
    from ganeti.server import noded_child

    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format=noded_child.LOG_FORMAT)
    control = socket.socket(fileno=int(argv[1]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # noded decides when the zygote stops
    _preload()
    return _Server(control).run()


# -- noded's side --------------------------------------------------------------------------

def child_environment() -> dict[str, str]:
    """noded's environment, with this package importable by a new interpreter."""
    env = dict(os.environ)
    package_parent = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (package_parent, env.get("PYTHONPATH", "")) if p)
    return env


class ZygoteChild:
    """One child forked by the zygote, used like an ``asyncio.subprocess.Process``."""

    def __init__(self, pid: int, data: socket.socket, err: socket.socket,
                 status: asyncio.StreamReader, status_writer: asyncio.StreamWriter) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._data = data
        self._err = err
        self._status = status
        self._status_writer = status_writer
        self._writers: list[asyncio.StreamWriter] = [status_writer]

    async def communicate(self, data: bytes) -> tuple[bytes, bytes]:
        """Send the arguments; the reply and stderr once the child has exited."""
        data_reader, data_writer = await asyncio.open_unix_connection(sock=self._data)
        err_reader, err_writer = await asyncio.open_unix_connection(sock=self._err)
        self._writers += [data_writer, err_writer]
        with contextlib.suppress(ConnectionError):  # it died early: its status says why
            data_writer.write(data)
            await data_writer.drain()
            data_writer.write_eof()
        out, err = await asyncio.gather(data_reader.read(), err_reader.read())
        await self.wait()
        return out, err

    async def wait(self) -> int | None:
        """The exit status; None if the zygote died before reporting it."""
        try:
            if self.returncode is None:
                line = await self._status.readline()
                with contextlib.suppress(ValueError):
                    self.returncode = int(line)
            return self.returncode
        finally:
            self.close()

    def close(self) -> None:
        for writer in self._writers:
            writer.close()
        for sock in (self._data, self._err):  # idempotent; covers sockets never opened
            sock.close()


class ZygoteClient:
    """Starts the zygote, restarts it when it dies, and forks children through it."""

    def __init__(self) -> None:
        self._process: asyncio.subprocess.Process | None = None
        self._control: socket.socket | None = None
        self._ready = False
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def pid(self) -> int | None:
        """The running zygote's pid."""
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    async def start(self) -> None:
        """Start the zygote and keep it running until ``close``."""
        try:
            await self._launch()
        except OSError as err:
            logger.error("Can't start the fork server: %s", err)
        self._spawn_task(self._supervise())

    def _spawn_task(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _launch(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", _MODULE, str(theirs.fileno()),
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE, pass_fds=(theirs.fileno(),),
                env=child_environment(), start_new_session=True)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        ours.setblocking(False)
        self._process, self._control, self._ready = process, ours, False
        logger.info("Fork server started (pid %d)", process.pid)
        self._spawn_task(self._log_stderr(process))
        self._spawn_task(self._await_ready(process, ours))

    async def _log_stderr(self, process: asyncio.subprocess.Process) -> None:
        assert process.stderr is not None
        while line := await process.stderr.readline():
            logger.info("fork server %d: %s", process.pid,
                        line.decode("utf-8", "replace").rstrip())

    async def _await_ready(self, process: asyncio.subprocess.Process,
                           control: socket.socket) -> None:
        with contextlib.suppress(OSError):
            if await asyncio.get_running_loop().sock_recv(control, 1) == READY \
                    and self._process is process:
                self._ready = True
                logger.info("Fork server %d ready", process.pid)

    async def _supervise(self) -> None:
        """Restart the zygote whenever it exits, backing off while it keeps dying."""
        delay = _RESTART_DELAY
        while not self._closing:
            process = self._process
            if process is not None:
                started = time.monotonic()
                status = await process.wait()
                if self._closing:
                    return
                logger.warning("Fork server (pid %d) exited with status %s; restarting it",
                               process.pid, status)
                self._drop()
                if time.monotonic() - started > _STABLE_AFTER:
                    delay = _RESTART_DELAY
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_RESTART_DELAY)
            if self._closing:
                return
            try:
                await self._launch()
            except OSError as err:
                logger.error("Can't restart the fork server: %s", err)

    def _drop(self) -> None:
        if self._control is not None:
            # The readiness wait may still watch the socket: unregister before closing.
            asyncio.get_running_loop().remove_reader(self._control.fileno())
            self._control.close()
        self._process, self._control, self._ready = None, None, False

    def _abandon(self, reason: str) -> None:
        """The zygote misbehaved: kill it (the supervisor starts a new one)."""
        process = self._process
        if process is not None and process.returncode is None:
            logger.warning("Killing the fork server (pid %d): %s", process.pid, reason)
            with contextlib.suppress(ProcessLookupError):
                process.kill()

    async def spawn(self, name: str, timeout: float) -> ZygoteChild | None:
        """A child forked to run ``name``; None (logged) if the zygote can't serve."""
        control = self._control
        if control is None or not self._ready or self.pid is None:
            logger.warning("Fork server not available; running %s in a new interpreter",
                           name)
            return None
        pairs = [socket.socketpair() for _ in range(3)]
        ours = [pair[0] for pair in pairs]
        try:
            try:
                socket.send_fds(control, [name.encode("utf-8")],
                                [pair[1].fileno() for pair in pairs])
            finally:
                for pair in pairs:
                    pair[1].close()
            status, status_writer = await asyncio.open_unix_connection(sock=ours[2])
            try:
                pid = int(await asyncio.wait_for(status.readline(),
                                                 min(_SPAWN_TIMEOUT, timeout)))
            except BaseException:
                status_writer.close()
                raise
        except (OSError, ValueError, TimeoutError) as err:
            for sock in ours[:2]:
                sock.close()
            reason = "no answer" if isinstance(err, TimeoutError) else str(err) or "no pid"
            logger.warning("Fork server failed to start a child for %s (%s); running it "
                           "in a new interpreter", name, reason)
            self._abandon("it failed to start a child (%s)" % reason)
            return None
        return ZygoteChild(pid, ours[0], ours[1], status, status_writer)

    async def close(self) -> None:
        """Stop the zygote (it exits on EOF of its control socket)."""
        self._closing = True
        process = self._process
        self._drop()
        if process is not None and process.returncode is None:
            try:
                await asyncio.wait_for(process.wait(), _STOP_TIMEOUT)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        for task in list(self._tasks):
            task.cancel()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
