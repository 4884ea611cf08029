"""What every gnt-* command shares: option value parsing, table output, the
shared options, the sub-command dispatcher, exit codes and error messages.

Option syntax follows Ganeti's: ``k=v,k2=v2`` with ``\\,`` for a literal
comma; a bare ``key`` means True, ``no_key`` False and ``-key`` None (remove
an override); ``ident:k=v`` for per-hypervisor or per-template values.
Tables are padded columns (numbers right-aligned) or, with ``--separator``,
fields joined by the separator with no padding.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from ganeti import constants, errors
from ganeti.utils import units as units_mod

NO_PREFIX = "no_"
UN_PREFIX = "-"


def _split_escaped(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` except where it is escaped with a backslash."""
    parts: list[str] = []
    current: list[str] = []
    chars = iter(text)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            if following == sep:
                current.append(sep)
            else:
                current.append(char + following)
        elif char == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def split_key_values(text: str, option: str = "", parse_prefixes: bool = True) -> dict[str, Any]:
    """Parse ``k=v,flag,no_flag,-key`` into a dict (see module doc)."""
    result: dict[str, Any] = {}
    if not text:
        return result
    where = " in option %s" % option if option else ""
    for element in _split_escaped(text):
        if not element:
            raise errors.ParameterError("Empty element in '%s'%s" % (text, where))
        value: Any
        if "=" in element:
            key, value = element.split("=", 1)
        elif not parse_prefixes:
            raise errors.ParameterError("Missing value for key '%s'%s" % (element, where))
        elif element.startswith(NO_PREFIX) and len(element) > len(NO_PREFIX):
            key, value = element[len(NO_PREFIX):], False
        elif element.startswith(UN_PREFIX) and len(element) > len(UN_PREFIX):
            key, value = element[len(UN_PREFIX):], None
        else:
            key, value = element, True
        if not key:
            raise errors.ParameterError("Empty key in '%s'%s" % (element, where))
        if key in result:
            raise errors.ParameterError("Duplicate key '%s'%s" % (key, where))
        result[key] = value
    return result


def parse_ident_key_values(text: str, option: str = "") -> tuple[str, Any]:
    """Parse ``ident:k=v,…`` (also ``no_ident`` → False, ``-ident`` → None)."""
    ident, sep, rest = text.partition(":")
    if not sep:
        if ident.startswith(NO_PREFIX) and len(ident) > len(NO_PREFIX):
            return ident[len(NO_PREFIX):], False
        if ident.startswith(UN_PREFIX) and len(ident) > len(UN_PREFIX):
            return ident[len(UN_PREFIX):], None
        return ident, {}
    if not ident:
        raise errors.ParameterError("Missing identifier before ':' in '%s'" % text)
    if ident.startswith((NO_PREFIX, UN_PREFIX)):
        raise errors.ParameterError("Cannot pass parameters when removing '%s'" % ident)
    return ident, split_key_values(rest, option)


def parse_list(text: str) -> list[str]:
    """Comma-separated list, empty elements dropped (``a,b,,c``)."""
    return [item for item in _split_escaped(text) if item]


def format_table(headers: Sequence[str] | None, rows: Sequence[Sequence[Any]],
                 separator: str | None = None, numeric: Sequence[int] = (),
                 unit_columns: Sequence[int] = (), units: str | None = None) -> list[str]:
    """Render rows as text lines.

    ``numeric`` columns are right-aligned; ``unit_columns`` hold MiB values
    rendered with ``units`` (default ``h`` without separator, ``m`` with one,
    as Ganeti does so scripts get plain numbers).
    """
    if units is None:
        units = "m" if separator is not None else "h"
    unit_set, numeric_set = set(unit_columns), set(numeric) | set(unit_columns)

    def cell(index: int, value: Any) -> str:
        if index in unit_set and isinstance(value, (int, float)) \
                and not isinstance(value, bool):
            return units_mod.format_unit(value, units)
        if value is None:
            return "-"
        if isinstance(value, bool):
            return "Y" if value else "N"
        if isinstance(value, (list, tuple)):
            return ",".join(str(v) for v in value)
        return str(value)

    table = [[cell(i, v) for i, v in enumerate(row)] for row in rows]
    if headers:
        table.insert(0, list(headers))
    if separator is not None:
        return [separator.join(row) for row in table]
    if not table:
        return []
    widths = [max(len(row[i]) for row in table if i < len(row))
              for i in range(max(len(row) for row in table))]
    lines = []
    for row in table:
        fields = [value.rjust(widths[i]) if i in numeric_set else value.ljust(widths[i])
                  for i, value in enumerate(row)]
        lines.append(" ".join(fields).rstrip())
    return lines


# -- exit codes (Ganeti's) ------------------------------------------------------------

EXIT_SUCCESS = 0
EXIT_FAILURE = 1
#: argparse's status for usage and option errors.
EXIT_USAGE = 2
EXIT_NOTCLUSTER = 5
EXIT_NOTMASTER = 11
EXIT_NODESETUP_ERROR = 12
EXIT_CONFIRMATION = 13
EXIT_UNKNOWN_FIELD = 14


class JobSubmittedException(Exception):
    """``--submit``: the job is queued; report ``JobID: N`` and exit 0."""

    def __init__(self, job_id: int) -> None:
        super().__init__(job_id)
        self.job_id = job_id


class UsageError(Exception):
    """Bad command-line arguments found after option parsing (exit 2)."""


def format_error(err: BaseException) -> tuple[int, str]:
    """Exit code and one-line message for an error a command raised."""
    # Imported here: luxi pulls in the socket machinery, which --help does not need.
    from ganeti import luxi

    if isinstance(err, JobSubmittedException):
        return EXIT_SUCCESS, "JobID: %s" % err.job_id
    if isinstance(err, UsageError):
        return EXIT_USAGE, "Usage error: %s" % err
    if isinstance(err, luxi.NoMasterError):
        return EXIT_NOTMASTER, _text(err)  # names the socket and asks whether masterd runs
    if isinstance(err, luxi.RequestTimeoutError):
        return EXIT_FAILURE, "Timeout while talking to the master daemon: %s" % _text(err)
    if isinstance(err, errors.JobQueueDrainError):
        return EXIT_FAILURE, ("Failure: the job queue is marked for drain and doesn't accept"
                              " new requests")
    if isinstance(err, errors.JobQueueFull):
        return EXIT_FAILURE, ("Failure: the job queue is full and doesn't accept new job"
                              " submissions until old jobs are archived")
    if isinstance(err, errors.OpPrereqError):
        kind = errors.get_error_code(err)
        if kind:
            return EXIT_FAILURE, ("Failure: prerequisites not met for this operation: error"
                                  " type: %s, error details: %s" % (kind, err.args[0]))
        return EXIT_FAILURE, ("Failure: prerequisites not met for this operation: %s"
                              % _text(err))
    if isinstance(err, errors.HooksAbort):
        return EXIT_FAILURE, "Failure: hooks execution failed: %s" % _text(err)
    if isinstance(err, errors.OpExecError):
        return EXIT_FAILURE, "Failure: command execution error: %s" % _text(err)
    if isinstance(err, (errors.ParameterError, errors.TypeEnforcementError,
                        errors.UnitParseError)):
        return EXIT_FAILURE, "Parameter Error: %s" % _text(err)
    if isinstance(err, errors.JobLost):
        return EXIT_FAILURE, "Error checking job status: %s" % _text(err)
    if isinstance(err, errors.LuxiError):
        return EXIT_FAILURE, "Error while talking to the master daemon: %s" % _text(err)
    if isinstance(err, errors.GenericError):
        return EXIT_FAILURE, "Failure: %s" % _text(err)
    if isinstance(err, KeyboardInterrupt):
        return EXIT_FAILURE, ("Aborted. Jobs already submitted, if any, continue to run in"
                              " the background.")
    return EXIT_FAILURE, "Unhandled exception: %s: %s" % (type(err).__name__, err)


def _text(err: BaseException) -> str:
    if len(err.args) == 1:
        return str(err.args[0])
    return str(err) if err.args else type(err).__name__


# -- shared options -------------------------------------------------------------------

# Opt and Command are NamedTuples, not dataclasses: importing dataclasses (and
# inspect) would cost every gnt-* command ~10 ms of start-up.
class Opt(NamedTuple):
    """One command-line option or positional argument, declared once, reused."""

    flags: tuple[str, ...]
    kwargs: dict[str, Any]

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(*self.flags, **self.kwargs)


def opt(*flags: str, **kwargs: Any) -> Opt:
    return Opt(tuple(flags), kwargs)


#: ``--priority`` names and their opcode priorities (Ganeti's).
PRIORITY_NAMES = {
    "low": constants.OP_PRIO_LOW,
    "normal": constants.OP_PRIO_NORMAL,
    "high": constants.OP_PRIO_HIGH,
}

DEBUG_OPT = opt("-d", "--debug", action="count", default=0,
                help="debug output; repeat for more (tracebacks on errors)")
VERBOSE_OPT = opt("-v", "--verbose", action="count", default=0, help="more output")
SUBMIT_OPT = opt("--submit", dest="submit_only", action="store_true",
                 help="submit the job and print its id (JobID: N, on stderr) without"
                      " waiting for it to finish")
PRINT_JOBID_OPT = opt("--print-jobid", action="store_true",
                      help="print the job id as the first line of standard output")
PRIORITY_OPT = opt("--priority", choices=sorted(PRIORITY_NAMES), default=None,
                   help="priority of the submitted job(s)")
DRY_RUN_OPT = opt("--dry-run", action="store_true",
                  help="only check the parameters and the cluster state; change nothing")
REASON_OPT = opt("--reason", default=None, metavar="TEXT",
                 help="reason for the operation, kept in the job's reason trail")
FORCE_OPT = opt("-f", "--force", action="store_true", help="do not ask for confirmation")


def confirm(question: str) -> bool:
    """Ask a yes/no question on the terminal; without a terminal the answer is no
    (as Ganeti's: a script must say --force/--yes to go ahead)."""
    if not sys.stdin.isatty():
        return False
    sys.stderr.write("%s y/[n]: " % question)
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")
YES_OPT = opt("--yes", action="store_true", help="assume yes to confirmation questions")
NOHDR_OPT = opt("--no-headers", action="store_true", help="do not print table headers")
SEP_OPT = opt("--separator", default=None, metavar="SEP",
              help="separate fields with SEP instead of aligning columns")
UNITS_OPT = opt("--units", choices=["h", "m", "g", "t"], default=None,
                help="units for sizes: h (human readable, default), m, g or t")
FIELDS_OPT = opt("-o", "--output", dest="output", default=None, metavar="FIELDS",
                 help="comma-separated list of fields to show; a leading '+' adds them"
                      " to the default ones")

#: What every command that submits a job accepts.
SUBMIT_OPTS = (DRY_RUN_OPT, PRIORITY_OPT, SUBMIT_OPT, PRINT_JOBID_OPT, REASON_OPT)
#: What every listing accepts.
LIST_OPTS = (NOHDR_OPT, SEP_OPT, UNITS_OPT, FIELDS_OPT)


def parse_fields(selected: str | None, default: Sequence[str]) -> list[str]:
    """``-o`` value to field names; ``+a,b`` appends to the defaults."""
    if selected is None:
        return list(default)
    if selected.startswith("+"):
        return list(default) + parse_list(selected[1:])
    fields = parse_list(selected)
    if not fields:
        raise UsageError("no fields given to -o/--output")
    return fields


def parse_priority(name: str | None) -> int | None:
    return None if name is None else PRIORITY_NAMES[name]


def to_stdout(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def to_stderr(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


# -- sub-command dispatcher -----------------------------------------------------------

CommandFunc = Callable[[argparse.Namespace], int | None]


class Command(NamedTuple):
    """A sub-command: its function, arguments, options and help."""

    func: CommandFunc
    help: str
    args: Sequence[Opt] = ()
    options: Sequence[Opt] = ()
    aliases: tuple[str, ...] = ()
    description: str | None = None


def chosen_command(commands: dict[str, Command], argv: Sequence[str]) -> str | None:
    """The sub-command ``argv`` names (its first word that is not an option), if any."""
    word = next((word for word in argv if not word.startswith("-")), None)
    if word is None:
        return None
    for name, command in commands.items():
        if word == name or word in command.aliases:
            return name
    return None


def build_parser(prog: str, commands: dict[str, Command], description: str = "",
                 argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every sub-command; given ``argv``, only its sub-command gets options.

    Adding options is most of a command's start-up (gnt-instance: ~25 ms for
    all its sub-commands), and one run needs those of one sub-command only;
    the others are still listed, with their help line, for ``--help``.
    """
    # A module docstring's first paragraph is for the administrator; the rest is for
    # whoever reads the code.
    summary = description.strip().split("\n\n", 1)[0]
    parser = argparse.ArgumentParser(prog=prog, description=summary)
    subparsers = parser.add_subparsers(dest="command", metavar="<command>")
    chosen = chosen_command(commands, argv) if argv is not None else None
    for name, command in commands.items():
        sub = subparsers.add_parser(name, aliases=list(command.aliases), help=command.help,
                                    description=command.description or command.help)
        if argv is not None and name != chosen:
            continue
        DEBUG_OPT.add_to(sub)
        for option in (*command.options, *command.args):
            option.add_to(sub)
        sub.set_defaults(command_func=command.func)
    return parser


def attach_dash_values(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """Let option values start with '-' (Ganeti's ``-B -vcpus``, ``-O -name``).

    argparse takes such a value for an option of its own and fails; when the
    word after an option that takes a value starts with '-' but is no option
    of the chosen sub-command, it is attached (``-B-vcpus``, ``--x=-v``).
    """
    # argparse offers no public way to list a sub-command's options.
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        return argv
    choices = subparsers[0].choices
    sub = next((choices[word] for word in argv if word in choices), None)
    if sub is None:
        return argv
    all_options = set(sub._option_string_actions)
    # Options taking exactly one value have nargs None (flags have nargs 0).
    takes_value = {name for name, action in sub._option_string_actions.items()
                   if action.nargs is None}
    result: list[str] = []
    words = iter(argv)
    for word in words:
        if word == "--":
            result.append(word)
            result.extend(words)
            break
        if word in takes_value:
            following = next(words, None)
            if following is None:
                result.append(word)
                break
            if (following.startswith("-") and following != "--"
                    and following.split("=", 1)[0] not in all_options):
                result.append(("%s=%s" if word.startswith("--") else "%s%s")
                              % (word, following))
            else:
                result.extend([word, following])
            continue
        result.append(word)
    return result


def generic_main(prog: str, commands: dict[str, Command], argv: Sequence[str] | None = None,
                 description: str = "") -> int:
    """Parse ``argv``, run the chosen sub-command, turn errors into exit codes.

    Errors print one line on stderr; a traceback only with ``--debug``.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(prog, commands, description, args)
    options = parser.parse_args(attach_dash_values(parser, args))  # exits 2 on errors
    func = getattr(options, "command_func", None)
    if func is None:
        parser.print_usage(sys.stderr)
        to_stderr("%s: error: a command is required (one of: %s)"
                  % (prog, ", ".join(commands)))
        return EXIT_USAGE
    options.prog = prog
    try:
        return int(func(options) or EXIT_SUCCESS)
    except BrokenPipeError:
        return EXIT_FAILURE
    except (Exception, KeyboardInterrupt) as err:
        code, message = format_error(err)
        if getattr(options, "debug", 0) and not isinstance(err, JobSubmittedException):
            import traceback
            traceback.print_exc()
        to_stderr(message)
        return code
