"""Unit tests of the node/group pieces that need no daemon: candidate pool rules,
node and group query fields, tag checks and search, SSH host key checks, and
node_join's input checks."""

from __future__ import annotations

import os

import paramiko
import pytest
from master_testlib import NODE1, NODE2, config_dict

from ganeti import constants, errors, netutils, objects, pathutils, query, serializer
from ganeti.cmdlib import node as node_lu
from ganeti.cmdlib import tags
from ganeti.config import ConfigWriter
from ganeti.query_node import group_items, node_items, node_role
from ganeti.ssh import SshError, check_host_key, host_key_name
from ganeti.tools import node_join
from ganeti.utils import x509


@pytest.fixture
def cfg(tmp_path: object) -> ConfigWriter:
    path = os.path.join(str(tmp_path), "config.data")
    return ConfigWriter.create(path, objects.ConfigData.from_dict(config_dict()))


def _node(name: str, **flags: bool) -> objects.Node:
    values = {"master_candidate": False, "offline": False, "drained": False,
              "master_capable": True}
    values.update(flags)
    return objects.Node(uuid=name + "-uuid", name=name, **values)


# -- candidate pool -------------------------------------------------------------------------

def test_candidate_stats_count_only_eligible_nodes() -> None:
    nodes = [_node("a", master_candidate=True), _node("b"), _node("c", offline=True),
             _node("d", drained=True), _node("e", master_capable=False)]
    assert node_lu.candidate_stats(nodes, 10) == (1, 2)
    assert node_lu.candidate_stats(nodes, 1) == (1, 1)
    assert [n.name for n in node_lu.promotion_order(nodes)] == ["b"]
    assert node_lu.promotion_order(nodes, exclude=["b-uuid"]) == []


def test_set_candidate_keeps_candidate_certs() -> None:
    cluster = objects.Cluster(cluster_name="c")
    node = _node("a")
    node_lu.set_candidate(cluster, node, True, "AA:BB")
    assert node.master_candidate and cluster.candidate_certs == {"a-uuid": "AA:BB"}
    node_lu.set_candidate(cluster, node, False)
    assert not node.master_candidate and cluster.candidate_certs == {}


# -- query fields --------------------------------------------------------------------------

def test_node_fields_from_config(cfg: ConfigWriter) -> None:
    rows = node_items(cfg, None, constants.DEFAULT_NODED_PORT, ["name"])
    result = query.query(constants.QR_NODE, ["name", "role", "group", "pinst_cnt",
                                             "master", "mtotal", "nosuch"], rows)
    by_name = {row[0][1]: row for row in result["data"]}
    assert by_name[NODE1][1:5] == [[constants.RS_NORMAL, "M"],
                                  [constants.RS_NORMAL, "default"],
                                  [constants.RS_NORMAL, 0], [constants.RS_NORMAL, True]]
    # Live data not asked: no data for an online node, "offline" for an offline one.
    assert by_name[NODE1][5] == [constants.RS_NODATA, None]
    assert by_name[NODE2][5] == [constants.RS_OFFLINE, None]
    assert by_name[NODE1][6] == [constants.RS_UNKNOWN, None]
    assert result["fields"][5] == {"name": "mtotal", "title": "MTotal",
                                   "kind": constants.QFT_UNIT,
                                   "doc": "Total amount of memory of physical machine"}
    # Filters see the fields too.
    offline = query.query(constants.QR_NODE, ["name"], rows, ["?", "offline"])
    assert offline["data"] == [[[constants.RS_NORMAL, NODE2]]]


def test_node_role_letters() -> None:
    assert node_role(_node("a", master_candidate=True), "a-uuid") == constants.NR_MASTER
    assert node_role(_node("a", master_candidate=True), "x") == constants.NR_MCANDIDATE
    assert node_role(_node("a", drained=True), "x") == constants.NR_DRAINED
    assert node_role(_node("a", offline=True), "x") == constants.NR_OFFLINE
    assert node_role(_node("a"), "x") == constants.NR_REGULAR


def test_group_fields(cfg: ConfigWriter) -> None:
    result = query.query(constants.QR_GROUP, ["name", "node_cnt", "node_list",
                                              "alloc_policy"], group_items(cfg))
    assert result["data"] == [[[0, "default"], [0, 2], [0, sorted([NODE1, NODE2])],
                               [0, constants.ALLOC_POLICY_PREFERRED]]]


# -- tags ------------------------------------------------------------------------------------

@pytest.mark.parametrize("tag", ["", "a b", "x" * (constants.MAX_TAG_LEN + 1), "é;"])
def test_bad_tags_are_refused(tag: str) -> None:
    with pytest.raises(errors.OpPrereqError) as err:
        tags.validate_tag(tag)
    assert err.value.args[1] == errors.ECODE_INVAL


def test_search_tags(cfg: ConfigWriter) -> None:
    assert tags.search_tags(cfg, "^(alpha|n1)$") == [("/cluster", "alpha"),
                                                    ("/nodes/%s" % NODE1, "n1")]
    with pytest.raises(errors.OpPrereqError, match="Invalid search pattern"):
        tags.search_tags(cfg, "(")


# -- SSH host keys ---------------------------------------------------------------------------

def test_host_key_unknown_accepted_and_mismatch(tmp_path: object) -> None:
    known = os.path.join(str(tmp_path), "data", "known_hosts")
    first = paramiko.RSAKey.generate(1024)
    other = paramiko.RSAKey.generate(1024)
    with pytest.raises(SshError) as err:
        check_host_key(known, ["node9"], 2222, first, accept_new=False)
    assert err.value.reason == "host-key-unknown" and "--accept-new-host-key" in str(err.value)
    assert not os.path.exists(known)
    assert check_host_key(known, ["node9", "127.0.1.9"], 2222, first, accept_new=True)
    with open(known, encoding="ascii") as handle:
        assert handle.read().startswith(host_key_name("node9", 2222) + " ssh-rsa ")
    assert not check_host_key(known, ["node9"], 2222, first, accept_new=False)
    with pytest.raises(SshError) as err:
        check_host_key(known, ["node9"], 2222, other, accept_new=True)
    assert err.value.reason == "host-key-mismatch" and "node9" in str(err.value)


# -- node_join input -------------------------------------------------------------------------

_CERTS: dict[int, tuple[bytes, bytes]] = {}


def _certs(which: int) -> tuple[bytes, bytes]:
    """(cluster PEM, node9's client PEM) of test cluster ``which``, made once."""
    if which not in _CERTS:
        cluster_pem = x509.generate_cluster_cert()
        _CERTS[which] = cluster_pem, x509.generate_client_cert(cluster_pem, "node9.example.com")
    return _CERTS[which]


def _join_doc(name: str = "node9.example.com", which: int = 1) -> dict[str, object]:
    cluster_pem, client_pem = _certs(which)
    return {"cluster_name": "cluster.example.com", "node_name": name,
            "server_pem": cluster_pem.decode(),
            "client_pem": client_pem.decode(),
            "confd_hmac_key": "ab" * 32 + "\n", "ssconf": {"cluster_name": "c.example.com"},
            "noded_bind": "127.0.1.9", "noded_port": 1811, "readd": False}


def test_node_join_input_checks() -> None:
    with pytest.raises(node_join.JoinError, match="not JSON"):
        node_join.parse_input(b"{")
    doc = _join_doc()
    doc["noded_port"] = 0
    with pytest.raises(node_join.JoinError, match="noded_port"):
        node_join.parse_input(serializer.dump(doc).encode())
    doc = _join_doc()
    del doc["server_pem"]
    with pytest.raises(node_join.JoinError, match="server_pem"):
        node_join.parse_input(serializer.dump(doc).encode())
    doc = _join_doc()
    doc["client_pem"] = _join_doc(which=2)["client_pem"]  # signed by another cluster
    with pytest.raises(node_join.JoinError, match="not signed"):
        node_join.parse_input(serializer.dump(doc).encode())
    assert node_join.parse_input(serializer.dump(_join_doc()).encode())["noded_port"] == 1811


def test_node_join_refuses_other_names_and_clusters(tmp_path: object,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    paths = pathutils.for_root(str(tmp_path))
    monkeypatch.setenv(netutils.HOSTNAME_ENV, "node8.example.com")
    with pytest.raises(node_join.JoinError, match="not node9"):
        node_join.check_node(_join_doc(), paths)
    monkeypatch.setenv(netutils.HOSTNAME_ENV, "node9")
    os.makedirs(paths.data_dir)
    with open(paths.ssconf_file("cluster_name"), "w") as handle:
        handle.write("other.example.com\n")
    with pytest.raises(node_join.JoinError, match=r"belongs to cluster other\.example\.com"):
        node_join.check_node(_join_doc(), paths)


# -- OpQuery ---------------------------------------------------------------------------------

def test_op_query_serves_nodes_and_groups(tmp_path: object) -> None:
    from master_testlib import make_context

    from ganeti.cmdlib.query import run_query

    context = make_context(str(tmp_path))
    try:
        result = run_query(context, constants.QR_NODE, ["name", "role"],
                           ["==", "role", constants.NR_MASTER])
        assert result["data"] == [[[0, NODE1], [0, constants.NR_MASTER]]]
        groups = run_query(context, constants.QR_GROUP, ["name"], None)
        assert groups["data"] == [[[0, "default"]]]
        with pytest.raises(errors.OpPrereqError, match="extstorage"):
            run_query(context, constants.QR_EXTSTORAGE, ["name"], None)
        with pytest.raises(errors.QueryFilterParseError):
            run_query(context, constants.QR_NODE, ["name"], ["==", "nosuchfield", 1])
    finally:
        context.rpc.close()
