"""The base of every RAPI resource: request parsing, opcodes, luxi calls.

A resource class declares, per HTTP method (``GET``, ``PUT``, ``POST``,
``DELETE``):

- ``<M>_OPCODE``: the opcode the method submits (its body parameters come
  from the opcode schema, so validation, docs and OpenAPI follow it);
- ``<M>_RENAME``: body aliases Ganeti's clients use (``{"name":
  "instance_name"}``);
- ``<M>_QUERY``: the query parameters it reads (``QueryParam``);
- ``<M>_ACCESS``: the user options it needs (empty: anonymous allowed).

A method with an opcode and no ``handle_<m>`` submits the opcode built
from the body, the ``opcode_params`` of the URL and query, and the common
``dry-run`` / ``reason`` arguments; the answer is the job id. Before
submission, an opcode no logical unit implements answers 501 and the
policy (``ganeti.rapi.policy``) may answer 403 naming the opcode.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar

from ganeti import constants, errors, luxi, opcodes, serializer
from ganeti.rapi import OPT_WRITE, apierrors
from ganeti.rapi.auth import Authenticator, User
from ganeti.rapi.policy import Authorizer

logger = logging.getLogger("ganeti.rapi")

HTTP_METHODS = ("GET", "PUT", "POST", "DELETE")

#: Seconds one WaitForJobChange call may block (Ganeti's RAPI used 30 s).
WAIT_FOR_JOB_TIMEOUT = 30.0

_TRUE = frozenset(["1", "true", "yes", "on"])
_FALSE = frozenset(["0", "false", "no", "off", ""])


@dataclass(frozen=True)
class QueryParam:
    """A query-string parameter of a resource method (for parsing and docs)."""

    name: str
    kind: str  # "bool", "int", "string" or "list" (repeated parameter)
    doc: str


DRY_RUN = QueryParam("dry-run", "bool", "Only check the request; change nothing")
REASON = QueryParam("reason", "string", "Reason recorded in the job's reason trail")
BULK = QueryParam("bulk", "bool", "Return full objects instead of names and URIs")
FORCE = QueryParam("force", "bool", "Force the operation")
LOCK = QueryParam("lock", "bool", "Accepted for compatibility (data comes from the master)")
WRITE_QUERY = (DRY_RUN, REASON)


# -- luxi from the event loop ------------------------------------------------------

class LuxiPool:
    """luxi calls from coroutines: blocking clients, one per worker thread.

    Every call runs in a thread of its own pool, so a long WaitForJobChange
    or a slow master never blocks the event loop or other requests.
    """

    def __init__(self, address: str, max_threads: int = 200) -> None:
        self.address = address
        self._executor = ThreadPoolExecutor(max_workers=max_threads,
                                            thread_name_prefix="rapi-luxi")
        self._local = threading.local()

    def _client(self) -> luxi.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = luxi.Client(self.address)
            self._local.client = client
        return client

    def _call(self, method: str, args: tuple[Any, ...]) -> Any:
        client = self._client()
        try:
            return client.call(method, *args)
        except luxi.ProtocolError:
            client.close()
            raise

    async def call(self, method: str, *args: Any) -> Any:
        """The result of a luxi call; its errors become ``ApiError``s."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._call, method, args)
        except errors.GenericError as err:
            raise _luxi_api_error(err) from err

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _luxi_api_error(err: errors.GenericError) -> apierrors.ApiError:
    text = err.args[0] if err.args and isinstance(err.args[0], str) else str(err)
    if isinstance(err, errors.OpPrereqError) and "not supported yet" in text:
        return apierrors.NotImplementedYet(text)
    return apierrors.from_ganeti_error(err)


@dataclass
class Service:
    """What every request shares: luxi, authentication, authorization, options."""

    luxi: LuxiPool
    authenticator: Authenticator
    authorizer: Authorizer
    #: Refuse anonymous requests even where Ganeti allows them (GETs).
    require_authentication: bool = True
    #: OP_IDs the master can run (a logical unit exists); None: every opcode.
    supported_opcodes: frozenset[str] | None = None

    def opcode_supported(self, op_id: str) -> bool:
        return self.supported_opcodes is None or op_id in self.supported_opcodes


def lu_registry_opcodes() -> frozenset[str]:
    """The opcodes with a logical unit in this installation (ganeti.cmdlib)."""
    from ganeti import cmdlib

    return frozenset(cmdlib.LU_REGISTRY)


@dataclass
class Request:
    """One parsed request, as resources see it."""

    method: str
    path: str
    items: Mapping[str, str]
    query: Mapping[str, Sequence[str]]
    body: Any
    user: User | None
    service: Service


# -- the resource base -------------------------------------------------------------

class Resource:
    """Base of every resource; see the module doc."""

    #: Description for the OpenAPI document.
    DOC: ClassVar[str] = ""
    GET_ACCESS: ClassVar[tuple[str, ...]] = ()
    PUT_ACCESS: ClassVar[tuple[str, ...]] = (OPT_WRITE,)
    POST_ACCESS: ClassVar[tuple[str, ...]] = (OPT_WRITE,)
    DELETE_ACCESS: ClassVar[tuple[str, ...]] = (OPT_WRITE,)
    GET_OPCODE: ClassVar[type[opcodes.OpCode] | None] = None
    PUT_OPCODE: ClassVar[type[opcodes.OpCode] | None] = None
    POST_OPCODE: ClassVar[type[opcodes.OpCode] | None] = None
    DELETE_OPCODE: ClassVar[type[opcodes.OpCode] | None] = None
    GET_RENAME: ClassVar[Mapping[str, str]] = {}
    PUT_RENAME: ClassVar[Mapping[str, str]] = {}
    POST_RENAME: ClassVar[Mapping[str, str]] = {}
    DELETE_RENAME: ClassVar[Mapping[str, str]] = {}
    GET_QUERY: ClassVar[tuple[QueryParam, ...]] = ()
    PUT_QUERY: ClassVar[tuple[QueryParam, ...]] = WRITE_QUERY
    POST_QUERY: ClassVar[tuple[QueryParam, ...]] = WRITE_QUERY
    DELETE_QUERY: ClassVar[tuple[QueryParam, ...]] = WRITE_QUERY
    #: Methods whose body is not an opcode's parameters (documented by hand).
    BODY_DOC: ClassVar[Mapping[str, str]] = {}

    def __init__(self, request: Request) -> None:
        self.request = request
        self.items = request.items
        self.service = request.service

    # -- declarations ------------------------------------------------------------------

    @classmethod
    def handler_name(cls, method: str) -> str:
        return "handle_" + method.lower()

    @classmethod
    def offers(cls, method: str) -> bool:
        return (hasattr(cls, cls.handler_name(method))
                or cls.opcode_class(method) is not None)

    @classmethod
    def methods(cls) -> list[str]:
        return [method for method in HTTP_METHODS if cls.offers(method)]

    @classmethod
    def opcode_class(cls, method: str) -> type[opcodes.OpCode] | None:
        return getattr(cls, "%s_OPCODE" % method, None)

    @classmethod
    def access(cls, method: str) -> tuple[str, ...]:
        return tuple(getattr(cls, "%s_ACCESS" % method, ()))

    @classmethod
    def query_params(cls, method: str) -> tuple[QueryParam, ...]:
        return tuple(getattr(cls, "%s_QUERY" % method, ()))

    @classmethod
    def renames(cls, method: str) -> Mapping[str, str]:
        return dict(getattr(cls, "%s_RENAME" % method, {}))

    @classmethod
    def authorized_by_policy(cls, method: str) -> bool:
        """Whether the policy, not the users file options, decides this method."""
        return method != "GET" and cls.opcode_class(method) is not None

    async def dispatch(self) -> Any:
        method = self.request.method
        handler = getattr(self, self.handler_name(method), None)
        if handler is not None:
            return await handler()
        return await self.submit(self.build_opcode(method))

    # -- query arguments ---------------------------------------------------------------

    def query_value(self, name: str, default: str | None = None) -> str | None:
        values = self.request.query.get(name)
        if not values:
            return default
        return values[-1]

    def query_list(self, name: str) -> list[str]:
        return list(self.request.query.get(name, ()))

    def query_bool(self, name: str, default: bool = False) -> bool:
        value = self.query_value(name)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise apierrors.BadRequest("Query parameter '%s' must be 0 or 1, got %r"
                                   % (name, value))

    def query_int(self, name: str, default: int | None = None) -> int | None:
        value = self.query_value(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise apierrors.BadRequest("Query parameter '%s' must be an integer, got %r"
                                       % (name, value)) from None

    def query_set(self, name: str, default: Any = None) -> Any:
        """The query parameter as a boolean if given, else ``default`` (None: unset)."""
        if self.query_value(name) is None:
            return default
        return self.query_bool(name)

    # -- body --------------------------------------------------------------------------

    def body_dict(self) -> dict[str, Any]:
        body = self.request.body
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise apierrors.BadRequest("The request body must be a JSON object, got %s"
                                       % _json_kind(body))
        return dict(body)

    # -- opcodes -----------------------------------------------------------------------

    def opcode_params(self, method: str) -> dict[str, Any]:
        """Parameters from the URL and the query string; resources override it."""
        return {}

    def build_opcode(self, method: str, body: Mapping[str, Any] | None = None,
                     opcode: type[opcodes.OpCode] | None = None) -> opcodes.OpCode:
        """The opcode of ``method`` from the body and ``opcode_params``; 400 if invalid."""
        op_class = opcode or self.opcode_class(method)
        if op_class is None:
            raise apierrors.NotImplementedYet("Method %s has no operation here" % method)
        data = self.body_dict() if body is None else dict(body)
        for alias, name in self.renames(method).items():
            if alias in data:
                if name in data and data[name] != data[alias]:
                    raise apierrors.BadRequest("Body parameters '%s' and '%s' are the same"
                                               " parameter; give only one" % (alias, name))
                data[name] = data.pop(alias)
        for name, value in self.opcode_params(method).items():
            if name in data and data[name] != value:
                raise apierrors.BadRequest(
                    "Parameter '%s' is given both in the URL/query (%s) and in the body (%s)"
                    % (name, serializer.dump(value), serializer.dump(data[name])))
            data[name] = value
        self._add_common_params(data)
        try:
            return op_class.from_dict(data)
        except errors.GenericError as err:
            raise apierrors.BadRequest(_error_text(err)) from err

    def _add_common_params(self, data: dict[str, Any]) -> None:
        if self.query_bool("dry-run"):
            data["dry_run"] = True
        now = time.time_ns()
        trail = data.get(constants.OPCODE_REASON)
        trail = list(trail) if isinstance(trail, list) else []
        reason = self.query_value("reason")
        if reason:
            trail.append([constants.OPCODE_REASON_SRC_USER, reason, now])
        user = self.request.user
        trail.append([constants.OPCODE_REASON_SRC_RLIB2, "%s %s%s" % (
            self.request.method, self.request.path,
            " by %s" % user.name if user is not None else ""), now])
        data[constants.OPCODE_REASON] = trail

    def check_supported(self, op: opcodes.OpCode) -> None:
        if not self.service.opcode_supported(op.OP_ID):
            raise apierrors.NotImplementedYet(
                "The cluster cannot do %s yet: no logical unit implements this operation in"
                " this version" % op.OP_ID)

    async def authorize(self, op: opcodes.OpCode) -> None:
        """403 naming the opcode unless the policy lets the caller submit it."""
        user = self.request.user
        if user is None:
            raise apierrors.Unauthorized("%s needs an authenticated user" % op.OP_ID)
        authorizer = self.service.authorizer
        target = authorizer.tags_needed(user, op)
        tags = None
        if target is not None:
            tags = list(await self.service.luxi.call("QueryTags", *target))
        refusal = authorizer.check(user, op, tags)
        if refusal is not None:
            logger.warning("Denied %s %s: %s", self.request.method, self.request.path,
                           refusal)
            raise apierrors.Forbidden(refusal)

    async def submit(self, op: opcodes.OpCode) -> int:
        """Check, authorize and submit one opcode; the job id."""
        return await self.submit_many([op])

    async def submit_many(self, ops: Sequence[opcodes.OpCode]) -> int:
        """One job running ``ops`` in turn, each checked and authorized; the job id."""
        for op in ops:
            self.check_supported(op)
        if self.authorized_by_policy(self.request.method):
            for op in ops:
                await self.authorize(op)
        job_id = await self.service.luxi.call("SubmitJob", [op.to_dict() for op in ops])
        user = self.request.user
        logger.info("%s %s%s: job %s (%s)", self.request.method, self.request.path,
                    " by %s" % user.name if user is not None else "", job_id,
                    ", ".join(op.summary() for op in ops))
        return int(job_id)

    async def submit_and_wait(self, op: opcodes.OpCode) -> Any:
        """Submit one opcode, wait for its job, return the opcode's result."""
        job_id = await self.submit(op)
        info: Any = None
        while True:
            change = await self.service.luxi.call(
                "WaitForJobChange", job_id, ["status"], info, 0, WAIT_FOR_JOB_TIMEOUT)
            if isinstance(change, list) and change:
                info = change[0]
                if info and info[0] in constants.JOBS_FINALIZED:
                    break
        rows = await self.service.luxi.call("QueryJobs", [job_id], ["status", "opresult"])
        status, results = rows[0]
        if status == constants.JOB_STATUS_SUCCESS:
            return results[0]
        failure = next((r for r in results if r is not None), None)
        if failure is not None:
            raise apierrors.from_ganeti_error(errors.decode(failure))
        raise apierrors.InternalError("Job %s ended with status %s" % (job_id, status))

    # -- queries -----------------------------------------------------------------------

    async def query_rows(self, what: str, fields: Sequence[str],
                         qfilter: list[Any] | None = None,
                         known_only: bool = False) -> list[dict[str, Any]]:
        """luxi Query as a list of {field: value} (unavailable values: None).

        ``known_only``: leave out the fields the master does not declare (its
        answer says which), so a bulk list needs no QueryFields call first.
        """
        answer = await self.service.luxi.call("Query", what, list(fields), qfilter)
        kept = [(index, definition["name"]) for index, definition in enumerate(answer["fields"])
                if not (known_only and definition["kind"] == constants.QFT_UNKNOWN)]
        names = [name for _, name in kept]
        normal = constants.RS_NORMAL
        if len(kept) == len(answer["fields"]):
            return [dict(zip(names, [cell[1] if cell[0] == normal else None for cell in row]))
                    for row in answer["data"]]
        indexes = [index for index, _ in kept]
        return [dict(zip(names, [cell[1] if cell[0] == normal else None
                                 for cell in map(row.__getitem__, indexes)]))
                for row in answer["data"]]


def _error_text(err: BaseException) -> str:
    if err.args and isinstance(err.args[0], str):
        return err.args[0]
    return str(err)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else type(value).__name__


def name_uri_list(names: Sequence[Any], uri_format: str, key: str = "id"
                  ) -> list[dict[str, Any]]:
    """Ganeti's non-bulk list shape: ``[{"id": name, "uri": "/2/…/name"}]``."""
    return [{key: name, "uri": uri_format % name} for name in names]
