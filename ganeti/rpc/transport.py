"""The HTTPS side of the node RPC client: one aiohttp session, many nodes.

``Transport.call_node`` posts one call to one node and turns every outcome
(reply, refusal, timeout, garbage) into an ``RpcResult``; it never raises
for a node's failure. All coroutines run on the client's event loop.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from ganeti import constants, errors, serializer
from ganeti.http import RPC_TIMEOUT_HEADER
from ganeti.rpc.procedure import Procedure

# Error kinds of a failed call.
KIND_OFFLINE = "offline"
KIND_REFUSED = "refused"
KIND_TIMEOUT = "timeout"
KIND_BAD_REPLY = "bad-reply"
KIND_REMOTE_ERROR = "remote-error"
ERROR_KINDS = frozenset([KIND_OFFLINE, KIND_REFUSED, KIND_TIMEOUT, KIND_BAD_REPLY,
                         KIND_REMOTE_ERROR])

#: Largest reply read from a node (bytes).
MAX_REPLY_SIZE = 256 * 1024 * 1024


@dataclass(frozen=True)
class NodeAddress:
    """Where to reach a node's noded; offline nodes are never contacted."""

    name: str
    address: str
    port: int = constants.DEFAULT_NODED_PORT
    offline: bool = False


@dataclass
class RpcResult:
    """The outcome of one procedure on one node."""

    node: str
    procedure: str
    success: bool
    payload: Any = None
    error: str | None = None
    kind: str | None = None
    exception: errors.GenericError | None = field(default=None, repr=False)

    @property
    def offline(self) -> bool:
        return self.kind == KIND_OFFLINE

    def describe(self) -> str:
        """One line naming the node, the procedure and what happened."""
        if self.success:
            return "%s on node %s succeeded" % (self.procedure, self.node)
        return "%s on node %s failed (%s): %s" % (self.procedure, self.node, self.kind,
                                                  self.error)

    def raise_if_failed(self, prefix: str | None = None) -> Any:
        """The payload; or raise, naming the node and the cause.

        A remote error is re-raised with its own class (the node's name
        and ``prefix`` put in front of its message); a transport failure
        raises ``RemoteError``.
        """
        if self.success:
            return self.payload
        lead = "%s%s on node %s" % ("%s: " % prefix if prefix else "", self.procedure,
                                    self.node)
        exc = self.exception
        if self.kind == KIND_REMOTE_ERROR and exc is not None:
            args = list(exc.args)
            if args and isinstance(args[0], str):
                args[0] = "%s: %s" % (lead, args[0])
            else:
                args.insert(0, lead)
            raise type(exc)(*args)
        raise errors.RemoteError("%s failed (%s): %s" % (lead, self.kind, self.error))


def offline_result(node: NodeAddress, proc: Procedure) -> RpcResult:
    return RpcResult(node.name, proc.name, False, error="node is marked offline",
                     kind=KIND_OFFLINE)


def _is_tls_failure(err: BaseException) -> bool:
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class Transport:
    """An aiohttp session with keep-alive; create and use it on one loop."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        connector = aiohttp.TCPConnector(ssl=ssl_context, limit=0, force_close=False)
        # Each call has its own deadline (call_node); no session-wide one.
        self._session = aiohttp.ClientSession(connector=connector,
                                              timeout=aiohttp.ClientTimeout(total=None))

    async def close(self) -> None:
        await self._session.close()

    async def call_node(self, node: NodeAddress, proc: Procedure, args: list[Any],
                        timeout: float) -> RpcResult:
        url = "https://%s:%d/%s" % (_host(node.address), node.port, proc.name)
        body = serializer.dump_bytes(args)
        headers = {"Content-Type": "application/json", RPC_TIMEOUT_HEADER: "%.3f" % timeout}

        def failed(kind: str, message: str) -> RpcResult:
            return RpcResult(node.name, proc.name, False, error=message, kind=kind)

        try:
            async with asyncio.timeout(timeout):
                async with self._session.post(url, data=body, headers=headers) as response:
                    status = response.status
                    # read(n) returns what has arrived so far; a large reply
                    # comes in several pieces.
                    pieces: list[bytes] = []
                    size = 0
                    while size <= MAX_REPLY_SIZE:
                        piece = await response.content.read(MAX_REPLY_SIZE + 1 - size)
                        if not piece:
                            break
                        pieces.append(piece)
                        size += len(piece)
                    raw = b"".join(pieces)
        except TimeoutError:
            return failed(KIND_TIMEOUT, "no reply within %.1f seconds" % timeout)
        except aiohttp.ClientSSLError as err:
            return failed(KIND_REFUSED, "TLS handshake with %s:%d failed: %s"
                          % (node.address, node.port, err))
        except aiohttp.ClientConnectorError as err:
            return failed(KIND_REFUSED, "can't connect to %s:%d: %s"
                          % (node.address, node.port, err.strerror or err))
        except (aiohttp.ClientError, OSError) as err:
            if _is_tls_failure(err):
                return failed(KIND_REFUSED, "TLS session with %s:%d refused: %s"
                              % (node.address, node.port, err))
            return failed(KIND_BAD_REPLY, "connection to %s:%d lost without a reply: %s"
                          % (node.address, node.port, err or type(err).__name__))
        return self._parse(node, proc, status, raw)

    @staticmethod
    def _parse(node: NodeAddress, proc: Procedure, status: int, raw: bytes) -> RpcResult:
        def bad(message: str) -> RpcResult:
            return RpcResult(node.name, proc.name, False, error=message, kind=KIND_BAD_REPLY)

        try:
            reply = serializer.load(raw)
        except (ValueError, UnicodeDecodeError):
            reply = None
        if not (isinstance(reply, list) and len(reply) == 2 and isinstance(reply[0], bool)):
            return bad("HTTP %d with a reply that is not [success, payload]: %s"
                       % (status, raw[:200].decode("utf-8", "replace")))
        success, payload = reply
        if not success:
            if isinstance(payload, str):  # Ganeti's plain-message form
                exc: errors.GenericError = errors.RemoteError(payload)
            else:
                exc = errors.decode(payload)
            return RpcResult(node.name, proc.name, False, error=str(exc),
                             kind=KIND_REMOTE_ERROR, exception=exc)
        if status != 200:
            return bad("HTTP %d with a successful reply" % status)
        try:
            proc.check_result(payload)
        except errors.TypeEnforcementError as err:
            return bad(str(err))
        return RpcResult(node.name, proc.name, True, payload=payload)


def _host(address: str) -> str:
    return "[%s]" % address if ":" in address else address
