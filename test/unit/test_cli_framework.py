"""The gnt-* framework: shared options, dispatcher, errors, job polling."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from ganeti import cli, cli_jobs, constants, errors, luxi
from ganeti.client import gnt_debug, gnt_job


def test_parse_fields_replace_and_append() -> None:
    assert cli.parse_fields(None, ["id", "status"]) == ["id", "status"]
    assert cli.parse_fields("+priority,ops", ["id"]) == ["id", "priority", "ops"]
    assert cli.parse_fields("summary", ["id"]) == ["summary"]
    with pytest.raises(cli.UsageError, match="no fields"):
        cli.parse_fields(",", ["id"])


@pytest.mark.parametrize("err, code, text", [
    (cli.JobSubmittedException(17), 0, "JobID: 17"),
    (errors.OpPrereqError("Node 'x' is not known", errors.ECODE_NOENT), 1,
     "error type: unknown_entity, error details: Node 'x' is not known"),
    (errors.JobQueueDrainError("drained"), 1, "marked for drain"),
    (errors.OpExecError("disk failed"), 1, "command execution error: disk failed"),
    (luxi.NoMasterError("Cannot connect to the master daemon"), cli.EXIT_NOTMASTER,
     "Cannot connect to the master daemon"),
    (cli.UsageError("two ids"), cli.EXIT_USAGE, "two ids"),
    (ValueError("boom"), 1, "Unhandled exception: ValueError: boom"),
])
def test_format_error(err: BaseException, code: int, text: str) -> None:
    got_code, message = cli.format_error(err)
    assert got_code == code
    assert text in message
    assert "\n" not in message


def _failing(options: argparse.Namespace) -> int:
    raise errors.OpExecError("it broke")


_COMMANDS = {"fail": cli.Command(_failing, "fails", aliases=("break",))}


def test_generic_main_error_is_one_line_without_debug(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    assert cli.generic_main("gnt-test", _COMMANDS, ["fail"]) == 1
    err = capsys.readouterr().err
    assert err == "Failure: command execution error: it broke\n"


def test_generic_main_traceback_with_debug(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.generic_main("gnt-test", _COMMANDS, ["break", "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.endswith("it broke\n")


def test_generic_main_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.generic_main("gnt-test", _COMMANDS, []) == cli.EXIT_USAGE
    assert "a command is required" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        cli.generic_main("gnt-test", _COMMANDS, ["nosuch"])
    assert info.value.code == cli.EXIT_USAGE


@pytest.mark.parametrize("main", [gnt_job.main, gnt_debug.main])
def test_help_everywhere(main: Any, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    commands = gnt_job.COMMANDS if main is gnt_job.main else gnt_debug.COMMANDS
    out = capsys.readouterr().out
    for name in commands:
        assert name in out
        with pytest.raises(SystemExit) as info:
            main([name, "--help"])
        assert info.value.code == 0


def test_delay_rejects_bad_duration(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        gnt_debug.main(["delay", "soon"])
    assert info.value.code == cli.EXIT_USAGE
    assert "duration must be a non-negative number" in capsys.readouterr().err


@pytest.mark.parametrize("text, seconds", [("90", 90), ("2m", 120), ("3h", 10800),
                                           ("1d", 86400), ("1w", 604800)])
def test_parse_timespec(text: str, seconds: int) -> None:
    assert gnt_job.parse_timespec(text) == seconds


@pytest.mark.parametrize("text", ["", "x", "5y", "-3"])
def test_parse_timespec_rejects(text: str) -> None:
    with pytest.raises(errors.ParameterError):
        gnt_job.parse_timespec(text)


class FakeClient:
    """Scripted luxi answers for the polling loop."""

    def __init__(self, changes: list[Any], final: list[Any]) -> None:
        self.changes = list(changes)
        self.final = final
        self.submitted: list[list[dict[str, Any]]] = []
        self.waits: list[tuple[Any, int]] = []

    def submit_job(self, ops: list[dict[str, Any]]) -> int:
        self.submitted.append(ops)
        return 42

    def wait_for_job_change(self, job_id: int, fields: list[str], prev_info: Any,
                            prev_serial: int, timeout: float) -> Any:
        self.waits.append((prev_info, prev_serial))
        return self.changes.pop(0)

    def query_jobs(self, job_ids: list[int], fields: list[str]) -> list[Any]:
        return [self.final]


def _options(**kwargs: Any) -> argparse.Namespace:
    values = {"prog": "gnt-test", "debug": 0, "dry_run": False, "priority": None,
              "reason": None, "submit_only": False, "print_jobid": False}
    values.update(kwargs)
    return argparse.Namespace(**values)


def test_submit_or_send_prints_log_lines_and_returns_results(
        capsys: pytest.CaptureFixture[str]) -> None:
    client = FakeClient(
        changes=[[["running"], [[1, [1700000000, 0], "message", "step one"]]],
                 "nochange",
                 [["success"], [[2, [1700000001, 0], "message", "step two"]]]],
        final=["success", ["success"], [{"answer": 1}]])
    ops = [{"OP_ID": "OP_TEST_DELAY", "duration": 0}]
    results = cli_jobs.submit_or_send(ops, _options(priority="high", reason="testing"),
                                      client)  # type: ignore[arg-type]
    assert results == [{"answer": 1}]
    out = capsys.readouterr().out.splitlines()
    assert [line.split(" ", 5)[-1] for line in out] == ["step one", "step two"]
    op = client.submitted[0][0]
    assert op["priority"] == constants.OP_PRIO_HIGH
    assert op["reason"][0][:2] == ["gnt:client:gnt-test", "testing"]
    # the log serial advances, so lines are never printed twice
    assert client.waits[1:] == [(["running"], 1), (["running"], 1)]


def test_submit_only_raises_job_submitted(capsys: pytest.CaptureFixture[str]) -> None:
    client = FakeClient([], [])
    with pytest.raises(cli.JobSubmittedException) as info:
        cli_jobs.submit_or_send([{"OP_ID": "OP_TEST_DELAY", "duration": 0}],
                                _options(submit_only=True, print_jobid=True),
                                client)  # type: ignore[arg-type]
    assert info.value.job_id == 42
    assert capsys.readouterr().out == "42\n"


def test_failed_job_raises_the_opcode_error() -> None:
    error = errors.encode(errors.OpPrereqError("Node 'n9' is not known", errors.ECODE_NOENT))
    client = FakeClient([[["error"], []]], ["error", ["error"], [error]])
    with pytest.raises(errors.OpPrereqError, match="n9"):
        cli_jobs.poll_job(client, 42)  # type: ignore[arg-type]


def test_canceled_job_is_reported() -> None:
    client = FakeClient([[["canceled"], []]], ["canceled", ["canceled"], [None]])
    with pytest.raises(errors.OpExecError, match="canceled"):
        cli_jobs.poll_job(client, 42)  # type: ignore[arg-type]


def test_job_info_dump() -> None:
    row = [7, "success", [1700000000, 0], [1700000000, 500000], [1700000001, 0],
           [{"OP_ID": "OP_TEST_DELAY", "duration": 1.5}], ["success"], [None],
           [[[1, [1700000000, 600000], "message", "slept"]]], [[1700000000, 500000]],
           [[1700000000, 500100]], [[1700000001, 0]], [0]]
    text = "\n".join(gnt_job.format_job_info(row))
    assert "- Job ID: 7" in text
    assert "Status: success" in text
    assert "- Opcode: OP_TEST_DELAY" in text
    assert "duration: 1.5" in text
    assert "slept" in text
    assert "(delta 0.500000s)" in text


def test_option_values_may_start_with_a_dash() -> None:
    """Ganeti's ``-B -vcpus`` / ``--backend-parameters -vcpus`` remove an override."""
    seen: dict[str, object] = {}

    def record(options: argparse.Namespace) -> int:
        seen.update(vars(options))
        return 0

    commands = {"modify": cli.Command(
        record, "modify", args=(cli.opt("name"),),
        options=(cli.opt("-B", "--backend-parameters", dest="beparams", default=None),
                 cli.opt("-f", "--force", action="store_true"),
                 cli.opt("--timeout", type=int, default=None)))}
    assert cli.generic_main("gnt-x", commands, ["modify", "-B", "-vcpus", "inst1"]) == 0
    assert seen["beparams"] == "-vcpus" and seen["name"] == "inst1"
    assert cli.generic_main("gnt-x", commands,
                            ["modify", "--backend-parameters", "-maxmem", "-f", "i2"]) == 0
    assert seen["beparams"] == "-maxmem" and seen["force"] is True and seen["name"] == "i2"
    # a real option after an option that takes a value is still an option (argparse's error)
    with pytest.raises(SystemExit):
        cli.generic_main("gnt-x", commands, ["modify", "-B", "-f", "i3"])
    assert cli.generic_main("gnt-x", commands, ["modify", "--timeout", "-1", "i4"]) == 0
    assert seen["timeout"] == -1
