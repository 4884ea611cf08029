"""The interface every hypervisor implements.

Instances arrive as the dictionaries the master sends over node RPC (name,
uuid, hvparams and beparams already filled with the cluster's defaults,
nics, disks, …). Block devices arrive assembled, as ``(disk dict, path,
uri)`` triples. Errors are ``errors.HypervisorError`` with a message naming
the instance and what went wrong.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

from ganeti import errors, ht, paramdefs, pathutils

#: Instance states reported in ``get_instance_info``'s "state" field.
HV_STATE_RUNNING = "running"
HV_STATE_PAUSED = "paused"
HV_STATE_SHUTDOWN = "shutdown"

#: Migration progress, as ``get_migration_status`` reports it (Ganeti's names).
HV_MIGRATION_ACTIVE = "active"
HV_MIGRATION_COMPLETED = "completed"
HV_MIGRATION_FAILED = "failed"
HV_MIGRATION_CANCELLED = "cancelled"

#: Console kinds for ``get_instance_console``.
CONS_MESSAGE = "msg"
CONS_SSH = "ssh"
CONS_VNC = "vnc"

InstanceDict = dict[str, Any]
InstanceInfo = dict[str, Any]
BlockDevice = tuple[dict[str, Any], str | None, str | None]


def instance_memory(instance: InstanceDict) -> int:
    """Memory the instance runs with, in MiB (beparams maxmem, legacy memory)."""
    beparams = instance.get("beparams") or {}
    value: Any = beparams.get("maxmem", beparams.get("memory"))
    if not ht.TPositiveInt(value):
        raise errors.HypervisorError(
            "Instance %s: beparam 'maxmem' must be a positive integer (MiB), got %s"
            % (instance.get("name"), ht.describe_value(value)))
    return int(value)


def instance_vcpus(instance: InstanceDict) -> int:
    beparams = instance.get("beparams") or {}
    value = beparams.get("vcpus", 1)
    if not ht.TPositiveInt(value):
        raise errors.HypervisorError(
            "Instance %s: beparam 'vcpus' must be a positive integer, got %s"
            % (instance.get("name"), ht.describe_value(value)))
    return int(value)


def instance_name(instance: InstanceDict) -> str:
    name = instance.get("name")
    if not ht.TNonEmptyString(name):
        raise errors.HypervisorError("Instance dictionary has no valid 'name': %s"
                                     % ht.describe_value(name))
    return str(name)


class BaseHypervisor(abc.ABC):
    """What the node backend needs from a hypervisor."""

    #: The hypervisor's name (constants.HT_*).
    NAME: ClassVar[str]
    #: Whether instances can be migrated (live or not).
    CAN_MIGRATE: ClassVar[bool] = False

    def __init__(self, paths: pathutils.Paths | None = None) -> None:
        self.paths = paths if paths is not None else pathutils.current()

    # -- parameters --------------------------------------------------------------
    @classmethod
    def parameters(cls) -> paramdefs.ParamFamily:
        """The hvparams this hypervisor accepts (declared in ``ganeti.paramdefs``)."""
        return paramdefs.hv_family(cls.NAME)

    @classmethod
    def check_parameter_syntax(cls, hvparams: dict[str, Any]) -> None:
        """Check names and types of hvparams without looking at this node.

        Raises ``errors.ParameterError`` naming the unknown parameter or bad value.
        """
        cls.parameters().check(hvparams, "hypervisor %s" % cls.NAME)

    def validate_parameters(self, hvparams: dict[str, Any]) -> None:
        """Check hvparams against this node (files exist, ports free, …).

        The syntax is checked too; hypervisors add their node-local checks.
        """
        self.check_parameter_syntax(hvparams)

    # -- node-level ----------------------------------------------------------------
    def ancillary_files(self) -> list[tuple[str, bool]]:
        """Files the master distributes for this hypervisor: (path, optional)."""
        return []

    @abc.abstractmethod
    def get_node_info(self, hvparams: dict[str, Any]) -> dict[str, Any]:
        """memory_total, memory_free, memory_dom0 (MiB), cpu_total, cpu_nodes, cpu_sockets…"""

    @abc.abstractmethod
    def verify(self, hvparams: dict[str, Any]) -> str | None:
        """A description of what is wrong with the hypervisor on this node, or None."""

    # -- instances -------------------------------------------------------------------
    @abc.abstractmethod
    def list_instances(self, hvparams: dict[str, Any]) -> list[str]:
        """Names of the instances running here."""

    @abc.abstractmethod
    def get_instance_info(self, name: str, hvparams: dict[str, Any]) -> InstanceInfo | None:
        """{memory, vcpus, state, time} of a running instance, None if not running."""

    def get_all_instances_info(self, hvparams: dict[str, Any]) -> dict[str, InstanceInfo]:
        result: dict[str, InstanceInfo] = {}
        for name in self.list_instances(hvparams):
            info = self.get_instance_info(name, hvparams)
            if info is not None:
                result[name] = info
        return result

    @abc.abstractmethod
    def start_instance(self, instance: InstanceDict, block_devices: list[BlockDevice],
                       startup_paused: bool) -> None:
        """Start an instance; an already running one is an error."""

    @abc.abstractmethod
    def stop_instance(self, instance: InstanceDict, force: bool = False,
                      timeout: int | None = None) -> None:
        """Stop an instance; a stopped one is left alone."""

    @abc.abstractmethod
    def reboot_instance(self, instance: InstanceDict) -> None:
        """Reboot a running instance (a stopped one is an error)."""

    def get_instance_console(self, instance: InstanceDict, primary_node: str,
                             hvparams: dict[str, Any]) -> dict[str, Any]:
        """How to reach the instance's console (kind and connection details)."""
        return {"instance": instance_name(instance), "kind": CONS_MESSAGE,
                "message": "Hypervisor %s offers no console" % self.NAME}

    # -- migration (called in this order) ------------------------------------------------
    def _no_migration(self, instance: InstanceDict) -> errors.HypervisorError:
        return errors.HypervisorError("Hypervisor %s cannot migrate instances (instance %s)"
                                      % (self.NAME, instance.get("name")))

    def migration_info(self, instance: InstanceDict) -> Any:
        """Source: data the target needs to accept the instance."""
        raise self._no_migration(instance)

    def accept_instance(self, instance: InstanceDict, info: Any, target: str) -> None:
        """Target: get ready to receive the instance."""
        raise self._no_migration(instance)

    def migrate_instance(self, cluster_name: str, instance: InstanceDict, target: str,
                         live: bool) -> None:
        """Source: send the instance to ``target``."""
        raise self._no_migration(instance)

    def finalize_migration_dst(self, instance: InstanceDict, info: Any,
                               success: bool) -> None:
        """Target: the instance runs here now (success) or the attempt is undone."""
        raise self._no_migration(instance)

    def finalize_migration_src(self, instance: InstanceDict, success: bool,
                               live: bool) -> None:
        """Source: forget the instance (success) or keep it running here."""
        raise self._no_migration(instance)

    def get_migration_status(self, instance: InstanceDict) -> dict[str, Any]:
        """{status, transferred_ram, total_ram} of the outgoing migration."""
        raise self._no_migration(instance)
