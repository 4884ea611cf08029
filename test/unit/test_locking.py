"""Tests of the lock manager (ganeti.locking)."""

from __future__ import annotations

import functools
import pprint
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from ganeti import errors, locking
from ganeti.locking import (
    ALL_SET,
    BGL,
    LEVEL_CLUSTER,
    LEVEL_INSTANCE,
    LEVEL_NETWORK,
    LEVEL_NODE,
    LEVEL_NODE_RES,
    LEVEL_NODEGROUP,
    LockManager,
    LockSet,
    SharedLock,
)

# Generous guard against a hung test; never reached when the code is right.
STUCK_AFTER = 60.0


def wait_until(predicate: Callable[[], bool], what: str) -> None:
    """Waits for another thread to reach a state (a synchronisation, not a timing)."""
    deadline = time.monotonic() + STUCK_AFTER
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("never happened: %s" % what)
        time.sleep(0.001)


class Worker(threading.Thread):
    """Runs ``fn`` in a thread and keeps its result or exception."""

    def __init__(self, fn: Callable[[], Any], name: str | None = None) -> None:
        super().__init__(daemon=True, name=name)
        self.fn = fn
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.fn()
        except BaseException as err:
            self.error = err

    def finish(self) -> Any:
        self.join(STUCK_AFTER)
        assert not self.is_alive(), "worker %s is stuck" % self.name
        if self.error is not None:
            raise self.error
        return self.result


def start(fn: Callable[[], Any], name: str | None = None) -> Worker:
    worker = Worker(fn, name)
    worker.start()
    return worker


# -- SharedLock ------------------------------------------------------------------


def test_shared_holders_coexist_and_exclusive_excludes() -> None:
    lock = SharedLock("instance/inst1")
    assert lock.acquire(shared=True, owner="a")
    assert lock.acquire(shared=True, owner="b")
    assert lock.is_owned(shared=True, owner="a")
    assert not lock.is_owned(shared=False, owner="a")
    assert not lock.acquire(shared=False, timeout=0, owner="c")
    lock.release(owner="a")
    lock.release(owner="b")
    assert lock.acquire(shared=False, timeout=0, owner="c")
    assert lock.is_owned(shared=False, owner="c")
    assert not lock.acquire(shared=True, timeout=0, owner="a")
    assert not lock.acquire(shared=False, timeout=0, owner="a")
    lock.release(owner="c")
    assert not lock.is_owned(owner="c")


def test_default_owner_is_the_calling_thread() -> None:
    lock = SharedLock("node/n1")
    assert lock.acquire()
    assert lock.is_owned()
    other = start(lambda: (lock.acquire(timeout=0), lock.is_owned()))
    assert other.finish() == (False, False)
    lock.release()
    assert lock.info()["owner"] is None


def test_timeout_returns_false_and_leaves_nothing() -> None:
    lock = SharedLock("node/n1")
    lock.acquire(owner="holder")
    assert lock.acquire(shared=True, timeout=0.02, owner="late") is False
    assert not lock.is_owned(owner="late")
    assert lock.pending_count() == 0
    assert lock.info()["pending"] == []
    assert lock.info()["owner"] == ["holder"]


def test_misuse_is_a_programmer_error() -> None:
    lock = SharedLock("node/n1")
    lock.acquire(owner="a")
    with pytest.raises(errors.ProgrammerError, match="not recursive"):
        lock.acquire(shared=True, owner="a")
    with pytest.raises(errors.ProgrammerError, match="not held by b"):
        lock.release(owner="b")
    with pytest.raises(errors.ProgrammerError, match="cannot downgrade"):
        lock.downgrade(owner="b")
    with pytest.raises(errors.ProgrammerError, match=r"timeout.*got -1"):
        lock.acquire(timeout=-1, owner="b")
    with pytest.raises(errors.ProgrammerError, match=r"priority.*-20 to 19, got 20"):
        lock.acquire(priority=20, owner="b")
    with pytest.raises(errors.ProgrammerError, match=r"priority.*got 'high'"):
        lock.acquire(priority="high", owner="b")  # type: ignore[arg-type]
    # Nothing changed.
    assert lock.info()["owner"] == ["a"] and lock.pending_count() == 0


def test_waiters_are_served_by_priority_then_arrival() -> None:
    lock = SharedLock("instance/inst1")
    lock.acquire(owner="holder")
    order: list[str] = []

    def take(label: str, priority: int) -> None:
        assert lock.acquire(priority=priority, owner=label)
        order.append(label)
        lock.release(owner=label)

    requests = [("p5", 5), ("m3-first", -3), ("p0", 0), ("m3-second", -3),
                ("p19", 19), ("m20", -20)]
    workers = []
    for count, (label, priority) in enumerate(requests, start=1):
        workers.append(start(functools.partial(take, label, priority)))
        wait_until(functools.partial(lambda c: lock.pending_count() == c, count),
                   "%s queued" % label)
    lock.release(owner="holder")
    for worker in workers:
        worker.finish()
    assert order == ["m20", "m3-first", "m3-second", "p0", "p5", "p19"]


def test_waiting_writer_blocks_later_readers_of_lower_or_equal_priority() -> None:
    lock = SharedLock("cluster/BGL")
    assert lock.acquire(shared=True, owner="reader1")
    writer = start(lambda: lock.acquire(shared=False, owner="writer"))
    wait_until(lambda: lock.pending_count() == 1, "writer queued")
    # The lock is only held shared, but a writer waits: equal or lower
    # priority readers queue behind it.
    assert not lock.acquire(shared=True, timeout=0, owner="reader2")
    assert not lock.acquire(shared=True, timeout=0, priority=5, owner="reader3")
    # A more urgent reader goes first.
    assert lock.acquire(shared=True, timeout=0, priority=-5, owner="urgent")
    lock.release(owner="urgent")
    assert lock.pending_count() == 1
    lock.release(owner="reader1")
    assert writer.finish() is True
    assert lock.is_owned(shared=False, owner="writer")


def test_shared_waiters_are_granted_together() -> None:
    lock = SharedLock("node/n1")
    lock.acquire(owner="writer")
    together = threading.Barrier(3, timeout=STUCK_AFTER)

    def reader(label: str) -> bool:
        assert lock.acquire(shared=True, owner=label)
        together.wait()  # both readers hold the lock at once
        lock.release(owner=label)
        return True

    readers = []
    for count, label in enumerate(("r1", "r2"), start=1):
        readers.append(start(functools.partial(reader, label)))
        wait_until(functools.partial(lambda c: lock.pending_count() == c, count),
                   "%s queued" % label)
    assert lock.info()["pending"] == [["shared", ["r1", "r2"]]]
    lock.release(owner="writer")
    together.wait()
    assert [r.finish() for r in readers] == [True, True]


def test_downgrade_lets_shared_waiters_in() -> None:
    lock = SharedLock("node/n1")
    lock.acquire(owner="a")
    reader = start(lambda: lock.acquire(shared=True, owner="b"))
    wait_until(lambda: lock.pending_count() == 1, "reader queued")
    lock.downgrade(owner="a")
    assert reader.finish() is True
    assert lock.info()["mode"] == "shared"
    assert lock.info()["owner"] == ["a", "b"]
    lock.downgrade(owner="a")  # already shared: nothing to do
    assert lock.is_owned(shared=True, owner="a")


def test_deletion_wakes_waiters_with_a_failure() -> None:
    lock = SharedLock("instance/gone")
    lock.acquire(owner="deleter")
    waiters = [start(lambda: lock.acquire(shared=True, owner="s")),
               start(lambda: lock.acquire(shared=False, owner="x"))]
    wait_until(lambda: lock.pending_count() == 2, "waiters queued")
    assert lock.delete(owner="deleter")
    for worker in waiters:
        with pytest.raises(errors.LockError, match="instance/gone was deleted"):
            worker.finish()
    assert lock.deleted
    with pytest.raises(errors.LockError, match="deleted"):
        lock.acquire(timeout=0, owner="later")
    assert lock.info() == {"name": "instance/gone", "mode": None, "owner": None,
                           "pending": []}


def test_delete_acquires_first_and_honours_its_timeout() -> None:
    lock = SharedLock("node/n1")
    lock.acquire(shared=True, owner="reader")
    assert lock.delete(timeout=0.01, owner="deleter") is False
    assert not lock.deleted and lock.pending_count() == 0
    with pytest.raises(errors.ProgrammerError, match="held shared"):
        lock.delete(owner="reader")
    deleter = start(lambda: lock.delete(owner="deleter"))
    wait_until(lambda: lock.pending_count() == 1, "deleter queued")
    lock.release(owner="reader")
    assert deleter.finish() is True
    assert lock.deleted


def test_an_interrupted_wait_leaves_no_request_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    lock = SharedLock("node/n1")
    lock.acquire(owner="holder")

    def interrupted(deadline: float | None) -> float | None:
        raise KeyboardInterrupt

    monkeypatch.setattr(locking, "_remaining", interrupted)
    with pytest.raises(KeyboardInterrupt):
        lock.acquire(owner="waiter")
    assert lock.pending_count() == 0
    assert not lock.is_owned(owner="waiter")
    monkeypatch.undo()
    lock.release(owner="holder")
    assert lock.acquire(timeout=0, owner="other")


def test_info_lists_pending_requests_in_queue_order() -> None:
    lock = SharedLock("node/n1")
    lock.acquire(owner=1)
    labels = [(2, True), (3, True), (4, False), (5, True)]
    workers = []
    for count, (owner, shared) in enumerate(labels, start=1):
        workers.append(start(functools.partial(lock.acquire, shared=shared, owner=owner)))
        wait_until(functools.partial(lambda c: lock.pending_count() == c, count), "queued")
    assert lock.info() == {
        "name": "node/n1", "mode": "exclusive", "owner": [1],
        "pending": [["shared", [2, 3]], ["exclusive", [4]], ["shared", [5]]],
    }
    lock.release(owner=1)
    workers[0].finish()
    workers[1].finish()
    lock.release(owner=2)
    lock.release(owner=3)
    workers[2].finish()
    lock.release(owner=4)
    workers[3].finish()


# -- LockSet ---------------------------------------------------------------------


def test_lockset_acquires_sorted_names_and_releases() -> None:
    lset = LockSet(["c", "a", "b"], "node")
    assert lset.names() == ["a", "b", "c"]
    assert lset.acquire(["c", "a"], shared=True, owner="j1") == frozenset(["a", "c"])
    assert lset.owned("j1") == frozenset(["a", "c"])
    assert lset.is_owned_in_mode(["a", "c"], shared=True, owner="j1")
    assert not lset.is_owned_in_mode(["a"], shared=False, owner="j1")
    assert lset.acquire("b", owner="j2") == frozenset(["b"])
    lset.release(["a"], owner="j1")
    assert lset.owned("j1") == frozenset(["c"])
    lset.release(owner="j1")
    assert not lset.is_owned("j1")
    with pytest.raises(errors.ProgrammerError, match="j1 holds no lock of level node"):
        lset.release(owner="j1")
    with pytest.raises(errors.ProgrammerError, match=r"does not hold node lock.*a"):
        lset.release(["a", "b"], owner="j2")
    assert lset.owned("j2") == frozenset(["b"])


def test_lockset_unknown_or_bad_names_change_nothing() -> None:
    lset = LockSet(["a", "b"], "instance")
    with pytest.raises(errors.LockError, match=r"Unknown instance lock.*zz"):
        lset.acquire(["a", "zz"], owner="j1")
    assert not lset.is_owned("j1")
    with pytest.raises(errors.ProgrammerError, match="non-empty strings, got 3"):
        lset.acquire(["a", 3], owner="j1")  # type: ignore[list-item]
    assert all(row["owner"] is None for row in lset.info())


def test_lockset_acquisition_is_all_or_nothing_on_timeout() -> None:
    lset = LockSet(["a", "b", "c"], "node")
    lset.acquire(["b"], owner="holder")
    assert lset.acquire(["a", "b", "c"], timeout=0.02, owner="j1") is None
    assert not lset.is_owned("j1")
    assert lset.acquire(["a", "c"], timeout=0, owner="j2") == frozenset(["a", "c"])


def test_lockset_reacquiring_the_same_set_is_refused() -> None:
    lset = LockSet(["a", "b"], "node")
    lset.acquire(["a"], owner="j1")
    with pytest.raises(errors.ProgrammerError, match="already holds locks of level node"):
        lset.acquire(["b"], owner="j1")
    assert lset.owned("j1") == frozenset(["a"])


def test_acquiring_all_blocks_additions_until_released() -> None:
    lset = LockSet(["a"], "instance")
    assert lset.acquire(ALL_SET, shared=True, owner="reader") == frozenset(["a"])
    assert lset.owns_all(shared=True, owner="reader")
    adder = start(lambda: lset.add(["new"], owner="adder"))

    def set_lock_pending() -> Any:
        return next(r for r in lset.info() if r["name"] == "instance/[lockset]")["pending"]

    wait_until(lambda: set_lock_pending() == [["exclusive", ["adder"]]], "adder waits")
    assert lset.names() == ["a"]
    lset.release(owner="reader")
    adder.finish()
    assert lset.names() == ["a", "new"]
    assert not lset.owns_all(owner="adder")


def test_add_by_the_holder_of_the_whole_set_and_already_acquired() -> None:
    lset = LockSet(["a"], "instance")
    lset.acquire(ALL_SET, owner="j1")
    lset.add(["b", "c"], acquired=True, owner="j1")
    assert lset.owned("j1") == frozenset(["a", "b", "c"])
    lset.release(owner="j1")
    lset.add("d", acquired=True, shared=True, owner="j2")
    assert lset.is_owned_in_mode(["d"], shared=True, owner="j2")
    assert not lset.owns_all(owner="j2")  # the set's lock was only borrowed


def test_add_refuses_duplicates_and_order_breaking_callers() -> None:
    lset = LockSet(["a", "b"], "instance")
    with pytest.raises(errors.LockError, match="already exist: b"):
        lset.add(["b", "x"], owner="j1")
    assert lset.names() == ["a", "b"]
    assert not lset.owns_all(owner="j1")
    lset.acquire(["a"], owner="j1")
    with pytest.raises(errors.ProgrammerError, match="holds some instance locks"):
        lset.add(["x"], owner="j1")
    lset.release(owner="j1")
    lset.acquire(ALL_SET, shared=True, owner="j1")
    with pytest.raises(errors.ProgrammerError, match="shared"):
        lset.add(["x"], owner="j1")
    assert lset.names() == ["a", "b"]


def test_all_acquisition_skips_locks_removed_while_waiting() -> None:
    lset = LockSet(["a", "b", "c"], "instance")
    lset.acquire(["b"], owner="remover")
    taker = start(lambda: lset.acquire(ALL_SET, owner="taker"))
    wait_until(lambda: any(r["name"] == "instance/b" and r["pending"] for r in lset.info()),
               "taker waits for b")
    assert lset.remove(["b"], owner="remover") == ["b"]
    assert taker.finish() == frozenset(["a", "c"])
    assert lset.names() == ["a", "c"]
    assert not lset.is_owned("remover")


def test_named_acquisition_fails_cleanly_when_a_lock_is_removed() -> None:
    lset = LockSet(["a", "b", "c"], "instance")
    lset.acquire(["b"], owner="remover")
    taker = start(lambda: lset.acquire(["a", "b", "c"], owner="taker"))
    wait_until(lambda: any(r["name"] == "instance/b" and r["pending"] for r in lset.info()),
               "taker waits for b")
    lset.remove("b", owner="remover")
    with pytest.raises(errors.LockError, match="instance lock b was removed"):
        taker.finish()
    assert not lset.is_owned("taker")
    assert lset.acquire(["a", "c"], timeout=0, owner="other") == frozenset(["a", "c"])


def test_remove_needs_exclusive_ownership() -> None:
    lset = LockSet(["a", "b"], "node")
    lset.acquire(["a"], shared=True, owner="j1")
    with pytest.raises(errors.ProgrammerError, match="held exclusively by j1"):
        lset.remove(["a"], owner="j1")
    with pytest.raises(errors.ProgrammerError, match="held exclusively by j1"):
        lset.remove(["b"], owner="j1")
    assert lset.names() == ["a", "b"]


def test_opportunistic_takes_what_is_free_now() -> None:
    lset = LockSet(["a", "b", "c"], "node")
    lset.acquire(["b"], owner="holder")
    assert lset.acquire(["a", "b", "c"], opportunistic=True, owner="j1") == \
        frozenset(["a", "c"])
    assert lset.acquire(["a", "b"], opportunistic=True, owner="j2") == frozenset()
    assert not lset.is_owned("j2")
    lset.release(owner="j1")
    got = lset.acquire(ALL_SET, shared=True, opportunistic=True, owner="j3")
    assert got == frozenset(["a", "c"])
    assert lset.owns_all(shared=True, owner="j3")
    lset.release(owner="j3")
    assert not lset.is_owned("j3")


def test_all_acquisition_timeout_releases_the_set_lock() -> None:
    lset = LockSet(["a", "b"], "node")
    lset.acquire(["b"], owner="holder")
    assert lset.acquire(ALL_SET, timeout=0.02, owner="j1") is None
    assert not lset.is_owned("j1")
    lset.add(["c"], owner="adder")  # would block if the set lock had leaked
    assert lset.names() == ["a", "b", "c"]


def test_lockset_downgrade() -> None:
    lset = LockSet(["a", "b"], "node")
    lset.acquire(ALL_SET, owner="j1")
    lset.downgrade(["a"], owner="j1")
    assert lset.is_owned_in_mode(["a"], shared=True, owner="j1")
    assert lset.is_owned_in_mode(["b"], shared=False, owner="j1")
    assert lset.owns_all(shared=False, owner="j1")
    lset.downgrade(owner="j1")
    assert lset.is_owned_in_mode(["a", "b"], shared=True, owner="j1")
    assert lset.owns_all(shared=True, owner="j1")
    with pytest.raises(errors.ProgrammerError, match="does not hold node lock"):
        lset.downgrade(["zz"], owner="j1")


# -- LockManager -----------------------------------------------------------------


def make_manager() -> LockManager:
    return LockManager(nodes=["node1", "node2", "node3"], node_groups=["default", "g2"],
                       instances=["inst1", "inst2"], networks=["net1"])


def test_manager_acquires_levels_in_the_documented_order() -> None:
    glm = make_manager()
    assert locking.LEVELS == (LEVEL_CLUSTER, LEVEL_NODEGROUP, LEVEL_INSTANCE, LEVEL_NODE,
                              LEVEL_NODE_RES, LEVEL_NETWORK)
    job = "job-1"
    assert glm.acquire(job, LEVEL_CLUSTER, [BGL], shared=True) == frozenset([BGL])
    assert glm.acquire(job, LEVEL_NODEGROUP, ["default"], shared=True)
    assert glm.acquire(job, LEVEL_INSTANCE, ["inst1"])
    assert glm.acquire(job, LEVEL_NODE, ["node2", "node1"])
    assert glm.acquire(job, LEVEL_NODE_RES, ALL_SET, shared=True) == \
        frozenset(["node1", "node2", "node3"])
    assert glm.acquire(job, LEVEL_NETWORK, ["net1"], shared=True)
    assert glm.owned_levels(job) == list(locking.LEVELS)
    assert glm.owned(job, LEVEL_NODE) == frozenset(["node1", "node2"])
    assert glm.is_owned(job, LEVEL_INSTANCE, ["inst1"], shared=False)
    assert glm.owns_all(job, LEVEL_NODE_RES, shared=True)
    glm.release_all(job)
    assert glm.owned_levels(job) == []
    assert all(row["owner"] is None for row in glm.query_locks())


def test_manager_requires_the_bgl_first() -> None:
    glm = make_manager()
    with pytest.raises(errors.ProgrammerError, match=r"must hold the BGL before.*instance"):
        glm.acquire("job-1", LEVEL_INSTANCE, ["inst1"])
    assert glm.owned_levels("job-1") == []


def test_manager_refuses_level_order_violations() -> None:
    glm = make_manager()
    job = 7
    glm.acquire(job, LEVEL_CLUSTER, ALL_SET, shared=True)
    glm.acquire(job, LEVEL_NODE, ["node1"])
    with pytest.raises(errors.ProgrammerError,
                       match="cannot acquire instance locks while holding node locks"):
        glm.acquire(job, LEVEL_INSTANCE, ["inst1"])
    with pytest.raises(errors.ProgrammerError, match="cannot acquire node locks"):
        glm.acquire(job, LEVEL_NODE, ["node2"])
    with pytest.raises(errors.ProgrammerError, match="cannot acquire cluster locks"):
        glm.acquire(job, LEVEL_CLUSTER, [BGL])
    with pytest.raises(errors.ProgrammerError, match="cannot release the BGL while holding node"):
        glm.release(job, LEVEL_CLUSTER)
    assert glm.owned(job, LEVEL_INSTANCE) == frozenset()
    # Releasing never deadlocks, so any order is fine; a released level stays
    # closed while a later one is held.
    glm.acquire(job, LEVEL_NODE_RES, ["node1"])
    glm.release(job, LEVEL_NODE)
    with pytest.raises(errors.ProgrammerError, match="while holding node-res locks"):
        glm.acquire(job, LEVEL_NODE, ["node1"])
    glm.release(job, LEVEL_NODE_RES)
    glm.release(job, LEVEL_CLUSTER)
    assert glm.owned_levels(job) == []


def test_manager_rejects_bad_levels_and_cluster_names() -> None:
    glm = make_manager()
    with pytest.raises(errors.ProgrammerError, match="Unknown lock level 9"):
        glm.acquire("j", 9, ["x"])
    with pytest.raises(errors.ProgrammerError, match="single lock 'BGL'"):
        glm.acquire("j", LEVEL_CLUSTER, ["other"])
    with pytest.raises(errors.ProgrammerError, match="cluster level"):
        glm.add("j", LEVEL_CLUSTER, ["x"])
    assert glm.owned_levels("j") == []


def test_manager_add_and_remove() -> None:
    glm = make_manager()
    job = "job-3"
    with pytest.raises(errors.ProgrammerError, match="must hold the BGL"):
        glm.add(job, LEVEL_INSTANCE, ["inst3"])
    glm.acquire(job, LEVEL_CLUSTER, [BGL], shared=True)
    glm.add(job, LEVEL_INSTANCE, ["inst3"], acquired=True)
    assert glm.owned(job, LEVEL_INSTANCE) == frozenset(["inst3"])
    glm.acquire(job, LEVEL_NODE, ["node1"])
    with pytest.raises(errors.ProgrammerError, match="while holding instance, node locks"):
        glm.add(job, LEVEL_INSTANCE, ["inst4"])
    assert glm.remove(job, LEVEL_INSTANCE, ["inst3"]) == ["inst3"]
    assert glm.names(LEVEL_INSTANCE) == ["inst1", "inst2"]
    glm.release_all(job)
    # The holder of a whole level exclusively may add to it.
    glm.acquire(job, LEVEL_CLUSTER, [BGL], shared=True)
    glm.acquire(job, LEVEL_NODE, ALL_SET)
    glm.add(job, LEVEL_NODE, ["node4"], acquired=True)
    assert glm.owned(job, LEVEL_NODE) == frozenset(["node1", "node2", "node3", "node4"])
    glm.release_all(job)


def test_manager_downgrade() -> None:
    glm = make_manager()
    glm.acquire("j1", LEVEL_CLUSTER, [BGL], shared=True)
    glm.acquire("j1", LEVEL_NODE, ["node1", "node2"])
    glm.downgrade("j1", LEVEL_NODE, ["node1"])
    glm.acquire("j2", LEVEL_CLUSTER, [BGL], shared=True)
    assert glm.acquire("j2", LEVEL_NODE, ["node1"], shared=True, timeout=0)
    assert glm.acquire("j3", LEVEL_CLUSTER, [BGL], shared=True)
    assert glm.acquire("j3", LEVEL_NODE, ["node2"], shared=True, timeout=0) is None


def test_lock_monitor_rows() -> None:
    glm = make_manager()
    glm.acquire("job-1", LEVEL_CLUSTER, [BGL], shared=True)
    glm.acquire("job-2", LEVEL_CLUSTER, [BGL], shared=True)
    glm.acquire("job-1", LEVEL_INSTANCE, ["inst1"])
    waiter = start(lambda: glm.acquire("job-2", LEVEL_INSTANCE, ["inst1"], shared=True))
    rows: dict[str, dict[str, Any]] = {}

    def waiting() -> bool:
        rows.update((row["name"], row) for row in glm.query_locks())
        return bool(rows["instance/inst1"]["pending"])

    wait_until(waiting, "job-2 waits for inst1")
    assert list(rows) == sorted(rows)
    assert set(locking.LOCK_QUERY_FIELDS) == set(rows["cluster/BGL"])
    assert rows["cluster/BGL"] == {"name": "cluster/BGL", "mode": "shared",
                                   "owner": ["job-1", "job-2"], "pending": []}
    assert rows["instance/inst1"] == {"name": "instance/inst1", "mode": "exclusive",
                                      "owner": ["job-1"],
                                      "pending": [["shared", ["job-2"]]]}
    assert rows["instance/inst2"]["mode"] is None
    assert rows["node-res/node3"]["owner"] is None
    assert {"cluster/[lockset]", "instance/[lockset]", "nodegroup/default",
            "network/net1"} <= set(rows)
    glm.release("job-1", LEVEL_INSTANCE)
    assert waiter.finish() == frozenset(["inst1"])


def test_opportunistic_through_the_manager() -> None:
    glm = make_manager()
    glm.acquire("busy", LEVEL_CLUSTER, [BGL], shared=True)
    glm.acquire("busy", LEVEL_NODE, ["node2"])
    glm.acquire("alloc", LEVEL_CLUSTER, [BGL], shared=True)
    got = glm.acquire("alloc", LEVEL_NODE, ALL_SET, opportunistic=True)
    assert got == frozenset(["node1", "node3"])
    assert glm.owns_all("alloc", LEVEL_NODE)


# -- randomized stress test ------------------------------------------------------


class ShadowTable:
    """Who holds what, as the test sees it; flags conflicting holders.

    Entries are added after an acquisition returns and dropped before the
    release, so they never claim more than the lock manager granted.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._holders: dict[str, dict[str, bool]] = {}  # lock -> owner -> shared
        self.violations: list[str] = []
        self.max_bgl_holders = 0
        self.grants = 0

    def add(self, lock: str, owner: str, shared: bool) -> None:
        with self._mutex:
            holders = self._holders.setdefault(lock, {})
            assert owner not in holders
            holders[owner] = shared
            self.grants += 1
            if len(holders) > 1 and not all(holders.values()):
                self.violations.append("%s held by %r" % (lock, dict(holders)))
            if lock == "cluster/BGL":
                self.max_bgl_holders = max(self.max_bgl_holders, len(holders))

    def drop(self, lock: str, owner: str) -> None:
        with self._mutex:
            del self._holders[lock][owner]

    def set_shared(self, lock: str, owner: str) -> None:
        with self._mutex:
            self._holders[lock][owner] = True


STRESS_NAMES = {
    LEVEL_NODEGROUP: ["g1", "g2", "g3"],
    LEVEL_INSTANCE: ["i%d" % n for n in range(8)],
    LEVEL_NODE: ["n%d" % n for n in range(6)],
    LEVEL_NODE_RES: ["n%d" % n for n in range(6)],
    LEVEL_NETWORK: ["net1", "net2"],
}


def _stress_job(glm: LockManager, shadow: ShadowTable, rng: random.Random, owner: str) -> None:
    """One random job: BGL, then random levels in order, a short hold, release."""
    held: dict[int, tuple[set[str], bool]] = {}

    def record(level: int, names: frozenset[str], shared: bool, whole: bool) -> None:
        prefix = locking.LEVEL_NAMES[level]
        locks = {"%s/%s" % (prefix, n) for n in names}
        if whole:
            locks.add("%s/[lockset]" % prefix)
        for lock in locks:
            shadow.add(lock, owner, shared)
        held[level] = (locks, shared)

    bgl_shared = rng.random() > 0.05
    got = glm.acquire(owner, LEVEL_CLUSTER, [BGL], shared=bgl_shared,
                      priority=rng.choice([-20, -10, 0, 10, 19]))
    assert got is not None
    record(LEVEL_CLUSTER, got, bgl_shared, False)
    added: str | None = None
    try:
        for level in locking.LEVELS[1:]:
            if rng.random() < 0.4:
                continue
            shared = rng.random() < 0.5
            if level == LEVEL_INSTANCE and rng.random() < 0.05:
                added = "new-%s" % owner
                glm.add(owner, level, [added], acquired=True, shared=shared)
                record(level, frozenset([added]), shared, False)
                continue
            whole = rng.random() < 0.1
            names = ALL_SET if whole else rng.sample(STRESS_NAMES[level],
                                                 rng.randint(1, min(3, len(STRESS_NAMES[level]))))
            got = glm.acquire(owner, level, names, shared=shared,
                              timeout=rng.choice([None, None, 0, 0.005]),
                              priority=rng.choice([-20, -10, 0, 10, 19]),
                              opportunistic=rng.random() < 0.1)
            if got is None:
                assert not glm.is_owned(owner, level)
                continue
            record(level, got, shared, whole)
            if not shared and rng.random() < 0.2:
                for lock in held[level][0]:
                    shadow.set_shared(lock, owner)
                glm.downgrade(owner, level)
        time.sleep(rng.uniform(0, 0.001))
        if added is not None and held.get(LEVEL_INSTANCE, (set(), True))[1] is False:
            shadow.drop("instance/%s" % added, owner)
            held[LEVEL_INSTANCE][0].discard("instance/%s" % added)
            glm.remove(owner, LEVEL_INSTANCE, [added])
            added = None
    finally:
        for level in sorted(held, reverse=True):
            for lock in held[level][0]:
                shadow.drop(lock, owner)
            if glm.is_owned(owner, level):
                glm.release(owner, level)
        # A shared-added lock cannot be removed by its holder; remove it exclusively.
        if added is not None:
            glm.acquire(owner, LEVEL_CLUSTER, [BGL], shared=True)
            glm.acquire(owner, LEVEL_INSTANCE, [added])
            glm.remove(owner, LEVEL_INSTANCE, [added])
            glm.release_all(owner)
    assert glm.owned_levels(owner) == []


def test_random_concurrent_requests_never_conflict_nor_deadlock() -> None:
    glm = LockManager(nodes=STRESS_NAMES[LEVEL_NODE], node_groups=STRESS_NAMES[LEVEL_NODEGROUP],
                      instances=STRESS_NAMES[LEVEL_INSTANCE],
                      networks=STRESS_NAMES[LEVEL_NETWORK])
    shadow = ShadowTable()
    jobs_per_thread = 200

    def run(thread_no: int) -> int:
        rng = random.Random(thread_no)
        for job_no in range(jobs_per_thread):
            _stress_job(glm, shadow, rng, "t%d-j%d" % (thread_no, job_no))
        return jobs_per_thread

    workers = [Worker(functools.partial(run, n), name="stress-%d" % n) for n in range(20)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 120
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    stuck = [w.name for w in workers if w.is_alive()]
    if stuck:
        pytest.fail("threads stuck: %s\nlock monitor:\n%s" %
                    (stuck, pprint.pformat([r for r in glm.query_locks()
                                            if r["owner"] or r["pending"]])))
    assert [w.finish() for w in workers] == [jobs_per_thread] * 20
    assert shadow.violations == []
    assert shadow.max_bgl_holders > 1  # the checker did see concurrent holders
    assert shadow.grants > 20 * jobs_per_thread
    assert all(row["owner"] is None and row["pending"] == [] for row in glm.query_locks())
    assert glm.names(LEVEL_INSTANCE) == STRESS_NAMES[LEVEL_INSTANCE]
