"""The node RPC client, callable from plain synchronous threads.

``RpcClient`` owns one event loop in a background thread and one aiohttp
session (keep-alive connections to every node). ``call`` sends a procedure
to many nodes at once and returns ``{node name: RpcResult}`` when the last
node answered or hit its timeout: a dead node costs its timeout, never the
others'. Offline nodes are not contacted.

Stubs come from the table: ``client.call_version(nodes)`` or
``client.stub("node_info")(nodes, storage_units, hv_specs)``. Arguments are
checked against the procedure's declaration before anything is sent.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import threading
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, TypeVar

from ganeti import errors, pathutils
from ganeti.http import tls
from ganeti.rpc import table
from ganeti.rpc.procedure import Procedure
from ganeti.rpc.transport import (
    ERROR_KINDS,
    KIND_BAD_REPLY,
    KIND_OFFLINE,
    KIND_REFUSED,
    KIND_REMOTE_ERROR,
    KIND_TIMEOUT,
    NodeAddress,
    RpcResult,
    Transport,
    offline_result,
)

__all__ = [
    "ERROR_KINDS",
    "KIND_BAD_REPLY",
    "KIND_OFFLINE",
    "KIND_REFUSED",
    "KIND_REMOTE_ERROR",
    "KIND_TIMEOUT",
    "NodeAddress",
    "RpcClient",
    "RpcResult",
]

_T = TypeVar("_T")
#: Prefix of the generated stub attributes (``call_<procedure>``).
STUB_PREFIX = "call_"


class RpcClient:
    """Calls node RPC procedures on many nodes; thread-safe, synchronous API.

    The client presents ``cert_file`` (default: this node's client
    certificate, or the cluster certificate if there is none) and trusts
    servers certified by ``ca_file`` (default: the cluster certificate).
    """

    def __init__(self, paths: pathutils.Paths | None = None, *, ca_file: str | None = None,
                 cert_file: str | None = None,
                 procedures: Mapping[str, Procedure] | None = None) -> None:
        paths = paths or pathutils.current()
        ca_file = ca_file or paths.server_cert_file
        if cert_file is None:
            cert_file = (paths.client_cert_file if os.path.exists(paths.client_cert_file)
                         else paths.server_cert_file)
        try:
            self._ssl = tls.client_context(ca_file, cert_file)
        except OSError as err:
            raise errors.X509CertError("RPC client can't load certificate %s or CA %s: %s"
                                       % (cert_file, ca_file, err)) from err
        self.procedures = procedures if procedures is not None else table.PROCEDURES
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._transport: Transport | None = None
        self._closed = False

    # -- loop management ---------------------------------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise errors.ProgrammerError("RPC client used after close()")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="rpc-client",
                                          daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def _run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        try:
            loop = self._ensure_loop()
            if threading.current_thread() is self._thread:
                raise errors.ProgrammerError("RpcClient's sync API called from its own loop")
        except BaseException:
            coro.close()
            raise
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    async def _get_transport(self) -> Transport:
        if self._transport is None:
            self._transport = Transport(self._ssl)
        return self._transport

    def close(self) -> None:
        """Close connections and stop the loop thread (idempotent)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._closed = True
        if loop is None or thread is None:
            return
        if self._transport is not None:
            transport = self._transport
            asyncio.run_coroutine_threadsafe(transport.close(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
        with self._lock:
            self._loop = self._thread = None

    def __enter__(self) -> RpcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- calls ---------------------------------------------------------------------
    def _procedure(self, name: str) -> Procedure:
        try:
            return self.procedures[name]
        except KeyError:
            raise errors.ProgrammerError("Unknown RPC procedure '%s'" % name) from None

    def call(self, name: str, nodes: Sequence[NodeAddress], args: Sequence[Any] = (), *,
             per_node_args: Mapping[str, Sequence[Any]] | None = None,
             timeout: float | None = None) -> dict[str, RpcResult]:
        """Call ``name`` on every node; ``{node name: RpcResult}``.

        ``args`` go to every node, unless ``per_node_args`` gives a node its
        own. ``timeout`` (seconds) defaults to the procedure's timeout class.
        Bad arguments raise TypeEnforcementError before anything is sent.
        """
        proc = self._procedure(name)
        plan = self._plan(proc, nodes, args, per_node_args)
        deadline = float(timeout if timeout is not None else proc.timeout)
        if deadline <= 0:
            raise errors.ProgrammerError("RPC timeout must be positive, got %r" % timeout)
        return self._run(self._call_all(proc, plan, deadline))

    def call_one(self, name: str, node: NodeAddress, args: Sequence[Any] = (), *,
                 timeout: float | None = None) -> RpcResult:
        """``call`` on a single node, returning its result."""
        return self.call(name, [node], args, timeout=timeout)[node.name]

    @staticmethod
    def _plan(proc: Procedure, nodes: Sequence[NodeAddress], args: Sequence[Any],
              per_node_args: Mapping[str, Sequence[Any]] | None
              ) -> list[tuple[NodeAddress, list[Any]]]:
        names = [node.name for node in nodes]
        if len(set(names)) != len(names):
            raise errors.ProgrammerError("%s: node list names a node twice: %s"
                                         % (proc.name, ", ".join(names)))
        per_node_args = per_node_args or {}
        unknown = set(per_node_args) - set(names)
        if unknown:
            raise errors.ProgrammerError("%s: per-node arguments for nodes not called: %s"
                                         % (proc.name, ", ".join(sorted(unknown))))
        plan = []
        for node in nodes:
            node_args = list(per_node_args.get(node.name, args))
            try:
                proc.check_args(node_args)
            except errors.TypeEnforcementError as err:
                raise errors.TypeEnforcementError("%s (for node %s)" % (err, node.name)) \
                    from None
            plan.append((node, node_args))
        return plan

    async def _call_all(self, proc: Procedure, plan: list[tuple[NodeAddress, list[Any]]],
                        timeout: float) -> dict[str, RpcResult]:
        transport = await self._get_transport()

        async def one(node: NodeAddress, node_args: list[Any]) -> RpcResult:
            if node.offline:
                return offline_result(node, proc)
            return await transport.call_node(node, proc, node_args, timeout)

        results = await asyncio.gather(*(one(node, node_args) for node, node_args in plan))
        return {result.node: result for result in results}

    # -- generated stubs -------------------------------------------------------------
    def stub(self, name: str) -> Callable[..., dict[str, RpcResult]]:
        """``fn(nodes, *args, timeout=None, per_node_args=None)`` calling ``name``."""
        proc = self._procedure(name)

        def call_stub(nodes: Sequence[NodeAddress], *args: Any, timeout: float | None = None,
                      per_node_args: Mapping[str, Sequence[Any]] | None = None
                      ) -> dict[str, RpcResult]:
            return self.call(name, nodes, args, per_node_args=per_node_args, timeout=timeout)

        call_stub.__name__ = STUB_PREFIX + name
        call_stub.__qualname__ = "RpcClient." + call_stub.__name__
        call_stub.__doc__ = "%s\n\nArguments: %s" % (
            proc.doc, ", ".join("%s (%s)" % (a.name, a.check.desc) for a in proc.args) or
            "none")
        params = [inspect.Parameter("nodes", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        params += [inspect.Parameter(a.name, inspect.Parameter.POSITIONAL_OR_KEYWORD)
                   for a in proc.args]
        params += [inspect.Parameter("timeout", inspect.Parameter.KEYWORD_ONLY, default=None),
                   inspect.Parameter("per_node_args", inspect.Parameter.KEYWORD_ONLY,
                                     default=None)]
        call_stub.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        return call_stub

    def __getattr__(self, attr: str) -> Callable[..., dict[str, RpcResult]]:
        if attr.startswith(STUB_PREFIX) and attr[len(STUB_PREFIX):] in self.__dict__.get(
                "procedures", {}):
            return self.stub(attr[len(STUB_PREFIX):])
        raise AttributeError("%s has no attribute %r" % (type(self).__name__, attr))

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) |
                      {STUB_PREFIX + name for name in self.procedures})
