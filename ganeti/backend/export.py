"""Node side of instance exports and imports (gnt-backup).

An export lives in a directory of the node's export directory
(``/srv/ganeti/export/<instance name>/``): ``config.ini`` (Ganeti's export
format, written by the master) and one dump per disk, named after the disk's
UUID. A dump is what the OS definition's ``export`` script writes to its
standard output; the ``import`` script reads it back on its standard input.
An export is written below ``<name>.new`` first and renamed into place once
complete (``finalize_export``), so a failed export never replaces a good one.

Every path an RPC names is relative to the export directory and must stay
inside it: ``..``, absolute paths and symlinks leading outside are refused.
Directories whose name starts with a dot are staging areas of running
transfers and are not listed.
"""

from __future__ import annotations

import base64
import fcntl
import os
import shutil
import tempfile
from typing import Any

from ganeti import errors, pathutils, storage
from ganeti.backend import os as os_backend
from ganeti.hypervisor import hv_base
from ganeti.utils import io

#: The export's description, in Ganeti's INI format.
EXPORT_CONF_FILE = "config.ini"
#: Suffix of an export being written.
NEW_SUFFIX = ".new"


def export_dir() -> str:
    return pathutils.current().export_dir


def resolve(relative: str, *more: str) -> str:
    """The absolute path of ``relative`` (joined with ``more``) below the export
    directory; ExportError for anything that could lead outside it."""
    parts = [relative, *more]
    for part in parts:
        if (not isinstance(part, str) or not part or os.path.isabs(part)
                or ".." in part.split("/") or "\0" in part):
            raise errors.ExportError("Invalid export path %r: it must be a non-empty relative"
                                     " path without '..' (below %s)" % (part, export_dir()))
    base = os.path.realpath(export_dir())
    path = os.path.normpath(os.path.join(base, *parts))
    real = os.path.realpath(path)
    if real == base or not real.startswith(base + "/"):
        raise errors.ExportError("Export path %r leads outside the export directory %s"
                                 % ("/".join(parts), base))
    return path


# -- listing, reading, removing ---------------------------------------------------------

def export_list() -> list[str]:
    """The exports of this node (sorted; none when the export directory is missing)."""
    try:
        entries = os.listdir(export_dir())
    except FileNotFoundError:
        return []
    return sorted(entry for entry in entries if not entry.startswith(".")
                  and os.path.isdir(os.path.join(export_dir(), entry)))


def export_info(path: str) -> str:
    """The ``config.ini`` text of the export at ``path``."""
    conf = os.path.join(resolve(path), EXPORT_CONF_FILE)
    try:
        with open(conf, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise errors.ExportError("No export found at %s (%s is missing)"
                                 % (resolve(path), EXPORT_CONF_FILE)) from None
    except (OSError, UnicodeDecodeError) as err:
        raise errors.ExportError("Cannot read %s: %s" % (conf, err)) from err


def export_remove(path: str) -> None:
    """Remove the export (or a staging directory or dump) ``path``; a missing one is no
    error."""
    target = resolve(path)
    try:
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target)
        else:
            os.unlink(target)
    except FileNotFoundError:
        return
    except OSError as err:
        raise errors.ExportError("Cannot remove the export %s: %s" % (target, err)) from err


def finalize_export(instance_name: str, config_text: str) -> None:
    """Write ``config.ini`` into ``<name>.new`` and put it in place of ``<name>``."""
    staging = resolve(instance_name + NEW_SUFFIX)
    final = resolve(instance_name)
    if not os.path.isdir(staging):
        os.makedirs(staging, mode=0o750)
    io.write_file_atomic(os.path.join(staging, EXPORT_CONF_FILE), config_text, mode=0o640)
    shutil.rmtree(final, ignore_errors=True)
    os.rename(staging, final)
    io.fsync_dir(os.path.dirname(final))


# -- dump files, read and written in chunks (copies between nodes go through the master) --

def export_file_size(path: str, name: str) -> int:
    try:
        return os.path.getsize(resolve(path, name))
    except FileNotFoundError:
        raise errors.ExportError("Dump %s of export %s does not exist" % (name, path)) from None


def export_read_chunk(path: str, name: str, offset: int, length: int) -> str:
    """Up to ``length`` bytes of a dump from ``offset``, base64-encoded; '' at the end."""
    try:
        with open(resolve(path, name), "rb") as handle:
            handle.seek(offset)
            return base64.b64encode(handle.read(length)).decode("ascii")
    except FileNotFoundError:
        raise errors.ExportError("Dump %s of export %s does not exist" % (name, path)) from None


def export_write_chunk(path: str, name: str, offset: int, data: str) -> None:
    """Write base64 ``data`` into a dump at ``offset`` (offset 0 starts a new file)."""
    target = resolve(path, name)
    os.makedirs(os.path.dirname(target), mode=0o750, exist_ok=True)
    with open(target, "r+b" if offset else "wb") as handle:
        handle.seek(offset)
        handle.write(base64.b64decode(data.encode("ascii"), validate=True))


# -- the OS definition's export and import scripts --------------------------------------

def _disk_env(instance: dict[str, Any], index: int, prefix: str) -> dict[str, str]:
    """``<prefix>_DEVICE``/``_DISK_PATH``/``_DISK_URI``/``_INDEX`` of disk ``index``."""
    disks = instance.get("disks") or []
    if not 0 <= index < len(disks):
        raise errors.ExportError("Instance %s has no disk %d (it has %d)"
                                 % (hv_base.instance_name(instance), index, len(disks)))
    device = storage.device_from_disk(disks[index])
    if not device.exists():
        raise errors.BlockDeviceError("Disk %d (%s) is not set up on this node"
                                      % (index, device.describe()))
    env = {"%s_INDEX" % prefix: str(index)}
    if device.dev_path:
        env["%s_DEVICE" % prefix] = device.dev_path
        env["%s_DISK_PATH" % prefix] = device.dev_path
    uri = device.user_space_uri()
    if uri:
        env["%s_DISK_URI" % prefix] = uri
    return env


def _script_env(instance: dict[str, Any], debug: int
                ) -> tuple[os_backend.OSDefinition, dict[str, str]]:
    definition = os_backend.find_os(str(instance.get("os", "")))
    return definition, os_backend.instance_environment(instance, definition, debug)


def export_disk(instance: dict[str, Any], index: int, path: str, name: str,
                debug: int) -> dict[str, Any]:
    """Run the OS export script for disk ``index``, its output into dump ``path/name``.

    Returns ``{"size": bytes written, "predicted": the size the script announced
    on EXP_SIZE_FD, or None}``. A failure removes the partial dump.
    """
    inst_name = hv_base.instance_name(instance)
    definition, env = _script_env(instance, debug)
    env.update(_disk_env(instance, index, "EXPORT"))
    target = resolve(path, name)
    os.makedirs(os.path.dirname(target), mode=0o750, exist_ok=True)
    log_path = os_backend._log_file("export", definition.name, inst_name)
    what = ("OS %s script 'export' for disk %d of instance %s"
            % (definition.name, index, inst_name))
    with tempfile.TemporaryFile() as size_file, open(target, "wb") as dump:
        # The lowest free descriptor: shells like dash only redirect to fds 0-9.
        size_fd = fcntl.fcntl(size_file.fileno(), fcntl.F_DUPFD, 3)
        env["EXP_SIZE_FD"] = str(size_fd)
        try:
            os_backend.run_script([definition.script(os_backend.SCRIPT_EXPORT)], env,
                                  definition.path, log_path, what, stdout=dump,
                                  pass_fds=(size_fd,))
        except BaseException:
            dump.close()
            os.unlink(target)
            raise
        finally:
            os.close(size_fd)
        size_file.seek(0)
        announced = size_file.read(64).split(b"\n", 1)[0].strip()
    predicted = int(announced) if announced.isdigit() else None
    return {"size": os.path.getsize(target), "predicted": predicted}


def import_disk(instance: dict[str, Any], index: int, path: str, name: str,
                debug: int) -> None:
    """Run the OS import script for disk ``index``, fed with dump ``path/name``."""
    inst_name = hv_base.instance_name(instance)
    definition, env = _script_env(instance, debug)
    env.update(_disk_env(instance, index, "IMPORT"))
    source = resolve(path, name)
    if not os.path.isfile(source):
        raise errors.ExportError("Dump %s of export %s does not exist on this node"
                                 % (name, path))
    log_path = os_backend._log_file("import", definition.name, inst_name)
    what = ("OS %s script 'import' for disk %d of instance %s"
            % (definition.name, index, inst_name))
    with open(source, "rb") as dump:
        os_backend.run_script([definition.script(os_backend.SCRIPT_IMPORT)], env,
                              definition.path, log_path, what, stdin=dump)

