#!/usr/bin/env python3
"""Fan-out of node RPC: one ``version`` call to N real nodeds at once.

Starts N ganeti-noded processes (127.0.1.1 … 127.0.1.N, one root each, as
the integration tests do), then prints for each N: the first (cold, TLS
handshakes included) call's wall time, the median/min/max of the following
warm calls (keep-alive connections), and the RSS of the nodeds.

    bench/rpc_fanout.py [-n 20 50 100] [-r REPEATS]

Aims: 100 nodes answered in under 0.5 s; cost no worse than linear in N;
noded RSS under 40 MiB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

TREE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [TREE, os.path.join(TREE, "test", "integration")]

import psutil  # noqa: E402
from noded_cluster import start_cluster  # noqa: E402

#: Memory to keep free per noded when deciding whether N fits (bytes).
_PER_NODE_BUDGET = 80 * 1024 * 1024
_MIB = 1024 * 1024


def measure(count: int, repeats: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="rpc-fanout-") as base:
        started = time.monotonic()
        # Start-up of many Python processes on few cores takes a while.
        cluster = start_cluster(base, count, client_certs=False,
                                start_timeout=30 + count * 1.5)
        setup = time.monotonic() - started
        try:
            nodes = cluster.addresses()
            with_client = cluster.client()
            t0 = time.perf_counter()
            results = with_client.call("version", nodes, timeout=30)
            cold = time.perf_counter() - t0
            failed = [r.describe() for r in results.values() if not r.success]
            if failed:
                raise RuntimeError("; ".join(failed[:5]))
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                results = with_client.call("version", nodes, timeout=30)
                times.append(time.perf_counter() - t0)
                assert all(r.success for r in results.values())
            rss = [psutil.Process(n.process.pid).memory_info().rss / _MIB
                   for n in cluster.nodes if n.process is not None]
        finally:
            cluster.stop()
    return {"nodes": count, "setup": setup, "cold": cold, "median": statistics.median(times),
            "min": min(times), "max": max(times), "rss_min": min(rss),
            "rss_median": statistics.median(rss), "rss_max": max(rss)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--nodes", type=int, nargs="+", default=[20, 50, 100])
    parser.add_argument("-r", "--repeats", type=int, default=20)
    options = parser.parse_args()
    print("%6s %8s %9s %10s %9s %9s %21s" % ("nodes", "setup s", "cold ms", "median ms",
                                             "min ms", "max ms", "noded RSS MiB min/med/max"))
    rows = []
    for count in options.nodes:
        if psutil.virtual_memory().available < count * _PER_NODE_BUDGET:
            print("%6d skipped: not enough free memory" % count)
            continue
        row = measure(count, options.repeats)
        rows.append(row)
        print("%6d %8.1f %9.1f %10.1f %9.1f %9.1f %9.1f/%.1f/%.1f" % (
            count, row["setup"], row["cold"] * 1000, row["median"] * 1000,
            row["min"] * 1000, row["max"] * 1000, row["rss_min"], row["rss_median"],
            row["rss_max"]), flush=True)
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        print("median cost per node: %.2f ms at %d nodes, %.2f ms at %d nodes" % (
            first["median"] * 1000 / first["nodes"], first["nodes"],
            last["median"] * 1000 / last["nodes"], last["nodes"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
