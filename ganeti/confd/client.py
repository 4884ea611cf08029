"""The confd client: asks several servers, keeps the freshest answer.

``ConfdClient(key, peers).query(type, query)`` sends one signed request to
every peer (normally the master candidates, from ssconf) and collects the
replies until every peer answered or the timeout passed. Replies with a
bad signature or an unexpected salt (a late answer to an earlier query)
are ignored. The result is the reply with the highest configuration
serial number; ``NoAnswer`` is raised if no server replied in time.
"""

from __future__ import annotations

import select
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from ganeti import confd, constants, errors, pathutils, ssconf
from ganeti.confd import protocol

#: Seconds a query waits for replies by default.
DEFAULT_TIMEOUT = 2.0


class NoAnswer(errors.GenericError):
    """No confd server replied (names the servers asked and the timeout)."""


@dataclass(frozen=True)
class ServerReply:
    server: str
    reply: protocol.Reply


@dataclass
class QueryResult:
    """The freshest reply, and every reply received."""

    best: ServerReply
    replies: list[ServerReply] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.best.reply.status == confd.REPL_STATUS_OK

    @property
    def answer(self) -> Any:
        return self.best.reply.answer

    @property
    def serial(self) -> int:
        return self.best.reply.serial

    @property
    def server(self) -> str:
        return self.best.server


def describe_error(reply: protocol.Reply) -> str:
    """A reply's error in words."""
    if reply.status == confd.REPL_STATUS_NOTIMPLEMENTED:
        return "query type not implemented by the server"
    if isinstance(reply.answer, str):
        return reply.answer
    return confd.ERROR_DESCRIPTIONS.get(reply.answer, "error %r" % (reply.answer,))


def _family(address: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


class ConfdClient:
    """Queries a set of confd servers over UDP; see the module doc."""

    def __init__(self, hmac_key: bytes, peers: list[str],
                 port: int = constants.DEFAULT_CONFD_PORT,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        if not peers:
            raise errors.ProgrammerError("ConfdClient needs at least one server address")
        if timeout <= 0:
            raise errors.ProgrammerError("ConfdClient timeout must be positive, got %r"
                                         % timeout)
        self.hmac_key = hmac_key
        self.peers = list(dict.fromkeys(peers))
        self.port = port
        self.timeout = timeout
        self._sockets: dict[socket.AddressFamily, socket.socket] = {}

    @classmethod
    def from_ssconf(cls, paths: pathutils.Paths | None = None,
                    port: int = constants.DEFAULT_CONFD_PORT,
                    timeout: float = DEFAULT_TIMEOUT) -> ConfdClient:
        """A client for this node's cluster: its key, the master candidates' IPs."""
        paths = paths or pathutils.current()
        try:
            peers = ssconf.SimpleStore(paths).get_master_candidates_ips()
        except errors.GenericError as err:
            raise errors.ConfigurationError("Can't find the confd servers (the master "
                                            "candidates' IPs in ssconf): %s" % err) from err
        if not peers:
            raise errors.ConfigurationError("ssconf lists no master candidate IPs")
        return cls(protocol.load_hmac_key(paths), peers, port, timeout)

    def _socket(self, family: socket.AddressFamily) -> socket.socket:
        sock = self._sockets.get(family)
        if sock is None:
            sock = self._sockets[family] = socket.socket(family, socket.SOCK_DGRAM)
            sock.setblocking(False)
        return sock

    def close(self) -> None:
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()

    def __enter__(self) -> ConfdClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def query(self, req_type: int, query: Any = None, timeout: float | None = None
              ) -> QueryResult:
        """Ask every peer; the reply with the highest serial (``NoAnswer`` if none)."""
        request = protocol.new_request(req_type, query)
        packet = protocol.pack_request(request, self.hmac_key)
        waiting = set()
        for peer in self.peers:
            try:
                self._socket(_family(peer)).sendto(packet, (peer, self.port))
                waiting.add(peer)
            except OSError:
                continue  # unreachable peer: the others may still answer
        replies = self._collect(request.rsalt, waiting,
                                self.timeout if timeout is None else timeout)
        if not replies:
            raise NoAnswer("No confd server answered within %.1f s (asked %s on port %d)"
                           % (self.timeout if timeout is None else timeout,
                              ", ".join(self.peers), self.port))
        best = max(replies, key=lambda r: r.reply.serial)
        return QueryResult(best, replies, list(self.peers))

    def _collect(self, rsalt: str, waiting: set[str], timeout: float) -> list[ServerReply]:
        """Good replies to this request until each server asked answered or time is up.

        A reply is matched by its salt, not by its source address: a server
        listening on every address may answer from another one.
        """
        replies: dict[str, ServerReply] = {}
        expected = len(waiting)
        deadline = time.monotonic() + timeout
        sockets = list(self._sockets.values())
        while len(replies) < expected:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            readable, _, _ = select.select(sockets, [], [], remaining)
            for sock in readable:
                while True:
                    try:
                        data, sender = sock.recvfrom(confd.MAX_PACKET_SIZE + 1)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:  # e.g. ICMP port unreachable from a dead peer
                        break
                    reply = self._check(data, sender[0], rsalt)
                    if reply is not None:
                        replies.setdefault(reply.server, reply)
        return list(replies.values())

    def _check(self, data: bytes, sender: str, rsalt: str) -> ServerReply | None:
        try:
            reply, salt = protocol.parse_reply(data, self.hmac_key)
        except errors.SignatureError:
            return None
        if salt != rsalt:  # a late reply to an earlier query, or forged
            return None
        return ServerReply(sender, reply)
