"""The built-in allocator's node-evacuate, change-group and multi-allocate answers,
hail's answers to the same requests, and how evacuation answers become jobs."""

from __future__ import annotations

import os
from typing import Any

import pytest
from test_allocator import _model, _node, _request

from ganeti import allocator, constants, errors, iallocator, opcodes, pathutils
from ganeti.cmdlib.node_evacuate import evacuation_jobs
from ganeti.iallocator import ClusterModel

_HAIL = "/usr/lib/ganeti/3.0/usr/lib/ganeti/iallocators/hail"


def _instance(template: str, node: str, memory: int = 1000, up: bool = True,
              disk: int = 1024) -> dict[str, Any]:
    disks = [] if template == constants.DT_DISKLESS else [{"size": disk, "mode": "rw",
                                                           "spindles": None}]
    return {"tags": [], "admin_state": constants.ADMINST_UP if up else constants.ADMINST_DOWN,
            "vcpus": 1, "memory": memory, "spindle_use": 1, "os": "noop",
            "hypervisor": constants.HT_FAKE, "disk_template": template, "disks_active": up,
            "nodes": [node], "nics": [], "disks": disks,
            "disk_space_total": iallocator.disk_space_total(template, disks)}


def _cluster(**instances: dict[str, Any]) -> ClusterModel:
    """node1 (6000 MiB free), node2 (5000), node3 (4000) in g1; node4 (7000) in g2."""
    model = _model(_node(1, 6000), _node(2, 5000), _node(3, 4000), _node(4, 7000, group="g2"),
                   policies={"g1": constants.ALLOC_POLICY_PREFERRED,
                             "g2": constants.ALLOC_POLICY_PREFERRED})
    model.instances = dict(instances)
    return model


def _name(index: int) -> str:
    return "node%d.example.com" % index


def test_node_evacuate_migrates_shared_instances_within_the_group() -> None:
    model = _cluster(a=_instance(constants.DT_SHARED_FILE, _name(1), memory=3000),
                     b=_instance(constants.DT_DISKLESS, _name(1), memory=3000))
    moved, failed, jobs = allocator.node_evacuate(
        model, iallocator.node_evacuate_request(["a", "b"], constants.NODE_EVAC_PRI))
    # node2 has the most memory; once "a" is booked there, node3 has more for "b";
    # node4 is in another group and never chosen.
    assert moved == [["a", "group-g1", [_name(2)]], ["b", "group-g1", [_name(3)]]]
    assert failed == []
    assert jobs == [[{"OP_ID": "OP_INSTANCE_MIGRATE", "instance_name": "a",
                      "target_node": _name(2), "allow_failover": True,
                      "ignore_hvversions": True}],
                    [{"OP_ID": "OP_INSTANCE_MIGRATE", "instance_name": "b",
                      "target_node": _name(3), "allow_failover": True,
                      "ignore_hvversions": True}]]
    assert model.nodes["uuid-2"].free_memory == 2000


def test_node_evacuate_refuses_what_cannot_move() -> None:
    model = _cluster(f=_instance(constants.DT_FILE, _name(1)),
                     d=_instance(constants.DT_DRBD8, _name(1)),
                     s=_instance(constants.DT_SHARED_FILE, _name(1)),
                     big=_instance(constants.DT_SHARED_FILE, _name(1), memory=9000),
                     down=_instance(constants.DT_SHARED_FILE, _name(1), memory=9000, up=False))
    moved, failed, jobs = allocator.node_evacuate(
        model, iallocator.node_evacuate_request(["f", "d", "big", "down", "x"],
                                                constants.NODE_EVAC_PRI))
    reasons = dict(failed)
    assert reasons["f"].startswith("Instances of type file cannot be relocated")
    assert "gnt-instance move" in reasons["f"]
    assert "does not move drbd instances" in reasons["d"]
    assert "no node can take instance big" in reasons["big"]
    assert "%s: 5000 MiB free memory, 9000 MiB needed" % _name(2) in reasons["big"]
    assert reasons["x"] == "instance x is not known"
    # A stopped instance needs no memory on its new node.
    assert moved == [["down", "group-g1", [_name(2)]]] and len(jobs) == 1
    _moved, failed, _jobs = allocator.node_evacuate(
        model, iallocator.node_evacuate_request(["s"], constants.NODE_EVAC_SEC))
    assert failed == [["s", "Instances with disk template 'sharedfile' can't execute"
                            " change secondary"]]


def test_node_evacuate_skips_offline_and_drained_nodes() -> None:
    model = _cluster(a=_instance(constants.DT_SHARED_FILE, _name(1)))
    model.nodes["uuid-2"].drained = True
    model.nodes["uuid-3"].offline = True
    moved, failed, _jobs = allocator.node_evacuate(
        model, iallocator.node_evacuate_request(["a"], constants.NODE_EVAC_ALL))
    assert moved == [] and "node2.example.com: drained" in failed[0][1]
    assert "node3.example.com: offline" in failed[0][1]


def test_change_group_migrates_shared_and_moves_file_instances() -> None:
    model = _cluster(s=_instance(constants.DT_SHARED_FILE, _name(1)),
                     f=_instance(constants.DT_FILE, _name(2)),
                     huge=_instance(constants.DT_FILE, _name(3), disk=10 ** 6))
    moved, failed, jobs = allocator.change_group(
        model, iallocator.change_group_request(["s", "f", "huge"], []))
    assert moved == [["s", "group-g2", [_name(4)]], ["f", "group-g2", [_name(4)]]]
    assert jobs[0][0]["OP_ID"] == "OP_INSTANCE_MIGRATE"
    assert jobs[1] == [{"OP_ID": "OP_INSTANCE_MOVE", "instance_name": "f",
                        "target_node": _name(4)}]
    assert failed[0][0] == "huge" and "MiB free disk, 1000000 MiB needed" in failed[0][1]
    # File disks take room on the node: the booked space counts.
    assert model.nodes["uuid-4"].free_disk == 90000 - 1024


def test_change_group_target_groups() -> None:
    model = _cluster(s=_instance(constants.DT_SHARED_FILE, _name(4)))
    moved, _failed, _jobs = allocator.change_group(
        model, iallocator.change_group_request(["s"], ["g1"]))
    assert moved == [["s", "group-g1", [_name(1)]]]
    model.groups["g1"]["alloc_policy"] = constants.ALLOC_POLICY_UNALLOCABLE
    moved, failed, _jobs = allocator.change_group(
        model, iallocator.change_group_request(["s"], []))
    assert moved == [] and failed == [["s", "no target group"]]


def test_multi_allocate_books_each_placement() -> None:
    model = _cluster()
    requests = [dict(_request(memory=3000, template=constants.DT_DISKLESS), name="i%d" % n)
                for n in range(1, 4)]
    requests.append(dict(_request(memory=50000, template=constants.DT_DISKLESS), name="big"))
    allocated, failed = allocator.multi_allocate(
        model, iallocator.multi_allocate_request(requests))
    # Group g1 comes first (by name): node1 (6000 MiB free), then node2 (5000 against
    # node1's 3000 left), then node3 (4000).
    assert allocated == [["i1", [_name(1)]], ["i2", [_name(2)]], ["i3", [_name(3)]]]
    assert failed == ["big"]


def test_run_request_dispatches_to_the_builtin_allocator() -> None:
    class _Cfg:
        def get_cluster_info(self) -> Any:
            return type("C", (), {"default_iallocator": ""})()

    lu: Any = type("LU", (), {"cfg": _Cfg()})()
    model = _cluster(a=_instance(constants.DT_SHARED_FILE, _name(1)))
    used, result = allocator.run_request(
        lu, None, model, iallocator.node_evacuate_request(["a"], constants.NODE_EVAC_PRI))
    assert used == allocator.BUILTIN and result[0] == [["a", "group-g1", [_name(2)]]]
    with pytest.raises(errors.OpPrereqError, match="does not answer 'relocate' requests"):
        allocator.run_request(lu, "builtin", model,
                              iallocator.relocate_request("a", 0, [_name(1)]))


class _LogLU:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def log_info(self, message: str, *args: Any) -> None:
        self.lines.append(message % args)

    def log_warning(self, message: str, *args: Any) -> None:
        self.lines.append("WARNING " + message % args)


def test_evacuation_jobs_are_checked_opcodes() -> None:
    lu: Any = _LogLU()
    answer = [[["a", "g", ["n2"]]], [],
              [[{"OP_ID": "OP_INSTANCE_MIGRATE", "instance_name": "a", "target_node": "n2"}],
               [{"OP_ID": "OP_INSTANCE_REPLACE_DISKS", "instance_name": "b",
                 "mode": constants.REPLACE_DISK_CHG, "remote_node": "n3"}]]]
    jobs = evacuation_jobs(lu, "x", answer, early_release=True, show_nodes=True)
    assert isinstance(jobs[0][0], opcodes.OpInstanceMigrate)
    assert jobs[0][0].get("early_release") is None and jobs[1][0].early_release is True
    assert lu.lines == ["Instances to be moved: a (to n2)"]
    with pytest.raises(errors.OpExecError, match=r"Unable to evacuate instances a \(no room\)"):
        evacuation_jobs(lu, "x", [[], [["a", "no room"]], []], False, True)
    with pytest.raises(errors.OpExecError, match="does not move an instance"):
        evacuation_jobs(lu, "x", [[], [], [[{"OP_ID": "OP_INSTANCE_REMOVE",
                                              "instance_name": "a"}]]], False, True)
    with pytest.raises(errors.OpExecError, match="invalid opcode"):
        evacuation_jobs(lu, "x", [[], [], [[{"OP_ID": "OP_INSTANCE_MIGRATE",
                                              "instance_name": 3}]]], False, True)


@pytest.mark.skipif(not os.access(_HAIL, os.X_OK), reason="Debian's ganeti-htools-3.0 missing")
def test_hail_answers_node_evacuate_and_multi_allocate() -> None:
    paths = pathutils.for_root("/")
    model = _cluster(a=_instance(constants.DT_SHARED_FILE, _name(1), memory=128),
                     f=_instance(constants.DT_FILE, _name(1), memory=128))
    result = iallocator.run_allocator(paths, "hail", iallocator.build_input(
        model, iallocator.node_evacuate_request(["a", "f"], constants.NODE_EVAC_PRI)))
    moved, failed, _jobs = result
    assert [entry[0] for entry in moved] == ["a"] and moved[0][2][0] in (_name(2), _name(3))
    assert failed == [["f", "Instances of type file cannot be relocated"]]
    lu: Any = _LogLU()
    with pytest.raises(errors.OpExecError, match=r"f \(Instances of type file cannot be"):
        evacuation_jobs(lu, "hail", result, False, True)
    result = iallocator.run_allocator(paths, "hail", iallocator.build_input(
        model, iallocator.node_evacuate_request(["a"], constants.NODE_EVAC_PRI)))
    (op,), = evacuation_jobs(lu, "hail", result, False, True)
    assert isinstance(op, opcodes.OpInstanceMigrate) and op.instance_name == "a"
    assert op.target_node == result[0][0][2][0] and op.allow_failover
    requests = [dict(_request(memory=512, template=constants.DT_DISKLESS), name="m%d" % n)
                for n in range(2)]
    allocated, not_placed = iallocator.run_allocator(paths, "hail", iallocator.build_input(
        _cluster(), iallocator.multi_allocate_request(requests)))
    assert sorted(name for name, _nodes in allocated) == ["m0", "m1"] and not_placed == []
