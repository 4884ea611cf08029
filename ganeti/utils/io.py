"""File helpers: atomic replacement, reading, directory creation."""

from __future__ import annotations

import os
import tempfile


def fsync_dir(path: str) -> None:
    """Make a rename or creation inside ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file_atomic(path: str, data: bytes | str, mode: int = 0o644,
                      uid: int = -1, gid: int = -1, fsync: bool = True) -> None:
    """Replace ``path`` with ``data`` so a crash leaves the old or the new file.

    The data goes to a temporary file in the same directory, is fsynced,
    renamed over the target, and the directory is fsynced.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".%s.tmp" % os.path.basename(path))
    try:
        os.fchmod(fd, mode)
        if uid != -1 or gid != -1:
            os.fchown(fd, uid, gid)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if fsync:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    try:
        os.rename(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    if fsync:
        fsync_dir(directory)


def read_file(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def ensure_dirs(dirs: list[tuple[str, int]]) -> None:
    """Create directories with the given modes (existing ones are chmod-ed)."""
    for path, mode in dirs:
        os.makedirs(path, mode=mode, exist_ok=True)
        os.chmod(path, mode)
