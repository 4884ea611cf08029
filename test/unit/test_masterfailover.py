"""The master vote's arithmetic, the choice of configuration, the failover's refusals."""

from __future__ import annotations

import os
from typing import Any

import pytest

from ganeti import constants, errors, pathutils
from ganeti.backend import node as backend_node
from ganeti.config import dump_config, load_config_data
from ganeti.masterfailover import (
    ConfigCopy,
    Vote,
    VoteTally,
    check_can_take_over,
    master_failover,
    newest_config,
)
from ganeti.objects import ConfigData
from ganeti.rpc import encoding

GROUP_UUID = "5d0c1f3e-0000-4000-8000-000000000001"


def _node_uuid(name: str) -> str:
    return "5d0c1f3e-0000-4000-8000-0000000000%s" % name[-1].rjust(2, "0")


def config_dict(serial: int, master: str, candidates: tuple[str, ...]) -> dict[str, Any]:
    names = ("node1", "node2", "node3")
    return {
        "version": constants.CONFIG_VERSION, "serial_no": serial, "ctime": 0.0, "mtime": 0.0,
        "cluster": {"uuid": "5d0c1f3e-0000-4000-8000-0000000000c1",
                    "cluster_name": "cluster.example.com", "master_node": _node_uuid(master),
                    "master_ip": "127.0.1.1", "master_netdev": "lo", "rsahostkeypub": "",
                    "enabled_hypervisors": [constants.HT_FAKE],
                    "enabled_disk_templates": [constants.DT_DISKLESS]},
        "nodes": {_node_uuid(name): {"uuid": _node_uuid(name), "name": name,
                                     "primary_ip": "127.0.1.%s" % name[-1],
                                     "group": GROUP_UUID,
                                     "master_candidate": name in candidates}
                  for name in names},
        "nodegroups": {GROUP_UUID: {"uuid": GROUP_UUID, "name": "default"}},
        "instances": {}, "networks": {}, "disks": {}, "filters": {},
    }


def tally(total: int, *votes: tuple[str, str | None]) -> VoteTally:
    return VoteTally(tuple(Vote(node, master, None if master else "refused")
                           for node, master in votes), total)


def test_majority_is_strict_and_counts_every_node_of_the_config() -> None:
    three = tally(3, ("node1", None), ("node2", "node1"), ("node3", "node1"))
    assert three.has_majority("node1") and three.majority() == "node1"
    assert three.answered == 2
    assert three.summary() == "2 of 3 nodes answered (node1: 2)"
    assert "node1: no answer (refused)" in three.describe()
    # Two nodes of three down: one vote is no majority of three.
    lonely = tally(3, ("node1", None), ("node2", "node1"), ("node3", None))
    assert not lonely.has_majority("node1") and lonely.majority() is None
    # A tie is no majority either (two-node cluster, one vote each).
    tie = tally(2, ("node1", "node1"), ("node2", "node2"))
    assert tie.majority() is None and not tie.has_majority("node1")
    # A returning old master is outvoted.
    back = tally(3, ("node1", "node1"), ("node2", "node2"), ("node3", "node2"))
    assert back.majority() == "node2" and not back.has_majority("node1")


def _copy(node: str, serial: int, master: str = "node1",
          candidates: tuple[str, ...] = ("node1", "node2", "node3")) -> ConfigCopy:
    parsed = load_config_data(dump_config(ConfigData.from_dict(
        config_dict(serial, master, candidates))))
    return ConfigCopy(node, dump_config(parsed), parsed)


def test_newest_config_wins_and_ties_keep_the_local_copy() -> None:
    local = _copy("node2", 5)
    assert newest_config(local, [_copy("node1", 7), _copy("node3", 6)]).node == "node1"
    assert newest_config(local, [_copy("node3", 5)]).node == "node2"
    assert newest_config(local, []).node == "node2"
    assert local.master_name == "node1" and local.serial == 5


def test_only_an_online_master_capable_candidate_may_take_over() -> None:
    data = _copy("node2", 1, candidates=("node1", "node2")).data
    assert check_can_take_over(data, "node2").name == "node2"
    with pytest.raises(errors.OpPrereqError,
                       match=r"\(node3\) is not a master candidate; run master-failover on"
                             r" one of: node1, node2"):
        check_can_take_over(data, "node3")
    with pytest.raises(errors.OpPrereqError, match=r"\(node9\) is not a node"):
        check_can_take_over(data, "node9")
    for entry in data.nodes.values():
        if entry.name == "node2":
            entry.offline = True
    with pytest.raises(errors.OpPrereqError, match="marked offline"):
        check_can_take_over(data, "node2")


def test_failover_on_a_node_without_config_names_the_problem(tmp_path: str) -> None:
    paths = pathutils.for_root(str(tmp_path))
    with pytest.raises(errors.OpPrereqError, match=r"no configuration file .*config\.data: it"
                                                   r" is not a master candidate"):
        master_failover(paths, "node3")
    assert not os.path.exists(paths.config_file)


def test_backend_config_read_and_stop_master(tmp_path: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pathutils.ROOTDIR_ENV, str(tmp_path))
    paths = pathutils.current()
    with pytest.raises(errors.ConfigurationError, match="not a master candidate"):
        backend_node.config_read()
    copy = _copy("node1", 3)
    os.makedirs(os.path.dirname(paths.config_file))
    with open(paths.config_file, "wb") as handle:
        handle.write(copy.raw)
    raw = encoding.decode(backend_node.config_read())
    assert load_config_data(raw).serial_no == 3
    assert backend_node.node_stop_master() == []  # nothing runs here
    assert backend_node.jobqueue_get_drain_flag() is False
    os.makedirs(paths.queue_dir)
    with open(paths.queue_drain_file, "wb"):
        pass
    assert backend_node.jobqueue_get_drain_flag() is True
