"""gnt-instance reinstall/rename/modify/migrate/failover/move/console on a real 3-node cluster."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest
from ops_cluster import (
    config,
    forget_env,
    gnt,
    instance_rows,
    node_names,
    ops_cluster_up,
    recorded_env,
)

from ganeti.tools.local_cluster import LocalCluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    yield from ops_cluster_up(tmp_path_factory)


_ADD = ("gnt-instance", "add", "--no-name-check", "--no-ip-check")


def _fake_state(cluster: LocalCluster, node: str, instance: str) -> bool:
    """Whether the fake hypervisor on ``node`` runs ``instance`` (its state file)."""
    paths = cluster.node(node.split(".")[0]).paths
    return os.path.exists(os.path.join(paths.hypervisor_state_dir("fake"),
                                       instance + ".running"))


def test_migrate_and_failover_with_sharedfile(cluster: LocalCluster) -> None:
    first, second, third = node_names(cluster)
    gnt(cluster, *_ADD, "-t", "sharedfile", "--disk", "0:size=16", "-o",
        "recorder+default", "-n", first, "mig1")
    assert instance_rows(cluster)["mig1"] == [first, "running"]
    assert _fake_state(cluster, first, "mig1")

    out = gnt(cluster, "gnt-instance", "migrate", "-f", "-n", second, "mig1").stdout
    assert "migrating instance to %s (live)" % second in out
    assert instance_rows(cluster)["mig1"] == [second, "running"]
    assert _fake_state(cluster, second, "mig1")
    assert not _fake_state(cluster, first, "mig1")
    # The shared disk follows the instance.
    disks = config(cluster)["disks"]
    node_uuids = {n["name"]: uuid for uuid, n in config(cluster)["nodes"].items()}
    assert [d["nodes"] for d in disks.values()] == [[node_uuids[second]]]

    # Failover without a target: the built-in allocator picks another node.
    out = gnt(cluster, "gnt-instance", "failover", "-f", "mig1").stdout
    pnode, status = instance_rows(cluster)["mig1"]
    assert pnode in (first, third) and status == "running"
    assert "shutting down instance mig1 on source node %s" % second in out
    assert _fake_state(cluster, pnode, "mig1")

    # Migrating to the node it is on, to an unknown node, a file instance: refused.
    refused = gnt(cluster, "gnt-instance", "migrate", "-f", "-n", pnode, "mig1", ok=False)
    assert "already on node" in refused.stderr
    refused = gnt(cluster, "gnt-instance", "migrate", "-f", "-n", "nosuchnode", "mig1", ok=False)
    assert "nosuchnode" in refused.stderr

    # A stopped instance is failed over when migration is asked with --allow-failover.
    gnt(cluster, "gnt-instance", "shutdown", "mig1")
    refused = gnt(cluster, "gnt-instance", "migrate", "-f", "-n", second, "mig1", ok=False)
    assert "not running" in refused.stderr and "--allow-failover" in refused.stderr
    gnt(cluster, "gnt-instance", "migrate", "-f", "--allow-failover", "-n", second, "mig1")
    assert instance_rows(cluster)["mig1"] == [second, "ADMIN_down"]
    gnt(cluster, "gnt-instance", "remove", "-f", "mig1")


def test_console_hands_off(cluster: LocalCluster) -> None:
    first = node_names(cluster)[0]
    gnt(cluster, *_ADD, "-t", "diskless", "-o", "recorder+default", "-n", first, "con1")
    out = gnt(cluster, "gnt-instance", "console", "--show-cmd", "con1").stdout
    assert "Console not available for fake hypervisor" in out
    gnt(cluster, "gnt-instance", "shutdown", "con1")
    refused = gnt(cluster, "gnt-instance", "console", "con1", ok=False)
    assert "not marked up" in refused.stderr
    gnt(cluster, "gnt-instance", "remove", "-f", "con1")


def test_modify_parameters_nics_disks_offline(cluster: LocalCluster) -> None:
    first = node_names(cluster)[0]
    gnt(cluster, *_ADD, "-t", "file", "--disk", "0:size=16", "-o", "recorder+default",
        "-n", first, "mod1")
    out = gnt(cluster, "gnt-instance", "modify", "-B", "maxmem=256,minmem=192",
              "-H", "migration_mode=non-live", "--net", "add:mac=auto", "mod1").stdout
    assert " - be/maxmem -> 256" in out and " - hv/migration_mode -> non-live" in out
    assert " - nic.1 -> add:mac=" in out
    rows = instance_rows(cluster, "name,be/maxmem,be/minmem,hv/migration_mode,nic.count")
    assert rows["mod1"] == ["256", "192", "non-live", "2"]
    out = gnt(cluster, "gnt-instance", "modify", "--disk", "add:size=8", "mod1").stdout
    assert " - disk/1 -> add:size=8,mode=rw" in out
    assert instance_rows(cluster, "name,disk.count,disk.size/1")["mod1"] == ["2", "8"]

    # Bad input changes nothing.
    before = config(cluster)["instances"]
    for argv, message in ((["-B", "minmem=512"], "minmem"),
                          (["-B", "vcpus=many"], "vcpus"),
                          (["--net", "7:remove"], "out of range"),
                          (["--disk", "0:remove"], "cannot remove a disk")):
        refused = gnt(cluster, "gnt-instance", "modify", *argv, "mod1", ok=False)
        assert message in refused.stderr, (argv, refused.stderr)
    assert config(cluster)["instances"] == before

    gnt(cluster, "gnt-instance", "shutdown", "mod1")
    out = gnt(cluster, "gnt-instance", "modify", "--disk", "1:remove", "--net",
              "1:remove", "mod1").stdout
    assert " - disk/1 -> remove" in out and " - nic.1 -> remove" in out
    assert instance_rows(cluster, "name,disk.count,nic.count")["mod1"] == ["1", "1"]
    gnt(cluster, "gnt-instance", "modify", "--offline", "mod1")
    assert instance_rows(cluster)["mod1"][1] == "ADMIN_offline"
    refused = gnt(cluster, "gnt-instance", "startup", "mod1", ok=False)
    assert "offline" in refused.stderr
    gnt(cluster, "gnt-instance", "modify", "--online", "mod1")
    assert instance_rows(cluster)["mod1"][1] == "ADMIN_down"
    gnt(cluster, "gnt-instance", "remove", "-f", "mod1")


def test_reinstall_parameters_and_rename(cluster: LocalCluster) -> None:
    first = node_names(cluster)[0]
    forget_env(cluster)
    gnt(cluster, *_ADD, "-t", "diskless", "-o", "recorder+default", "-n", first,
        "-O", "color=green", "--os-parameters-secret", "secret_key=hunter2", "--no-start",
        "re1")
    env = recorded_env(cluster, "create", "re1")
    assert env["OSP_COLOR"] == "green" and env["OSP_SECRET_KEY"] == "hunter2"
    assert env["INSTANCE_OS_PARAMETER_SECRET_KEY"] == "hunter2"
    assert "INSTANCE_REINSTALL" not in env or env["INSTANCE_REINSTALL"] != "1"

    # Bad parameters: refused, naming the parameter; nothing changes.
    for argv, message in ((["-O", "color=red"], "the color red is refused"),
                          (["-O", "color=bl;ue"], "OS parameter 'color'"),
                          (["-O", "colour=blue"], "does not support the parameters colour"),
                          (["-o", "nosuchos"], "nosuchos")):
        refused = gnt(cluster, "gnt-instance", "reinstall", "-f", *argv, "re1", ok=False)
        assert message in refused.stderr, (argv, refused.stderr)
    assert config(cluster)["instances"][_uuid(cluster, "re1")]["osparams"] == \
        {"color": "green"}

    forget_env(cluster)
    gnt(cluster, "gnt-instance", "reinstall", "-f", "-O", "color=yellow",
        "--os-parameters-secret", "secret_key=s3cr3t", "re1")
    env = recorded_env(cluster, "create", "re1")
    assert env["INSTANCE_REINSTALL"] == "1" and env["OSP_COLOR"] == "yellow"
    assert env["OSP_SECRET_KEY"] == "s3cr3t"
    stored = config(cluster)["instances"][_uuid(cluster, "re1")]
    assert stored["osparams"] == {"color": "yellow"}
    # Secrets are in no job file, no master log, nowhere in the configuration.
    paths = cluster.master.paths
    found = subprocess.run(["grep", "-rl", "-e", "hunter2", "-e", "s3cr3t", paths.queue_dir,
                            paths.log_dir, paths.config_file], capture_output=True, text=True)
    assert found.stdout == ""
    assert "secret_key" in open(paths.queue_dir + "/job-%s" % _last_job(paths.queue_dir)).read()

    # Another OS drops the old OS's parameters, unless asked to keep the known ones.
    gnt(cluster, "gnt-instance", "reinstall", "-f", "-o", "recorder2+default", "re1")
    stored = config(cluster)["instances"][_uuid(cluster, "re1")]
    assert stored["os"] == "recorder2+default" and stored.get("osparams", {}) == {}
    gnt(cluster, "gnt-instance", "reinstall", "-f", "-o", "recorder+default",
        "-O", "color=pink", "re1")
    gnt(cluster, "gnt-instance", "reinstall", "-f", "-o", "recorder2+default",
        "--keep-known-os-parameters", "re1")
    stored = config(cluster)["instances"][_uuid(cluster, "re1")]
    assert stored["osparams"] == {"color": "pink"}
    assert recorded_env(cluster, "create", "re1", "recorder2")["OSP_COLOR"] == "pink"

    # Rename runs the OS rename script with the old name.
    out = gnt(cluster, "gnt-instance", "rename", "--no-name-check", "re1", "re2").stdout
    assert "renamed to 're2'" in out
    env = recorded_env(cluster, "rename", "re2", "recorder2")
    assert env["OLD_INSTANCE_NAME"] == "re1" and env["INSTANCE_NAME"] == "re2"
    rows = instance_rows(cluster)
    assert "re2" in rows and "re1" not in rows
    gnt(cluster, *_ADD, "-t", "diskless", "-o", "recorder+default", "-n", first,
        "--no-start", "re3")
    refused = gnt(cluster, "gnt-instance", "rename", "--no-name-check", "re2", "re3",
                  ok=False)
    assert "re3" in refused.stderr and "exists" in refused.stderr
    gnt(cluster, "gnt-instance", "startup", "re3")
    refused = gnt(cluster, "gnt-instance", "reinstall", "-f", "re3", ok=False)
    assert "running" in refused.stderr or "up" in refused.stderr
    for name in ("re2", "re3"):
        gnt(cluster, "gnt-instance", "remove", "-f", name)


def test_move_file_instance_copies_the_bytes(cluster: LocalCluster) -> None:
    first, second, _third = node_names(cluster)
    gnt(cluster, *_ADD, "-t", "file", "--disk", "0:size=8", "-o", "recorder+default",
        "-n", first, "mv1")
    old_path = _disk_paths(cluster, "mv1")[0]
    payload = os.urandom(1 << 20)
    with open(old_path, "r+b") as handle:
        handle.seek(3 << 20)
        handle.write(payload)
    out = gnt(cluster, "gnt-instance", "move", "-f", "-n", second, "mv1").stdout
    assert "disk/0: 100% copied" in out
    assert instance_rows(cluster)["mv1"] == [second, "running"]
    new_path = _disk_paths(cluster, "mv1")[0]
    assert new_path != old_path and not os.path.exists(old_path)
    with open(new_path, "rb") as handle:
        handle.seek(3 << 20)
        assert handle.read(len(payload)) == payload
    refused = gnt(cluster, "gnt-instance", "move", "-f", "-n", second, "mv1", ok=False)
    assert "already on node" in refused.stderr
    gnt(cluster, "gnt-instance", "remove", "-f", "mv1")


def _uuid(cluster: LocalCluster, name: str) -> str:
    for uuid, inst in config(cluster)["instances"].items():
        if inst["name"] == name:
            return str(uuid)
    raise AssertionError("no instance %s" % name)


def _disk_paths(cluster: LocalCluster, name: str) -> list[str]:
    data = config(cluster)
    inst = data["instances"][_uuid(cluster, name)]
    return [data["disks"][uuid]["logical_id"][1] for uuid in inst["disks"]]


def _last_job(queue_dir: str) -> int:
    return max(int(entry.split("-")[1]) for entry in os.listdir(queue_dir)
               if entry.startswith("job-"))
