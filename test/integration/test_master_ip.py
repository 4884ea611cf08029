"""The master IP on a real two-node local cluster.

The cluster's master IP is a loopback address of its own block (node1's,
as the local cluster names the cluster after the master's address) on
``lo``; the tests add and remove only that address (as root), and check
``ip -o addr show dev lo``. The administrator's master-ip-setup script is
a recorder written below each node's root, so its calls show which node
brought the IP up or down (master failover moves it).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator

import pytest
from local_cluster_fixture import running_local_cluster

from ganeti import constants, pathutils, ssconf
from ganeti.tools.local_cluster import LocalCluster

pytestmark = [pytest.mark.timeout(600),
              pytest.mark.skipif(os.geteuid() != 0, reason="adding addresses needs root")]

_RECORDER = """#!/bin/sh
echo "$1 $MASTER_IP $MASTER_NETMASK $MASTER_NETDEV $CLUSTER_IP_VERSION" >> '%s'
"""
_ENV_HOOK = """#!/bin/sh
env | grep '^GANETI_' | sort > '%s'
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    base = tempfile.mkdtemp(prefix="master-ip-")
    with running_local_cluster(base, nodes=2) as local:
        try:
            yield local
        finally:
            # Leave no address behind on lo.
            _gnt(local, 1, "gnt-cluster", "modify", "--use-external-mip-script", "no",
                 check=False)
            _gnt(local, _master(local), "gnt-cluster", "deactivate-master-ip", "--yes",
                 check=False)
    subprocess.run(["rm", "-rf", base], check=False)


def _gnt(cluster: LocalCluster, which: int | str, *argv: str,
         check: bool = True) -> subprocess.CompletedProcess[str]:
    result = cluster.run_cli(which, list(argv))
    if check:
        assert result.returncode == 0, "%s: %s%s" % (argv, result.stdout, result.stderr)
    return result


def _master(cluster: LocalCluster) -> str:
    return ssconf.SimpleStore(cluster.node(1).paths).get_master_node()


def _master_ip(cluster: LocalCluster) -> str:
    return ssconf.SimpleStore(cluster.node(1).paths).get_master_ip()


def _on_lo(ip: str) -> bool:
    out = subprocess.run(["ip", "-o", "addr", "show", "dev", "lo"], capture_output=True,
                         text=True, check=True).stdout
    return any(line.split()[3] == "%s/32" % ip for line in out.splitlines()
               if len(line.split()) > 3)


def _script_log(cluster: LocalCluster, which: int) -> str:
    return os.path.join(cluster.node(which).root, "master-ip-setup.log")


def _read(path: str) -> list[str]:
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        return handle.read().splitlines()


def _install(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o755)


def test_activate_and_deactivate_on_lo(cluster: LocalCluster) -> None:
    ip = _master_ip(cluster)
    assert ip == cluster.node(1).address
    out = _gnt(cluster, 1, "gnt-cluster", "deactivate-master-ip", "--yes").stdout
    assert not _on_lo(ip)
    assert "nothing to do" in out or "removed from lo" in out
    out = _gnt(cluster, 1, "gnt-cluster", "activate-master-ip").stdout
    assert "Master IP %s/32 added on lo" % ip in out
    assert _on_lo(ip)
    # Again: already there, nothing changes.
    out = _gnt(cluster, 1, "gnt-cluster", "activate-master-ip").stdout
    assert "already configured on this machine" in out
    assert _on_lo(ip)
    # Without --yes and nobody to answer: nothing happens.
    result = cluster.run_cli(1, ["gnt-cluster", "deactivate-master-ip"])
    assert result.returncode == 1
    assert _on_lo(ip)
    out = _gnt(cluster, 1, "gnt-cluster", "deactivate-master-ip", "--yes").stdout
    assert "Master IP %s/32 removed from lo" % ip in out
    assert not _on_lo(ip)
    _gnt(cluster, 1, "gnt-cluster", "activate-master-ip")
    assert _on_lo(ip)


def test_masterd_start_activates_the_master_ip(cluster: LocalCluster) -> None:
    ip = _master_ip(cluster)
    _gnt(cluster, 1, "gnt-cluster", "deactivate-master-ip", "--yes")
    assert not _on_lo(ip)
    env = cluster.full_env(1)
    daemon_util = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "daemons", "daemon-util")
    for action in ("stop", "start"):
        subprocess.run([daemon_util, action, constants.MASTERD], env=env, check=True,
                       capture_output=True, timeout=120)
    assert _on_lo(ip)


def test_hooks_around_the_master_ip(cluster: LocalCluster) -> None:
    paths = cluster.node(1).paths
    ip = _master_ip(cluster)
    record = os.path.join(cluster.node(1).root, "turndown-post.env")
    post_hook = os.path.join(paths.hooks_dir("master-ip-turndown", "post"), "10record")
    failing = os.path.join(paths.hooks_dir("master-ip-turnup", "pre"), "10refuse")
    _install(post_hook, _ENV_HOOK % record)
    try:
        _gnt(cluster, 1, "gnt-cluster", "deactivate-master-ip", "--yes")
        env = dict(line.split("=", 1) for line in _read(record))
        assert env["GANETI_MASTER_IP"] == ip
        assert env["GANETI_MASTER_NETDEV"] == "lo"
        assert env["GANETI_MASTER_NETMASK"] == "32"
        assert env["GANETI_CLUSTER_IP_VERSION"] == "4"
        assert env["GANETI_HOOKS_PATH"] == "master-ip-turndown"
        assert env["GANETI_HOOKS_PHASE"] == "post"
        _install(failing, "#!/bin/sh\necho not now\nexit 1\n")
        result = _gnt(cluster, 1, "gnt-cluster", "activate-master-ip", check=False)
        assert result.returncode != 0
        assert "master-ip-turnup pre hooks failed" in result.stderr
        assert "10refuse: not now" in result.stderr
        assert not _on_lo(ip)
    finally:
        for path in (post_hook, failing):
            if os.path.exists(path):
                os.unlink(path)
    _gnt(cluster, 1, "gnt-cluster", "activate-master-ip")
    assert _on_lo(ip)


def test_external_script_and_master_failover(cluster: LocalCluster) -> None:
    ip = _master_ip(cluster)
    logs = {i: _script_log(cluster, i) for i in (1, 2)}
    for i, log in logs.items():
        _install(pathutils.for_root(cluster.node(i).root).external_master_setup_script,
                 _RECORDER % log)
    _gnt(cluster, 1, "gnt-cluster", "modify", "--use-external-mip-script", "yes")
    try:
        _gnt(cluster, 1, "gnt-cluster", "deactivate-master-ip", "--yes")
        _gnt(cluster, 1, "gnt-cluster", "activate-master-ip")
        assert _read(logs[1]) == ["stop %s 32 lo 4" % ip, "start %s 32 lo 4" % ip]
        assert _read(logs[2]) == []

        # The failover takes the IP down on node1 and node2's masterd brings it up.
        first, second = cluster.node(1).name, cluster.node(2).name
        result = _gnt(cluster, 2, "gnt-cluster", "master-failover")
        assert "from %s to %s" % (first, second) in result.stdout
        assert _read(logs[1])[-1] == "stop %s 32 lo 4" % ip
        assert _read(logs[2]) == ["start %s 32 lo 4" % ip]

        result = _gnt(cluster, 1, "gnt-cluster", "master-failover")
        assert "from %s to %s" % (second, first) in result.stdout
        assert _read(logs[2])[-1] == "stop %s 32 lo 4" % ip
        assert _read(logs[1])[-1] == "start %s 32 lo 4" % ip

        # A missing script is an error naming it.
        script = pathutils.for_root(cluster.node(1).root).external_master_setup_script
        os.chmod(script, 0o644)
        result = _gnt(cluster, 1, "gnt-cluster", "activate-master-ip", check=False)
        assert result.returncode != 0
        assert "%s is missing or not executable" % script in result.stderr
    finally:
        if _master(cluster) != cluster.node(1).name:
            _gnt(cluster, 1, "gnt-cluster", "master-failover", check=False)
        _gnt(cluster, 1, "gnt-cluster", "modify", "--use-external-mip-script", "no")
    # Back to ip addr: the address is managed on lo again.
    _gnt(cluster, 1, "gnt-cluster", "deactivate-master-ip", "--yes")
    assert not _on_lo(ip)
    _gnt(cluster, 1, "gnt-cluster", "activate-master-ip")
    assert _on_lo(ip)
