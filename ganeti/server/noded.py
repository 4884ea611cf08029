"""ganeti-noded: the node daemon, serving node RPC over HTTPS.

Each procedure of ``ganeti.rpc.table`` is ``POST /<name>`` with a JSON list
of arguments; the reply is ``[true, payload]`` or ``[false, [ErrorClass,
[args]]]``. The request is served only over TLS with a client certificate
the cluster certificate vouches for (see ``ganeti.http.tls``).

Arguments are checked against the table before the backend runs, and the
backend's result is checked before it is sent. Work runs as the procedure
declares: inline, in a worker thread, or in a child process that is killed
when it exceeds its time (the procedure's timeout class, shortened to the
caller's own timeout, which the client sends in ``RPC_TIMEOUT_HEADER``).

Start-up imports only what serving needs; backend modules load on first use.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import logging
import os
import signal
import socket
import ssl
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol

from aiohttp import web

from ganeti import constants, daemon, errors, pathutils, serializer
from ganeti.http import RPC_TIMEOUT_HEADER, tls
from ganeti.rpc import table
from ganeti.rpc.procedure import Isolation, Procedure
from ganeti.server.noded_zygote import ZygoteClient, child_environment

#: Seconds a killed child gets to be reaped.
_REAP_TIMEOUT = 5.0
#: Seconds between replying to node_leave_cluster and stopping.
_QUIT_DELAY = 0.2
#: Seconds in-flight requests get to finish when noded stops.
_SHUTDOWN_TIMEOUT = 5.0
#: Worker threads for THREAD procedures.
_THREADS = 16

_JSON = "application/json"
logger = logging.getLogger("ganeti.noded")


def child_budget(proc: Procedure, caller_timeout: float | None) -> float:
    """Seconds a child may run: the timeout class, within the caller's timeout.

    The child is stopped a little before the caller gives up, so the caller
    hears why rather than seeing a bare timeout.
    """
    budget = float(proc.timeout)
    if caller_timeout is not None and caller_timeout > 0:
        budget = min(budget, max(0.2, caller_timeout - min(1.0, caller_timeout * 0.1)))
    return budget


def _parse_timeout(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        parsed = float(value)
    except ValueError:
        return None
    return parsed if parsed > 0 else None


class _Child(Protocol):
    """A child running one procedure: a forked ``ZygoteChild`` or an exec'd process."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    async def communicate(self, input: bytes, /) -> tuple[bytes, bytes]: ...

    async def wait(self) -> int | None: ...


class Dispatcher:
    """Runs procedures from the table the way each one declares.

    CHILD procedures are forked by ``zygote`` when it is given and serving,
    otherwise run in a fresh interpreter (``noded_child``).
    """

    def __init__(self, request_stop: Callable[[], None],
                 zygote: ZygoteClient | None = None) -> None:
        self._request_stop = request_stop
        self._zygote = zygote
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=_THREADS, thread_name_prefix="noded-rpc")
        self._children: set[_Child] = set()

    async def dispatch(self, name: str, body: bytes,
                       caller_timeout: float | None) -> tuple[int, list[Any]]:
        """HTTP status and reply (``[success, payload-or-error]``) of one call."""
        proc = table.PROCEDURES.get(name)
        if proc is None:
            return 404, [False, errors.encode(errors.ProgrammerError(
                "Unknown RPC procedure '%s'" % name))]
        try:
            args = serializer.load(body)
        except ValueError as err:
            return 400, [False, errors.encode(errors.TypeEnforcementError(
                "%s: request body is not valid JSON: %s" % (name, err)))]
        try:
            proc.check_args(args)
        except errors.TypeEnforcementError as err:
            return 400, [False, errors.encode(err)]
        try:
            result = await self._run(proc, args, caller_timeout)
        except errors.QuitGanetiException as quit_request:
            logger.warning("%s asked the daemon to stop", name)
            asyncio.get_running_loop().call_later(_QUIT_DELAY, self._request_stop)
            success = bool(quit_request.args[0]) if quit_request.args else True
            message = str(quit_request.args[1]) if len(quit_request.args) > 1 else ""
            return 200, [success, message if success else errors.encode(
                errors.OpExecError(message))]
        except errors.GenericError as err:
            logger.info("%s failed: %s", name, err)
            return 200, [False, errors.encode(err)]
        except Exception as err:  # a backend bug: report it, keep serving
            logger.exception("%s failed unexpectedly", name)
            return 200, [False, errors.encode(err)]
        try:
            proc.check_result(result)
        except errors.TypeEnforcementError as err:
            logger.error("%s returned a bad result: %s", name, err)
            return 500, [False, errors.encode(err)]
        return 200, [True, result]

    async def _run(self, proc: Procedure, args: list[Any],
                   caller_timeout: float | None) -> Any:
        shortcut = proc.shortcut_function()
        if shortcut is not None:
            answer = shortcut(*args)
            if answer is not None:
                return answer
        if proc.isolation is Isolation.INLINE:
            return proc.backend_function()(*args)
        if proc.isolation is Isolation.THREAD:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor,
                                              lambda: proc.backend_function()(*args))
        return await self._run_child(proc, args, child_budget(proc, caller_timeout))

    async def _run_child(self, proc: Procedure, args: list[Any], budget: float) -> Any:
        started = time.monotonic()
        child: _Child | None = None
        if self._zygote is not None:
            child = await self._zygote.spawn(proc.name, budget)
        if child is None:
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "ganeti.server.noded_child", proc.name,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=child_environment(),
                start_new_session=True)
        self._children.add(child)
        remaining = max(0.0, budget - (time.monotonic() - started))
        try:
            out, err = await asyncio.wait_for(child.communicate(serializer.dump_bytes(args)),
                                              timeout=remaining)
        except TimeoutError:
            await self._kill(child)
            raise errors.OpExecError(
                "%s did not finish within %.1f seconds; its process (pid %d) was killed"
                % (proc.name, budget, child.pid)) from None
        finally:
            self._children.discard(child)
        logger.debug("%s ran in child %d for %.3f s", proc.name, child.pid,
                     time.monotonic() - started)
        if err:
            logger.info("%s child %d said: %s", proc.name, child.pid,
                        err.decode("utf-8", "replace").rstrip())
        return self._child_result(proc, child, out)

    @staticmethod
    def _child_result(proc: Procedure, child: _Child, out: bytes) -> Any:
        try:
            reply = serializer.load(out)
        except ValueError:
            reply = None
        if not (isinstance(reply, list) and len(reply) == 2 and isinstance(reply[0], bool)):
            raise errors.OpExecError("%s: child process %d exited with status %s without a "
                                     "valid reply" % (proc.name, child.pid, child.returncode))
        success, payload = reply
        if success:
            return payload
        if isinstance(payload, list) and payload and payload[0] == "QuitGanetiException":
            raise errors.QuitGanetiException(*payload[1])
        raise errors.decode(payload)

    @staticmethod
    async def _kill(child: _Child) -> None:
        """Kill the child and everything it started (scripts in their own sessions too)."""
        import psutil  # only needed here; kept off noded's start-up path

        try:
            descendants = psutil.Process(child.pid).children(recursive=True)
        except psutil.Error:
            descendants = []
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        if child.returncode is None:  # in case it had not yet made its own session
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGKILL)
        for proc in descendants:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(child.wait(), timeout=_REAP_TIMEOUT)

    async def close(self) -> None:
        for child in list(self._children):
            await self._kill(child)
        self._executor.shutdown(wait=False, cancel_futures=True)


def _reply(status: int, reply: list[Any]) -> web.Response:
    try:
        body = serializer.dump_bytes(reply)
    except TypeError as err:  # a backend returned something JSON can't carry
        logger.error("Reply not serializable: %s", err)
        status, body = 500, serializer.dump_bytes([False, errors.encode(errors.OpExecError(
            "Reply is not serializable: %s" % err))])
    return web.Response(status=status, body=body, content_type=_JSON)


def build_app(dispatcher: Dispatcher, max_request_size: int) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if request.method != "POST":
            return _reply(400, [False, errors.encode(errors.ProgrammerError(
                "Node RPC needs POST, got %s" % request.method))])
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            logger.warning("%s: request from %s refused: body larger than %d bytes",
                           name, request.remote, max_request_size)
            return _reply(413, [False, errors.encode(errors.TypeEnforcementError(
                "%s: request body larger than the limit of %d bytes"
                % (name, max_request_size)))])
        started = time.monotonic()
        status, reply = await dispatcher.dispatch(
            name, body, _parse_timeout(request.headers.get(RPC_TIMEOUT_HEADER)))
        logger.debug("%s from %s: %d in %.3f s", name, request.remote, status,
                     time.monotonic() - started)
        return _reply(status, reply)

    app = web.Application(client_max_size=max_request_size)
    app.router.add_route("*", "/{name}", handle)
    return app


def _size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError("size must be a positive number of bytes, got %r"
                                         % text)
    return value


class NodeDaemon(daemon.Daemon):
    name = constants.NODED
    description = "Node daemon: serves node RPC over HTTPS"
    default_port = constants.DEFAULT_NODED_PORT

    def __init__(self) -> None:
        self._ssl: ssl.SSLContext | None = None
        self._sock: socket.socket | None = None

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--max-request-size", type=_size,
                            default=constants.NODED_MAX_REQUEST_SIZE, metavar="BYTES",
                            help="largest request body accepted (default: %(default)s)")
        parser.add_argument("--no-fork-server", dest="fork_server", action="store_false",
                            help="run every child-process procedure in a new interpreter "
                            "instead of forking it from the fork server (slower)")

    def prepare(self, options: argparse.Namespace) -> None:
        cert_file = pathutils.current().server_cert_file
        try:
            self._ssl = tls.server_context(cert_file)
        except (OSError, ssl.SSLError) as err:
            raise errors.X509CertError("can't load the cluster certificate %s: %s"
                                       % (cert_file, err)) from err
        try:
            self._sock = socket.create_server((options.bind, options.port),
                                              family=_family(options.bind))
        except OSError as err:
            raise errors.GenericError("can't listen on %s port %d: %s"
                                      % (options.bind, options.port, err.strerror)) from err

    async def serve(self, options: argparse.Namespace, stopping: asyncio.Event,
                    ready: Callable[[], None]) -> None:
        assert self._ssl is not None and self._sock is not None
        zygote = ZygoteClient() if options.fork_server else None
        if zygote is not None:
            await zygote.start()
        dispatcher = Dispatcher(stopping.set, zygote)
        runner = web.AppRunner(build_app(dispatcher, options.max_request_size),
                               access_log=None, handle_signals=False,
                               shutdown_timeout=_SHUTDOWN_TIMEOUT)
        await runner.setup()
        assert runner.server is not None
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            tls.tls_protocol_factory(runner.server, self._ssl, logger), sock=self._sock)
        logger.info("Serving node RPC on %s port %d (pid %d)", options.bind, options.port,
                    os.getpid())
        ready()
        try:
            await stopping.wait()
        finally:
            server.close()
            await dispatcher.close()
            if zygote is not None:
                await zygote.close()
            await runner.cleanup()


def _family(address: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def main(argv: list[str] | None = None) -> int:
    return daemon.run_daemon(NodeDaemon(), argv)
