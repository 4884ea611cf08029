"""The logical unit: the code behind one opcode, in Ganeti's phases.

The processor (``ganeti.mcpu``) drives an LU through:

1. ``check_arguments()`` — checks that need no cluster state;
2. ``expand_names()`` — resolve names, set ``needed_locks`` (level ->
   names, ``locking.ALL_SET`` or nothing), ``share_locks`` and
   ``opportunistic_locks``;
3. ``declare_locks(level)`` — called before each level is acquired, for
   locks that depend on the ones held at earlier levels;
4. ``check_prereq()`` — with the locks held, check the cluster state;
5. hooks of the pre phase (when ``HPATH`` is set), using
   ``build_hooks_env()`` and ``build_hooks_nodes()``;
6. ``exec(feedback_fn)`` — do the work; its value is the opcode's result;
7. hooks of the post phase, then ``hooks_callback``.

LUs talk to nodes only through ``self.rpc`` and report progress through
``self.log_info``/``self.log_warning`` (lines in the job's log).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from ganeti import errors, locking, opcodes

if TYPE_CHECKING:
    from ganeti import objects
    from ganeti.config import ConfigWriter
    from ganeti.context import MasterContext
    from ganeti.mcpu import Processor

FeedbackFn = Callable[..., None]


class ResultWithJobs:
    """An LU result asking the queue to submit follow-up jobs (Ganeti's).

    ``jobs`` is a list of jobs, each a list of opcodes (objects or dicts).
    The opcode's result becomes ``{"jobs": [[success, id or error], …]}``
    plus ``other`` keys.
    """

    def __init__(self, jobs: list[list[Any]], **other: Any) -> None:
        self.jobs = jobs
        self.other = other


class LogicalUnit:
    """Base of every LU; subclasses override the phases they need."""

    #: Hooks directory stem ("instance-add"); None: no hooks.
    HPATH: ClassVar[str | None] = None
    #: Object type of the hooks (constants HTYPE_*: "CLUSTER", "NODE", …).
    HTYPE: ClassVar[str | None] = None
    #: Whether the LU needs the Big Ganeti Lock exclusively.
    REQ_BGL: ClassVar[bool] = True
    #: Whether a running instance of this LU may be canceled (it then calls
    #: ``check_cancel`` at safe points).
    CANCELABLE: ClassVar[bool] = False

    def __init__(self, processor: Processor, op: opcodes.OpCode,
                 context: MasterContext) -> None:
        self.proc = processor
        self.op = op
        self.context = context
        self.cfg = context.cfg
        self.glm = context.glm
        self.rpc = context.rpc
        #: level -> names / locking.ALL_SET; None until expand_names sets it.
        self.needed_locks: dict[int, Any] | None = None
        self.share_locks: dict[int, bool] = dict.fromkeys(locking.LEVELS, False)
        self.opportunistic_locks: dict[int, bool] = dict.fromkeys(locking.LEVELS, False)
        #: What a dry run returns.
        self.dry_run_result: Any = None

    # -- phases ------------------------------------------------------------------

    def check_arguments(self) -> None:
        """Checks on the opcode alone (no locks, no config reads needed)."""

    def expand_names(self) -> None:
        """Resolve names and declare ``needed_locks``; must set it (``{}`` for none)."""
        raise NotImplementedError

    def declare_locks(self, level: int) -> None:
        """Adjust ``needed_locks[level]`` just before that level is acquired."""

    def check_prereq(self) -> None:
        """Check the cluster state, with the locks held."""

    def build_hooks_env(self) -> dict[str, Any]:
        """Hook variables without the GANETI_ prefix (``{"NODE_NAME": …}``)."""
        return {}

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        """(pre-phase nodes, post-phase nodes), as names or UUIDs."""
        return [], []

    def hooks_callback(self, phase: str, results: dict[str, Any], feedback_fn: FeedbackFn,
                       lu_result: Any) -> Any:
        """Called after the post phase; may replace the LU's result."""
        return lu_result

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        raise NotImplementedError

    # -- helpers for subclasses ------------------------------------------------------

    @property
    def owner(self) -> int:
        """The lock owner (the job id)."""
        return self.proc.job_id

    def owned_locks(self, level: int) -> frozenset[str]:
        return self.glm.owned(self.owner, level)

    def log_info(self, message: str, *args: Any) -> None:
        self.proc.log_info(message % args if args else message)

    def log_warning(self, message: str, *args: Any) -> None:
        self.proc.log_warning(message % args if args else message)

    def check_cancel(self) -> None:
        """Raise ``mcpu.JobCanceled`` if the job's cancellation was requested."""
        self.proc.check_cancel()

    def expand_node(self, name: str) -> tuple[str, str]:
        """(uuid, name) of a node given by name or UUID; OpPrereqError if unknown."""
        node = self.cfg.find_node(name)
        if node is None:
            raise errors.OpPrereqError("Node '%s' is not known" % name, errors.ECODE_NOENT)
        assert node.uuid is not None
        return node.uuid, node.name


def require_nodegroup(cfg: ConfigWriter, name: str) -> objects.NodeGroup:
    """The node group called ``name`` (or with that UUID); OpPrereqError if unknown."""
    group = cfg.find_nodegroup(name)
    if group is None:
        raise errors.OpPrereqError("Node group '%s' is not known" % name, errors.ECODE_NOENT)
    return group


def named_or_all_groups(cfg: ConfigWriter, group_name: str | None) -> list[str]:
    """``[group_name]`` once it is known to exist, or every group's name, sorted."""
    if group_name:
        require_nodegroup(cfg, group_name)
        return [group_name]
    with cfg.locked():
        return sorted(group.name for group in cfg.get_nodegroups().values())


class NoHooksLU(LogicalUnit):
    """An LU without hooks."""

    HPATH = None
    HTYPE = None


class QueryLU(NoHooksLU):
    """A read-only LU: shared BGL, no other locks."""

    REQ_BGL = False

    def expand_names(self) -> None:
        self.needed_locks = {}
