#!/usr/bin/env python3
"""Lock manager figures: uncontended and contended acquire/release rates.

Prints figures only (no assertions). Run from the source tree:
``python bench/locking.py [--seconds N] [--threads N]``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ganeti import locking
from ganeti.locking import (
    BGL,
    LEVEL_CLUSTER,
    LEVEL_INSTANCE,
    LEVEL_NODE,
    LockManager,
    SharedLock,
)


def rate(seconds: float, step: Callable[[], None]) -> float:
    """Calls ``step`` repeatedly for about ``seconds``; returns calls per second."""
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(200):
            step()
        count += 200
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def bench_shared_lock(seconds: float) -> None:
    lock = SharedLock("bench/lock")

    def exclusive() -> None:
        lock.acquire(owner="o")
        lock.release(owner="o")

    def shared() -> None:
        lock.acquire(shared=True, owner="o")
        lock.release(owner="o")

    print("SharedLock exclusive acquire+release: %10.0f /s" % rate(seconds, exclusive))
    print("SharedLock shared acquire+release:    %10.0f /s" % rate(seconds, shared))


def make_manager(instances: int, nodes: int) -> LockManager:
    return LockManager(nodes=["node%d" % n for n in range(nodes)],
                       node_groups=["default"],
                       instances=["inst%d" % n for n in range(instances)])


def job_like(glm: LockManager, owner: object, instance: str, node_names: list[str]) -> None:
    """The locks of a typical instance opcode: BGL shared, one instance, two nodes."""
    glm.acquire(owner, LEVEL_CLUSTER, [BGL], shared=True)
    glm.acquire(owner, LEVEL_INSTANCE, [instance])
    glm.acquire(owner, LEVEL_NODE, node_names)
    glm.release_all(owner)


def bench_manager_uncontended(seconds: float) -> None:
    glm = make_manager(1000, 100)
    owner = "job-1"
    nodes = ["node1", "node2"]
    per_second = rate(seconds, lambda: job_like(glm, owner, "inst1", nodes))
    print("LockManager job-like lock cycle (BGL+instance+2 nodes), uncontended: "
          "%8.0f /s" % per_second)

    def all_instances() -> None:
        glm.acquire(owner, LEVEL_CLUSTER, [BGL], shared=True)
        glm.acquire(owner, LEVEL_INSTANCE, locking.ALL_SET, shared=True)
        glm.release_all(owner)

    all_rate = rate(seconds / 2, all_instances)
    print("LockManager all 1000 instances shared, acquire+release:        %8.0f /s" % all_rate)


def bench_manager_contended(seconds: float, threads: int) -> None:
    glm = make_manager(40, 10)
    done = [0] * threads
    stop = threading.Event()

    def worker(number: int) -> None:
        rng = random.Random(number)
        job = 0
        while not stop.is_set():
            owner = "t%d-j%d" % (number, job)
            job += 1
            job_like(glm, owner, "inst%d" % rng.randrange(40),
                     ["node%d" % rng.randrange(10), "node%d" % rng.randrange(10)])
            done[number] += 1

    workers = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(threads)]
    start = time.perf_counter()
    for thread in workers:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - start
    print("LockManager job-like cycles, %d threads on 40 instances/10 nodes: %8.0f /s" %
          (threads, sum(done) / elapsed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.0, help="time per figure")
    parser.add_argument("--threads", type=int, default=20, help="threads when contended")
    args = parser.parse_args()
    bench_shared_lock(args.seconds)
    bench_manager_uncontended(args.seconds)
    bench_manager_contended(args.seconds, args.threads)


if __name__ == "__main__":
    main()
