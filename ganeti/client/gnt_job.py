"""gnt-job: list, inspect, follow, cancel, archive and re-prioritize jobs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ganeti import cli, cli_jobs, cli_query, constants, errors
from ganeti.cli import Command, opt

PROG = "gnt-job"
DEFAULT_LIST_FIELDS = ("id", "status", "summary")
#: Seconds AutoArchiveJobs may spend before answering.
AUTOARCHIVE_TIMEOUT = 60.0

_TIME_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _job_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError("job id must be a non-negative integer, got %r" % text)
    return value


def parse_timespec(text: str) -> int:
    """``90``, ``30m``, ``2h``, ``1d``, ``1w`` as seconds (Ganeti's time specs)."""
    text = text.strip()
    if not text:
        raise errors.ParameterError("Empty time specification")
    factor = 1
    if text[-1] in _TIME_UNITS:
        factor, text = _TIME_UNITS[text[-1]], text[:-1]
    try:
        value = int(text)
    except ValueError:
        raise errors.ParameterError("Invalid time specification '%s': expected a number of "
                                    "seconds, optionally with a suffix s, m, h, d or w"
                                    % text) from None
    if value < 0:
        raise errors.ParameterError("Time specification '%s' is negative" % text)
    return value * factor


def _format_ts_list(value: Any) -> str:
    return ",".join(cli_jobs.format_timestamp(ts) for ts in value or [])


_FORMAT_OVERRIDE = {
    "received_ts": cli_jobs.format_timestamp,
    "start_ts": cli_jobs.format_timestamp,
    "end_ts": cli_jobs.format_timestamp,
    "opstart": _format_ts_list,
    "opexec": _format_ts_list,
    "opend": _format_ts_list,
    "summary": lambda value: ",".join(str(v) for v in value or []),
}

_STATUS_OPTIONS = (
    ("pending", (constants.JOB_STATUS_QUEUED, constants.JOB_STATUS_WAITING)),
    ("running", (constants.JOB_STATUS_RUNNING,)),
    ("error", (constants.JOB_STATUS_ERROR,)),
    ("finished", tuple(sorted(constants.JOBS_FINALIZED))),
)


def list_jobs(options: argparse.Namespace) -> int:
    fields = cli.parse_fields(options.output, DEFAULT_LIST_FIELDS)
    statuses = [s for name, group in _STATUS_OPTIONS if getattr(options, "only_" + name)
                for s in group]
    qfilter = cli_query.and_filters(cli_query.or_filter("id", options.job_ids),
                                    cli_query.or_filter("status", statuses))
    return cli_query.generic_list(cli_jobs.get_client(), constants.QR_JOB, fields, qfilter,
                                  options, _FORMAT_OVERRIDE)


def list_fields(options: argparse.Namespace) -> int:
    return cli_query.list_fields(cli_jobs.get_client(), constants.QR_JOB, options.fields,
                                 options)


_INFO_FIELDS = ["id", "status", "received_ts", "start_ts", "end_ts", "ops", "opstatus",
                "opresult", "oplog", "opstart", "opexec", "opend", "oppriority"]


def _delta(later: Any, earlier: Any) -> str:
    a, b = cli_jobs.timestamp_seconds(later), cli_jobs.timestamp_seconds(earlier)
    if a is None or b is None:
        return ""
    return " (delta %.6fs)" % (a - b)


def _dump_value(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict):
        lines = []
        for key in sorted(value):
            item = value[key]
            if isinstance(item, (dict, list)) and item:
                lines.append("%s%s:" % (pad, key))
                lines.extend(_dump_value(item, indent + 2))
            else:
                lines.append("%s%s: %s" % (pad, key, item))
        return lines
    if isinstance(value, list):
        return ["%s- %s" % (pad, item) for item in value]
    return ["%s%s" % (pad, value)]


def format_job_info(row: list[Any]) -> list[str]:
    """``gnt-job info``'s dump of one job (QueryJobs row of _INFO_FIELDS)."""
    (job_id, status, received, started, ended, ops, opstatus, opresult, oplog,
     opstart, opexec, opend, oppriority) = row
    lines = ["- Job ID: %s" % job_id, "  Status: %s" % status,
             "  Received:         %s" % cli_jobs.format_timestamp(received)]
    if started:
        lines.append("  Processing start: %s%s" % (cli_jobs.format_timestamp(started),
                                                    _delta(started, received)))
    else:
        lines.append("  Processing start: unknown (not started)")
    if ended:
        lines.append("  Processing end:   %s%s" % (cli_jobs.format_timestamp(ended),
                                                    _delta(ended, started)))
        lines.append("  Total processing time: %s" % (_delta(ended, received).strip()
                                                      .strip("()").replace("delta ", "")
                                                      or "N/A"))
    else:
        lines.append("  Processing end:   unknown (not ended)")
    lines.append("  Opcodes:")
    for index, op in enumerate(ops):
        lines.append("    - Opcode: %s" % op.get("OP_ID", "?"))
        lines.append("      Status: %s" % opstatus[index])
        lines.append("      Priority: %s" % oppriority[index])
        lines.append("      Processing start: %s" % cli_jobs.format_timestamp(opstart[index]))
        lines.append("      Execution start:  %s" % cli_jobs.format_timestamp(opexec[index]))
        lines.append("      Processing end:   %s" % cli_jobs.format_timestamp(opend[index]))
        lines.append("      Input fields:")
        lines.extend(_dump_value({k: v for k, v in op.items() if k != "OP_ID"}, 8))
        result = opresult[index]
        if isinstance(result, (dict, list)) and result:
            lines.append("      Result:")
            lines.extend(_dump_value(result, 8))
        else:
            lines.append("      Result: %s" % (result,))
        if oplog[index]:
            lines.append("      Execution log:")
            for _serial, ts, log_type, message in oplog[index]:
                lines.append("        %s:%s %s" % (cli_jobs.format_timestamp(ts), log_type,
                                                   cli_jobs.format_log_message(log_type,
                                                                               message)))
        else:
            lines.append("      No execution log")
    return lines


def show_jobs(options: argparse.Namespace) -> int:
    rows = cli_jobs.get_client().query_jobs(options.job_ids, _INFO_FIELDS)
    code = cli.EXIT_SUCCESS
    for job_id, row in zip(options.job_ids, rows):
        if row is None:
            cli.to_stdout("Job ID %s not found" % job_id)
            code = cli.EXIT_FAILURE
            continue
        for line in format_job_info(row):
            cli.to_stdout(line)
    return code


def watch_job(options: argparse.Namespace) -> int:
    client = cli_jobs.get_client()
    job_id = options.job_id
    if client.query_jobs([job_id], ["id"])[0] is None:
        raise errors.JobLost("Job with ID %s not found" % job_id)
    cli.to_stdout("Output from job %s follows" % job_id)
    cli.to_stdout("-" * 21)
    cli_jobs.poll_job(client, job_id)
    return cli.EXIT_SUCCESS


def wait_jobs(options: argparse.Namespace) -> int:
    client = cli_jobs.get_client()
    for job_id in options.job_ids:
        if client.query_jobs([job_id], ["id"])[0] is None:
            raise errors.JobLost("Job with ID %s not found" % job_id)
        cli_jobs.wait_for_job(client, job_id, feedback=None)
    return cli.EXIT_SUCCESS


def _select_jobs(options: argparse.Namespace, action: str) -> list[int]:
    """Job ids given, or those in the statuses chosen by --pending/--queued/--waiting."""
    statuses = set()
    if options.pending:
        statuses |= {constants.JOB_STATUS_QUEUED, constants.JOB_STATUS_WAITING}
    if options.queued:
        statuses.add(constants.JOB_STATUS_QUEUED)
    if options.waiting:
        statuses.add(constants.JOB_STATUS_WAITING)
    if options.job_ids and statuses:
        raise cli.UsageError("give job ids or a status option (--pending, --queued,"
                             " --waiting), not both")
    if options.job_ids:
        return list(options.job_ids)
    if not statuses:
        raise cli.UsageError("give the ids of the jobs to %s, or a status option" % action)
    rows = cli_jobs.get_client().query_jobs(None, ["id", "status"])
    selected = sorted(row[0] for row in rows if row is not None and row[1] in statuses)
    if selected and not options.force and not cli.confirm(
            "%s %d job(s) (%s)?" % (action.capitalize(), len(selected),
                                    ", ".join(map(str, selected)))):
        raise cli.UsageError("not confirmed; use --force to %s without asking" % action)
    return selected


def cancel_jobs(options: argparse.Namespace) -> int:
    client = cli_jobs.get_client()
    code = cli.EXIT_SUCCESS
    for job_id in _select_jobs(options, "cancel"):
        success, message = client.cancel_job(job_id, options.kill)
        cli.to_stdout(str(message))
        if not success:
            code = cli.EXIT_FAILURE
    return code


def change_priority(options: argparse.Namespace) -> int:
    client = cli_jobs.get_client()
    priority = cli.PRIORITY_NAMES[options.priority]
    code = cli.EXIT_SUCCESS
    for job_id in _select_jobs(options, "change the priority of"):
        success, message = client.change_job_priority(job_id, priority)
        cli.to_stdout(str(message))
        if not success:
            code = cli.EXIT_FAILURE
    return code


def archive_jobs(options: argparse.Namespace) -> int:
    client = cli_jobs.get_client()
    code = cli.EXIT_SUCCESS
    for job_id in options.job_ids:
        if not client.archive_job(job_id):
            cli.to_stderr("Failed to archive job %s (unknown or not finished)" % job_id)
            code = cli.EXIT_FAILURE
    return code


def autoarchive(options: argparse.Namespace) -> int:
    age = -1 if options.age == "all" else parse_timespec(options.age)
    archived, remaining = cli_jobs.get_client().auto_archive_jobs(age, AUTOARCHIVE_TIMEOUT)
    cli.to_stdout("Archived %s jobs, %s unchecked left" % (archived, remaining))
    return cli.EXIT_SUCCESS


_JOB_IDS = opt("job_ids", nargs="*", type=_job_id, metavar="JOB_ID")
_JOB_IDS_REQUIRED = opt("job_ids", nargs="+", type=_job_id, metavar="JOB_ID")
_SELECT_OPTS = (
    opt("--pending", action="store_true", help="select all queued and waiting jobs"),
    opt("--queued", action="store_true", help="select all queued jobs"),
    opt("--waiting", action="store_true", help="select all waiting jobs"),
    cli.FORCE_OPT,
)

COMMANDS: dict[str, Command] = {
    "list": Command(
        list_jobs, "list the jobs and their status", args=(_JOB_IDS,),
        options=(*cli.LIST_OPTS, cli.VERBOSE_OPT,
                 *[opt("--" + name, dest="only_" + name, action="store_true",
                       help="show only %s jobs" % name) for name, _ in _STATUS_OPTIONS]),
        description="Lists the jobs (default fields: %s)." % ", ".join(DEFAULT_LIST_FIELDS)),
    "list-fields": Command(
        list_fields, "list the fields gnt-job list can show",
        args=(opt("fields", nargs="*", metavar="FIELD"),), options=(cli.NOHDR_OPT,
                                                                    cli.SEP_OPT)),
    "info": Command(show_jobs, "show detailed information about jobs",
                    args=(_JOB_IDS_REQUIRED,), aliases=("show",)),
    "watch": Command(watch_job, "follow a job's log until it finishes",
                     args=(opt("job_id", type=_job_id, metavar="JOB_ID"),)),
    "wait": Command(wait_jobs, "wait silently until jobs finish", args=(_JOB_IDS_REQUIRED,)),
    "cancel": Command(cancel_jobs, "cancel jobs", args=(_JOB_IDS,),
                      options=(*_SELECT_OPTS, opt("--kill", action="store_true",
                                                  help="also stop running jobs"),
                               cli.YES_OPT)),
    "change-priority": Command(
        change_priority, "change the priority of jobs", args=(_JOB_IDS,),
        options=(*_SELECT_OPTS, opt("--priority", choices=sorted(cli.PRIORITY_NAMES),
                                    required=True, help="the new priority"))),
    "archive": Command(archive_jobs, "archive finished jobs", args=(_JOB_IDS_REQUIRED,)),
    "autoarchive": Command(
        autoarchive, "archive finished jobs older than AGE",
        args=(opt("age", metavar="AGE",
                  help="age in seconds or with a suffix s, m, h, d, w; 'all' for all"),)),
}


def main(argv: Sequence[str] | None = None) -> int:
    return cli.generic_main(PROG, COMMANDS, argv, description=__doc__ or "")


if __name__ == "__main__":
    sys.exit(main())
