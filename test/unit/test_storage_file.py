"""File and sharedfile disks: images on disk, the path rules, the bdev procedures."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from ganeti import constants, errors, pathutils, ssconf, storage
from ganeti.backend import bdev
from ganeti.backend import storage as storage_backend
from ganeti.storage import filestorage

MIB = 1024 * 1024


@pytest.fixture
def node(tmp_path, monkeypatch) -> pathutils.Paths:
    """A node root with file storage configured and allowed."""
    root = tmp_path / "node"
    root.mkdir()
    monkeypatch.setenv(pathutils.ROOTDIR_ENV, str(root))
    paths = pathutils.for_root(str(root))
    os.makedirs(paths.default_file_storage_dir)
    os.makedirs(paths.default_shared_file_storage_dir)
    ssconf.write_files({"file_storage_dir": paths.default_file_storage_dir,
                        "shared_file_storage_dir": paths.default_shared_file_storage_dir},
                       paths)
    os.makedirs(paths.conf_dir)
    with open(paths.file_storage_paths_file, "w") as handle:
        handle.write("# allowed\n%s\n%s\n" % (paths.default_file_storage_dir,
                                              paths.default_shared_file_storage_dir))
    return paths


def file_disk(path: str, size: int = 16, fmt: str | None = None,
              template: str = constants.DT_FILE) -> dict:
    return {"uuid": "d1", "name": None, "dev_type": template,
            "logical_id": [constants.FD_LOOP, path], "size": size, "mode": "rw",
            "iv_name": "disk/0", "params": {"format": fmt} if fmt else {}, "children": []}


def qemu_img_info(path: str) -> dict:
    out = subprocess.run(["qemu-img", "info", "--output=json", path], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def image_path(paths: pathutils.Paths, name: str = "inst1/disk0.img") -> str:
    return os.path.join(paths.default_file_storage_dir, name)


def test_raw_create_is_sparse_and_sized(node):
    path = image_path(node)
    result = bdev.blockdev_create(file_disk(path, 64), 64, "inst1", True, "", False)
    assert result == path
    st = os.stat(path)
    assert st.st_size == 64 * MIB
    assert st.st_blocks * 512 < MIB  # sparse: nothing allocated yet
    assert qemu_img_info(path)["format"] == "raw"


def test_qcow2_create_grow_remove(node):
    path = image_path(node, "q.qcow2")
    disk = file_disk(path, 32, "qcow2")
    bdev.blockdev_create(disk, 32, "inst1", False, "", False)
    info = qemu_img_info(path)
    assert info["format"] == "qcow2"
    assert info["virtual-size"] == 32 * MIB
    assert bdev.blockdev_getsize([disk]) == [32 * MIB]
    bdev.blockdev_grow(disk, 16, False, True, False)
    assert qemu_img_info(path)["virtual-size"] == 48 * MIB
    bdev.blockdev_remove(disk)
    assert not os.path.exists(path)


def test_raw_grow_dryrun_and_layers(node):
    path = image_path(node)
    disk = file_disk(path, 10)
    bdev.blockdev_create(disk, 10, "inst1", False, "", False)
    bdev.blockdev_grow(disk, 5, True, True, False)  # dry run
    assert os.stat(path).st_size == 10 * MIB
    bdev.blockdev_grow(disk, 5, False, False, False)  # not the backing store: no-op
    assert os.stat(path).st_size == 10 * MIB
    bdev.blockdev_grow(disk, 5, False, True, False)
    assert os.stat(path).st_size == 15 * MIB
    assert bdev.blockdev_getsize([disk]) == [15 * MIB]


def test_remove_missing_is_fine_and_create_existing_fails(node):
    path = image_path(node)
    disk = file_disk(path, 8)
    bdev.blockdev_remove(disk)  # nothing there: no error
    bdev.blockdev_create(disk, 8, "inst1", False, "", False)
    with open(path, "r+b") as handle:
        handle.write(b"payload")
    with pytest.raises(errors.BlockDeviceError, match="already exists"):
        bdev.blockdev_create(disk, 4, "inst1", False, "", False)
    with open(path, "rb") as handle:
        assert handle.read(7) == b"payload"
    assert os.stat(path).st_size == 8 * MIB


def test_bad_format_and_size_refused(node):
    path = image_path(node)
    with pytest.raises(errors.BlockDeviceError, match="'format' must be one of raw, qcow2"):
        bdev.blockdev_create(file_disk(path, 8, "vmdk"), 8, "i", False, "", False)
    with pytest.raises(errors.BlockDeviceError, match="size must be a positive"):
        bdev.blockdev_create(file_disk(path, 0), 0, "i", False, "", False)
    assert not os.path.exists(path)


def test_dotdot_escape_refused(node, tmp_path):
    escape = node.default_file_storage_dir + "/../../../../escaped.img"
    with pytest.raises(errors.FileStoragePathError) as excinfo:
        bdev.blockdev_create(file_disk(escape), 16, "inst1", False, "", False)
    assert escape in str(excinfo.value)
    assert "outside" in str(excinfo.value)
    assert not os.path.exists(os.path.normpath(escape))


def test_symlinked_directory_escape_refused(node, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(str(outside), os.path.join(node.default_file_storage_dir, "link"))
    path = os.path.join(node.default_file_storage_dir, "link", "disk.img")
    with pytest.raises(errors.FileStoragePathError, match=r"link/disk\.img"):
        bdev.blockdev_create(file_disk(path), 16, "inst1", False, "", False)
    assert os.listdir(outside) == []


def test_symlinked_file_escape_refused_for_remove_and_grow(node, tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    link = os.path.join(node.default_file_storage_dir, "evil.img")
    os.symlink(str(victim), link)
    disk = file_disk(link)
    with pytest.raises(errors.FileStoragePathError):
        bdev.blockdev_remove(disk)
    with pytest.raises(errors.FileStoragePathError):
        bdev.blockdev_grow(disk, 10, False, True, False)
    assert victim.read_bytes() == b"keep me"


def test_relative_path_refused(node):
    with pytest.raises(errors.FileStoragePathError, match="not an absolute path"):
        bdev.blockdev_create(file_disk("inst1/disk0.img"), 16, "i", False, "", False)


def test_storage_dir_must_be_allowed(node):
    with open(node.file_storage_paths_file, "w") as handle:
        handle.write("/somewhere/else\n")
    path = image_path(node)
    with pytest.raises(errors.FileStoragePathError, match="not within the paths allowed"):
        bdev.blockdev_create(file_disk(path), 16, "i", False, "", False)
    with open(node.file_storage_paths_file, "w") as handle:
        handle.write("/\n/usr\nrelative/dir\n")
    with pytest.raises(errors.FileStoragePathError, match=r"ignored.*/, /usr, relative/dir"):
        bdev.blockdev_create(file_disk(path), 16, "i", False, "", False)
    os.unlink(node.file_storage_paths_file)
    with pytest.raises(errors.FileStoragePathError, match="No file storage paths are allowed"):
        bdev.blockdev_create(file_disk(path), 16, "i", False, "", False)
    assert not os.path.exists(path)


def test_missing_ssconf_is_reported(node):
    os.unlink(node.ssconf_file("file_storage_dir"))
    with pytest.raises(errors.FileStoragePathError, match="file_storage_dir"):
        bdev.blockdev_create(file_disk(image_path(node)), 16, "i", False, "", False)


def test_sharedfile_uses_its_own_directory(node):
    shared = os.path.join(node.default_shared_file_storage_dir, "disk.img")
    disk = file_disk(shared, 8, template=constants.DT_SHARED_FILE)
    bdev.blockdev_create(disk, 8, "inst1", False, "", False)
    assert os.stat(shared).st_size == 8 * MIB
    in_file_dir = file_disk(image_path(node), 8, template=constants.DT_SHARED_FILE)
    with pytest.raises(errors.FileStoragePathError, match="sharedfile storage directory"):
        bdev.blockdev_create(in_file_dir, 8, "inst1", False, "", False)


def test_find_assemble_shutdown_rename(node):
    path = image_path(node)
    disk = file_disk(path, 8)
    assert bdev.blockdev_find(disk) is None
    assert bdev.blockdev_getsize([disk]) == [None]
    bdev.blockdev_create(disk, 8, "inst1", False, "", False)
    status = bdev.blockdev_find(disk)
    assert status is not None
    assert status["dev_path"] == path and status["size"] == 8 * MIB
    assert status["is_degraded"] is False
    link, uri = bdev.blockdev_assemble(disk, "inst1", True, 0)
    assert uri is None
    assert link == os.path.join(node.instance_disks_dir, "inst1:0")
    assert os.readlink(link) == path
    bdev.blockdev_shutdown(disk)
    new_path = image_path(node, "inst1/renamed.img")
    bdev.blockdev_rename([[disk, [constants.FD_LOOP, new_path]]])
    assert os.path.exists(new_path) and not os.path.exists(path)
    escape = node.default_file_storage_dir + "/../x.img"
    renamed = file_disk(new_path, 8)
    with pytest.raises(errors.BlockDeviceError, match="outside"):
        bdev.blockdev_rename([[renamed, [constants.FD_LOOP, escape]]])
    assert os.path.exists(new_path)


def test_bad_disk_dicts(node):
    with pytest.raises(errors.BlockDeviceError, match="logical_id"):
        bdev.blockdev_find({"dev_type": constants.DT_FILE, "logical_id": "x", "size": 1})
    bad_driver = file_disk(image_path(node))
    bad_driver["logical_id"][0] = "floppy"
    with pytest.raises(errors.BlockDeviceError, match="driver one of"):
        bdev.blockdev_create(bad_driver, 1, "i", False, "", False)
    with pytest.raises(errors.BlockDeviceError, match="no block devices"):
        bdev.blockdev_find({"dev_type": constants.DT_DISKLESS, "logical_id": [], "size": 0})
    with pytest.raises(errors.BlockDeviceError, match="Unknown disk dev_type"):
        bdev.blockdev_find({"dev_type": "tape", "logical_id": [], "size": 0})


def test_space_info_and_storage_list(node):
    bdev.blockdev_create(file_disk(image_path(node), 4), 4, "i", False, "", False)
    with open(image_path(node), "r+b") as handle:
        handle.write(os.urandom(2 * MIB))  # incompressible: really allocated
    info = storage.get_space_info(constants.ST_FILE, node.default_file_storage_dir)
    assert info["type"] == constants.ST_FILE
    assert info["storage_size"] > 0 and 0 <= info["storage_free"] <= info["storage_size"]
    rows = storage_backend.storage_list(constants.ST_FILE, [], None,
                                        ["name", "used", "allocatable"])
    assert len(rows) == 1
    assert rows[0][0] == node.default_file_storage_dir and rows[0][2] is True
    assert 2 <= rows[0][1] <= 4  # MiB allocated by the 2 MiB written
    with pytest.raises(errors.OpExecError, match="Unknown fields bogus"):
        storage_backend.storage_list(constants.ST_FILE, [], None, ["bogus"])
    with pytest.raises(errors.FileStoragePathError):
        storage_backend.storage_list(constants.ST_FILE, [["/etc"]], None, ["name"])
    assert storage.get_space_info(constants.ST_DISKLESS, "x")["storage_size"] == 0


def test_check_file_path_resolves(node):
    inside = node.default_file_storage_dir + "/a/../b.img"
    assert filestorage.check_file_path(inside, constants.DT_FILE, node) == \
        os.path.join(os.path.realpath(node.default_file_storage_dir), "b.img")
    with pytest.raises(errors.FileStoragePathError):
        filestorage.check_file_path(node.default_file_storage_dir, constants.DT_FILE, node)


def test_instance_directory_goes_with_its_last_image(node):
    first, second = image_path(node, "inst1/disk0.img"), image_path(node, "inst1/disk1.img")
    for path in (first, second):
        bdev.blockdev_create(file_disk(path, 4), 4, "inst1", False, "", False)
    bdev.blockdev_remove(file_disk(first, 4))
    assert os.path.isfile(second)  # the other disk keeps the directory
    bdev.blockdev_remove(file_disk(second, 4))
    assert not os.path.exists(os.path.dirname(first))
    assert os.path.isdir(node.default_file_storage_dir)
    # An image directly in the storage directory never takes the directory with it.
    top = image_path(node, "top.img")
    bdev.blockdev_create(file_disk(top, 4), 4, "inst1", False, "", False)
    bdev.blockdev_remove(file_disk(top, 4))
    assert os.path.isdir(node.default_file_storage_dir)


def test_rename_to_another_directory_drops_the_empty_old_one(node):
    path = image_path(node, "old.example.com/disk0.img")
    bdev.blockdev_create(file_disk(path, 4), 4, "old", False, "", False)
    new_path = image_path(node, "new.example.com/disk0.img")
    bdev.blockdev_rename([[file_disk(path, 4), [constants.FD_LOOP, new_path]]])
    assert os.path.isfile(new_path)
    assert not os.path.exists(os.path.dirname(path))
