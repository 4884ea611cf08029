"""How a node RPC procedure is declared.

Every procedure is one ``Procedure`` entry: its name (the URL path on the
node daemon), its arguments with type checks, its result check, its timeout
class, how noded runs it, and the backend function that implements it. The
client stubs, the server dispatch, the validation of both ends and the
documentation all come from these entries (see ``ganeti.rpc.table``).
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ganeti import ht


class Timeout(enum.IntEnum):
    """Timeout classes in seconds (Ganeti's values)."""

    URGENT = 60
    FAST = 5 * 60
    NORMAL = 15 * 60
    SLOW = 60 * 60
    FOUR_HOURS = 4 * 60 * 60
    ONE_DAY = 24 * 60 * 60


class Isolation(enum.Enum):
    """Where noded runs the backend function.

    INLINE: in the event loop (only for trivial, non-blocking work);
    THREAD: in a worker thread (short blocking I/O);
    CHILD: in a child process with the call's timeout, killed if it hangs
    (hypervisor, storage and script work).
    """

    INLINE = "inline"
    THREAD = "thread"
    CHILD = "child"


@dataclass(frozen=True)
class Arg:
    name: str
    check: ht.Check
    doc: str = ""


@dataclass(frozen=True)
class Procedure:
    name: str
    args: tuple[Arg, ...]
    result: ht.Check
    backend: str  # "module:function", imported lazily by noded
    timeout: Timeout = Timeout.NORMAL
    isolation: Isolation = Isolation.THREAD
    doc: str = ""
    #: "module:function" noded runs inline first, with the same arguments: a
    #: result other than None is the answer, without the isolation's cost
    #: (e.g. hooks_runner with no hook scripts needs no child process).
    shortcut: str = ""
    _cache: dict[str, Callable[..., Any]] = field(default_factory=dict, compare=False,
                                                  repr=False)

    def backend_function(self) -> Callable[..., Any]:
        """The implementing function (imported on first use)."""
        return self._function("fn", self.backend)

    def shortcut_function(self) -> Callable[..., Any] | None:
        """The inline shortcut (imported on first use), None if there is none."""
        return self._function("shortcut", self.shortcut) if self.shortcut else None

    def _function(self, key: str, spec: str) -> Callable[..., Any]:
        if key not in self._cache:
            module_name, _, attr = spec.partition(":")
            self._cache[key] = getattr(importlib.import_module(module_name), attr)
        return self._cache[key]

    def check_args(self, values: list[Any]) -> None:
        """Raise ``TypeEnforcementError`` naming the first bad argument."""
        from ganeti import errors

        if not isinstance(values, list):
            raise errors.TypeEnforcementError(
                "%s: arguments must be a JSON list, got %s"
                % (self.name, ht.describe_value(values)))
        if len(values) != len(self.args):
            raise errors.TypeEnforcementError(
                "%s: expected %d arguments (%s), got %d" %
                (self.name, len(self.args), ", ".join(a.name for a in self.args), len(values)))
        for arg, value in zip(self.args, values):
            if not arg.check(value):
                raise errors.TypeEnforcementError(
                    "%s: argument '%s' must be %s, got %s" %
                    (self.name, arg.name, arg.check.desc, ht.describe_value(value)))

    def check_result(self, value: Any) -> None:
        from ganeti import errors

        if not self.result(value):
            raise errors.TypeEnforcementError(
                "%s: result must be %s, got %s" %
                (self.name, self.result.desc, ht.describe_value(value)))
