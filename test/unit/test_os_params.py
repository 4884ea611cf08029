"""Master-side OS parameter checks and gnt-os modify's cluster changes."""

from __future__ import annotations

from typing import Any

import pytest

from ganeti import constants, errors, objects
from ganeti.cmdlib import os_params


def test_normal_values_pass_as_strings() -> None:
    assert os_params.check_param_syntax({"color": "blue", "size": 10,
                                         "url": "http://mirror:80/debian a=b,c+d@e%f"}) == \
        {"color": "blue", "size": "10", "url": "http://mirror:80/debian a=b,c+d@e%f"}


@pytest.mark.parametrize("value,shown", [
    ("a;reboot", "';'"), ("$(id)", "'$'"), ("`id`", "'`'"), ("a|b", "'|'"), ("a&b", "'&'"),
    ("a>b", "'>'"), ("x\ny", "'\\n'"), ("tab\there", "'\\t'"), ("bell\x07", "'\\x07'"),
    ("trailing newline\n", "'\\n'"), ("quote'", "\"'\""), ("star*", "'*'"),
    ("back\\slash", "'\\\\'"),
])
def test_shell_metacharacters_and_control_characters_refused(value: str, shown: str) -> None:
    with pytest.raises(errors.OpPrereqError) as info:
        os_params.check_param_syntax({"color": value})
    message = info.value.args[0]
    assert "OS parameter 'color'" in message and shown in message
    assert info.value.args[1] == errors.ECODE_INVAL


def test_private_values_stay_out_of_messages() -> None:
    with pytest.raises(errors.OpPrereqError) as info:
        os_params.check_param_syntax({"password": "s3cr;t"}, "private OS parameter", False)
    assert "Private OS parameter 'password'" in info.value.args[0]
    assert "s3cr" not in info.value.args[0]


@pytest.mark.parametrize("params,message", [
    ({"": "x"}, "Invalid OS parameter name"), ({"a b": "x"}, "Invalid OS parameter name"),
    ({"name\n": "x"}, "Invalid OS parameter name"), ({"flag": True}, "must be a string"),
    ({"list": ["a"]}, "must be a string"),
])
def test_bad_names_and_types(params: dict[str, Any], message: str) -> None:
    with pytest.raises(errors.OpPrereqError, match=message):
        os_params.check_param_syntax(params)


class _Op:
    def __init__(self, **values: Any) -> None:
        self.values = values

    def get(self, name: str) -> Any:
        return self.values.get(name)


def test_cluster_os_changes() -> None:
    cluster = objects.Cluster(osparams={"debian": {"mirror": "m1", "arch": "amd64"}},
                              hidden_os=["old"])
    os_params.apply_cluster_os_changes(cluster, _Op(
        osparams={"debian": {"arch": constants.VALUE_DEFAULT, "suite": "bookworm"},
                  "noop": {"x": "1"}},
        osparams_private_cluster={"debian": {"password": "pw"}},
        hidden_os=[["add", "noop"], ["remove", "old"]],
        blacklisted_os=[["add", "bad"]],
        os_hvp={"debian": {constants.HT_FAKE: {"migration_mode": "non-live"}}}))
    assert cluster.osparams == {"debian": {"mirror": "m1", "suite": "bookworm"},
                                "noop": {"x": "1"}}
    assert cluster.osparams_private_cluster == {"debian": {"password": "pw"}}
    assert cluster.hidden_os == ["noop"] and cluster.blacklisted_os == ["bad"]
    assert cluster.os_hvp == {"debian": {constants.HT_FAKE: {"migration_mode": "non-live"}}}
    assert os_params.cluster_os_params(cluster, "debian+bookworm") == \
        ({"mirror": "m1", "suite": "bookworm"}, {"password": "pw"})
    with pytest.raises(errors.OpPrereqError, match="not in hidden_os"):
        os_params.apply_cluster_os_changes(cluster, _Op(hidden_os=[["remove", "nothere"]]))
    with pytest.raises(errors.OpPrereqError, match="OS parameter 'mirror'"):
        os_params.apply_cluster_os_changes(cluster, _Op(osparams={"debian": {"mirror": "a;b"}}))
    with pytest.raises(errors.OpPrereqError, match="os_hvp"):
        os_params.apply_cluster_os_changes(cluster, _Op(
            os_hvp={"debian": {constants.HT_FAKE: {"no_such_param": "1"}}}))
    with pytest.raises(errors.OpPrereqError, match="blacklisted"):
        os_params.check_os_allowed(cluster, "bad+variant")
    os_params.check_os_allowed(cluster, "debian")


def test_os_rows_agree_across_nodes() -> None:
    from ganeti.cmdlib.os import OsRow

    row = OsRow("debian", nodes_asked=2, node_status={
        "n1": [["/srv/ganeti/os/debian", True, "", ["a", "b"], [["p", "doc"]], [20, 15]]],
        "n2": [["/srv/ganeti/os/debian", True, "", ["b", "c"], [["p", "doc"]], [20]],
               ["/usr/share/ganeti/os/debian", False, "shadowed", [], [], []]]})
    assert row.valid and row.variants == ["b"] and row.api_versions == [20]
    assert row.parameters == [["p", "doc"]]
    row.node_status["n2"][0][1] = False
    assert not row.valid and row.variants == [] and row.parameters == []
    missing = OsRow("debian", nodes_asked=2, node_status={"n1": row.node_status["n1"]})
    assert not missing.valid  # absent on one node
