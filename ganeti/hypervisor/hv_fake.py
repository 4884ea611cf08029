"""A hypervisor that runs nothing: instance state lives in files.

Each running instance is one JSON file in the node's fake-hypervisor state
directory, written atomically; an incoming migration is a second file beside
it. The rules match a real hypervisor's, so the layers above can be tested
and scaled without VMs: starting a running instance fails, stopping a
stopped one does nothing, rebooting a stopped one fails, the node's free
memory shrinks by what the instances use.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from typing import Any

import psutil

from ganeti import constants, errors, serializer
from ganeti.hypervisor import hv_base
from ganeti.utils import io

_RUNNING_SUFFIX = ".running"
_INCOMING_SUFFIX = ".incoming"
_LOCK_NAME = ".lock"
#: Parsed state files by path, with the (inode, mtime, size) they were read at: listing
#: hundreds of instances then costs a stat each instead of a read and a parse. State
#: files are replaced atomically (a new inode), so a changed file never matches.
_STATE_CACHE: dict[str, tuple[tuple[int, int, int], dict[str, Any]]] = {}
_MIB = 1024 * 1024


class FakeHypervisor(hv_base.BaseHypervisor):
    NAME = constants.HT_FAKE
    CAN_MIGRATE = True

    # -- state files ------------------------------------------------------------------
    @property
    def state_dir(self) -> str:
        return self.paths.hypervisor_state_dir(self.NAME)

    def _state_file(self, name: str, suffix: str = _RUNNING_SUFFIX) -> str:
        if "/" in name or name.startswith("."):
            raise errors.HypervisorError("Invalid instance name %r" % name)
        return os.path.join(self.state_dir, name + suffix)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialize state changes (noded runs calls in parallel children)."""
        io.ensure_dirs([(self.state_dir, 0o750)])
        with open(os.path.join(self.state_dir, _LOCK_NAME), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read_state(self, name: str, suffix: str = _RUNNING_SUFFIX) -> dict[str, Any] | None:
        path = self._state_file(name, suffix)
        try:
            stat = os.stat(path)
            key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
            cached = _STATE_CACHE.get(path)
            if cached is not None and cached[0] == key:
                return dict(cached[1])
            with open(path, encoding="utf-8") as handle:
                data = serializer.load(handle.read())
        except FileNotFoundError:
            _STATE_CACHE.pop(path, None)
            return None
        except ValueError as err:
            raise errors.HypervisorError("Fake hypervisor state of instance %s is corrupt: %s"
                                         % (name, err)) from err
        if not isinstance(data, dict):
            raise errors.HypervisorError("Fake hypervisor state of instance %s is not a "
                                         "dictionary" % name)
        _STATE_CACHE[path] = (key, data)
        return dict(data)

    def _write_state(self, name: str, state: dict[str, Any],
                     suffix: str = _RUNNING_SUFFIX) -> None:
        io.write_file_atomic(self._state_file(name, suffix), serializer.dump(state), 0o640)

    def _remove_state(self, name: str, suffix: str = _RUNNING_SUFFIX) -> None:
        path = self._state_file(name, suffix)
        _STATE_CACHE.pop(path, None)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)

    @staticmethod
    def _new_state(instance: hv_base.InstanceDict, paused: bool) -> dict[str, Any]:
        return {
            "name": hv_base.instance_name(instance),
            "uuid": instance.get("uuid"),
            "memory": hv_base.instance_memory(instance),
            "vcpus": hv_base.instance_vcpus(instance),
            "state": hv_base.HV_STATE_PAUSED if paused else hv_base.HV_STATE_RUNNING,
            "start_time": time.time(),
            "migration": None,
        }

    # -- node --------------------------------------------------------------------------
    def get_node_info(self, hvparams: dict[str, Any]) -> dict[str, Any]:
        memory = psutil.virtual_memory()
        total = memory.total // _MIB
        used_by_instances = sum(info["memory"]
                                for info in self.get_all_instances_info(hvparams).values())
        dom0 = (memory.total - memory.available) // _MIB
        cpus = psutil.cpu_count() or 1
        return {
            "memory_total": total,
            "memory_free": max(0, memory.available // _MIB - used_by_instances),
            "memory_dom0": dom0,
            "memory_hv": used_by_instances,
            "cpu_total": cpus,
            "cpu_dom0": cpus,
            "cpu_nodes": 1,
            "cpu_sockets": 1,
            "hv_version": (0, 0),
        }

    def verify(self, hvparams: dict[str, Any]) -> str | None:
        try:
            io.ensure_dirs([(self.state_dir, 0o750)])
        except OSError as err:
            return "fake hypervisor state directory %s is unusable: %s" % (self.state_dir, err)
        if not os.access(self.state_dir, os.W_OK):
            return "fake hypervisor state directory %s is not writable" % self.state_dir
        return None

    # -- instances -------------------------------------------------------------------------
    def list_instances(self, hvparams: dict[str, Any]) -> list[str]:
        try:
            entries = os.listdir(self.state_dir)
        except FileNotFoundError:
            return []
        return sorted(e[: -len(_RUNNING_SUFFIX)] for e in entries
                      if e.endswith(_RUNNING_SUFFIX) and not e.startswith("."))

    def get_instance_info(self, name: str, hvparams: dict[str, Any]) -> hv_base.InstanceInfo | None:
        state = self._read_state(name)
        if state is None:
            return None
        return {
            "memory": state["memory"],
            "vcpus": state["vcpus"],
            "state": state["state"],
            "time": max(0.0, round(time.time() - state["start_time"], 3)),
        }

    def start_instance(self, instance: hv_base.InstanceDict,
                       block_devices: list[hv_base.BlockDevice], startup_paused: bool) -> None:
        name = hv_base.instance_name(instance)
        state = self._new_state(instance, startup_paused)
        with self._locked():
            if self._read_state(name) is not None:
                raise errors.HypervisorError("Failed to start instance %s: already running"
                                             % name)
            if self._read_state(name, _INCOMING_SUFFIX) is not None:
                raise errors.HypervisorError("Failed to start instance %s: a migration to "
                                             "this node is in progress" % name)
            state["disks"] = [path for (_, path, _) in block_devices]
            self._write_state(name, state)

    def stop_instance(self, instance: hv_base.InstanceDict, force: bool = False,
                      timeout: int | None = None) -> None:
        name = hv_base.instance_name(instance)
        with self._locked():
            self._remove_state(name)

    def reboot_instance(self, instance: hv_base.InstanceDict) -> None:
        name = hv_base.instance_name(instance)
        with self._locked():
            state = self._read_state(name)
            if state is None:
                raise errors.HypervisorError("Failed to reboot instance %s: not running" % name)
            state["start_time"] = time.time()
            state["state"] = hv_base.HV_STATE_RUNNING
            self._write_state(name, state)

    def get_instance_console(self, instance: hv_base.InstanceDict, primary_node: str,
                             hvparams: dict[str, Any]) -> dict[str, Any]:
        return {"instance": hv_base.instance_name(instance), "kind": hv_base.CONS_MESSAGE,
                "message": "Console not available for fake hypervisor"}

    # -- migration ---------------------------------------------------------------------------
    # Source and target are separate nodes (separate state directories): the
    # target records an "incoming" file on accept and turns it into a running
    # one on finalize; the source marks its state "migrated" and forgets the
    # instance on finalize.

    def migration_info(self, instance: hv_base.InstanceDict) -> Any:
        name = hv_base.instance_name(instance)
        state = self._read_state(name)
        if state is None:
            raise errors.HypervisorError("Cannot migrate instance %s: not running" % name)
        return {"memory": state["memory"], "vcpus": state["vcpus"], "state": state["state"]}

    def accept_instance(self, instance: hv_base.InstanceDict, info: Any, target: str) -> None:
        name = hv_base.instance_name(instance)
        state = self._new_state(instance, paused=False)
        if isinstance(info, dict) and info.get("state") == hv_base.HV_STATE_PAUSED:
            state["state"] = hv_base.HV_STATE_PAUSED
        with self._locked():
            if self._read_state(name) is not None:
                raise errors.HypervisorError("Cannot accept instance %s: it already runs on "
                                             "this node" % name)
            self._write_state(name, state, _INCOMING_SUFFIX)

    def migrate_instance(self, cluster_name: str, instance: hv_base.InstanceDict, target: str,
                         live: bool) -> None:
        name = hv_base.instance_name(instance)
        with self._locked():
            state = self._read_state(name)
            if state is None:
                raise errors.HypervisorError("Cannot migrate instance %s: not running" % name)
            if state.get("migration") is not None:
                raise errors.HypervisorError("Cannot migrate instance %s: already migrated to "
                                             "%s" % (name, state["migration"]["target"]))
            state["migration"] = {"target": target, "live": live,
                                  "status": hv_base.HV_MIGRATION_COMPLETED}
            self._write_state(name, state)

    def finalize_migration_dst(self, instance: hv_base.InstanceDict, info: Any,
                               success: bool) -> None:
        name = hv_base.instance_name(instance)
        with self._locked():
            incoming = self._read_state(name, _INCOMING_SUFFIX)
            if incoming is None:
                if success:
                    raise errors.HypervisorError("Cannot finalize migration of instance %s: "
                                                 "it was not accepted on this node" % name)
                return
            if success:
                incoming["start_time"] = time.time()
                self._write_state(name, incoming)
            self._remove_state(name, _INCOMING_SUFFIX)

    def finalize_migration_src(self, instance: hv_base.InstanceDict, success: bool,
                               live: bool) -> None:
        name = hv_base.instance_name(instance)
        with self._locked():
            state = self._read_state(name)
            if state is None:
                return
            if success:
                self._remove_state(name)
            else:
                state["migration"] = None
                self._write_state(name, state)

    def get_migration_status(self, instance: hv_base.InstanceDict) -> dict[str, Any]:
        name = hv_base.instance_name(instance)
        state = self._read_state(name)
        if state is None or state.get("migration") is None:
            return {"status": hv_base.HV_MIGRATION_FAILED, "transferred_ram": 0,
                    "total_ram": 0, "info": "instance %s is not being migrated" % name}
        return {"status": state["migration"]["status"], "transferred_ram": state["memory"],
                "total_ram": state["memory"]}
