"""The ``diskless`` template: instances without disks.

There is nothing to create or attach; asking for a diskless block device is
a caller's mistake and is refused with a clear error. Space reporting
answers with zeros so node_info can treat every template alike.
"""

from __future__ import annotations

from typing import Any

from ganeti import constants, errors


def refuse_device(action: str) -> errors.BlockDeviceError:
    return errors.BlockDeviceError("Cannot %s: the %s template has no block devices"
                                   % (action, constants.DT_DISKLESS))


def get_space_info(key: str) -> dict[str, Any]:
    return {"type": constants.ST_DISKLESS, "name": key, "storage_size": 0, "storage_free": 0}
