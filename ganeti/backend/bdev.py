"""Node side of the block device procedures (blockdev_*).

Disks arrive as full dictionaries (dev_type, logical_id, size, params,
children); ``ganeti.storage`` turns them into device objects. Devices with
children (mirrors) are handled children first, as Ganeti does.
"""

from __future__ import annotations

import contextlib
import logging
import os
from typing import Any

from ganeti import errors, pathutils, storage
from ganeti.storage.base import BlockDev

DiskDict = dict[str, Any]


def _device(disk: DiskDict) -> BlockDev:
    return storage.device_from_disk(disk, pathutils.current())


def _existing_device(disk: DiskDict) -> BlockDev | None:
    device = _device(disk)
    return device if device.exists() else None


def blockdev_create(disk: DiskDict, size: int, owner: str, on_primary: bool, info: str,
                    excl_stor: bool) -> str | None:
    """Create a disk's device (its children must exist); return its path."""
    for child in disk.get("children") or []:
        if _existing_device(child) is None:
            raise errors.BlockDeviceError("Cannot create disk %s for %s: its child %s does "
                                          "not exist" % (_describe(disk), owner,
                                                         _describe(child)))
    device = storage.create_device(disk, size, excl_stor, pathutils.current())
    try:
        if on_primary:
            device.assemble()
        if info:
            device.set_info(info)
    except errors.GenericError:
        logging.exception("Setting up new device %s failed; removing it", device)
        with contextlib.suppress(errors.GenericError):
            device.remove()
        raise
    return device.dev_path


def blockdev_remove(disk: DiskDict) -> None:
    """Remove a disk's device, then its children; missing ones are skipped."""
    failures = []
    for target in [disk, *(disk.get("children") or [])]:
        try:
            _device(target).remove()
        except errors.BlockDeviceError as err:
            failures.append(str(err))
    if failures:
        raise errors.BlockDeviceError("Cannot remove disk %s: %s"
                                      % (_describe(disk), "; ".join(failures)))


def disk_link_name(instance_name: str, idx: int) -> str:
    """Where an instance's disk ``idx`` is linked on this node."""
    return os.path.join(pathutils.current().instance_disks_dir, "%s:%d" % (instance_name, idx))


def link_disk(instance_name: str, idx: int, dev_path: str) -> str:
    """Point the instance's stable disk link at ``dev_path`` (atomically)."""
    paths = pathutils.current()
    os.makedirs(paths.instance_disks_dir, mode=0o750, exist_ok=True)
    link = disk_link_name(instance_name, idx)
    temporary = link + ".new"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)
    os.symlink(dev_path, temporary)
    os.replace(temporary, link)
    return link


def unlink_disks(instance_name: str, count: int) -> None:
    for idx in range(count):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(disk_link_name(instance_name, idx))


def blockdev_assemble(disk: DiskDict, instance_name: str, as_primary: bool,
                      idx: int) -> list[str | None]:
    """Make a disk usable; returns [path, uri or None] (the link on the primary)."""
    for child in disk.get("children") or []:
        blockdev_assemble(child, instance_name, as_primary, idx)
    device = _device(disk)
    device.assemble()
    path = device.dev_path
    if as_primary and path is not None:
        path = link_disk(instance_name, idx, path)
    return [path, device.user_space_uri()]


def blockdev_shutdown(disk: DiskDict) -> None:
    """Deactivate a disk's device, then its children."""
    _device(disk).shutdown()
    for child in disk.get("children") or []:
        blockdev_shutdown(child)


def blockdev_getsize(disks: list[DiskDict]) -> list[int | None]:
    """Each disk's size in bytes, None where the device does not exist."""
    sizes: list[int | None] = []
    for disk in disks:
        device = _existing_device(disk)
        sizes.append(None if device is None else device.get_actual_size())
    return sizes


def blockdev_grow(disk: DiskDict, amount: int, dryrun: bool, backingstore: bool,
                  excl_stor: bool) -> None:
    """Grow a disk by ``amount`` MiB (``dryrun``: only check it is possible)."""
    device = _device(disk)
    device.require_exists("grow")
    device.grow(amount, dryrun, backingstore, excl_stor)


def blockdev_find(disk: DiskDict) -> dict[str, Any] | None:
    """The device's status (dev_path, size, is_degraded, …), None if absent."""
    device = _existing_device(disk)
    return None if device is None else device.status()


def blockdev_rename(devlist: list[list[Any]]) -> None:
    """Rename each [disk, new logical_id]; every failure is reported together."""
    failures = []
    for disk, new_id in devlist:
        try:
            _device(disk).rename(new_id)
        except (errors.BlockDeviceError, errors.FileStoragePathError) as err:
            failures.append(str(err))
    if failures:
        raise errors.BlockDeviceError("Renaming failed for %d of %d devices: %s"
                                      % (len(failures), len(devlist), "; ".join(failures)))


def _device_path(disk: DiskDict, action: str) -> str:
    device = _existing_device(disk)
    path = device.dev_path if device is not None else None
    if not path:
        raise errors.BlockDeviceError("Cannot %s disk %s: its device does not exist or is"
                                      " not active" % (action, _describe(disk)))
    return path


def blockdev_read_chunk(disk: DiskDict, offset: int, length: int) -> str:
    """Up to ``length`` bytes of the disk's device from ``offset``, base64-encoded."""
    import base64

    with open(_device_path(disk, "read"), "rb") as handle:
        handle.seek(offset)
        return base64.b64encode(handle.read(length)).decode("ascii")


def blockdev_write_chunk(disk: DiskDict, offset: int, data: str) -> None:
    """Write base64-encoded ``data`` into the disk's device at ``offset``."""
    import base64

    with open(_device_path(disk, "write"), "r+b") as handle:
        handle.seek(offset)
        handle.write(base64.b64decode(data.encode("ascii"), validate=True))
        handle.flush()
        os.fsync(handle.fileno())


def _describe(disk: Any) -> str:
    if isinstance(disk, dict):
        return str(disk.get("iv_name") or disk.get("name") or disk.get("uuid")
                   or disk.get("logical_id"))
    return repr(disk)
