"""A local cluster ready for instances: the test OS definitions on every node.

``running_instance_cluster()`` (wrapped in a module-scoped fixture by the tests) is a
three-node local cluster (fake hypervisor; diskless, file and sharedfile)
whose nodes have the test OS definitions of test/data/os in their OS search
path, and Debian's ganeti-os-noop where it is installed on this machine.
``Gnt`` runs gnt-* commands on the master and returns what they printed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from local_cluster_fixture import reserve_addresses

from ganeti import constants, pathutils, serializer
from ganeti.tools.local_cluster import LocalCluster

TREE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEST_OS_DIR = os.path.join(TREE, "test", "data", "os")
#: Where Debian's ganeti-os-noop puts its OS definition.
DEBIAN_NOOP_DIR = "/usr/share/ganeti/os/noop"


def install_test_os(cluster: LocalCluster) -> None:
    """Copy the test OS definitions (and Debian's noop, if present) to every node."""
    for node in cluster.node_list():
        search_path = pathutils.for_root(node.root).os_search_path
        for name in os.listdir(TEST_OS_DIR):
            shutil.copytree(os.path.join(TEST_OS_DIR, name),
                            os.path.join(search_path[0], name), dirs_exist_ok=True)
        if os.path.isdir(DEBIAN_NOOP_DIR):
            # The Debian directory of the search path, below the node's root.
            shutil.copytree(DEBIAN_NOOP_DIR, os.path.join(search_path[-1], "noop"),
                            dirs_exist_ok=True)


@dataclass
class Gnt:
    """Runs ``gnt-*`` commands on a local cluster's master."""

    cluster: LocalCluster

    def __call__(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = self.cluster.run_cli(1, list(argv))
        if check and result.returncode != 0:
            raise AssertionError("%s failed (exit %d):\n%s\n%s"
                                 % (" ".join(argv), result.returncode, result.stdout,
                                    result.stderr))
        return result

    def fails(self, *argv: str) -> str:
        """Run a command that must fail; its output (stdout + stderr)."""
        result = self(*argv, check=False)
        assert result.returncode != 0, "%s succeeded:\n%s" % (" ".join(argv), result.stdout)
        return result.stdout + result.stderr

    def rows(self, *argv: str) -> list[list[str]]:
        """A listing as rows of fields (``--no-headers --separator='|'`` added)."""
        out = self(*argv, "--no-headers", "--separator=|").stdout
        return [line.split("|") for line in out.splitlines() if line]

    def instances(self) -> dict[str, dict[str, str]]:
        """name -> {status, admin_state, pnode} of every instance."""
        rows = self.rows("gnt-instance", "list", "-o", "name,status,admin_state,pnode")
        return {row[0]: {"status": row[1], "admin_state": row[2], "pnode": row[3]}
                for row in rows}

    def config(self) -> dict[str, Any]:
        with open(self.paths(1).config_file, encoding="utf-8") as handle:
            data: dict[str, Any] = serializer.load(handle.read())
        return data

    def paths(self, which: int | str) -> pathutils.Paths:
        return pathutils.for_root(self.cluster.node(which).root)

    def node_name(self, which: int) -> str:
        return self.cluster.node(which).name

    def fake_state_dir(self, which: int | str) -> str:
        return self.paths(which).hypervisor_state_dir(constants.HT_FAKE)

    def file_storage_dir(self) -> str:
        """The cluster's file storage directory (the master root's, shared by all)."""
        return self.paths(1).default_file_storage_dir

    def files_of(self, instance: str) -> list[str]:
        directory = os.path.join(self.file_storage_dir(), instance)
        if not os.path.isdir(directory):
            return []
        return sorted(os.path.join(directory, f) for f in os.listdir(directory))

    def os_records(self, which: int | str, os_name: str) -> str:
        return os.path.join(self.paths(which).os_search_path[0], os_name, "records")

    def recorded_env(self, which: int | str, os_name: str, script: str,
                     instance: str) -> dict[str, str]:
        path = os.path.join(self.os_records(which, os_name), "%s-%s.env" % (script, instance))
        with open(path, encoding="utf-8") as handle:
            return dict(line.rstrip("\n").split("=", 1) for line in handle if "=" in line)

    def daemon_util(self, which: int, *args: str) -> None:
        subprocess.run([os.path.join(TREE, "daemons", "daemon-util"), *args],
                       env=self.cluster.full_env(which), check=True, capture_output=True,
                       timeout=60)


@contextlib.contextmanager
def running_instance_cluster() -> Iterator[Gnt]:
    """Test modules wrap this in their own module-scoped fixture."""
    base = tempfile.mkdtemp(prefix="instance-cluster-")
    try:
        with reserve_addresses(3) as first:
            cluster = LocalCluster(base, nodes=3, first_index=first,
                                   disk_templates=(constants.DT_DISKLESS, constants.DT_FILE,
                                                   constants.DT_SHARED_FILE))
            try:
                cluster.up()
                if len(cluster.joined) < 3:
                    pytest.skip("the local cluster has only %d node(s) here"
                                % len(cluster.joined))
                install_test_os(cluster)
                yield Gnt(cluster)
            finally:
                cluster.down()
    finally:
        shutil.rmtree(base, ignore_errors=True)
