"""What keeps gnt-* start-up short: light imports, one sub-command's parser.

Start-up bounds every CLI figure (one process per command), so these tests
guard its causes rather than its time: the modules a command imports, the
options a run builds; and the serializer's refusal of what is not JSON.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from ganeti import cli, query, serializer
from ganeti.client import gnt_instance
from ganeti.constants import RS_NORMAL, RS_UNAVAIL, RS_UNKNOWN
from ganeti.query import FieldStatus, QueryField

#: Imported by no gnt-* command at start-up (each costs milliseconds or more).
HEAVY = ("dataclasses", "inspect", "ssl", "hashlib", "asyncio", "aiohttp", "OpenSSL",
         "cryptography", "paramiko", "psutil", "bitarray", "ipaddress",
         "ganeti.opcodes", "ganeti.objects", "ganeti.query", "ganeti.rpc")
#: The commands the benchmarks start most often.
COMMANDS = ("gnt_debug", "gnt_job", "gnt_instance", "gnt_node", "gnt_group", "gnt_os",
            "gnt_cluster")


def _imported_by(module: str) -> set[str]:
    # -S: without site-packages' .pth hooks, which import modules of their own.
    code = ("import sys; sys.path[:0] = %r; import %s; print('\\n'.join(sys.modules))"
            % ([p for p in sys.path if p], module))
    result = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True,
                            text=True, check=True)
    return set(result.stdout.split())


@pytest.mark.parametrize("command", COMMANDS)
def test_commands_import_nothing_heavy(command: str) -> None:
    loaded = _imported_by("ganeti.client." + command)
    assert "ganeti.client." + command in loaded
    heavy = sorted(name for name in loaded if name.split(".")[0] in HEAVY or name in HEAVY)
    assert heavy == [], "%s imports %s at start-up" % (command, ", ".join(heavy))


def test_parser_builds_only_the_chosen_sub_command() -> None:
    commands = gnt_instance.commands()
    parser = cli.build_parser("gnt-instance", commands, "", ["list", "-o", "name"])
    sub = next(a for a in parser._actions if isinstance(a, cli.argparse._SubParsersAction))
    assert set(sub.choices["list"]._option_string_actions) >= {"-o", "--no-headers", "-d"}
    assert set(sub.choices["add"]._option_string_actions) == {"-h", "--help"}
    options = parser.parse_args(["list", "-o", "name", "--no-headers"])
    assert options.output == "name" and options.no_headers
    # The help still lists every sub-command.
    listed = parser.format_help()
    assert all(name in listed for name in commands)


def test_parser_by_alias_and_without_argv() -> None:
    commands = gnt_instance.commands()
    assert cli.chosen_command(commands, ["start", "inst1"]) == "startup"
    assert cli.chosen_command(commands, ["--help"]) is None
    assert cli.chosen_command(commands, ["bogus"]) is None
    full = cli.build_parser("gnt-instance", commands)  # no argv: every sub-command whole
    sub = next(a for a in full._actions if isinstance(a, cli.argparse._SubParsersAction))
    assert "--no-headers" in sub.choices["list"]._option_string_actions
    assert len(sub.choices["add"]._option_string_actions) > 2


def test_unknown_sub_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        gnt_instance.main(["bogus"])
    assert exit_info.value.code == cli.EXIT_USAGE
    assert "invalid choice: 'bogus'" in capsys.readouterr().err


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_floats_are_refused(bad: float) -> None:
    with pytest.raises(ValueError):
        serializer.dump([bad])


@pytest.mark.parametrize("text", ["[NaN]", "[Infinity]", "[-Infinity]", "[1,", "{'a': 1}"])
def test_invalid_json_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="Invalid JSON"):
        serializer.load(text)


def test_query_columns_fall_back_per_cell() -> None:
    """A field whose getter fails for some items gives their status, others' values."""
    def getter(item: int) -> int:
        if item == 2:
            raise FieldStatus(7)
        if item == 3:
            raise KeyError(item)
        return item * 10

    what = "test-columns"
    query.RESOURCES.pop(what, None)
    query.register_resource(what, [QueryField("v", "V", "number", getter, "value"),
                                   QueryField("n", "N", "number", lambda i: i, "item")])
    try:
        answer = query.query(what, ["n", "v", "nope"], [1, 2, 3, 4])
        normal, unknown, unavail = RS_NORMAL, RS_UNKNOWN, RS_UNAVAIL
        assert answer["data"] == [
            [[normal, 1], [normal, 10], [unknown, None]],
            [[normal, 2], [7, None], [unknown, None]],
            [[normal, 3], [unavail, None], [unknown, None]],
            [[normal, 4], [normal, 40], [unknown, None]],
        ]
        assert query.query(what, [], [1, 2])["data"] == [[], []]
        assert query.query(what, ["n"], [1, 2, 3], [">", "n", 1])["data"] == [[[0, 2]],
                                                                              [[0, 3]]]
    finally:
        query.RESOURCES.pop(what, None)
