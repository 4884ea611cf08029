"""The aiohttp application of the remote API: routing, auth, bodies, errors.

Each request: route (404), method offered (501, as Ganeti), credentials
(401 with ``WWW-Authenticate``), access (403), body (413 over the size
limit, 415 unless JSON, 400 if malformed), then the resource. Every error
answer is Ganeti's JSON error body; an unexpected exception is logged with
its traceback and answered 500 without one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ganeti import serializer
from ganeti.rapi import DEFAULT_MAX_BODY_SIZE, apierrors, routes
from ganeti.rapi.auth import AuthFailed, User
from ganeti.rapi.baserlib import Request, Resource, Service

logger = logging.getLogger("ganeti.rapi")

SERVICE_KEY = web.AppKey("service", Service)
JSON_TYPE = "application/json"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(data: Any, status: int = 200,
                  headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=serializer.dump_bytes(data), status=status,
                        content_type=JSON_TYPE, headers=headers)


def error_response(err: apierrors.ApiError) -> web.Response:
    return json_response(err.body(), err.status, err.headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except apierrors.ApiError as err:
        if err.status >= 500:
            logger.warning("%s %s: %d %s", request.method, request.path, err.status,
                           err.explain)
        return error_response(err)
    except web.HTTPException as err:  # aiohttp's own: no route, body too large…
        if err.status < 400:
            raise
        explain = {
            404: "No resource at %s" % request.path,
            405: "Method %s is not supported on %s" % (request.method, request.path),
            413: "The request body is larger than the limit of %d bytes"
                 % request.app.get(MAX_BODY_KEY, DEFAULT_MAX_BODY_SIZE),
        }.get(err.status, err.text or err.reason)
        generic = apierrors.ApiError(explain)
        generic.status = err.status
        return error_response(generic)
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("Unexpected error handling %s %s", request.method, request.path)
        return error_response(apierrors.InternalError(
            "Unexpected error handling %s %s; the rapi daemon's log has the details"
            % (request.method, request.path)))


MAX_BODY_KEY = web.AppKey("max_body_size", int)


async def _authenticate(request: web.Request, service: Service) -> User | None:
    header = request.headers.get("Authorization")
    if not header:
        return None
    authenticate = service.authenticator.authenticate
    try:
        if header[:7].lower() == "bearer ":  # a first PBKDF2 check is slow: off the loop
            return await asyncio.get_running_loop().run_in_executor(None, authenticate,
                                                                    header)
        return authenticate(header)
    except AuthFailed as err:
        logger.warning("Authentication failed for %s %s from %s: %s", request.method,
                       request.path, request.remote, err)
        raise apierrors.Unauthorized("Wrong credentials") from err


def check_access(resource: type[Resource], method: str, user: User | None,
                 service: Service) -> None:
    """401/403 unless ``user`` may call ``method``; the policy decides opcodes later."""
    needed = resource.access(method)
    by_policy = resource.authorized_by_policy(method)
    if user is None:
        if service.require_authentication or needed or by_policy:
            raise apierrors.Unauthorized("%s %s needs an authenticated user"
                                         % (method, resource.__name__))
        return
    if by_policy or not needed:
        return
    if not any(user.has(option) for option in needed):
        logger.warning("Denied %s to user %s: needs option %s", method, user.name,
                       " or ".join(needed))
        raise apierrors.Forbidden("User '%s' may not do %s here: it needs the %s option"
                                  % (user.name, method, " or ".join(needed)))


async def read_body(request: web.Request) -> Any:
    """The JSON body (None when empty); 413, 415 or 400 when it is not acceptable."""
    limit = request.app[MAX_BODY_KEY]
    if request.content_length is not None and request.content_length > limit:
        raise apierrors.PayloadTooLarge("The request body has %d bytes; the limit is %d"
                                        % (request.content_length, limit))
    raw = await request.read()  # aiohttp enforces client_max_size for chunked bodies
    if not raw.strip():
        return None
    if request.content_type != JSON_TYPE:
        raise apierrors.UnsupportedMediaType(
            "Request bodies must be JSON with 'Content-Type: %s', got %r"
            % (JSON_TYPE, request.headers.get("Content-Type", "")))
    try:
        return serializer.load(raw)
    except (ValueError, RecursionError) as err:
        raise apierrors.BadRequest("The request body is not valid JSON: %s" % err) from err


def resource_handler(resource: type[Resource]) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        method = request.method
        if not resource.offers(method):
            offered = resource.methods()
            raise apierrors.NotImplementedYet(
                "Method %s is not supported on %s (supported: %s)"
                % (method, request.path, ", ".join(offered)))
        service = request.app[SERVICE_KEY]
        user = await _authenticate(request, service)
        check_access(resource, method, user, service)
        body = await read_body(request)
        query: dict[str, list[str]] = {}
        for key, value in request.query.items():
            query.setdefault(key, []).append(value)
        context = Request(method, request.path, dict(request.match_info), query, body, user,
                          service)
        return json_response(await resource(context).dispatch())

    return handle


def build_app(service: Service, max_body_size: int = DEFAULT_MAX_BODY_SIZE,
              openapi: Callable[[], dict[str, Any]] | None = None) -> web.Application:
    """The application serving every route of ``routes.ROUTES``."""
    app = web.Application(client_max_size=max_body_size, middlewares=[error_middleware])
    app[SERVICE_KEY] = service
    app[MAX_BODY_KEY] = max_body_size
    for template, resource in routes.ROUTES:
        app.router.add_route("*", template, resource_handler(resource))
    if openapi is not None:
        cached: dict[str, bytes] = {}

        async def openapi_handler(request: web.Request) -> web.StreamResponse:
            if "doc" not in cached:
                cached["doc"] = serializer.dump_bytes(openapi())
            return web.Response(body=cached["doc"], content_type=JSON_TYPE)

        app.router.add_get(routes.OPENAPI_PATH, openapi_handler)
    return app
