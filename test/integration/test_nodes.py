"""gnt-node on a real local cluster: add over SSH, list, modify roles, remove, tags.

The cluster (three nodes: node1 the master, the other two added with
``gnt-node add`` over the local sshd by ``LocalCluster.up``) lives for the
module; tests run in file order and leave it as they found it (three nodes,
all master candidates) unless they say otherwise.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import time
from collections.abc import Iterator

import pytest
from local_cluster_fixture import running_local_cluster

from ganeti import constants, serializer, ssconf, ssh
from ganeti.config import ConfigWriter
from ganeti.tools.local_cluster import LocalCluster
from ganeti.utils import x509

pytestmark = pytest.mark.timeout(300)

#: An ed25519 public key that is not the local sshd's.
_OTHER_HOST_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINNHV2RHef32drTMooN72FRAdWeISwO5+pRFvLY2"
                   "Ye9e")


def _kill_leftover_sshd(cluster: LocalCluster) -> None:
    """Stop this cluster's sshd if ``down`` left it (its pid file names it)."""
    layout = cluster.layout
    try:
        with open(layout.sshd_pid_file, encoding="ascii") as handle:
            pid = int(handle.read().strip())
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            cmdline = handle.read()
    except (OSError, ValueError):
        return
    if layout.sshd_config.encode() not in cmdline:
        return
    with contextlib.suppress(ProcessLookupError, FileNotFoundError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and os.path.exists("/proc/%d/cmdline" % pid):
            with open("/proc/%d/stat" % pid, encoding="ascii") as handle:
                if handle.read().split(")")[-1].split()[0] == "Z":  # exited, not yet reaped
                    return
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    base = str(tmp_path_factory.mktemp("nodes-cluster"))
    cluster = None
    try:
        with running_local_cluster(base, nodes=3) as cluster:
            yield cluster
    finally:
        if cluster is not None:
            _kill_leftover_sshd(cluster)


def gnt(cluster: LocalCluster, *argv: str) -> tuple[int, str, str]:
    result = cluster.run_cli(1, list(argv))
    return result.returncode, result.stdout, result.stderr


def ok(cluster: LocalCluster, *argv: str) -> str:
    code, out, err = gnt(cluster, *argv)
    assert code == 0, "%s failed (%d): %s%s" % (" ".join(argv), code, out, err)
    return out


def config(cluster: LocalCluster) -> ConfigWriter:
    return ConfigWriter(cluster.master.paths.config_file)


def config_bytes(cluster: LocalCluster) -> bytes:
    with open(cluster.master.paths.config_file, "rb") as handle:
        return handle.read()


def node_table(cluster: LocalCluster, fields: str) -> dict[str, list[str]]:
    out = ok(cluster, "gnt-node", "list", "--no-headers", "--separator=|", "-o", fields)
    rows = [line.split("|") for line in out.splitlines()]
    return {row[0]: row[1:] for row in rows}


def refused(cluster: LocalCluster, *argv: str) -> str:
    """Run a command that must fail and change nothing; its error output."""
    before = config_bytes(cluster)
    code, out, err = gnt(cluster, *argv)
    assert code != 0, "%s succeeded: %s" % (" ".join(argv), out)
    assert config_bytes(cluster) == before, "%s changed the configuration" % " ".join(argv)
    return err + out


# -- add ------------------------------------------------------------------------------------

def test_nodes_joined_over_ssh(cluster: LocalCluster) -> None:
    names = [node.name for node in cluster.node_list()]
    table = node_table(cluster, "name,role,pip,master_candidate,mtotal,ctotal")
    assert sorted(table) == sorted(names)
    assert table[names[0]][0] == "M"
    for node in cluster.node_list():
        _role, pip, candidate, mtotal, ctotal = table[node.name]
        assert pip == node.address
        assert candidate == "Y"
        # Live fields come from each node's own noded: numbers, not '*' (no data).
        assert int(mtotal) > 0 and int(ctotal) > 0
    master_pem = open(cluster.master.paths.server_cert_file, "rb").read()
    for node in cluster.node_list()[1:]:
        paths = node.paths
        assert open(paths.server_cert_file, "rb").read() == master_pem
        client = open(paths.client_cert_file, "rb").read()
        assert x509.verify_signed_by(client, master_pem)
        assert client != open(cluster.master.paths.client_cert_file, "rb").read()
        for secret in (paths.server_cert_file, paths.client_cert_file,
                       paths.confd_hmac_key_file):
            assert stat.S_IMODE(os.stat(secret).st_mode) & 0o077 == 0, secret
        assert open(paths.confd_hmac_key_file).read() == \
            open(cluster.master.paths.confd_hmac_key_file).read()
        store = ssconf.SimpleStore(paths)
        assert store.get_cluster_name() == cluster.cluster_name
        assert sorted(store.get_node_list()) == sorted(names)
        # Candidates hold the configuration.
        assert ConfigWriter(paths.config_file).get_config_serial() > 0


def test_list_defaults_fields_and_filters(cluster: LocalCluster) -> None:
    out = ok(cluster, "gnt-node", "list")
    assert out.splitlines()[0].split() == ["Node", "DTotal", "DFree", "MTotal", "MNode",
                                           "MFree", "Pinst", "Sinst"]
    out = ok(cluster, "gnt-node", "list", "--no-headers", "-o", "name",
             "--filter", serializer.dump(["==", "role", "M"]))
    assert out.split() == [cluster.master.name]
    out = ok(cluster, "gnt-node", "list", "--no-headers", "-o", "name,group",
             cluster.node(2).name)
    assert out.split() == [cluster.node(2).name, "default"]
    fields = ok(cluster, "gnt-node", "list-fields", "--no-headers", "--separator=|")
    kinds = {line.split("|")[0]: line.split("|")[1] for line in fields.splitlines()}
    assert kinds["mfree"] == constants.QFT_UNIT
    assert kinds["master_candidate"] == constants.QFT_BOOL
    assert {"pinst_cnt", "sinst_cnt", "group.uuid", "role", "sip"} <= set(kinds)
    code, _out, err = gnt(cluster, "gnt-node", "list", "-o", "name,nosuchfield")
    assert code == 14 and "nosuchfield" in err
    info = ok(cluster, "gnt-node", "info", cluster.node(2).name)
    assert "Node name: %s" % cluster.node(2).name in info
    assert "master candidate: True" in info


# -- modify ----------------------------------------------------------------------------------

def _set_pool_size(cluster: LocalCluster, size: int) -> None:
    ok(cluster, "gnt-cluster", "modify", "--candidate-pool-size", str(size))
    assert config(cluster).get_cluster_info().candidate_pool_size == size


def test_modify_roles_with_pool_auto_promotion(cluster: LocalCluster) -> None:
    node2, node3 = cluster.node(2).name, cluster.node(3).name
    _set_pool_size(cluster, 2)
    try:
        # Three candidates for a pool of two: node3 may step down.
        ok(cluster, "gnt-node", "modify", "--master-candidate=no", node3)
        assert node_table(cluster, "name,role")[node3] == ["R"]
        # A demoted node drops its config copy (kept aside) and stops confd.
        assert not os.path.exists(cluster.node(3).paths.config_file)
        assert os.path.exists(cluster.node(3).paths.config_file + ".demoted")
        # Offlining node2 would leave one candidate where two are possible.
        err = refused(cluster, "gnt-node", "modify", "--offline=yes", node2)
        assert "Not enough master candidates" in err and "--auto-promote" in err
        out = ok(cluster, "gnt-node", "modify", "--offline=yes", "--auto-promote", node2)
        assert "offline" in out
        roles = node_table(cluster, "name,role,offline,master_candidate")
        assert roles[node2] == ["O", "Y", "N"]
        assert roles[node3] == ["C", "N", "Y"]
        # The promoted node got the configuration (RedistributeConfig on promotion).
        assert os.path.exists(cluster.node(3).paths.config_file)
        # Live fields of an offline node are not asked: '*'.
        assert node_table(cluster, "name,mtotal")[node2] == ["*"]
        # Back online: the pool is full, so node2 comes back as a regular node.
        ok(cluster, "gnt-node", "modify", "--offline=no", node2)
        assert node_table(cluster, "name,role")[node2] == ["R"]
        ok(cluster, "gnt-node", "modify", "--drained=yes", node2)
        assert node_table(cluster, "name,role,drained")[node2] == ["D", "Y"]
        err = refused(cluster, "gnt-node", "modify", "--master-candidate=yes", node2)
        assert "drained" in err
        ok(cluster, "gnt-node", "modify", "--drained=no", node2)
        ok(cluster, "gnt-node", "modify", "--master-candidate=yes", node2)
        assert node_table(cluster, "name,role")[node2] == ["C"]
    finally:
        _set_pool_size(cluster, 10)
        for name in (node2, node3):
            if node_table(cluster, "name,role")[name] != ["C"]:
                ok(cluster, "gnt-node", "modify", "--master-candidate=yes", name)
    # Every copy follows the roles again: verify finds nothing to report.
    ok(cluster, "gnt-cluster", "verify")


def test_master_role_changes_refused(cluster: LocalCluster) -> None:
    master = cluster.master.name
    for flags in (["--master-candidate=no"], ["--offline=yes"], ["--drained=yes"]):
        err = refused(cluster, "gnt-node", "modify", *flags, master)
        assert "master" in err and master in err
    err = refused(cluster, "gnt-node", "remove", master)
    assert "master node" in err
    err = refused(cluster, "gnt-node", "modify", master)
    assert "at least one" in err


# -- bad adds --------------------------------------------------------------------------------

def test_add_refusals_leave_config_unchanged(cluster: LocalCluster) -> None:
    err = refused(cluster, "gnt-node", "add", "no-such-node.invalid")
    assert "no-such-node.invalid" in err and "resolve" in err.lower()
    err = refused(cluster, "gnt-node", "add", cluster.node(2).name)
    assert "already in the configuration" in err
    # A name that resolves to an address where no SSH server listens.
    hosts = cluster.master.paths.cluster_hosts_file
    with open(hosts, encoding="utf-8") as handle:
        saved = handle.read()
    try:
        with open(hosts, "a", encoding="utf-8") as handle:
            handle.write("127.0.2.77 nossh.cluster.local\n")
            handle.write("%s dupip.cluster.local\n" % cluster.node(2).address)
        err = refused(cluster, "gnt-node", "add", "nossh.cluster.local")
        assert "nossh.cluster.local" in err and "connect" in err.lower()
        err = refused(cluster, "gnt-node", "add", "dupip.cluster.local")
        assert cluster.node(2).address in err and cluster.node(2).name in err
    finally:
        with open(hosts, "w", encoding="utf-8") as handle:
            handle.write(saved)
    err = refused(cluster, "gnt-node", "add", "--readd", "no-such-node.invalid")
    assert "no-such-node.invalid" in err


# -- remove, host keys, re-add ----------------------------------------------------------------

def _known_hosts_without(path: str, name: str) -> str:
    with open(path, encoding="utf-8") as handle:
        saved = handle.read()
    kept = [line for line in saved.splitlines(keepends=True) if name not in line]
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(kept)
    return saved


def test_remove_and_add_again_with_host_key_checks(cluster: LocalCluster) -> None:
    node3 = cluster.node(3)
    ok(cluster, "gnt-node", "remove", node3.name)
    assert node3.name not in node_table(cluster, "name")
    assert config(cluster).find_node(node3.name) is None
    # The removed node forgot the cluster and its noded stopped.
    assert not os.path.exists(node3.paths.server_cert_file)
    assert node3.name not in ssconf.SimpleStore(cluster.master.paths).get_node_list()

    known_hosts = cluster.master.paths.known_hosts_file
    saved = _known_hosts_without(known_hosts, node3.name)
    try:
        err = refused(cluster, "gnt-node", "add", node3.name)
        assert "not in" in err and "--accept-new-host-key" in err
        assert not os.path.exists(node3.paths.server_cert_file)
        ok(cluster, "gnt-node", "add", "--accept-new-host-key", node3.name)
        with open(known_hosts, encoding="utf-8") as handle:
            assert node3.name in handle.read()
        table = node_table(cluster, "name,role,mtotal")
        assert table[node3.name][0] == "C" and int(table[node3.name][1]) > 0
        # A recorded key that differs is refused even with the option.
        ok(cluster, "gnt-node", "remove", node3.name)
        _known_hosts_without(known_hosts, node3.name)
        with open(known_hosts, "a", encoding="utf-8") as handle:
            handle.write("%s %s\n" % (ssh.host_key_name(node3.name, cluster.ssh_port or 22),
                                      _OTHER_HOST_KEY))
        err = refused(cluster, "gnt-node", "add", "--accept-new-host-key", node3.name)
        assert "mismatch" in err.lower()
    finally:
        with open(known_hosts, "w", encoding="utf-8") as handle:
            handle.write(saved)
        if config(cluster).find_node(node3.name) is None:
            ok(cluster, "gnt-node", "add", node3.name)
    assert node_table(cluster, "name,role")[node3.name] == ["C"]


def test_readd(cluster: LocalCluster) -> None:
    node2 = cluster.node(2)
    before = config(cluster).find_node(node2.name)
    assert before is not None
    ok(cluster, "gnt-node", "add", "--readd", node2.name)
    node = config(cluster).find_node(node2.name)
    assert node is not None and node.uuid == before.uuid
    assert node.master_candidate
    assert int(node_table(cluster, "name,mtotal")[node2.name][0]) > 0


# -- tags --------------------------------------------------------------------------------------

def test_node_tags(cluster: LocalCluster) -> None:
    name = cluster.node(2).name
    ok(cluster, "gnt-node", "add-tags", name, "rack:a1", "ssd")
    assert ok(cluster, "gnt-node", "list-tags", name).split() == ["rack:a1", "ssd"]
    assert node_table(cluster, "name,tags")[name] == ["rack:a1,ssd"]
    err = refused(cluster, "gnt-node", "remove-tags", name, "nosuchtag")
    assert "nosuchtag" in err
    err = refused(cluster, "gnt-node", "add-tags", name, "bad tag")
    assert "bad tag" in err
    ok(cluster, "gnt-node", "remove-tags", name, "rack:a1", "ssd")
    assert ok(cluster, "gnt-node", "list-tags", name).split() == []
