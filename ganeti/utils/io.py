"""File helpers: atomic replacement, reading, directory creation."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import tempfile
import threading
from collections.abc import Callable


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


def _load_syncfs() -> Callable[[int], int] | None:
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return None
    libc = ctypes.CDLL(libc_name, use_errno=True)
    return getattr(libc, "syncfs", None)


_SYNCFS = _load_syncfs()


def sync_filesystem(directory: str) -> None:
    """Flush everything written on ``directory``'s filesystem (one syncfs call)."""
    if _SYNCFS is None:
        os.sync()
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if _SYNCFS(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
    finally:
        os.close(fd)


def write_files_atomic(files: list[tuple[str, bytes]], mode: int = 0o644,
                       durable: bool = True) -> None:
    """Replace several files (on one filesystem), each atomically; when
    ``durable``, with one filesystem sync for all of them instead of two
    fsyncs per file.

    All files go to temporary files first, then (synced) are renamed over
    their targets, then their directories are synced. A failure removes the
    temporary files and raises OSError; files already renamed stay replaced.
    """
    temps: list[tuple[str, str]] = []
    try:
        for path, data in files:
            tmp = "%s.tmp%d" % (path, threading.get_ident())
            with open(tmp, "wb") as handle:
                temps.append((tmp, path))
                os.fchmod(handle.fileno(), mode)
                handle.write(data)
        if durable and temps:
            sync_filesystem(os.path.dirname(os.path.abspath(temps[0][1])))
        for tmp, path in temps:
            os.rename(tmp, path)
    except BaseException:
        for tmp, _path in temps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise
    if durable:
        for directory in sorted({os.path.dirname(os.path.abspath(p)) for _t, p in temps}):
            fsync_dir(directory)


def read_file(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def ensure_dirs(dirs: list[tuple[str, int]]) -> None:
    """Create directories with the given modes (existing ones are chmod-ed)."""
    for path, mode in dirs:
        os.makedirs(path, mode=mode, exist_ok=True)
        os.chmod(path, mode)
