"""An in-process master for unit tests: temp root, config, locks, RPC client, queue.

``make_context(root)`` writes a two-node configuration (node1 the master,
both master candidates; node2 unreachable on purpose) and a cluster
certificate, and returns a ``MasterContext``; ``make_queue`` adds a started
``JobQueue``. Nothing here starts a daemon.
"""

from __future__ import annotations

import os
import time
from typing import Any

from ganeti import config, constants, objects, pathutils
from ganeti.context import MasterContext
from ganeti.jqueue.queue import JobQueue
from ganeti.rpc.client import RpcClient
from ganeti.utils import io, x509

CLUSTER_NAME = "cluster.example.com"
GROUP_UUID = "6c7e6b2a-0000-4000-8000-000000000001"
NODE1_UUID = "6c7e6b2a-0000-4000-8000-0000000000a1"
NODE2_UUID = "6c7e6b2a-0000-4000-8000-0000000000a2"
NODE1 = "node1.example.com"
NODE2 = "node2.example.com"

_CERT_PEM: bytes | None = None


def _cluster_cert() -> bytes:
    global _CERT_PEM
    if _CERT_PEM is None:
        _CERT_PEM = x509.generate_cluster_cert()
    return _CERT_PEM


def config_dict() -> dict[str, Any]:
    return {
        "version": constants.CONFIG_VERSION, "serial_no": 1, "ctime": 0.0, "mtime": 0.0,
        "cluster": {"uuid": "6c7e6b2a-0000-4000-8000-0000000000c1",
                    "cluster_name": CLUSTER_NAME, "master_node": NODE1_UUID,
                    "master_ip": "192.0.2.254", "master_netdev": "lo", "rsahostkeypub": "",
                    "enabled_hypervisors": [constants.HT_FAKE],
                    "enabled_disk_templates": [constants.DT_DISKLESS],
                    "tags": ["zeta", "alpha"]},
        "nodes": {
            NODE1_UUID: {"uuid": NODE1_UUID, "name": NODE1, "primary_ip": "127.0.1.1",
                         "group": GROUP_UUID, "master_candidate": True, "tags": ["n1"]},
            # TEST-NET address: replication to it fails fast or times out, never succeeds.
            NODE2_UUID: {"uuid": NODE2_UUID, "name": NODE2, "primary_ip": "127.0.1.2",
                         "group": GROUP_UUID, "master_candidate": True, "offline": True},
        },
        "nodegroups": {GROUP_UUID: {"uuid": GROUP_UUID, "name": "default"}},
        "instances": {}, "networks": {}, "disks": {}, "filters": {},
    }


def make_context(root: str) -> MasterContext:
    paths = pathutils.for_root(root)
    io.ensure_dirs([(paths.data_dir, 0o755)])
    with open(paths.server_cert_file, "wb") as handle:
        handle.write(_cluster_cert())
    cfg = config.ConfigWriter.create(paths.config_file,
                                     objects.ConfigData.from_dict(config_dict()))
    return MasterContext.build(paths, NODE1, cfg=cfg, rpc=RpcClient(paths))


def make_queue(root: str, workers: int = 4, **kwargs: Any) -> JobQueue:
    queue = JobQueue(make_context(root), worker_count=workers, **kwargs)
    queue.start()
    return queue


def reopen_queue(old: JobQueue, workers: int = 4, **kwargs: Any) -> JobQueue:
    """A new queue on the same root (as after a master restart)."""
    context = MasterContext.build(old.context.paths, NODE1, cfg=old.context.cfg,
                                  rpc=old.context.rpc)
    queue = JobQueue(context, worker_count=workers, **kwargs)
    queue.start()
    return queue


def delay(duration: float = 0.0, **params: Any) -> dict[str, Any]:
    return dict({"OP_ID": "OP_TEST_DELAY", "duration": duration}, **params)


def dummy(result: Any = None, **params: Any) -> dict[str, Any]:
    base = {"OP_ID": "OP_TEST_DUMMY", "result": result, "messages": [], "fail": False,
            "submit_jobs": None}
    base.update(params)
    return base


def wait_status(queue: JobQueue, job_id: int, statuses: set[str] | frozenset[str],
                timeout: float = 20.0) -> str:
    """Follow the job through wait_for_job_change until its status is one of ``statuses``."""
    deadline = time.monotonic() + timeout
    prev: Any = None
    while time.monotonic() < deadline:
        answer = queue.wait_for_job_change(job_id, ["status"], prev, None,
                                           max(0.0, deadline - time.monotonic()))
        if answer == "nochange":
            break
        prev = answer[0]
        if prev[0] in statuses:
            return str(prev[0])
    raise AssertionError("job %d did not reach %s; it is %s"
                         % (job_id, sorted(statuses), queue.query_jobs([job_id], ["status"])))


def wait_done(queue: JobQueue, job_id: int, timeout: float = 20.0) -> str:
    return wait_status(queue, job_id, constants.JOBS_FINALIZED, timeout)


def job_file(queue: JobQueue, job_id: int) -> str:
    return queue.context.paths.job_file(job_id)


def file_exists(path: str) -> bool:
    return os.path.exists(path)
