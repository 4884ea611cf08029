"""Instance opcodes."""

from __future__ import annotations

from ganeti import constants, errors, ht
from ganeti.opcodes import params as p
from ganeti.opcodes.base import OpCode, Param

# Ganeti 3.0's defaults (3.1 made both checks opt-in).
_NAME_CHECK = p.flag("name_check", True, "Check that the name resolves")
_IP_CHECK = p.flag("ip_check", True,
                   "Check that the instance's IP address is not in use yet")


class OpInstanceCreate(OpCode):
    """Create an instance: new disks and an OS install, or an import."""

    SUMMARY_PARAM = "instance_name"
    OP_PARAMS = (
        p.INSTANCE_NAME,
        p.FORCE_VARIANT,
        p.WAIT_FOR_SYNC,
        _NAME_CHECK,
        p.IGNORE_IPOLICY,
        p.OPPORTUNISTIC_LOCKING,
        p.INST_BEPARAMS,
        p.req("disks", ht.TListOf(p.TDiskParams), "Disks of the instance"),
        p.OPT_DISK_TEMPLATE,
        p.OPT_GROUP_NAME.with_doc("Node group to place the instance in"),
        p.FILE_DRIVER,
        p.FILE_STORAGE_DIR,
        p.INST_HVPARAMS,
        p.HYPERVISOR,
        p.IALLOCATOR,
        p.flag("identify_defaults", False,
               "Store parameters equal to the cluster defaults as defaults"),
        _IP_CHECK,
        p.CONFLICTS_CHECK,
        p.req("mode", ht.TElemOf(constants.INSTANCE_CREATE_MODES),
              "Creation mode: create, import or remote-import"),
        p.req("nics", ht.TListOf(p.TNicParams), "Network interfaces of the instance"),
        p.opt("no_install", ht.TBool, "Do not install the OS (the instance is not started)"),
        p.INST_OSPARAMS,
        p.INST_OSPARAMS_PRIVATE,
        p.INST_OSPARAMS_SECRET,
        p.INST_OS,
        p.PRIMARY_NODE,
        p.PRIMARY_NODE_UUID,
        p.opt("snode", p.TName, "Secondary node"),
        p.opt("snode_uuid", p.TName, "UUID of the secondary node"),
        p.opt("source_handshake", ht.TList, "Signed handshake of the source (remote import)"),
        p.opt("source_instance_name", p.TName, "Name of the source instance (remote import)"),
        Param("source_shutdown_timeout", ht.TNonNegativeInt,
              constants.DEFAULT_SHUTDOWN_TIMEOUT,
              "Seconds the source instance had to shut down (remote import)"),
        p.opt("source_x509_ca", p.TName, "X509 CA of the source, PEM (remote import)"),
        p.opt("src_node", p.TName, "Node holding the export to import"),
        p.opt("src_node_uuid", p.TName, "UUID of the node holding the export"),
        p.opt("src_path", p.TName, "Directory of the export to import"),
        p.BACKUP_COMPRESS,
        p.flag("start", True, "Start the instance once created"),
        p.flag("forthcoming", False, "Only reserve the resources; create nothing"),
        p.flag("commit", False, "Create an instance whose resources were reserved"),
        p.INST_TAGS.with_doc("Tags of the instance"),
        p.INSTANCE_COMMUNICATION,
        p.opt("helper_startup_timeout", ht.TInt, "Seconds for the helper VM to start"),
        p.opt("helper_shutdown_timeout", ht.TInt, "Seconds for the helper VM to stop"),
    )


class OpInstanceMultiAlloc(OpCode):
    """Allocate several instances at once; each is an OpInstanceCreate."""

    OP_PARAMS = (
        p.OPPORTUNISTIC_LOCKING,
        p.IALLOCATOR,
        Param("instances", ht.TListOf(ht.TDict), [],
              "The instances, as OpInstanceCreate opcodes in JSON form"),
    )

    def check_consistency(self) -> None:
        for index, data in enumerate(self._values["instances"]):
            try:
                OpInstanceCreate.from_dict(data)
            except errors.OpPrereqError as err:
                raise errors.OpPrereqError(
                    "%s: parameter 'instances' item %d: %s"
                    % (type(self).__name__, index, err.args[0]), errors.ECODE_INVAL) from err

    def create_opcodes(self) -> list[OpInstanceCreate]:
        """The instances as validated OpInstanceCreate opcodes."""
        return [OpInstanceCreate.from_dict(data) for data in self._values["instances"]]


class OpInstanceReinstall(OpCode):
    """Reinstall an instance's OS, optionally another OS."""

    SUMMARY_PARAM = "instance_name"
    OP_PARAMS = (
        p.INSTANCE_NAME,
        p.INSTANCE_UUID,
        p.FORCE_VARIANT,
        p.INST_OS,
        p.opt("osparams", ht.TDict, "OS parameters for this reinstall only"),
        p.INST_OSPARAMS_PRIVATE.with_doc("Private OS parameters for this reinstall only"),
        p.INST_OSPARAMS_SECRET.with_doc("Secret OS parameters for this reinstall only"),
        p.flag("keep_known_osparams", False,
               "With another OS, keep the old OS parameters the new OS declares too"),
    )


class OpInstanceRemove(OpCode):
    """Remove an instance and its disks."""

    SUMMARY_PARAM = "instance_name"
    OP_PARAMS = (
        p.INSTANCE_NAME,
        p.INSTANCE_UUID,
        p.SHUTDOWN_TIMEOUT,
        p.flag("ignore_failures", False, "Remove it from the configuration despite errors"),
    )


class OpInstanceRename(OpCode):
    """Rename an instance."""

    OP_PARAMS = (
        p.INSTANCE_NAME,
        p.INSTANCE_UUID,
        p.NEW_NAME.with_doc("New name of the instance"),
        _NAME_CHECK,
        _IP_CHECK,
    )


class OpInstanceStartup(OpCode):
    """Start an instance."""

    SUMMARY_PARAM = "instance_name"
    OP_PARAMS = (
        p.INSTANCE_NAME,
        p.INSTANCE_UUID,
        p.FORCE,
        p.IGNORE_OFFLINE_NODES,
        Param("hvparams", ht.TDict, {}, "Hypervisor parameters for this start only"),
        Param("beparams", ht.TDict, {}, "Backend parameters for this start only"),
        p.NO_REMEMBER,
        p.flag("startup_paused", False, "Start with the virtual CPUs paused"),
        # Used to clean up an instance the user shut down from inside.
        p.SHUTDOWN_TIMEOUT,
    )


class OpInstanceShutdown(OpCode):
    """Stop an instance."""

    SUMMARY_PARAM = "instance_name"
    OP_PARAMS = (
        p.INSTANCE_NAME,
        p.INSTANCE_UUID,
        p.FORCE,
        p.IGNORE_OFFLINE_NODES,
        # Ganeti names this one "timeout", unlike the other opcodes.
        Param("timeout", ht.TNonNegativeInt, constants.DEFAULT_SHUTDOWN_TIMEOUT,
              "Seconds to wait for the instance to shut down"),
        p.NO_REMEMBER,
        p.opt("admin_state_source", ht.TElemOf(constants.ADMIN_STATE_SOURCES),
              "Who changed the state: admin or user"),
    )


class OpInstanceReboot(OpCode):
    """Reboot an instance."""

    SUMMARY_PARAM = "instance_name"
    OP_PARAMS = (
        p.INSTANCE_NAME,
        p.INSTANCE_UUID,
        p.SHUTDOWN_TIMEOUT,
        p.flag("ignore_secondaries", False,
               "Reboot even if the secondary disks cannot be activated"),
        p.req("reboot_type", ht.TElemOf(constants.REBOOT_TYPES),
              "Kind of reboot: soft, hard or full"),
    )


class OpInstanceReplaceDisks(OpCode):
    """Replace an instance's mirrored disks."""

    SUMMARY_PARAM = "instance_name"
    OP_PARAMS = (
        p.INSTANCE_NAME,
        p.INSTANCE_UUID,
        p.EARLY_RELEASE,
        p.IGNORE_IPOLICY,
        p.req("mode", ht.TElemOf(constants.REPLACE_MODES), "Replacement mode"),
        Param("disks", ht.TListOf(p.TDiskIndex), [], "Disks to replace (empty: all)"),
        p.REMOTE_NODE,
        p.REMOTE_NODE_UUID,
        p.IALLOCATOR,
    )


class OpInstanceFailover(OpCode):
    """Fail an instance over to its secondary (or, for shared storage, another) node."""

    SUMMARY_PARAM = "instance_name"
    OP_PARAMS = (
        p.INSTANCE_NAME,
        p.INSTANCE_UUID,
        p.SHUTDOWN_TIMEOUT,
        p.IGNORE_CONSISTENCY,
        p.MIGRATION_TARGET_NODE,
        p.MIGRATION_TARGET_NODE_UUID,
        p.IGNORE_IPOLICY,
        p.MIGRATION_CLEANUP,
        p.IALLOCATOR,
    )


class OpInstanceMigrate(OpCode):
    """Migrate a running instance to its secondary (or another) node."""

    SUMMARY_PARAM = "instance_name"
    OP_PARAMS = (
        p.INSTANCE_NAME,
        p.INSTANCE_UUID,
        p.MIGRATION_MODE,
        p.MIGRATION_LIVE,
        p.MIGRATION_TARGET_NODE,
        p.MIGRATION_TARGET_NODE_UUID,
        p.ALLOW_RUNTIME_CHANGES,
        p.IGNORE_IPOLICY,
        p.MIGRATION_CLEANUP,
        p.IALLOCATOR,
        p.flag("allow_failover", False, "Fail over when migration is not possible"),
        p.flag("ignore_hvversions", False, "Migrate despite differing hypervisor versions"),
    )


class OpInstanceMove(OpCode):
    """Move an instance to another node by copying its disks."""

    SUMMARY_PARAM = "instance_name"
    OP_PARAMS = (
        p.INSTANCE_NAME,
        p.INSTANCE_UUID,
        p.SHUTDOWN_TIMEOUT,
        p.IGNORE_IPOLICY,
        p.req("target_node", p.TName, "Node to move the instance to"),
        p.opt("target_node_uuid", p.TName, "UUID of the target node"),
        Param("compress", ht.TNonEmptyString, constants.IEC_NONE,
              "Compression tool for the disk copy"),
        p.IGNORE_CONSISTENCY,
    )


class OpInstanceConsole(OpCode):
    """Return how to reach an instance's console."""

    SUMMARY_PARAM = "instance_name"
    OP_PARAMS = (p.INSTANCE_NAME, p.INSTANCE_UUID)


class OpInstanceActivateDisks(OpCode):
    """Activate an instance's disks on its nodes."""

    SUMMARY_PARAM = "instance_name"
    OP_PARAMS = (
        p.INSTANCE_NAME,
        p.INSTANCE_UUID,
        p.flag("ignore_size", False, "Do not check the recorded disk sizes"),
        p.WAIT_FOR_SYNC.with_default(False),
    )


class OpInstanceDeactivateDisks(OpCode):
    """Deactivate an instance's disks."""

    SUMMARY_PARAM = "instance_name"
    OP_PARAMS = (p.INSTANCE_NAME, p.INSTANCE_UUID, p.FORCE)


class OpInstanceRecreateDisks(OpCode):
    """Recreate an instance's missing disks, optionally on other nodes."""

    SUMMARY_PARAM = "instance_name"
    OP_PARAMS = (
        p.INSTANCE_NAME,
        p.INSTANCE_UUID,
        Param("disks", p.TRecreateDisks, [], "Disks to recreate, with changes (empty: all)"),
        p.NODES.with_doc("New nodes of the instance, to relocate it"),
        p.NODE_UUIDS.with_doc("UUIDs of the new nodes of the instance"),
        p.IALLOCATOR,
    )


class OpInstanceQueryData(OpCode):
    """Return detailed information on instances (gnt-instance info)."""

    OP_PARAMS = (
        p.USE_LOCKING,
        p.INSTANCES,
        p.flag("static", False, "Only report the configuration; do not ask the nodes"),
    )


class OpInstanceSetParams(OpCode):
    """Change an instance's parameters, NICs and disks (gnt-instance modify)."""

    SUMMARY_PARAM = "instance_name"
    OP_PARAMS = (
        p.INSTANCE_NAME,
        p.INSTANCE_UUID,
        p.FORCE,
        p.FORCE_VARIANT,
        p.IGNORE_IPOLICY,
        Param("nics", p.TDeviceMods(p.TNicParams, "NIC"), [], "NIC changes"),
        Param("disks", p.TDeviceMods(p.TDiskParams, "disk"), [], "Disk changes"),
        p.INST_BEPARAMS,
        p.opt("runtime_mem", ht.TPositiveInt, "Memory to give the running instance (MiB)"),
        p.INST_HVPARAMS,
        p.OPT_DISK_TEMPLATE.with_doc("New disk template"),
        Param("ext_params", ht.TDict, {}, "ExtStorage parameters for a template change"),
        p.FILE_DRIVER,
        p.FILE_STORAGE_DIR,
        p.PRIMARY_NODE,
        p.PRIMARY_NODE_UUID,
        p.REMOTE_NODE.with_doc("Secondary node, when changing the disk template"),
        p.REMOTE_NODE_UUID.with_doc("UUID of the secondary node, when changing the template"),
        p.IALLOCATOR,
        p.opt("os_name", p.TName, "New OS of the instance (no reinstall)"),
        p.INST_OSPARAMS,
        p.INST_OSPARAMS_PRIVATE,
        p.WAIT_FOR_SYNC,
        p.OFFLINE.with_doc("Mark the instance offline (or online again)"),
        p.CONFLICTS_CHECK,
        # Ganeti 3.0's defaults (3.1 hotplugs by default).
        p.flag("hotplug", False, "Apply NIC and disk changes to the running instance"),
        p.flag("hotplug_if_possible", False,
               "Hotplug when the hypervisor supports it, else apply at next start"),
        p.opt("instance_communication", ht.TBool,
              "Enable or disable the communication channel between instance and host"),
    )


class OpInstanceGrowDisk(OpCode):
    """Grow one of an instance's disks."""

    SUMMARY_PARAM = "instance_name"
    OP_PARAMS = (
        p.INSTANCE_NAME,
        p.INSTANCE_UUID,
        p.WAIT_FOR_SYNC,
        p.req("disk", p.TDiskIndex, "Index of the disk"),
        p.req("amount", ht.TNonNegativeInt, "Size to add, or the new size (MiB)"),
        p.flag("absolute", False, "Whether 'amount' is the new size rather than the growth"),
        p.IGNORE_IPOLICY,
    )


class OpInstanceChangeGroup(OpCode):
    """Move an instance to another node group: submits the jobs that do it."""

    SUMMARY_PARAM = "instance_name"
    OP_PARAMS = (
        p.INSTANCE_NAME,
        p.INSTANCE_UUID,
        p.EARLY_RELEASE,
        p.IALLOCATOR,
        p.TARGET_GROUPS,
    )
