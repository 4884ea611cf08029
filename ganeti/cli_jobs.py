"""Job submission and polling for the gnt-* commands.

``submit_or_send`` submits a job and, unless ``--submit``, follows it with
WaitForJobChange, printing each log line as it arrives, and returns the
opcodes' results or raises the error of the opcode that failed.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from ganeti import cli, constants, errors, luxi

Feedback = Callable[[list[Any]], None]


def get_client() -> luxi.Client:
    """A luxi client to this node's master daemon."""
    return luxi.Client()


def format_timestamp(ts: Any) -> str:
    """``[seconds, microseconds]`` as ``2024-01-31 12:00:00.123456`` (Ganeti's form)."""
    if not (isinstance(ts, (list, tuple)) and len(ts) == 2):
        return "N/A"
    seconds, micros = ts
    return "%s.%06d" % (time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds)), micros)


def timestamp_seconds(ts: Any) -> float | None:
    if not (isinstance(ts, (list, tuple)) and len(ts) == 2):
        return None
    return float(ts[0]) + float(ts[1]) / 1e6


def format_log_message(log_type: str, message: Any) -> str:
    if log_type == "message" or not isinstance(message, (list, tuple)):
        return str(message)
    return ", ".join(str(part) for part in message)


def print_log_entry(entry: list[Any]) -> None:
    """Ganeti's job feedback line: ``<ctime> <message>``."""
    _serial, ts, log_type, message = entry
    seconds = timestamp_seconds(ts) or time.time()
    cli.to_stdout("%s %s" % (time.ctime(seconds), format_log_message(log_type, message)))


def set_generic_op_opts(ops: list[dict[str, Any]], options: argparse.Namespace) -> None:
    """Apply --dry-run, --debug, --priority and --reason to the opcodes."""
    priority = cli.parse_priority(getattr(options, "priority", None))
    source = "%s:%s" % (constants.OPCODE_REASON_SRC_CLIENT, getattr(options, "prog", "gnt"))
    reason = getattr(options, "reason", None) or ""
    for op in ops:
        if getattr(options, "dry_run", False):
            op["dry_run"] = True
        if getattr(options, "debug", 0):
            op["debug_level"] = options.debug
        if priority is not None:
            op["priority"] = priority
        op.setdefault(constants.OPCODE_REASON, []).append(
            [source, reason, time.time_ns()])


def wait_for_job(client: luxi.Client, job_id: int,
                 feedback: Feedback | None = print_log_entry) -> str:
    """Follow a job until it finishes, passing its log entries to ``feedback``;
    returns its final status."""
    prev_info: Any = None
    prev_serial = 0
    while True:
        change = client.wait_for_job_change(job_id, ["status"], prev_info, prev_serial,
                                            luxi.WFJC_TIMEOUT)
        if change is None:
            raise errors.JobLost("Job %s not found" % job_id)
        if change == "nochange":
            continue
        job_info, log_entries = change
        for entry in log_entries or []:
            prev_serial = max(prev_serial, int(entry[0]))
            if feedback is not None:
                feedback(entry)
        status = job_info[0]
        if status in constants.JOBS_FINALIZED:
            return str(status)
        prev_info = job_info


def job_results(client: luxi.Client, job_id: int) -> list[Any]:
    """The opcode results of a finished job, or the error of its failed opcode."""
    rows = client.query_jobs([job_id], ["status", "opstatus", "opresult"])
    if not rows or rows[0] is None:
        raise errors.JobLost("Job %s not found" % job_id)
    status, op_statuses, op_results = rows[0]
    if status == constants.JOB_STATUS_SUCCESS:
        return list(op_results)
    if status == constants.JOB_STATUS_CANCELED:
        raise errors.OpExecError("Job %s was canceled" % job_id)
    for index, (op_status, op_result) in enumerate(zip(op_statuses, op_results)):
        if op_status == constants.JOB_STATUS_SUCCESS:
            continue
        if op_status == constants.JOB_STATUS_CANCELED:
            raise errors.OpExecError("Job %s was canceled" % job_id)
        errors.maybe_raise(op_result)
        raise errors.OpExecError("Job %s, opcode %d failed: %s" % (job_id, index, op_result))
    raise errors.OpExecError("Job %s finished with status %s" % (job_id, status))


def poll_job(client: luxi.Client, job_id: int,
             feedback: Feedback | None = print_log_entry) -> list[Any]:
    wait_for_job(client, job_id, feedback)
    return job_results(client, job_id)


def submit_or_send(ops: list[dict[str, Any]], options: argparse.Namespace,
                   client: luxi.Client | None = None) -> list[Any]:
    """Submit a job of ``ops``; with --submit raise JobSubmittedException, else
    wait for it and return the opcodes' results."""
    set_generic_op_opts(ops, options)
    client = client or get_client()
    job_id = client.submit_job(ops)
    if getattr(options, "print_jobid", False):
        cli.to_stdout(str(job_id))
    if getattr(options, "submit_only", False):
        raise cli.JobSubmittedException(job_id)
    return poll_job(client, job_id)


def follow_submitted_jobs(client: luxi.Client, submitted: list[list[Any]],
                          feedback: Feedback | None = print_log_entry) -> int:
    """Follow the jobs an opcode submitted (its ``{"jobs": [[ok, id or error], …]}``),
    showing their log lines; print each failure and return how many failed."""
    failures = 0
    for ok, value in submitted:
        if not ok:
            failures += 1
            cli.to_stderr("Submitting a job failed: %s" % (value,))
            continue
        try:
            poll_job(client, int(value), feedback)
        except errors.GenericError as err:
            failures += 1
            cli.to_stderr("Job %s failed: %s" % (value, cli.format_error(err)[1]))
    return failures


def submit_and_follow(op: dict[str, Any], options: argparse.Namespace) -> tuple[Any, int]:
    """Submit an opcode that submits jobs (node evacuate, change-group, …), then follow
    those jobs; (the opcode's result, how many of its jobs failed)."""
    client = get_client()
    result = submit_or_send([op], options, client)[0]
    return result, follow_submitted_jobs(client, result[constants.JOB_IDS_KEY])


def run_moves(op: dict[str, Any], options: argparse.Namespace, done: str,
              failed: str) -> int:
    """``submit_and_follow``, then Ganeti's closing line: ``done``, or ``failed`` with
    the number of failed jobs in its ``%s``."""
    _result, failures = submit_and_follow(op, options)
    if failures:
        cli.to_stdout(failed % failures)
        return cli.EXIT_FAILURE
    cli.to_stdout(done)
    return cli.EXIT_SUCCESS


def with_group_targets(op: dict[str, Any], options: argparse.Namespace) -> dict[str, Any]:
    """``op`` with the target groups (``--to``) and allocator (``-I``) given, if any."""
    if options.to:
        op["target_groups"] = options.to
    if options.iallocator:
        op["iallocator"] = options.iallocator
    return op
