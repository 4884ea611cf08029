"""Replication of the job queue to the other master candidates.

Job file writes and archive renames are handed to one background thread,
so they never slow the submit path. Several writes of the same file that
pile up while a round is under way collapse into the newest; the files of
a round go in one ``jobqueue_update_many`` call per candidate (one disk
sync there), and updates go out before renames queued after them. A candidate that can't be reached
only costs a warning in the log: the queue on the master stays the truth.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ganeti.rpc import encoding
from ganeti.rpc.client import NodeAddress, RpcClient, RpcResult

#: Returns the nodes to replicate to (evaluated at every round).
TargetsFn = Callable[[], list[NodeAddress]]


class QueueReplicator:
    """Sends ``jobqueue_update_many`` / ``jobqueue_rename`` to the other candidates."""

    def __init__(self, rpc: RpcClient | None, targets: TargetsFn) -> None:
        self._rpc = rpc
        self._targets = targets
        self._cond = threading.Condition()
        self._updates: dict[str, bytes] = {}
        self._renames: list[list[str]] = []
        self._calls: list[tuple[str, list[object]]] = []
        self._busy = False
        self._stopping = False
        # Every queued change gets a sequence number; _sent is the highest one a
        # finished round covered, so a caller can wait for its own change.
        self._seq = 0
        self._sent = 0
        self._thread: threading.Thread | None = None
        self.rounds = 0  # for tests and benchmarks

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="jqueue-replication",
                                            daemon=True)
            self._thread.start()

    def update(self, file_name: str, data: bytes) -> int:
        """Queue the new content of a file (relative to the queue directory);
        returns the change's sequence number (see wait_sent)."""
        with self._cond:
            self._updates[file_name] = data
            self._seq += 1
            self._cond.notify()
            return self._seq

    def rename(self, renames: list[list[str]]) -> None:
        """Queue [old, new] renames (relative to the queue directory)."""
        if not renames:
            return
        with self._cond:
            self._renames.extend(renames)
            self._seq += 1
            self._cond.notify()

    def call(self, procedure: str, args: list[object]) -> None:
        """Queue another queue procedure (e.g. jobqueue_set_drain_flag), sent in order."""
        with self._cond:
            self._calls.append((procedure, args))
            self._seq += 1
            self._cond.notify()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far was sent; False on timeout."""
        with self._cond:
            return self._cond.wait_for(
                lambda: not (self._updates or self._renames or self._calls or self._busy), timeout)

    def wait_sent(self, seq: int, timeout: float) -> bool:
        """Wait until the change numbered ``seq`` reached the candidates (or
        replication is not running); False when ``timeout`` ran out first."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self._sent >= seq or self._thread is None or self._stopping, timeout)

    def stop(self, timeout: float = 10.0) -> None:
        self.flush(timeout)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._updates or self._renames or self._calls
                                                 or self._stopping))
                if self._stopping:
                    return
                updates, self._updates = self._updates, {}
                renames, self._renames = self._renames, []
                calls, self._calls = self._calls, []
                batch_seq = self._seq
                self._busy = True
            try:
                self._send(updates, renames, calls)
            except Exception:
                logging.exception("Job queue replication failed")
            finally:
                with self._cond:
                    self._busy = False
                    self._sent = max(self._sent, batch_seq)
                    self.rounds += 1
                    self._cond.notify_all()

    def _send(self, updates: dict[str, bytes], renames: list[list[str]],
              calls: list[tuple[str, list[object]]]) -> None:
        targets = self._targets()
        if not targets or self._rpc is None:
            return
        for chunk in _chunks(updates):
            what = str(chunk[0][0]) if len(chunk) == 1 else "%d files" % len(chunk)
            self._report(self._rpc.call("jobqueue_update_many", targets, [chunk]), what)
        if renames:
            self._report(self._rpc.call("jobqueue_rename", targets, [renames]), "renames")
        for procedure, args in calls:
            self._report(self._rpc.call(procedure, targets, args), procedure)

    @staticmethod
    def _report(results: dict[str, RpcResult], what: str) -> None:
        for node, result in results.items():
            if not result.success:
                logging.warning("Replicating job queue %s to %s failed: %s", what, node,
                                result.error)


#: Most content bytes per jobqueue_update_many call.
CHUNK_BYTES = 4 * 1024 * 1024


def _chunks(updates: dict[str, bytes]) -> list[list[list[object]]]:
    """The round's updates as [[name, encoded content], …] lists of bounded size."""
    chunks: list[list[list[object]]] = []
    current: list[list[object]] = []
    size = 0
    for file_name, data in updates.items():
        if current and size + len(data) > CHUNK_BYTES:
            chunks.append(current)
            current, size = [], 0
        current.append([file_name, encoding.encode(data)])
        size += len(data)
    if current:
        chunks.append(current)
    return chunks
