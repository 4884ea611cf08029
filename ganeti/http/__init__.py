"""Shared HTTP pieces of the daemons (TLS contexts, handshake logging)."""

#: Request header of node RPC carrying the caller's timeout in seconds, so
#: noded can stop a child process before the caller gives up on it.
RPC_TIMEOUT_HEADER = "X-Ganeti-RPC-Timeout"
