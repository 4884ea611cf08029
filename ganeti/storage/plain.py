"""The ``plain`` template: one LVM logical volume per disk.

Driven through the lvm2 commands. Creating or activating a volume needs the
kernel's device-mapper; where it is missing (containers, some test
machines) volume groups can still be inspected but no volume can be made
usable, so those actions fail at once with an error that says so, before
any lvm command runs.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from collections.abc import Sequence
from typing import Any, ClassVar

from ganeti import constants, errors, pathutils
from ganeti.storage import base

#: The system's device directory: LVM makes /dev/<vg>/<lv> (not a project path).
_DEV_DIR = "/dev"
_DM_CONTROL = "/dev/mapper/control"
_LVM_NAME_RE = re.compile(r"^[A-Za-z0-9+_.][A-Za-z0-9+_.-]*$")
_LVM_TAG_RE = re.compile(r"[^A-Za-z0-9+_.:/=@-]")
#: Disk parameter: number of stripes (Ganeti's "stripes").
STRIPES_PARAM = "stripes"


@functools.cache
def device_mapper_problem() -> str | None:
    """Why device-mapper is unusable on this node, or None if it works (checked once)."""
    if not os.path.exists(_DM_CONTROL):
        return "%s does not exist (no device-mapper in this kernel)" % _DM_CONTROL
    try:
        result = subprocess.run(["dmsetup", "version"], capture_output=True, text=True,
                                timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return "dmsetup version failed: %s" % err
    if result.returncode != 0:
        return "dmsetup version failed: %s" % (result.stderr.strip().splitlines() or ["?"])[0]
    return None


def require_device_mapper(action: str) -> None:
    problem = device_mapper_problem()
    if problem is not None:
        raise errors.BlockDeviceError(
            "Cannot %s: LVM volumes cannot be activated on this node because device-mapper "
            "is not available (%s); the plain and drbd templates are unusable here"
            % (action, problem))


def lvm(argv: Sequence[str], what: str) -> str:
    """Run an lvm2 command (quietly: no leaked-descriptor warnings)."""
    return base.run_command(list(argv), what, env_extra={"LVM_SUPPRESS_FD_WARNINGS": "1"})


def _rows(output: str) -> list[list[str]]:
    return [line.strip().split("|") for line in output.splitlines() if line.strip()]


def check_lvm_name(name: Any, what: str) -> str:
    if (not isinstance(name, str) or not _LVM_NAME_RE.match(name) or name in (".", "..")
            or len(name) > 127):
        raise errors.BlockDeviceError("Invalid LVM %s name %r: use letters, digits and "
                                      "+_.- (not starting with -)" % (what, name))
    return name


def vg_space(vg_name: str) -> tuple[int, int]:
    """(size, free) of a volume group in MiB."""
    out = lvm(["vgs", "--noheadings", "--nosuffix", "--units", "m", "--separator", "|",
               "-o", "vg_size,vg_free", check_lvm_name(vg_name, "volume group")],
              "read volume group %s" % vg_name)
    rows = _rows(out)
    if len(rows) != 1 or len(rows[0]) != 2:
        raise errors.BlockDeviceError("Cannot read volume group %s: unexpected vgs output %r"
                                      % (vg_name, out))
    return int(float(rows[0][0])), int(float(rows[0][1]))


class LogicalVolume(base.BlockDev):
    """An LVM logical volume; unique id ``(vg_name, lv_name)``."""

    DEV_TYPE: ClassVar[str] = constants.DT_PLAIN

    def __init__(self, unique_id: Sequence[Any], children: Sequence[base.BlockDev], size: int,
                 params: dict[str, Any], paths: pathutils.Paths) -> None:
        super().__init__(unique_id, children, size, params, paths)
        self.vg_name, self.lv_name = self.parse_unique_id(unique_id)

    @classmethod
    def parse_unique_id(cls, unique_id: Sequence[Any]) -> tuple[str, str]:
        if len(unique_id) != 2:
            raise errors.BlockDeviceError("Invalid plain logical_id %r: expected [vg, lv_name]"
                                          % (list(unique_id),))
        return (check_lvm_name(unique_id[0], "volume group"),
                check_lvm_name(unique_id[1], "logical volume"))

    @property
    def lv_spec(self) -> str:
        return "%s/%s" % (self.vg_name, self.lv_name)

    @classmethod
    def create(cls, unique_id: Sequence[Any], children: Sequence[base.BlockDev], size: int,
               params: dict[str, Any], excl_stor: bool, paths: pathutils.Paths
               ) -> LogicalVolume:
        device = cls(unique_id, children, size, params, paths)
        if not isinstance(size, int) or size <= 0:
            raise errors.BlockDeviceError("Cannot create %s: size must be a positive number "
                                          "of MiB, got %r" % (device.lv_spec, size))
        stripes = params.get(STRIPES_PARAM, 1)
        if not isinstance(stripes, int) or stripes < 1:
            raise errors.BlockDeviceError("Disk parameter '%s' must be a positive integer, "
                                          "got %r" % (STRIPES_PARAM, stripes))
        require_device_mapper("create logical volume %s" % device.lv_spec)
        _, free = vg_space(device.vg_name)
        if free < size:
            raise errors.BlockDeviceError("Cannot create %s: volume group %s has %d MiB free, "
                                          "%d MiB needed" % (device.lv_spec, device.vg_name,
                                                             free, size))
        if device.exists():
            raise errors.BlockDeviceError("Cannot create %s: it already exists"
                                          % device.lv_spec)
        argv = ["lvcreate", "--yes", "-L", "%dm" % size, "-n", device.lv_name]
        if stripes > 1:
            argv += ["-i", str(stripes)]
        lvm([*argv, device.vg_name], "create logical volume %s" % device.lv_spec)
        return device

    def set_info(self, text: str) -> None:
        """Tag the volume with ``text`` (e.g. its owner), made LVM-safe."""
        tag = _LVM_TAG_RE.sub("_", text)[:128]
        if tag:
            lvm(["lvchange", "--addtag", tag, self.lv_spec],
                "tag logical volume %s" % self.lv_spec)

    def _lv_field(self, field: str, units: bool = False) -> str | None:
        argv = ["lvs", "--noheadings", "-o", field]
        if units:
            argv += ["--units", "b", "--nosuffix"]
        try:
            out = lvm([*argv, self.lv_spec], "read logical volume %s" % self.lv_spec)
        except errors.BlockDeviceError:
            if not self._vg_exists():
                raise
            return None
        return out.strip() or None

    def _vg_exists(self) -> bool:
        try:
            vg_space(self.vg_name)
        except errors.BlockDeviceError:
            return False
        return True

    def exists(self) -> bool:
        return self._lv_field("lv_name") is not None

    def remove(self) -> None:
        if not self.exists():
            return
        lvm(["lvremove", "-f", self.lv_spec], "remove logical volume %s" % self.lv_spec)

    def rename(self, new_id: Sequence[Any]) -> None:
        new_vg, new_lv = self.parse_unique_id(new_id)
        if new_vg != self.vg_name:
            raise errors.BlockDeviceError("Cannot rename %s to %s/%s: a volume cannot change "
                                          "its volume group" % (self.lv_spec, new_vg, new_lv))
        self.require_exists("rename")
        lvm(["lvrename", self.vg_name, self.lv_name, new_lv],
            "rename logical volume %s to %s" % (self.lv_spec, new_lv))
        self.unique_id = (new_vg, new_lv)
        self.lv_name = new_lv

    def assemble(self) -> None:
        require_device_mapper("activate logical volume %s" % self.lv_spec)
        self.require_exists("assemble")
        lvm(["lvchange", "-ay", self.lv_spec], "activate logical volume %s" % self.lv_spec)

    def shutdown(self) -> None:
        # Like Ganeti: volumes stay active; deactivation would race other users.
        return

    def grow(self, amount: int, dryrun: bool, backingstore: bool, excl_stor: bool) -> None:
        if not backingstore:
            return
        if amount < 0:
            raise errors.BlockDeviceError("Cannot grow %s by a negative amount (%d MiB)"
                                          % (self.lv_spec, amount))
        self.require_exists("grow")
        _, free = vg_space(self.vg_name)
        if free < amount:
            raise errors.BlockDeviceError("Cannot grow %s by %d MiB: volume group %s has only "
                                          "%d MiB free" % (self.lv_spec, amount, self.vg_name,
                                                           free))
        if dryrun or amount == 0:
            return
        lvm(["lvextend", "-L", "+%dm" % amount, self.lv_spec],
            "grow logical volume %s" % self.lv_spec)

    @property
    def dev_path(self) -> str:
        return os.path.join(_DEV_DIR, self.vg_name, self.lv_name)

    def get_actual_size(self) -> int:
        value = self._lv_field("lv_size", units=True)
        if value is None:
            raise errors.BlockDeviceError("Cannot measure %s: it does not exist" % self.lv_spec)
        return int(float(value))

    def status(self) -> dict[str, Any]:
        result = super().status()
        attr = self._lv_field("lv_attr") or ""
        # lv_attr's 9th character is 'p' when a physical volume is missing.
        degraded = len(attr) > 8 and attr[8] == "p"
        result["is_degraded"] = degraded
        result["ldisk_status"] = base.LDS_FAULTY if degraded else base.LDS_OKAY
        return result


def list_volume_groups() -> list[dict[str, Any]]:
    """Every volume group: name, size, free (MiB)."""
    out = lvm(["vgs", "--noheadings", "--nosuffix", "--units", "m", "--separator", "|",
               "-o", "vg_name,vg_size,vg_free"], "list volume groups")
    return [{"name": r[0], "size": int(float(r[1])), "free": int(float(r[2]))}
            for r in _rows(out) if len(r) == 3]


def list_physical_volumes() -> list[dict[str, Any]]:
    """Every physical volume: name, vg, size, used, free (MiB), allocatable."""
    out = lvm(["pvs", "--noheadings", "--nosuffix", "--units", "m", "--separator", "|",
               "-o", "pv_name,vg_name,pv_size,pv_used,pv_free,pv_attr"],
              "list physical volumes")
    return [{"name": r[0], "vg": r[1], "size": int(float(r[2])), "used": int(float(r[3])),
             "free": int(float(r[4])), "allocatable": r[5][:1] == "a"}
            for r in _rows(out) if len(r) == 6]
