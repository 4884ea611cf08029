"""Hooks on the master: the GANETI_* environment, the nodes called, and how
script results are judged (pre failures abort, post failures and unreachable
nodes only warn). The node side (running scripts) is tested with noded."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import master_testlib as mt
import pytest

from ganeti import cmdlib, constants, errors, hooksmaster, mcpu, opcodes
from ganeti.cmdlib.base import FeedbackFn, LogicalUnit
from ganeti.rpc.client import KIND_OFFLINE, KIND_REFUSED, RpcResult

PRE, POST = constants.HOOKS_PHASE_PRE, constants.HOOKS_PHASE_POST


def _ok(node: str, scripts: list[tuple[str, int, str]]) -> RpcResult:
    return RpcResult(node, "hooks_runner", True, [list(s) for s in scripts])


def _unreachable(node: str) -> RpcResult:
    return RpcResult(node, "hooks_runner", False, error="connection refused",
                     kind=KIND_REFUSED)


class FakeNodes:
    """Answers hooks_runner calls with canned per-node results; records calls."""

    def __init__(self, answers: dict[str, RpcResult] | None = None) -> None:
        self.answers = answers or {}
        self.calls: list[tuple[list[str], str, str, dict[str, str]]] = []

    def __call__(self, nodes: Sequence[str], hpath: str, phase: str,
                 env: dict[str, str]) -> dict[str, RpcResult]:
        self.calls.append((list(nodes), hpath, phase, dict(env)))
        return {node: self.answers.get(node, _ok(node, [])) for node in nodes}


def _master(run: FakeNodes, env_values: list[dict[str, Any]], warnings: list[str],
            nodes: tuple[list[str], list[str]] = (["node1"], ["node1", "node2"])
            ) -> hooksmaster.HooksMaster:
    values = iter(env_values)
    return hooksmaster.HooksMaster(
        opcode="OP_NODE_ADD", hooks_path="node-add", nodes=nodes, run_fn=run,
        build_env_fn=lambda: next(values), warn_fn=warnings.append,
        htype=constants.HTYPE_NODE, cluster_name="cluster.example.com",
        master_name="node1", data_dir="/var/lib/ganeti", op_target="node3")


def test_environment_of_both_phases():
    run = FakeNodes()
    warnings: list[str] = []
    master = _master(run, [{"NODE_NAME": "node3", "MASTER_CAPABLE": True, "TAGS": ["a", "b"],
                            "NODE_SIP": None},
                           {"NODE_NAME": "node3", "STATE": "added"}], warnings)
    master.run_phase(PRE)
    master.run_phase(POST)
    (pre_nodes, hpath, phase, pre_env), (post_nodes, _, post_phase, post_env) = run.calls
    assert (pre_nodes, hpath, phase) == (["node1"], "node-add", "pre")
    assert (post_nodes, post_phase) == (["node1", "node2"], "post")
    assert pre_env == {
        "GANETI_HOOKS_VERSION": "2", "GANETI_HOOKS_PHASE": "pre",
        "GANETI_HOOKS_PATH": "node-add", "GANETI_OP_CODE": "OP_NODE_ADD",
        "GANETI_OBJECT_TYPE": "NODE", "GANETI_CLUSTER": "cluster.example.com",
        "GANETI_MASTER": "node1", "GANETI_DATA_DIR": "/var/lib/ganeti",
        "GANETI_OP_TARGET": "node3", "GANETI_NODE_NAME": "node3",
        "GANETI_MASTER_CAPABLE": "True", "GANETI_TAGS": "a b", "GANETI_NODE_SIP": "",
    }
    # Post: the pre variables again, the phase changed, plus GANETI_POST_*.
    assert post_env["GANETI_HOOKS_PHASE"] == "post"
    assert post_env["GANETI_NODE_SIP"] == "" and post_env["GANETI_TAGS"] == "a b"
    assert post_env["GANETI_POST_NODE_NAME"] == "node3"
    assert post_env["GANETI_POST_STATE"] == "added"
    assert "GANETI_STATE" not in post_env
    assert warnings == []


def test_failing_pre_hook_aborts_with_script_and_output():
    run = FakeNodes({"node1": _ok("node1", [("00-ok", constants.HKR_SUCCESS, ""),
                                            ("10-deny", constants.HKR_FAIL, "not today"),
                                            ("20-skip", constants.HKR_SKIP, "")])})
    master = _master(run, [{}], [])
    with pytest.raises(errors.HooksAbort) as info:
        master.run_phase(PRE)
    message = str(info.value.args[0])
    assert "node-add-pre" in message and "10-deny" in message and "not today" in message
    assert info.value.args[1] == [["node1", "10-deny", "not today"]]
    assert errors.encode(info.value)[0] == "HooksAbort"


def test_unreachable_and_offline_nodes_do_not_fail_pre_hooks():
    run = FakeNodes({"node1": _unreachable("node1"),
                     "node2": RpcResult("node2", "hooks_runner", False, error="offline",
                                        kind=KIND_OFFLINE)})
    warnings: list[str] = []
    master = _master(run, [{}], warnings, nodes=(["node1", "node2"], []))
    results = master.run_phase(PRE)
    assert set(results) == {"node1", "node2"}
    assert len(warnings) == 1
    assert "node1" in warnings[0] and "connection refused" in warnings[0]


def test_post_hook_failures_are_only_reported():
    run = FakeNodes({"node2": _ok("node2", [("50-notify", constants.HKR_FAIL, "mail down")])})
    warnings: list[str] = []
    master = _master(run, [{}, {}], warnings)
    master.run_phase(PRE)
    master.run_phase(POST)
    assert warnings == ["Post hook failed on node node2, script 50-notify, output: mail down"]


def test_no_nodes_no_call():
    run = FakeNodes()
    master = _master(run, [{}], [], nodes=([], []))
    assert master.run_phase(PRE) == {}
    assert run.calls == []


def test_bad_variable_names_are_a_programmer_error():
    with pytest.raises(errors.ProgrammerError, match="not an identifier"):
        hooksmaster.prefixed_env({"BAD NAME": 1}, "GANETI_")
    assert hooksmaster.env_value(None) == ""
    assert hooksmaster.env_value([1, "b"]) == "1 b"


# -- through the processor -----------------------------------------------------------------

class HookedLU(LogicalUnit):
    HPATH = "cluster-modify"
    HTYPE = constants.HTYPE_CLUSTER
    REQ_BGL = False
    executed = False

    def expand_names(self) -> None:
        self.needed_locks = {}

    def build_hooks_env(self) -> dict[str, Any]:
        return {"OP_TARGET": self.cfg.get_cluster_name(), "NEW_VG_NAME": "xenvg"}

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        master = self.cfg.get_master_node()
        return [master], [master]

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        HookedLU.executed = True
        return "changed"


@pytest.fixture
def hooked(monkeypatch, tmp_path):
    context = mt.make_context(str(tmp_path))
    run = FakeNodes()
    monkeypatch.setattr(hooksmaster, "rpc_hooks_runner", lambda ctx: run)
    monkeypatch.setitem(cmdlib.LU_REGISTRY, opcodes.OpTestJqueue.OP_ID, HookedLU)
    HookedLU.executed = False
    return context, run


def test_processor_runs_pre_and_post_hooks_around_exec(hooked):
    context, run = hooked
    result = mcpu.Processor(context, 5).execute_opcode(opcodes.OpTestJqueue())
    assert result == "changed" and HookedLU.executed
    assert [(call[0], call[2]) for call in run.calls] == [([mt.NODE1_UUID], "pre"),
                                                          ([mt.NODE1_UUID], "post")]
    env = run.calls[0][3]
    assert env["GANETI_OP_CODE"] == "OP_TEST_JQUEUE"
    assert env["GANETI_OBJECT_TYPE"] == "CLUSTER"
    assert env["GANETI_OP_TARGET"] == mt.CLUSTER_NAME
    assert env["GANETI_MASTER"] == mt.NODE1
    assert env["GANETI_NEW_VG_NAME"] == "xenvg"
    assert env["GANETI_DATA_DIR"] == context.paths.data_dir


def test_pre_hook_failure_stops_the_opcode_before_exec(hooked):
    context, run = hooked
    run.answers[mt.NODE1_UUID] = _ok(mt.NODE1_UUID, [("10-veto", constants.HKR_FAIL, "vetoed")])
    with pytest.raises(errors.HooksAbort, match=r"10-veto.*vetoed"):
        mcpu.Processor(context, 5).execute_opcode(opcodes.OpTestJqueue())
    assert not HookedLU.executed
    assert context.glm.owned_levels(5) == []


def test_hooks_use_the_node_addresses_of_the_config(tmp_path):
    context = mt.make_context(str(tmp_path))
    addresses = context.node_addresses([mt.NODE1_UUID, mt.NODE2, mt.NODE1])
    assert [(a.name, a.address, a.offline) for a in addresses] == [
        (mt.NODE1, "127.0.1.1", False), (mt.NODE2, "127.0.1.2", True)]
    with pytest.raises(errors.OpPrereqError, match="Node 'ghost' is not known"):
        context.node_address("ghost")
