"""Fixtures of the integration tests (real daemons on loopback addresses).

pytest puts this directory on sys.path (rootdir-relative imports, no
package), so test modules import the helper as ``noded_cluster``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from noded_cluster import NodedCluster, running_cluster


@pytest.fixture(scope="module")
def noded_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodedCluster]:
    """Three real noded processes (node1..node3 on 127.0.1.1..3), node1 the master."""
    with running_cluster(str(tmp_path_factory.mktemp("noded-cluster"))) as cluster:
        yield cluster
