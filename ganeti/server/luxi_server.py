"""The luxi server: connections on the master socket and the method handlers.

One thread per connection (WaitForJobChange may block a connection for up
to 89 s; other clients must not notice). Each message is validated with
``luxi.parse_request``; the job queue builds every opcode with
``ganeti.opcodes`` before anything is stored, so a bad parameter is refused
naming it and nothing is queued. A bad message gets an error reply; a message larger than the limit
gets an error reply and the connection is closed; the daemon lives on.
"""

from __future__ import annotations

import logging
import os
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from ganeti import constants, errors, luxi, query
from ganeti.utils import io

logger = logging.getLogger("ganeti.masterd.luxi")

#: Largest request the master accepts (bigger ones: error reply, connection closed).
MAX_REQUEST_SIZE = luxi.MAX_MESSAGE_SIZE


class MasterContextLike(Protocol):
    """What the handlers use of ganeti.context.MasterContext."""

    cfg: Any
    glm: Any
    jobqueue: Any
    paths: Any
    node_name: str


class LuxiMethods:
    """One handler per luxi method; each returns the reply's result or raises."""

    def __init__(self, context: MasterContextLike) -> None:
        self.context = context
        self._handlers: dict[str, Callable[..., Any]] = {
            "SubmitJob": self.submit_job,
            "SubmitJobToDrainedQueue": self.submit_job_to_drained_queue,
            "SubmitManyJobs": self.submit_many_jobs,
            "WaitForJobChange": self.wait_for_job_change,
            "CancelJob": self.context.jobqueue.cancel_job,
            "ChangeJobPriority": self.context.jobqueue.change_job_priority,
            "ArchiveJob": self.context.jobqueue.archive_job,
            "AutoArchiveJobs": self.context.jobqueue.auto_archive_jobs,
            "QueryJobs": self.context.jobqueue.query_jobs,
            "Query": self.query,
            "QueryFields": self.query_fields,
            "QueryClusterInfo": self.query_cluster_info,
            "QueryConfigValues": self.query_config_values,
            "QueryTags": self.query_tags,
            "SetDrainFlag": self.set_drain_flag,
            "SetWatcherPause": self.set_watcher_pause,
        }
        missing = luxi.METHODS - set(self._handlers)
        if missing:
            raise errors.ProgrammerError("No handler for luxi methods %s" % sorted(missing))

    def call(self, method: str, args: list[Any]) -> Any:
        return self._handlers[method](*args)

    def handle_message(self, data: bytes) -> bytes:
        """One request in, one reply out (errors become error replies)."""
        try:
            method, args, version = luxi.parse_request(data)
            if version is not None and version != constants.PROTOCOL_VERSION:
                raise luxi.ProtocolError("luxi version mismatch: the master speaks %d, the "
                                         "request %d" % (constants.PROTOCOL_VERSION, version))
        except luxi.ProtocolError as err:
            logger.info("Refused a request: %s", err)
            return luxi.format_response(False, errors.encode(err))
        started = time.monotonic()
        try:
            result = self.call(method, args)
        except errors.GenericError as err:
            logger.debug("%s failed: %s", method, err)
            return luxi.format_response(False, errors.encode(err))
        except Exception as err:  # a bug: report it to the client, keep serving
            logger.exception("%s failed unexpectedly", method)
            return luxi.format_response(False, errors.encode(err))
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s answered in %.4f s", method, time.monotonic() - started)
        try:
            return luxi.format_response(True, result)
        except (TypeError, ValueError) as err:
            logger.exception("%s returned a result that is not JSON", method)
            return luxi.format_response(False, errors.encode(errors.ProgrammerError(
                "%s produced an unserializable result: %s" % (method, err))))

    # -- jobs ---------------------------------------------------------------------

    # The queue builds every opcode (ganeti.opcodes) before it stores a job, so a
    # bad parameter is refused by name and nothing is queued.
    def submit_job(self, ops: list[dict[str, Any]]) -> int:
        return int(self.context.jobqueue.submit_job(ops))

    def submit_job_to_drained_queue(self, ops: list[dict[str, Any]]) -> int:
        return int(self.context.jobqueue.submit_job(ops, to_drained=True))

    def submit_many_jobs(self, jobs: list[list[dict[str, Any]]]) -> list[Any]:
        return list(self.context.jobqueue.submit_many_jobs(jobs))

    def wait_for_job_change(self, job_id: int, fields: list[str], prev_job_info: Any,
                            prev_log_serial: int, timeout: float) -> Any:
        return self.context.jobqueue.wait_for_job_change(
            job_id, fields, prev_job_info, prev_log_serial, min(timeout, luxi.WFJC_TIMEOUT))

    # -- queries ------------------------------------------------------------------

    def _items(self, what: str, needed: set[str]) -> list[Any]:
        if what == constants.QR_JOB:
            names = [name for name in query.JOB_FIELD_NAMES if name in needed
                     and name != "archived"]
            if "id" not in names:
                names.append("id")
            rows = self.context.jobqueue.query_jobs(None, names)
            items = []
            for row in rows:
                if row is None:
                    continue
                item = dict(zip(names, row))
                item["archived"] = False
                items.append(item)
            items.sort(key=lambda item: item["id"])
            return items
        if what == constants.QR_LOCK:
            return list(self.context.glm.query_locks())
        from ganeti.cmdlib.query import ITEM_SOURCES

        source = ITEM_SOURCES.get(what)
        if source is not None:  # nodes, groups…: the same items as OpQuery's
            return source(self.context, needed)  # type: ignore[arg-type]
        query.resource_fields(what)  # raises the "not supported yet" error
        return []

    def query(self, what: str, fields: list[str], qfilter: list[Any] | None) -> Any:
        query.resource_fields(what)
        needed = set(fields) | query.filter_field_names(qfilter)
        query.compile_filter(what, qfilter)  # a bad filter fails before any work
        return query.query(what, fields, self._items(what, needed), qfilter)

    def query_fields(self, what: str, fields: list[str] | None) -> Any:
        return query.query_fields(what, fields)

    def query_cluster_info(self) -> dict[str, Any]:
        from ganeti.cmdlib import cluster

        return cluster.cluster_info(self.context.cfg)

    def query_config_values(self, fields: list[str]) -> list[Any]:
        from ganeti.cmdlib import cluster

        return cluster.config_values(
            self.context.cfg, fields, bool(self.context.jobqueue.is_drained()),
            read_watcher_pause(self.context.paths.watcher_pause_file))

    def query_tags(self, kind: str, name: str) -> list[str]:
        from ganeti.cmdlib import tags

        return sorted(tags.object_tags(self.context.cfg, kind, name))

    # -- flags --------------------------------------------------------------------

    def set_drain_flag(self, drain: bool) -> bool:
        self.context.jobqueue.set_drain_flag(drain)
        return True

    def set_watcher_pause(self, until: float | None) -> float | None:
        path = self.context.paths.watcher_pause_file
        if until is None:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        else:
            io.write_file_atomic(path, b"%d\n" % int(until), mode=0o644)
        return until


def read_watcher_pause(path: str) -> int | None:
    """The watcher pause end time, None when not paused (or expired)."""
    try:
        with open(path, encoding="ascii") as handle:
            until = int(handle.read().strip())
    except (OSError, ValueError):
        return None
    return until if until > time.time() else None


# -- connections ------------------------------------------------------------------

class _ConnectionHandler(socketserver.BaseRequestHandler):
    server: LuxiServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        reader = luxi.MessageReader(self.server.max_request_size)
        methods = self.server.methods
        if methods is None:  # bound before the queue exists; serving starts after
            return
        while not self.server.closing.is_set():
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            try:
                messages = list(reader.feed(data))
            except luxi.ProtocolError as err:
                logger.warning("Closing a connection: %s", err)
                self._send(sock, luxi.format_response(False, errors.encode(err)))
                return
            for message in messages:
                if not self._send(sock, methods.handle_message(message)):
                    return

    @staticmethod
    def _send(sock: socket.socket, reply: bytes) -> bool:
        try:
            sock.sendall(reply + luxi.ETX)
        except OSError:
            return False
        return True


class LuxiServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """Serves luxi on a unix socket, one thread per connection."""

    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, address: str, methods: LuxiMethods | None = None,
                 max_request_size: int = MAX_REQUEST_SIZE) -> None:
        self.methods = methods
        self.max_request_size = max_request_size
        self.closing = threading.Event()
        self._address = address
        os.makedirs(os.path.dirname(address), exist_ok=True)
        try:
            os.unlink(address)  # a stale socket of a dead master
        except FileNotFoundError:
            pass
        super().__init__(address, _ConnectionHandler, bind_and_activate=False)
        # The socket is group-accessible: access control is by group (0660).
        old_umask = os.umask(0o117)
        try:
            self.server_bind()
        finally:
            os.umask(old_umask)
        os.chmod(address, 0o660)
        self.server_activate()

    def server_activate(self) -> None:
        self.socket.listen(128)

    def serve_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.2},
                                  name="luxi-server", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self.closing.set()
        self.shutdown()
        self.server_close()
        try:
            os.unlink(self._address)
        except FileNotFoundError:
            pass

