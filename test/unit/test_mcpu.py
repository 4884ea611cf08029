"""The processor: LU phases in order, locks level by level and always released,
dry runs, errors with their kind, feedback, follow-up jobs, cancellation."""

from __future__ import annotations

import threading
from typing import Any

import master_testlib as mt
import pytest

from ganeti import cmdlib, constants, errors, locking, mcpu, opcodes
from ganeti.cmdlib.base import FeedbackFn, NoHooksLU, ResultWithJobs

JOB_ID = 77


class RecordingLU(NoHooksLU):
    """Records its phases and the locks it holds; behaviour set per test."""

    phases: list[str] = []
    held_at_exec: dict[int, frozenset[str]] = {}
    bgl_shared_at_exec: bool | None = None
    fail_in: str | None = None
    needed: dict[int, Any] = {}
    result: Any = "done"

    def _phase(self, name: str) -> None:
        RecordingLU.phases.append(name)
        if RecordingLU.fail_in == name:
            raise errors.OpPrereqError("%s failed on purpose" % name, errors.ECODE_STATE)

    def check_arguments(self) -> None:
        self._phase("check_arguments")

    def expand_names(self) -> None:
        self._phase("expand_names")
        self.needed_locks = dict(RecordingLU.needed)

    def declare_locks(self, level: int) -> None:
        self._phase("declare_locks:%s" % locking.LEVEL_NAMES[level])

    def check_prereq(self) -> None:
        self._phase("check_prereq")
        self.dry_run_result = "dry"

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        self._phase("exec")
        feedback_fn("working")
        RecordingLU.held_at_exec = {level: self.owned_locks(level) for level in locking.LEVELS}
        RecordingLU.bgl_shared_at_exec = self.glm.is_owned(
            self.owner, locking.LEVEL_CLUSTER, locking.BGL, shared=True)
        if RecordingLU.fail_in == "exec-crash":
            raise RuntimeError("boom")
        return RecordingLU.result


@pytest.fixture
def context(tmp_path):
    return mt.make_context(str(tmp_path))


@pytest.fixture
def recording_lu(monkeypatch):
    RecordingLU.phases = []
    RecordingLU.held_at_exec = {}
    RecordingLU.bgl_shared_at_exec = None
    RecordingLU.fail_in = None
    RecordingLU.needed = {}
    RecordingLU.result = "done"
    RecordingLU.REQ_BGL = True
    monkeypatch.setitem(cmdlib.LU_REGISTRY, opcodes.OpTestJqueue.OP_ID, RecordingLU)
    return RecordingLU


def _op(**params: Any) -> opcodes.OpCode:
    return opcodes.OpTestJqueue(**params)


class Callbacks:
    def __init__(self) -> None:
        self.events: list[str] = []
        self.cancel = threading.Event()
        self.submitted: list[Any] = []

    def notify_start(self) -> None:
        self.events.append("start")

    def check_cancel(self) -> bool:
        return self.cancel.is_set()

    def set_cancelable(self, cancelable: bool) -> None:
        self.events.append("cancelable=%s" % cancelable)

    def wait_cancel(self, timeout: float) -> bool:
        return self.cancel.wait(timeout)

    def submit_jobs(self, jobs: list[list[dict[str, Any]]]) -> list[list[Any]]:
        self.submitted.extend(jobs)
        return [[True, 100 + index] for index in range(len(jobs))]


def test_phases_run_in_order_with_locks_level_by_level(context, recording_lu):
    recording_lu.needed = {locking.LEVEL_NODE: [mt.NODE1_UUID, mt.NODE2_UUID],
                           locking.LEVEL_NODEGROUP: locking.ALL_SET}
    feedback: list[tuple] = []
    callbacks = Callbacks()
    proc = mcpu.Processor(context, JOB_ID, callbacks)
    assert proc.execute_opcode(_op(), lambda *a: feedback.append(a)) == "done"
    levels = [locking.LEVEL_NAMES[level] for level in locking.LEVELS[1:]]
    assert recording_lu.phases == (["check_arguments", "expand_names"]
                                   + ["declare_locks:%s" % name for name in levels]
                                   + ["check_prereq", "exec"])
    held = recording_lu.held_at_exec
    assert held[locking.LEVEL_CLUSTER] == {locking.BGL}
    assert held[locking.LEVEL_NODE] == {mt.NODE1_UUID, mt.NODE2_UUID}
    assert held[locking.LEVEL_NODEGROUP] == {mt.GROUP_UUID}
    assert held[locking.LEVEL_INSTANCE] == frozenset()
    assert recording_lu.bgl_shared_at_exec is False  # REQ_BGL: exclusive
    assert ("working",) in feedback
    assert callbacks.events[:2] == ["cancelable=False", "start"]
    assert context.glm.owned_levels(JOB_ID) == []


def test_bgl_is_shared_when_the_lu_does_not_need_it(context, recording_lu):
    recording_lu.REQ_BGL = False
    mcpu.Processor(context, JOB_ID).execute_opcode(_op())
    assert recording_lu.bgl_shared_at_exec is True


@pytest.mark.parametrize("phase", ["expand_names", "check_prereq", "exec", "exec-crash"])
def test_locks_are_released_whatever_happens(context, recording_lu, phase):
    recording_lu.needed = {locking.LEVEL_NODE: [mt.NODE1_UUID]}
    recording_lu.fail_in = phase
    proc = mcpu.Processor(context, JOB_ID)
    expected = RuntimeError if phase == "exec-crash" else errors.OpPrereqError
    with pytest.raises(expected) as info:
        proc.execute_opcode(_op())
    if expected is errors.OpPrereqError:
        assert errors.encode(info.value) == ["OpPrereqError", ["%s failed on purpose" % phase,
                                                               errors.ECODE_STATE]]
    assert context.glm.owned_levels(JOB_ID) == []
    # The locks are free again for someone else.
    assert context.glm.acquire("other", locking.LEVEL_CLUSTER, [locking.BGL], timeout=0)
    assert context.glm.acquire("other", locking.LEVEL_NODE, [mt.NODE1_UUID], timeout=0)
    context.glm.release_all("other")


def test_dry_run_stops_after_check_prereq(context, recording_lu):
    result = mcpu.Processor(context, JOB_ID).execute_opcode(_op(dry_run=True))
    assert result == "dry"
    assert "exec" not in recording_lu.phases
    assert recording_lu.phases[-1] == "check_prereq"


def test_expand_names_must_declare_locks(context, monkeypatch):
    class Lazy(NoHooksLU):
        def expand_names(self) -> None:
            pass

    monkeypatch.setitem(cmdlib.LU_REGISTRY, opcodes.OpTestJqueue.OP_ID, Lazy)
    with pytest.raises(errors.ProgrammerError, match="needed_locks"):
        mcpu.Processor(context, JOB_ID).execute_opcode(_op())
    assert context.glm.owned_levels(JOB_ID) == []


def test_opcode_without_lu_is_refused(context):
    op = opcodes.OpNodePowercycle(node_name="node1", force=True)
    with pytest.raises(errors.OpPrereqError, match="OP_NODE_POWERCYCLE is not supported"):
        mcpu.Processor(context, JOB_ID).execute_opcode(op)


def test_follow_up_jobs_go_through_the_callbacks(context, recording_lu):
    recording_lu.result = ResultWithJobs([[opcodes.OpTestDelay(duration=0)],
                                          [{"OP_ID": "OP_CLUSTER_QUERY"}]], extra="x")
    callbacks = Callbacks()
    result = mcpu.Processor(context, JOB_ID, callbacks).execute_opcode(_op())
    assert result == {"extra": "x", constants.JOB_IDS_KEY: [[True, 100], [True, 101]]}
    assert callbacks.submitted[0][0]["OP_ID"] == "OP_TEST_DELAY"
    assert callbacks.submitted[1] == [{"OP_ID": "OP_CLUSTER_QUERY"}]
    recording_lu.result = {"jobs": [[{"OP_ID": "OP_CLUSTER_QUERY"}]]}
    result = mcpu.Processor(context, JOB_ID, callbacks).execute_opcode(_op())
    assert result == {constants.JOB_IDS_KEY: [[True, 100]]}


def test_cancel_while_waiting_for_locks(context, recording_lu):
    recording_lu.REQ_BGL = False
    recording_lu.needed = {locking.LEVEL_NODE: [mt.NODE1_UUID]}
    glm = context.glm
    assert glm.acquire("holder", locking.LEVEL_CLUSTER, [locking.BGL], shared=True)
    assert glm.acquire("holder", locking.LEVEL_NODE, [mt.NODE1_UUID])
    callbacks = Callbacks()
    messages: list[tuple] = []
    timer = threading.Timer(0.2, callbacks.cancel.set)
    timer.start()
    try:
        with pytest.raises(mcpu.JobCanceled):
            mcpu.Processor(context, JOB_ID, callbacks).execute_opcode(
                _op(), lambda *a: messages.append(a))
    finally:
        timer.cancel()
        glm.release_all("holder")
    assert "exec" not in recording_lu.phases
    assert any("Waiting for node locks" in m[0] for m in messages)
    assert glm.owned_levels(JOB_ID) == []


def test_test_delay_checks_nodes_and_locks_them(context):
    proc = mcpu.Processor(context, JOB_ID)
    with pytest.raises(errors.OpPrereqError, match="Node 'nosuch' is not known") as info:
        proc.execute_opcode(opcodes.OpTestDelay(duration=0, on_nodes=["nosuch"]))
    assert info.value.args[1] == errors.ECODE_NOENT
    assert proc.execute_opcode(opcodes.OpTestDelay(duration=0, repeat=2)) is None


def test_cluster_query_and_tags(context):
    proc = mcpu.Processor(context, JOB_ID)
    info = proc.execute_opcode(opcodes.OpClusterQuery())
    assert info["name"] == mt.CLUSTER_NAME and info["master"] == mt.NODE1
    assert info["enabled_hypervisors"] == [constants.HT_FAKE]
    assert info["protocol_version"] == constants.PROTOCOL_VERSION
    assert proc.execute_opcode(opcodes.OpTagsGet(kind="cluster")) == ["alpha", "zeta"]
    assert proc.execute_opcode(opcodes.OpTagsGet(kind="node", name=mt.NODE1)) == ["n1"]
    with pytest.raises(errors.OpPrereqError, match="is not known"):
        proc.execute_opcode(opcodes.OpTagsGet(kind="instance", name="nope"))
    assert proc.execute_opcode(opcodes.OpClusterConfigQuery(
        output_fields=["cluster_name", "master_node"])) == [mt.CLUSTER_NAME, mt.NODE1]
