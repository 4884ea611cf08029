"""gnt-instance core lifecycle on a real 3-node local cluster (fake hypervisor).

add (diskless, file; --no-start, --no-install) → list/info → stop/start/reboot →
grow-disk → activate/deactivate-disks → recreate-disks → remove; the OS scripts'
exact environment; rollback of a failed create; bad input refused with nothing
created; Debian's ganeti-os-noop; tags.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from instance_cluster import DEBIAN_NOOP_DIR, Gnt, running_instance_cluster

ADD = ("gnt-instance", "add", "--no-name-check", "--no-ip-check")
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def gnt() -> Iterator[Gnt]:
    with running_instance_cluster() as cluster:
        yield cluster


def _fake_running(gnt: Gnt, which: int, name: str) -> bool:
    return os.path.exists(os.path.join(gnt.fake_state_dir(which), name + ".running"))


def test_file_instance_lifecycle(gnt: Gnt) -> None:
    name = "life.example.com"
    gnt(*ADD, "-t", "file", "--disk", "0:size=64m", "-o", "recorder+default",
        "-n", gnt.node_name(2), name)
    assert gnt.instances()[name] == {"status": "running", "admin_state": "up",
                                     "pnode": gnt.node_name(2)}
    assert _fake_running(gnt, 2, name)
    (image,) = gnt.files_of(name)
    assert os.path.getsize(image) == 64 * MIB
    with open(image, "rb") as handle:  # the create script wrote its marker
        assert handle.read(40).startswith(b"installed recorder for %s" % name.encode())

    info = gnt("gnt-instance", "info", "life").stdout  # a short name is enough
    assert "Instance name: %s" % name in info
    assert "State: configured to be up, actual state is up" in info
    assert "primary: %s" % gnt.node_name(2) in info and image in info

    gnt("gnt-instance", "shutdown", name)
    assert gnt.instances()[name]["status"] == "ADMIN_down"
    assert not _fake_running(gnt, 2, name)
    gnt("gnt-instance", "startup", name)
    assert gnt.instances()[name]["status"] == "running"
    for reboot_type in ("soft", "hard", "full"):
        gnt("gnt-instance", "reboot", "-t", reboot_type, name)
        assert gnt.instances()[name]["status"] == "running"
        assert _fake_running(gnt, 2, name)

    gnt("gnt-instance", "grow-disk", name, "0", "32m")
    assert os.path.getsize(image) == 96 * MIB
    assert gnt.rows("gnt-instance", "list", "-o", "disk.size/0,disk_usage", name) == \
        [["96", "96"]]
    gnt("gnt-instance", "grow-disk", "--absolute", name, "0", "128m")
    assert os.path.getsize(image) == 128 * MIB
    assert "cannot shrink" in gnt.fails("gnt-instance", "grow-disk", "--absolute", name,
                                        "0", "64m")
    assert os.path.getsize(image) == 128 * MIB

    assert "is running" in gnt.fails("gnt-instance", "deactivate-disks", name)
    gnt("gnt-instance", "stop", name)
    gnt("gnt-instance", "deactivate-disks", name)
    assert gnt.rows("gnt-instance", "list", "-o", "disks_active", name) == [["N"]]
    out = gnt("gnt-instance", "activate-disks", name).stdout.strip()
    node, iv_name, path = out.split(":", 2)
    assert (node, iv_name) == (gnt.node_name(2), "disk/0")
    assert os.path.realpath(path) == os.path.realpath(image)
    assert gnt.rows("gnt-instance", "list", "-o", "disks_active", name) == [["Y"]]
    gnt("gnt-instance", "deactivate-disks", name)

    os.unlink(image)  # lost: recreate-disks makes it again, at its recorded size
    gnt("gnt-instance", "recreate-disks", name)
    assert os.path.getsize(image) == 128 * MIB

    gnt("gnt-instance", "remove", "-f", name)
    assert name not in gnt.instances()
    assert gnt.files_of(name) == []
    assert name not in str(gnt.config()["instances"])
    # The name (and its lock) are free again.
    gnt(*ADD, "-t", "diskless", "-o", "v10", "--no-start", "-n", gnt.node_name(3), name)
    gnt("gnt-instance", "remove", "-f", name)


def test_no_start_and_no_install(gnt: Gnt) -> None:
    gnt(*ADD, "-t", "diskless", "-o", "recorder+large", "--no-start", "-n",
        gnt.node_name(1), "nostart.example.com")
    assert gnt.instances()["nostart.example.com"]["status"] == "ADMIN_down"
    assert gnt.recorded_env(1, "recorder", "create", "nostart.example.com")["OS_VARIANT"] \
        == "large"
    gnt(*ADD, "-t", "file", "-s", "16m", "-o", "recorder+default", "--no-install", "-n",
        gnt.node_name(3), "noinstall.example.com")
    assert gnt.instances()["noinstall.example.com"]["status"] == "ADMIN_down"
    assert not os.path.exists(os.path.join(gnt.os_records(3, "recorder"),
                                           "create-noinstall.example.com.env"))
    (image,) = gnt.files_of("noinstall.example.com")
    with open(image, "rb") as handle:
        assert handle.read(16) == b"\0" * 16  # nothing installed
    gnt("gnt-instance", "start", "noinstall.example.com")
    assert gnt.instances()["noinstall.example.com"]["status"] == "running"
    for name in ("nostart.example.com", "noinstall.example.com"):
        gnt("gnt-instance", "remove", "-f", name)


def test_os_scripts_get_the_exact_environment(gnt: Gnt) -> None:
    name = "env.example.com"
    gnt(*ADD, "-t", "file", "--disk", "0:size=32m,name=root", "-o", "recorder+small",
        "-O", "answer=42,flavour=mint", "--net", "0:name=eth0,ip=192.0.2.10,link=br9",
        "-B", "maxmem=64,minmem=32,vcpus=2", "-n", gnt.node_name(3), name)
    env = gnt.recorded_env(3, "recorder", "create", name)
    (image,) = gnt.files_of(name)
    uuid, mac, nic_uuid, disk_uuid = gnt.rows(
        "gnt-instance", "list", "-o", "uuid,nic.mac/0,nic.uuid/0,disk.uuid/0", name)[0]
    expected = {
        "OS_API_VERSION": "20", "OS_NAME": "recorder", "OS_VARIANT": "small",
        "INSTANCE_OS": "recorder+small", "DEBUG_LEVEL": "0",
        "PATH": "/sbin:/bin:/usr/sbin:/usr/bin",
        "INSTANCE_NAME": name, "INSTANCE_UUID": uuid,
        "INSTANCE_PRIMARY_NODE": gnt.node_name(3), "INSTANCE_SECONDARY_NODES": "",
        "HYPERVISOR": "fake", "INSTANCE_HYPERVISOR": "fake",
        "OSP_ANSWER": "42", "OSP_FLAVOUR": "mint",
        "INSTANCE_OS_PARAMETER_ANSWER": "42", "INSTANCE_OS_PARAMETER_FLAVOUR": "mint",
        "DISK_COUNT": "1", "DISK_0_PATH": image, "DISK_0_ACCESS": "rw",
        "DISK_0_SIZE": "32", "DISK_0_NAME": "root", "DISK_0_UUID": disk_uuid,
        "DISK_0_BACKEND_TYPE": "file:loop",
        "NIC_COUNT": "1", "NIC_0_MAC": mac, "NIC_0_IP": "192.0.2.10", "NIC_0_NAME": "eth0",
        "NIC_0_UUID": nic_uuid, "NIC_0_MODE": "bridged", "NIC_0_LINK": "br9",
        "NIC_0_BRIDGE": "br9",
        "INSTANCE_BE_maxmem": "64", "INSTANCE_BE_minmem": "32", "INSTANCE_BE_vcpus": "2",
        "INSTANCE_BE_auto_balance": "True", "INSTANCE_BE_always_failover": "False",
        "INSTANCE_BE_spindle_use": "1", "INSTANCE_HV_migration_mode": "live",
    }
    for key, value in expected.items():
        assert env.get(key) == value, key
    # Exactly these, plus the timestamps and what the shell itself adds.
    assert set(env) - {"INSTANCE_CTIME", "INSTANCE_MTIME", "PWD", "SHLVL", "_"} == \
        set(expected)
    assert float(env["INSTANCE_CTIME"]) > 0
    gnt("gnt-instance", "remove", "-f", name)

    # API 10: no variant, no OS parameters; API 15: the variant.
    gnt(*ADD, "-t", "diskless", "-o", "v10", "-n", gnt.node_name(1), "v10.example.com")
    env10 = gnt.recorded_env(1, "v10", "create", "v10.example.com")
    assert (env10["OS_API_VERSION"], env10["OS_VARIANT"]) == ("10", "")
    assert not [key for key in env10 if key.startswith(("OSP_", "INSTANCE_OS_PARAMETER_"))]
    gnt(*ADD, "-t", "diskless", "-o", "v15+other", "-n", gnt.node_name(1),
        "v15.example.com")
    env15 = gnt.recorded_env(1, "v15", "create", "v15.example.com")
    assert (env15["OS_API_VERSION"], env15["OS_VARIANT"], env15["INSTANCE_OS"]) == \
        ("15", "other", "v15+other")
    for name in ("v10.example.com", "v15.example.com"):
        gnt("gnt-instance", "remove", "-f", name)


def test_failed_create_removes_everything(gnt: Gnt) -> None:
    name = "broken.example.com"
    before = gnt.config()
    out = gnt.fails(*ADD, "-t", "file", "--disk", "0:size=16m", "--disk", "1:size=8m",
                    "-o", "failing", "-n", gnt.node_name(2), name)
    assert "simulated install error" in out  # the tail of the script's log
    assert gnt.files_of(name) == []
    assert name not in gnt.instances()
    after = gnt.config()
    assert name not in str(after["instances"])
    assert set(after["disks"]) == set(before["disks"])
    # The name is free: the same name installs with a working OS.
    gnt(*ADD, "-t", "file", "--disk", "0:size=16m", "-o", "recorder+default", "-n",
        gnt.node_name(2), name)
    gnt("gnt-instance", "remove", "-f", name)


@pytest.mark.parametrize(("args", "message"), [
    (("-t", "diskless", "-o", "nosuchos"), "nosuchos"),
    (("-t", "diskless", "-o", "recorder+huge"), "no variant 'huge'"),
    (("-t", "diskless", "-o", "recorder"), "must include a variant"),
    (("-t", "diskless", "-o", "recorder+small", "-O", "answer=4;2"), "'answer'"),
    (("-t", "diskless", "-o", "recorder+small", "-O", "flavour=$(reboot)"), "'flavour'"),
    (("-t", "diskless", "-o", "recorder+small", "-O", "nosuch=1"), "nosuch"),
    (("-t", "diskless", "-o", "params", "-O", "colour=red"), "colour red is not allowed"),
    (("-t", "diskless", "-o", "v10", "-n", "nosuchnode"), "nosuchnode"),
    (("-t", "file", "--disk", "size=1g", "-o", "v10"), "numeric index"),
    (("-t", "file", "--disk", "0:size=lots", "-o", "v10"), "size"),
    (("-t", "file", "--disk", "1:size=1g", "-o", "v10"), "without gaps"),
    (("-t", "file", "--disk", "0:mode=rw", "-o", "v10"), "missing size"),
    (("-t", "file", "-o", "v10"), "needs disks"),
    (("-t", "diskless", "--disk", "0:size=1g", "-o", "v10"), "diskless takes no"),
    (("-t", "diskless", "--net", "0:mode=weird", "-o", "v10"), "invalid mode 'weird'"),
    (("-t", "diskless", "--net", "0:mac=zz", "-o", "v10"), "invalid MAC address 'zz'"),
    (("-t", "diskless", "--net", "0:ip=300.1.1.1", "-o", "v10"), "invalid IP address"),
    (("-t", "diskless", "--net", "0:colour=blue", "-o", "v10"), "unknown key(s) colour"),
    (("-t", "diskless", "-o", "v10", "-B", "maxmem=100000000,minmem=100000000"),
     "Not enough memory on node"),
    (("-t", "plain", "--disk", "0:size=1g", "-o", "v10"), "not enabled"),
])
def test_bad_input_creates_nothing(gnt: Gnt, args: tuple[str, ...],
                                   message: str) -> None:
    name = "refused.example.com"
    if "-n" not in args:
        args = (*args, "-n", gnt.node_name(2))
    before = gnt.config()
    out = gnt.fails(*ADD, *args, name)
    assert message in out
    assert name not in gnt.instances()
    assert gnt.files_of(name) == []
    after = gnt.config()
    assert after["instances"] == before["instances"]
    assert after["disks"] == before["disks"]


def test_duplicate_name_is_refused(gnt: Gnt) -> None:
    name = "twice.example.com"
    gnt(*ADD, "-t", "diskless", "-o", "v10", "--no-start", "-n", gnt.node_name(1), name)
    uuid = gnt.rows("gnt-instance", "list", "-o", "uuid", name)[0][0]
    assert "already exists" in gnt.fails(*ADD, "-t", "diskless", "-o", "v10", "-n",
                                         gnt.node_name(2), name)
    assert gnt.rows("gnt-instance", "list", "-o", "uuid,pnode", name) == \
        [[uuid, gnt.node_name(1)]]
    gnt("gnt-instance", "remove", "-f", name)


def test_debian_noop_os_installs_an_instance(gnt: Gnt) -> None:
    if not os.path.isdir(DEBIAN_NOOP_DIR):
        pytest.skip("Debian's ganeti-os-noop is not installed (apt-get install ganeti-os-noop)")
    gnt(*ADD, "-t", "file", "-s", "16m", "-o", "noop", "-n", gnt.node_name(2),
        "noop.example.com")
    assert gnt.instances()["noop.example.com"]["status"] == "running"
    assert gnt.rows("gnt-instance", "list", "-o", "os", "noop.example.com") == [["noop"]]
    gnt("gnt-instance", "remove", "-f", "noop.example.com")


def test_instance_tags(gnt: Gnt) -> None:
    name = "tagged.example.com"
    gnt(*ADD, "-t", "diskless", "-o", "v10", "--no-start", "--tags", "web,prod", "-n",
        gnt.node_name(1), name)
    gnt("gnt-instance", "add-tags", name, "blue")
    assert gnt("gnt-instance", "list-tags", name).stdout.split() == ["blue", "prod", "web"]
    gnt("gnt-instance", "remove-tags", name, "prod")
    (tags,) = gnt.rows("gnt-instance", "list", "-o", "tags", name)[0]
    assert sorted(tags.split(",")) == ["blue", "web"]
    gnt("gnt-instance", "remove", "-f", name)


def test_instance_hooks_get_the_instance_variables(gnt: Gnt) -> None:
    records = []
    for which in (1, 2):
        paths = gnt.paths(which)
        record = os.path.join(paths.root, "hook-env")
        records.append(record)
        for phase in ("pre", "post"):
            hook_dir = paths.hooks_dir("instance-add", phase)
            os.makedirs(hook_dir, exist_ok=True)
            script = os.path.join(hook_dir, "record")
            with open(script, "w", encoding="utf-8") as handle:
                handle.write("#!/bin/sh\nenv | LC_ALL=C sort > '%s-%s'\n" % (record, phase))
            os.chmod(script, 0o755)
    name = "hooked.example.com"
    try:
        gnt(*ADD, "-t", "file", "--disk", "0:size=8m", "-o", "v10", "-B", "maxmem=96",
            "--net", "0:mode=routed,link=rt1", "-n", gnt.node_name(2), name)
    finally:
        for which in (1, 2):
            for phase in ("pre", "post"):
                os.unlink(os.path.join(gnt.paths(which).hooks_dir("instance-add", phase),
                                       "record"))
    for record in records:  # master and primary, both phases
        for phase in ("pre", "post"):
            with open("%s-%s" % (record, phase), encoding="utf-8") as handle:
                env = dict(line.rstrip("\n").split("=", 1) for line in handle if "=" in line)
            assert env["GANETI_HOOKS_PHASE"] == phase
            assert env["GANETI_OBJECT_TYPE"] == "INSTANCE"
            for key, value in {"INSTANCE_NAME": name, "INSTANCE_PRIMARY": gnt.node_name(2),
                               "INSTANCE_OS_TYPE": "v10", "INSTANCE_DISK_TEMPLATE": "file",
                               "INSTANCE_MAXMEM": "96", "INSTANCE_MEMORY": "96",
                               "INSTANCE_HYPERVISOR": "fake", "INSTANCE_NIC_COUNT": "1",
                               "INSTANCE_NIC0_MODE": "routed", "INSTANCE_NIC0_LINK": "rt1",
                               "INSTANCE_DISK_COUNT": "1", "INSTANCE_DISK0_SIZE": "8",
                               "ADD_MODE": "create",
                               # Parameter names keep their case, as in Ganeti.
                               "INSTANCE_BE_maxmem": "96",
                               "INSTANCE_HV_migration_mode": "live",
                               "OP_TARGET": name}.items():
                assert env["GANETI_" + key] == value, key
    gnt("gnt-instance", "remove", "-f", name)


def test_allocator_chooses_the_node(gnt: Gnt) -> None:
    name = "placed.example.com"
    gnt(*ADD, "-t", "diskless", "-o", "v10", "-I", ".", "-B", "maxmem=32", name)
    row = gnt.instances()[name]
    assert row["status"] == "running"
    assert row["pnode"] in {gnt.node_name(i) for i in (1, 2, 3)}
    # No node has the memory: refused (the allocator's wording is its tests' business).
    gnt.fails(*ADD, "-t", "diskless", "-o", "v10", "-I", ".", "-B", "maxmem=100000000",
              "toobig.example.com")
    assert "toobig.example.com" not in gnt.instances()
    gnt("gnt-instance", "remove", "-f", name)
