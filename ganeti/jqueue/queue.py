"""The master's job queue: submission, scheduling, waiting, cancel, archive.

Jobs live in memory (``LiveJob``) from submission until archived, and on
disk (``JobStorage``) as Ganeti job files. A job file is durable before its
id is returned; status and log updates replace it atomically, and a job's
final state is made durable again. Every write is then replicated to the
other master candidates in the background (``QueueReplicator``).

A pool of worker threads (``ganeti.jqueue.execution``) takes runnable jobs
by priority (then by id) from a heap. A job whose next opcode depends on
unfinished jobs is parked (status ``waiting``) and goes back on the heap
when the last of them finishes. One lock guards the in-memory state; each
job has a condition on that lock, so waiters of a job sleep until that job
changes (no polling) and file writes happen outside the lock.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ganeti import constants, errors, opcodes, serializer
from ganeti.jqueue import execution
from ganeti.jqueue.job import ELOG_MESSAGE, JOB_FIELDS, QueuedJob
from ganeti.jqueue.replication import QueueReplicator
from ganeti.jqueue.storage import JobStorage

if TYPE_CHECKING:
    from ganeti.context import MasterContext

#: LiveJob.state values.
STATE_QUEUED = "queued"    # on the heap (or about to be), waiting for a worker
STATE_PARKED = "parked"    # waiting for dependency jobs to finish
STATE_ACTIVE = "active"    # a worker runs it
STATE_DONE = "done"        # finalized
STATE_ABANDONED = "abandoned"  # the master shut down while it ran

#: What WaitForJobChange returns when nothing changed before the timeout.
JOB_NOTCHANGED = "nochange"
CANCELED_BY_REQUEST = "Job canceled by request"
MASTER_RESTARTED = ("Job interrupted: the master daemon restarted (unclean shutdown)"
                    " while it was %s")
MASTER_SHUT_DOWN = "Job interrupted: the master daemon shut down while it was running"

#: Dependency verdicts.
DEP_CONTINUE = "continue"
DEP_WAIT = "wait"
DEP_CANCEL = "cancel"
DEP_ERROR = "error"

#: Jobs archived per step of auto_archive_jobs (the lock is released in between).
_ARCHIVE_CHUNK = 200


@dataclass(eq=False)
class LiveJob:
    """A job in memory, with what the queue needs to run and watch it."""

    job: QueuedJob
    #: Validated opcodes (secret values intact); None where only the job file
    #: (with secrets redacted) is left, after a restart.
    opcodes: list[opcodes.OpCode | None]
    changed: threading.Condition
    state: str = STATE_QUEUED
    io_lock: threading.Lock = field(default_factory=threading.Lock)
    cancel_event: threading.Event = field(default_factory=threading.Event)
    #: Bumped when the job's heap entry becomes stale (priority change, cancel).
    sched_version: int = 0
    #: Whether the running LU accepts cancellation.
    cancelable: bool = False

    @property
    def id(self) -> int:
        return self.job.id


def job_file_name(job_id: int) -> str:
    """A job file's name relative to the queue directory (for replication)."""
    return "job-%d" % job_id


def archived_file_name(job_id: int) -> str:
    return "archive/%d/job-%d" % (job_id // 10000, job_id)


def _encoded_error(message: str) -> list[Any]:
    return errors.encode(errors.OpExecError(message))


#: Longest wait for the master candidates to hold a submitted or finished job.
REPLICATION_WAIT = 10.0


class JobQueue:
    """The job queue of the master daemon (see the module doc)."""

    def __init__(self, context: MasterContext, worker_count: int = constants.JOB_QUEUE_WORKERS,
                 storage: JobStorage | None = None, auto_archive_age: float | None = None,
                 auto_archive_interval: float = 3600.0,
                 max_jobs: int = constants.JOB_QUEUE_SIZE_HARD_LIMIT) -> None:
        if worker_count < 1:
            raise errors.ProgrammerError("The job queue needs at least one worker, got %r"
                                         % worker_count)
        self.context = context
        context.jobqueue = self
        self.worker_count = worker_count
        self.max_jobs = max_jobs
        self.storage = storage or JobStorage(context.paths)
        self.auto_archive_age = auto_archive_age
        self.auto_archive_interval = auto_archive_interval
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._jobs: dict[int, LiveJob] = {}
        self._heap: list[tuple[int, int, int]] = []  # (priority, job id, sched_version)
        self._dep_waiters: dict[int, set[int]] = {}
        self._active = 0
        self._reserved = 0  # submissions between the size check and their insertion
        self._accepting = False
        self._stopping = False
        self._drained = False
        self._workers: list[threading.Thread] = []
        self._housekeeper: threading.Thread | None = None
        self._stop_event = threading.Event()
        self.replicator = QueueReplicator(context.rpc, context.other_master_candidates)

    # -- start and shutdown ------------------------------------------------------------

    def start(self) -> None:
        """Load every job file, recover interrupted jobs, start the workers."""
        self.storage.ensure_dirs()
        self._drained = self.storage.is_drained()
        jobs, problems = self.storage.load_all()
        for problem in problems:
            logging.error("Ignoring unreadable job file: %s", problem)
        recovered: list[LiveJob] = []
        with self._lock:
            for job in jobs:
                live = self._new_live(job, [None] * len(job.ops))
                status = job.calc_status()
                if status == constants.JOB_STATUS_QUEUED:
                    self._push_locked(live)
                elif status in constants.JOBS_FINALIZED:
                    live.state = STATE_DONE
                else:
                    job.finalize_remaining(constants.JOB_STATUS_ERROR,
                                           _encoded_error(MASTER_RESTARTED % status))
                    live.state = STATE_DONE
                    recovered.append(live)
                self._jobs[job.id] = live
            items = [(live.id, serializer.dump_bytes(live.job.to_dict())) for live in recovered]
        if items:
            logging.warning("Marked %d interrupted job(s) as failed: %s", len(items),
                            ", ".join(str(job_id) for job_id, _ in items))
            self.storage.write_job_data(items, durable=True)
            for job_id, data in items:
                self.replicator.update(job_file_name(job_id), data)
        self.replicator.start()
        with self._lock:
            self._accepting = True
            self._stopping = False
        for index in range(self.worker_count):
            thread = threading.Thread(target=execution.worker_loop, args=(self,),
                                      name="jqueue-worker-%d" % index, daemon=True)
            thread.start()
            self._workers.append(thread)
        if self.auto_archive_age is not None:
            self._housekeeper = threading.Thread(target=self._housekeeping,
                                                 name="jqueue-autoarchive", daemon=True)
            self._housekeeper.start()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop taking jobs; let running opcodes finish up to ``timeout`` seconds,
        then mark what still runs as failed ("master shut down"). Jobs that
        had not started an opcode (queued, waiting for locks or for other
        jobs) stay or become queued on disk and run at the next start."""
        with self._lock:
            self._accepting = False
            self._stopping = True
            self._work.notify_all()
            self._idle.wait_for(lambda: self._active == 0, timeout)
            leftovers = [live for live in self._jobs.values()
                         if live.state in (STATE_ACTIVE, STATE_PARKED)]
        for live in leftovers:
            live.cancel_event.set()  # cancelable LUs stop early; the job file says why
            with live.io_lock:
                with self._lock:
                    if live.state not in (STATE_ACTIVE, STATE_PARKED):
                        continue  # finished meanwhile
                    live.state = STATE_ABANDONED
                    _leave_for_restart(live.job)
                    live.changed.notify_all()
                    data = serializer.dump_bytes(live.job.to_dict())
                self.storage.write_job_data([(live.id, data)], durable=True)
            self.replicator.update(job_file_name(live.id), data)
        self._stop_event.set()
        for thread in self._workers:
            thread.join(0.1)
        self._workers = []
        self.replicator.stop(timeout=max(1.0, timeout))

    def _housekeeping(self) -> None:
        assert self.auto_archive_age is not None
        while not self._stop_event.wait(self.auto_archive_interval):
            try:
                count, _ = self.auto_archive_jobs(self.auto_archive_age,
                                                  self.auto_archive_interval / 2)
                if count:
                    logging.info("Archived %d job(s) older than %s seconds", count,
                                 self.auto_archive_age)
            except errors.GenericError as err:
                logging.error("Automatic archiving failed: %s", err)

    # -- in-memory bookkeeping (callers hold self._lock) ----------------------------------

    def _new_live(self, job: QueuedJob, ops: list[opcodes.OpCode | None]) -> LiveJob:
        return LiveJob(job=job, opcodes=ops, changed=threading.Condition(self._lock))

    def _push_locked(self, live: LiveJob) -> None:
        live.state = STATE_QUEUED
        live.sched_version += 1
        heapq.heappush(self._heap, (live.job.calc_priority(), live.id, live.sched_version))
        self._work.notify()

    def next_job(self) -> LiveJob | None:
        """For workers: block until a job is runnable (None: the queue stops)."""
        with self._lock:
            while not self._stopping:
                while self._heap:
                    _prio, job_id, version = heapq.heappop(self._heap)
                    live = self._jobs.get(job_id)
                    if (live is not None and live.sched_version == version
                            and live.state == STATE_QUEUED):
                        live.state = STATE_ACTIVE
                        self._active += 1
                        return live
                self._work.wait()
            return None

    def release_job(self, live: LiveJob) -> None:
        """For workers: the worker is done with the job (finished or parked)."""
        with self._lock:
            self._active -= 1
            if self._active == 0:
                self._idle.notify_all()

    # -- state changes and writes --------------------------------------------------------

    def update(self, live: LiveJob, change: Callable[[QueuedJob], None] | None = None,
               durable: bool = False, write: bool = True) -> None:
        """Apply ``change`` under the lock, wake the job's waiters, write the file."""
        with live.io_lock:
            with self._lock:
                if live.state in (STATE_ABANDONED, STATE_DONE):
                    return
                if change is not None:
                    change(live.job)
                live.changed.notify_all()
                data = serializer.dump_bytes(live.job.to_dict()) if write else None
            if data is not None:
                self.storage.write_job_data([(live.id, data)], durable)
        if data is not None:
            self.replicator.update(job_file_name(live.id), data)

    def finish(self, live: LiveJob, change: Callable[[QueuedJob], None] | None = None) -> None:
        """Apply the final ``change`` and make the job durable, then show it and
        wake its waiters and dependents: nobody sees an end a crash could undo.

        The change is made on a copy, swapped in once written.
        """
        with live.io_lock:
            with self._lock:
                if live.state in (STATE_ABANDONED, STATE_DONE):
                    return
                final = QueuedJob.from_dict(live.job.to_dict())
            if change is not None:
                change(final)
            if final.end_timestamp is None:
                final.end_timestamp = final.ops[-1].end_timestamp
            data = serializer.dump_bytes(final.to_dict())
            self.storage.write_job_data([(live.id, data)], durable=True)
            # The candidates get the end before anyone sees it, so a failover
            # right after cannot undo it.
            self._await_replication(self.replicator.update(job_file_name(live.id), data))
            with self._lock:
                if live.state == STATE_ABANDONED:
                    return
                live.job = final
                live.state = STATE_DONE
                live.changed.notify_all()
                for waiter_id in sorted(self._dep_waiters.pop(live.id, ())):
                    waiter = self._jobs.get(waiter_id)
                    if waiter is not None and waiter.state == STATE_PARKED:
                        self._push_locked(waiter)

    def _await_replication(self, seq: int) -> None:
        """Wait (bounded) until change ``seq`` reached the master candidates.

        A submission is acknowledged, and a job's end shown, only once the
        candidates hold it, so a master failover keeps them (as Ganeti
        does); a candidate that hangs costs REPLICATION_WAIT, then a warning.
        """
        if not self.replicator.wait_sent(seq, REPLICATION_WAIT):
            logging.warning("Job queue replication to the master candidates is more than"
                            " %.0f s late; going on without it", REPLICATION_WAIT)

    def feedback(self, live: LiveJob, index: int, *args: Any) -> None:
        """An LU's feedback line: ``(message)`` or ``(log type, message)``."""
        if len(args) == 1:
            log_type, message = ELOG_MESSAGE, args[0]
        elif len(args) == 2:
            log_type, message = args
        else:
            raise errors.ProgrammerError("Feedback takes (message) or (type, message), got %r"
                                         % (args,))
        def add(job: QueuedJob) -> None:
            job.add_log(job.ops[index], message, log_type)

        self.update(live, add)

    # -- dependencies -------------------------------------------------------------------

    def check_dependencies(self, live: LiveJob, index: int) -> tuple[str, str]:
        """Judge opcode ``index``'s dependencies; on DEP_WAIT the job is parked."""
        depends = live.job.ops[index].input.get("depends") or []
        with self._lock:
            for dep_id, statuses in depends:
                verdict = self._dependency_locked(live, dep_id, statuses)
                if verdict[0] != DEP_CONTINUE:
                    if verdict[0] == DEP_WAIT:
                        self._dep_waiters.setdefault(dep_id, set()).add(live.id)
                        live.state = STATE_PARKED
                    return verdict
        return DEP_CONTINUE, ""

    def _dependency_locked(self, live: LiveJob, dep_id: int,
                           statuses: list[str]) -> tuple[str, str]:
        if dep_id == live.id:
            return DEP_ERROR, "Job %d can't depend on itself" % dep_id
        dep = self._jobs.get(dep_id)
        if dep is not None:
            status = dep.job.calc_status()
        else:
            archived = self.storage.read_job(dep_id)
            if archived is None:
                return DEP_ERROR, "Dependency job %d not found" % dep_id
            status = archived.calc_status()
        if status not in constants.JOBS_FINALIZED:
            return DEP_WAIT, "Waiting for job %d (status %s)" % (dep_id, status)
        if (status == constants.JOB_STATUS_CANCELED
                and constants.JOB_STATUS_CANCELED not in statuses):
            return DEP_CANCEL, "Dependency job %d was canceled" % dep_id
        if statuses and status not in statuses:
            return DEP_ERROR, ("Dependency job %d finished with status '%s', not one of '%s'"
                               " as required" % (dep_id, status, "', '".join(statuses)))
        return DEP_CONTINUE, ""

    # -- submission --------------------------------------------------------------------

    def _check_accepting(self, count: int, to_drained: bool) -> None:
        if not self._accepting:
            raise errors.JobQueueError("The job queue is not accepting jobs (the master"
                                       " daemon is starting or shutting down)")
        if self._drained and not to_drained:
            raise errors.JobQueueDrainError("Job queue is drained, refusing job")
        live = len(self._jobs) + self._reserved
        if live + count > self.max_jobs:
            raise errors.JobQueueFull(
                "Job queue is full: %d live jobs, the limit is %d; archive finished jobs"
                " (gnt-job archive / autoarchive)" % (live, self.max_jobs))

    def submit_job(self, ops: list[dict[str, Any]], to_drained: bool = False) -> int:
        """Validate and store a job; its id once the job file is durable."""
        prepared = _prepare_job(ops)
        for op in prepared:
            for dep_id, _ in op.get("depends", []):
                if dep_id < 0:
                    raise errors.OpPrereqError(
                        "Relative job dependency %d is only allowed in SubmitManyJobs"
                        % dep_id, errors.ECODE_INVAL)
        result = self._store_jobs([prepared], to_drained)[0]
        if not result[0]:
            raise errors.OpPrereqError(result[1], errors.ECODE_INVAL)
        return int(result[1])

    def submit_many_jobs(self, jobs: list[list[dict[str, Any]]],
                         to_drained: bool = False) -> list[list[Any]]:
        """Submit several jobs; ``[[True, id] or [False, error message], …]``.

        Negative dependency ids count back within this submission (-1: the
        job before). Errors of the whole call (drained, full) raise.
        """
        if not isinstance(jobs, list):
            raise errors.OpPrereqError("SubmitManyJobs needs a list of jobs, got %s"
                                       % type(jobs).__name__, errors.ECODE_INVAL)
        prepared: list[list[opcodes.OpCode] | str] = []
        for index, ops in enumerate(jobs):
            try:
                prepared.append(_prepare_job(ops))
            except errors.GenericError as err:
                prepared.append("Job %d of the submission: %s" % (index, err))
        return self._store_jobs(prepared, to_drained)

    def _store_jobs(self, prepared: list[list[opcodes.OpCode] | str],
                    to_drained: bool) -> list[list[Any]]:
        """Give the valid jobs ids, write them durably (one sync), queue them."""
        count = sum(1 for item in prepared if not isinstance(item, str))
        results: list[list[Any]] = []
        lives: list[LiveJob] = []
        items: list[tuple[int, bytes]] = []

        def build(ids: list[int]) -> list[tuple[int, bytes]]:
            id_iter = iter(ids)
            assigned: list[int | None] = []
            for index, item in enumerate(prepared):
                if isinstance(item, str):
                    results.append([False, item])
                    assigned.append(None)
                    continue
                job_id = next(id_iter)
                problem = _resolve_relative(item, index, assigned)
                if problem:
                    results.append([False, "Job %d of the submission: %s" % (index, problem)])
                    assigned.append(None)
                    continue
                assigned.append(job_id)
                job = QueuedJob.new(job_id, [op.to_dict(redact_secrets=True) for op in item])
                lives.append(self._new_live(job, list(item)))
                items.append((job_id, serializer.dump_bytes(job.to_dict())))
                results.append([True, job_id])
            return items

        if count == 0:
            return [[False, item] for item in prepared]
        with self._lock:
            self._check_accepting(count, to_drained)
            self._reserved += count
        try:
            ids = self.storage.create_jobs(count, build)
            with self._lock:
                for live in lives:
                    self._jobs[live.id] = live
                    self._push_locked(live)
        finally:
            with self._lock:
                self._reserved -= count
        for job_id, data in items:
            self.replicator.update(job_file_name(job_id), data)
        self._await_replication(self.replicator.update("serial", b"%d\n" % max(ids)))
        return results

    # -- watching and querying ------------------------------------------------------------

    def _job_info_locked(self, job: QueuedJob, fields: list[str]) -> list[Any]:
        info = [job.get_field(name) for name in fields]
        for position, name in enumerate(fields):
            if name == "oplog":  # the live lists grow; hand out copies
                info[position] = [list(log) for log in info[position]]
        return info

    def wait_for_job_change(self, job_id: int, fields: list[str], prev_job_info: Any,
                            prev_log_serial: int | None, timeout: float) -> Any:
        """``[job info, new log entries]`` as soon as either changed, the job is
        finished or canceling, or "nochange" after ``timeout`` seconds."""
        _check_fields(fields)
        job_id = job_id_of(job_id)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise errors.OpPrereqError("WaitForJobChange timeout must be a number of seconds,"
                                       " got %r" % (timeout,), errors.ECODE_INVAL)
        serial = prev_log_serial or 0
        deadline = time.monotonic() + max(0.0, float(timeout))
        with self._lock:
            live = self._jobs.get(job_id)
            if live is not None:
                while True:
                    job = live.job
                    info = self._job_info_locked(job, fields)
                    entries = job.log_entries_since(serial)
                    status = job.calc_status()
                    if (info != prev_job_info or entries or status not in (
                            constants.JOB_STATUS_QUEUED, constants.JOB_STATUS_WAITING,
                            constants.JOB_STATUS_RUNNING)):
                        return [info, entries]
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return JOB_NOTCHANGED
                    live.changed.wait(remaining)
        archived = self.storage.read_job(job_id)
        if archived is None:
            raise errors.JobLost("Job %d not found" % job_id)
        return [self._job_info_locked(archived, fields), archived.log_entries_since(serial)]

    def query_jobs(self, job_ids: Iterable[int] | None, fields: list[str]
                   ) -> list[list[Any] | None]:
        """Rows of ``fields`` per job (None for unknown ids); None: all live jobs."""
        _check_fields(fields)
        rows: list[list[Any] | None] = []
        missing: list[tuple[int, int]] = []
        with self._lock:
            wanted = sorted(self._jobs) if job_ids is None else [job_id_of(j) for j in job_ids]
            for job_id in wanted:
                live = self._jobs.get(job_id)
                if live is None:
                    missing.append((len(rows), job_id))
                    rows.append(None)
                else:
                    rows.append(self._job_info_locked(live.job, fields))
        for position, job_id in missing:
            archived = self.storage.read_job(job_id)
            if archived is not None:
                rows[position] = self._job_info_locked(archived, fields)
        return rows

    def get_job(self, job_id: int) -> LiveJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    # -- cancel and priority --------------------------------------------------------------

    def cancel_job(self, job_id: int, kill: bool = False) -> list[Any]:
        """[success, message]. Queued and waiting jobs end at once; a running job
        only if its LU accepts cancellation (it is then "canceling")."""
        job_id = job_id_of(job_id)
        with self._lock:
            live = self._jobs.get(job_id)
            if live is None:
                return [False, "Job %d not found" % job_id]
            status = live.job.calc_status()
            if status in constants.JOBS_FINALIZED:
                return [False, "Job %d is finished (status %s)" % (job_id, status)]
            if live.state in (STATE_QUEUED, STATE_PARKED):
                live.sched_version += 1
                live.state = STATE_ACTIVE  # claimed: no worker takes it any more
                self._active += 1
                immediate = True
            else:
                immediate = False
                if status == constants.JOB_STATUS_RUNNING and not live.cancelable:
                    return [False, "Job %d is running and its operation can't be canceled%s"
                            % (job_id, " or killed" if kill else "")]
                live.cancel_event.set()
        if immediate:
            self.finish(live, lambda job: job.finalize_remaining(
                constants.JOB_STATUS_CANCELED, CANCELED_BY_REQUEST))
            self.release_job(live)
            return [True, "Job %d canceled" % job_id]
        self.update(live, _mark_canceling)
        return [True, "Job %d will be canceled" % job_id]

    def change_job_priority(self, job_id: int, priority: int) -> list[Any]:
        """[success, message]; the job's unfinished opcodes get ``priority``."""
        if (type(priority) is not int
                or not constants.OP_PRIO_HIGHEST <= priority <= constants.OP_PRIO_LOWEST):
            raise errors.OpPrereqError(
                "Priority must be an integer from %d (highest) to %d (lowest), got %r"
                % (constants.OP_PRIO_HIGHEST, constants.OP_PRIO_LOWEST, priority),
                errors.ECODE_INVAL)
        job_id = job_id_of(job_id)
        with self._lock:
            live = self._jobs.get(job_id)
            if live is None:
                return [False, "Job %d not found" % job_id]
            if live.job.is_finalized():
                return [False, "Job %d is finished" % job_id]
            running = live.state == STATE_ACTIVE
        self.update(live, lambda job: _set_priority(job, priority, skip_started=running))
        with self._lock:
            if live.state == STATE_QUEUED:
                self._push_locked(live)
        return [True, "Priorities of pending opcodes for job %d have been changed to %d"
                % (job_id, priority)]

    # -- archive ---------------------------------------------------------------------

    def archive_job(self, job_id: int) -> bool:
        """Move a finished job to the archive; False if unknown or not finished."""
        job_id = job_id_of(job_id)
        with self._lock:
            live = self._jobs.get(job_id)
            if live is None or live.state != STATE_DONE:
                return False
        return self._archive([live]) == 1

    def _archive(self, lives: list[LiveJob]) -> int:
        moved = self.storage.archive_jobs([live.job for live in lives])
        with self._lock:
            for live in lives:
                self._jobs.pop(live.id, None)
        self.replicator.rename([[job_file_name(live.id), archived_file_name(live.id)]
                                for live in lives])
        return moved

    def auto_archive_jobs(self, age: float, timeout: float) -> list[int]:
        """Archive finished jobs older than ``age`` seconds (-1: all); stops after
        ``timeout`` seconds. [archived count, jobs left to examine]."""
        deadline = time.monotonic() + timeout
        cutoff = time.time() - age
        with self._lock:
            candidates = [live for _, live in sorted(self._jobs.items())
                          if live.state == STATE_DONE and (age < 0 or _end_time(live.job)
                                                           <= cutoff)]
        archived = examined = 0
        while examined < len(candidates) and time.monotonic() < deadline:
            chunk = candidates[examined:examined + _ARCHIVE_CHUNK]
            archived += self._archive(chunk)
            examined += len(chunk)
        return [archived, len(candidates) - examined]

    # -- drain flag --------------------------------------------------------------------

    def set_drain_flag(self, drain: bool) -> None:
        self.storage.set_drained(bool(drain))
        with self._lock:
            self._drained = bool(drain)
        self.replicator.call("jobqueue_set_drain_flag", [bool(drain)])

    def is_drained(self) -> bool:
        with self._lock:
            return self._drained

    # -- introspection ---------------------------------------------------------------

    def job_count(self) -> int:
        with self._lock:
            return len(self._jobs)


# -- helpers -----------------------------------------------------------------------------

def job_id_of(value: Any) -> int:
    """A job id from luxi (clients send numbers or digit strings)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or \
            (isinstance(value, str) and not value.isdigit()) or int(value) < 0:
        raise errors.OpPrereqError("Invalid job id %r: expected a non-negative integer"
                                   % (value,), errors.ECODE_INVAL)
    return int(value)


def _check_fields(fields: list[str]) -> None:
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise errors.OpPrereqError("Job fields must be a list of names, got %r" % (fields,),
                                   errors.ECODE_INVAL)
    unknown = [name for name in fields if name not in JOB_FIELDS]
    if unknown:
        raise errors.OpPrereqError("Unknown job field(s) %s; known: %s"
                                   % (", ".join(unknown), ", ".join(sorted(JOB_FIELDS))),
                                   errors.ECODE_INVAL)


def _prepare_job(ops: Any) -> list[opcodes.OpCode]:
    """Validate a job's opcodes; OpPrereqError naming the bad one."""
    if not isinstance(ops, list) or not ops:
        raise errors.OpPrereqError("A job must be a non-empty list of opcodes, got %r"
                                   % (ops,), errors.ECODE_INVAL)
    prepared = []
    for index, data in enumerate(ops):
        try:
            op = opcodes.from_dict(data)
            if op.get("depends"):  # job ids may come as strings ("12")
                op.depends = [[int(dep_id), list(statuses)] for dep_id, statuses in op.depends]
            prepared.append(op)
        except errors.OpPrereqError as err:
            kind = err.args[1] if len(err.args) > 1 else errors.ECODE_INVAL
            raise errors.OpPrereqError("Opcode %d of the job: %s" % (index, err.args[0]),
                                       kind) from None
        except errors.GenericError as err:
            raise type(err)("Opcode %d of the job: %s" % (index, err)) from None
    return prepared


def _resolve_relative(ops: list[opcodes.OpCode], index: int,
                      assigned: list[int | None]) -> str | None:
    """Replace negative dependency ids by the ids of earlier jobs of the submission."""
    for op in ops:
        depends = op.get("depends", [])
        resolved = []
        for dep_id, statuses in depends:
            if dep_id < 0:
                target = index + dep_id
                if target < 0:
                    return ("relative dependency %d points before the first job of the"
                            " submission" % dep_id)
                real = assigned[target]
                if real is None:
                    return ("relative dependency %d points to job %d of the submission,"
                            " which was not accepted" % (dep_id, target))
                dep_id = real
            resolved.append([dep_id, list(statuses)])
        if depends:
            op.depends = resolved
    return None


def _leave_for_restart(job: QueuedJob) -> None:
    """At shutdown: fail a job whose opcode runs, requeue one that hasn't started."""
    started = any(op.status in (constants.JOB_STATUS_RUNNING, constants.JOB_STATUS_CANCELING)
                  for op in job.ops)
    if started:
        job.finalize_remaining(constants.JOB_STATUS_ERROR, _encoded_error(MASTER_SHUT_DOWN))
        return
    for op in job.ops:
        if op.status == constants.JOB_STATUS_WAITING:
            op.status = constants.JOB_STATUS_QUEUED


def _mark_canceling(job: QueuedJob) -> None:
    for op in job.ops:
        if op.status not in constants.JOBS_FINALIZED:
            op.status = constants.JOB_STATUS_CANCELING


def _set_priority(job: QueuedJob, priority: int, skip_started: bool) -> None:
    for op in job.ops:
        if op.status in constants.JOBS_FINALIZED:
            continue
        if skip_started and op.status != constants.JOB_STATUS_QUEUED:
            continue
        op.priority = priority


def _end_time(job: QueuedJob) -> float:
    stamp = job.end_timestamp or job.received_timestamp or [0, 0]
    return stamp[0] + stamp[1] / 1e6
