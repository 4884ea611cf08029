"""gnt-cluster queue, watcher, tags, command, copyfile, renew-crypto on a local cluster."""

from __future__ import annotations

import hashlib
import os
import subprocess

import pytest
from local_cluster_fixture import local_cluster  # noqa: F401 (fixture)
from redist_cluster import problems

from ganeti.tools.local_cluster import LocalCluster


def _gnt(cluster: LocalCluster, *argv: str, node: int = 1) -> subprocess.CompletedProcess[str]:
    return cluster.run_cli(node, ["gnt-cluster", *argv])


def _digest(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha1(handle.read()).hexdigest()


def test_queue_drain_and_undrain(local_cluster: LocalCluster) -> None:  # noqa: F811
    assert _gnt(local_cluster, "queue", "info").stdout.strip() == "The drain flag is unset"
    assert _gnt(local_cluster, "queue", "drain").returncode == 0
    try:
        assert _gnt(local_cluster, "queue", "info").stdout.strip() == "The drain flag is set"
        refused = _gnt(local_cluster, "redist-conf")
        assert refused.returncode == 1
        assert "drain" in refused.stderr
    finally:
        assert _gnt(local_cluster, "queue", "undrain").returncode == 0
    assert _gnt(local_cluster, "queue", "info").stdout.strip() == "The drain flag is unset"


def test_watcher_pause_and_continue(local_cluster: LocalCluster) -> None:  # noqa: F811
    assert _gnt(local_cluster, "watcher", "info").stdout.strip() == "The watcher is not paused."
    paused = _gnt(local_cluster, "watcher", "pause", "1h")
    assert paused.returncode == 0, paused.stderr
    assert paused.stdout.startswith("The watcher is paused until ")
    assert _gnt(local_cluster, "watcher", "info").stdout == paused.stdout
    assert _gnt(local_cluster, "watcher", "continue").stdout.strip() == \
        "The watcher is no longer paused."
    assert _gnt(local_cluster, "watcher", "info").stdout.strip() == "The watcher is not paused."
    bad = _gnt(local_cluster, "watcher", "pause", "soon")
    assert bad.returncode == 2 and "soon" in bad.stderr


def test_cluster_tags(local_cluster: LocalCluster) -> None:  # noqa: F811
    added = _gnt(local_cluster, "add-tags", "web", "db-tier")
    assert added.returncode == 0, added.stderr
    assert _gnt(local_cluster, "list-tags").stdout.split() == ["db-tier", "web"]
    found = _gnt(local_cluster, "search-tags", "^db")
    assert found.returncode == 0, found.stderr
    assert found.stdout.splitlines() == ["/cluster db-tier"]
    assert _gnt(local_cluster, "remove-tags", "web").returncode == 0
    assert _gnt(local_cluster, "list-tags").stdout.split() == ["db-tier"]
    assert _gnt(local_cluster, "add-tags").returncode == 2  # no tags given


def test_modify_needs_a_parameter(local_cluster: LocalCluster) -> None:  # noqa: F811
    result = _gnt(local_cluster, "modify")
    assert result.returncode == 2
    assert "at least one of the parameters" in result.stderr


def test_command_on_all_and_some_nodes(local_cluster: LocalCluster) -> None:  # noqa: F811
    names = [node.name for node in local_cluster.node_list()]
    result = _gnt(local_cluster, "command", "echo", "$GANETI_HOSTNAME")
    assert result.returncode == 0, result.stderr
    blocks = result.stdout.split("------------------------------------------------\n")[1:]
    # The master runs last, as in Ganeti.
    assert [block.splitlines()[0] for block in blocks] == \
        ["node: %s" % name for name in names[1:] + names[:1]]
    for name, block in zip(names[1:] + names[:1], blocks):
        assert block.splitlines()[1:] == [name, "return code = 0"]

    one = _gnt(local_cluster, "command", "-M", "-n", names[1], "echo hi; exit 3")
    assert one.returncode == 1
    assert one.stdout.splitlines() == ["------------------------------------------------",
                                       "%s: hi" % names[1], "return code = 3"]
    grouped = _gnt(local_cluster, "command", "-g", "default", "-M", "echo in-group")
    assert grouped.returncode == 0, grouped.stderr
    assert sorted(line for line in grouped.stdout.splitlines() if line.endswith("in-group")) \
        == sorted("%s: in-group" % name for name in names)
    no_group = _gnt(local_cluster, "command", "-g", "nosuchgroup", "true")
    assert no_group.returncode == 1 and "nosuchgroup" in no_group.stderr
    quiet = _gnt(local_cluster, "command", "--failure-only", "true")
    assert (quiet.returncode, quiet.stdout) == (0, "")
    unknown = _gnt(local_cluster, "command", "-n", "nosuchnode", "true")
    assert unknown.returncode == 1 and "nosuchnode" in unknown.stderr


def test_copyfile(local_cluster: LocalCluster) -> None:  # noqa: F811
    master, second, third = local_cluster.node_list()
    source = os.path.join(master.root, "etc", "copyfile-test.conf")
    os.makedirs(os.path.dirname(source), exist_ok=True)
    with open(source, "w", encoding="ascii") as handle:
        handle.write("copied\n")
    os.chmod(source, 0o640)
    result = _gnt(local_cluster, "copyfile", "-n", second.name, source)
    assert result.returncode == 0, result.stderr
    copy = os.path.join(second.root, "etc", "copyfile-test.conf")
    with open(copy, encoding="ascii") as handle:
        assert handle.read() == "copied\n"
    assert os.stat(copy).st_mode & 0o777 == 0o640
    assert not os.path.exists(os.path.join(third.root, "etc", "copyfile-test.conf"))
    missing = _gnt(local_cluster, "copyfile", os.path.join(master.root, "no-such-file"))
    assert missing.returncode == 1 and "no-such-file" in missing.stderr


def test_renew_crypto_keeps_every_node(local_cluster: LocalCluster) -> None:  # noqa: F811
    nodes = local_cluster.node_list()
    before = {node.name: (_digest(node.paths.server_cert_file),
                          _digest(node.paths.confd_hmac_key_file)) for node in nodes}
    refused = _gnt(local_cluster, "renew-crypto", "-f")
    assert refused.returncode == 2 and "Nothing to renew" in refused.stderr
    result = _gnt(local_cluster, "renew-crypto", "-f", "--new-cluster-certificate",
                  "--new-confd-hmac-key", "--new-rapi-certificate")
    assert result.returncode == 0, result.stdout + result.stderr
    after = {node.name: (_digest(node.paths.server_cert_file),
                         _digest(node.paths.confd_hmac_key_file)) for node in nodes}
    assert len(set(after.values())) == 1  # the same new files everywhere
    assert set(after.values()).isdisjoint(before.values())
    verify = _gnt(local_cluster, "verify")
    assert (verify.returncode, problems(verify.stdout)) == (0, []), verify.stdout
    listed = local_cluster.run_cli(1, ["gnt-node", "list", "--no-headers", "-o", "name"])
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == [node.name for node in nodes]


@pytest.mark.parametrize("args", [["--new-ssh-keys"],
                                  ["--new-rapi-certificate", "--rapi-certificate", "/x"]])
def test_renew_crypto_refuses_unsupported(local_cluster: LocalCluster,  # noqa: F811
                                          args: list[str]) -> None:
    result = _gnt(local_cluster, "renew-crypto", "-f", *args)
    assert result.returncode in (1, 2)
    assert result.stderr.strip()
