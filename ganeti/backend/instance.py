"""Node side of the instance procedures: start, stop, reboot, info, migration.

Instances arrive as dictionaries with filled hvparams and beparams and full
disk dictionaries. The hypervisor named by the instance does the work;
this module adds the node's part around it (the disks' stable links, the
already-running and already-stopped cases).
"""

from __future__ import annotations

import logging
from typing import Any

from ganeti import constants, errors, hypervisor, storage
from ganeti.backend import bdev
from ganeti.backend import os as os_backend
from ganeti.hypervisor import hv_base

InstanceDict = dict[str, Any]


def _hypervisor_of(instance: InstanceDict) -> hv_base.BaseHypervisor:
    return hypervisor.get_hypervisor(str(instance.get("hypervisor")))


def _is_running(hv: hv_base.BaseHypervisor, instance: InstanceDict) -> bool:
    name = hv_base.instance_name(instance)
    return name in hv.list_instances(instance.get("hvparams") or {})


def _gather_block_devices(instance: InstanceDict) -> list[hv_base.BlockDevice]:
    """The instance's assembled disks as (disk, link path, uri), links refreshed."""
    name = hv_base.instance_name(instance)
    result: list[hv_base.BlockDevice] = []
    for idx, disk in enumerate(instance.get("disks") or []):
        device = storage.device_from_disk(disk)
        if not device.exists():
            raise errors.BlockDeviceError("Cannot start instance %s: disk %d (%s) is not set "
                                          "up on this node" % (name, idx, device.describe()))
        path = device.dev_path
        if path is not None:
            path = bdev.link_disk(name, idx, path)
        result.append((disk, path, device.user_space_uri()))
    return result


def instance_start(instance: InstanceDict, startup_paused: bool) -> None:
    """Start an instance; one already running here is left as it is."""
    hv = _hypervisor_of(instance)
    name = hv_base.instance_name(instance)
    if _is_running(hv, instance):
        logging.info("Instance %s is already running, not starting it", name)
        return
    block_devices = _gather_block_devices(instance)
    try:
        hv.start_instance(instance, block_devices, startup_paused)
    except errors.GenericError:
        bdev.unlink_disks(name, len(block_devices))
        raise


def instance_shutdown(instance: InstanceDict, timeout: int) -> None:
    """Stop an instance; stopping a stopped one does nothing."""
    hv = _hypervisor_of(instance)
    name = hv_base.instance_name(instance)
    if _is_running(hv, instance):
        hv.stop_instance(instance, force=False, timeout=timeout)
        if _is_running(hv, instance):
            logging.warning("Instance %s did not stop within %ds, forcing it", name, timeout)
            hv.stop_instance(instance, force=True)
        if _is_running(hv, instance):
            raise errors.HypervisorError("Could not stop instance %s" % name)
    bdev.unlink_disks(name, len(instance.get("disks") or []))


def instance_reboot(instance: InstanceDict, reboot_type: str, shutdown_timeout: int) -> None:
    """Reboot a running instance: soft (by the hypervisor) or hard (stop and start).

    A full reboot (disks re-activated too) is driven by the master as
    shutdown, disk deactivation and activation, and start.
    """
    hv = _hypervisor_of(instance)
    name = hv_base.instance_name(instance)
    if not _is_running(hv, instance):
        raise errors.HypervisorError("Cannot reboot instance %s: it is not running" % name)
    if reboot_type == constants.INSTANCE_REBOOT_SOFT:
        hv.reboot_instance(instance)
    elif reboot_type == constants.INSTANCE_REBOOT_HARD:
        instance_shutdown(instance, shutdown_timeout)
        instance_start(instance, False)
    else:
        raise errors.HypervisorError("Invalid reboot type %r for instance %s on the node "
                                     "(expected %s or %s; full reboots are done by the "
                                     "master)" % (reboot_type, name,
                                                  constants.INSTANCE_REBOOT_SOFT,
                                                  constants.INSTANCE_REBOOT_HARD))


def instance_info(instance_name: str, hypervisor_name: str,
                  hvparams: dict[str, Any]) -> dict[str, Any] | None:
    return hypervisor.get_hypervisor(hypervisor_name).get_instance_info(instance_name,
                                                                          hvparams)


def all_instances_info(hypervisors: list[str],
                       hvparams: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Running instances of every listed hypervisor; a name seen twice is an error."""
    result: dict[str, dict[str, Any]] = {}
    for hv_name in hypervisors:
        infos = hypervisor.get_hypervisor(hv_name).get_all_instances_info(
            hvparams.get(hv_name) or {})
        for name, info in infos.items():
            if name in result:
                raise errors.HypervisorError("Instance %s is reported by more than one "
                                             "hypervisor" % name)
            result[name] = info
    return result


def instance_list(hypervisors: list[str], hvparams: dict[str, dict[str, Any]]) -> list[str]:
    names: set[str] = set()
    for hv_name in hypervisors:
        names.update(hypervisor.get_hypervisor(hv_name).list_instances(
            hvparams.get(hv_name) or {}))
    return sorted(names)


def instance_os_add(instance: InstanceDict, reinstall: bool, debug: int) -> None:
    os_backend.run_instance_script(instance, os_backend.SCRIPT_CREATE, debug,
                                   {"INSTANCE_REINSTALL": "1"} if reinstall else {})


def instance_run_rename(instance: InstanceDict, old_name: str, debug: int) -> None:
    os_backend.run_instance_script(instance, os_backend.SCRIPT_RENAME, debug,
                                   {"OLD_INSTANCE_NAME": old_name})


# -- migration ---------------------------------------------------------------------------

def migration_info(instance: InstanceDict) -> Any:
    return _hypervisor_of(instance).migration_info(instance)


def accept_instance(instance: InstanceDict, info: Any, target: str) -> None:
    _hypervisor_of(instance).accept_instance(instance, info, target)


def instance_migrate(cluster_name: str, instance: InstanceDict, target: str,
                     live: bool) -> None:
    _hypervisor_of(instance).migrate_instance(cluster_name, instance, target, live)


def finalize_migration_dst(instance: InstanceDict, info: Any, success: bool) -> None:
    _hypervisor_of(instance).finalize_migration_dst(instance, info, success)


def finalize_migration_src(instance: InstanceDict, success: bool, live: bool) -> None:
    _hypervisor_of(instance).finalize_migration_src(instance, success, live)
    if success:
        bdev.unlink_disks(hv_base.instance_name(instance), len(instance.get("disks") or []))


def get_migration_status(instance: InstanceDict) -> dict[str, Any]:
    return _hypervisor_of(instance).get_migration_status(instance)


def console_info(instances: list[InstanceDict]) -> dict[str, dict[str, Any]]:
    """How to reach each instance's console, by name."""
    return {hv_base.instance_name(inst): _hypervisor_of(inst).get_instance_console(
                inst, str(inst.get("primary_node", "")), inst.get("hvparams") or {})
            for inst in instances}
