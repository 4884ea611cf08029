"""tools/local-cluster: a real multi-node cluster on this machine, up and down."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import psutil
import pytest
from local_cluster_fixture import reserve_addresses

from ganeti import constants, pathutils, serializer, ssconf
from ganeti.tools import local_cluster
from ganeti.tools.local_cluster import LocalCluster, LocalClusterError

TOOL = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tools", "local-cluster")


def _expected_nodes(cluster: LocalCluster) -> list[str]:
    names = [node.name for node in cluster.node_list()]
    # Until gnt-node add exists, up sets up the master only.
    return names if local_cluster._has_subcommand("gnt_node", "add") else names[:1]


def _listening(pid: int) -> set[tuple[str, int]]:
    return {(c.laddr.ip, c.laddr.port) for c in psutil.Process(pid).net_connections("tcp")
            if c.status == psutil.CONN_LISTEN}


def _gone(pid: int) -> bool:
    return not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_up_use_down_and_up_again(tmp_path: Any) -> None:
    with reserve_addresses(3) as first:
        cluster = LocalCluster(str(tmp_path), nodes=3, first_index=first)
        try:
            cluster.up()
            expected = _expected_nodes(cluster)
            assert cluster.joined == expected
            pids = cluster.running_pids()
            master = cluster.master
            assert "%s/%s" % (master.name, constants.MASTERD) in pids
            for node in cluster.node_list():
                if node.name not in expected:
                    continue
                noded = pids["%s/%s" % (node.name, constants.NODED)]
                # Each node's daemon serves on its own address, standard port.
                assert _listening(noded) == {(node.address, constants.DEFAULT_NODED_PORT)}
                if node.name != master.name:
                    # daemon-util start-all runs the master's daemons on the master only.
                    assert "%s/%s" % (node.name, constants.MASTERD) not in pids
                store = ssconf.SimpleStore(node.paths)
                assert store.get_master_node() == master.name
                assert sorted(store.get_node_list()) == sorted(expected)
            assert "sshd" in pids and _listening(pids["sshd"]) == {
                (n.address, cluster.ssh_port) for n in cluster.node_list()}

            # The names resolve through each node's cluster hosts file.
            listing = cluster.run_cli(1, ["gnt-cluster", "info", "--output=json"])
            info = serializer.load(listing.stdout)
            assert info["name"] == cluster.cluster_name and info["master"] == master.name
            assert info["master_ip"] == master.address
            assert info["ndparams"]["ssh_port"] == cluster.ssh_port

            # A job runs; the wrappers and `env` point at the master.
            delay = cluster.run_cli(1, ["gnt-debug", "delay", "0"])
            assert delay.returncode == 0, delay.stderr
            wrapper = os.path.join(cluster.layout.bin_dir, "gnt-cluster")
            getmaster = subprocess.run([wrapper, "getmaster"], capture_output=True,
                                       text=True, check=False)
            assert getmaster.stdout == master.name + "\n"
            env = subprocess.run([sys.executable, TOOL, "env", "--dir", str(tmp_path)],
                                 capture_output=True, text=True, check=True).stdout
            assert "export %s=%s\n" % (pathutils.ROOTDIR_ENV, master.root) in env
            assert "export GANETI_HOSTNAME=%s\n" % master.name in env
            cluster_uuid = info["uuid"]

            if len(expected) > 1:
                # Destroy refuses while other nodes are members, and changes nothing.
                config = open(master.paths.config_file, "rb").read()
                refused = cluster.run_cli(1, ["gnt-cluster", "destroy", "--yes-do-it"])
                assert refused.returncode == 1
                assert "still %d node(s)" % (len(expected) - 1) in refused.stderr
                assert open(master.paths.config_file, "rb").read() == config

            # A second up while running is refused.
            with pytest.raises(LocalClusterError, match="already running"):
                LocalCluster.load(str(tmp_path)).up()
        finally:
            stopped = cluster.down()
        assert "sshd" in stopped
        assert cluster.running_pids() == {}
        assert all(_gone(pid) for pid in pids.values())
        # down removes nothing: the cluster's files stay for the next up.
        assert os.path.exists(master.paths.config_file)

        again = LocalCluster.load(str(tmp_path))
        try:
            again.up()
            assert again.joined == expected
            info = serializer.load(again.run_cli(1, ["gnt-cluster", "info",
                                                     "--output=json"]).stdout)
            assert info["uuid"] == cluster_uuid  # restarted, not re-created
        finally:
            again.down()
        assert again.running_pids() == {}


def test_bad_arguments(tmp_path: Any) -> None:
    with pytest.raises(LocalClusterError, match="at least one node"):
        LocalCluster(str(tmp_path), nodes=0)
    with pytest.raises(LocalClusterError, match="from 1 to 254"):
        LocalCluster(str(tmp_path), nodes=3, first_index=253)
    with pytest.raises(LocalClusterError, match="no local cluster"):
        LocalCluster.load(str(tmp_path / "nothing"))
    cluster = LocalCluster(str(tmp_path), nodes=2)
    with pytest.raises(LocalClusterError, match="expected a gnt-\\* command"):
        cluster.run_cli(1, ["ls"])
    with pytest.raises(LocalClusterError, match="no node 'node9'"):
        cluster.env("node9")
    result = subprocess.run([sys.executable, TOOL, "down", "--dir", str(tmp_path / "none")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "no local cluster" in result.stderr
