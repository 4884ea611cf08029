"""luxi: the local protocol between clients (CLI, RAPI, watcher) and masterd.

As Ganeti's: a unix stream socket, each message a UTF-8 JSON document
terminated by the ETX byte (0x03); requests ``{"method", "args",
"version"}``, replies ``{"success", "result", "version"}``; a failed call's
result is an encoded error ``[ClassName, [args]]``. Several requests may
share one connection.

This module holds the framing, the message (de)coding with validation, and
the client. The server loop lives with masterd.
"""

from __future__ import annotations

import builtins
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ganeti import constants, errors, pathutils, serializer

if TYPE_CHECKING:
    from ganeti import ht

ETX = b"\x03"

KEY_METHOD = "method"
KEY_ARGS = "args"
KEY_SUCCESS = "success"
KEY_RESULT = "result"
KEY_VERSION = "version"

#: Largest message either side accepts; bigger ones are refused, not buffered.
MAX_MESSAGE_SIZE = 64 * 1024 * 1024

#: Bytes asked per recv(): large answers (bulk lists) arrive in few calls.
_RECV_SIZE = 256 * 1024

DEF_CONNECT_TIMEOUT = 30.0
DEF_RW_TIMEOUT = 180.0
#: WaitForJobChange never blocks longer than this on the server (Ganeti's bound).
WFJC_TIMEOUT = 89

#: The methods the master serves.
METHODS = frozenset([
    "SubmitJob", "SubmitJobToDrainedQueue", "SubmitManyJobs", "WaitForJobChange",
    "CancelJob", "ChangeJobPriority", "ArchiveJob", "AutoArchiveJobs", "QueryJobs", "Query",
    "QueryFields", "QueryClusterInfo", "QueryConfigValues", "QueryTags", "SetDrainFlag",
    "SetWatcherPause",
])

_request_checks: dict[str, tuple[ht.Check, ...]] = {}


def request_checks() -> dict[str, tuple[ht.Check, ...]]:
    """Each method's checks of its positional arguments (the server's side).

    Built on first use: clients never validate requests, and ``ganeti.ht``
    (regular expressions, ipaddress) would only slow every gnt-* start-up.
    """
    if not _request_checks:
        from ganeti import ht

        job_id = ht.TJobId
        ops = ht.TListOf(ht.TDict)
        checks: dict[str, tuple[ht.Check, ...]] = {
            "SubmitJob": (ops,),
            "SubmitJobToDrainedQueue": (ops,),
            "SubmitManyJobs": (ht.TListOf(ops),),
            "WaitForJobChange": (job_id, ht.TListOfStrings, ht.TAny, ht.TNonNegativeInt,
                                 ht.TNonNegativeNumber),
            "CancelJob": (job_id, ht.TBool),
            "ChangeJobPriority": (job_id, ht.TOpPriority),
            "ArchiveJob": (job_id,),
            "AutoArchiveJobs": (ht.TInt, ht.TNumber),
            "QueryJobs": (ht.TMaybe(ht.TListOf(job_id)), ht.TListOfStrings),
            "Query": (ht.TNonEmptyString, ht.TListOfStrings, ht.TMaybe(ht.TList)),
            "QueryFields": (ht.TNonEmptyString, ht.TMaybe(ht.TListOfStrings)),
            "QueryClusterInfo": (),
            "QueryConfigValues": (ht.TListOfStrings,),
            "QueryTags": (ht.TElemOf(constants.VALID_TAG_TYPES), ht.TString),
            "SetDrainFlag": (ht.TBool,),
            "SetWatcherPause": (ht.TMaybe(ht.TNumber),),
        }
        if set(checks) != METHODS:
            raise errors.ProgrammerError("luxi argument checks and METHODS differ: %s"
                                         % sorted(set(checks) ^ METHODS))
        _request_checks.update(checks)
    return _request_checks


def _describe(value: Any) -> str:
    from ganeti import ht

    return ht.describe_value(value)


class ProtocolError(errors.LuxiError):
    """The peer sent something that is not valid luxi."""


class ConnectionClosedError(ProtocolError):
    """The peer closed the connection."""


class RequestTimeoutError(ProtocolError):
    """The peer did not answer in time."""


class NoMasterError(errors.LuxiError):
    """No master daemon listens on the socket."""


# -- messages ---------------------------------------------------------------------

def format_request(method: str, args: list[Any], version: int | None = None) -> bytes:
    request: dict[str, Any] = {KEY_METHOD: method, KEY_ARGS: args}
    if version is not None:
        request[KEY_VERSION] = version
    return serializer.dump_bytes(request)


def parse_request(data: bytes) -> tuple[str, list[Any], int | None]:
    """Decode and validate a request; raises ProtocolError naming the problem."""
    try:
        request = serializer.load(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise ProtocolError("Request is not valid JSON: %s" % err) from err
    if not isinstance(request, dict):
        raise ProtocolError("Request must be a JSON object, got %s" %
                            _describe(request))
    method, args = request.get(KEY_METHOD), request.get(KEY_ARGS)
    version = request.get(KEY_VERSION)
    if not isinstance(method, str):
        raise ProtocolError("Request lacks a method name")
    if method not in METHODS:
        raise ProtocolError("Unknown luxi method '%s'" % method)
    if not isinstance(args, list):
        raise ProtocolError("%s: args must be a list, got %s" %
                            (method, _describe(args)))
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise ProtocolError("%s: version must be an integer" % method)
    checks = request_checks()[method]
    if len(args) != len(checks):
        raise ProtocolError("%s: expected %d arguments, got %d" %
                            (method, len(checks), len(args)))
    for index, (check, value) in enumerate(zip(checks, args)):
        if not check(value):
            raise ProtocolError("%s: argument %d must be %s, got %s" %
                                (method, index, check.desc, _describe(value)))
    return method, args, version


def format_response(success: bool, result: Any, version: int | None = None) -> bytes:
    response: dict[str, Any] = {KEY_SUCCESS: success, KEY_RESULT: result}
    if version is not None:
        response[KEY_VERSION] = version
    return serializer.dump_bytes(response)


def parse_response(data: bytes) -> Any:
    """Decode a reply; return its result or raise the error it carries."""
    try:
        response = serializer.load(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise ProtocolError("Reply is not valid JSON: %s" % err) from err
    if not (isinstance(response, dict) and KEY_SUCCESS in response
            and KEY_RESULT in response):
        raise ProtocolError("Invalid reply: %s" % _describe(response))
    result = response[KEY_RESULT]
    if response[KEY_SUCCESS] is True:
        return result
    errors.maybe_raise(result)
    raise errors.LuxiError("Master reported an error: %s" % (result,))


# -- framing ----------------------------------------------------------------------

class MessageReader:
    """Splits a byte stream into ETX-terminated messages, with a size bound."""

    def __init__(self, max_size: int = MAX_MESSAGE_SIZE) -> None:
        self._buffer = bytearray()
        self._max_size = max_size
        #: Where to look for the next ETX: the bytes before hold none (a large
        #: message arrives in many chunks; rescanning it all each time is quadratic).
        self._scanned = 0

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._buffer.extend(data)
        while True:
            end = self._buffer.find(ETX, self._scanned)
            if end < 0:
                self._scanned = len(self._buffer)
                break
            message = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            self._scanned = 0
            yield message
        if len(self._buffer) > self._max_size:
            self._buffer.clear()
            self._scanned = 0
            raise ProtocolError("Message larger than %d bytes" % self._max_size)


class Transport:
    """A blocking connection to a luxi socket."""

    def __init__(self, address: str, connect_timeout: float = DEF_CONNECT_TIMEOUT,
                 rw_timeout: float = DEF_RW_TIMEOUT) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(connect_timeout)
        try:
            self._sock.connect(address)
        except (FileNotFoundError, ConnectionRefusedError) as err:
            self._sock.close()
            raise NoMasterError("Cannot connect to the master daemon at %s: %s "
                                "(is ganeti-masterd running on this node?)"
                                % (address, err.strerror)) from err
        except OSError as err:
            self._sock.close()
            raise errors.LuxiError("Cannot connect to %s: %s" % (address, err)) from err
        self._sock.settimeout(rw_timeout)
        self._reader = MessageReader()
        self._pending: list[bytes] = []

    def send(self, message: bytes) -> None:
        if ETX in message:
            raise errors.ProgrammerError("luxi message contains the ETX byte")
        try:
            self._sock.sendall(message + ETX)
        except builtins.TimeoutError as err:
            raise RequestTimeoutError("Sending to the master timed out") from err
        except OSError as err:
            raise ConnectionClosedError("Sending to the master failed: %s" % err) from err

    def recv(self) -> bytes:
        while not self._pending:
            try:
                data = self._sock.recv(_RECV_SIZE)
            except builtins.TimeoutError as err:
                raise RequestTimeoutError("The master did not answer in time") from err
            except OSError as err:
                raise ConnectionClosedError("Receiving from the master failed: %s"
                                            % err) from err
            if not data:
                raise ConnectionClosedError("The master closed the connection")
            self._pending.extend(self._reader.feed(data))
        return self._pending.pop(0)

    def close(self) -> None:
        self._sock.close()


# -- client -----------------------------------------------------------------------

class Client:
    """The luxi client used by the CLI, RAPI and the watcher.

    One connection, reopened once if the master closed it between calls.
    """

    def __init__(self, address: str | None = None,
                 rw_timeout: float = DEF_RW_TIMEOUT) -> None:
        self.address = address or pathutils.current().master_socket
        self._rw_timeout = rw_timeout
        self._transport: Transport | None = None

    def _connect(self) -> Transport:
        if self._transport is None:
            self._transport = Transport(self.address, rw_timeout=self._rw_timeout)
        return self._transport

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, *args: Any) -> Any:
        if method not in METHODS:
            raise errors.ProgrammerError("Unknown luxi method '%s'" % method)
        request = format_request(method, list(args), constants.PROTOCOL_VERSION)
        for attempt in (1, 2):
            transport = self._connect()
            try:
                transport.send(request)
                reply = transport.recv()
            except ConnectionClosedError:
                self.close()
                if attempt == 2:
                    raise
                continue
            except RequestTimeoutError:
                self.close()  # the stream is out of step now
                raise
            return parse_response(reply)
        raise AssertionError("unreachable")

    # One thin wrapper per method, so callers read like Ganeti's client.
    def submit_job(self, ops: list[dict[str, Any]]) -> int:
        return int(self.call("SubmitJob", ops))

    def submit_job_to_drained_queue(self, ops: list[dict[str, Any]]) -> int:
        return int(self.call("SubmitJobToDrainedQueue", ops))

    def submit_many_jobs(self, jobs: list[list[dict[str, Any]]]) -> list[Any]:
        return list(self.call("SubmitManyJobs", jobs))

    def wait_for_job_change(self, job_id: int, fields: list[str], prev_job_info: Any,
                            prev_log_serial: int, timeout: float = WFJC_TIMEOUT) -> Any:
        return self.call("WaitForJobChange", job_id, fields, prev_job_info,
                         prev_log_serial, min(timeout, WFJC_TIMEOUT))

    def cancel_job(self, job_id: int, kill: bool = False) -> Any:
        return self.call("CancelJob", job_id, kill)

    def change_job_priority(self, job_id: int, priority: int) -> Any:
        return self.call("ChangeJobPriority", job_id, priority)

    def archive_job(self, job_id: int) -> bool:
        return bool(self.call("ArchiveJob", job_id))

    def auto_archive_jobs(self, age: int, timeout: float) -> Any:
        return self.call("AutoArchiveJobs", age, timeout)

    def query_jobs(self, job_ids: list[int] | None, fields: list[str]) -> Any:
        return self.call("QueryJobs", job_ids, fields)

    def query(self, what: str, fields: list[str], qfilter: list[Any] | None = None) -> Any:
        return self.call("Query", what, fields, qfilter)

    def query_fields(self, what: str, fields: list[str] | None = None) -> Any:
        return self.call("QueryFields", what, fields)

    def query_cluster_info(self) -> Any:
        return self.call("QueryClusterInfo")

    def query_config_values(self, fields: list[str]) -> Any:
        return self.call("QueryConfigValues", fields)

    def query_tags(self, kind: str, name: str) -> Any:
        return self.call("QueryTags", kind, name)

    def set_drain_flag(self, drain: bool) -> Any:
        return self.call("SetDrainFlag", drain)

    def set_watcher_pause(self, until: float | None) -> Any:
        return self.call("SetWatcherPause", until)
