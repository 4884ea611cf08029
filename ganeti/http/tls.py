"""TLS contexts of node RPC, and a server-side handshake that logs refusals.

Both ends trust exactly the cluster certificate (``server.pem``) as CA:
the server requires a client certificate issued by it (or the cluster
certificate itself), the client checks the server against it without a
host name check (nodes are addressed by IP). Only the stdlib ``ssl`` is
imported here, to keep the daemons' start-up small.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from asyncio import sslproto
from collections.abc import Callable
from typing import Any

#: Seconds a client may take to complete the handshake.
HANDSHAKE_TIMEOUT = 30


def _base_context(purpose: int, ca_file: str, cert_file: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(purpose)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # The PEM files hold key and certificate together, as Ganeti's do; the
    # CA loader skips the key block.
    ctx.load_cert_chain(cert_file)
    ctx.load_verify_locations(cafile=ca_file)
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def server_context(cert_file: str, ca_file: str | None = None) -> ssl.SSLContext:
    """Present ``cert_file``; accept only clients certified by ``ca_file``.

    ``ca_file`` defaults to ``cert_file`` (the cluster certificate signs the
    node client certificates).
    """
    return _base_context(ssl.PROTOCOL_TLS_SERVER, ca_file or cert_file, cert_file)


def client_context(ca_file: str, cert_file: str) -> ssl.SSLContext:
    """Present ``cert_file``; accept only servers certified by ``ca_file``."""
    ctx = _base_context(ssl.PROTOCOL_TLS_CLIENT, ca_file, cert_file)
    ctx.check_hostname = False
    return ctx


class _RefusalLoggingSSLProtocol(sslproto.SSLProtocol):
    """asyncio's server-side TLS layer, logging failed handshakes.

    asyncio reports a failed handshake only in debug mode; a refused client
    is a security event, so it is logged here at WARNING with its address.
    """

    _ganeti_logger: logging.Logger = logging.getLogger("ganeti.http.tls")

    def _on_handshake_complete(self, handshake_exc: BaseException | None) -> None:
        if handshake_exc is not None:
            peer: Any = None
            transport = getattr(self, "_transport", None)
            if transport is not None:
                peer = transport.get_extra_info("peername")
            self._ganeti_logger.warning("TLS handshake with %s refused: %s",
                                        _format_peer(peer), handshake_exc)
            # asyncio drops the TLS alert OpenSSL queued when it aborts the
            # connection; send it first so the client learns why it was
            # refused instead of seeing a bare disconnection.
            outgoing = getattr(self, "_outgoing", None)
            if transport is not None and outgoing is not None and outgoing.pending:
                with contextlib.suppress(Exception):
                    transport.write(outgoing.read())
        super()._on_handshake_complete(handshake_exc)


def _format_peer(peer: Any) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        return "%s:%s" % (peer[0], peer[1])
    return str(peer)


def tls_protocol_factory(app_factory: Callable[[], asyncio.BaseProtocol],
                         ctx: ssl.SSLContext,
                         logger: logging.Logger | None = None
                         ) -> Callable[[], asyncio.BaseProtocol]:
    """A protocol factory for ``loop.create_server`` without its ``ssl=``.

    Each connection gets a TLS layer (which logs refused handshakes to
    ``logger``) around a fresh protocol from ``app_factory``.
    """
    loop = asyncio.get_running_loop()

    def build() -> asyncio.BaseProtocol:
        # No waiter future: nothing awaits a server-side handshake.
        proto = _RefusalLoggingSSLProtocol(loop, app_factory(), ctx,
                                           None,  # type: ignore[arg-type]
                                           server_side=True,
                                           ssl_handshake_timeout=HANDSHAKE_TIMEOUT)
        if logger is not None:
            proto._ganeti_logger = logger
        return proto

    return build
