"""gnt-instance list on a real 3-node local cluster: status values from config plus
live data, query-language filters, globs, names, fields; luxi Query answers."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from instance_cluster import Gnt, running_instance_cluster

from ganeti import constants, luxi

ADD = ("gnt-instance", "add", "--no-name-check", "--no-ip-check", "-t", "diskless", "-o",
       "v10")
#: name -> primary node index, and whether it starts.
INSTANCES = {
    "web1.example.com": (1, True),
    "web2.example.com": (2, True),
    "db1.example.com": (3, True),
    "spare.example.com": (2, False),
}


@pytest.fixture(scope="module")
def gnt() -> Iterator[Gnt]:
    with running_instance_cluster() as cluster:
        for name, (node, start) in INSTANCES.items():
            cluster(*ADD, "-n", cluster.node_name(node), *(() if start else ("--no-start",)),
                    "--tags", "role:%s" % name.split(".")[0].rstrip("0123456789"), name)
        yield cluster


def _status(gnt: Gnt) -> dict[str, str]:
    return {name: row["status"] for name, row in gnt.instances().items()}


def _state_file(gnt: Gnt, node: int, name: str) -> str:
    return os.path.join(gnt.fake_state_dir(node), name + ".running")


def test_default_listing(gnt: Gnt) -> None:
    out = gnt("gnt-instance", "list").stdout.splitlines()
    assert out[0].split() == ["Instance", "Hypervisor", "OS", "Primary_node", "Status",
                              "Memory"]
    rows = gnt.rows("gnt-instance", "list")
    assert [row[0] for row in rows] == sorted(INSTANCES)
    by_name = {row[0]: row for row in rows}
    assert by_name["web1.example.com"] == ["web1.example.com", "fake", "v10",
                                           gnt.node_name(1), "running", "128"]
    assert by_name["spare.example.com"][4:] == ["ADMIN_down", "-"]


def test_status_error_down_and_error_up(gnt: Gnt) -> None:
    state = _state_file(gnt, 2, "web2.example.com")
    saved = open(state, encoding="utf-8").read()
    os.unlink(state)  # the "VM" died behind the cluster's back
    try:
        assert _status(gnt)["web2.example.com"] == "ERROR_down"
        assert gnt.rows("gnt-instance", "list", "-o", "oper_state,oper_ram",
                        "web2.example.com") == [["N", "-"]]
    finally:
        with open(state, "w", encoding="utf-8") as handle:
            handle.write(saved)
    assert _status(gnt)["web2.example.com"] == "running"
    # Started without recording it: runs while it should be down.
    gnt("gnt-instance", "startup", "--no-remember", "spare.example.com")
    try:
        assert _status(gnt)["spare.example.com"] == "ERROR_up"
    finally:
        gnt("gnt-instance", "shutdown", "spare.example.com")
    assert _status(gnt)["spare.example.com"] == "ADMIN_down"


def test_status_wrong_node(gnt: Gnt) -> None:
    source = _state_file(gnt, 3, "db1.example.com")
    target = _state_file(gnt, 1, "db1.example.com")
    shutil.move(source, target)
    try:
        assert _status(gnt)["db1.example.com"] == "ERROR_wrongnode"
    finally:
        shutil.move(target, source)
    assert _status(gnt)["db1.example.com"] == "running"


def test_status_node_offline(gnt: Gnt) -> None:
    gnt("gnt-node", "modify", "--offline", "yes", gnt.node_name(3))
    try:
        assert _status(gnt)["db1.example.com"] == "ERROR_nodeoffline"
        assert gnt.rows("gnt-instance", "list", "-o", "oper_ram,oper_state,pnode",
                        "db1.example.com") == [["*", "*", gnt.node_name(3)]]
        answer = luxi.Client(gnt.paths(1).master_socket).query(
            constants.QR_INSTANCE, ["name", "oper_ram", "status"],
            ["==", "name", "db1.example.com"])
        assert answer["data"] == [[[constants.RS_NORMAL, "db1.example.com"],
                                   [constants.RS_OFFLINE, None],
                                   [constants.RS_NORMAL, constants.INSTST_NODEOFFLINE]]]
        # The others are unaffected.
        assert _status(gnt)["web1.example.com"] == "running"
    finally:
        gnt("gnt-node", "modify", "--offline", "no", gnt.node_name(3))
    assert _status(gnt)["db1.example.com"] == "running"


def test_status_node_down(gnt: Gnt) -> None:
    gnt.daemon_util(2, "stop", constants.NODED)
    try:
        statuses = _status(gnt)
        assert statuses["web2.example.com"] == "ERROR_nodedown"
        assert statuses["spare.example.com"] == "ERROR_nodedown"
        assert statuses["web1.example.com"] == "running"
        answer = luxi.Client(gnt.paths(1).master_socket).query(
            constants.QR_INSTANCE, ["oper_ram"], ["==", "name", "web2.example.com"])
        assert answer["data"] == [[[constants.RS_NODATA, None]]]
        # Fields needing no live data still answer.
        assert gnt.rows("gnt-instance", "list", "-o", "name,admin_state",
                        "web2.example.com") == [["web2.example.com", "up"]]
    finally:
        gnt.daemon_util(2, "start", constants.NODED)
    for _ in range(50):
        if _status(gnt)["web2.example.com"] == "running":
            break
    assert _status(gnt)["web2.example.com"] == "running"


@pytest.mark.parametrize(("args", "expected"), [
    (("-F", 'status == "running"'), ["db1", "web1", "web2"]),
    (("-F", 'status != "running"'), ["spare"]),
    (('status == "ADMIN_down"',), ["spare"]),  # one argument that is a filter
    (("-F", "name =~ /^WEB/i"), ["web1", "web2"]),
    (("-F", "name !~ m/web/"), ["db1", "spare"]),
    (("-F", 'name =* "web?.*"'), ["web1", "web2"]),
    (("-F", 'name !* "*web*"'), ["db1", "spare"]),
    (("-F", '"role:db" in tags'), ["db1"]),
    (("-F", '"role:web" not in tags and admin_up'), ["db1"]),
    (("-F", 'not admin_up or pnode == "%(node3)s"'), ["db1", "spare"]),
    (("-F", "(oper_ram > 100 and be/maxmem >= 128) or disk.count > 0"),
     ["db1", "web1", "web2"]),
    (("-F", '["==", "name", "db1.example.com"]'), ["db1"]),  # the list form
    (("web*",), ["web1", "web2"]),
    (("*1.example.com", "spare*"), ["db1", "spare", "web1"]),
    (("web1", "db1.example.com"), ["db1", "web1"]),  # short and full names
])
def test_filters_globs_and_names(gnt: Gnt, args: tuple[str, ...],
                                 expected: list[str]) -> None:
    args = tuple(arg % {"node3": gnt.node_name(3)} for arg in args)
    rows = gnt.rows("gnt-instance", "list", "-o", "name", *args)
    assert [row[0].split(".")[0] for row in rows] == expected


@pytest.mark.parametrize(("args", "message"), [
    (("-F", "status =="), "Invalid filter"),
    (("-F", "nosuchfield == 1"), "unknown field 'nosuchfield'"),
    (("-F", "name =~ /(/"), "bad regular expression"),
    (("-F", "a == 1", "b == 2"), "one argument"),
    (("nosuch",), "Instance 'nosuch' not known"),
    (("web1", "nosuch.example.com"), "Instance 'nosuch.example.com' not known"),
])
def test_bad_filters_and_unknown_names(gnt: Gnt, args: tuple[str, ...], message: str) -> None:
    assert message in gnt.fails("gnt-instance", "list", *args)


def test_fields_and_formats(gnt: Gnt) -> None:
    fields = gnt.rows("gnt-instance", "list-fields")
    names = {row[0] for row in fields}
    for name in ("name", "os", "pnode", "snodes", "status", "admin_state", "oper_state",
                 "oper_ram", "oper_vcpus", "be/maxmem", "hv/migration_mode", "disk.sizes",
                 "nic.macs", "nic.mac/0", "tags", "ctime", "uuid", "disk_template"):
        assert name in names, name
    kinds = {row[0]: row[1] for row in fields}
    assert (kinds["oper_ram"], kinds["admin_up"], kinds["tags"]) == ("unit", "bool", "other")
    out = gnt("gnt-instance", "list", "-o", "+admin_state,oper_vcpus,be/vcpus,nic.count",
              "web1.example.com").stdout.splitlines()
    assert out[0].split() == ["Instance", "Hypervisor", "OS", "Primary_node", "Status",
                              "Memory", "InstanceState", "VCPUs", "ConfigVCPUs", "NICs"]
    assert out[1].split()[-4:] == ["up", "1", "1", "1"]
    result = gnt("gnt-instance", "list", "-o", "name,nosuchfield", "web1", check=False)
    assert result.returncode == 14
    assert "Unknown output fields selected: nosuchfield" in result.stderr
    # Units: memory in GiB.
    assert gnt("gnt-instance", "list", "--units=g", "--no-headers", "-o", "oper_ram",
               "web1").stdout.split() == ["0.1"]
