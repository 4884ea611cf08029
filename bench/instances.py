#!/usr/bin/env python3
"""Instance creation throughput and ``gnt-instance list`` latency on a local cluster.

Brings up a local cluster of ``--nodes`` nodes (fake hypervisor; or uses the
running cluster of the node root in ``GANETI_ROOTDIR`` with ``--existing``),
then:

- creates ``--instances`` diskless fake-hypervisor instances (OS: the test
  OS ``v10`` copied into every node's OS search path), one job each,
  submitted together through luxi SubmitManyJobs and round-robin over the
  nodes; prints instances per second (first submission to last job done);
- times ``--seq`` blocking ``gnt-instance add -t diskless --no-start
  --no-ip-check --no-name-check`` one after another (the CLI process
  included, as an administrator or a script runs it) and the same creation
  as one luxi job submitted and waited for (the master's part alone);
  prints the median of each;
- times ``gnt-instance list`` and ``gnt-instance list -o name,status,oper_ram``
  as the CLI runs them (a new process each time, ``--list-runs`` runs), and
  the luxi Query alone (what the master does, without the CLI's start-up);
  prints the median of each.

    bench/instances.py [--instances 1000] [--nodes 3] [--batch 100] [--memory 8] [--seq 5]

Aim: the list of 1,000 instances over 3 nodes in under 0.3 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

TREE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [TREE, os.path.join(TREE, "test", "integration")]

from ganeti import constants, luxi, pathutils  # noqa: E402

TEST_OS_DIR = os.path.join(TREE, "test", "data", "os")
BENCH_OS = "v10"


def install_test_os(node_roots: list[str]) -> None:
    for root in node_roots:
        target = os.path.join(pathutils.for_root(root).os_search_path[0], BENCH_OS)
        shutil.copytree(os.path.join(TEST_OS_DIR, BENCH_OS), target, dirs_exist_ok=True)


def create_op(name: str, node: str, memory: int) -> dict[str, Any]:
    return {"OP_ID": "OP_INSTANCE_CREATE", "instance_name": name, "mode": "create",
            "disk_template": constants.DT_DISKLESS, "disks": [], "nics": [{}],
            "os_type": BENCH_OS, "pnode": node, "name_check": False, "ip_check": False,
            "beparams": {"maxmem": memory, "minmem": memory}}


def wait_all(client: luxi.Client, job_ids: list[int], poll: float = 0.2) -> dict[str, int]:
    """Wait until every job finished; count them by final status."""
    pending = list(job_ids)
    counts: dict[str, int] = {}
    while pending:
        rows = client.query_jobs(pending, ["id", "status"])
        still = []
        for job_id, row in zip(pending, rows):
            if row is None:
                counts["lost"] = counts.get("lost", 0) + 1
            elif row[1] in constants.JOBS_FINALIZED:
                counts[row[1]] = counts.get(row[1], 0) + 1
            else:
                still.append(job_id)
        pending = still
        if pending:
            time.sleep(poll)
    return counts


def create_instances(client: luxi.Client, nodes: list[str], count: int, batch: int,
                     memory: int) -> tuple[float, dict[str, int]]:
    start = time.monotonic()
    job_ids: list[int] = []
    for first in range(0, count, batch):
        jobs = [[create_op("bench%05d.example.com" % i, nodes[i % len(nodes)], memory)]
                for i in range(first, min(count, first + batch))]
        for success, value in client.submit_many_jobs(jobs):
            if not success:
                raise SystemExit("submission failed: %s" % (value,))
            job_ids.append(int(value))
    counts = wait_all(client, job_ids)
    return time.monotonic() - start, counts


def time_cli(env: dict[str, str], argv: list[str], runs: int) -> tuple[float, int]:
    times = []
    lines = 0
    for _ in range(runs):
        start = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "ganeti.client.gnt_instance", *argv],
                                env=env, capture_output=True, text=True, check=False)
        times.append(time.monotonic() - start)
        if result.returncode != 0:
            raise SystemExit("gnt-instance %s failed: %s" % (" ".join(argv), result.stderr))
        lines = len(result.stdout.splitlines())
    return statistics.median(times), lines


def time_sequential_adds(client: luxi.Client, env: dict[str, str], node: str, runs: int,
                         memory: int) -> tuple[float, float]:
    """Median seconds of a blocking CLI add, and of a luxi job (submit, wait)."""
    cli_times, job_times = [], []
    for index in range(runs):
        name = "seq%05d.example.com" % index
        start = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "ganeti.client.gnt_instance", "add", "-t",
             constants.DT_DISKLESS, "--no-start", "--no-ip-check", "--no-name-check",
             "-o", BENCH_OS, "-n", node, "-B", "maxmem=%d,minmem=%d" % (memory, memory),
             name], env=env, capture_output=True, text=True, check=False)
        cli_times.append(time.monotonic() - start)
        if result.returncode != 0:
            raise SystemExit("gnt-instance add %s failed: %s" % (name, result.stderr))
        op = create_op("seqjob%05d.example.com" % index, node, memory)
        op["start"] = False
        start = time.monotonic()
        job_id = int(client.submit_job([op]))
        counts = wait_all(client, [job_id], poll=0.005)
        job_times.append(time.monotonic() - start)
        if counts != {constants.JOB_STATUS_SUCCESS: 1}:
            raise SystemExit("job %d failed: %s" % (job_id, counts))
    return statistics.median(cli_times), statistics.median(job_times)


def time_query(client: luxi.Client, fields: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.monotonic()
        client.query(constants.QR_INSTANCE, fields, None)
        times.append(time.monotonic() - start)
    return statistics.median(times)


def run(env: dict[str, str], node_names: list[str], args: argparse.Namespace) -> None:
    os.environ.update(env)
    client = luxi.Client(pathutils.current().master_socket)
    elapsed, counts = create_instances(client, node_names, args.instances, args.batch,
                                       args.memory)
    print("created %d instances over %d nodes in %.1f s: %.1f instances/s (jobs: %s)"
          % (args.instances, len(node_names), elapsed, args.instances / elapsed,
             ", ".join("%s %d" % item for item in sorted(counts.items()))))
    full_env = dict(os.environ, PYTHONPATH=TREE)
    if args.seq:
        cli_add, job_add = time_sequential_adds(client, full_env, node_names[0], args.seq,
                                                args.memory)
        print("sequential add (--no-start), %d runs: gnt-instance add median %.3f s"
              " (CLI process included); luxi job median %.3f s"
              % (args.seq, cli_add, job_add))
    for argv in (["list"], ["list", "-o", "name,status,oper_ram"]):
        median, lines = time_cli(full_env, argv, args.list_runs)
        print("gnt-instance %-32s median %.3f s (%d lines, CLI process included)"
              % (" ".join(argv), median, lines))
    for fields in (list(("name", "hypervisor", "os", "pnode", "status", "oper_ram")),
                   ["name", "status", "oper_ram"], ["name", "os", "pnode"]):
        print("luxi Query instance %-40s median %.3f s"
              % (",".join(fields), time_query(client, fields, args.list_runs)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--batch", type=int, default=100,
                        help="jobs per SubmitManyJobs call")
    parser.add_argument("--memory", type=int, default=8, help="MiB per instance")
    parser.add_argument("--list-runs", type=int, default=5)
    parser.add_argument("--seq", type=int, default=5,
                        help="blocking adds one after another (0: skip)")
    parser.add_argument("--existing", action="store_true",
                        help="use the running cluster of GANETI_ROOTDIR (its master)")
    args = parser.parse_args()
    if args.existing:
        client = luxi.Client(pathutils.current().master_socket)
        result = client.query(constants.QR_NODE, ["name"], None)
        names = [row[0][1] for row in result["data"]]
        roots = [os.environ["GANETI_ROOTDIR"]]
        print("note: --existing copies the bench OS only into %s; other nodes need it"
              % roots[0])
        install_test_os(roots)
        run({}, names, args)
        return 0
    from local_cluster_fixture import running_local_cluster

    base = tempfile.mkdtemp(prefix="bench-instances-")
    try:
        with running_local_cluster(base, nodes=args.nodes) as cluster:
            install_test_os([node.root for node in cluster.node_list()])
            run(cluster.env(1), [node.name for node in cluster.node_list()], args)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
