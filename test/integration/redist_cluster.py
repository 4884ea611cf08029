"""A master_cluster with node daemons, a RAPI certificate and chosen candidates.

``verify_cluster(base_dir, count, candidates)`` builds the node roots and
the configuration (master_cluster), makes only the named nodes master
candidates (removing config.data from the others, as a non-candidate has
none), gives the master a RAPI certificate, starts the nodeds and the
master daemon, and runs redist-conf so every node holds what it should.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Sequence

from master_cluster import MasterCluster, create_cluster

from ganeti import pathutils
from ganeti.config import ConfigWriter
from ganeti.utils import x509

#: A job log line: "<ctime> <message>".
_LOG_PREFIX = re.compile(r"^\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4} ")


def messages(output: str) -> list[str]:
    """The job log messages of a command's output, without their timestamps."""
    return [_LOG_PREFIX.sub("", line) for line in output.splitlines()]


def problems(output: str) -> list[str]:
    """The ERROR/WARNING lines of gnt-cluster verify's output."""
    return [line.strip() for line in messages(output)
            if line.strip().startswith(("- ERROR", "- WARNING"))]


def set_candidates(cluster: MasterCluster, candidates: Sequence[str], pool_size: int) -> None:
    master_paths = cluster.nodes.master.paths
    cfg = ConfigWriter(master_paths.config_file)
    for node in list(cfg.get_all_nodes_info().values()):
        node.master_candidate = node.name in candidates
        cfg.update(node)
    cluster_obj = cfg.get_cluster_info()
    cluster_obj.candidate_pool_size = pool_size
    cfg.update(cluster_obj)
    for node in cluster.nodes.nodes:
        if node.name not in candidates:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(node.paths.config_file)


@contextlib.contextmanager
def verify_cluster(base_dir: str, count: int = 3, candidates: Sequence[str] | None = None,
                   pool_size: int = 10) -> Iterator[MasterCluster]:
    cluster = create_cluster(base_dir, count, start_noded=True, start_master=False)
    try:
        names = [node.name for node in cluster.nodes.nodes]
        set_candidates(cluster, names if candidates is None else candidates, pool_size)
        master_paths: pathutils.Paths = cluster.nodes.master.paths
        x509.write_file(master_paths.rapi_cert_file,
                        x509.generate_cluster_cert(common_name=cluster.nodes.master.name))
        cluster.master.start()
        result = cluster.master.run_cli("cluster", "redist-conf")
        assert result.returncode == 0, result.stderr
        yield cluster
    finally:
        cluster.stop()


def node_has(cluster: MasterCluster, node_name: str, cluster_path: str) -> bool:
    root = cluster.nodes.node(node_name).root
    return os.path.exists(os.path.join(root, cluster_path.lstrip("/")))


def read_node_file(cluster: MasterCluster, node_name: str, cluster_path: str) -> bytes:
    root = cluster.nodes.node(node_name).root
    with open(os.path.join(root, cluster_path.lstrip("/")), "rb") as handle:
        return handle.read()


CLUSTER_PATHS = pathutils.for_root("/")
SSCONF_NODE_LIST = CLUSTER_PATHS.ssconf_file("node_list")
ECODE_FILECHECK = "ECLUSTERFILECHECK"
