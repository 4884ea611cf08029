"""Tests for ganeti.opcodes: declarations, validation, JSON form and schema dump."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from typing import Any

import pytest

from ganeti import constants, errors, ht, opcodes, serializer
from ganeti.opcodes import OpCode, Param

#: Every opcode Ganeti 3.0 declares that this project implements, plus ours.
EXPECTED_OPCODES = """
OpClusterPostInit OpClusterDestroy OpClusterQuery OpClusterVerify OpClusterVerifyConfig
OpClusterVerifyGroup OpClusterVerifyDisks OpClusterRepairDiskSizes OpClusterConfigQuery
OpClusterRename OpClusterSetParams OpClusterRedistConf OpClusterActivateMasterIp
OpClusterDeactivateMasterIp OpClusterRenewCrypto OpClusterMasterFailover
OpQuery OpQueryFields
OpNodeAdd OpNodeRemove OpNodeSetParams OpNodeQueryvols OpNodeQueryStorage
OpNodeModifyStorage OpRepairNodeStorage OpNodePowercycle OpNodeMigrate OpNodeEvacuate
OpOobCommand OpRestrictedCommand
OpGroupAdd OpGroupAssignNodes OpGroupSetParams OpGroupRemove OpGroupRename OpGroupEvacuate
OpGroupVerifyDisks
OpInstanceCreate OpInstanceMultiAlloc OpInstanceReinstall OpInstanceRemove OpInstanceRename
OpInstanceStartup OpInstanceShutdown OpInstanceReboot OpInstanceReplaceDisks
OpInstanceFailover OpInstanceMigrate OpInstanceMove OpInstanceConsole
OpInstanceActivateDisks OpInstanceDeactivateDisks OpInstanceRecreateDisks
OpInstanceQueryData OpInstanceSetParams OpInstanceGrowDisk OpInstanceChangeGroup
OpOsDiagnose OpExtStorageDiagnose OpBackupPrepare OpBackupExport OpBackupRemove
OpTagsGet OpTagsSearch OpTagsSet OpTagsDel OpTestDelay OpTestAllocator OpTestJqueue
OpTestDummy OpTestOsParams
OpNetworkAdd OpNetworkRemove OpNetworkRename OpNetworkSetParams OpNetworkConnect
OpNetworkDisconnect
""".split()

_CREATE = {"instance_name": "inst1.example.com", "mode": "create",
           "disks": [{"size": 1024}], "nics": [{}]}

#: The required parameters of every opcode that has any, with valid values.
MINIMAL: dict[str, dict[str, Any]] = {
    "OpBackupExport": {"instance_name": "inst1", "target_node": "node2"},
    "OpBackupPrepare": {"instance_name": "inst1", "mode": "remote"},
    "OpBackupRemove": {"instance_name": "inst1"},
    "OpClusterConfigQuery": {"output_fields": ["cluster_name"]},
    "OpClusterRename": {"name": "cluster2.example.com"},
    "OpClusterVerifyGroup": {"group_name": "default"},
    "OpExtStorageDiagnose": {"output_fields": ["name"]},
    "OpGroupAdd": {"group_name": "rack2"},
    "OpGroupAssignNodes": {"group_name": "rack2", "nodes": ["node3"]},
    "OpGroupEvacuate": {"group_name": "rack2"},
    "OpGroupRemove": {"group_name": "rack2"},
    "OpGroupRename": {"group_name": "rack2", "new_name": "rack3"},
    "OpGroupSetParams": {"group_name": "rack2"},
    "OpGroupVerifyDisks": {"group_name": "rack2"},
    "OpInstanceActivateDisks": {"instance_name": "inst1"},
    "OpInstanceChangeGroup": {"instance_name": "inst1"},
    "OpInstanceConsole": {"instance_name": "inst1"},
    "OpInstanceCreate": _CREATE,
    "OpInstanceDeactivateDisks": {"instance_name": "inst1"},
    "OpInstanceFailover": {"instance_name": "inst1"},
    "OpInstanceGrowDisk": {"instance_name": "inst1", "disk": 0, "amount": 1024},
    "OpInstanceMigrate": {"instance_name": "inst1"},
    "OpInstanceMove": {"instance_name": "inst1", "target_node": "node2"},
    "OpInstanceReboot": {"instance_name": "inst1", "reboot_type": "hard"},
    "OpInstanceRecreateDisks": {"instance_name": "inst1"},
    "OpInstanceReinstall": {"instance_name": "inst1"},
    "OpInstanceRemove": {"instance_name": "inst1"},
    "OpInstanceRename": {"instance_name": "inst1", "new_name": "inst2"},
    "OpInstanceReplaceDisks": {"instance_name": "inst1", "mode": "replace_auto"},
    "OpInstanceSetParams": {"instance_name": "inst1"},
    "OpInstanceShutdown": {"instance_name": "inst1"},
    "OpInstanceStartup": {"instance_name": "inst1"},
    "OpNetworkAdd": {"network_name": "net1", "network": "192.0.2.0/24"},
    "OpNetworkConnect": {"group_name": "default", "network_name": "net1",
                         "network_mode": "bridged", "network_link": "br0"},
    "OpNetworkDisconnect": {"group_name": "default", "network_name": "net1"},
    "OpNetworkRemove": {"network_name": "net1"},
    "OpNetworkRename": {"network_name": "net1", "new_name": "net2"},
    "OpNetworkSetParams": {"network_name": "net1"},
    "OpNodeAdd": {"node_name": "node3"},
    "OpNodeEvacuate": {"node_name": "node1", "mode": "all"},
    "OpNodeMigrate": {"node_name": "node1"},
    "OpNodeModifyStorage": {"node_name": "node1", "storage_type": "lvm-pv",
                            "changes": {"allocatable": False}},
    "OpNodePowercycle": {"node_name": "node1"},
    "OpNodeQueryvols": {"output_fields": ["node", "name"]},
    "OpNodeQueryStorage": {"output_fields": ["name"]},
    "OpNodeRemove": {"node_name": "node3"},
    "OpNodeSetParams": {"node_name": "node1"},
    "OpOobCommand": {"command": "power-status"},
    "OpOsDiagnose": {"output_fields": ["name", "valid"]},
    "OpQuery": {"what": "instance", "fields": ["name"]},
    "OpQueryFields": {"what": "node"},
    "OpRepairNodeStorage": {"node_name": "node1", "storage_type": "lvm-vg"},
    "OpRestrictedCommand": {"nodes": ["node1"], "command": "reboot-helper"},
    "OpTagsDel": {"kind": "cluster", "tags": ["a"]},
    "OpTagsGet": {"kind": "instance"},
    "OpTagsSearch": {"pattern": "^web"},
    "OpTagsSet": {"kind": "cluster", "tags": ["rack:1"]},
    "OpTestAllocator": {"direction": "in", "mode": "allocate", "name": "inst9"},
    "OpTestDelay": {"duration": 0.5},
    "OpTestDummy": {"result": 1, "messages": [], "fail": False, "submit_jobs": None},
}


def _build(cls: type[OpCode], **extra: Any) -> OpCode:
    params = dict(MINIMAL.get(cls.__name__, {}))
    params.update(extra)
    return cls(**params)


def _error_text(excinfo: pytest.ExceptionInfo[errors.OpPrereqError]) -> str:
    err = excinfo.value
    assert err.args[1] == errors.ECODE_INVAL
    return str(err.args[0])


# -- declarations ------------------------------------------------------------------


def test_every_expected_opcode_is_registered() -> None:
    registered = {cls.__name__ for cls in opcodes.OP_REGISTRY.values()}
    assert registered == set(EXPECTED_OPCODES)
    for name in EXPECTED_OPCODES:
        assert getattr(opcodes, name) is opcodes.OP_REGISTRY[getattr(opcodes, name).OP_ID]


@pytest.mark.parametrize("name, op_id", [
    ("OpInstanceCreate", "OP_INSTANCE_CREATE"),
    ("OpNodeQueryvols", "OP_NODE_QUERYVOLS"),
    ("OpTestJqueue", "OP_TEST_JQUEUE"),
    ("OpOobCommand", "OP_OOB_COMMAND"),
    ("OpClusterVerifyDisks", "OP_CLUSTER_VERIFY_DISKS"),
    ("OpClusterDeactivateMasterIp", "OP_CLUSTER_DEACTIVATE_MASTER_IP"),
    ("OpRepairNodeStorage", "OP_REPAIR_NODE_STORAGE"),
])
def test_op_id_follows_ganeti_naming(name: str, op_id: str) -> None:
    assert getattr(opcodes, name).OP_ID == op_id
    assert opcodes.op_id_from_class_name(name) == op_id


def test_op_ids_derive_from_class_names() -> None:
    for op_id, cls in opcodes.OP_REGISTRY.items():
        assert op_id == opcodes.op_id_from_class_name(cls.__name__)
    with pytest.raises(errors.ProgrammerError):
        opcodes.op_id_from_class_name("InstanceCreate")


def test_minimal_table_matches_the_declarations() -> None:
    for cls in opcodes.all_opcodes():
        required = {p.name for p in cls.ALL_PARAMS if p.required}
        assert set(MINIMAL.get(cls.__name__, {})) == required, cls.__name__


def test_every_opcode_and_parameter_is_documented() -> None:
    for cls in opcodes.all_opcodes():
        assert cls.__doc__ and cls.__doc__.strip(), cls.__name__
        names = [p.name for p in cls.ALL_PARAMS]
        assert len(names) == len(set(names)), cls.__name__
        for param in cls.ALL_PARAMS:
            assert param.doc, "%s.%s has no doc" % (cls.__name__, param.name)
            assert param.check.desc
            if not param.required:
                assert param.accepts(param.default), "%s.%s" % (cls.__name__, param.name)


def test_common_parameters_on_every_opcode() -> None:
    common = ["dry_run", "debug_level", "priority", "depends", "comment", "reason"]
    for cls in opcodes.all_opcodes():
        assert [p.name for p in cls.ALL_PARAMS[:len(common)]] == common


def test_ganeti_defaults() -> None:
    create = opcodes.OpInstanceCreate(**_CREATE)
    assert create.priority == constants.OP_PRIO_NORMAL == 0
    assert create.reason == [] and create.depends is None and create.dry_run is None
    assert create.name_check is True and create.ip_check is True  # Ganeti 3.0
    assert create.start is True and create.wait_for_sync is True
    assert create.beparams == {} and create.tags == [] and create.compress == "none"
    assert create.source_shutdown_timeout == constants.DEFAULT_SHUTDOWN_TIMEOUT
    assert create.pnode is None and create.osparams_secret is None
    assert opcodes.OpInstanceActivateDisks(instance_name="i").wait_for_sync is False
    assert opcodes.OpInstanceShutdown(instance_name="i").timeout == 120
    assert opcodes.OpInstanceStartup(instance_name="i").shutdown_timeout == 120
    oob = opcodes.OpOobCommand(command="health")
    assert oob.timeout == 60 and oob.power_delay == 2.0 and oob.node_names == []
    assert opcodes.OpBackupExport(**MINIMAL["OpBackupExport"]).mode == "local"
    assert opcodes.OpTestDelay(duration=1).on_master is True
    assert opcodes.OpInstanceMigrate(instance_name="i").allow_runtime_changes is True


def test_mutable_defaults_are_not_shared() -> None:
    first = opcodes.OpInstanceStartup(instance_name="a")
    second = opcodes.OpInstanceStartup(instance_name="b")
    first.hvparams["kernel_path"] = "/boot/vmlinuz"
    first.reason.append(["gnt:user", "", 1])
    assert second.hvparams == {} and second.reason == []
    assert opcodes.OpInstanceStartup(instance_name="c").hvparams == {}


# -- validation --------------------------------------------------------------------


class OpInstanceCreate(OpCode, register=False):
    """Stand-in with a typed memory parameter, for the message format."""

    OP_PARAMS = (Param("memory", ht.TPositiveInt, 128, "Memory in MiB"),)


def test_validation_message_format() -> None:
    with pytest.raises(errors.OpPrereqError) as excinfo:
        OpInstanceCreate(memory="abc")
    assert _error_text(excinfo) == (
        "OpInstanceCreate: parameter 'memory' must be a positive integer, got 'abc'")
    # Declared with register=False: the real opcode stays registered.
    assert opcodes.OP_REGISTRY["OP_INSTANCE_CREATE"] is opcodes.OpInstanceCreate


def test_real_opcode_messages() -> None:
    with pytest.raises(errors.OpPrereqError) as excinfo:
        opcodes.OpTestAllocator(direction="in", mode="allocate", name="x", memory="abc")
    assert _error_text(excinfo) == (
        "OpTestAllocator: parameter 'memory' must be a non-negative integer, got 'abc'")
    with pytest.raises(errors.OpPrereqError) as excinfo:
        opcodes.OpInstanceReboot(instance_name="i", reboot_type="gentle")
    assert _error_text(excinfo) == (
        "OpInstanceReboot: parameter 'reboot_type' must be one of 'full', 'hard', 'soft',"
        " got 'gentle'")
    with pytest.raises(errors.OpPrereqError) as excinfo:
        opcodes.OpInstanceStartup(instance_name="i", force=1)
    assert _error_text(excinfo) == (
        "OpInstanceStartup: parameter 'force' must be a boolean, got 1")


def test_missing_required_parameter() -> None:
    with pytest.raises(errors.OpPrereqError) as excinfo:
        opcodes.OpInstanceReboot(instance_name="i")
    assert _error_text(excinfo) == "OpInstanceReboot: parameter 'reboot_type' is required"
    with pytest.raises(errors.OpPrereqError) as excinfo:
        opcodes.OpInstanceReboot(instance_name=None, reboot_type="soft")
    assert _error_text(excinfo) == (
        "OpInstanceReboot: parameter 'instance_name' must be a non-empty string, got None")


def test_unknown_parameters_are_rejected_by_name() -> None:
    with pytest.raises(errors.OpPrereqError) as excinfo:
        opcodes.OpInstanceStartup(instance_name="i", forse=True)
    assert _error_text(excinfo) == (
        "OpInstanceStartup: unknown parameter 'forse' (did you mean 'force'?)")
    with pytest.raises(errors.OpPrereqError) as excinfo:
        opcodes.from_dict({"OP_ID": "OP_INSTANCE_STARTUP", "instance_name": "i",
                           "zzz": 1, "yyy": 2})
    assert _error_text(excinfo) == "OpInstanceStartup: unknown parameters 'yyy', 'zzz'"


def test_nested_list_checks_point_at_the_bad_item() -> None:
    with pytest.raises(errors.OpPrereqError) as excinfo:
        opcodes.OpInstanceCreate(**dict(_CREATE, disks=[{"size": 1024}, {"size": "lots"}]))
    text = _error_text(excinfo)
    assert text.startswith("OpInstanceCreate: parameter 'disks' must be a list of disk"
                           " definitions")
    assert text.endswith("; disks[1]['size'] must be a size in MiB or with a unit"
                         " (e.g. 512, 10g), got 'lots'")

    with pytest.raises(errors.OpPrereqError) as excinfo:
        opcodes.OpInstanceCreate(**dict(_CREATE, nics=[{"mode": "bridged", "colour": "red"}]))
    assert _error_text(excinfo).endswith(
        "; nics[0] has unknown key 'colour' (allowed: bridge, ip, link, mac, mode, name,"
        " network, vlan)")

    with pytest.raises(errors.OpPrereqError) as excinfo:
        opcodes.OpInstanceSetParams(instance_name="i", disks=[["add", -1, {"size": "x"}]])
    assert _error_text(excinfo).endswith(
        "; disks[0][2]['size'] must be a size in MiB or with a unit (e.g. 512, 10g), got 'x'")

    with pytest.raises(errors.OpPrereqError) as excinfo:
        opcodes.OpInstanceStartup(instance_name="i", depends=[[5, ["success", "done"]]])
    assert _error_text(excinfo).endswith(
        "; depends[0][1][1] must be one of 'canceled', 'error', 'success', got 'done'")

    with pytest.raises(errors.OpPrereqError) as excinfo:
        opcodes.OpInstanceReplaceDisks(instance_name="i", mode="replace_auto", disks=[0, 16])
    assert _error_text(excinfo).endswith("; disks[1] must be a disk index (0 to 15), got 16")


def test_accepted_shapes() -> None:
    create = opcodes.OpInstanceCreate(**dict(
        _CREATE, disks=[{"size": "10g", "mode": "rw", "name": None, "provider": "p",
                         "custom-param": "x"}],
        nics=[{"mode": "bridged", "link": "br0", "ip": None, "mac": "generate"}]))
    assert create.disks[0]["size"] == "10g"
    setparams = opcodes.OpInstanceSetParams(
        instance_name="i", nics=[["add", {"link": "br1"}], [0, {"ip": "192.0.2.9"}]],
        disks=[["modify", "data", {"mode": "ro"}], ["remove", 1, {}]])
    assert len(setparams.nics) == 2
    recreate = opcodes.OpInstanceRecreateDisks(instance_name="i", disks=[[0, {"size": 512}]])
    assert recreate.disks == [[0, {"size": 512}]]
    assert opcodes.OpInstanceRecreateDisks(instance_name="i", disks=[0, 1]).disks == [0, 1]
    # Integers are accepted where a float is expected, as Ganeti does.
    assert opcodes.OpOobCommand(command="power-on", power_delay=3).power_delay == 3
    export = opcodes.OpBackupExport(instance_name="i", mode="remote",
                                    target_node=[["host", 1234, "magic"]])
    assert export.target_node == [["host", 1234, "magic"]]


def test_common_parameter_checks() -> None:
    op = opcodes.OpInstanceStartup(instance_name="i", priority=-20, dry_run=True,
                                   debug_level=2, comment="maintenance",
                                   depends=[[-1, ["success"]], [42, []], ["17", ["error"]]],
                                   reason=[["gnt:client:gnt-instance", "move", 10**18]])
    assert op.depends[0] == [-1, ["success"]]
    for bad in ({"priority": 20}, {"priority": -21}, {"priority": True},
                {"debug_level": -1}, {"depends": [[1]]}, {"depends": [["x", []]]},
                {"reason": [["src", "text"]]}, {"reason": [["src", "text", 1.5]]},
                {"comment": 5}, {"dry_run": "yes"}):
        with pytest.raises(errors.OpPrereqError):
            opcodes.OpInstanceStartup(instance_name="i", **bad)


def test_validate_after_changes() -> None:
    op = opcodes.OpInstanceStartup(instance_name="i")
    op.force = True
    op.validate()
    op.shutdown_timeout = -5
    with pytest.raises(errors.OpPrereqError) as excinfo:
        op.validate()
    assert _error_text(excinfo) == (
        "OpInstanceStartup: parameter 'shutdown_timeout' must be a non-negative integer,"
        " got -5")
    with pytest.raises(AttributeError, match="OpInstanceStartup has no parameter 'forse'"):
        op.forse = True
    with pytest.raises(AttributeError, match="has no parameter 'memory'"):
        _ = op.memory
    with pytest.raises(AttributeError):
        del op.force


def test_multi_alloc_validates_each_instance() -> None:
    op = opcodes.OpInstanceMultiAlloc(
        instances=[dict(_CREATE, instance_name="a"),
                   dict(_CREATE, instance_name="b", OP_ID="OP_INSTANCE_CREATE")])
    created = op.create_opcodes()
    assert [c.instance_name for c in created] == ["a", "b"]
    assert all(isinstance(c, opcodes.OpInstanceCreate) for c in created)
    with pytest.raises(errors.OpPrereqError) as excinfo:
        opcodes.OpInstanceMultiAlloc(instances=[dict(_CREATE), {"instance_name": "c"}])
    assert _error_text(excinfo) == (
        "OpInstanceMultiAlloc: parameter 'instances' item 1: OpInstanceCreate: parameter"
        " 'disks' is required")


# -- JSON form ---------------------------------------------------------------------


@pytest.mark.parametrize("cls", opcodes.all_opcodes(), ids=lambda c: c.__name__)
def test_round_trip(cls: type[OpCode]) -> None:
    op = _build(cls, comment="round trip", priority=-10, depends=[[-1, ["success"]]],
                reason=[["gnt:user", "test", 1700000000000000000]])
    data = op.to_dict()
    assert data["OP_ID"] == cls.OP_ID
    assert set(data) == {"OP_ID"} | {p.name for p in cls.ALL_PARAMS}
    text = serializer.dump(data)
    again = OpCode.from_dict(serializer.load(text))
    assert type(again) is cls
    assert again == op
    assert again.to_dict() == data
    assert cls.from_dict(data) == op
    assert pickle.loads(pickle.dumps(op)) == op
    assert op.copy() == op and op.copy() is not op
    assert op.summary().startswith(cls.OP_ID[3:])


def test_to_dict_is_a_copy() -> None:
    op = opcodes.OpInstanceStartup(instance_name="i", hvparams={"a": {"b": 1}})
    data = op.to_dict()
    data["hvparams"]["a"]["b"] = 2
    assert op.hvparams == {"a": {"b": 1}}


def test_ganeti_client_json_is_accepted() -> None:
    # As a Ganeti RAPI/luxi client sends it: explicit nulls and common fields.
    data = {"OP_ID": "OP_INSTANCE_REBOOT", "instance_name": "web1", "reboot_type": "hard",
            "ignore_secondaries": False, "shutdown_timeout": 60, "dry_run": False,
            "debug_level": None, "priority": 0, "depends": None, "comment": None,
            "reason": [["gnt:library:rlib2", "reboot via RAPI", 1591112233445566778]]}
    op = opcodes.from_dict(data)
    assert isinstance(op, opcodes.OpInstanceReboot)
    assert op.instance_name == "web1" and op.shutdown_timeout == 60
    assert op.to_dict() == dict(data, instance_uuid=None)


def test_from_dict_errors() -> None:
    with pytest.raises(errors.OpCodeUnknown, match="Unknown opcode 'OP_INSTANCE_EXPLODE'"):
        OpCode.from_dict({"OP_ID": "OP_INSTANCE_EXPLODE"})
    with pytest.raises(errors.OpCodeUnknown, match="Unknown opcode 5"):
        opcodes.from_dict({"OP_ID": 5})
    with pytest.raises(errors.OpPrereqError, match="Opcode data has no OP_ID"):
        OpCode.from_dict({"instance_name": "i"})
    with pytest.raises(errors.OpPrereqError, match="must be a dictionary, got"):
        OpCode.from_dict(["OP_INSTANCE_STARTUP"])  # type: ignore[arg-type]
    with pytest.raises(errors.OpPrereqError,
                       match="OpInstanceStartup: OP_ID must be 'OP_INSTANCE_STARTUP', got"
                             " 'OP_INSTANCE_SHUTDOWN'"):
        opcodes.OpInstanceStartup.from_dict({"OP_ID": "OP_INSTANCE_SHUTDOWN",
                                             "instance_name": "i"})
    with pytest.raises(errors.OpPrereqError,
                       match="OpInstanceStartup: parameter names must be strings, got \\[1\\]"):
        bad: dict[Any, Any] = {"OP_ID": "OP_INSTANCE_STARTUP", "instance_name": "i", 1: 2}
        opcodes.from_dict(bad)
    # On a subclass OP_ID may be left out (RAPI bodies).
    op = opcodes.OpInstanceStartup.from_dict({"instance_name": "i"})
    assert op.OP_ID == "OP_INSTANCE_STARTUP"
    with pytest.raises(errors.ProgrammerError):
        OpCode()


# -- secrets -----------------------------------------------------------------------


def test_secret_parameters_are_redacted() -> None:
    op = opcodes.OpInstanceCreate(**dict(_CREATE, osparams_secret={"password": "hunter2"},
                                         osparams_private={"token": "t0k"}))
    assert op.osparams_secret == {"password": "hunter2"}
    stored = op.to_dict(redact_secrets=True)
    assert stored["osparams_secret"] == {"password": opcodes.REDACTED} == \
        {"password": "<redacted>"}
    assert stored["osparams_private"] == {"token": "t0k"}
    assert op.to_dict()["osparams_secret"] == {"password": "hunter2"}
    assert op.to_dict(redact_private=True)["osparams_private"] == {"token": "<redacted>"}
    assert "hunter2" not in repr(op) and "t0k" not in repr(op)
    assert op.osparams_secret == {"password": "hunter2"}  # redaction leaves the op intact
    # A redacted job file still loads.
    assert opcodes.from_dict(stored).osparams_secret == {"password": "<redacted>"}
    secret_params = {(cls.__name__, p.name) for cls in opcodes.all_opcodes()
                     for p in cls.ALL_PARAMS if p.secret}
    assert secret_params == {("OpInstanceCreate", "osparams_secret"),
                             ("OpInstanceReinstall", "osparams_secret"),
                             ("OpTestOsParams", "osparams_secret")}


def test_secret_values_stay_out_of_error_messages() -> None:
    with pytest.raises(errors.OpPrereqError) as excinfo:
        opcodes.OpTestOsParams(osparams_secret=["hunter2"])
    text = _error_text(excinfo)
    assert "hunter2" not in text
    assert text == ("OpTestOsParams: parameter 'osparams_secret' must be a dictionary,"
                    " got '<redacted>'")


# -- summaries ---------------------------------------------------------------------


def test_summaries() -> None:
    create = opcodes.OpInstanceCreate(**_CREATE)
    assert create.summary() == "INSTANCE_CREATE(inst1.example.com)"
    assert create.tiny_summary() == "I_CREATE"
    assert opcodes.OpClusterVerify().summary() == "CLUSTER_VERIFY"
    assert opcodes.OpClusterVerify().tiny_summary() == "C_VERIFY"
    assert opcodes.OpGroupAdd(group_name="g").tiny_summary() == "G_ADD"
    assert opcodes.OpNodeAdd(node_name="n").summary() == "NODE_ADD(n)"
    assert opcodes.OpTagsSearch(pattern="^a").tiny_summary() == "TAGS_SEARCH"
    assert opcodes.OpTestDelay(duration=1.5).summary() == "TEST_DELAY(1500000000 ns)"
    assert opcodes.OpQuery(what="node", fields=["name"]).summary() == "QUERY(node)"
    allocator = opcodes.OpTestAllocator(direction="in", mode="allocate", name="x")
    assert allocator.summary() == "TEST_ALLOCATOR(None)"


def test_reason_trail() -> None:
    op = opcodes.OpInstanceStartup(instance_name="i")
    op.add_reason(constants.OPCODE_REASON_SRC_USER, "by hand", 123)
    assert op.reason == [["gnt:user", "by hand", 123]]
    op.validate()


# -- declaration errors ---------------------------------------------------------------


def test_declaration_errors() -> None:
    with pytest.raises(errors.ProgrammerError, match="declared twice"):
        # Same name as the real opcode, on purpose.
        class OpInstanceStartup(OpCode):
            """Duplicate."""
    with pytest.raises(errors.ProgrammerError, match="declares parameter 'force' twice"):
        class OpDoubled(OpCode, register=False):
            """Two declarations of one parameter."""
            OP_PARAMS = (Param("force", ht.TBool, False, "x"), Param("force", ht.TBool, False))
    with pytest.raises(errors.ProgrammerError, match="summary parameter 'nope'"):
        class OpBadSummary(OpCode, register=False):
            """Summary of an undeclared parameter."""
            SUMMARY_PARAM = "nope"
    with pytest.raises(errors.ProgrammerError, match="'summary' would hide"):
        class OpShadowing(OpCode, register=False):
            """A parameter named like a method."""
            OP_PARAMS = (Param("summary", ht.TString, "", "x"),)
    assert opcodes.OP_REGISTRY["OP_INSTANCE_STARTUP"].__module__ == "ganeti.opcodes.instance"


# -- schema dump -----------------------------------------------------------------------


def test_schema_entries() -> None:
    schema = opcodes.OpInstanceReboot.schema()
    assert schema["OP_ID"] == "OP_INSTANCE_REBOOT" and schema["class"] == "OpInstanceReboot"
    assert schema["doc"] and schema["summary_param"] == "instance_name"
    by_name = {p["name"]: p for p in schema["params"]}
    assert by_name["reboot_type"]["required"] is True and "default" not in \
        by_name["reboot_type"]
    assert by_name["reboot_type"]["schema"] == {"enum": ["full", "hard", "soft"]}
    assert by_name["shutdown_timeout"] == {
        "name": "shutdown_timeout", "schema": {"type": "integer", "minimum": 0},
        "description": "a non-negative integer", "required": False, "default": 120,
        "doc": by_name["shutdown_timeout"]["doc"], "secret": False, "private": False,
        "common": False}
    assert by_name["instance_uuid"]["schema"] == {
        "anyOf": [{"type": "null"}, {"type": "string", "minLength": 1}]}
    assert by_name["priority"]["common"] is True


def test_dump_json_command_prints_every_opcode() -> None:
    result = subprocess.run([sys.executable, "-m", "ganeti.opcodes", "--dump-json"],
                            capture_output=True, text=True, check=True, timeout=60)
    dumped = json.loads(result.stdout)
    assert dumped["version"] == constants.RELEASE_VERSION
    assert [entry["OP_ID"] for entry in dumped["opcodes"]] == sorted(opcodes.OP_REGISTRY)
    for entry in dumped["opcodes"]:
        cls = opcodes.OP_REGISTRY[entry["OP_ID"]]
        assert entry["class"] == cls.__name__
        assert [p["name"] for p in entry["params"]] == [p.name for p in cls.ALL_PARAMS]
        for param in entry["params"]:
            assert set(param) >= {"name", "schema", "description", "required", "doc"}
            assert param["required"] or "default" in param
    assert dumped == json.loads(json.dumps(opcodes.dump_schema()))


def test_dump_json_requires_the_flag() -> None:
    result = subprocess.run([sys.executable, "-m", "ganeti.opcodes"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "--dump-json" in result.stderr
