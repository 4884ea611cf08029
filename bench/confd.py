#!/usr/bin/env python3
"""confd throughput and latency: signed UDP queries against one ganeti-confd.

Starts one ganeti-confd on 127.0.1.1 (its own node root, a configuration
of ``--nodes`` nodes and ``--instances`` instances, a fresh key), then:

- latency: one client, one query at a time, ``--latency-queries`` queries;
  prints the median and 99th percentile round trip;
- throughput: ``--clients`` client processes, each with one UDP socket and
  ``--window`` queries in flight, for ``--seconds``; prints the answered
  queries per second (every reply's signature and salt checked), the
  median round trip under that load, and packets lost.

    bench/confd.py [--query ping|role|path] [--clients 3] [--window 16] [--seconds 5]

Aim: 5,000 queries per second.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

TREE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [TREE, os.path.join(TREE, "test", "integration")]

import psutil  # noqa: E402
from master_cluster import config_data  # noqa: E402

from ganeti import confd, errors, netutils, pathutils, serializer, ssconf  # noqa: E402
from ganeti.confd import protocol  # noqa: E402
from ganeti.utils import io  # noqa: E402

CONFD = os.path.join(TREE, "daemons", "ganeti-confd")
ADDRESS = "127.0.1.1"


def _queries(nodes: int, instances: int) -> dict[str, tuple[int, Any]]:
    return {
        "ping": (confd.REQ_PING, None),
        "role": (confd.REQ_NODE_ROLE_BYNAME, "node%d.example.com" % max(1, nodes // 2)),
        "path": (confd.REQ_CONFIG_QUERY,
                 "/instances/inst%d.example.com/nics/0/ip" % max(1, instances // 2)),
    }


def build_root(root: str, nodes: int, instances: int, key: str) -> None:
    names = ["node%d.example.com" % i for i in range(1, nodes + 1)]
    ips = ["10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255) for i in range(1, nodes + 1)]
    ips[0] = ADDRESS
    data = config_data(names, ips)
    node_uuids = list(data["nodes"])
    for i in range(1, instances + 1):
        uuid = "inst-%d" % i
        data["instances"][uuid] = {
            "uuid": uuid, "name": "inst%d.example.com" % i,
            "primary_node": node_uuids[i % nodes], "os": "debootstrap",
            "hypervisor": "fake", "hvparams": {}, "beparams": {}, "osparams": {},
            "admin_state": "up", "disks": [], "serial_no": 1, "tags": [],
            "nics": [{"uuid": "nic-%d" % i, "mac": "aa:00:%02x:%02x:%02x:%02x"
                      % (i >> 24 & 255, i >> 16 & 255, i >> 8 & 255, i & 255),
                      "ip": "172.%d.%d.%d" % (16 + (i >> 16 & 15), i >> 8 & 255, i & 255),
                      "nicparams": {}}],
        }
    paths = pathutils.for_root(root)
    os.makedirs(paths.data_dir, exist_ok=True)
    io.write_file_atomic(paths.config_file, serializer.dump_bytes(data), 0o600)
    io.write_file_atomic(paths.confd_hmac_key_file, (key + "\n").encode(), 0o600)
    ssconf.write_files({ssconf.KEY_CLUSTER_NAME: "cluster.example.com",
                        ssconf.KEY_MASTER_CANDIDATES: names[0],
                        ssconf.KEY_MASTER_CANDIDATES_IPS: ADDRESS,
                        ssconf.KEY_NODE_PRIMARY_IPS: "%s %s" % (names[0], ADDRESS)}, paths)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((ADDRESS, 0))
        return int(probe.getsockname()[1])


def start_confd(root: str, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env[pathutils.ROOTDIR_ENV] = root
    env[netutils.HOSTNAME_ENV] = "node1.example.com"
    return subprocess.Popen([sys.executable, CONFD, "-f", "-p", str(port)], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def wait_ready(key: bytes, port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("confd exited with status %s" % process.returncode)
            sock.sendto(protocol.pack_request(protocol.new_request(confd.REQ_PING), key),
                        (ADDRESS, port))
            try:
                sock.recv(confd.MAX_PACKET_SIZE)
                return
            except TimeoutError:
                continue
    raise RuntimeError("confd did not answer within 30 s")


def _check(data: bytes, key: bytes, pending: dict[str, float]) -> float | None:
    """Round trip of a good reply to a pending request, else None."""
    try:
        reply, salt = protocol.parse_reply(data, key)
    except errors.SignatureError:
        return None
    sent = pending.pop(salt, None)
    if sent is None or reply.status != confd.REPL_STATUS_OK:
        return None
    return time.perf_counter() - sent


def client_worker(key: bytes, port: int, req: tuple[int, Any], window: int, seconds: float,
                  results: Any) -> None:
    """Keep ``window`` queries in flight for ``seconds``; report count and latencies."""
    req_type, query = req
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(1.0)
    pending: dict[str, float] = {}
    latencies: list[float] = []
    answered = lost = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        while len(pending) < window:
            request = protocol.new_request(req_type, query)
            pending[request.rsalt] = time.perf_counter()
            sock.sendto(protocol.pack_request(request, key), (ADDRESS, port))
        try:
            data = sock.recv(confd.MAX_PACKET_SIZE)
        except TimeoutError:
            lost += len(pending)
            pending.clear()
            continue
        rtt = _check(data, key, pending)
        if rtt is not None:
            answered += 1
            if answered % 8 == 0:
                latencies.append(rtt)
    while pending:  # collect the replies still on their way
        try:
            data = sock.recv(confd.MAX_PACKET_SIZE)
        except TimeoutError:
            break
        if _check(data, key, pending) is not None:
            answered += 1
    sock.close()
    results.put((answered, lost + len(pending), latencies))


def measure_latency(key: bytes, port: int, req: tuple[int, Any], count: int) -> list[float]:
    times = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2.0)
        for _ in range(count):
            request = protocol.new_request(*req)
            pending = {request.rsalt: time.perf_counter()}
            sock.sendto(protocol.pack_request(request, key), (ADDRESS, port))
            rtt = _check(sock.recv(confd.MAX_PACKET_SIZE), key, pending)
            if rtt is None:
                raise RuntimeError("bad reply")
            times.append(rtt)
    return times


def measure_throughput(key: bytes, port: int, req: tuple[int, Any], clients: int,
                       window: int, seconds: float) -> tuple[float, list[float], int]:
    results: Any = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=client_worker,
                                     args=(key, port, req, window, seconds, results))
             for _ in range(clients)]
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    collected = [results.get() for _ in procs]
    elapsed = time.perf_counter() - started
    for proc in procs:
        proc.join()
    answered = sum(c[0] for c in collected)
    lost = sum(c[1] for c in collected)
    latencies = [lat for c in collected for lat in c[2]]
    return answered / max(seconds, elapsed - 0.5), latencies, lost


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--query", choices=("ping", "role", "path"), default="role")
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--window", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--latency-queries", type=int, default=2000)
    options = parser.parse_args()
    key = secrets.token_hex(32)
    with tempfile.TemporaryDirectory(prefix="bench-confd-") as root:
        build_root(root, options.nodes, options.instances, key)
        port = free_port()
        process = start_confd(root, port)
        try:
            wait_ready(key.encode(), port, process)
            req = _queries(options.nodes, options.instances)[options.query]
            lat = sorted(measure_latency(key.encode(), port, req, options.latency_queries))
            print("config: %d nodes, %d instances; query %s (%s %r)"
                  % (options.nodes, options.instances, options.query,
                     confd.REQUEST_NAMES[req[0]], req[1]))
            print("latency, one query at a time: median %.0f us, p99 %.0f us (%d queries)"
                  % (statistics.median(lat) * 1e6, lat[int(len(lat) * 0.99)] * 1e6,
                     len(lat)))
            server = psutil.Process(process.pid)
            cpu_before = sum(server.cpu_times()[:2])
            rate, loaded, lost = measure_throughput(key.encode(), port, req, options.clients,
                                                    options.window, options.seconds)
            cpu = sum(server.cpu_times()[:2]) - cpu_before
            print("throughput: %.0f queries/s with %d clients x %d in flight for %.0f s "
                  "(aim 5000); median round trip under load %.2f ms; %d lost"
                  % (rate, options.clients, options.window, options.seconds,
                     statistics.median(loaded) * 1e3 if loaded else float("nan"), lost))
            answered = rate * options.seconds
            print("server CPU: %.0f us per answered query, i.e. %.0f queries/s per CPU "
                  "second (load average now %.1f on %d CPUs)"
                  % (cpu / answered * 1e6, answered / cpu, os.getloadavg()[0],
                     os.cpu_count() or 1))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
