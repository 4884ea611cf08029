"""gnt-debug: test jobs (delay, submit-job) and the lock monitor."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any

from ganeti import cli, cli_jobs, constants, errors, serializer
from ganeti.cli import Command, opt
from ganeti.utils import argtypes

PROG = "gnt-debug"
DEFAULT_LOCK_FIELDS = ("name", "mode", "owner", "pending")


def _duration(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError("duration must be a non-negative number of seconds,"
                                         " got %r" % text)
    return value


def delay(options: argparse.Namespace) -> int:
    # The wire form directly: the master validates every parameter, and the
    # CLI start-up stays light (no opcode schema import for a round trip).
    op: dict[str, Any] = {
        "OP_ID": "OP_TEST_DELAY",
        "duration": options.duration,
        "on_master": options.on_master,
        "on_nodes": options.on_nodes,
        "repeat": options.repeat,
        "interruptible": options.interruptible,
        "no_locks": options.no_locks,
    }
    cli_jobs.submit_or_send([op], options)
    return cli.EXIT_SUCCESS


def _dash_if_empty(value: Any, text: str) -> str:
    return text if value else "-"


_LOCK_FORMAT = {
    "mode": lambda value: _dash_if_empty(value, str(value)),
    "owner": lambda value: _dash_if_empty(value, ",".join(str(v) for v in value or [])),
    "pending": lambda value: _dash_if_empty(value, ", ".join(
        "%s:%s" % (mode, ",".join(str(o) for o in owners)) for mode, owners in value or [])),
}


def list_locks(options: argparse.Namespace) -> int:
    from ganeti import cli_query  # only listings need it; delay stays light

    fields = cli.parse_fields(options.output, DEFAULT_LOCK_FIELDS)
    client = cli_jobs.get_client()
    while True:
        code = cli_query.generic_list(client, constants.QR_LOCK, fields, None, options,
                                      _LOCK_FORMAT)
        if code != cli.EXIT_SUCCESS or not options.interval:
            return code
        cli.to_stdout("")
        time.sleep(options.interval)


def _load_job_file(path: str) -> list[dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = serializer.load(handle.read())
    except OSError as err:
        raise errors.ParameterError("Cannot read %s: %s" % (path, err.strerror)) from err
    except ValueError as err:
        raise errors.ParameterError("%s is not valid JSON: %s" % (path, err)) from err
    if not (isinstance(data, list) and all(isinstance(op, dict) for op in data) and data):
        raise errors.ParameterError("%s must hold a non-empty JSON list of opcodes" % path)
    return data


def submit_job_files(options: argparse.Namespace) -> int:
    """Submit one job per file (times --job-repeat), wait for all, report."""
    loaded = [(path, _load_job_file(path)) for path in options.files]
    jobs: list[tuple[str, list[dict[str, Any]]]] = []
    for repeat in range(options.rep_job):
        for path, ops in loaded:
            job_ops = [dict(op) for _ in range(options.rep_op) for op in ops]
            cli_jobs.set_generic_op_opts(job_ops, options)
            jobs.append(("file %s/%d" % (path, repeat), job_ops))
    client = cli_jobs.get_client()
    started = time.monotonic()
    if options.each:
        job_ids = [client.submit_job(ops) for _name, ops in jobs]
    else:
        submitted = client.submit_many_jobs([ops for _name, ops in jobs])
        job_ids = []
        for (name, _ops), (success, value) in zip(jobs, submitted):
            if not success:
                raise errors.OpExecError("Submitting %s failed: %s" % (name, value))
            job_ids.append(value)
    submitted_at = time.monotonic()
    code = cli.EXIT_SUCCESS
    for (name, _ops), job_id in zip(jobs, job_ids):
        if options.verbose:
            cli.to_stdout("Submitted job %s (%s)" % (job_id, name))
        try:
            cli_jobs.poll_job(client, job_id,
                              cli_jobs.print_log_entry if options.verbose else None)
        except errors.GenericError as err:
            cli.to_stdout("Job %s (%s) failed: %s" % (job_id, name, err))
            code = cli.EXIT_FAILURE
    finished_at = time.monotonic()
    if options.timing_stats:
        ops_count = sum(len(ops) for _name, ops in jobs)
        cli.to_stdout("Submitted %d jobs, %d opcodes in %.3f s; all finished after %.3f s"
                      % (len(jobs), ops_count, submitted_at - started,
                         finished_at - started))
    return code


def _allocator_disks(text: str) -> list[dict[str, Any]]:
    from ganeti.utils import units

    try:
        return [{"size": units.parse_unit(size), "mode": constants.DISK_RDWR}
                for size in text.split(",")]
    except (errors.GenericError, ValueError) as err:
        raise argparse.ArgumentTypeError("invalid --disks value %r: %s" % (text, err)) \
            from err


def _allocator_nics(text: str) -> list[dict[str, Any]]:
    """``mac/ip/bridge,…`` (Ganeti's form; empty parts are unset)."""
    nics = []
    for item in text.split(","):
        parts = [*item.split("/"), "", "", ""][:3]
        nics.append({"mac": parts[0] or None, "ip": parts[1] or None,
                     "bridge": parts[2] or None})
    return nics


def test_allocator(options: argparse.Namespace) -> int:
    """Show an allocator's input for a request (--dir in) or run it (--dir out)."""
    op: dict[str, Any] = {
        "OP_ID": "OP_TEST_ALLOCATOR", "direction": options.direction, "mode": options.mode,
        "name": options.names[0], "instances": list(options.names),
        "memory": options.memory, "vcpus": options.vcpus, "disks": options.disks,
        "nics": options.nics, "evac_mode": options.evac_mode,
        "target_groups": options.target_groups, "spindle_use": options.spindle_use,
        "count": options.count,
        "tags": cli.parse_list(options.tags) if options.tags else [],
    }
    for key in ("iallocator", "disk_template", "os"):
        if getattr(options, key):
            op[key] = getattr(options, key)
    results = cli_jobs.submit_or_send([op], options)
    cli.to_stdout(str(results[0]))
    return cli.EXIT_SUCCESS


COMMANDS: dict[str, Command] = {
    "delay": Command(
        delay, "run an OpTestDelay job (sleep on the master and/or nodes)",
        args=(opt("duration", type=_duration, metavar="DURATION",
                  help="seconds to sleep"),),
        options=(
            opt("--no-master", dest="on_master", action="store_false",
                help="do not sleep on the master"),
            opt("-n", "--node", dest="on_nodes", action="append", default=[],
                metavar="NODE", help="also sleep on this node (repeatable)"),
            opt("-r", "--repeat", type=argtypes.non_negative_int, default=0,
                help="how many more times to sleep"),
            opt("-i", "--interruptible", action="store_true",
                help="allow interrupting the sleep through a socket"),
            opt("-l", "--no-locks", action="store_true",
                help="take no locks while sleeping"),
            *cli.SUBMIT_OPTS)),
    "submit-job": Command(
        submit_job_files, "submit jobs built from JSON files of opcode lists",
        args=(opt("files", nargs="+", metavar="FILE"),),
        options=(cli.VERBOSE_OPT, cli.DRY_RUN_OPT, cli.PRIORITY_OPT, cli.REASON_OPT,
                 opt("--op-repeat", dest="rep_op", type=argtypes.non_negative_int, default=1,
                     help="repeat the opcode list this many times in each job"),
                 opt("--job-repeat", dest="rep_job", type=argtypes.non_negative_int, default=1,
                     help="submit each job this many times"),
                 opt("--timing-stats", action="store_true", help="show timing figures"),
                 opt("--each", action="store_true",
                     help="submit each job separately instead of all at once"))),
    "allocator": Command(
        test_allocator, "show an allocator request (--dir in) or run the allocator on it"
        " (--dir out)", args=(opt("names", nargs="+", metavar="NAME",
                                  help="the instance (made up for allocate requests)"),),
        aliases=("iallocator",),
        options=(
            opt("--dir", "--direction", dest="direction", default=constants.IALLOCATOR_DIR_IN,
                choices=sorted(constants.VALID_IALLOCATOR_DIRECTIONS),
                help="show the allocator input (in) or the allocator's answer (out)"),
            opt("-I", "--iallocator", dest="iallocator", default=None, metavar="NAME",
                help="allocator to run ('builtin', a script, '.': the cluster default)"),
            opt("-m", "--mode", default=constants.IALLOCATOR_MODE_RELOC,
                choices=sorted(constants.VALID_IALLOCATOR_MODES), help="request type"),
            opt("--memory", "--mem", dest="memory", type=argtypes.non_negative_int,
                default=128, help="memory of the made-up instance (MiB)"),
            opt("--disks", type=_allocator_disks, default=_allocator_disks("4096,4096"),
                help="comma-separated disk sizes of the made-up instance"),
            opt("--nics", type=_allocator_nics,
                default=_allocator_nics("00:11:22:33:44:55"),
                help="comma-separated mac/ip/bridge NICs of the made-up instance"),
            opt("--os-type", dest="os", default=None, help="OS of the made-up instance"),
            opt("--disk-template", default=None,
                help="disk template (default: the cluster's first)"),
            opt("--vcpus", type=argtypes.non_negative_int, default=1,
                help="virtual CPUs of the made-up instance"),
            opt("--tags", default=None, help="comma-separated tags"),
            opt("--evac-mode", default=constants.NODE_EVAC_ALL,
                choices=sorted(constants.NODE_EVAC_MODES), help="node-evacuate mode"),
            opt("--target-groups", action="append", default=[], metavar="GROUP",
                help="change-group target (repeatable)"),
            opt("--spindle-use", type=argtypes.non_negative_int, default=1,
                help="spindles of the made-up instance"),
            opt("--count", type=argtypes.non_negative_int, default=1,
                help="instances of a multi-allocate request"),
            cli.DRY_RUN_OPT, cli.PRIORITY_OPT)),
    "locks": Command(
        list_locks, "show the locks of the master daemon and who holds or waits for them",
        options=(cli.NOHDR_OPT, cli.SEP_OPT, cli.FIELDS_OPT, cli.VERBOSE_OPT,
                 opt("--interval", type=argtypes.non_negative_int, default=0, metavar="SECONDS",
                     help="repeat every SECONDS seconds"))),
}


def main(argv: Sequence[str] | None = None) -> int:
    return cli.generic_main(PROG, COMMANDS, argv, description=__doc__ or "")


if __name__ == "__main__":
    sys.exit(main())
