"""The job queue on disk: job files, the id serial, the archive, the drain flag.

Every job file is replaced atomically (temporary file, rename), so a crash
of the master leaves the old or the new version, never a torn one. Writes
that must survive a power loss as well (a job's submission, before its id
is acknowledged, and its end) are made durable with a group commit: the
writes of all threads that arrive while one flush is under way go to disk
together, with one filesystem sync for the whole group instead of one
fsync per file.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ganeti import errors, pathutils, serializer
from ganeti.jqueue.job import QueuedJob
from ganeti.utils import io

JOB_FILE_MODE = 0o640
QUEUE_VERSION = 1


@dataclass
class _Write:
    path: str
    data: bytes
    durable: bool
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class GroupCommitter:
    """Writes files atomically; durable writes share one sync per group.

    A thread that finds no flush under way takes everything queued so far
    and flushes it; threads arriving meanwhile queue up and the next one to
    wake leads the following group. Nobody flushes for others forever.
    """

    def __init__(self, directory: str) -> None:
        self._directory = directory
        self._cond = threading.Condition()
        self._pending: list[_Write] = []
        self._flushing = False
        self.flushes = 0  # for benchmarks: how many groups were written

    def write(self, path: str, data: bytes, durable: bool) -> None:
        self.write_many([(path, data)], durable)

    def write_many(self, files: list[tuple[str, bytes]], durable: bool) -> None:
        """Write several files in one group (one sync for all when durable)."""
        self.wait(self.enqueue(files, durable))

    def enqueue(self, files: list[tuple[str, bytes]], durable: bool) -> list[_Write]:
        """Queue writes without waiting; writes go out in the order queued.

        A caller may queue under its own lock (to fix the order of writes of
        one file) and ``wait`` after releasing it, so its wait is shared.
        """
        entries = [_Write(path, data, durable) for path, data in files]
        with self._cond:
            self._pending.extend(entries)
        return entries

    def wait(self, entries: list[_Write]) -> None:
        """Wait until queued writes are done (leading a flush if none is under way)."""
        if not entries:
            return
        last = entries[-1]
        with self._cond:
            while not last.done.is_set() and self._flushing:
                self._cond.wait()
            if not last.done.is_set():
                self._flushing = True
                batch, self._pending = self._pending, []
            else:
                batch = []
        if batch:
            try:
                self._flush(batch)
            finally:
                with self._cond:
                    self._flushing = False
                    self._cond.notify_all()
        for entry in entries:
            if entry.error is not None:
                raise entry.error

    def _flush(self, batch: list[_Write]) -> None:
        # Later writes of the same file win; earlier ones are simply done.
        latest: dict[str, _Write] = {}
        for entry in batch:
            latest[entry.path] = entry
        durable = any(e.durable for e in batch)
        try:
            io.write_files_atomic([(e.path, e.data) for e in latest.values()],
                                  mode=JOB_FILE_MODE, durable=durable)
            self.flushes += 1
        except OSError as err:
            failure = errors.JobQueueError("Writing the job queue failed: %s" % err)
            for entry in batch:
                entry.error = failure
        for entry in batch:
            entry.done.set()


class JobStorage:
    """Job files, serial and archive of one node's queue directory."""

    def __init__(self, paths: pathutils.Paths | None = None) -> None:
        self.paths = paths or pathutils.current()
        self._serial_lock = threading.Lock()
        self._last_serial: int | None = None
        self._committer = GroupCommitter(self.paths.queue_dir)

    def ensure_dirs(self) -> None:
        io.ensure_dirs([(self.paths.queue_dir, 0o700), (self.paths.queue_archive_dir, 0o700)])
        for name in os.listdir(self.paths.queue_dir):
            if ".tmp" in name:  # left by a crash in the middle of a write
                os.unlink(os.path.join(self.paths.queue_dir, name))
        if not os.path.exists(self.paths.queue_version_file):
            io.write_file_atomic(self.paths.queue_version_file, "%d\n" % QUEUE_VERSION)

    # -- ids ------------------------------------------------------------------------

    def _read_serial(self) -> int:
        try:
            text = io.read_file(self.paths.queue_serial_file).strip()
        except FileNotFoundError:
            return 0
        if not text.isdigit():
            raise errors.JobQueueError("Queue serial file %s is corrupt: %r"
                                       % (self.paths.queue_serial_file, text))
        return int(text)

    def _take_ids(self, count: int) -> tuple[list[int], bytes]:
        """Reserve ids in memory (caller holds _serial_lock); the new serial file."""
        if self._last_serial is None:
            self._last_serial = max([self._read_serial(), *self.job_ids_on_disk()], default=0)
        first = self._last_serial + 1
        self._last_serial += count
        return list(range(first, first + count)), b"%d\n" % self._last_serial

    def allocate_ids(self, count: int) -> list[int]:
        """Reserve ``count`` new job ids; the serial file is durable on return."""
        with self._serial_lock:
            ids, serial = self._take_ids(count)
            # Queued under the lock so that serial values reach the file in
            # order; waited for outside it so that concurrent callers share
            # one sync.
            pending = self._committer.enqueue([(self.paths.queue_serial_file, serial)],
                                              durable=True)
        self._committer.wait(pending)
        return ids

    def create_jobs(self, count: int,
                    build: Callable[[list[int]], list[tuple[int, bytes]]]) -> list[int]:
        """Reserve ``count`` ids and durably write the jobs ``build(ids)`` returns
        (``[(id, file data)]``, possibly fewer), with the serial file, in one sync.

        ``build`` runs under the id lock: keep it short (no I/O).
        """
        with self._serial_lock:
            ids, serial = self._take_ids(count)
            items = build(ids)
            pending = self._committer.enqueue(
                [(self.paths.queue_serial_file, serial)]
                + [(self.paths.job_file(job_id), data) for job_id, data in items],
                durable=True)
        self._committer.wait(pending)
        return ids

    # -- job files --------------------------------------------------------------------

    def write_job(self, job: QueuedJob, durable: bool = False) -> bytes:
        """Replace the job's file; returns the bytes written (for replication)."""
        data = serializer.dump_bytes(job.to_dict())
        self._committer.write(self.paths.job_file(job.id), data, durable)
        return data

    def write_job_data(self, items: list[tuple[int, bytes]], durable: bool = False) -> None:
        """Replace job files with already serialized data, in one group.

        For callers that serialize under their own lock and write outside it.
        """
        self._committer.write_many([(self.paths.job_file(job_id), data)
                                    for job_id, data in items], durable)

    def read_job(self, job_id: int, archived: bool = True) -> QueuedJob | None:
        candidates = [self.paths.job_file(job_id)]
        if archived:
            candidates.append(self.paths.archived_job_file(job_id))
        for path in candidates:
            try:
                text = io.read_file(path)
            except FileNotFoundError:
                continue
            try:
                return QueuedJob.from_dict(serializer.load(text))
            except (ValueError, errors.JobFileCorrupted) as err:
                raise errors.JobFileCorrupted("Job file %s is corrupt: %s" % (path, err)) \
                    from err
        return None

    def job_ids_on_disk(self) -> list[int]:
        ids = []
        try:
            names = os.listdir(self.paths.queue_dir)
        except FileNotFoundError:
            return []
        for name in names:
            if name.startswith("job-") and name[4:].isdigit():
                ids.append(int(name[4:]))
        return sorted(ids)

    def load_all(self) -> tuple[list[QueuedJob], list[str]]:
        """Every live job on disk, plus a description of each unreadable file."""
        jobs, problems = [], []
        for job_id in self.job_ids_on_disk():
            try:
                job = self.read_job(job_id, archived=False)
            except errors.JobFileCorrupted as err:
                problems.append(str(err))
                continue
            if job is not None:
                jobs.append(job)
        return jobs, problems

    def archive_jobs(self, jobs: Iterable[QueuedJob]) -> int:
        """Move finished jobs' files into the archive; returns how many moved."""
        moved = 0
        for job in jobs:
            if not job.is_finalized():
                raise errors.JobQueueError("Job %d is not finished and cannot be archived"
                                           % job.id)
            target = self.paths.archived_job_file(job.id)
            os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
            try:
                os.rename(self.paths.job_file(job.id), target)
            except FileNotFoundError:
                continue
            moved += 1
        if moved:
            io.fsync_dir(self.paths.queue_dir)
        return moved

    # -- drain flag ----------------------------------------------------------------

    def is_drained(self) -> bool:
        return os.path.exists(self.paths.queue_drain_file)

    def set_drained(self, drained: bool) -> None:
        if drained:
            io.write_file_atomic(self.paths.queue_drain_file, "")
        elif os.path.exists(self.paths.queue_drain_file):
            os.unlink(self.paths.queue_drain_file)
            io.fsync_dir(self.paths.queue_dir)
