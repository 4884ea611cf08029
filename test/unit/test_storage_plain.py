"""The plain (LVM) template against the real lvm2 commands.

A volume group is built on a loop device when this machine allows it (root,
losetup, pvcreate). Where the kernel has no device-mapper (as in many
containers) volumes cannot be created or activated, and the template must
say exactly that before touching LVM; with device-mapper the full life
cycle is checked instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from ganeti import constants, errors, pathutils, storage
from ganeti.backend import bdev
from ganeti.backend import storage as storage_backend
from ganeti.storage import plain

MIB = 1024 * 1024
_LVM_ENV = dict(os.environ, LVM_SUPPRESS_FD_WARNINGS="1")


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True, env=_LVM_ENV,
                          check=False)


@pytest.fixture
def node(tmp_path, monkeypatch) -> pathutils.Paths:
    monkeypatch.setenv(pathutils.ROOTDIR_ENV, str(tmp_path))
    return pathutils.for_root(str(tmp_path))


@pytest.fixture
def volume_group(tmp_path) -> Iterator[str]:
    """A 64 MiB volume group on a loop device, removed afterwards."""
    if os.geteuid() != 0 or not shutil.which("losetup") or not shutil.which("vgcreate"):
        pytest.skip("needs root, losetup and lvm2 to build a volume group")
    backing = tmp_path / "pv.img"
    with open(backing, "wb") as handle:
        handle.truncate(64 * MIB)
    attach = _run("losetup", "--find", "--show", str(backing))
    if attach.returncode != 0:
        pytest.skip("no loop device available: %s" % attach.stderr.strip())
    loop = attach.stdout.strip()
    vg_name = "gnttest_%s" % uuid.uuid4().hex[:8]
    try:
        for argv in (("pvcreate", "-q", loop), ("vgcreate", "-q", vg_name, loop)):
            result = _run(*argv)
            if result.returncode != 0:
                pytest.skip("cannot build a test volume group (%s): %s"
                            % (argv[0], result.stderr.strip()))
        yield vg_name
    finally:
        _run("vgremove", "-f", vg_name)
        _run("pvremove", "-q", loop)
        _run("losetup", "-d", loop)


def lv_disk(vg: str, lv: str, size: int = 8) -> dict:
    return {"uuid": "d1", "dev_type": constants.DT_PLAIN, "logical_id": [vg, lv],
            "size": size, "mode": "rw", "iv_name": "disk/0", "params": {}, "children": []}


def lv_names(vg: str) -> list[str]:
    out = _run("lvs", "--noheadings", "-o", "lv_name", vg)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_device_mapper_detection_is_explicit(monkeypatch):
    plain.device_mapper_problem.cache_clear()
    monkeypatch.setattr(plain, "_DM_CONTROL", "/nonexistent/mapper/control")
    try:
        problem = plain.device_mapper_problem()
        assert problem is not None and "/nonexistent/mapper/control does not exist" in problem
        with pytest.raises(errors.BlockDeviceError) as excinfo:
            plain.require_device_mapper("activate logical volume xenvg/disk0")
        message = str(excinfo.value)
        assert "Cannot activate logical volume xenvg/disk0" in message
        assert "device-mapper is not available" in message
    finally:
        plain.device_mapper_problem.cache_clear()


def test_detection_matches_this_machine():
    has_control = os.path.exists("/dev/mapper/control")
    dmsetup = _run("dmsetup", "version") if shutil.which("dmsetup") else None
    works = has_control and dmsetup is not None and dmsetup.returncode == 0
    assert (plain.device_mapper_problem() is None) == works


def test_bad_names_refused(node):
    with pytest.raises(errors.BlockDeviceError, match="Invalid LVM logical volume name"):
        bdev.blockdev_find(lv_disk("xenvg", "-rf"))
    with pytest.raises(errors.BlockDeviceError, match="Invalid LVM volume group name"):
        bdev.blockdev_find(lv_disk("../etc", "disk0"))
    with pytest.raises(errors.BlockDeviceError, match="expected \\[vg, lv_name\\]"):
        bdev.blockdev_find({"dev_type": constants.DT_PLAIN, "logical_id": ["xenvg"],
                            "size": 1})


def test_space_and_listing(node, volume_group):
    info = storage.get_space_info(constants.ST_LVM_VG, volume_group)
    assert info["type"] == constants.ST_LVM_VG and info["name"] == volume_group
    # 64 MiB minus LVM metadata, in 4 MiB extents
    assert 48 <= info["storage_size"] <= 64
    assert info["storage_free"] == info["storage_size"]
    rows = storage_backend.storage_list(constants.ST_LVM_VG, [], volume_group,
                                        ["name", "size", "free", "used", "allocatable"])
    assert rows == [[volume_group, info["storage_size"], info["storage_free"], 0, True]]
    pv_rows = storage_backend.storage_list(constants.ST_LVM_PV, [], None, ["vg", "size"])
    assert [volume_group, info["storage_size"]] in pv_rows
    with pytest.raises(errors.BlockDeviceError, match="read volume group"):
        storage.get_space_info(constants.ST_LVM_VG, volume_group + "_missing")


@pytest.mark.skipif(plain.device_mapper_problem() is None,
                    reason="device-mapper works here; the life cycle test covers plain")
def test_create_without_device_mapper_fails_clearly(node, volume_group):
    disk = lv_disk(volume_group, "disk0")
    with pytest.raises(errors.BlockDeviceError) as excinfo:
        bdev.blockdev_create(disk, 8, "inst1", True, "inst1", False)
    message = str(excinfo.value)
    assert "Cannot create logical volume %s/disk0" % volume_group in message
    assert "device-mapper is not available" in message
    assert lv_names(volume_group) == []  # nothing was attempted
    assert bdev.blockdev_find(disk) is None
    assert bdev.blockdev_getsize([disk]) == [None]
    bdev.blockdev_remove(disk)  # removing a missing volume is fine
    with pytest.raises(errors.BlockDeviceError, match="device-mapper is not available"):
        bdev.blockdev_assemble(disk, "inst1", True, 0)


@pytest.mark.skipif(plain.device_mapper_problem() is not None,
                    reason="no device-mapper: logical volumes cannot be created here")
def test_life_cycle_with_device_mapper(node, volume_group):
    disk = lv_disk(volume_group, "disk0", 8)
    path = bdev.blockdev_create(disk, 8, "inst1", True, "inst1", False)
    assert path == "/dev/%s/disk0" % volume_group
    assert lv_names(volume_group) == ["disk0"]
    assert bdev.blockdev_getsize([disk]) == [8 * MIB]
    bdev.blockdev_grow(disk, 4, False, True, False)
    assert bdev.blockdev_getsize([disk]) == [12 * MIB]
    with pytest.raises(errors.BlockDeviceError, match="MiB free"):
        bdev.blockdev_grow(disk, 1024, True, True, False)
    bdev.blockdev_rename([[disk, [volume_group, "disk0_renamed"]]])
    assert lv_names(volume_group) == ["disk0_renamed"]
    renamed = lv_disk(volume_group, "disk0_renamed")
    bdev.blockdev_remove(renamed)
    assert lv_names(volume_group) == []
