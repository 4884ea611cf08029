"""The job model: a job is an ordered list of opcodes, each with its status,
result, log and timestamps; the job's status is derived from its opcodes'.

The serialized form is Ganeti's job file format (``id``, ``ops`` with
``input``/``status``/``result``/``log``/``*_timestamp``/``priority``,
``received_timestamp``, ``start_timestamp``, ``end_timestamp``), with
timestamps as ``[seconds, microseconds]``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ganeti import constants, errors

Timestamp = list[int]  # [seconds, microseconds]

# Opcode statuses share the job status values (as in Ganeti).
OP_STATUS_QUEUED = constants.JOB_STATUS_QUEUED
OP_STATUS_WAITING = constants.JOB_STATUS_WAITING
OP_STATUS_CANCELING = constants.JOB_STATUS_CANCELING
OP_STATUS_RUNNING = constants.JOB_STATUS_RUNNING
OP_STATUS_CANCELED = constants.JOB_STATUS_CANCELED
OP_STATUS_SUCCESS = constants.JOB_STATUS_SUCCESS
OP_STATUS_ERROR = constants.JOB_STATUS_ERROR

ELOG_MESSAGE = "message"
ELOG_MESSAGE_LIST = "message-list"
ELOG_REMOTE_IMPORT = "remote-import"
ELOG_TYPES = frozenset([ELOG_MESSAGE, ELOG_MESSAGE_LIST, ELOG_REMOTE_IMPORT])

#: What job files store instead of a secret opcode parameter.
REDACTED = "<redacted>"


def now_timestamp() -> Timestamp:
    seconds = time.time()
    return [int(seconds), int((seconds - int(seconds)) * 1000000)]


@dataclass
class QueuedOpCode:
    """One opcode of a job, in its wire form (``input``) plus its progress."""

    input: dict[str, Any]
    status: str = OP_STATUS_QUEUED
    result: Any = None
    log: list[list[Any]] = field(default_factory=list)
    start_timestamp: Timestamp | None = None
    exec_timestamp: Timestamp | None = None
    end_timestamp: Timestamp | None = None
    priority: int = constants.OP_PRIO_NORMAL

    @classmethod
    def from_input(cls, op_input: dict[str, Any]) -> QueuedOpCode:
        priority = op_input.get("priority", constants.OP_PRIO_NORMAL)
        return cls(input=dict(op_input), priority=priority)

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "status": self.status,
            "result": self.result,
            "log": self.log,
            "start_timestamp": self.start_timestamp,
            "exec_timestamp": self.exec_timestamp,
            "end_timestamp": self.end_timestamp,
            "priority": self.priority,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueuedOpCode:
        return cls(
            input=data["input"],
            status=data["status"],
            result=data.get("result"),
            log=list(data.get("log") or []),
            start_timestamp=data.get("start_timestamp"),
            exec_timestamp=data.get("exec_timestamp"),
            end_timestamp=data.get("end_timestamp"),
            priority=data.get("priority", constants.OP_PRIO_NORMAL),
        )

    @property
    def op_id(self) -> str:
        return str(self.input.get("OP_ID", "?"))


@dataclass
class QueuedJob:
    """A job: its id, its opcodes and its timestamps."""

    id: int
    ops: list[QueuedOpCode]
    received_timestamp: Timestamp | None = None
    start_timestamp: Timestamp | None = None
    end_timestamp: Timestamp | None = None
    #: Log serial numbers are per job and increase across opcodes.
    log_serial: int = 0

    @classmethod
    def new(cls, job_id: int, op_inputs: list[dict[str, Any]]) -> QueuedJob:
        if not op_inputs:
            raise errors.OpPrereqError("A job needs at least one opcode", errors.ECODE_INVAL)
        return cls(id=job_id, ops=[QueuedOpCode.from_input(o) for o in op_inputs],
                   received_timestamp=now_timestamp())

    # -- status -----------------------------------------------------------------

    def calc_status(self) -> str:
        """Derive the job status from the opcodes' (Ganeti's rule)."""
        status = constants.JOB_STATUS_QUEUED
        all_success = True
        for op in self.ops:
            if op.status == OP_STATUS_SUCCESS:
                continue
            all_success = False
            if op.status == OP_STATUS_QUEUED:
                continue
            if op.status in (OP_STATUS_WAITING, OP_STATUS_RUNNING):
                status = op.status
                continue
            # canceling, error and canceled decide the job's status
            status = op.status
            break
        return constants.JOB_STATUS_SUCCESS if all_success else status

    def calc_priority(self) -> int:
        """The priority of the first unfinished opcode (what the scheduler uses)."""
        for op in self.ops:
            if op.status not in constants.JOBS_FINALIZED:
                return op.priority
        return self.ops[-1].priority

    def is_finalized(self) -> bool:
        return self.calc_status() in constants.JOBS_FINALIZED

    def finalize_remaining(self, status: str, result: Any) -> None:
        """Mark every unfinished opcode with ``status`` and ``result``."""
        stamp = now_timestamp()
        for op in self.ops:
            if op.status not in constants.JOBS_FINALIZED:
                op.status = status
                op.result = result
                op.end_timestamp = stamp
        self.end_timestamp = stamp

    # -- log --------------------------------------------------------------------

    def add_log(self, op: QueuedOpCode, message: Any, log_type: str = ELOG_MESSAGE) -> int:
        if log_type not in ELOG_TYPES:
            raise errors.ProgrammerError("Unknown log type '%s'" % log_type)
        self.log_serial += 1
        op.log.append([self.log_serial, now_timestamp(), log_type, message])
        return self.log_serial

    def log_entries_since(self, serial: int) -> list[list[Any]]:
        return [entry for op in self.ops for entry in op.log if entry[0] > serial]

    # -- serialization ------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ops": [op.to_dict() for op in self.ops],
            "received_timestamp": self.received_timestamp,
            "start_timestamp": self.start_timestamp,
            "end_timestamp": self.end_timestamp,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueuedJob:
        try:
            ops = [QueuedOpCode.from_dict(op) for op in data["ops"]]
            job = cls(id=int(data["id"]), ops=ops,
                      received_timestamp=data.get("received_timestamp"),
                      start_timestamp=data.get("start_timestamp"),
                      end_timestamp=data.get("end_timestamp"))
        except (KeyError, TypeError, ValueError) as err:
            raise errors.JobFileCorrupted("Invalid job data: %s" % err) from err
        job.log_serial = max((entry[0] for op in ops for entry in op.log), default=0)
        return job

    # -- queries ------------------------------------------------------------------

    def get_field(self, name: str) -> Any:
        """One field of Ganeti's job query (``gnt-job list -o``, QueryJobs)."""
        getter = JOB_FIELDS.get(name)
        if getter is None:
            raise errors.OpPrereqError("Unknown job field '%s'" % name, errors.ECODE_INVAL)
        return getter(self)

    def summary(self) -> list[str]:
        return [_op_summary(op.input) for op in self.ops]


def _op_summary(op_input: dict[str, Any]) -> str:
    op_id = str(op_input.get("OP_ID", "?"))
    name = op_id[3:] if op_id.startswith("OP_") else op_id
    for key in ("instance_name", "node_name", "group_name", "network_name", "duration"):
        if key in op_input and op_input[key] is not None:
            return "%s(%s)" % (name, op_input[key])
    return name


JOB_FIELDS: dict[str, Any] = {
    "id": lambda j: j.id,
    "status": lambda j: j.calc_status(),
    "priority": lambda j: j.calc_priority(),
    "ops": lambda j: [op.input for op in j.ops],
    "opresult": lambda j: [op.result for op in j.ops],
    "opstatus": lambda j: [op.status for op in j.ops],
    "oplog": lambda j: [op.log for op in j.ops],
    "opstart": lambda j: [op.start_timestamp for op in j.ops],
    "opexec": lambda j: [op.exec_timestamp for op in j.ops],
    "opend": lambda j: [op.end_timestamp for op in j.ops],
    "oppriority": lambda j: [op.priority for op in j.ops],
    "received_ts": lambda j: j.received_timestamp,
    "start_ts": lambda j: j.start_timestamp,
    "end_ts": lambda j: j.end_timestamp,
    "summary": lambda j: j.summary(),
}
