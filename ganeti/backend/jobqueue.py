"""Node side of job queue replication to master candidates.

Names are relative to this node's queue directory ("job-12",
"archive/0/job-12", "serial"); every name of a call is checked before
anything changes, and nothing outside the queue directory is touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil

from ganeti import errors, pathutils
from ganeti.rpc import encoding
from ganeti.utils import io

#: Job files are readable by the daemons' group only (Ganeti's mode).
QUEUE_FILE_MODE = 0o640


def _queue_path(name: str, paths: pathutils.Paths) -> str:
    """The node path of a queue file name, refusing anything that escapes."""
    parts = name.split("/")
    if (os.path.isabs(name) or not name
            or any(part in ("", ".", "..") or part.startswith(".") for part in parts)):
        raise errors.OpExecError("Job queue file name %r must be relative to the queue "
                                 "directory, without '.', '..' or hidden components" % name)
    path = os.path.normpath(os.path.join(paths.queue_dir, name))
    if os.path.commonpath([path, paths.queue_dir]) != paths.queue_dir or \
            path == paths.queue_dir:
        raise errors.OpExecError("Job queue file name %r is outside the queue directory"
                                 % name)
    return path


def jobqueue_update(file_name: str, content: list[object]) -> None:
    paths = pathutils.current()
    target = _queue_path(file_name, paths)
    data = encoding.decode(content)
    os.makedirs(os.path.dirname(target), mode=0o750, exist_ok=True)
    io.write_file_atomic(target, data, mode=QUEUE_FILE_MODE)


def jobqueue_update_many(files: list[list[object]]) -> None:
    """Replace several queue files, all names checked first, with one disk sync."""
    paths = pathutils.current()
    # A name given twice gets its last content.
    resolved = {_queue_path(str(name), paths): encoding.decode(content)
                for name, content in files}
    for directory in {os.path.dirname(target) for target in resolved}:
        os.makedirs(directory, mode=0o750, exist_ok=True)
    io.write_files_atomic(list(resolved.items()), mode=QUEUE_FILE_MODE)


def jobqueue_rename(renames: list[list[str]]) -> None:
    paths = pathutils.current()
    resolved = [(_queue_path(old, paths), _queue_path(new, paths)) for old, new in renames]
    for old, _ in resolved:
        if not os.path.exists(old):
            raise errors.OpExecError("Job queue file %s does not exist"
                                     % os.path.relpath(old, paths.queue_dir))
    for old, new in resolved:
        os.makedirs(os.path.dirname(new), mode=0o750, exist_ok=True)
        os.rename(old, new)


def jobqueue_purge() -> None:
    """Empty the queue directory (archive included), keeping the lock file."""
    paths = pathutils.current()
    if not os.path.isdir(paths.queue_dir):
        return
    for entry in os.scandir(paths.queue_dir):
        if entry.path == paths.queue_lock_file:
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)


def jobqueue_set_drain_flag(drain: bool) -> None:
    paths = pathutils.current()
    if drain:
        os.makedirs(paths.queue_dir, mode=0o750, exist_ok=True)
        io.write_file_atomic(paths.queue_drain_file, b"", mode=QUEUE_FILE_MODE)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(paths.queue_drain_file)
