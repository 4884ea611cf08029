#!/usr/bin/env python3
"""RAPI latency and throughput on a local cluster.

Brings up a local cluster (fake hypervisor), creates ``--instances`` diskless
instances (as bench/instances.py does), writes a RAPI user, then prints:

- the median latency of ``GET /2/instances?bulk=1`` (``--runs`` requests,
  one keep-alive connection);
- requests per second of ``GET /2/info`` from ``--clients`` concurrent
  keep-alive clients for ``--seconds``;
- ganeti-rapi's RSS.

    bench/rapi.py [--instances 1000] [--clients 50] [--seconds 10]

Ganeti 3.0 answers the bulk list of 500 instances in about 0.17 s on this
machine; the aim is a third of that.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import shutil
import ssl
import statistics
import sys
import tempfile
import time

import aiohttp
import psutil

TREE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [TREE, os.path.join(TREE, "bench"), os.path.join(TREE, "test", "integration")]

from instances import create_instances, install_test_os  # noqa: E402

from ganeti import constants, luxi, pathutils  # noqa: E402
from ganeti.server import daemon_util  # noqa: E402

USER, PASSWORD = "bench", "bench-secret"


def _auth_header() -> dict[str, str]:
    token = base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
    return {"Authorization": "Basic " + token}


async def _bulk_latency(base_url: str, runs: int) -> tuple[float, int]:
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    times = []
    count = 0
    async with aiohttp.ClientSession(headers=_auth_header()) as session:
        for _ in range(runs):
            start = time.monotonic()
            async with session.get(base_url + "/2/instances?bulk=1", ssl=ctx) as reply:
                body = await reply.json()
            times.append(time.monotonic() - start)
            if reply.status != 200:
                raise SystemExit("GET /2/instances?bulk=1 answered %d: %s" % (reply.status, body))
            count = len(body)
    return statistics.median(times), count


async def _info_rate(base_url: str, clients: int, seconds: float) -> tuple[float, int]:
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    deadline = time.monotonic() + seconds
    done = 0
    failed = 0

    async def client() -> None:
        nonlocal done, failed
        async with aiohttp.ClientSession(headers=_auth_header()) as session:
            while time.monotonic() < deadline:
                async with session.get(base_url + "/2/info", ssl=ctx) as reply:
                    await reply.read()
                    if reply.status == 200:
                        done += 1
                    else:
                        failed += 1

    start = time.monotonic()
    await asyncio.gather(*(client() for _ in range(clients)))
    return done / (time.monotonic() - start), failed


def _cpu_seconds(pids: dict[str, int | None]) -> dict[str, float]:
    """User plus system CPU seconds of each running daemon so far."""
    found = {}
    for name, pid in pids.items():
        if pid is not None:
            times = psutil.Process(pid).cpu_times()
            found[name] = times.user + times.system
    return found


def run(master_root: str, master_ip: str, node_names: list[str],
        args: argparse.Namespace) -> None:
    client = luxi.Client(pathutils.for_root(master_root).master_socket)
    elapsed, counts = create_instances(client, node_names, args.instances, 100, 8)
    print("created %d instances in %.1f s (%s)" % (
        args.instances, elapsed, ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
    paths = pathutils.for_root(master_root)
    os.makedirs(paths.rapi_data_dir, exist_ok=True)
    with open(paths.rapi_users_file, "w") as handle:
        handle.write("%s %s write\n" % (USER, PASSWORD))
    time.sleep(1.5)  # the users file is re-read on change (inotify)
    base_url = "https://%s:%d" % (master_ip, constants.DEFAULT_RAPI_PORT)
    daemons = {name: daemon_util.running_pid(name, paths)
               for name in (constants.MASTERD, constants.RAPI)}
    before = _cpu_seconds(daemons)
    median, count = asyncio.run(_bulk_latency(base_url, args.runs))
    after = _cpu_seconds(daemons)
    print("GET /2/instances?bulk=1 (%d instances): median %.3f s over %d requests"
          % (count, median, args.runs))
    # CPU per request is steadier than latency on a shared machine.
    print("  CPU per request: %s" % ", ".join(
        "%s %.0f ms" % (name, (after[name] - before[name]) / args.runs * 1e3)
        for name in sorted(after)))
    rate, failed = asyncio.run(_info_rate(base_url, args.clients, args.seconds))
    print("GET /2/info from %d concurrent clients: %.0f requests/s (%d failed)"
          % (args.clients, rate, failed))
    pid = daemon_util.running_pid(constants.RAPI, paths)
    if pid is not None:
        print("ganeti-rapi RSS: %.1f MiB" % (psutil.Process(pid).memory_info().rss / 2**20))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    from local_cluster_fixture import running_local_cluster

    base = tempfile.mkdtemp(prefix="bench-rapi-")
    try:
        with running_local_cluster(base, nodes=args.nodes) as cluster:
            install_test_os([node.root for node in cluster.node_list()])
            master = cluster.master
            run(master.root, master.address, [n.name for n in cluster.node_list()], args)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
