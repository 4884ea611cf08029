"""The query filter language (ganeti.qlang) and instance status values (query_instance)."""

from __future__ import annotations

import re

import pytest

from ganeti import constants, errors, objects, qlang, query
from ganeti.query_instance import InstanceRow, instance_status


@pytest.mark.parametrize(("text", "expected"), [
    ('status == "running"', ["==", "status", "running"]),
    ("oper_ram >= 512", [">=", "oper_ram", 512]),
    ("be/maxmem < 1.5", ["<", "be/maxmem", 1.5]),
    ("name != 'a b'", ["!=", "name", "a b"]),
    ("name =~ /^web/i", ["=~", "name", "(?i)^web"]),
    ("name !~ m/x\\/y/", ["!", ["=~", "name", "x\\/y"]]),
    ('name =* "web?.*"', ["=~", "name", r"^web.\..*$"]),
    ('name !* "*x"', ["!", ["=~", "name", "^.*x$"]]),
    ('"prod" in tags', ["=[]", "tags", "prod"]),
    ('"prod" not in tags', ["!", ["=[]", "tags", "prod"]]),
    ("admin_up", ["?", "admin_up"]),
    ("not admin_up", ["!", ["?", "admin_up"]]),
    ("a == 1 and b == 2 or c", ["|", ["&", ["==", "a", 1], ["==", "b", 2]], ["?", "c"]]),
    ("a == 1 and (b == 2 or c)", ["&", ["==", "a", 1], ["|", ["==", "b", 2], ["?", "c"]]]),
    ("disk.size/0 > 10 and offline == false",
     ["&", [">", "disk.size/0", 10], ["==", "offline", False]]),
])
def test_parse(text: str, expected: list[object]) -> None:
    assert qlang.parse(text) == expected


@pytest.mark.parametrize("text", ["", "status ==", "== 1", "(a == 1", "a == 1)", "a =~ 'x'",
                                  "a = = 1", "1 in", "name =~ /(/", "a == 1 b == 2", "a ; b"])
def test_parse_errors_name_the_filter(text: str) -> None:
    with pytest.raises(errors.QueryFilterParseError, match="Invalid filter"):
        qlang.parse(text)


def test_globs_match_like_shell_globs() -> None:
    regex = re.compile(qlang.glob_to_regex("web?.ex*"))
    assert regex.search("web1.example.com")
    assert not regex.search("web12.example.com")
    assert not regex.search("xweb1.example.com")


def test_make_filter_rules() -> None:
    assert qlang.make_filter([], False) is None
    assert qlang.make_filter(["a", "b"], False) == ["|", ["==", "name", "a"],
                                                     ["==", "name", "b"]]
    assert qlang.make_filter(["web*"], False) == ["=~", "name", "^web.*$"]
    assert qlang.make_filter(["admin_up"], True) == ["?", "admin_up"]
    assert qlang.make_filter(['status == "x"'], False) == ["==", "status", "x"]
    assert qlang.make_filter(['["?", "admin_up"]'], True) == ["?", "admin_up"]
    with pytest.raises(errors.OpPrereqError, match="one argument"):
        qlang.make_filter(["a", "b"], True)


def test_parsed_filters_run_in_the_query_engine() -> None:
    predicate = query.compile_filter(constants.QR_JOB,
                                     qlang.parse('status == "error" or id > 5'))
    assert predicate({"status": "error", "id": 1})
    assert predicate({"status": "success", "id": 6})
    assert not predicate({"status": "success", "id": 2})


def _row(admin_state: str, pnode_offline: bool = False, answered: bool = True,
         live_node: str | None = None, source: str = constants.ADMIN_SOURCE,
         user_shutdown: bool = False) -> InstanceRow:
    cluster = objects.Cluster(enabled_user_shutdown=user_shutdown)
    node = objects.Node(uuid="n1", name="node1", offline=pnode_offline)
    inst = objects.Instance(name="i", primary_node="n1", admin_state=admin_state,
                            admin_state_source=source)
    row = InstanceRow(inst, cluster, [], node, pnode_answered=answered)
    if live_node is not None:
        row.live, row.live_node = {"memory": 128}, live_node
    return row


@pytest.mark.parametrize(("row", "status"), [
    (_row(constants.ADMINST_UP, live_node="node1"), constants.INSTST_RUNNING),
    (_row(constants.ADMINST_UP), constants.INSTST_ERRORDOWN),
    (_row(constants.ADMINST_DOWN, live_node="node1"), constants.INSTST_ERRORUP),
    (_row(constants.ADMINST_UP, live_node="node2"), constants.INSTST_WRONGNODE),
    (_row(constants.ADMINST_DOWN), constants.INSTST_ADMINDOWN),
    (_row(constants.ADMINST_DOWN, source=constants.USER_SOURCE, user_shutdown=True),
     constants.INSTST_USERDOWN),
    (_row(constants.ADMINST_OFFLINE), constants.INSTST_ADMINOFFLINE),
    (_row(constants.ADMINST_UP, answered=False), constants.INSTST_NODEDOWN),
    (_row(constants.ADMINST_UP, pnode_offline=True, answered=False),
     constants.INSTST_NODEOFFLINE),
])
def test_instance_status(row: InstanceRow, status: str) -> None:
    assert instance_status(row) == status


def test_live_fields_report_offline_and_nodata() -> None:
    fields = query.resource_fields(constants.QR_INSTANCE)
    offline = _row(constants.ADMINST_UP, pnode_offline=True, answered=False)
    nodata = _row(constants.ADMINST_UP, answered=False)
    stopped = _row(constants.ADMINST_DOWN)
    result = query.query(constants.QR_INSTANCE, ["oper_ram", "oper_state", "name"],
                         [offline, nodata, stopped])
    assert result["data"] == [
        [[constants.RS_OFFLINE, None], [constants.RS_OFFLINE, None], [constants.RS_NORMAL, "i"]],
        [[constants.RS_NODATA, None], [constants.RS_NODATA, None], [constants.RS_NORMAL, "i"]],
        [[constants.RS_UNAVAIL, None], [constants.RS_NORMAL, False], [constants.RS_NORMAL, "i"]],
    ]
    assert fields["status"].kind == constants.QFT_TEXT
