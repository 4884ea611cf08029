"""The error hierarchy, with Ganeti's error kinds.

Errors cross process boundaries (node RPC, luxi) as ``[ClassName, [args]]``
and are rebuilt on the other side by ``decode``; the CLI maps them to exit
codes and RAPI to HTTP statuses through ``ECODE_*`` kinds.
"""

from __future__ import annotations

from typing import Any

# Error kinds (the values are Ganeti's, which clients may match on).
ECODE_RESOLVER = "resolver_error"
ECODE_NORES = "insufficient_resources"
ECODE_TEMP_NORES = "temp_insufficient_resources"
ECODE_INVAL = "wrong_input"
ECODE_STATE = "wrong_state"
ECODE_NOENT = "unknown_entity"
ECODE_EXISTS = "already_exists"
ECODE_NOTUNIQUE = "resource_not_unique"
ECODE_FAULT = "internal_error"
ECODE_ENVIRON = "environment_error"

ECODE_ALL = frozenset([
    ECODE_RESOLVER, ECODE_NORES, ECODE_TEMP_NORES, ECODE_INVAL, ECODE_STATE,
    ECODE_NOENT, ECODE_EXISTS, ECODE_NOTUNIQUE, ECODE_FAULT, ECODE_ENVIRON,
])

#: HTTP status for each error kind (RAPI).
ECODE_HTTP_STATUS = {
    ECODE_INVAL: 400,
    ECODE_RESOLVER: 400,
    ECODE_NOENT: 404,
    ECODE_EXISTS: 409,
    ECODE_NOTUNIQUE: 409,
    ECODE_STATE: 409,
    ECODE_NORES: 503,
    ECODE_TEMP_NORES: 503,
    ECODE_ENVIRON: 500,
    ECODE_FAULT: 500,
}


class GenericError(Exception):
    """Base of every error this project raises on purpose."""


class ProgrammerError(GenericError):
    """A bug: an API was used in a way it must never be."""


class ConfigurationError(GenericError):
    """The configuration is invalid or inconsistent."""


class ConfigVersionMismatch(ConfigurationError):
    """The configuration file has a format version we cannot read."""


class ConfigVerifyError(ConfigurationError):
    """Consistency checks failed; ``args[1]`` lists every problem found."""

    def __init__(self, msg: str, problems: list[str] | None = None) -> None:
        super().__init__(msg, list(problems or []))

    @property
    def problems(self) -> list[str]:
        return list(self.args[1])

    def __str__(self) -> str:
        if not self.problems:
            return str(self.args[0])
        return "%s:\n  %s" % (self.args[0], "\n  ".join(self.problems))


class ReservationError(GenericError):
    """A resource (MAC, IP, name) is already reserved or in use."""


class AddressPoolError(GenericError):
    """A network's address pool refused an operation (full, outside, taken)."""


class SsconfError(GenericError):
    """An ssconf file is missing or malformed."""


class ParameterError(GenericError):
    """A parameter (hv, be, nic, os, …) is unknown or has a bad value."""


class TypeEnforcementError(GenericError):
    """A value failed its declared type check."""


class OpPrereqError(GenericError):
    """A prerequisite of an operation failed; ``args[1]`` is the error kind."""


class OpExecError(GenericError):
    """An operation failed while executing."""


class OpCodeUnknown(GenericError):
    """The opcode id is not known."""


class OpResultError(GenericError):
    """An opcode's result failed its declared check."""


class HooksFailure(GenericError):
    """Hooks could not be run at all."""


class HooksAbort(HooksFailure):
    """A pre-phase hook failed, so the operation was aborted."""


class HypervisorError(GenericError):
    """The hypervisor failed or refused an action."""


class InvalidOS(GenericError):
    """An OS definition is missing or invalid (Ganeti's InvalidOS)."""


class BlockDeviceError(GenericError):
    """A block device operation failed."""


class FileStoragePathError(GenericError):
    """A file storage path is outside the allowed directories."""


class ExportError(GenericError):
    """An instance export or its files (gnt-backup) on a node."""


class RemoteError(GenericError):
    """A remote call (node RPC) failed."""


class SignatureError(GenericError):
    """A signed message failed verification."""


class LockError(GenericError):
    """A lock could not be acquired or was misused."""


class ResolverError(GenericError):
    """A host name could not be resolved."""


class JobLost(GenericError):
    """The job is gone from the queue."""


class JobQueueError(GenericError):
    """The job queue failed."""


class JobQueueDrainError(JobQueueError):
    """The queue is drained: new jobs are refused."""


class JobQueueFull(JobQueueError):
    """The queue holds too many jobs."""


class JobFileCorrupted(JobQueueError):
    """A job file could not be parsed."""


class LuxiError(GenericError):
    """The luxi protocol failed."""


class QueryFilterParseError(GenericError):
    """A query filter string could not be parsed."""


class TagError(GenericError):
    """A tag is invalid or its object cannot carry it."""


class CommandError(GenericError):
    """An external command failed."""


class X509CertError(GenericError):
    """A certificate is invalid, expired or does not match."""


class UnitParseError(GenericError):
    """A size with a unit suffix could not be parsed."""


class QuitGanetiException(Exception):
    """Signals a daemon to stop; not an error of the operation."""


def _all_error_classes() -> dict[str, type[Exception]]:
    found: dict[str, type[Exception]] = {}
    pending: list[type[Exception]] = [GenericError, QuitGanetiException]
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return found


def get_error_code(err: BaseException) -> str | None:
    """The ``ECODE_*`` kind carried by an error, if any."""
    if isinstance(err, OpPrereqError) and len(err.args) >= 2 and err.args[1] in ECODE_ALL:
        return str(err.args[1])
    return None


def encode(err: BaseException) -> list[Any]:
    """Serialize an error as ``[ClassName, [args]]`` (Ganeti's wire form)."""
    if isinstance(err, GenericError) or isinstance(err, QuitGanetiException):
        name = type(err).__name__
    else:
        # Foreign exceptions travel as OpExecError so the other side can
        # always rebuild them; the message keeps the original class name.
        return ["OpExecError", ["%s: %s" % (type(err).__name__, err)]]
    return [name, [_jsonable(a) for a in err.args]]


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def decode(data: Any) -> GenericError:
    """Rebuild an error serialized by ``encode``.

    Anything that is not a well-formed encoded error becomes a
    ``ProgrammerError`` describing what was received, so a peer's garbage
    never raises something unexpected here.
    """
    if (isinstance(data, (list, tuple)) and len(data) == 2
            and isinstance(data[0], str) and isinstance(data[1], (list, tuple))):
        cls = _all_error_classes().get(data[0])
        if cls is not None and issubclass(cls, GenericError):
            return cls(*data[1])
    return ProgrammerError("Can't decode error from %r" % (data,))


def maybe_raise(data: Any) -> None:
    """Raise the error encoded in ``data`` if it is one; else do nothing."""
    if (isinstance(data, (list, tuple)) and len(data) == 2 and isinstance(data[0], str)
            and data[0] in _all_error_classes()):
        raise decode(data)
