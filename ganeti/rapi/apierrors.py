"""HTTP errors of the remote API, with Ganeti's JSON error body.

Every error answer is ``{"code": <status>, "message": <reason>, "explain":
<what went wrong>}``; clients (Ganeti's among them) print all three.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from ganeti import errors, luxi
from ganeti.rapi import REALM


class ApiError(Exception):
    """An answer other than 200: status, explanation, extra headers."""

    status = 500

    def __init__(self, explain: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(explain)
        self.explain = explain
        self.headers = dict(headers or {})

    @property
    def message(self) -> str:
        return HTTPStatus(self.status).phrase

    def body(self) -> dict[str, Any]:
        return {"code": self.status, "message": self.message, "explain": self.explain}


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401

    def __init__(self, explain: str) -> None:
        super().__init__(explain, {"WWW-Authenticate": 'Basic realm="%s"' % REALM})


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class PayloadTooLarge(ApiError):
    status = 413


class UnsupportedMediaType(ApiError):
    status = 415


class InternalError(ApiError):
    status = 500


class NotImplementedYet(ApiError):
    """501: the method is not offered here, or the cluster cannot do it yet."""

    status = 501


class BadGateway(ApiError):
    """502: the master daemon answered something unusable."""

    status = 502


class ServiceUnavailable(ApiError):
    status = 503


def from_ganeti_error(err: BaseException) -> ApiError:
    """The HTTP error for an error raised by luxi or the opcode layer."""
    if isinstance(err, luxi.NoMasterError):
        return ServiceUnavailable("The master daemon is not reachable: %s" % err)
    if isinstance(err, luxi.RequestTimeoutError):
        return ServiceUnavailable("The master daemon did not answer in time: %s" % err)
    if isinstance(err, (errors.QueryFilterParseError, errors.OpCodeUnknown,
                        errors.ParameterError, errors.TagError, errors.UnitParseError,
                        errors.TypeEnforcementError)):
        return BadRequest(_text(err))
    if isinstance(err, errors.JobLost):
        return NotFound(_text(err))
    if isinstance(err, errors.JobQueueError):
        return ServiceUnavailable(_text(err))
    if isinstance(err, errors.LuxiError):
        return BadGateway("Error talking to the master daemon: %s" % _text(err))
    code = errors.get_error_code(err)
    if code is not None:
        status = errors.ECODE_HTTP_STATUS.get(code, 500)
        for klass in (BadRequest, NotFound, Conflict, ServiceUnavailable, InternalError):
            if klass.status == status:
                return klass(_text(err))
    if isinstance(err, errors.OpPrereqError):
        return BadRequest(_text(err))
    return InternalError("%s: %s" % (type(err).__name__, _text(err)))


def _text(err: BaseException) -> str:
    """The human part of an error (its first argument when it carries an error kind)."""
    if err.args and isinstance(err.args[0], str):
        return err.args[0]
    return str(err)
