"""Tests for ganeti.ht: checks, their descriptions, schemas and failure locations."""

from __future__ import annotations

from typing import Any

import pytest

from ganeti import ht


@pytest.mark.parametrize("check, good, bad", [
    (ht.TBool, [True, False], [0, 1, "true", None]),
    (ht.TInt, [0, -5, 10**20], [True, 1.0, "1", None]),
    (ht.TFloat, [1.5, 0.0], [1, "1.5"]),
    (ht.TNumber, [1, 1.5, -2], [True, "1"]),
    (ht.TString, ["", "x"], [b"x", 1, None]),
    (ht.TNonEmptyString, ["x"], ["", None, 1]),
    (ht.TPositiveInt, [1, 99], [0, -1, True, 1.0]),
    (ht.TNonNegativeInt, [0, 1], [-1, False, 0.5]),
    (ht.TNonNegativeNumber, [0, 0.5], [-0.1, True]),
    (ht.TPositiveNumber, [0.1, 3], [0, -1]),
    (ht.TList, [[], [1]], [(), {}, "x"]),
    (ht.TDict, [{}, {"a": 1}], [[], None]),
    (ht.TNone, [None], [0, ""]),
    (ht.TAny, [None, 1, object()], []),
    (ht.TOpPriority, [-20, 0, 19], [-21, 20, True]),
    (ht.TMacAddress, ["aa:00:00:11:22:33"], ["aa:00:00:11:22", "zz:00:00:11:22:33"]),
    (ht.TMacPrefix, ["aa:00:00"], ["aa:00", "aa:00:00:00"]),
    (ht.TIPv4Address, ["192.0.2.1", "0.0.0.0"], ["256.0.0.1", "1.2.3", "::1"]),
    (ht.TIPv4Network, ["192.0.2.0/24", "10.0.0.1/8"], ["192.0.2.0/33", "x", "2001:db8::/32", 5]),
    (ht.TIPv6Address, ["::1", "2001:db8::1"], ["192.0.2.1", "2001:db8::/64", None]),
    (ht.TIPv6Network, ["2001:db8::/64"], ["2001:db8::/129", "10.0.0.0/8"]),
    (ht.TUuid, ["0b7d2b1c-8a47-4a55-9ac5-0a0d1e3c0f11"], ["0b7d2b1c", ""]),
    (ht.THostname, ["node1", "node1.example.com", "a-b.c."], ["-x", "a..b", ""]),
    (ht.TJobId, [0, 17, "17"], [-1, "x", True]),
    (ht.TAbsolutePath, ["/srv"], ["srv", ""]),
])
def test_basic_checks(check: ht.Check, good: list[Any], bad: list[Any]) -> None:
    for value in good:
        assert check(value), "%s should accept %r" % (check.desc, value)
    for value in bad:
        assert not check(value), "%s should reject %r" % (check.desc, value)


def test_check_turns_type_errors_into_false() -> None:
    check = ht.Check(lambda v: v > 3, "greater than 3")
    assert check(4)
    assert not check("x")  # str > int raises TypeError
    assert not check(None)


def test_descriptions_read_as_sentences() -> None:
    assert ht.TPositiveInt.desc == "a positive integer"
    assert ht.TListOf(ht.TPositiveInt).desc == "a list of positive integers"
    assert ht.TListOf(ht.TDict).desc == "a list of dictionaries"
    assert ht.TListOf(ht.TMacAddress).desc == "a list of MAC addresses (xx:xx:xx:xx:xx:xx)"
    assert ht.TListOf(ht.TListOf(ht.TBool)).desc == "a list of lists of booleans"
    assert ht.TMaybe(ht.TString).desc == "None or a string"
    assert ht.TElemOf(["b", "a"]).desc == "one of 'a', 'b'"
    assert ht.TIntRange(1, 5).desc == "an integer from 1 to 5"
    assert ht.TDictOf(ht.TString, ht.TInt).desc == "a dictionary of strings to integers"
    assert ht.TOr(ht.TInt, ht.TString).desc == "an integer or a string"
    assert str(ht.TBool) == "a boolean"
    assert ht.WithDesc(ht.TDict, "a disk").desc == "a disk"


def test_schemas() -> None:
    assert ht.TPositiveInt.schema == {"type": "integer", "minimum": 1}
    assert ht.TListOf(ht.TString).schema == {"type": "array", "items": {"type": "string"}}
    assert ht.TMaybe(ht.TBool).schema == {"anyOf": [{"type": "null"}, {"type": "boolean"}]}
    assert ht.TElemOf(["x", "y"]).schema == {"enum": ["x", "y"]}
    strict = ht.TStrictDict(True, {"a": ht.TInt})
    assert strict.schema == {"type": "object", "properties": {"a": {"type": "integer"}},
                             "additionalProperties": False, "required": ["a"]}
    loose = ht.TDictWith({"size": ht.TInt}, ht.TString)
    assert loose.schema["additionalProperties"] == {"type": "string"}
    assert ht.WithDesc(ht.TInt, "a count").schema == {"type": "integer",
                                                       "description": "a count"}


def test_combinators() -> None:
    pair = ht.TTupleOf(ht.TNonEmptyString, ht.TInt)
    assert pair(["a", 1]) and pair(("a", 1))
    assert not pair(["a"]) and not pair(["a", 1, 2]) and not pair(["", 1])
    assert ht.TAnd(ht.TInt, ht.Check(lambda v: v % 2 == 0, "even"))(4)
    assert not ht.TAnd(ht.TInt, ht.Check(lambda v: v % 2 == 0, "even"))(3)
    assert ht.TDictOf(ht.TNonEmptyString, ht.TInt)({"a": 1})
    assert not ht.TDictOf(ht.TNonEmptyString, ht.TInt)({"": 1})
    assert not ht.TDictOf(ht.TNonEmptyString, ht.TInt)({"a": "1"})
    strict = ht.TStrictDict(False, {"a": ht.TInt, "b": ht.TString})
    assert strict({}) and strict({"a": 1})
    assert not strict({"c": 1}) and not strict({"a": "x"})
    assert not ht.TStrictDict(True, {"a": ht.TInt, "b": ht.TString})({"a": 1})
    loose = ht.TDictWith({"size": ht.TInt}, ht.TString)
    assert loose({"size": 1, "other": "x"})
    assert not loose({"size": "1"}) and not loose({"other": 1}) and not loose({1: "x"})


def test_explain_failure_points_inside_values() -> None:
    disks = ht.TListOf(ht.TDictWith({"size": ht.TPositiveInt}, ht.TAny))
    assert ht.explain_failure(disks, [{"size": 1}, {"size": "big"}]) == (
        "[1]['size']", "must be a positive integer, got 'big'")
    assert ht.explain_failure(disks, [{"size": 1}]) is None
    # No inner location for a value of the wrong type altogether.
    assert ht.explain_failure(disks, "x") is None

    strict = ht.TStrictDict(True, {"a": ht.TInt, "b": ht.TInt})
    assert ht.explain_failure(strict, {"a": 1, "c": 2}) == (
        "", "has unknown key 'c' (allowed: a, b)")
    assert ht.explain_failure(strict, {"a": 1}) == ("", "lacks key(s) 'b'")

    pairs = ht.TListOf(ht.TTupleOf(ht.TString, ht.TInt))
    assert ht.explain_failure(pairs, [["a", 1], ["b"]]) == ("[1]", "has 1 items instead of 2")
    assert ht.explain_failure(pairs, [["a", "x"]]) == ("[0][1]",
                                                      "must be an integer, got 'x'")

    by_name = ht.TDictOf(ht.TNonEmptyString, ht.TListOf(ht.TBool))
    assert ht.explain_failure(by_name, {"a": [True, 0]}) == (
        "['a'][1]", "must be a boolean, got 0")
    assert ht.explain_failure(by_name, {"": []}) == (
        "", "has key '', which is not a non-empty string")

    maybe = ht.TMaybe(ht.TListOf(ht.TInt))
    assert ht.explain_failure(maybe, None) is None
    assert ht.explain_failure(maybe, [1, "2"]) == ("[1]", "must be an integer, got '2'")
    described = ht.WithDesc(ht.TListOf(ht.TInt), "a list of counts")
    assert ht.explain_failure(described, ["x"]) == ("[0]", "must be an integer, got 'x'")
    both = ht.TAnd(ht.TList, ht.TListOf(ht.TInt))
    assert ht.explain_failure(both, [1, None]) == ("[1]", "must be an integer, got None")


def test_explain_failure_in_alternatives_picks_the_closest_match() -> None:
    old_style = ht.TListOf(ht.TTupleOf(ht.TElemOf(["add", "remove"]),
                                       ht.TStrictDict(False, {"mac": ht.TString})))
    new_style = ht.TListOf(ht.TTupleOf(ht.TElemOf(["add", "modify"]), ht.TInt,
                                       ht.TStrictDict(False, {"mac": ht.TString})))
    either = ht.TOr(old_style, new_style)
    assert either([["add", {"mac": "x"}]]) and either([["modify", 0, {}]])
    assert ht.explain_failure(either, [["modify", 0, {"mac": 1}]]) == (
        "[0][2]['mac']", "must be a string, got 1")
    assert ht.explain_failure(either, [["add", {"ip": "x"}]]) == (
        "[0][1]", "has unknown key 'ip' (allowed: mac)")


def test_describe_value_is_short() -> None:
    assert ht.describe_value("abc") == "'abc'"
    assert ht.describe_value(None) == "None"
    long_text = ht.describe_value(list(range(100)))
    assert len(long_text) == 80 and long_text.endswith("...")
    assert ht.describe_value("x" * 10, limit=8) == "'xxxx..."
