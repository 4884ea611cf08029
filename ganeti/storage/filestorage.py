"""The ``file`` and ``sharedfile`` templates: disk images in a directory.

An image is a raw sparse file or a qcow2 file (made by ``qemu-img``),
chosen by the disk parameter ``format``. Images may only live below the
cluster's storage directory for the template (ssconf ``file_storage_dir``
or ``shared_file_storage_dir``), and that directory must itself lie within
a directory the administrator allowed in ``file-storage-paths``. Paths are
compared after resolving ``..`` and symlinks, so neither can lead outside.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from ganeti import constants, errors, pathutils, ssconf
from ganeti.storage import base

#: Disk parameter choosing the image format, and its values.
FORMAT_PARAM = "format"
FORMAT_RAW = "raw"
FORMAT_QCOW2 = "qcow2"
FORMATS = (FORMAT_RAW, FORMAT_QCOW2)

_QCOW_MAGIC = b"QFI\xfb"

#: Where each template's storage directory is read from (ssconf key, getter).
_STORAGE_DIR_SOURCES: dict[str, tuple[str, Callable[[ssconf.SimpleStore], str]]] = {
    constants.DT_FILE: ("file_storage_dir", ssconf.SimpleStore.get_file_storage_dir),
    constants.DT_SHARED_FILE: ("shared_file_storage_dir",
                               ssconf.SimpleStore.get_shared_file_storage_dir),
}


def cluster_storage_dir(template: str, paths: pathutils.Paths) -> str:
    """The cluster's storage directory for a file-based template (from ssconf)."""
    source = _STORAGE_DIR_SOURCES.get(template)
    if source is None:
        raise errors.ProgrammerError("Template %r keeps no files" % template)
    key, getter = source
    try:
        value = getter(ssconf.SimpleStore(paths))
    except errors.SsconfError as err:
        raise errors.FileStoragePathError(
            "The cluster's %s storage directory is not configured on this node: %s"
            % (template, err)) from err
    if not value:
        raise errors.FileStoragePathError("The cluster's %s storage directory is not set "
                                          "(ssconf key %s is empty)" % (template, key))
    if not os.path.isabs(value):
        raise errors.FileStoragePathError("The cluster's %s storage directory %r (ssconf %s) "
                                          "is not an absolute path" % (template, value, key))
    return value


#: System directories an allow-list entry may neither be nor contain (Ganeti's rule):
#: allowing "/" or "/usr" would let images overwrite the system.
FORBIDDEN_DIRS = frozenset(
    ["/", "/boot", "/dev", "/etc", "/proc", "/sys", "/usr", "/usr/local", "/usr/share"]
    + ["%s/%s" % (prefix, sub) for prefix in ("", "/usr", "/usr/local")
       for sub in ("bin", "lib", "lib32", "lib64", "sbin")])


def _is_within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def forbidden_entry(entry: str) -> bool:
    """Whether an allow-list entry is a system directory or contains one."""
    real = os.path.realpath(entry)
    return any(_is_within(forbidden, real) for forbidden in FORBIDDEN_DIRS)


def read_allow_list(paths: pathutils.Paths) -> tuple[list[str], list[str]]:
    """The administrator's allow-list (absolute paths, one per line, '#' comments).

    Returns (usable entries, ignored entries: relative or forbidden ones).
    """
    try:
        with open(paths.file_storage_paths_file, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except FileNotFoundError:
        return [], []
    allowed, ignored = [], []
    for line in lines:
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        if os.path.isabs(entry) and not forbidden_entry(entry):
            allowed.append(os.path.normpath(entry))
        else:
            ignored.append(entry)
    return allowed, ignored


def allowed_storage_paths(paths: pathutils.Paths) -> list[str]:
    return read_allow_list(paths)[0]


def check_allowed_dir(directory: str, paths: pathutils.Paths, what: str) -> str:
    """Resolve ``directory`` and check it lies within the administrator's allow-list."""
    real_dir = os.path.realpath(directory)
    allowed, ignored = read_allow_list(paths)
    note = (" (ignored, being relative or system directories: %s)" % ", ".join(ignored)
            if ignored else "")
    if not allowed:
        raise errors.FileStoragePathError(
            "No file storage paths are allowed on this node: %s is missing or lists no "
            "usable directory%s" % (paths.file_storage_paths_file, note))
    if not any(_is_within(real_dir, os.path.realpath(entry)) for entry in allowed):
        raise errors.FileStoragePathError(
            "%s %s is not within the paths allowed in %s (%s)%s"
            % (what, directory, paths.file_storage_paths_file, ", ".join(allowed), note))
    return real_dir


def check_storage_dir(template: str, paths: pathutils.Paths) -> str:
    """The resolved cluster storage directory, after checking the allow-list."""
    return check_allowed_dir(cluster_storage_dir(template, paths), paths,
                             "The cluster's %s storage directory" % template)


def check_file_path(path: Any, template: str, paths: pathutils.Paths) -> str:
    """Accept ``path`` for a disk image of ``template``; return it resolved.

    The image must be strictly below the cluster's storage directory once
    ``..`` and symlinks are resolved; anything else raises
    ``FileStoragePathError`` naming the path.
    """
    if not isinstance(path, str) or not os.path.isabs(path):
        raise errors.FileStoragePathError("File storage path %r is not an absolute path"
                                          % (path,))
    real_dir = check_storage_dir(template, paths)
    real_path = os.path.realpath(path)
    if real_path == real_dir or not _is_within(real_path, real_dir):
        raise errors.FileStoragePathError(
            "File storage path %s is outside the cluster's %s storage directory %s"
            " (it resolves to %s)" % (path, template, real_dir, real_path))
    return real_path


def image_format(path: str) -> str:
    """The format of an existing image, from its header."""
    with open(path, "rb") as handle:
        return FORMAT_QCOW2 if handle.read(len(_QCOW_MAGIC)) == _QCOW_MAGIC else FORMAT_RAW


def qcow2_virtual_size(path: str) -> int:
    out = base.run_command(["qemu-img", "info", "--output=json", "-f", FORMAT_QCOW2, path],
                           "read the size of image %s" % path)
    return int(json.loads(out)["virtual-size"])


class FileDevice(base.BlockDev):
    """A disk image of the ``file`` template; unique id ``(driver, path)``."""

    DEV_TYPE: ClassVar[str] = constants.DT_FILE

    def __init__(self, unique_id: Sequence[Any], children: Sequence[base.BlockDev], size: int,
                 params: dict[str, Any], paths: pathutils.Paths) -> None:
        super().__init__(unique_id, children, size, params, paths)
        self.driver, self.path = self.parse_unique_id(unique_id)

    @classmethod
    def parse_unique_id(cls, unique_id: Sequence[Any]) -> tuple[str, str]:
        if (len(unique_id) != 2 or unique_id[0] not in constants.FILE_DRIVERS
                or not isinstance(unique_id[1], str)):
            raise errors.BlockDeviceError(
                "Invalid %s logical_id %r: expected [driver, path] with driver one of %s"
                % (cls.DEV_TYPE, list(unique_id), ", ".join(sorted(constants.FILE_DRIVERS))))
        return unique_id[0], unique_id[1]

    def checked_path(self) -> str:
        return check_file_path(self.path, self.DEV_TYPE, self.paths)

    @classmethod
    def create(cls, unique_id: Sequence[Any], children: Sequence[base.BlockDev], size: int,
               params: dict[str, Any], excl_stor: bool, paths: pathutils.Paths) -> FileDevice:
        device = cls(unique_id, children, size, params, paths)
        fmt = params.get(FORMAT_PARAM) or FORMAT_RAW
        if fmt not in FORMATS:
            raise errors.BlockDeviceError("Disk parameter '%s' must be one of %s, got %r"
                                          % (FORMAT_PARAM, ", ".join(FORMATS), fmt))
        if not isinstance(size, int) or size <= 0:
            raise errors.BlockDeviceError("Cannot create %s: size must be a positive number "
                                          "of MiB, got %r" % (device.path, size))
        path = device.checked_path()
        os.makedirs(os.path.dirname(path), mode=0o750, exist_ok=True)
        # Claim the name exclusively first: qemu-img would overwrite a file.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as err:
            raise errors.BlockDeviceError("Cannot create %s: file already exists"
                                          % device.path) from err
        try:
            if fmt == FORMAT_RAW:
                os.ftruncate(fd, size * base.MIB)
            else:
                base.run_command(["qemu-img", "create", "-q", "-f", FORMAT_QCOW2, path,
                                  "%dM" % size], "create image %s" % path)
        except BaseException:
            os.close(fd)
            os.unlink(path)
            raise
        os.close(fd)
        return device

    def exists(self) -> bool:
        return os.path.isfile(self.checked_path())

    def remove(self) -> None:
        path = self.checked_path()
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as err:
            raise errors.BlockDeviceError("Cannot remove %s: %s" % (self.path, err)) from err
        self._remove_empty_instance_dir(os.path.dirname(path))

    def _remove_empty_instance_dir(self, directory: str) -> None:
        """Drop the per-instance directory once its last image is gone.

        Only a directory strictly below the cluster's storage directory, and only
        when empty: the storage directory itself and other disks stay.
        """
        real_dir = check_storage_dir(self.DEV_TYPE, self.paths)
        if directory == real_dir or not _is_within(directory, real_dir):
            return
        try:
            os.rmdir(directory)
        except OSError:
            pass  # not empty (another disk of the instance) or already gone

    def rename(self, new_id: Sequence[Any]) -> None:
        driver, new_path = self.parse_unique_id(new_id)
        source = self.checked_path()
        target = check_file_path(new_path, self.DEV_TYPE, self.paths)
        self.require_exists("rename")
        if os.path.lexists(target):
            raise errors.BlockDeviceError("Cannot rename %s to %s: the target exists"
                                          % (self.path, new_path))
        os.makedirs(os.path.dirname(target), mode=0o750, exist_ok=True)
        try:
            os.rename(source, target)
        except OSError as err:
            raise errors.BlockDeviceError("Cannot rename %s to %s: %s"
                                          % (self.path, new_path, err)) from err
        self._remove_empty_instance_dir(os.path.dirname(source))
        self.unique_id = (driver, new_path)
        self.driver, self.path = driver, new_path

    def grow(self, amount: int, dryrun: bool, backingstore: bool, excl_stor: bool) -> None:
        # An image is its own backing store: the call for the layer above is a no-op.
        if not backingstore:
            return
        if amount < 0:
            raise errors.BlockDeviceError("Cannot grow %s by a negative amount (%d MiB)"
                                          % (self.path, amount))
        self.require_exists("grow")
        path = self.checked_path()
        if dryrun or amount == 0:
            return
        new_size = self.get_actual_size() + amount * base.MIB
        if image_format(path) == FORMAT_QCOW2:
            base.run_command(["qemu-img", "resize", "-q", "-f", FORMAT_QCOW2, path,
                              str(new_size)], "grow image %s" % path)
        else:
            os.truncate(path, new_size)

    @property
    def dev_path(self) -> str:
        return self.path

    def get_actual_size(self) -> int:
        self.require_exists("measure")
        path = self.checked_path()
        if image_format(path) == FORMAT_QCOW2:
            return qcow2_virtual_size(path)
        return os.stat(path).st_size


class SharedFileDevice(FileDevice):
    """A disk image on a file system every node mounts (``sharedfile``)."""

    DEV_TYPE: ClassVar[str] = constants.DT_SHARED_FILE


def get_space_info(storage_dir: str) -> dict[str, int]:
    """Size and free space (MiB) of the file system holding ``storage_dir``."""
    with contextlib.suppress(FileNotFoundError):
        stats = os.statvfs(storage_dir)
        return {"storage_size": stats.f_blocks * stats.f_frsize // base.MIB,
                "storage_free": stats.f_bavail * stats.f_frsize // base.MIB}
    raise errors.BlockDeviceError("File storage directory %s does not exist" % storage_dir)
