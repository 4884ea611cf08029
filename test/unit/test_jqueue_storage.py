"""The job model and the on-disk queue (ids, files, group commit, archive)."""

import json
import os
import threading

import pytest

from ganeti import constants, errors, pathutils
from ganeti.jqueue import job as jobmod
from ganeti.jqueue.storage import JobStorage

DELAY = {"OP_ID": "OP_TEST_DELAY", "duration": 0}


def _job(statuses):
    job = jobmod.QueuedJob.new(1, [dict(DELAY) for _ in statuses])
    for op, status in zip(job.ops, statuses):
        op.status = status
    return job


@pytest.mark.parametrize("statuses, expected", [
    (["queued", "queued"], "queued"),
    (["success", "queued"], "queued"),
    (["success", "waiting"], "waiting"),
    (["success", "running", "queued"], "running"),
    (["success", "success"], "success"),
    (["success", "error", "error"], "error"),
    (["canceling", "queued"], "canceling"),
    (["success", "canceled"], "canceled"),
    (["error", "canceled"], "error"),
])
def test_job_status_follows_ganeti_rule(statuses, expected):
    assert _job(statuses).calc_status() == expected


def test_job_round_trip_and_log_serials():
    job = jobmod.QueuedJob.new(7, [dict(DELAY, priority=-10), dict(DELAY)])
    assert job.calc_priority() == -10
    assert job.add_log(job.ops[0], "first") == 1
    assert job.add_log(job.ops[1], ["a", "b"], jobmod.ELOG_MESSAGE_LIST) == 2
    data = json.loads(json.dumps(job.to_dict()))
    again = jobmod.QueuedJob.from_dict(data)
    assert again.to_dict() == job.to_dict()
    assert again.log_serial == 2
    assert [e[0] for e in again.log_entries_since(1)] == [2]
    assert set(data) == {"id", "ops", "received_timestamp", "start_timestamp", "end_timestamp"}
    assert set(data["ops"][0]) == {"input", "status", "result", "log", "start_timestamp",
                                   "exec_timestamp", "end_timestamp", "priority"}


def test_finalize_remaining_and_fields():
    job = _job(["success", "running", "queued"])
    job.finalize_remaining(constants.JOB_STATUS_ERROR, "master restarted")
    assert [op.status for op in job.ops] == ["success", "error", "error"]
    assert job.get_field("status") == "error"
    assert job.get_field("summary") == ["TEST_DELAY(0)"] * 3
    with pytest.raises(errors.OpPrereqError, match="Unknown job field 'bogus'"):
        job.get_field("bogus")


def test_bad_job_data_is_reported():
    with pytest.raises(errors.JobFileCorrupted):
        jobmod.QueuedJob.from_dict({"id": 1})
    with pytest.raises(errors.OpPrereqError):
        jobmod.QueuedJob.new(1, [])


@pytest.fixture
def storage(tmp_path):
    store = JobStorage(pathutils.for_root(str(tmp_path)))
    store.ensure_dirs()
    return store


def test_ids_are_persistent_and_never_reused(storage, tmp_path):
    assert storage.allocate_ids(3) == [1, 2, 3]
    again = JobStorage(pathutils.for_root(str(tmp_path)))
    assert again.allocate_ids(1) == [4]
    # a job file newer than the serial (crash between the two) is respected
    job = jobmod.QueuedJob.new(10, [DELAY])
    again.write_job(job, durable=True)
    third = JobStorage(pathutils.for_root(str(tmp_path)))
    os.unlink(third.paths.queue_serial_file)
    assert third.allocate_ids(1) == [11]


def test_write_read_and_load_all(storage):
    ids = storage.allocate_ids(2)
    for job_id in ids:
        storage.write_job(jobmod.QueuedJob.new(job_id, [DELAY]), durable=True)
    assert storage.job_ids_on_disk() == ids
    assert storage.read_job(ids[0]).ops[0].input == DELAY
    assert storage.read_job(999) is None
    with open(storage.paths.job_file(5), "w") as handle:
        handle.write("{torn")
    jobs, problems = storage.load_all()
    assert [j.id for j in jobs] == ids
    assert len(problems) == 1 and "job-5" in problems[0]


def test_concurrent_durable_writes_are_grouped(storage):
    ids = storage.allocate_ids(40)
    before = storage._committer.flushes
    barrier = threading.Barrier(len(ids))

    def submit(job_id):
        barrier.wait()
        storage.write_job(jobmod.QueuedJob.new(job_id, [DELAY]), durable=True)

    threads = [threading.Thread(target=submit, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert storage.job_ids_on_disk() == ids
    for job_id in ids:
        assert storage.read_job(job_id).id == job_id
    # fewer flushes than writes: the group commit did group
    assert storage._committer.flushes - before < len(ids)
    assert not [n for n in os.listdir(storage.paths.queue_dir) if ".tmp" in n]


def test_archive_only_finished_jobs(storage):
    done, running = storage.allocate_ids(2)
    finished = jobmod.QueuedJob.new(done, [DELAY])
    finished.finalize_remaining(constants.JOB_STATUS_SUCCESS, None)
    storage.write_job(finished)
    live = jobmod.QueuedJob.new(running, [DELAY])
    storage.write_job(live)
    with pytest.raises(errors.JobQueueError, match="not finished"):
        storage.archive_jobs([live])
    assert storage.archive_jobs([finished]) == 1
    assert os.path.exists(storage.paths.archived_job_file(done))
    assert storage.job_ids_on_disk() == [running]
    assert storage.read_job(done).calc_status() == "success"
    assert storage.read_job(done, archived=False) is None


def test_drain_flag_and_temp_cleanup(storage):
    assert not storage.is_drained()
    storage.set_drained(True)
    assert storage.is_drained()
    storage.set_drained(False)
    assert not storage.is_drained()
    leftover = storage.paths.job_file(3) + ".tmp99"
    open(leftover, "w").close()
    storage.ensure_dirs()
    assert not os.path.exists(leftover)


def test_write_failure_is_reported_and_leaves_no_temp(storage, monkeypatch):
    job = jobmod.QueuedJob.new(storage.allocate_ids(1)[0], [DELAY])

    def failing_rename(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "rename", failing_rename)
    with pytest.raises(errors.JobQueueError, match="Writing the job queue failed"):
        storage.write_job(job, durable=True)
    monkeypatch.undo()
    assert storage.job_ids_on_disk() == []
    assert not [n for n in os.listdir(storage.paths.queue_dir) if ".tmp" in n]
    # the queue keeps working afterwards
    storage.write_job(job, durable=True)
    assert storage.job_ids_on_disk() == [job.id]
