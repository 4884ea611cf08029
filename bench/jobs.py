#!/usr/bin/env python3
"""Job throughput of a real ganeti-masterd, and the CLI round trip.

Starts a one-node cluster in a temporary directory (as the integration
tests do), then:

- submits ``--jobs`` OpTestDelay(0) jobs from ``--clients`` concurrent luxi
  clients (each its own connection) and waits until all are finished;
  prints jobs/s end to end (first submission to last job end), the median
  and 99th percentile of submit-to-done latency, and the master's RSS;
- runs ``gnt-debug delay 0`` ``--cli-runs`` times and prints the median
  round trip, beside the bare interpreter start-up for comparison.

Prints figures only. Usage: ``python bench/jobs.py [--jobs N] [--clients N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

TREE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TREE)
sys.path.insert(0, os.path.join(TREE, "test", "integration"))

import psutil  # noqa: E402
from master_cluster import MasterProcess, running_master  # noqa: E402

from ganeti import constants  # noqa: E402

DELAY_OP = {"OP_ID": "OP_TEST_DELAY", "duration": 0}


def _seconds(ts: list[int]) -> float:
    return ts[0] + ts[1] / 1e6


def run_jobs(master: MasterProcess, jobs: int, clients: int) -> None:
    per_client = [jobs // clients + (1 if i < jobs % clients else 0) for i in range(clients)]
    submitted: list[tuple[int, float]] = []
    lock = threading.Lock()
    failures: list[BaseException] = []
    barrier = threading.Barrier(clients + 1)

    def submit(count: int) -> None:
        try:
            with master.client() as client:
                barrier.wait()
                for _ in range(count):
                    before = time.time()
                    job_id = client.submit_job([dict(DELAY_OP)])
                    with lock:
                        submitted.append((job_id, before))
        except BaseException as err:  # reported below
            failures.append(err)

    threads = [threading.Thread(target=submit, args=(n,)) for n in per_client]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.time()
    for thread in threads:
        thread.join()
    submit_done = time.time()
    if failures:
        raise failures[0]
    ids = [job_id for job_id, _ in submitted]
    with master.client() as client:
        while True:
            rows = client.query_jobs(ids, ["status", "end_ts"])
            if all(row[0] in constants.JOBS_FINALIZED for row in rows):
                break
            time.sleep(0.05)
    statuses = {row[0] for row in rows}
    ends = {job_id: _seconds(row[1]) for job_id, row in zip(ids, rows)}
    latencies = sorted(ends[job_id] - before for job_id, before in submitted)
    last_end = max(ends.values())
    rss = psutil.Process(master.process.pid).memory_info().rss if master.process else 0
    print("jobs: %d OpTestDelay(0) from %d clients; final statuses: %s"
          % (jobs, clients, ", ".join(sorted(statuses))))
    print("  submission rate:     %8.1f jobs/s" % (jobs / (submit_done - started)))
    print("  end to end:          %8.1f jobs/s (%.2f s)" % (jobs / (last_end - started),
                                                           last_end - started))
    print("  latency median:      %8.1f ms" % (statistics.median(latencies) * 1000))
    print("  latency 99th pct:    %8.1f ms" % (latencies[int(len(latencies) * 0.99) - 1]
                                                * 1000))
    print("  masterd RSS:         %8.1f MiB" % (rss / 1048576))


def _median_run(command: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(command, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise RuntimeError("%s failed: %s" % (" ".join(command),
                                                  result.stderr.decode(errors="replace")))
    return statistics.median(times)


def cli_round_trip(master: MasterProcess, runs: int) -> None:
    env = master.env
    delay = _median_run([sys.executable, "-m", "ganeti.client.gnt_debug", "delay", "0"], env,
                        runs)
    bare = _median_run([sys.executable, "-c", "pass"], env, runs)
    print("CLI round trip `gnt-debug delay 0`: median %.1f ms over %d runs"
          " (bare interpreter start-up: %.1f ms)" % (delay * 1000, runs, bare * 1000))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--cli-runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_master(tmp) as cluster:
        run_jobs(cluster.master, args.jobs, args.clients)
        cli_round_trip(cluster.master, args.cli_runs)


if __name__ == "__main__":
    main()
