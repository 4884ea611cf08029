"""gnt-os list/info/diagnose/modify on a real 3-node local cluster."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ops_cluster import config, forget_env, gnt, ops_cluster_up, recorded_env

from ganeti.tools.local_cluster import LocalCluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    yield from ops_cluster_up(tmp_path_factory)


def _list(cluster: LocalCluster) -> list[str]:
    return gnt(cluster, "gnt-os", "list", "--no-headers").stdout.split()


def test_list_diagnose_and_info(cluster: LocalCluster) -> None:
    names = _list(cluster)
    assert names == ["recorder+default", "recorder+other", "recorder2+default",
                     "recorder2+other"]  # halfbroken is invalid on two nodes: not listed
    diagnose = gnt(cluster, "gnt-os", "diagnose", ok=False)
    assert diagnose.returncode == 1
    text = diagnose.stdout
    assert "OS: halfbroken [global status: partially valid]" in text
    assert "OS: recorder [global status: valid]" in text
    master, second, third = (n.name for n in cluster.node_list())
    # Each node's verdict, with the reason for the invalid ones.
    assert "Node: %s, status: valid" % master in text
    for name in (second, third):
        assert ("Node: %s, status: invalid - OS halfbroken in " % name) in text
    assert "script 'create' is missing" in text
    info = gnt(cluster, "gnt-os", "info", "recorder").stdout
    assert "  - valid: True" in info and "  - API versions: 20, 15, 10" in info
    assert "  - variants: default, other" in info
    assert "    - color: the color" in info and "    - secret_key: a secret" in info
    missing = gnt(cluster, "gnt-os", "info", "nosuchos", ok=False)
    assert "nosuchos" in missing.stderr


def test_modify_hidden_blacklisted_and_parameters(cluster: LocalCluster) -> None:
    gnt(cluster, "gnt-os", "modify", "--hidden=yes", "recorder2")
    assert "recorder2+default" not in _list(cluster)
    assert config(cluster)["cluster"]["hidden_os"] == ["recorder2"]
    gnt(cluster, "gnt-os", "modify", "--hidden=no", "--blacklisted=yes", "recorder2")
    assert "recorder2+default" not in _list(cluster)
    refused = gnt(cluster, "gnt-instance", "add", "-t", "diskless", "-o",
                  "recorder2+default", "-n", cluster.master.name, "--no-name-check",
                  "--no-ip-check", "--no-start", "blk1", ok=False)
    assert "blacklisted" in refused.stderr
    gnt(cluster, "gnt-os", "modify", "--blacklisted=no", "recorder2")
    assert "recorder2+default" in _list(cluster)

    # Per-OS cluster defaults reach the scripts of new instances.
    gnt(cluster, "gnt-os", "modify", "-O", "color=blue", "recorder")
    assert config(cluster)["cluster"]["osparams"] == {"recorder": {"color": "blue"}}
    assert "    - color: blue" in gnt(cluster, "gnt-os", "info", "recorder").stdout
    bad = gnt(cluster, "gnt-os", "modify", "-O", "color=a$(reboot)", "recorder", ok=False)
    assert "OS parameter 'color'" in bad.stderr and "'$'" in bad.stderr
    assert config(cluster)["cluster"]["osparams"] == {"recorder": {"color": "blue"}}
    forget_env(cluster)
    gnt(cluster, "gnt-instance", "add", "-t", "diskless", "-o", "recorder+other",
        "-n", cluster.master.name, "--no-name-check", "--no-ip-check", "--no-start",
        "osp1")
    env = recorded_env(cluster, "create", "osp1")
    assert env["OSP_COLOR"] == "blue" and env["INSTANCE_OS_PARAMETER_COLOR"] == "blue"
    assert env["OS_VARIANT"] == "other"
    gnt(cluster, "gnt-instance", "remove", "-f", "osp1")
    gnt(cluster, "gnt-os", "modify", "-O", "color=default", "recorder")
    assert config(cluster)["cluster"].get("osparams", {}) == {}
