"""pytest fixtures: a real local multi-node cluster (ganeti.tools.local_cluster).

Use it from a test module with::

    from local_cluster_fixture import local_cluster  # noqa: F401 (fixture)

``local_cluster`` (module scope) brings up three nodes (fewer if node add
is not available) and stops everything afterwards. Every cluster gets its
own block of loopback addresses (``reserve_addresses``), held under a lock
file while it lives, so test sessions running at the same time on this
machine never share an address (and so never a port).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator

import pytest

from ganeti import constants
from ganeti.tools.local_cluster import LocalCluster, node_address

#: Indexes below this are left to clusters started by hand (local-cluster up).
FIRST_TEST_INDEX = 20


def _free(address: str) -> bool:
    import socket

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, constants.DEFAULT_NODED_PORT))
        except OSError:
            return False
    return True


def _lock_address(index: int) -> int | None:
    """An fd holding the lock of node address ``index``, or None if taken."""
    lock_path = os.path.join(tempfile.gettempdir(),
                             "ganeti-local-cluster-127.0.1.%d.lock" % index)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


@contextlib.contextmanager
def reserve_addresses(count: int) -> Iterator[int]:
    """The first index of ``count`` consecutive free node addresses, held locked.

    Each address has its own lock, so blocks of different sizes never overlap.
    """
    for first in range(FIRST_TEST_INDEX, 255 - count):
        held: list[int] = []
        try:
            for index in range(first, first + count):
                fd = _lock_address(index)
                if fd is None or not _free(node_address(index)):
                    if fd is not None:
                        os.close(fd)
                    break
                held.append(fd)
            else:
                yield first
                return
        finally:
            for fd in held:
                os.close(fd)  # releases the lock
    raise RuntimeError("no block of %d free loopback node addresses" % count)


@contextlib.contextmanager
def running_local_cluster(base_dir: str, nodes: int = 3) -> Iterator[LocalCluster]:
    with reserve_addresses(nodes) as first:
        cluster = LocalCluster(base_dir, nodes=nodes, first_index=first)
        try:
            cluster.up()
            yield cluster
        finally:
            cluster.down()


@pytest.fixture(scope="module")
def local_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A local cluster of three nodes (node1 the master), stopped afterwards."""
    with running_local_cluster(str(tmp_path_factory.mktemp("local-cluster"))) as cluster:
        yield cluster
