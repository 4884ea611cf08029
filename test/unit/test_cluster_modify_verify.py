"""gnt-cluster modify/verify/copyfile pieces that need no daemon."""

from __future__ import annotations

import argparse
import os
import subprocess
from typing import Any

import master_testlib as mt
import pytest

from ganeti import cli, errors, opcodes, paramdefs, pathutils
from ganeti.client import cluster_maint, cluster_remote, gnt_cluster
from ganeti.cmdlib import cluster_redist, cluster_verify
from ganeti.cmdlib import node as node_lu
from ganeti.config import ConfigWriter
from ganeti.objects import ConfigData


def _modify_options(*argv: str) -> argparse.Namespace:
    parser = cli.build_parser("gnt-cluster", gnt_cluster.commands())
    return parser.parse_args(["modify", *argv])


def test_modify_op_from_options() -> None:
    options = _modify_options("-H", "kvm:kernel_path=/boot/vmlinuz,acpi=default",
                              "-B", "vcpus=2,maxmem=1G", "--node-parameters=-spindle_count",
                              "-C", "5", "--enabled-hypervisors", "kvm,fake",
                              "--add-redistribute-file", "/etc/a.conf",
                              "--add-redistribute-file", "/etc/b.conf:master-candidates",
                              "--remove-redistribute-file", "/etc/old.conf")
    op = cluster_maint.modify_op(options)
    assert op["hvparams"] == {"kvm": {"kernel_path": "/boot/vmlinuz", "acpi": "default"}}
    assert op["beparams"] == {"vcpus": 2, "maxmem": 1024}
    assert op["ndparams"] == {"spindle_count": "default"}
    assert op["candidate_pool_size"] == 5
    assert op["enabled_hypervisors"] == ["kvm", "fake"]
    assert op["add_redistribute_files"] == [{"path": "/etc/a.conf", "nodes": "all"},
                                            {"path": "/etc/b.conf",
                                             "nodes": "master-candidates"}]
    assert op["remove_redistribute_files"] == ["/etc/old.conf"]
    opcodes.OpCode.from_dict(op).validate()  # the master accepts what the CLI builds


@pytest.mark.parametrize("argv, message", [
    (["-H", "kvm"], "expected NAME:key=value"),
    (["-H", "nohv:a=1"], "Unknown hypervisor 'nohv'"),
    (["-B", "vcpus=many"], "-B parameter 'vcpus'"),
    (["--add-redistribute-file", "etc/x"], "expected an absolute path"),
])
def test_modify_op_bad_options(argv: list[str], message: str) -> None:
    with pytest.raises(errors.ParameterError, match=message):
        cluster_maint.modify_op(_modify_options(*argv))


def test_modify_without_parameters_is_a_usage_error() -> None:
    with pytest.raises(cli.UsageError):
        cluster_maint.modify_op(_modify_options())


def test_updated_params_default_removes() -> None:
    assert paramdefs.updated_params({"a": 1, "b": 2}, {"a": "default", "b": None,
                                                       "c": 3}) == {"c": 3}


class _Op:
    def __init__(self, **values: Any) -> None:
        self.values = values

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)


class _Reporter(cluster_verify._VerifyErrors):
    def __init__(self, **op: Any) -> None:
        self.op = _Op(**op)  # type: ignore[assignment]
        self.bad = False
        self.lines: list[str] = []
        self._feedback = self.lines.append


def test_verify_error_formats() -> None:
    human = _Reporter()
    human.report("ENODEVERSION", "node2", "software version mismatch")
    human.report("ECLUSTERFILECHECK", None, "File /x is missing", warning=True)
    assert human.lines == ["  - ERROR: node node2: software version mismatch",
                           "  - WARNING: cluster: File /x is missing"]
    assert human.bad
    codes = _Reporter(error_codes=True, ignore_errors=["ENODETIME"])
    codes.report("ENODETIME", "node3", "Node time diverges")
    codes.report("ECLUSTERFILECHECK", None, "File /x differs")
    assert codes.lines == ["  - WARNING:ENODETIME:node:node3:Node time diverges",
                           "  - ERROR:ECLUSTERFILECHECK:cluster::File /x differs"]
    ignored = _Reporter(ignore_errors=["ENODERPC"])
    ignored.error_if(True, "ENODERPC", "node1", "while contacting node: refused")
    assert not ignored.bad  # demoted to a warning


def test_error_if_simulates() -> None:
    reporter = _Reporter(debug_simulate_errors=True)
    assert reporter.error_if(False, "ENODENET", "node1", "x") is False
    assert reporter.bad and reporter.lines == ["  - ERROR: node node1: x"]


def test_cluster_paths_round_trip(tmp_path: Any) -> None:
    paths = pathutils.for_root(str(tmp_path))
    cluster_file = cluster_redist.cluster_path(paths.rapi_cert_file, paths)
    assert cluster_file == pathutils.for_root("/").rapi_cert_file
    assert cluster_redist.local_path(cluster_file, paths) == paths.rapi_cert_file
    assert cluster_remote.cluster_path_of(os.path.join(str(tmp_path), "etc/x"), paths) \
        == "/etc/x"
    assert cluster_remote.cluster_path_of("/elsewhere/y", paths) == "/elsewhere/y"


@pytest.mark.parametrize("root", ["", "/", "ROOT"])
def test_copy_command_writes_under_the_node_root(tmp_path: Any, root: str) -> None:
    node_root = str(tmp_path / "node") if root == "ROOT" else root
    target_name = "/%s/it's here.conf" % tmp_path if root != "ROOT" else "/etc/it's here.conf"
    env = dict(os.environ, GANETI_ROOTDIR=node_root) if root else {
        k: v for k, v in os.environ.items() if k != "GANETI_ROOTDIR"}
    command = cluster_remote.copy_command(target_name, 0o640)
    done = subprocess.run(["sh", "-c", command], input=b"content\n", env=env, check=False)
    assert done.returncode == 0
    written = os.path.join(node_root or "/", target_name.lstrip("/"))
    with open(written, "rb") as handle:
        assert handle.read() == b"content\n"
    assert os.stat(written).st_mode & 0o777 == 0o640
    assert [n for n in os.listdir(os.path.dirname(written)) if "gnt-copyfile" in n] == []


def _writer(tmp_path: Any, candidates: list[str], pool: int) -> ConfigWriter:
    data = mt.config_dict()
    data["cluster"]["candidate_pool_size"] = pool
    nodes = data["nodes"]
    for index in (3, 4):
        uuid = "6c7e6b2a-0000-4000-8000-00000000010%d" % index
        nodes[uuid] = {"uuid": uuid, "name": "node%d.example.com" % index,
                       "primary_ip": "127.0.1.%d" % index, "group": mt.GROUP_UUID,
                       "drained": index == 4}
    for node in nodes.values():
        node["offline"] = False
        node["master_candidate"] = node["name"].split(".")[0] in candidates
    return ConfigWriter.create(str(tmp_path / "config.data"), ConfigData.from_dict(data))


def test_fill_candidate_pool_promotes_eligible_nodes(tmp_path: Any) -> None:
    cfg = _writer(tmp_path, ["node1"], pool=10)
    with cfg.locked() as data:
        nodes = list(data.nodes.values())
    eligible = node_lu.promotion_order(nodes)
    assert [n.name.split(".")[0] for n in eligible] == ["node2", "node3"]
    assert node_lu.candidate_stats(nodes, 10) == (1, 3)
    promoted = node_lu.fill_candidate_pool(cfg)
    assert [node.name.split(".")[0] for node in promoted] == ["node2", "node3"]
    assert sorted(n.name.split(".")[0] for n in cfg.get_master_candidates()) == \
        ["node1", "node2", "node3"]
    assert node_lu.fill_candidate_pool(cfg) == []


def test_full_pool_promotes_nobody(tmp_path: Any) -> None:
    cfg = _writer(tmp_path, ["node1", "node2"], pool=2)
    assert node_lu.fill_candidate_pool(cfg) == []
