#!/usr/bin/env python3
"""Per-call cost of noded's child-process (CHILD) procedures.

Starts one ganeti-noded (as the integration tests do), once with the fork
server and once with ``--no-fork-server`` (a new interpreter per call, the
fallback path), makes N sequential ``blockdev_getsize`` calls (a CHILD
procedure; an empty disk list, so the figure is the isolation's overhead)
through the RPC client, and prints the median/mean/max latency per call and
the RSS of noded and of its fork server.

    bench/noded_child.py [-n 50]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time

TREE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [TREE, os.path.join(TREE, "test", "integration")]

import psutil  # noqa: E402
from noded_cluster import NodedCluster, start_cluster  # noqa: E402

_PROCEDURE = "blockdev_getsize"
_MIB = 1024 * 1024


def _fork_server_rss(cluster: NodedCluster) -> float | None:
    process = cluster.master.process
    assert process is not None
    for child in psutil.Process(process.pid).children():
        if "ganeti.server.noded_zygote" in " ".join(child.cmdline()):
            return float(child.memory_info().rss) / _MIB
    return None


def measure(calls: int, fork_server: bool) -> dict[str, float | None]:
    extra = () if fork_server else ("--no-fork-server",)
    with tempfile.TemporaryDirectory(prefix="noded-child-") as base:
        cluster = start_cluster(base, 1, extra_args=extra)
        try:
            client = cluster.client()
            node = cluster.master.node_address
            # Wait until the fork server has loaded its backends (its first calls
            # fall back to a new interpreter), then time warm calls.
            for _ in range(50):
                client.call_one(_PROCEDURE, node, [[]]).raise_if_failed()
                if not fork_server or re.search(r"Fork server \d+ ready",
                                                cluster.master.log_text()):
                    break
                time.sleep(0.1)
            times = []
            for _ in range(calls):
                started = time.perf_counter()
                assert client.call_one(_PROCEDURE, node, [[]]).raise_if_failed() == []
                times.append(time.perf_counter() - started)
            process = cluster.master.process
            assert process is not None
            return {"median": statistics.median(times), "mean": statistics.fmean(times),
                    "max": max(times),
                    "noded_rss": psutil.Process(process.pid).memory_info().rss / _MIB,
                    "zygote_rss": _fork_server_rss(cluster)}
        finally:
            cluster.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--calls", type=int, default=50, help="calls per mode")
    options = parser.parse_args()
    print("%d sequential %s calls against one noded" % (options.calls, _PROCEDURE))
    print("%-22s %9s %9s %9s %10s %11s" % ("mode", "median ms", "mean ms", "max ms",
                                          "noded MiB", "zygote MiB"))
    for label, fork_server in (("new interpreter", False), ("fork server", True)):
        figures = measure(options.calls, fork_server)
        zygote = figures["zygote_rss"]
        print("%-22s %9.1f %9.1f %9.1f %10.1f %11s" % (
            label, 1000 * (figures["median"] or 0), 1000 * (figures["mean"] or 0),
            1000 * (figures["max"] or 0), figures["noded_rss"] or 0,
            "-" if zygote is None else "%.1f" % zygote))
    return 0


if __name__ == "__main__":
    sys.exit(main())
