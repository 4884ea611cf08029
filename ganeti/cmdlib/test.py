"""Logical units that exercise the master itself: delays, dummies."""

from __future__ import annotations

from typing import Any

from ganeti import errors, locking, opcodes
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import FeedbackFn, NoHooksLU, ResultWithJobs

#: Seconds a node may take beyond the requested delay before the RPC times out.
NODE_DELAY_SLACK = 5.0


@lu_for(opcodes.OpTestDelay)
class LUTestDelay(NoHooksLU):
    """Sleep on the master and/or on nodes (OpTestDelay).

    Locks: none besides the shared BGL, unless ``no_locks`` is false and
    nodes are given (then their node locks, exclusively). The sleep on the
    master ends early when the job is canceled.
    """

    REQ_BGL = False
    CANCELABLE = True

    def expand_names(self) -> None:
        self.needed_locks = {}
        node_uuids = list(self.op.get("on_node_uuids", []))
        for name in self.op.on_nodes:
            uuid, _ = self.expand_node(name)
            if uuid not in node_uuids:
                node_uuids.append(uuid)
        for uuid in node_uuids:
            if self.cfg.find_node(uuid) is None:
                raise errors.OpPrereqError("Node UUID '%s' is not known" % uuid,
                                           errors.ECODE_NOENT)
        self.op.on_node_uuids = node_uuids
        if node_uuids and not self.op.no_locks:
            self.needed_locks[locking.LEVEL_NODE] = node_uuids

    def _delay(self) -> None:
        duration = float(self.op.duration)
        if self.op.on_master:
            self.proc.sleep(duration)
        if self.op.on_node_uuids:
            nodes = self.context.node_addresses(self.op.on_node_uuids)
            results = self.rpc.call("test_delay", nodes, [duration],
                                    timeout=duration + NODE_DELAY_SLACK)
            for node in nodes:
                results[node.name].raise_if_failed("Test delay")

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        if self.op.repeat == 0:
            self._delay()
            return None
        last = self.op.repeat - 1
        for index in range(self.op.repeat):
            self.log_info("Test delay iteration %d/%d", index, last)
            self._delay()
        return None


@lu_for(opcodes.OpTestDummy)
class LUTestDummy(NoHooksLU):
    """Log the given messages, then fail, submit jobs or return the result."""

    REQ_BGL = False

    def expand_names(self) -> None:
        self.needed_locks = {}

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        messages = self.op.messages
        for message in messages if isinstance(messages, list) else [messages]:
            if message is not None:
                feedback_fn(str(message))
        if self.op.fail:
            raise errors.OpExecError("OpTestDummy failed as requested")
        if self.op.submit_jobs:
            return ResultWithJobs(list(self.op.submit_jobs))
        return self.op.result
