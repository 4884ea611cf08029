"""Running a job: the worker loop and the life of each opcode.

For each unfinished opcode, in order: check its dependencies (park the job
if they are unfinished), mark it ``waiting`` (for locks), hand it to the
processor, which calls back when the locks are held (``running``, written
to disk), then record its result or error. The first failure fails the
remaining opcodes; a cancellation cancels them. The final state is made
durable by ``JobQueue.finish``.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

from ganeti import constants, errors, mcpu, opcodes, serializer
from ganeti.jqueue.job import QueuedJob, now_timestamp

if TYPE_CHECKING:
    from ganeti.jqueue.queue import JobQueue, LiveJob

PRECEDING_OPCODE_FAILED = "Preceding opcode failed"


def worker_loop(queue: JobQueue) -> None:
    """Body of a worker thread: run jobs until the queue stops."""
    while True:
        live = queue.next_job()
        if live is None:
            return
        try:
            run_job(queue, live)
        except Exception:
            logging.exception("Job %d: unexpected failure of the job queue", live.id)
            _fail_job(queue, live, errors.encode(errors.OpExecError(
                "Internal error of the job queue; see the master daemon's log")))
        finally:
            queue.release_job(live)


class _OpCallbacks:
    """The processor's view of the job (mcpu.OpCallbacks)."""

    def __init__(self, queue: JobQueue, live: LiveJob, index: int) -> None:
        self._queue = queue
        self._live = live
        self._index = index

    def notify_start(self) -> None:
        if self._live.cancel_event.is_set():
            raise mcpu.JobCanceled("Job %d canceled while waiting for locks" % self._live.id)
        index = self._index

        def mark_running(job: QueuedJob) -> None:
            op = job.ops[index]
            if op.status == constants.JOB_STATUS_WAITING:
                op.status = constants.JOB_STATUS_RUNNING
            op.exec_timestamp = now_timestamp()

        self._queue.update(self._live, mark_running)

    def check_cancel(self) -> bool:
        return self._live.cancel_event.is_set()

    def set_cancelable(self, cancelable: bool) -> None:
        self._live.cancelable = cancelable

    def wait_cancel(self, timeout: float) -> bool:
        return self._live.cancel_event.wait(timeout)

    def submit_jobs(self, jobs: list[list[dict[str, Any]]]) -> list[list[Any]]:
        return self._queue.submit_many_jobs(jobs)


def run_job(queue: JobQueue, live: LiveJob) -> None:
    """Run the job's unfinished opcodes (the worker holds the job)."""
    from ganeti.jqueue import queue as queue_module

    job = live.job
    processor = mcpu.Processor(queue.context, job.id)
    for index, qop in enumerate(job.ops):
        if qop.status in constants.JOBS_FINALIZED:
            continue
        if live.cancel_event.is_set():
            _end_job(queue, live, index, constants.JOB_STATUS_CANCELED,
                     queue_module.CANCELED_BY_REQUEST)
            return
        verdict, reason = queue.check_dependencies(live, index)
        if verdict == queue_module.DEP_WAIT:
            queue.update(live, functools.partial(_mark_waiting, index=index))
            return
        if verdict == queue_module.DEP_CANCEL:
            _end_job(queue, live, index, constants.JOB_STATUS_CANCELED, reason)
            return
        if verdict == queue_module.DEP_ERROR:
            _end_job(queue, live, index, constants.JOB_STATUS_ERROR,
                     errors.encode(errors.OpExecError(reason)))
            return
        queue.update(live, functools.partial(_mark_waiting, index=index), write=False)
        op = live.opcodes[index]
        try:
            if op is None:  # recovered from disk after a restart
                op = opcodes.from_dict(qop.input)
            processor.callbacks = _OpCallbacks(queue, live, index)
            result = processor.execute_opcode(
                op, lambda *args, i=index: queue.feedback(live, i, *args), qop.priority)
            serializer.dump_bytes(result)  # a result the job file can't hold is a bug
        except mcpu.JobCanceled:
            _end_job(queue, live, index, constants.JOB_STATUS_CANCELED,
                     queue_module.CANCELED_BY_REQUEST)
            return
        except Exception as err:
            if not isinstance(err, errors.GenericError):
                logging.exception("Job %d, opcode %d (%s) failed unexpectedly", job.id,
                                  index, qop.op_id)
            else:
                logging.info("Job %d, opcode %d (%s) failed: %s", job.id, index, qop.op_id,
                             err)
            _end_job(queue, live, index, constants.JOB_STATUS_ERROR, errors.encode(err))
            return
        last = index == len(job.ops) - 1

        def record_success(j: QueuedJob, i: int = index, value: Any = result) -> None:
            op_state = j.ops[i]
            op_state.status = constants.JOB_STATUS_SUCCESS
            op_state.result = value
            op_state.end_timestamp = now_timestamp()
            if i == len(j.ops) - 1:
                j.end_timestamp = op_state.end_timestamp

        if last:  # written durably, and only then shown, by finish()
            queue.finish(live, record_success)
            return
        queue.update(live, record_success)


def _mark_waiting(job: QueuedJob, index: int) -> None:
    op = job.ops[index]
    op.status = constants.JOB_STATUS_WAITING
    if op.start_timestamp is None:
        op.start_timestamp = now_timestamp()
    if job.start_timestamp is None:
        job.start_timestamp = op.start_timestamp


def _end_job(queue: JobQueue, live: LiveJob, index: int, status: str, result: Any) -> None:
    """Opcode ``index`` ends with ``status``; the later ones follow it."""

    def apply(job: QueuedJob) -> None:
        stamp = now_timestamp()
        failed = job.ops[index]
        failed.status = status
        failed.result = result
        failed.end_timestamp = stamp
        later = result
        if status == constants.JOB_STATUS_ERROR:
            later = errors.encode(errors.OpExecError(PRECEDING_OPCODE_FAILED))
        job.finalize_remaining(status, later)

    queue.finish(live, apply)


def _fail_job(queue: JobQueue, live: LiveJob, result: Any) -> None:
    try:
        queue.finish(live, lambda job: job.finalize_remaining(constants.JOB_STATUS_ERROR,
                                                              result))
    except Exception:
        logging.exception("Job %d: could not record the failure", live.id)
