"""Node side of the storage unit procedures (Ganeti's storage units).

storage_list: the units of a type and their fields; storage_modify: change
a unit (an LVM physical volume's allocatable flag); storage_execute: run an
operation on a unit (make a volume group consistent again); node_volumes:
the node's logical volumes. Sizes are in MiB. Field names are Ganeti's
(name, size, used, free, allocatable, plus vg for physical volumes).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import Any

from ganeti import constants, errors, pathutils
from ganeti.storage import base, filestorage, plain

SF_NAME = "name"
SF_SIZE = "size"
SF_USED = "used"
SF_FREE = "free"
SF_ALLOCATABLE = "allocatable"
SF_VG = "vg"

Unit = dict[str, Any]


def _directory_usage(directory: str) -> int:
    """Space used by the files below ``directory``, in MiB (allocated blocks)."""
    total = 0
    for root, _, files in os.walk(directory):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except FileNotFoundError:
                continue
    return total // base.MIB


def _file_units(template: str) -> Callable[[list[Any]], list[Unit]]:
    def units(args: list[Any]) -> list[Unit]:
        paths = pathutils.current()
        directories = args[0] if args and isinstance(args[0], list) else []
        if not directories:
            directories = [filestorage.cluster_storage_dir(template, paths)]
        result = []
        for directory in directories:
            real = filestorage.check_allowed_dir(str(directory), paths, "Storage directory")
            space = filestorage.get_space_info(real)
            result.append({SF_NAME: directory, SF_SIZE: space["storage_size"],
                           SF_FREE: space["storage_free"], SF_USED: _directory_usage(real),
                           SF_ALLOCATABLE: True})
        return result
    return units


def _vg_units(args: list[Any]) -> list[Unit]:
    return [{SF_NAME: vg["name"], SF_SIZE: vg["size"], SF_FREE: vg["free"],
             SF_USED: vg["size"] - vg["free"], SF_ALLOCATABLE: True}
            for vg in plain.list_volume_groups()]


def _pv_units(args: list[Any]) -> list[Unit]:
    return [{SF_NAME: pv["name"], SF_VG: pv["vg"], SF_SIZE: pv["size"], SF_USED: pv["used"],
             SF_FREE: pv["free"], SF_ALLOCATABLE: pv["allocatable"]}
            for pv in plain.list_physical_volumes()]


#: Storage type -> (lister, fields it provides).
_LISTERS: dict[str, tuple[Callable[[list[Any]], list[Unit]], tuple[str, ...]]] = {
    constants.ST_FILE: (_file_units(constants.DT_FILE),
                        (SF_NAME, SF_SIZE, SF_USED, SF_FREE, SF_ALLOCATABLE)),
    constants.ST_SHARED_FILE: (_file_units(constants.DT_SHARED_FILE),
                               (SF_NAME, SF_SIZE, SF_USED, SF_FREE, SF_ALLOCATABLE)),
    constants.ST_LVM_VG: (_vg_units, (SF_NAME, SF_SIZE, SF_USED, SF_FREE, SF_ALLOCATABLE)),
    constants.ST_LVM_PV: (_pv_units,
                          (SF_NAME, SF_VG, SF_SIZE, SF_USED, SF_FREE, SF_ALLOCATABLE)),
}


def storage_list(storage_type: str, args: list[Any], name: str | None,
                 fields: list[str]) -> list[list[Any]]:
    """One row per storage unit (only ``name`` if given), with ``fields`` in order."""
    lister = _LISTERS.get(storage_type)
    if lister is None:
        raise errors.OpExecError("Listing storage of type %r is not supported (supported: %s)"
                                 % (storage_type, ", ".join(sorted(_LISTERS))))
    list_units, known = lister
    unknown = [f for f in fields if f not in known]
    if unknown:
        raise errors.OpExecError("Unknown fields %s for storage type %s (known: %s)"
                                 % (", ".join(unknown), storage_type, ", ".join(known)))
    units = list_units(args)
    return [[unit[f] for f in fields] for unit in units
            if name is None or unit[SF_NAME] == name]


# -- storage_modify / storage_execute ------------------------------------------------------

def _find_unit(storage_type: str, args: list[Any], name: str) -> Unit:
    list_units, _known = _LISTERS[storage_type]
    for unit in list_units(args):
        if unit[SF_NAME] == name:
            return unit
    raise errors.OpExecError("There is no %s storage unit named %r on this node"
                             % (storage_type, name))


def _set_pv_allocatable(name: str, allocatable: bool) -> None:
    plain.lvm(["pvchange", "--allocatable", "y" if allocatable else "n", name],
              "change the allocatable flag of physical volume %s" % name)


#: Storage type -> field -> function applying a new value to the named unit.
_MODIFIERS: dict[str, dict[str, Callable[[str, Any], None]]] = {
    constants.ST_LVM_PV: {SF_ALLOCATABLE: _set_pv_allocatable},
}


def storage_modify(storage_type: str, args: list[Any], name: str,
                   changes: dict[str, Any]) -> None:
    """Apply ``changes`` (field -> new value) to one storage unit."""
    modifiers = _MODIFIERS.get(storage_type)
    if modifiers is None:
        raise errors.OpExecError("Storage units of type %r cannot be modified" % storage_type)
    unknown = sorted(set(changes) - set(modifiers))
    if unknown:
        raise errors.OpExecError("Fields %s of %s storage units cannot be modified (only %s)"
                                 % (", ".join(unknown), storage_type,
                                    ", ".join(sorted(modifiers))))
    _find_unit(storage_type, args, name)
    for field_name, value in sorted(changes.items()):
        modifiers[field_name](name, value)


def _missing_pvs(vg_name: str) -> list[str]:
    """Physical volumes of ``vg_name`` that LVM reports as missing."""
    out = plain.lvm(["pvs", "--noheadings", "--separator", "|", "-o", "pv_name,vg_name,pv_attr"],
                    "list the physical volumes of %s" % vg_name)
    missing = []
    for line in out.splitlines():
        parts = line.strip().split("|")
        if len(parts) == 3 and parts[1] == vg_name and "m" in parts[2][2:]:
            missing.append(parts[0])
    return missing


def _fix_vg_consistency(name: str) -> str:
    """vgreduce --removemissing; device-mapper is named when its absence is the cause."""
    plain.check_lvm_name(name, "volume group")
    try:
        plain.lvm(["vgreduce", "--removemissing", name],
                  "remove the missing physical volumes of %s" % name)
    except errors.BlockDeviceError as err:
        problem = plain.device_mapper_problem()
        hint = ("; device-mapper is not available on this node (%s), so volumes on the "
                "missing devices cannot be deactivated and removed" % problem
                if problem else "")
        raise errors.OpExecError("Repairing volume group %s failed: %s%s"
                                 % (name, err, hint)) from err
    still_missing = _missing_pvs(name)
    if still_missing:
        raise errors.OpExecError("Volume group %s still lists missing physical volumes "
                                 "after vgreduce: %s" % (name, ", ".join(still_missing)))
    return "Volume group %s is consistent" % name


#: Storage type -> operation -> function run on the named unit.
_OPERATIONS: dict[str, dict[str, Callable[[str], str]]] = {
    constants.ST_LVM_VG: {constants.SO_FIX_CONSISTENCY: _fix_vg_consistency},
}


def storage_execute(storage_type: str, args: list[Any], name: str, op: str) -> str:
    """Run operation ``op`` on one storage unit; returns what was done."""
    operation = _OPERATIONS.get(storage_type, {}).get(op)
    if operation is None:
        raise errors.OpExecError("Operation %r is not supported on %s storage units"
                                 % (op, storage_type))
    _find_unit(storage_type, args, name)
    return operation(name)


# -- node_volumes --------------------------------------------------------------------------

#: Where the lvm2 commands may be (sbin directories are not always in a daemon's PATH).
_LVM_SEARCH_PATH = "/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin"


def node_volumes() -> list[dict[str, Any]]:
    """Every logical volume with its physical device: name, vg, size (MiB), dev.

    A volume spread over several devices gets one entry per device, as in
    Ganeti. No lvm2 tools on the node means no volumes.
    """
    if shutil.which("lvs", path=_LVM_SEARCH_PATH) is None:
        return []
    out = plain.lvm(["lvs", "--noheadings", "--nosuffix", "--units", "m", "--separator", "|",
                     "-o", "lv_name,vg_name,lv_size,devices"], "list logical volumes")
    volumes = []
    for line in out.splitlines():
        parts = line.strip().split("|")
        if len(parts) != 4:
            continue
        name, vg, size, devices = parts
        for device in devices.split(","):
            volumes.append({constants.VF_NAME: name, constants.VF_VG: vg,
                            constants.VF_SIZE: int(float(size)),
                            constants.VF_DEV: device.split("(")[0]})
    return volumes
