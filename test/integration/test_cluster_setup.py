"""gnt-cluster init/info/getmaster/version/rename/master-ping/destroy on a real node."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psutil
import pytest
from local_cluster_fixture import reserve_addresses

from ganeti import (
    bootstrap,
    constants,
    errors,
    netutils,
    pathutils,
    serializer,
    ssconf,
)
from ganeti.server import daemon_util
from ganeti.utils import x509

DOMAIN = "setup.test"


@dataclass
class Node:
    root: str
    name: str
    address: str

    @property
    def paths(self) -> pathutils.Paths:
        return pathutils.for_root(self.root)

    @property
    def cluster_name(self) -> str:
        return "cluster." + DOMAIN

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env[pathutils.ROOTDIR_ENV] = self.root
        env[netutils.HOSTNAME_ENV] = self.name
        return env

    def gnt(self, command: str, *args: str) -> subprocess.CompletedProcess[str]:
        module = "ganeti.client.gnt_%s" % command
        return subprocess.run([sys.executable, "-m", module, *args], env=self.env(),
                              capture_output=True, text=True, timeout=120, check=False)

    def daemon_pids(self) -> dict[str, int]:
        return {name: pid for name in daemon_util.START_ORDER
                if (pid := daemon_util.running_pid(name, self.paths)) is not None}

    def stop(self) -> None:
        daemon_util.run(["stop-all"], env=self.env(), timeout=120)


def _make_node(base: str, index: int, extra_hosts: str = "") -> Node:
    address = netutils_address(index)
    node = Node(os.path.join(base, "node"), "node%d.%s" % (index, DOMAIN), address)
    os.makedirs(node.paths.data_dir)
    with open(node.paths.cluster_hosts_file, "w") as handle:
        handle.write("# test cluster\n%s %s node%d\n%s cluster.%s\n%s"
                     % (address, node.name, index, address, DOMAIN, extra_hosts))
    return node


def netutils_address(index: int) -> str:
    return "127.0.1.%d" % index


@pytest.fixture
def fresh_node(tmp_path: Any) -> Iterator[Node]:
    with reserve_addresses(1) as index:
        node = _make_node(str(tmp_path), index, "%s renamed.%s\n"
                          % (netutils_address(index), DOMAIN))
        try:
            yield node
        finally:
            node.stop()


INIT_ARGS = ("--enabled-hypervisors=fake", "--enabled-disk-templates=diskless,file",
             "-B", "vcpus=2,maxmem=256M", "--node-parameters=ssh_port=2222", "-C", "5",
             "-m", "aa:bb:cc")


def test_init_info_rename_destroy(fresh_node: Node) -> None:
    node = fresh_node
    paths = node.paths
    result = node.gnt("cluster", "init", *INIT_ARGS, node.cluster_name)
    assert result.returncode == 0, result.stderr
    assert "Cluster %s initialised" % node.cluster_name in result.stdout

    # Files: config, ssconf, certificates and keys with private modes.
    config = serializer.load(open(paths.config_file).read())
    cluster = config["cluster"]
    assert cluster["cluster_name"] == node.cluster_name
    assert cluster["master_ip"] == node.address
    assert cluster["enabled_hypervisors"] == ["fake"]
    assert cluster["enabled_disk_templates"] == ["diskless", "file"]
    assert cluster["beparams"]["default"]["vcpus"] == 2
    assert cluster["beparams"]["default"]["maxmem"] == 256
    assert cluster["ndparams"]["ssh_port"] == 2222
    assert cluster["candidate_pool_size"] == 5 and cluster["mac_prefix"] == "aa:bb:cc"
    [(node_uuid, node_data)] = config["nodes"].items()
    assert node_data["name"] == node.name and node_data["master_candidate"]
    assert cluster["master_node"] == node_uuid
    assert [g["name"] for g in config["nodegroups"].values()] == ["default"]
    store = ssconf.SimpleStore(paths)
    assert store.get_master_node() == node.name
    assert store.get_node_primary_ips() == {node.name: node.address}
    assert store.get_cluster_name() == node.cluster_name
    for pem_file in (paths.server_cert_file, paths.client_cert_file, paths.rapi_cert_file):
        assert os.stat(pem_file).st_mode & 0o777 == 0o400
    client_pem = open(paths.client_cert_file, "rb").read()
    assert x509.verify_signed_by(client_pem, open(paths.server_cert_file, "rb").read())
    assert cluster["candidate_certs"] == {node_uuid: x509.fingerprint(client_pem)}
    key = open(paths.confd_hmac_key_file).read()
    assert len(key) == 65 and key.endswith("\n") and int(key, 16) >= 0
    assert os.path.exists(paths.ssh_key_file) and os.path.exists(paths.queue_dir)

    # Daemons run, bound to the node's own address.
    pids = node.daemon_pids()
    assert constants.NODED in pids and constants.MASTERD in pids
    listening = {(c.laddr.ip, c.laddr.port)
                 for c in psutil.Process(pids[constants.NODED]).net_connections("tcp")
                 if c.status == psutil.CONN_LISTEN}
    assert listening == {(node.address, constants.DEFAULT_NODED_PORT)}

    # A second init is refused and changes nothing.
    before = open(paths.config_file, "rb").read()
    again = node.gnt("cluster", "init", *INIT_ARGS, node.cluster_name)
    assert again.returncode == 1
    assert "already part of a cluster" in again.stderr and "config.data" in again.stderr
    assert open(paths.config_file, "rb").read() == before

    # info (text and JSON), getmaster, version, master-ping.
    info = node.gnt("cluster", "info")
    assert info.returncode == 0, info.stderr
    assert "Cluster name: %s" % node.cluster_name in info.stdout
    assert "Master node: %s" % node.name in info.stdout
    assert "  candidate pool size: 5" in info.stdout
    as_json = serializer.load(node.gnt("cluster", "info", "--output=json").stdout)
    assert as_json["name"] == node.cluster_name and as_json["master"] == node.name
    assert as_json["beparams"]["default"]["vcpus"] == 2
    assert node.gnt("cluster", "show").stdout == info.stdout
    getmaster = node.gnt("cluster", "getmaster")
    assert (getmaster.returncode, getmaster.stdout) == (0, node.name + "\n")
    version = node.gnt("cluster", "version").stdout
    assert "Software version: %s\n" % constants.RELEASE_VERSION in version
    assert "Internode protocol: %d\n" % constants.PROTOCOL_VERSION in version
    assert "Configuration format: %d\n" % constants.CONFIG_VERSION in version
    assert node.gnt("cluster", "master-ping").returncode == 0

    # rename: confirmation needed, unresolvable and unchanged names refused.
    new_name = "renamed." + DOMAIN
    assert node.gnt("cluster", "rename", new_name).returncode == cli_confirmation()
    bad = node.gnt("cluster", "rename", "-f", "nowhere.invalid")
    assert bad.returncode == 1 and "nowhere.invalid" in bad.stderr
    same = node.gnt("cluster", "rename", "-f", node.cluster_name)
    assert same.returncode == 1 and "has changed" in same.stderr
    renamed = node.gnt("cluster", "rename", "-f", new_name)
    assert renamed.returncode == 0, renamed.stderr
    assert store.get_cluster_name() == new_name
    assert serializer.load(node.gnt("cluster", "info", "--output=json").stdout)["name"] \
        == new_name

    # destroy: needs --yes-do-it; then daemons stop and cluster files go.
    refused = node.gnt("cluster", "destroy")
    assert refused.returncode == 1 and "--yes-do-it" in refused.stderr
    assert os.path.exists(paths.config_file)
    destroyed = node.gnt("cluster", "destroy", "--yes-do-it")
    assert destroyed.returncode == 0, destroyed.stderr
    assert node.daemon_pids() == {}
    assert all(not psutil.pid_exists(pid) or psutil.Process(pid).status()
               == psutil.STATUS_ZOMBIE for pid in pids.values())
    assert bootstrap.already_in_cluster(paths) is None
    assert not any(name.startswith("ssconf_") for name in os.listdir(paths.data_dir))
    assert os.path.exists(paths.cluster_hosts_file)  # the machine's, not the cluster's
    assert node.gnt("cluster", "master-ping").returncode == 1
    assert node.gnt("cluster", "getmaster").returncode == 5


def cli_confirmation() -> int:
    from ganeti import cli

    return cli.EXIT_CONFIRMATION


def test_init_bad_input_changes_nothing(fresh_node: Node) -> None:
    node = fresh_node
    cases = [
        (("--enabled-hypervisors=nosuchhv",), "nosuchhv"),
        (("--enabled-hypervisors=fake", "-B", "vcpus=many"), "vcpus"),
        (("--enabled-hypervisors=fake", "-H", "fake:bogus=1"), "bogus"),
        (("--enabled-hypervisors=fake", "-m", "zz:00:00"), "MAC prefix"),
        (("--enabled-hypervisors=fake", "--master-netmask", "40"), "netmask"),
        (("--enabled-hypervisors=fake", "--file-storage-dir", "relative/dir"),
         "absolute"),
    ]
    for args, needle in cases:
        result = node.gnt("cluster", "init", *args, node.cluster_name)
        assert result.returncode != 0, args
        assert needle in result.stderr, (args, result.stderr)
        assert sorted(os.listdir(node.paths.data_dir)) == ["hosts"], args
        assert node.daemon_pids() == {}


def test_init_refuses_unresolvable_node(tmp_path: Any) -> None:
    with reserve_addresses(1) as index:
        node = _make_node(str(tmp_path), index)
        node.name = "ghost.nowhere.invalid"
        result = node.gnt("cluster", "init", "--enabled-hypervisors=fake",
                          node.cluster_name)
        assert result.returncode == 1
        assert "ghost.nowhere.invalid" in result.stderr
        assert sorted(os.listdir(node.paths.data_dir)) == ["hosts"]


def test_resolve_through_cluster_hosts_file(tmp_path: Any) -> None:
    paths = pathutils.for_root(str(tmp_path))
    os.makedirs(paths.data_dir)
    with open(paths.cluster_hosts_file, "w") as handle:
        handle.write("# comment\n127.0.1.7 node7.example.test node7  # trailing\n"
                     "not-an-ip bogus.example.test\n::1 six.example.test\n")
    assert netutils.resolve("node7.example.test", paths) == ("node7.example.test",
                                                            "127.0.1.7")
    assert netutils.resolve("NODE7", paths) == ("node7.example.test", "127.0.1.7")
    assert netutils.lookup_ip("six.example.test", paths) == "::1"
    assert netutils.resolve("127.0.1.9", paths) == ("127.0.1.9", "127.0.1.9")
    # Not in the file: the system resolver answers (localhost) or fails clearly.
    assert netutils.lookup_ip("localhost", paths) in ("127.0.0.1", "::1")
    for name in ("bogus.example.test", "missing.invalid"):
        with pytest.raises(errors.ResolverError, match=name):
            netutils.resolve(name, paths)
    with pytest.raises(errors.ResolverError, match="empty"):
        netutils.resolve("  ", paths)


def test_daemon_util_binds_to_the_node_address_and_follows_roles(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = pathutils.for_root(str(tmp_path))
    names = ["n1.%s" % DOMAIN, "n2.%s" % DOMAIN, "n3.%s" % DOMAIN]
    ssconf.write_files({
        ssconf.KEY_MASTER_NODE: names[0],
        ssconf.KEY_MASTER_CANDIDATES: "\n".join(names[:2]),
        ssconf.KEY_NODE_PRIMARY_IPS: "\n".join("%s 127.0.1.%d" % (n, i)
                                               for i, n in enumerate(names, start=1)),
    }, paths)
    tree_daemons = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "daemons")
    monkeypatch.setenv(daemon_util.DAEMONS_DIR_ENV, tree_daemons)
    monkeypatch.delenv("NODED_ARGS", raising=False)
    installed = [d for d in daemon_util.START_ORDER if daemon_util.installed(d)]
    assert constants.NODED in installed and constants.MASTERD in installed

    monkeypatch.setenv(netutils.HOSTNAME_ENV, names[1])
    assert daemon_util.daemon_args(constants.NODED, [], paths) == ["-b", "127.0.1.2"]
    assert daemon_util.daemon_args(constants.NODED, ["-b", "0.0.0.0"], paths) \
        == ["-b", "0.0.0.0"]
    assert daemon_util.daemon_args(constants.NODED, ["--bind=::1"], paths) == ["--bind=::1"]
    assert daemon_util.daemon_args(constants.MASTERD, ["-d"], paths) == ["-d"]
    candidate = daemon_util.wanted_daemons(paths)
    assert constants.NODED in candidate and constants.MASTERD not in candidate
    assert (constants.CONFD in candidate) == (constants.CONFD in installed)

    monkeypatch.setenv(netutils.HOSTNAME_ENV, names[2])
    plain = daemon_util.wanted_daemons(paths)
    assert constants.CONFD not in plain and constants.MASTERD not in plain

    monkeypatch.setenv(netutils.HOSTNAME_ENV, names[0])
    assert daemon_util.wanted_daemons(paths) == installed
    # A node unknown to ssconf gets no default address (the daemon's own default).
    monkeypatch.setenv(netutils.HOSTNAME_ENV, "stranger.%s" % DOMAIN)
    assert daemon_util.daemon_args(constants.NODED, [], paths) == []
