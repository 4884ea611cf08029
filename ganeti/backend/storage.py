"""Node side of storage_list: the storage units of a type and their fields.

Sizes are in MiB. Field names are Ganeti's (name, size, used, free,
allocatable, plus vg for physical volumes).
"""

from __future__ import annotations

import os
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
