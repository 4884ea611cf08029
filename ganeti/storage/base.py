"""The block-device interface every disk template implements.

A device is identified by its ``unique_id`` (Ganeti's ``logical_id``: for
file disks ``[driver, path]``, for plain ``[vg, lv_name]``). Sizes given to
and by devices are in MiB except ``get_actual_size`` (bytes), as in Ganeti.
Failures raise ``errors.BlockDeviceError`` (``FileStoragePathError`` for a
refused path) naming the device and the problem.
"""

from __future__ import annotations

import abc
import subprocess
from collections.abc import Sequence
from typing import Any, ClassVar

from ganeti import errors, pathutils

#: ``ldisk_status`` values (Ganeti's local-disk status).
LDS_OKAY = 1
LDS_UNKNOWN = 2
LDS_FAULTY = 3

MIB = 1024 * 1024


def run_command(argv: Sequence[str], what: str, timeout: float = 300,
                env_extra: dict[str, str] | None = None) -> str:
    """Run an external command; its failure becomes a BlockDeviceError about ``what``."""
    env = {"LC_ALL": "C", "PATH": _SEARCH_PATH, **(env_extra or {})}
    try:
        result = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                                check=False, env=env, stdin=subprocess.DEVNULL)
    except FileNotFoundError as err:
        raise errors.BlockDeviceError("Cannot %s: command %s not found" % (what, argv[0])) \
            from err
    except subprocess.TimeoutExpired as err:
        raise errors.BlockDeviceError("Cannot %s: %s did not finish within %d seconds"
                                      % (what, argv[0], timeout)) from err
    if result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip() or "no output")
        raise errors.BlockDeviceError("Cannot %s: %s failed (exit code %d): %s"
                                      % (what, " ".join(argv), result.returncode, detail))
    return result.stdout


_SEARCH_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class BlockDev(abc.ABC):
    """One block device of one disk template."""

    #: The constants.DT_* template (Ganeti's dev_type) this class implements.
    DEV_TYPE: ClassVar[str]

    def __init__(self, unique_id: Sequence[Any], children: Sequence[BlockDev], size: int,
                 params: dict[str, Any], paths: pathutils.Paths) -> None:
        self.unique_id = tuple(unique_id)
        self.children = list(children)
        self.size = size
        self.params = dict(params)
        self.paths = paths

    def __repr__(self) -> str:
        return "<%s %s>" % (type(self).__name__, "/".join(str(p) for p in self.unique_id))

    # -- life cycle -----------------------------------------------------------------------
    @classmethod
    @abc.abstractmethod
    def create(cls, unique_id: Sequence[Any], children: Sequence[BlockDev], size: int,
               params: dict[str, Any], excl_stor: bool, paths: pathutils.Paths) -> BlockDev:
        """Create the device on this node (size in MiB); an existing one is an error."""

    @abc.abstractmethod
    def exists(self) -> bool:
        """Whether the device exists on this node (Ganeti's Attach)."""

    @abc.abstractmethod
    def remove(self) -> None:
        """Remove the device; a missing one is not an error."""

    @abc.abstractmethod
    def rename(self, new_id: Sequence[Any]) -> None:
        """Give the device a new unique id (e.g. a new path)."""

    def assemble(self) -> None:
        """Make the device usable (activate it); it must exist."""
        self.require_exists("assemble")

    def shutdown(self) -> None:  # noqa: B027 (most templates have nothing to deactivate)
        """Deactivate the device (the data stays)."""

    def set_info(self, text: str) -> None:  # noqa: B027 (optional for templates)
        """Attach descriptive text (e.g. the owning instance) where the template can."""

    @abc.abstractmethod
    def grow(self, amount: int, dryrun: bool, backingstore: bool, excl_stor: bool) -> None:
        """Add ``amount`` MiB to the device."""

    # -- inspection -------------------------------------------------------------------------
    @property
    @abc.abstractmethod
    def dev_path(self) -> str | None:
        """The path an instance uses, if the device is reachable through one."""

    def user_space_uri(self) -> str | None:
        """A URI for user-space access (e.g. gluster://), if the template has one."""
        return None

    @abc.abstractmethod
    def get_actual_size(self) -> int:
        """The device's size in bytes as it is on disk now."""

    def status(self) -> dict[str, Any]:
        """What blockdev_find reports (Ganeti's BlockDevStatus fields)."""
        return {
            "dev_path": self.dev_path,
            "major": None,
            "minor": None,
            "sync_percent": None,
            "estimated_time": None,
            "is_degraded": False,
            "ldisk_status": LDS_OKAY,
            "size": self.get_actual_size(),
        }

    def require_exists(self, action: str) -> None:
        if not self.exists():
            raise errors.BlockDeviceError("Cannot %s %s: device %s does not exist"
                                          % (action, self.DEV_TYPE, self.describe()))

    def describe(self) -> str:
        return ":".join(str(p) for p in self.unique_id)
