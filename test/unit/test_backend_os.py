"""OS definitions: diagnose, get, validate, and running create/rename scripts."""

from __future__ import annotations

import os
import stat

import pytest

from ganeti import constants, errors, pathutils, ssconf
from ganeti.backend import instance as inst_backend
from ganeti.backend import os as os_backend

MIB = 1024 * 1024

#: A create script that records its environment (NUL-separated, exact values).
DUMP_ENV = """#!/bin/sh
python3 -c 'import os, sys; sys.stdout.write("\\0".join("%s=%s" % kv for kv in
sorted(os.environ.items())))' > "$(pwd)/env.$1dump"
echo "created $INSTANCE_NAME"
"""
FAILING = """#!/bin/sh
for i in $(seq 1 30); do echo "progress line $i"; done
echo "disk exploded" >&2
exit 3
"""
VERIFY = """#!/bin/sh
[ "$#" -eq 0 ] || [ "$1" = parameters ] || exit 9
[ "$OSP_DIST" != "bad" ] || { echo "bad dist" >&2; exit 1; }
"""


@pytest.fixture
def node(tmp_path, monkeypatch) -> pathutils.Paths:
    root = tmp_path / "node"
    root.mkdir()
    monkeypatch.setenv(pathutils.ROOTDIR_ENV, str(root))
    monkeypatch.setenv("SOME_LEAKY_VARIABLE", "should-not-reach-scripts")
    paths = pathutils.for_root(str(root))
    os.makedirs(paths.os_search_path[0])
    return paths


def write_os(paths: pathutils.Paths, name: str, api: str = "20\n15\n10\n",
             scripts: dict[str, str] | None = None, variants: str | None = "default\nalt\n",
             parameters: str | None = "dist The distribution\nmirror-url Where from\n",
             search_dir: int = 0) -> str:
    os_dir = os.path.join(paths.os_search_path[search_dir], name)
    os.makedirs(os_dir)
    if api is not None:
        with open(os.path.join(os_dir, "ganeti_api_version"), "w") as handle:
            handle.write(api)
    all_scripts = {s: "#!/bin/sh\nexit 0\n" for s in ("create", "import", "export",
                                                       "rename", "verify")}
    all_scripts.update(scripts or {})
    for script, body in all_scripts.items():
        if body is None:
            continue
        path = os.path.join(os_dir, script)
        with open(path, "w") as handle:
            handle.write(body)
        os.chmod(path, 0o755)
    for file_name, content in (("variants.list", variants), ("parameters.list", parameters)):
        if content is not None:
            with open(os.path.join(os_dir, file_name), "w") as handle:
                handle.write(content)
    return os_dir


def diagnose_by_name(paths):
    return {row[0]: row for row in os_backend.os_diagnose()}


def test_diagnose_valid_os(node):
    os_dir = write_os(node, "debootstrap")
    row = diagnose_by_name(node)["debootstrap"]
    assert row == ["debootstrap", os_dir, True, "", ["default", "alt"],
                   [["dist", "The distribution"], ["mirror-url", "Where from"]],
                   [20, 15, 10], True]


def test_diagnose_broken_os_with_reasons(node):
    write_os(node, "noapi", api=None)
    write_os(node, "oldapi", api="5\n")
    write_os(node, "garbage", api="twenty\n")
    write_os(node, "noexec", scripts={"create": None})
    os.chmod(write_os(node, "notexec") + "/rename", 0o644)
    write_os(node, "noverify", scripts={"verify": None})
    write_os(node, "noparams", parameters=None)
    write_os(node, "novariants", variants="# only a comment\n")
    write_os(node, "untrusted", scripts={"create": None, "create_untrusted": "#!/bin/sh\n"})
    write_os(node, "api10", api="10\n", scripts={"verify": None}, variants=None,
             parameters=None)
    rows = diagnose_by_name(node)
    expectations = {
        "noapi": "API version file 'ganeti_api_version' is missing",
        "oldapi": "API version mismatch",
        "garbage": "one integer per line",
        "noexec": "script 'create' is missing",
        "notexec": "script 'rename' is not executable",
        "noverify": "script 'verify' is missing",
        "noparams": "'parameters.list' is required",
        "novariants": "lists no variant",
    }
    for name, reason in expectations.items():
        assert rows[name][2] is False, name
        assert reason in rows[name][3], (name, rows[name][3])
        assert rows[name][4:7] == [[], [], []]
    assert rows["untrusted"][2] is True and rows["untrusted"][7] is False
    assert rows["api10"][2:7] == [True, "", [], [], [10]]


def test_first_search_dir_wins_and_os_get(node):
    write_os(node, "image", search_dir=0, variants=None)
    os.makedirs(node.os_search_path[1])
    write_os(node, "image", search_dir=1, api="10\n")
    definition = os_backend.os_get("image+whatever")
    assert definition["path"] == os.path.join(node.os_search_path[0], "image")
    assert definition["api_versions"] == [20, 15, 10]
    with pytest.raises(errors.InvalidOS, match="not found in the search path"):
        os_backend.os_get("missing")
    write_os(node, "broken", api="5\n")
    with pytest.raises(errors.InvalidOS, match="API version mismatch"):
        os_backend.os_get("broken")


def make_instance(node: pathutils.Paths, os_name: str = "debootstrap+alt") -> dict:
    storage_dir = node.default_file_storage_dir
    os.makedirs(storage_dir, exist_ok=True)
    ssconf.write_files({"file_storage_dir": storage_dir}, node)
    os.makedirs(node.conf_dir, exist_ok=True)
    with open(node.file_storage_paths_file, "w") as handle:
        handle.write(storage_dir + "\n")
    image = os.path.join(storage_dir, "disk0")
    with open(image, "wb") as handle:
        handle.truncate(8 * MIB)
    return {
        "name": "web1.example.com", "uuid": "0123-uuid", "os": os_name,
        "hypervisor": constants.HT_FAKE, "primary_node": "node1.example.com",
        "hvparams": {"migration_mode": "live"},
        "beparams": {"maxmem": 256, "minmem": 256, "vcpus": 1},
        "osparams": {"dist": "bookworm", "mirror-url": "http://deb.example.com"},
        "nics": [{"mac": "aa:00:00:12:34:56", "ip": "192.0.2.10", "uuid": "nic-uuid",
                  "name": "eth0", "nicparams": {"mode": "bridged", "link": "br0",
                                                "vlan": ""}}],
        "disks": [{"uuid": "disk-uuid", "name": "root", "dev_type": constants.DT_FILE,
                   "logical_id": [constants.FD_LOOP, image], "size": 8, "mode": "rw",
                   "params": {}, "children": []}],
        "admin_state": "up",
    }


def read_env(path: str) -> dict[str, str]:
    with open(path) as handle:
        return dict(item.split("=", 1) for item in handle.read().split("\0") if item)


def test_instance_os_add_environment(node):
    os_dir = write_os(node, "debootstrap", scripts={"create": DUMP_ENV})
    instance = make_instance(node)
    inst_backend.instance_os_add(instance, False, 1)
    env = read_env(os.path.join(os_dir, "env.dump"))
    expected = {
        "OS_API_VERSION": "20", "OS_NAME": "debootstrap", "OS_VARIANT": "alt",
        "INSTANCE_NAME": "web1.example.com", "INSTANCE_OS": "debootstrap+alt",
        "INSTANCE_UUID": "0123-uuid", "INSTANCE_PRIMARY_NODE": "node1.example.com",
        "HYPERVISOR": "fake", "INSTANCE_HYPERVISOR": "fake", "DEBUG_LEVEL": "1",
        "DISK_COUNT": "1", "DISK_0_PATH": instance["disks"][0]["logical_id"][1],
        "DISK_0_ACCESS": "rw", "DISK_0_SIZE": "8", "DISK_0_UUID": "disk-uuid",
        "DISK_0_NAME": "root", "DISK_0_BACKEND_TYPE": "file:loop",
        "NIC_COUNT": "1", "NIC_0_MAC": "aa:00:00:12:34:56", "NIC_0_IP": "192.0.2.10",
        "NIC_0_MODE": "bridged", "NIC_0_LINK": "br0", "NIC_0_BRIDGE": "br0",
        "NIC_0_UUID": "nic-uuid", "NIC_0_NAME": "eth0",
        "INSTANCE_HV_migration_mode": "live", "INSTANCE_BE_maxmem": "256",
        "INSTANCE_BE_vcpus": "1",
        "OSP_DIST": "bookworm", "OSP_MIRROR_URL": "http://deb.example.com",
        "INSTANCE_OS_PARAMETER_DIST": "bookworm",
        "PATH": "/sbin:/bin:/usr/sbin:/usr/bin",
    }
    for key, value in expected.items():
        assert env.get(key) == value, key
    assert "INSTANCE_REINSTALL" not in env
    assert "SOME_LEAKY_VARIABLE" not in env and pathutils.ROOTDIR_ENV not in env
    logs = os.listdir(node.os_log_dir)
    assert len(logs) == 1 and logs[0].startswith("add-debootstrap-web1.example.com-")
    with open(os.path.join(node.os_log_dir, logs[0])) as handle:
        assert "created web1.example.com" in handle.read()
    os.unlink(os.path.join(os_dir, "env.dump"))
    inst_backend.instance_os_add(instance, True, 0)
    env = read_env(os.path.join(os_dir, "env.dump"))
    assert env["INSTANCE_REINSTALL"] == "1" and env["DEBUG_LEVEL"] == "0"


def test_variant_defaults_to_first_and_api15_has_no_osp(node):
    os_dir = write_os(node, "debootstrap", api="15\n", scripts={"create": DUMP_ENV,
                                                                 "verify": None},
                      parameters=None)
    instance = make_instance(node, os_name="debootstrap")
    inst_backend.instance_os_add(instance, False, 0)
    env = read_env(os.path.join(os_dir, "env.dump"))
    assert env["OS_API_VERSION"] == "15" and env["OS_VARIANT"] == "default"
    assert not [k for k in env if k.startswith("OSP_")]


def test_failing_create_reports_log_tail(node):
    write_os(node, "debootstrap", scripts={"create": FAILING})
    with pytest.raises(errors.OpExecError) as excinfo:
        inst_backend.instance_os_add(make_instance(node), False, 0)
    message = str(excinfo.value)
    assert "exited with code 3" in message
    assert "disk exploded" in message and "progress line 30" in message
    assert "progress line 5\n" not in message  # only the tail
    assert node.os_log_dir in message


def test_missing_disk_fails_before_running(node):
    os_dir = write_os(node, "debootstrap", scripts={"create": DUMP_ENV})
    instance = make_instance(node)
    os.unlink(instance["disks"][0]["logical_id"][1])
    with pytest.raises(errors.BlockDeviceError, match="not set up"):
        inst_backend.instance_os_add(instance, False, 0)
    assert not os.path.exists(os.path.join(os_dir, "env.dump"))


def test_rename_script_gets_old_name(node):
    os_dir = write_os(node, "debootstrap", scripts={"rename": DUMP_ENV})
    inst_backend.instance_run_rename(make_instance(node), "old.example.com", 0)
    env = read_env(os.path.join(os_dir, "env.dump"))
    assert env["OLD_INSTANCE_NAME"] == "old.example.com"
    assert env["INSTANCE_NAME"] == "web1.example.com"


def test_os_validate(node):
    write_os(node, "debootstrap", scripts={"verify": VERIFY})
    assert os_backend.os_validate(True, "debootstrap+alt", ["parameters"],
                                  {"dist": "bookworm"}, False) is True
    with pytest.raises(errors.InvalidOS, match="does not support the parameters colour"):
        os_backend.os_validate(True, "debootstrap+alt", ["parameters"], {"colour": "x"},
                               False)
    with pytest.raises(errors.OpExecError, match="bad dist"):
        os_backend.os_validate(True, "debootstrap+alt", ["parameters"], {"dist": "bad"},
                               False)
    with pytest.raises(errors.InvalidOS, match="must include a variant"):
        os_backend.os_validate(True, "debootstrap", [], {}, False)
    with pytest.raises(errors.InvalidOS, match="no variant 'sid'"):
        os_backend.os_validate(True, "debootstrap+sid", [], {}, False)
    assert os_backend.os_validate(True, "debootstrap+sid", [], {}, True) is True
    assert os_backend.os_validate(False, "absent", [], {}, False) is False
    with pytest.raises(errors.InvalidOS, match="not found"):
        os_backend.os_validate(True, "absent", [], {}, False)
    with pytest.raises(errors.OpExecError, match="Unknown OS validation checks"):
        os_backend.os_validate(True, "debootstrap+alt", ["everything"], {}, False)


def test_scripts_must_be_regular_files(node):
    os_dir = write_os(node, "weird", scripts={"export": None})
    os.mkdir(os.path.join(os_dir, "export"))
    row = diagnose_by_name(node)["weird"]
    assert row[2] is False and "script 'export' is not a regular file" in row[3]
    assert stat.S_ISDIR(os.stat(os.path.join(os_dir, "export")).st_mode)
