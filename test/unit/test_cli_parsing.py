"""cli option parsing, units and tables (Ganeti's syntax and output)."""

import pytest

from ganeti import cli, errors
from ganeti.utils import units


@pytest.mark.parametrize("text, mib", [
    ("512", 512), ("1g", 1024), ("1G", 1024), ("1.5g", 1536), ("2t", 2 * 1024 * 1024),
    ("3", 4), ("1025m", 1028), ("0.5G", 512), (" 8 ", 8), ("1gib", 1024),
])
def test_parse_unit(text, mib):
    assert units.parse_unit(text) == mib


@pytest.mark.parametrize("text", ["", "abc", "1x", "-1", "1.2.3g", "g"])
def test_parse_unit_rejects_with_message(text):
    with pytest.raises(errors.UnitParseError, match=r"Invalid size|Unknown unit") as info:
        units.parse_unit(text)
    assert "'%s'" % text in str(info.value)


@pytest.mark.parametrize("mib, unit, text", [
    (512, "h", "512M"), (1536, "h", "1.5G"), (3 * 1024 * 1024, "h", "3.0T"),
    (1536, "m", "1536"), (1536, "g", "1.5"), (1024 * 1024, "t", "1.0"),
])
def test_format_unit(mib, unit, text):
    assert units.format_unit(mib, unit) == text


def test_split_key_values():
    assert cli.split_key_values("a=1,b,no_c,-d") == {"a": "1", "b": True, "c": False, "d": None}
    assert cli.split_key_values(r"kernel_args=ro\,quiet,x=y=z") == {
        "kernel_args": "ro,quiet", "x": "y=z"}
    assert cli.split_key_values("") == {}


@pytest.mark.parametrize("text, message", [
    ("a=1,a=2", "Duplicate key 'a' in option -B"),
    ("a=1,,b=2", "Empty element"),
    ("=5", "Empty key"),
])
def test_split_key_values_errors(text, message):
    with pytest.raises(errors.ParameterError, match=message):
        cli.split_key_values(text, "-B")


def test_parse_ident_key_values():
    assert cli.parse_ident_key_values("kvm:acpi=false,kernel_path=") == (
        "kvm", {"acpi": "false", "kernel_path": ""})
    assert cli.parse_ident_key_values("fake") == ("fake", {})
    assert cli.parse_ident_key_values("no_kvm") == ("kvm", False)
    assert cli.parse_ident_key_values("-kvm") == ("kvm", None)
    with pytest.raises(errors.ParameterError, match="Cannot pass parameters"):
        cli.parse_ident_key_values("no_kvm:acpi=1")
    with pytest.raises(errors.ParameterError, match="Missing identifier"):
        cli.parse_ident_key_values(":a=1")


def test_format_table_padded_and_separated():
    rows = [["node1", 2048, 3], ["node-two", 512, 10]]
    lines = cli.format_table(["Node", "MTotal", "Pinst"], rows, numeric=[2], unit_columns=[1])
    assert lines == [
        "Node     MTotal Pinst",
        "node1      2.0G     3",
        "node-two   512M    10",
    ]
    assert cli.format_table(None, rows, separator="|", unit_columns=[1]) == [
        "node1|2048|3", "node-two|512|10"]


def test_format_table_special_values():
    lines = cli.format_table(None, [["a", None, True, ["x", "y"]]], separator=" ")
    assert lines == ["a - Y x,y"]
    assert cli.format_table(["A"], [], separator=None) == ["A"]
    assert cli.format_table(None, []) == []
