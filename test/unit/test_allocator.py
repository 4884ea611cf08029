"""The built-in allocator and the iallocator protocol (input, running a script, answers)."""

from __future__ import annotations

import os
import stat
from typing import Any

import pytest

from ganeti import allocator, constants, errors, iallocator, pathutils, serializer
from ganeti.iallocator import ClusterModel, NodeModel

_HAIL = "/usr/lib/ganeti/3.0/usr/lib/ganeti/iallocators/hail"


def _node(index: int, free: int | None, group: str = "g1", offline: bool = False,
          drained: bool = False, cpus: int = 4, vcpus_used: int = 0) -> NodeModel:
    node = NodeModel(uuid="uuid-%d" % index, name="node%d.example.com" % index, group=group,
                     offline=offline, drained=drained, vm_capable=True, master_capable=True,
                     master_candidate=True, primary_ip="127.0.1.%d" % index,
                     secondary_ip="127.0.1.%d" % index, tags=[],
                     ndparams={"spindle_count": 1, "exclusive_storage": False,
                               "cpu_speed": 1.0})
    if free is not None and not offline:
        node.total_memory, node.free_memory, node.reserved_memory = 8192, free, 512
        node.total_disk, node.free_disk = 100000, 90000
        node.total_cpus, node.reserved_cpus = cpus, 1
    node.i_pri_vcpus = vcpus_used
    return node


def _model(*nodes: NodeModel, policies: dict[str, str] | None = None) -> ClusterModel:
    policies = policies or {"g1": constants.ALLOC_POLICY_PREFERRED}
    groups = {uuid: {"name": "group-%s" % uuid, "alloc_policy": policy, "networks": [],
                     "tags": [], "ipolicy": iallocator._ipolicy({})}
              for uuid, policy in policies.items()}
    return ClusterModel("cluster.example.com", [], [constants.HT_FAKE],
                        iallocator._ipolicy({}), groups, {n.uuid: n for n in nodes})


def _request(memory: int = 512, vcpus: int = 1, template: str = constants.DT_FILE,
             disk: int = 1024, group: str | None = None) -> dict[str, Any]:
    return iallocator.allocate_request(
        name="inst1.example.com", disk_template=template, memory=memory, vcpus=vcpus,
        disks=[{"size": disk}] if template != constants.DT_DISKLESS else [],
        nics=[{"mac": "aa:00:00:00:00:01", "ip": None, "mode": "bridged", "link": "br0"}],
        os="noop", hypervisor=constants.HT_FAKE, group_name=group)


def test_builtin_picks_the_node_with_most_free_memory() -> None:
    model = _model(_node(1, 1000), _node(2, 6000), _node(3, 4000))
    assert allocator.allocate(model, _request()) == ["uuid-2"]


def test_builtin_skips_offline_and_drained_nodes() -> None:
    model = _model(_node(1, 1000), _node(2, 6000, drained=True), _node(3, None, offline=True))
    assert allocator.allocate(model, _request()) == ["uuid-1"]


def test_builtin_not_enough_memory_anywhere_names_each_node() -> None:
    model = _model(_node(1, 1000), _node(2, 2000, drained=True), _node(3, None, offline=True))
    with pytest.raises(errors.OpPrereqError) as info:
        allocator.allocate(model, _request(memory=4096))
    message = info.value.args[0]
    assert info.value.args[1] == errors.ECODE_NORES
    assert "node1.example.com: 1000 MiB free memory, 4096 MiB needed" in message
    assert "node2.example.com: drained" in message
    assert "node3.example.com: offline" in message


def test_builtin_checks_disk_space_and_vcpu_ratio() -> None:
    small = _node(1, 6000)
    small.free_disk = 100
    busy = _node(2, 5000, cpus=1, vcpus_used=4)  # vcpu-ratio 4: 4 of 4 in use
    fine = _node(3, 1000)
    model = _model(small, busy, fine)
    assert allocator.allocate(model, _request(disk=2048)) == ["uuid-3"]
    # Shared storage is not on a node's own disk: the disk check does not apply.
    assert allocator.allocate(model, _request(template=constants.DT_SHARED_FILE,
                                              disk=2048)) == ["uuid-1"]


def test_builtin_groups_by_policy() -> None:
    model = _model(_node(1, 7000, group="last"), _node(2, 1000, group="pref"),
                   _node(3, 8000, group="never"),
                   policies={"last": constants.ALLOC_POLICY_LAST_RESORT,
                             "pref": constants.ALLOC_POLICY_PREFERRED,
                             "never": constants.ALLOC_POLICY_UNALLOCABLE})
    assert allocator.allocate(model, _request()) == ["uuid-2"]
    # Preferred group full: the last-resort one is used; unallocable never.
    assert allocator.allocate(model, _request(memory=5000)) == ["uuid-1"]
    with pytest.raises(errors.OpPrereqError, match="node3"):
        allocator.allocate(model, _request(group="group-never", memory=9000))


def test_builtin_mirrored_template_needs_two_nodes() -> None:
    model = _model(_node(1, 6000), _node(2, 100))
    with pytest.raises(errors.OpPrereqError, match="only 1 suitable node"):
        allocator.allocate(model, _request(template=constants.DT_DRBD8))
    model = _model(_node(1, 6000), _node(2, 3000), _node(3, 100))
    assert allocator.allocate(model, _request(template=constants.DT_DRBD8)) == \
        ["uuid-1", "uuid-2"]


def test_input_document_follows_the_protocol() -> None:
    model = _model(_node(1, 1000), _node(2, None, offline=True))
    data = iallocator.build_input(model, _request())
    assert data["version"] == 2
    assert set(data) == {"version", "cluster_name", "cluster_tags", "enabled_hypervisors",
                         "ipolicy", "nodegroups", "nodes", "instances", "request"}
    online = data["nodes"]["node1.example.com"]
    assert online["free_memory"] == 1000 and online["total_cpus"] == 4
    # Offline nodes carry no dynamic figures.
    assert "free_memory" not in data["nodes"]["node2.example.com"]
    request = data["request"]
    assert request["type"] == "allocate" and request["required_nodes"] == 1
    assert request["disk_space_total"] == 1024
    assert iallocator.disk_space_total(constants.DT_DRBD8, [{"size": 100}]) == 228


def test_parse_result_shapes() -> None:
    ok = serializer.dump({"success": True, "info": "", "result": ["n1"]})
    assert iallocator.parse_result("x", ok, "allocate") == ["n1"]
    legacy = serializer.dump({"success": True, "info": "", "nodes": ["n2"]})
    assert iallocator.parse_result("x", legacy, "relocate") == ["n2"]
    evac = serializer.dump({"success": True, "info": "", "result": [[], [], []]})
    assert iallocator.parse_result("x", evac, "node-evacuate") == [[], [], []]
    with pytest.raises(errors.OpPrereqError, match="wrong shape"):
        iallocator.parse_result("x", serializer.dump({"success": True, "result": 3}),
                                "allocate")
    with pytest.raises(errors.OpPrereqError, match=r"could not satisfy.*no room"):
        iallocator.parse_result("x", serializer.dump({"success": False, "info": "no room"}),
                                "allocate")
    with pytest.raises(errors.OpPrereqError, match="invalid JSON"):
        iallocator.parse_result("x", "not json", "allocate")


def _install_script(root: str, name: str, body: str) -> str:
    directory = pathutils.for_root(root).iallocator_search_path[0]
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path, "w") as handle:
        handle.write(body)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path


_SCRIPT = """#!/usr/bin/env python3
import json, sys
data = json.load(open(sys.argv[-1]))
json.dump(sys.argv[1:-1], open(sys.argv[-1] + ".args", "w"))
req = data["request"]
nodes = [n for n, d in sorted(data["nodes"].items())
         if not d["offline"] and not d["drained"] and d.get("free_memory", 0) >= req["memory"]]
print(json.dumps({"success": bool(nodes), "info": "no node" if not nodes else "",
                  "result": nodes[-1:]}))
"""


def test_external_script_speaks_the_protocol(tmp_path: Any) -> None:
    root = str(tmp_path)
    _install_script(root, "last-fit", _SCRIPT)
    paths = pathutils.for_root(root)
    model = _model(_node(1, 1000), _node(2, 6000), _node(3, 7000, drained=True))
    data = iallocator.build_input(model, _request())
    assert iallocator.run_allocator(paths, "last-fit", data) == ["node2.example.com"]
    data = iallocator.build_input(model, _request(memory=9000))
    with pytest.raises(errors.OpPrereqError, match="could not satisfy the request: no node"):
        iallocator.run_allocator(paths, "last-fit", data)
    _install_script(root, "broken", "#!/bin/sh\necho oops >&2\nexit 3\n")
    with pytest.raises(errors.OpPrereqError, match=r"failed \(exit code 3\): oops"):
        iallocator.run_allocator(paths, "broken", data)
    with pytest.raises(errors.OpPrereqError, match="not found in the allocator search path"):
        iallocator.run_allocator(paths, "missing", data)
    with pytest.raises(errors.OpPrereqError, match="Invalid allocator name"):
        iallocator.find_allocator(paths, "../bin/sh")


@pytest.mark.skipif(not os.access(_HAIL, os.X_OK), reason="Debian's ganeti-htools-3.0 missing")
def test_hail_places_an_instance() -> None:
    paths = pathutils.for_root("/")
    model = _model(_node(1, 1000), _node(2, 6000), _node(3, 7000, drained=True))
    data = iallocator.build_input(model, _request())
    assert iallocator.run_allocator(paths, "hail", data) == ["node2.example.com"]
    with pytest.raises(errors.OpPrereqError, match="hail could not satisfy"):
        iallocator.run_allocator(paths, "hail", iallocator.build_input(
            model, _request(memory=7500)))
