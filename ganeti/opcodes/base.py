"""The opcode base class and the parameter declaration type.

An opcode is one operation on the cluster. Each opcode class declares its
parameters once (``OP_PARAMS``: name, check, default or required, doc);
from those declarations come the validation of every input path (luxi,
RAPI, the CLI), the JSON form stored in job files, and the schema that
the CLI options, RAPI body parsing and the OpenAPI document are generated
from (``dump_schema``).

The JSON form is Ganeti's: ``{"OP_ID": "OP_INSTANCE_CREATE", param: value}``
with Ganeti's parameter names, so existing RAPI and luxi clients line up.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Final, TypeVar

from ganeti import constants, errors, ht

#: What ``to_dict(redact_secrets=True)`` writes in place of a secret value.
REDACTED: Final = "<redacted>"


class _Required:
    """Marker for parameters without a default."""

    _instance: ClassVar[_Required | None] = None

    def __new__(cls) -> _Required:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "REQUIRED"

    def __deepcopy__(self, memo: dict[int, Any]) -> _Required:
        return self


REQUIRED: Final = _Required()


@dataclasses.dataclass(frozen=True)
class Param:
    """One opcode parameter.

    ``default`` is ``REQUIRED`` for mandatory parameters. A default of
    ``None`` makes the parameter optional: ``None`` then means "not given"
    and is accepted besides the values passing ``check``. Mutable defaults
    are copied for every opcode.

    ``secret`` values (e.g. secret OS parameters) are never written in clear
    to job files (``to_dict(redact_secrets=True)``); ``private`` values are
    kept in job files but hidden from logs and listings.
    """

    name: str
    check: ht.Check
    default: Any = REQUIRED
    doc: str = ""
    secret: bool = False
    private: bool = False

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def full_check(self) -> ht.Check:
        """The check a value must pass, ``None`` included for optional parameters."""
        if self.default is None:
            return ht.TMaybe(self.check)
        return self.check

    def accepts(self, value: Any) -> bool:
        return (value is None and self.default is None) or self.check(value)

    def default_value(self) -> Any:
        if self.required:
            raise errors.ProgrammerError("Parameter '%s' has no default" % self.name)
        return copy.deepcopy(self.default)

    def with_doc(self, doc: str) -> Param:
        """The same parameter, documented for a particular opcode."""
        return dataclasses.replace(self, doc=doc)

    def with_default(self, default: Any) -> Param:
        """The same parameter with another default (or ``REQUIRED``)."""
        return dataclasses.replace(self, default=default)

    def describe(self) -> dict[str, Any]:
        """This parameter's entry in the schema dump."""
        entry: dict[str, Any] = {
            "name": self.name,
            "schema": self.full_check.schema,
            "description": self.check.desc,
            "required": self.required,
            "doc": self.doc,
            "secret": self.secret,
            "private": self.private,
        }
        if not self.required:
            entry["default"] = self.default
        return entry


# -- naming ---------------------------------------------------------------------

_WORD_BOUNDARY_RE = re.compile(r"([a-z])([A-Z])")

#: Short prefixes for compact job listings (Ganeti's).
_TINY_SUMMARY_PREFIXES = (("CLUSTER_", "C_"), ("GROUP_", "G_"), ("NODE_", "N_"),
                          ("INSTANCE_", "I_"))


def op_id_from_class_name(name: str) -> str:
    """``OpInstanceCreate`` -> ``OP_INSTANCE_CREATE`` (Ganeti's rule)."""
    if not name.startswith("Op"):
        raise errors.ProgrammerError("Opcode class name '%s' does not start with 'Op'" % name)
    return _WORD_BOUNDARY_RE.sub(r"\1_\2", name).upper()


def _validation_error(message: str) -> errors.OpPrereqError:
    return errors.OpPrereqError(message, errors.ECODE_INVAL)


# -- the common parameters ------------------------------------------------------

_TJobDependency = ht.WithDesc(
    ht.TTupleOf(ht.TOr(ht.TJobId, ht.TRelativeJobId),
                ht.TListOf(ht.TElemOf(constants.JOBS_FINALIZED))),
    "a [job id, [final statuses]] pair (negative ids: relative to this submission)")

_TReasonEntry = ht.WithDesc(ht.TTupleOf(ht.TString, ht.TString, ht.TInt),
                            "a [source, text, timestamp in ns] entry")

#: Accepted by every opcode (Ganeti's common fields).
COMMON_PARAMS: Final = (
    Param("dry_run", ht.TBool, None,
          "Only check the parameters and the cluster state; change nothing"),
    Param("debug_level", ht.TNonNegativeInt, None,
          "How much debugging output to produce (0: none)"),
    Param("priority", ht.TOpPriority, constants.OP_PRIO_NORMAL,
          "Scheduling priority, from -20 (highest) to 19 (lowest)"),
    Param("depends", ht.TListOf(_TJobDependency), None,
          "Jobs that must reach one of the given final statuses before this opcode runs;"
          " negative job ids count back within the same submission"),
    Param("comment", ht.TString, None, "Free-form note on why the opcode was submitted"),
    Param(constants.OPCODE_REASON, ht.TListOf(_TReasonEntry), [],
          "Reason trail: who asked for this operation, why, and when"),
)

COMMON_PARAM_NAMES: Final = frozenset(p.name for p in COMMON_PARAMS)

#: Every registered opcode class by OP_ID.
OP_REGISTRY: dict[str, type[OpCode]] = {}

_OpT = TypeVar("_OpT", bound="OpCode")


class OpCode:
    """Base of every opcode.

    Subclasses set ``OP_PARAMS`` (their own parameters; the common ones are
    added), a docstring (the opcode's documentation) and optionally
    ``SUMMARY_PARAM``, the parameter shown in job listings. ``OP_ID`` is
    derived from the class name. Classes register themselves in
    ``OP_REGISTRY`` unless declared with ``register=False`` (tests).

    Parameters are attributes (``op.instance_name``); construction fills in
    defaults and validates, raising ``OpPrereqError`` that names the opcode,
    the parameter, the value and what was expected.
    """

    OP_ID: ClassVar[str] = "OP_CODE"
    OP_PARAMS: ClassVar[tuple[Param, ...]] = COMMON_PARAMS
    SUMMARY_PARAM: ClassVar[str | None] = None
    #: All parameters (common ones first) and the same by name; computed.
    ALL_PARAMS: ClassVar[tuple[Param, ...]] = COMMON_PARAMS
    PARAMS_BY_NAME: ClassVar[dict[str, Param]] = {p.name: p for p in COMMON_PARAMS}

    __slots__ = ("_values",)
    _values: dict[str, Any]

    def __init_subclass__(cls, register: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.OP_ID = op_id_from_class_name(cls.__name__)
        params: list[Param] = []
        for klass in reversed(cls.__mro__):
            params.extend(klass.__dict__.get("OP_PARAMS", ()))
        by_name: dict[str, Param] = {}
        for param in params:
            if param.name in by_name:
                raise errors.ProgrammerError("%s declares parameter '%s' twice"
                                             % (cls.__name__, param.name))
            if hasattr(OpCode, param.name):
                raise errors.ProgrammerError("%s: parameter '%s' would hide an OpCode attribute"
                                             % (cls.__name__, param.name))
            by_name[param.name] = param
        if cls.SUMMARY_PARAM is not None and cls.SUMMARY_PARAM not in by_name:
            raise errors.ProgrammerError("%s: summary parameter '%s' is not declared"
                                         % (cls.__name__, cls.SUMMARY_PARAM))
        cls.ALL_PARAMS = tuple(params)
        cls.PARAMS_BY_NAME = by_name
        if register:
            if cls.OP_ID in OP_REGISTRY:
                raise errors.ProgrammerError("Opcode %s is declared twice" % cls.OP_ID)
            OP_REGISTRY[cls.OP_ID] = cls

    def __init__(self, /, **params: Any) -> None:
        cls = type(self)
        if cls is OpCode:
            raise errors.ProgrammerError("OpCode is abstract; use one of its subclasses")
        self._reject_unknown(params)
        values: dict[str, Any] = {}
        for param in cls.ALL_PARAMS:
            if param.name in params:
                values[param.name] = params[param.name]
            elif not param.required:
                values[param.name] = param.default_value()
        object.__setattr__(self, "_values", values)
        self.validate()

    @classmethod
    def _reject_unknown(cls, names: Iterable[str]) -> None:
        unknown = sorted(set(names) - set(cls.PARAMS_BY_NAME), key=str)
        if not unknown:
            return
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(str(name), list(cls.PARAMS_BY_NAME), n=1)
            if close:
                hints.append("'%s' (did you mean '%s'?)" % (name, close[0]))
            else:
                hints.append("'%s'" % name)
        raise _validation_error("%s: unknown parameter%s %s"
                                % (cls.__name__, "s" if len(unknown) > 1 else "",
                                   ", ".join(hints)))

    # -- parameters as attributes --------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails, i.e. for parameters.
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            if name in type(self).PARAMS_BY_NAME:
                raise AttributeError("%s: parameter '%s' is not set"
                                     % (type(self).__name__, name)) from None
            raise AttributeError("%s has no parameter '%s'"
                                 % (type(self).__name__, name)) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in type(self).PARAMS_BY_NAME:
            raise AttributeError("%s has no parameter '%s'" % (type(self).__name__, name))
        self._values[name] = value

    def __delattr__(self, name: str) -> None:
        raise AttributeError("%s: parameters cannot be deleted ('%s')"
                             % (type(self).__name__, name))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, OpCode)
        return self._values == other._values

    __hash__ = None  # type: ignore[assignment]  # opcodes are mutable

    def __repr__(self) -> str:
        shown = []
        for param in type(self).ALL_PARAMS:
            if param.name not in self._values:
                continue
            value = self._values[param.name]
            if not param.required and value == param.default:
                continue
            if param.secret or param.private:
                value = _redact(value)
            shown.append("%s=%r" % (param.name, value))
        return "%s(%s)" % (type(self).__name__, ", ".join(shown))

    def get(self, name: str, default: Any = None) -> Any:
        """A parameter's value, ``default`` when it is unset or ``None``."""
        value = self._values.get(name)
        return default if value is None else value

    # -- validation ------------------------------------------------------------------

    def validate(self) -> None:
        """Check every parameter; raise ``OpPrereqError`` for the first bad one."""
        cls = type(self)
        for param in cls.ALL_PARAMS:
            if param.name not in self._values:
                raise _validation_error("%s: parameter '%s' is required"
                                        % (cls.__name__, param.name))
            value = self._values[param.name]
            if not param.accepts(value):
                raise _validation_error(self._describe_failure(param, value))
        self.check_consistency()

    def _describe_failure(self, param: Param, value: Any) -> str:
        message = "%s: parameter '%s' must be %s, got %s" % (
            type(self).__name__, param.name, param.check.desc, _shown(param, value))
        inner = ht.explain_failure(param.full_check, value)
        if inner is not None and not (param.secret or param.private):
            path, reason = inner
            message += "; %s%s %s" % (param.name, path, reason)
        return message

    def check_consistency(self) -> None:
        """Checks across parameters or into nested opcodes; subclasses extend it.

        Called by ``validate`` once every parameter passed its own check.
        """

    # -- serialization -----------------------------------------------------------------

    def to_dict(self, redact_secrets: bool = False, redact_private: bool = False
                ) -> dict[str, Any]:
        """The JSON form: ``{"OP_ID": ..., parameter: value, ...}``.

        ``redact_secrets`` replaces secret values by ``"<redacted>"`` (job files);
        ``redact_private`` does the same for private values (logs, listings).
        """
        data: dict[str, Any] = {"OP_ID": self.OP_ID}
        for param in type(self).ALL_PARAMS:
            if param.name not in self._values:
                continue
            value = self._values[param.name]
            if (param.secret and redact_secrets) or (param.private and redact_private):
                data[param.name] = _redact(value)
            else:
                data[param.name] = copy.deepcopy(value)
        return data

    @classmethod
    def from_dict(cls: type[_OpT], data: Mapping[str, Any]) -> _OpT:
        """Build and validate an opcode from its JSON form.

        On ``OpCode`` itself the class is chosen by ``OP_ID`` (unknown ids raise
        ``OpCodeUnknown``). On a subclass ``OP_ID`` may be left out (RAPI
        bodies), but must match when given.
        """
        if not isinstance(data, Mapping):
            raise _validation_error("Opcode data must be a dictionary, got %s"
                                    % ht.describe_value(data))
        op_id = data.get("OP_ID")
        target: type[OpCode]
        if cls is OpCode:
            if op_id is None:
                raise _validation_error("Opcode data has no OP_ID: %s"
                                        % ht.describe_value(dict(data)))
            if not isinstance(op_id, str) or op_id not in OP_REGISTRY:
                raise errors.OpCodeUnknown("Unknown opcode %s" % ht.describe_value(op_id))
            target = OP_REGISTRY[op_id]
        else:
            if op_id is not None and op_id != cls.OP_ID:
                raise _validation_error("%s: OP_ID must be '%s', got %s"
                                        % (cls.__name__, cls.OP_ID,
                                           ht.describe_value(op_id)))
            target = cls
        bad_keys = [key for key in data if not isinstance(key, str)]
        if bad_keys:
            raise _validation_error("%s: parameter names must be strings, got %s"
                                    % (target.__name__, ht.describe_value(bad_keys)))
        params = {key: value for key, value in data.items() if key != "OP_ID"}
        op = target(**params)
        assert isinstance(op, cls)
        return op

    def copy(self: _OpT) -> _OpT:
        """An independent copy (nested values included)."""
        return _restore(type(self), copy.deepcopy(self._values))

    def __deepcopy__(self: _OpT, memo: dict[int, Any]) -> _OpT:
        return _restore(type(self), copy.deepcopy(self._values, memo))

    def __copy__(self: _OpT) -> _OpT:
        return _restore(type(self), dict(self._values))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self._values))

    # -- job listings -------------------------------------------------------------------

    def summary(self) -> str:
        """``INSTANCE_CREATE(inst1.example.com)``: the OP_ID without ``OP_`` and
        the summary parameter's value, as job listings show it."""
        text = self.OP_ID[3:]
        name = type(self).SUMMARY_PARAM
        if name is None:
            return text
        return "%s(%s)" % (text, self.format_summary_value(self._values.get(name)))

    @classmethod
    def format_summary_value(cls, value: Any) -> str:
        """How the summary shows the summary parameter; subclasses may override."""
        if isinstance(value, (list, tuple)):
            return ",".join(str(item) for item in value)
        return str(value)

    def tiny_summary(self) -> str:
        """``I_CREATE``: the compact form for narrow listings."""
        text = self.OP_ID[3:]
        for prefix, short in _TINY_SUMMARY_PREFIXES:
            if text.startswith(prefix):
                return short + text[len(prefix):]
        return text

    def add_reason(self, source: str, text: str, timestamp_ns: int) -> None:
        """Append an entry to the reason trail."""
        self._values.setdefault(constants.OPCODE_REASON, []).append(
            [source, text, timestamp_ns])

    # -- schema ------------------------------------------------------------------------

    @classmethod
    def schema(cls) -> dict[str, Any]:
        """This opcode's entry in the schema dump."""
        params = []
        for param in cls.ALL_PARAMS:
            entry = param.describe()
            entry["common"] = param.name in COMMON_PARAM_NAMES
            params.append(entry)
        return {
            "OP_ID": cls.OP_ID,
            "class": cls.__name__,
            "doc": _clean_doc(cls.__doc__),
            "summary_param": cls.SUMMARY_PARAM,
            "params": params,
        }


def _restore(cls: type[_OpT], values: dict[str, Any]) -> _OpT:
    """An opcode with these values, without validating them again."""
    op = object.__new__(cls)
    object.__setattr__(op, "_values", values)
    return op


def _redact(value: Any) -> Any:
    """Hide a value; dictionaries keep their keys so the shape stays visible."""
    if isinstance(value, dict):
        return {key: REDACTED for key in value}
    if value is None:
        return None
    return REDACTED


def _shown(param: Param, value: Any) -> str:
    if param.secret or param.private:
        return ht.describe_value(_redact(value))
    return ht.describe_value(value)


def _clean_doc(doc: str | None) -> str:
    if not doc:
        return ""
    lines = doc.strip().splitlines()
    first, rest = lines[0].strip(), lines[1:]
    indents = [len(line) - len(line.lstrip()) for line in rest if line.strip()]
    cut = min(indents, default=0)
    return "\n".join([first] + [line[cut:] for line in rest]).strip()


def from_dict(data: Mapping[str, Any]) -> OpCode:
    """Build any opcode from its JSON form (dispatching on ``OP_ID``)."""
    return OpCode.from_dict(data)


def all_opcodes() -> list[type[OpCode]]:
    """Every registered opcode class, sorted by OP_ID."""
    return [OP_REGISTRY[op_id] for op_id in sorted(OP_REGISTRY)]


def dump_schema() -> dict[str, Any]:
    """The schema of every opcode, for the CLI, RAPI and OpenAPI generators."""
    return {
        "version": constants.RELEASE_VERSION,
        "common_params": sorted(COMMON_PARAM_NAMES),
        "opcodes": [cls.schema() for cls in all_opcodes()],
    }
