"""The job queue: scheduling, dependencies, cancel, priorities, drain, archive,
waiting for changes, crash recovery, follow-up jobs and secrets in job files.

Each test runs an in-process queue (real config, lock manager, processor
and job files in a temporary root). To hold jobs back deterministically, a
test takes the Big Ganeti Lock exclusively itself: jobs then wait for it.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator

import master_testlib as mt
import pytest

from ganeti import constants, errors, locking
from ganeti.jqueue import job as jobmod
from ganeti.jqueue.queue import JOB_NOTCHANGED, JobQueue
from ganeti.jqueue.storage import JobStorage

HOLDER = "test-holder"


@pytest.fixture
def queue(tmp_path) -> Iterator[JobQueue]:
    q = mt.make_queue(str(tmp_path), workers=1)
    yield q
    q.shutdown(5)


class _BglHeld:
    """Hold the BGL exclusively so that every job waits for it."""

    def __init__(self, q: JobQueue) -> None:
        self.glm = q.context.glm

    def __enter__(self) -> _BglHeld:
        assert self.glm.acquire(HOLDER, locking.LEVEL_CLUSTER, [locking.BGL], timeout=5)
        return self

    def release(self) -> None:
        if self.glm.is_owned(HOLDER, locking.LEVEL_CLUSTER):
            self.glm.release(HOLDER, locking.LEVEL_CLUSTER)

    def __exit__(self, *exc: object) -> None:
        self.release()


def _field(q: JobQueue, job_id: int, name: str):
    row = q.query_jobs([job_id], [name])[0]
    assert row is not None, "job %d unknown" % job_id
    return row[0]


def _start_time(q: JobQueue, job_id: int) -> float:
    stamp = _field(q, job_id, "start_ts")
    return stamp[0] + stamp[1] / 1e6


def _read_job_file(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


# -- submission, results, logs -----------------------------------------------------------

def test_job_runs_and_records_result_log_and_timestamps(queue):
    job_id = queue.submit_job([mt.dummy({"answer": 42}, messages=["first", "second"])])
    assert os.path.exists(mt.job_file(queue, job_id))  # durable before the id came back
    assert mt.wait_done(queue, job_id) == constants.JOB_STATUS_SUCCESS
    status, result, log, start, exec_ts, end = queue.query_jobs(
        [job_id], ["status", "opresult", "oplog", "opstart", "opexec", "opend"])[0]
    assert status == "success" and result == [{"answer": 42}]
    assert [(entry[0], entry[2], entry[3]) for entry in log[0]] == [
        (1, "message", "first"), (2, "message", "second")]
    assert start[0] <= exec_ts[0] <= end[0]
    on_disk = _read_job_file(mt.job_file(queue, job_id))
    assert on_disk["ops"][0]["status"] == "success"
    assert on_disk["ops"][0]["result"] == {"answer": 42}


def test_failing_opcode_fails_the_rest_of_the_job(queue):
    job_id = queue.submit_job([mt.dummy(1), mt.dummy(fail=True), mt.dummy(3)])
    assert mt.wait_done(queue, job_id) == constants.JOB_STATUS_ERROR
    statuses, results = queue.query_jobs([job_id], ["opstatus", "opresult"])[0]
    assert statuses == ["success", "error", "error"]
    assert results[0] == 1
    assert results[1] == ["OpExecError", ["OpTestDummy failed as requested"]]
    assert errors.decode(results[2]).args[0] == "Preceding opcode failed"


def test_bad_submissions_are_refused_with_the_reason(queue):
    with pytest.raises(errors.OpPrereqError, match=r"Opcode 0 of the job.*duration"):
        queue.submit_job([{"OP_ID": "OP_TEST_DELAY", "duration": "soon"}])
    with pytest.raises(errors.OpPrereqError, match="non-empty list"):
        queue.submit_job([])
    with pytest.raises(errors.OpCodeUnknown):
        queue.submit_job([{"OP_ID": "OP_NO_SUCH_THING"}])
    with pytest.raises(errors.OpPrereqError, match="only allowed in SubmitManyJobs"):
        queue.submit_job([mt.dummy(depends=[[-1, []]])])
    results = queue.submit_many_jobs([[mt.dummy(1)], [{"OP_ID": "OP_TEST_DELAY"}]])
    assert results[0][0] is True
    assert results[1][0] is False and "Job 1 of the submission" in results[1][1]
    assert "duration" in results[1][1]
    assert queue.job_count() == 1
    with pytest.raises(errors.OpPrereqError, match="Unknown job field"):
        queue.query_jobs(None, ["status", "bogus"])


def test_job_ids_may_be_digit_strings_and_bad_ids_are_refused(queue):
    first = queue.submit_job([mt.dummy(1)])
    second = queue.submit_job([mt.dummy(2, depends=[[str(first), ["success"]]])])
    assert mt.wait_done(queue, second) == "success"
    assert _field(queue, second, "ops")[0]["depends"] == [[first, ["success"]]]
    assert queue.query_jobs([str(first), 999], ["id"]) == [[first], None]
    for bad in ("abc", -1, None, True):
        with pytest.raises(errors.OpPrereqError, match="Invalid job id"):
            queue.query_jobs([bad], ["id"])
    with pytest.raises(errors.OpPrereqError, match="Invalid job id"):
        queue.cancel_job("x1")
    with pytest.raises(errors.OpPrereqError, match="timeout must be a number"):
        queue.wait_for_job_change(first, ["status"], None, None, "soon")


def test_unsupported_opcode_fails_its_job_clearly(queue):
    job_id = queue.submit_job([{"OP_ID": "OP_NODE_POWERCYCLE", "node_name": "node1",
                                "force": True}])
    assert mt.wait_done(queue, job_id) == constants.JOB_STATUS_ERROR
    error = errors.decode(_field(queue, job_id, "opresult")[0])
    assert isinstance(error, errors.OpPrereqError)
    assert "OP_NODE_POWERCYCLE is not supported" in error.args[0]


def test_queue_size_limit(tmp_path):
    q = mt.make_queue(str(tmp_path), workers=1, max_jobs=2)
    try:
        q.submit_job([mt.dummy(1)])
        q.submit_job([mt.dummy(2)])
        with pytest.raises(errors.JobQueueFull, match="limit is 2"):
            q.submit_job([mt.dummy(3)])
    finally:
        q.shutdown(5)


def test_secret_parameters_are_redacted_in_job_files(queue):
    job_id = queue.submit_job([{"OP_ID": "OP_TEST_OS_PARAMS",
                                "osparams_secret": {"password": "hunter2"}}])
    mt.wait_done(queue, job_id)
    with open(mt.job_file(queue, job_id), encoding="utf-8") as handle:
        text = handle.read()
    assert "hunter2" not in text
    assert json.loads(text)["ops"][0]["input"]["osparams_secret"] == {
        "password": jobmod.REDACTED}
    assert "hunter2" not in json.dumps(queue.query_jobs([job_id], ["ops"]))


# -- scheduling ----------------------------------------------------------------------

def test_higher_priority_jobs_run_first(queue):
    with _BglHeld(queue) as bgl:
        first = queue.submit_job([mt.dummy(0)])
        mt.wait_status(queue, first, {constants.JOB_STATUS_WAITING})  # taken by the worker
        low = queue.submit_job([mt.dummy(1, priority=constants.OP_PRIO_LOW)])
        normal = queue.submit_job([mt.dummy(2)])
        high = queue.submit_job([mt.dummy(3, priority=constants.OP_PRIO_HIGH)])
        highest = queue.submit_job([mt.dummy(4, priority=constants.OP_PRIO_HIGHEST)])
        bgl.release()
        for job_id in (first, low, normal, high, highest):
            assert mt.wait_done(queue, job_id) == "success"
    order = sorted([low, normal, high, highest], key=lambda j: _start_time(queue, j))
    assert order == [highest, high, normal, low]


def test_change_priority_reorders_queued_jobs(queue):
    with _BglHeld(queue) as bgl:
        first = queue.submit_job([mt.dummy(0)])
        mt.wait_status(queue, first, {constants.JOB_STATUS_WAITING})
        a = queue.submit_job([mt.dummy(1)])
        b = queue.submit_job([mt.dummy(2)])
        ok, message = queue.change_job_priority(b, constants.OP_PRIO_HIGH)
        assert ok and "changed to -10" in message
        assert _field(queue, b, "priority") == constants.OP_PRIO_HIGH
        with pytest.raises(errors.OpPrereqError, match="from -20"):
            queue.change_job_priority(a, 20)
        bgl.release()
        for job_id in (first, a, b):
            mt.wait_done(queue, job_id)
    assert _start_time(queue, b) < _start_time(queue, a)
    assert queue.change_job_priority(a, 0)[0] is False  # finished
    assert queue.change_job_priority(12345, 0) == [False, "Job 12345 not found"]


# -- dependencies ----------------------------------------------------------------------

def test_dependency_waits_then_runs_after_success(queue, tmp_path):
    q = mt.make_queue(str(tmp_path / "many"), workers=3)
    try:
        with _BglHeld(q) as bgl:
            dep = q.submit_job([mt.dummy(0)])
            child = q.submit_job([mt.dummy(1, depends=[[dep, ["success"]]])])
            assert mt.wait_status(q, child, {constants.JOB_STATUS_WAITING}) == "waiting"
            bgl.release()
            assert mt.wait_done(q, child) == "success"
        dep_end = _field(q, dep, "end_ts")
        child_exec = _field(q, child, "opexec")[0]
        assert tuple(dep_end) <= tuple(child_exec)
    finally:
        q.shutdown(5)


def test_dependency_on_failed_job_fails_unless_error_accepted(queue):
    failed = queue.submit_job([mt.dummy(fail=True)])
    mt.wait_done(queue, failed)
    needs_success = queue.submit_job([mt.dummy(1, depends=[[failed, ["success"]]])])
    accepts_error = queue.submit_job([mt.dummy(2, depends=[[failed, ["error", "success"]]])])
    assert mt.wait_done(queue, needs_success) == "error"
    message = errors.decode(_field(queue, needs_success, "opresult")[0]).args[0]
    assert "Dependency job %d finished with status 'error'" % failed in message
    assert mt.wait_done(queue, accepts_error) == "success"


def test_dependency_on_unknown_job_fails(queue):
    job_id = queue.submit_job([mt.dummy(1, depends=[[9999, []]])])
    assert mt.wait_done(queue, job_id) == "error"
    assert "Dependency job 9999 not found" in str(_field(queue, job_id, "opresult"))


def test_dependency_on_canceled_job_cancels_unless_canceled_listed(queue):
    with _BglHeld(queue):
        blocker = queue.submit_job([mt.dummy(0)])
        mt.wait_status(queue, blocker, {constants.JOB_STATUS_WAITING})
        victim = queue.submit_job([mt.dummy(1)])
        assert queue.cancel_job(victim) == [True, "Job %d canceled" % victim]
    mt.wait_done(queue, blocker)
    any_final = queue.submit_job([mt.dummy(2, depends=[[victim, []]])])
    wants_canceled = queue.submit_job([mt.dummy(3, depends=[[victim, ["canceled"]]])])
    assert mt.wait_done(queue, any_final) == "canceled"
    assert mt.wait_done(queue, wants_canceled) == "success"


def test_relative_dependencies_in_submit_many(queue):
    results = queue.submit_many_jobs([
        [mt.dummy(1)],
        [mt.dummy(2, depends=[[-1, ["success"]]])],
        [mt.dummy(3, depends=[[-5, []]])],
    ])
    assert [ok for ok, _ in results] == [True, True, False]
    first, second = results[0][1], results[1][1]
    assert "points before the first job" in results[2][1]
    assert mt.wait_done(queue, second) == "success"
    depends = _field(queue, second, "ops")[0]["depends"]
    assert depends == [[first, ["success"]]]  # stored with the real id


# -- cancel ---------------------------------------------------------------------------

def test_cancel_queued_and_lock_waiting_jobs(queue):
    with _BglHeld(queue):
        waiting = queue.submit_job([mt.dummy(0), mt.dummy(1)])
        mt.wait_status(queue, waiting, {constants.JOB_STATUS_WAITING})
        queued = queue.submit_job([mt.dummy(2)])
        assert queue.cancel_job(queued) == [True, "Job %d canceled" % queued]
        assert _field(queue, queued, "status") == "canceled"
        ok, message = queue.cancel_job(waiting)
        assert ok and "will be canceled" in message
        # The job gives up waiting for the lock although the lock stays held.
        assert mt.wait_done(queue, waiting) == "canceled"
    assert _field(queue, waiting, "opstatus") == ["canceled", "canceled"]
    assert queue.cancel_job(waiting)[0] is False
    assert queue.cancel_job(424242) == [False, "Job 424242 not found"]
    on_disk = _read_job_file(mt.job_file(queue, queued))
    assert on_disk["ops"][0]["status"] == "canceled"


def test_cancel_running_delay_on_master(queue):
    job_id = queue.submit_job([mt.delay(60)])
    mt.wait_status(queue, job_id, {constants.JOB_STATUS_RUNNING})
    ok, _ = queue.cancel_job(job_id)
    assert ok
    assert mt.wait_done(queue, job_id) == "canceled"


# -- waiting for changes ----------------------------------------------------------------

def test_wait_for_job_change_times_out_then_wakes_on_change(queue):
    with _BglHeld(queue) as bgl:
        job_id = queue.submit_job([mt.dummy(7, messages=["hi"])])
        mt.wait_status(queue, job_id, {constants.JOB_STATUS_WAITING})
        info = queue.query_jobs([job_id], ["status"])[0]
        assert queue.wait_for_job_change(job_id, ["status"], info, None, 0.2) == JOB_NOTCHANGED
        answers: list = []
        waiter = threading.Thread(target=lambda: answers.append(
            queue.wait_for_job_change(job_id, ["status"], info, None, 30)))
        waiter.start()
        bgl.release()
        waiter.join(30)
    assert answers and answers[0] != JOB_NOTCHANGED
    new_info, _ = answers[0]
    assert new_info != info
    mt.wait_done(queue, job_id)
    final = queue.wait_for_job_change(job_id, ["status"], ["success"], 0, 5)
    assert final[0] == ["success"]  # finished jobs answer at once
    assert [entry[3] for entry in final[1]] == ["hi"]
    with pytest.raises(errors.JobLost):
        queue.wait_for_job_change(999, ["status"], None, None, 1)


# -- drain and archive -------------------------------------------------------------------

def test_drain_flag_refuses_new_jobs(queue):
    queue.set_drain_flag(True)
    assert queue.is_drained()
    assert os.path.exists(queue.context.paths.queue_drain_file)
    with pytest.raises(errors.JobQueueDrainError, match="drained"):
        queue.submit_job([mt.dummy(1)])
    with pytest.raises(errors.JobQueueDrainError):
        queue.submit_many_jobs([[mt.dummy(1)]])
    job_id = queue.submit_job([mt.dummy(1)], to_drained=True)
    assert mt.wait_done(queue, job_id) == "success"
    queue.set_drain_flag(False)
    assert not queue.is_drained()
    assert mt.wait_done(queue, queue.submit_job([mt.dummy(2)])) == "success"


def test_archive_manual_and_by_age(queue):
    done = queue.submit_job([mt.dummy(1)])
    mt.wait_done(queue, done)
    with _BglHeld(queue):
        pending = queue.submit_job([mt.dummy(2)])
        assert queue.archive_job(pending) is False  # not finished
    mt.wait_done(queue, pending)
    assert queue.archive_job(done) is True
    paths = queue.context.paths
    assert not os.path.exists(paths.job_file(done))
    assert os.path.exists(paths.archived_job_file(done))
    assert queue.query_jobs([done], ["id", "status"]) == [[done, "success"]]
    assert queue.archive_job(done) is False
    assert queue.auto_archive_jobs(3600, 10) == [0, 0]  # too recent
    assert queue.auto_archive_jobs(-1, 10) == [1, 0]
    assert os.path.exists(paths.archived_job_file(pending))
    assert queue.job_count() == 0


def test_automatic_archiving_by_age(tmp_path):
    q = mt.make_queue(str(tmp_path), workers=1, auto_archive_age=0,
                      auto_archive_interval=0.05)
    try:
        job_id = q.submit_job([mt.dummy(1)])
        mt.wait_done(q, job_id)
        archived = q.context.paths.archived_job_file(job_id)
        waited = threading.Event()
        for _ in range(400):  # the housekeeper runs every 0.05 s
            if q.job_count() == 0:
                break
            waited.wait(0.05)
        assert q.job_count() == 0
        assert os.path.exists(archived)
    finally:
        q.shutdown(5)


# -- follow-up jobs ----------------------------------------------------------------------

def test_lu_follow_up_jobs_are_submitted(queue):
    job_id = queue.submit_job([mt.dummy(submit_jobs=[[mt.dummy("a")], [mt.dummy("b")]])])
    assert mt.wait_done(queue, job_id) == "success"
    result = _field(queue, job_id, "opresult")[0]
    submitted = result[constants.JOB_IDS_KEY]
    assert [ok for ok, _ in submitted] == [True, True]
    children = [child for _, child in submitted]
    assert all(child > job_id for child in children)
    assert [mt.wait_done(queue, child) for child in children] == ["success", "success"]
    assert [_field(queue, child, "opresult") for child in children] == [["a"], ["b"]]


# -- restart and shutdown ----------------------------------------------------------------

def _write_job(storage: JobStorage, job_id: int, statuses: list[str]) -> None:
    job = jobmod.QueuedJob.new(job_id, [mt.dummy(i) for i in range(len(statuses))])
    for op, status in zip(job.ops, statuses):
        op.status = status
    storage.write_job(job, durable=True)


def test_restart_recovers_jobs(tmp_path):
    context = mt.make_context(str(tmp_path))
    storage = JobStorage(context.paths)
    storage.ensure_dirs()
    assert storage.allocate_ids(5) == [1, 2, 3, 4, 5]
    _write_job(storage, 1, ["success", "running"])
    _write_job(storage, 2, ["queued"])
    _write_job(storage, 3, ["waiting"])
    _write_job(storage, 4, ["canceling", "queued"])
    _write_job(storage, 5, ["success"])
    q = JobQueue(context, worker_count=2)
    q.start()
    try:
        assert mt.wait_done(q, 2) == "success"
        for job_id in (1, 3, 4):
            assert _field(q, job_id, "status") == "error"
            on_disk = _read_job_file(context.paths.job_file(job_id))
            reason = errors.decode(on_disk["ops"][-1]["result"])
            assert "master daemon restarted" in reason.args[0]
            assert on_disk["ops"][-1]["status"] == "error"
        assert _field(q, 1, "opstatus") == ["success", "error"]
        assert _field(q, 5, "status") == "success"
        assert q.submit_job([mt.dummy(1)]) == 6  # ids continue after the old ones
    finally:
        q.shutdown(5)


def test_shutdown_marks_running_jobs_and_keeps_queued_ones(tmp_path):
    q = mt.make_queue(str(tmp_path), workers=1)
    running = q.submit_job([mt.delay(60)])
    mt.wait_status(q, running, {constants.JOB_STATUS_RUNNING})
    waiting = q.submit_job([mt.dummy(2, depends=[[running, ["error"]]])])
    queued = q.submit_job([mt.dummy(1)])
    # A second worker parks the dependent job; the single one is busy.
    second = threading.Thread(target=lambda: _run_one(q))
    second.start()
    mt.wait_status(q, waiting, {constants.JOB_STATUS_WAITING})
    second.join(10)
    # LUTestDelay can be canceled, but shutdown does not cancel: it waits, then gives up.
    q.shutdown(0.2)
    paths = q.context.paths
    running_file = _read_job_file(paths.job_file(running))
    assert running_file["ops"][0]["status"] == "error"
    assert "shut down" in errors.decode(running_file["ops"][0]["result"]).args[0]
    assert _read_job_file(paths.job_file(queued))["ops"][0]["status"] == "queued"
    assert _read_job_file(paths.job_file(waiting))["ops"][0]["status"] == "queued"
    with pytest.raises(errors.JobQueueError, match="not accepting"):
        q.submit_job([mt.dummy(2)])
    again = mt.reopen_queue(q, workers=1)
    try:
        assert mt.wait_done(again, queued) == "success"
        assert _field(again, running, "status") == "error"
        assert mt.wait_done(again, waiting) == "success"  # its dependency ended in error
    finally:
        again.shutdown(5)


def _run_one(q: JobQueue) -> None:
    """Act as one more worker for a single job (it gets parked)."""
    from ganeti.jqueue import execution

    live = q.next_job()
    assert live is not None
    try:
        execution.run_job(q, live)
    finally:
        q.release_job(live)
