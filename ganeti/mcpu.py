"""The processor: runs one opcode through its logical unit.

Phases, in order (see ``ganeti.cmdlib.base``): check arguments, take the
Big Ganeti Lock (shared unless the LU needs it exclusively), expand names,
declare and acquire the locks level by level (owner: the job id, with the
opcode's priority), check prerequisites, run the pre hooks, execute, run
the post hooks. A dry run stops after the prerequisites. Every lock is
released when the opcode ends, however it ends.

Lock waits are cut into attempts with growing timeouts so that a job whose
cancellation was requested stops waiting soon (``JobCanceled``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from ganeti import constants, errors, hooksmaster, locking, opcodes
from ganeti.cmdlib import base, get_lu_class
from ganeti.context import MasterContext

#: Timeouts (seconds) of successive lock attempts; the last repeats.
LOCK_ATTEMPT_TIMEOUTS: tuple[float, ...] = (0.5, 1.0, 2.0)


class JobCanceled(Exception):
    """The job was canceled while its opcode waited or ran (internal signal)."""


class OpCallbacks(Protocol):
    """What the job queue offers the processor while an opcode runs."""

    def notify_start(self) -> None:
        """Locks are held and the LU is about to run (opcode status: running)."""

    def check_cancel(self) -> bool:
        """Whether cancellation of the job was requested."""

    def set_cancelable(self, cancelable: bool) -> None:
        """Whether the running LU accepts cancellation."""

    def wait_cancel(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds; True as soon as cancellation is requested."""

    def submit_jobs(self, jobs: list[list[dict[str, Any]]]) -> list[list[Any]]:
        """Submit follow-up jobs; SubmitManyJobs' result."""


class _NoCallbacks:
    def notify_start(self) -> None:
        pass

    def check_cancel(self) -> bool:
        return False

    def set_cancelable(self, cancelable: bool) -> None:
        pass

    def wait_cancel(self, timeout: float) -> bool:
        time.sleep(timeout)
        return False

    def submit_jobs(self, jobs: list[list[dict[str, Any]]]) -> list[list[Any]]:
        raise errors.ProgrammerError("No job queue to submit follow-up jobs to")


class Processor:
    """Runs opcodes for one job (the lock owner is the job id)."""

    def __init__(self, context: MasterContext, job_id: int,
                 callbacks: OpCallbacks | None = None) -> None:
        self.context = context
        self.job_id = job_id
        self.callbacks: OpCallbacks = callbacks if callbacks is not None else _NoCallbacks()
        self._feedback_fn: base.FeedbackFn | None = None
        self._priority = constants.OP_PRIO_NORMAL

    # -- feedback and cancellation (used by LUs) ---------------------------------------

    def _feedback(self, *args: Any) -> None:
        if self._feedback_fn is not None:
            self._feedback_fn(*args)

    def log_info(self, message: str) -> None:
        logging.info("Job %s: %s", self.job_id, message)
        self._feedback(" - INFO: %s" % message)

    def log_warning(self, message: str) -> None:
        logging.warning("Job %s: %s", self.job_id, message)
        self._feedback(" - WARNING: %s" % message)

    def check_cancel(self) -> None:
        if self.callbacks.check_cancel():
            raise JobCanceled("Job %s canceled" % self.job_id)

    def sleep(self, seconds: float) -> None:
        """Sleep, ending early with JobCanceled if the job gets canceled."""
        if self.callbacks.wait_cancel(seconds):
            raise JobCanceled("Job %s canceled" % self.job_id)

    # -- execution -------------------------------------------------------------------

    def execute_opcode(self, op: opcodes.OpCode, feedback_fn: base.FeedbackFn | None = None,
                       priority: int | None = None) -> Any:
        """Run ``op``; its result, or an exception (errors.*, JobCanceled)."""
        lu_class = get_lu_class(op)
        self._feedback_fn = feedback_fn
        self._priority = op.priority if priority is None else priority
        lu = lu_class(self, op, self.context)
        lu.check_arguments()
        glm = self.context.glm
        try:
            self._acquire(locking.LEVEL_CLUSTER, [locking.BGL], shared=not lu.REQ_BGL)
            lu.expand_names()
            if lu.needed_locks is None:
                raise errors.ProgrammerError("%s.expand_names did not set needed_locks"
                                             % lu_class.__name__)
            for level in locking.LEVELS[1:]:
                self._lock_level(lu, level)
            self.callbacks.set_cancelable(lu.CANCELABLE)
            self.callbacks.notify_start()
            self.check_cancel()
            lu.check_prereq()
            if op.get("dry_run", False):
                return lu.dry_run_result
            return self._execute_lu(lu, feedback_fn)
        finally:
            self.callbacks.set_cancelable(False)
            glm.release_all(self.job_id)
            self._feedback_fn = None

    def _execute_lu(self, lu: base.LogicalUnit, feedback_fn: base.FeedbackFn | None) -> Any:
        hooks = hooksmaster.HooksMaster.build_from_lu(lu) if lu.HPATH else None
        if hooks is not None:
            hooks.run_phase(constants.HOOKS_PHASE_PRE)
        self.check_cancel()
        try:
            result = lu.exec(self._feedback)
        finally:
            self.callbacks.set_cancelable(False)
        if hooks is not None:
            post_results = hooks.run_phase(constants.HOOKS_PHASE_POST)
            result = lu.hooks_callback(constants.HOOKS_PHASE_POST, post_results,
                                       self._feedback, result)
        return self._process_result(result)

    def _process_result(self, result: Any) -> Any:
        """Submit the follow-up jobs an LU asked for (ResultWithJobs or {"jobs": …})."""
        if isinstance(result, base.ResultWithJobs):
            jobs, other = result.jobs, result.other
        elif (isinstance(result, dict) and constants.JOB_IDS_KEY in result
              and _looks_like_jobs(result[constants.JOB_IDS_KEY])):
            jobs = result[constants.JOB_IDS_KEY]
            other = {k: v for k, v in result.items() if k != constants.JOB_IDS_KEY}
        else:
            return result
        job_dicts = [[o.to_dict() if isinstance(o, opcodes.OpCode) else dict(o) for o in job]
                     for job in jobs]
        submitted = self.callbacks.submit_jobs(job_dicts)
        return dict(other, **{constants.JOB_IDS_KEY: submitted})

    # -- locks ---------------------------------------------------------------------------

    def _lock_level(self, lu: base.LogicalUnit, level: int) -> None:
        lu.declare_locks(level)
        assert lu.needed_locks is not None
        if level not in lu.needed_locks:
            return
        names = lu.needed_locks[level]
        if names is not locking.ALL_SET:
            names = list(names)
            if not names:
                return
        self._acquire(level, names, shared=bool(lu.share_locks.get(level)),
                      opportunistic=bool(lu.opportunistic_locks.get(level)))

    def _acquire(self, level: int, names: list[str] | None, shared: bool,
                 opportunistic: bool = False) -> frozenset[str]:
        """Acquire with growing timeouts, checking for cancellation in between."""
        attempt = 0
        while True:
            self.check_cancel()
            timeout = LOCK_ATTEMPT_TIMEOUTS[min(attempt, len(LOCK_ATTEMPT_TIMEOUTS) - 1)]
            got = self.context.glm.acquire(self.job_id, level, names, shared=shared,
                                           timeout=timeout, priority=self._priority,
                                           opportunistic=opportunistic)
            if got is not None:
                return got
            attempt += 1
            if attempt == 1:
                self._feedback("Waiting for %s locks (%s)" % (
                    locking.LEVEL_NAMES[level],
                    "all" if names is locking.ALL_SET else ", ".join(names or [])))


def _looks_like_jobs(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(job, list) and all(isinstance(op, (dict, opcodes.OpCode)) for op in job)
        for job in value)


#: A feedback function: ``fn(message)`` or ``fn(log_type, message)``.
FeedbackCallable = Callable[..., None]
