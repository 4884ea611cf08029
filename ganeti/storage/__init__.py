"""Disk templates on the node side: block devices and storage space.

``device_from_disk`` turns a disk dictionary as the master sends it (with
``dev_type``, ``logical_id``, ``size``, ``params`` and ``children``) into
the block device object of its template; ``get_space_info`` reports a
storage unit's size and free space for node_info.
"""

from __future__ import annotations

from typing import Any

from ganeti import constants, errors, ht, pathutils
from ganeti.storage import diskless, filestorage, plain
from ganeti.storage.base import BlockDev

#: Disk template (Ganeti's dev_type) -> block device class.
DEVICE_CLASSES: dict[str, type[BlockDev]] = {
    constants.DT_FILE: filestorage.FileDevice,
    constants.DT_SHARED_FILE: filestorage.SharedFileDevice,
    constants.DT_PLAIN: plain.LogicalVolume,
}

#: Disk template -> the storage type its space is reported under.
TEMPLATE_STORAGE_TYPES: dict[str, str] = {
    constants.DT_DISKLESS: constants.ST_DISKLESS,
    constants.DT_FILE: constants.ST_FILE,
    constants.DT_SHARED_FILE: constants.ST_SHARED_FILE,
    constants.DT_PLAIN: constants.ST_LVM_VG,
    constants.DT_DRBD8: constants.ST_LVM_VG,
    constants.DT_GLUSTER: constants.ST_GLUSTER,
    constants.DT_RBD: constants.ST_RADOS,
    constants.DT_EXT: constants.ST_EXT,
}


def device_class(dev_type: Any) -> type[BlockDev]:
    """The block device class of a template; BlockDeviceError if it has none here."""
    if dev_type == constants.DT_DISKLESS:
        raise diskless.refuse_device("use a disk")
    cls = DEVICE_CLASSES.get(dev_type)
    if cls is None:
        if dev_type in constants.DISK_TEMPLATES:
            raise errors.BlockDeviceError("Disk template %s is not supported on this node yet "
                                          "(supported: %s)"
                                          % (dev_type, ", ".join(sorted(DEVICE_CLASSES))))
        raise errors.BlockDeviceError("Unknown disk dev_type %r (known: %s)"
                                      % (dev_type, ", ".join(sorted(constants.DISK_TEMPLATES))))
    return cls


def _disk_field(disk: dict[str, Any], key: str, check: ht.Check) -> Any:
    value = disk.get(key)
    if not check(value):
        raise errors.BlockDeviceError("Disk %s: field '%s' must be %s, got %s"
                                      % (disk.get("iv_name") or disk.get("uuid") or "?", key,
                                         check.desc, ht.describe_value(value)))
    return value


def device_from_disk(disk: Any, paths: pathutils.Paths | None = None) -> BlockDev:
    """The block device object for a disk dictionary (children included)."""
    if not isinstance(disk, dict):
        raise errors.BlockDeviceError("A disk must be a dictionary, got %s"
                                      % ht.describe_value(disk))
    paths = paths if paths is not None else pathutils.current()
    cls = device_class(disk.get("dev_type"))
    logical_id = _disk_field(disk, "logical_id", ht.TList)
    size = _disk_field(disk, "size", ht.TNonNegativeInt)
    params = disk.get("params") or {}
    children = [device_from_disk(child, paths) for child in disk.get("children") or []]
    return cls(logical_id, children, size, params, paths)


def create_device(disk: dict[str, Any], size: int, excl_stor: bool,
                  paths: pathutils.Paths | None = None) -> BlockDev:
    """Create the device of ``disk`` (children must exist already)."""
    paths = paths if paths is not None else pathutils.current()
    template = device_from_disk(disk, paths)
    return type(template).create(template.unique_id, template.children, size,
                                 template.params, excl_stor, paths)


def get_space_info(storage_type: str, key: str, params: Any = None,
                   paths: pathutils.Paths | None = None) -> dict[str, Any]:
    """{type, name, storage_size, storage_free} of one storage unit (sizes in MiB).

    ``key`` is the volume group for lvm-vg, the directory for file and
    sharedfile; ``params`` carries type-specific options (unused so far).
    """
    paths = paths if paths is not None else pathutils.current()
    if storage_type == constants.ST_LVM_VG:
        size, free = plain.vg_space(key)
    elif storage_type in (constants.ST_FILE, constants.ST_SHARED_FILE):
        directory = filestorage.check_allowed_dir(key, paths, "Storage directory")
        space = filestorage.get_space_info(directory)
        size, free = space["storage_size"], space["storage_free"]
    elif storage_type == constants.ST_DISKLESS:
        return diskless.get_space_info(key)
    else:
        raise errors.BlockDeviceError("Cannot report space of storage type %r (supported: %s)"
                                      % (storage_type, ", ".join(sorted(
                                          [constants.ST_LVM_VG, constants.ST_FILE,
                                           constants.ST_SHARED_FILE, constants.ST_DISKLESS]))))
    return {"type": storage_type, "name": key, "storage_size": size, "storage_free": free}
