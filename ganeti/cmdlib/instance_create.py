"""LUInstanceCreate: a new instance with new disks and an OS install.

Order of work, each step undone if a later one fails (no orphan disks, no
half-added configuration): disks created on the nodes, instance added to the
configuration, disks activated and the OS create script run, instance
started. Everything that can be checked without touching a node is checked
first, so bad input changes nothing.

Locking: the new instance's name is added to the instance locks (held
exclusively; a second job creating the same name fails there), nodes are
locked shared so that many creations run side by side; the BGL is shared.
"""

from __future__ import annotations

import contextlib
from typing import Any

from ganeti import constants, errors, ht, locking, netutils, objects, opcodes, paramdefs
from ganeti.cmdlib import instance_import, lu_for, nic_networks, os_params
from ganeti.cmdlib import instance_utils as iu
from ganeti.cmdlib.base import FeedbackFn, LogicalUnit
from ganeti.config import RES_NAME
from ganeti.utils import units

_AUTO_MAC = (None, "", constants.VALUE_AUTO, constants.VALUE_GENERATE)


def parse_disk_specs(template: str, disks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Checked disk definitions (size in MiB); OpPrereqError naming the disk."""
    if template == constants.DT_DISKLESS:
        if disks:
            raise errors.OpPrereqError("Disk template diskless takes no disks, got %d"
                                       % len(disks), errors.ECODE_INVAL)
        return []
    if not disks:
        raise errors.OpPrereqError("Disk template %s needs at least one disk (--disk 0:size=…)"
                                   % template, errors.ECODE_INVAL)
    result = []
    for index, disk in enumerate(disks):
        if constants.IDISK_ADOPT in disk:
            raise errors.OpPrereqError("Disk %d: adopting existing volumes is not supported"
                                       % index, errors.ECODE_INVAL)
        if constants.IDISK_SIZE not in disk:
            raise errors.OpPrereqError("Disk %d: missing size (e.g. --disk %d:size=1g)"
                                       % (index, index), errors.ECODE_INVAL)
        try:
            size = units.parse_unit(str(disk[constants.IDISK_SIZE]))
        except errors.GenericError as err:
            raise errors.OpPrereqError("Disk %d: invalid size %r: %s"
                                       % (index, disk[constants.IDISK_SIZE], err),
                                       errors.ECODE_INVAL) from err
        if size <= 0:
            raise errors.OpPrereqError("Disk %d: size must be positive, got %r"
                                       % (index, disk[constants.IDISK_SIZE]),
                                       errors.ECODE_INVAL)
        mode = disk.get(constants.IDISK_MODE) or constants.DISK_RDWR
        if mode not in constants.DISK_ACCESS_SET:
            raise errors.OpPrereqError("Disk %d: invalid mode %r (expected %s)"
                                       % (index, mode, " or ".join(
                                           sorted(constants.DISK_ACCESS_SET))),
                                       errors.ECODE_INVAL)
        result.append({constants.IDISK_SIZE: size, constants.IDISK_MODE: mode,
                       constants.IDISK_NAME: disk.get(constants.IDISK_NAME),
                       constants.IDISK_VG: disk.get(constants.IDISK_VG)})
    return result


def parse_nic_specs(nics: list[dict[str, Any]], instance_ip: str | None
                    ) -> list[dict[str, Any]]:
    """Checked NIC definitions; OpPrereqError naming the NIC and the bad value."""
    result = []
    for index, nic in enumerate(nics):
        network = nic.get(constants.INIC_NETWORK)
        if not network or network.lower() == constants.VALUE_NONE:
            network = None
        elif nic.get(constants.INIC_MODE) or nic.get(constants.INIC_LINK):
            raise errors.OpPrereqError("NIC %d: with a network (%s) the mode and link come from"
                                       " the node group's connection; do not give them"
                                       % (index, network), errors.ECODE_INVAL)
        mac = nic.get(constants.INIC_MAC)
        if mac not in _AUTO_MAC and not ht.TMacAddress(mac):
            raise errors.OpPrereqError("NIC %d: invalid MAC address %r (expected"
                                       " xx:xx:xx:xx:xx:xx, 'auto' or 'generate')"
                                       % (index, mac), errors.ECODE_INVAL)
        ip = nic.get(constants.INIC_IP)
        if ip in ("", constants.VALUE_NONE):
            ip = None
        elif ip == constants.VALUE_AUTO:
            if instance_ip is None:
                raise errors.OpPrereqError("NIC %d: ip=auto needs the name check (the IP is"
                                           " the instance name's)" % index,
                                           errors.ECODE_INVAL)
            ip = instance_ip
        elif ip == constants.NIC_IP_POOL:
            if network is None:
                raise errors.OpPrereqError("NIC %d: ip=pool needs a network (network=NAME)"
                                           % index, errors.ECODE_INVAL)
        elif ip is not None and not netutils.is_valid_ip(ip):
            raise errors.OpPrereqError("NIC %d: invalid IP address %r" % (index, ip),
                                       errors.ECODE_INVAL)
        nicparams: dict[str, Any] = {}
        mode = nic.get(constants.INIC_MODE)
        if mode:
            if mode not in constants.NIC_VALID_MODES:
                raise errors.OpPrereqError("NIC %d: invalid mode %r (expected one of %s)"
                                           % (index, mode, ", ".join(
                                               sorted(constants.NIC_VALID_MODES))),
                                           errors.ECODE_INVAL)
            nicparams[paramdefs.NIC_MODE] = mode
        link = nic.get(constants.INIC_LINK) or nic.get(constants.INIC_BRIDGE)
        if link:
            nicparams[paramdefs.NIC_LINK] = link
        if nic.get(constants.INIC_VLAN):
            nicparams[paramdefs.NIC_VLAN] = nic[constants.INIC_VLAN]
        result.append({"mac": mac, "ip": ip, "name": nic.get(constants.INIC_NAME) or None,
                       "nicparams": nicparams, "network": network})
    return result


@lu_for(opcodes.OpInstanceCreate)
class LUInstanceCreate(LogicalUnit):
    """Create an instance (mode "create", or "import" from an export: instance_import)."""

    HPATH = "instance-add"
    HTYPE = constants.HTYPE_INSTANCE
    REQ_BGL = False

    # -- arguments ------------------------------------------------------------------------

    def check_arguments(self) -> None:
        op = self.op
        self.import_source: instance_import.ImportSource | None = None
        if op.mode == constants.INSTANCE_IMPORT:
            self.import_source = instance_import.read_export(self)  # fills the opcode
        elif op.mode != constants.INSTANCE_CREATE:
            raise errors.OpPrereqError("Instance creation mode %r is not supported yet (only"
                                       " %r and %r)" % (op.mode, constants.INSTANCE_CREATE,
                                                        constants.INSTANCE_IMPORT),
                                       errors.ECODE_INVAL)
        if op.get("forthcoming") or op.get("commit"):
            raise errors.OpPrereqError("Forthcoming instances are not supported yet",
                                       errors.ECODE_INVAL)
        template = op.get("disk_template")
        if not template:
            raise errors.OpPrereqError("No disk template given (-t/--disk-template)",
                                       errors.ECODE_INVAL)
        if template not in iu.SUPPORTED_TEMPLATES:
            raise errors.OpPrereqError("Disk template %s is not supported for new instances"
                                       " (supported: %s)" % (template, ", ".join(
                                           sorted(iu.SUPPORTED_TEMPLATES))),
                                       errors.ECODE_INVAL)
        self.template = template
        self.disk_specs = parse_disk_specs(template, list(op.disks))
        if not op.get("os_type"):
            raise errors.OpPrereqError("No OS given (-o/--os-type)", errors.ECODE_INVAL)
        if op.get("pnode") and op.get("iallocator"):
            raise errors.OpPrereqError("Give either a primary node (-n) or an allocator (-I),"
                                       " not both", errors.ECODE_INVAL)
        if op.get("snode"):
            raise errors.OpPrereqError("Disk template %s takes no secondary node" % template,
                                       errors.ECODE_INVAL)
        if op.ip_check and not op.name_check:
            raise errors.OpPrereqError("The IP check needs the name check (--no-ip-check with"
                                       " --no-name-check)", errors.ECODE_INVAL)
        self.instance_name = op.instance_name
        self.instance_ip: str | None = None
        if op.name_check:
            try:
                self.instance_name, self.instance_ip = netutils.resolve(
                    op.instance_name, self.context.paths)
            except errors.ResolverError as err:
                raise errors.OpPrereqError("Instance name %s does not resolve (%s); use"
                                           " --no-name-check to skip the check"
                                           % (op.instance_name, err),
                                           errors.ECODE_RESOLVER) from err
        self.nic_specs = parse_nic_specs(list(op.nics), self.instance_ip)
        for tag in op.get("tags") or []:
            from ganeti.cmdlib.tags import validate_tag

            validate_tag(tag)

    # -- locks ----------------------------------------------------------------------------

    def expand_names(self) -> None:
        self.ec_id = "instance-create-%s-%s" % (self.owner, self.instance_name)
        self._lock_added = False
        if self.cfg.find_instance(self.instance_name) is not None:
            raise errors.OpPrereqError("Instance '%s' already exists" % self.instance_name,
                                       errors.ECODE_EXISTS)
        self.needed_locks = {locking.LEVEL_INSTANCE: []}
        if self.op.get("pnode"):
            self.pnode_uuid = self.expand_node(self.op.pnode)[0]
            self.needed_locks[locking.LEVEL_NODE] = [self.pnode_uuid]
        else:
            self.pnode_uuid = ""
            self.needed_locks[locking.LEVEL_NODE] = locking.ALL_SET
        instance_import.add_source_lock(self, self.import_source)
        self.share_locks[locking.LEVEL_NODE] = True

    def declare_locks(self, level: int) -> None:
        if level == locking.LEVEL_INSTANCE:
            try:
                self.glm.add(self.owner, locking.LEVEL_INSTANCE, self.instance_name,
                             acquired=True)
            except errors.LockError as err:
                raise errors.OpPrereqError("Instance '%s' already exists or is being created"
                                           % self.instance_name,
                                           errors.ECODE_EXISTS) from err
            self._lock_added = True

    def _drop_lock(self) -> None:
        if self._lock_added:
            with contextlib.suppress(errors.GenericError):
                self.glm.remove(self.owner, locking.LEVEL_INSTANCE, self.instance_name)
            self._lock_added = False
        self.cfg.release_reservations(self.ec_id)

    # -- prerequisites ----------------------------------------------------------------------

    def check_prereq(self) -> None:
        try:
            self._check_prereq()
        except BaseException:
            self._drop_lock()
            raise

    def _check_prereq(self) -> None:
        op, cfg = self.op, self.cfg
        cluster = cfg.get_cluster_info()
        if cfg.find_instance(self.instance_name) is not None:
            raise errors.OpPrereqError("Instance '%s' already exists" % self.instance_name,
                                       errors.ECODE_EXISTS)
        try:
            cfg.reserve(RES_NAME, self.instance_name, self.ec_id)
        except errors.ReservationError as err:
            raise errors.OpPrereqError("Instance '%s' is being created by another job"
                                       % self.instance_name, errors.ECODE_EXISTS) from err
        if self.template not in cluster.enabled_disk_templates:
            raise errors.OpPrereqError("Disk template %s is not enabled on this cluster"
                                       " (enabled: %s)" % (self.template, ", ".join(
                                           cluster.enabled_disk_templates)),
                                       errors.ECODE_STATE)
        self.hypervisor = op.get("hypervisor") or (cluster.enabled_hypervisors or [""])[0]
        if self.hypervisor not in cluster.enabled_hypervisors:
            raise errors.OpPrereqError("Hypervisor %s is not enabled on this cluster"
                                       " (enabled: %s)" % (self.hypervisor, ", ".join(
                                           cluster.enabled_hypervisors)),
                                       errors.ECODE_STATE)
        try:
            cluster.fill_hvparams_for(self.hypervisor, op.os_type, op.get("hvparams") or {})
            self.beparams_filled = cluster.fill_beparams(op.get("beparams") or {})
        except errors.ParameterError as err:
            raise errors.OpPrereqError("Instance %s: %s" % (self.instance_name, err),
                                       errors.ECODE_INVAL) from err
        if op.ip_check and self.instance_ip and _address_alive(self.instance_ip):
            raise errors.OpPrereqError("IP address %s of instance %s is already in use"
                                       % (self.instance_ip, self.instance_name),
                                       errors.ECODE_NOTUNIQUE)
        if not self.pnode_uuid:
            from ganeti import allocator

            chosen = allocator.choose_nodes(
                self, op.get("iallocator"), name=self.instance_name,
                disk_template=self.template,
                memory=int(self.beparams_filled[paramdefs.BE_MAXMEM]),
                vcpus=int(self.beparams_filled[paramdefs.BE_VCPUS]),
                disks=self.disk_specs, nics=self.nic_specs, os=op.os_type,
                hypervisor=self.hypervisor, tags=list(op.get("tags") or []),
                group_name=op.get("group_name"))
            self.pnode_uuid = chosen[0]
        pnode = iu.check_node_online(cfg, self.pnode_uuid, "create instances on it")
        if pnode.drained:
            raise errors.OpPrereqError("Node %s is drained: no new instances go there"
                                       % pnode.name, errors.ECODE_STATE)
        if not pnode.vm_capable:
            raise errors.OpPrereqError("Node %s is not vm_capable: it cannot host instances"
                                       % pnode.name, errors.ECODE_STATE)
        self.pnode_name = pnode.name
        nic_networks.resolve_nic_networks(self, self.nic_specs, pnode, bool(op.conflicts_check))
        # OS, variant and OS parameters (the OS's verify script runs on the node).
        self.osparams_effective = os_params.check_os_params(
            self, [self.pnode_uuid], op.os_type, op.get("osparams"),
            op.get("osparams_private"), op.get("osparams_secret"),
            force_variant=bool(op.get("force_variant")))
        self.instance = self._build_instance()
        self.disks = iu.generate_disks(self, self.template, self.disk_specs,
                                       self.instance_name, self.pnode_uuid, self.ec_id,
                                       file_driver=op.get("file_driver"),
                                       file_subdir=op.get("file_storage_dir"))
        if op.start:
            iu.check_node_free_memory(self, self.pnode_uuid,
                                      "starting instance %s" % self.instance_name,
                                      int(self.beparams_filled[paramdefs.BE_MAXMEM]),
                                      self.hypervisor)

    def _build_instance(self) -> objects.Instance:
        op, cfg = self.op, self.cfg
        nics = []
        for index, spec in enumerate(self.nic_specs):
            network_uuid = spec.get("network_uuid")
            mac = spec["mac"]
            if mac in _AUTO_MAC:
                mac = cfg.generate_mac(self.ec_id, network_uuid)
            else:
                try:
                    cfg.reserve_mac(mac, self.ec_id)
                except errors.ReservationError as err:
                    raise errors.OpPrereqError("MAC address %s is already in use" % mac,
                                               errors.ECODE_NOTUNIQUE) from err
            ip = spec["ip"]
            if network_uuid is not None:
                ip = nic_networks.reserve_nic_ip(self, index, network_uuid, ip, self.ec_id,
                                       bool(op.conflicts_check))
            nics.append(objects.NIC(uuid=cfg.generate_uuid(self.ec_id), name=spec["name"],
                                    mac=mac, ip=ip, nicparams=spec["nicparams"],
                                    network=network_uuid))
        beparams = paramdefs.BEPARAMS.resolve_aliases(dict(op.get("beparams") or {}))
        return objects.Instance(
            uuid=cfg.generate_uuid(self.ec_id), name=self.instance_name,
            primary_node=self.pnode_uuid, os=op.os_type, hypervisor=self.hypervisor,
            hvparams=dict(op.get("hvparams") or {}), beparams=beparams,
            osparams=dict(op.get("osparams") or {}),
            osparams_private=dict(op.get("osparams_private") or {}),
            admin_state=constants.ADMINST_DOWN, nics=nics, disks=[],
            disks_active=False, tags=list(op.get("tags") or []))

    # -- hooks ------------------------------------------------------------------------------

    def build_hooks_env(self) -> dict[str, Any]:
        return iu.instance_hooks_env(self.cfg, self.instance, self.disks,
                                     {"ADD_MODE": self.op.mode,
                                      **instance_import.hooks_env(self.import_source)})

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        return iu.instance_hooks_nodes(self.cfg, self.instance, self.disks)

    # -- exec --------------------------------------------------------------------------------

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        try:
            return self._create(feedback_fn)
        finally:
            self.cfg.release_reservations(self.ec_id)

    def _create(self, feedback_fn: FeedbackFn) -> Any:
        inst, op = self.instance, self.op
        if self.disks:
            self.log_info("Creating %d %s disk(s) on node %s", len(self.disks), self.template,
                          self.pnode_name)
        try:
            iu.create_disks(self, inst, self.disks)
        except BaseException:
            self._drop_lock()
            raise
        if op.start:
            # Recorded with the instance: one configuration save (and distribution)
            # instead of three; a failed start removes the instance anyway.
            inst.admin_state = constants.ADMINST_UP
            inst.disks_active = True
        try:
            self.cfg.add_instance(inst, self.disks, self.ec_id)
        except BaseException:
            iu.remove_created(self, [(self.pnode_uuid, d) for d in self.disks])
            self._drop_lock()
            raise
        try:
            if not op.get("no_install"):
                self._install()
            if op.start:
                self.log_info("Starting instance %s on node %s", inst.name, self.pnode_name)
                iu.start_instance(self, inst)
        except BaseException as err:
            self.log_warning("Creating instance %s failed (%s); removing it again",
                             inst.name, err)
            self._undo_create()
            raise
        return [self.pnode_name]

    def _install(self) -> None:
        inst = self.instance
        if self.import_source is not None:
            instance_import.import_disks(self, self.import_source, inst, self.pnode_uuid,
                                         self.osparams_effective, bool(self.op.start))
            return
        self.log_info("Running the OS create script of %s for instance %s", inst.os,
                      inst.name)
        iu.assemble_disks(self, inst)
        data = iu.instance_rpc_dict(self.cfg, inst, osparams=self.osparams_effective)
        result = self.rpc.call_one("instance_os_add", iu.node_address(self, self.pnode_uuid),
                                   [data, False, 0])
        if not result.success:
            raise errors.OpExecError("Could not install OS %s for instance %s on node %s: %s"
                                     % (inst.os, inst.name, self.pnode_name,
                                        iu.result_error(result)))
        if not self.op.start:
            iu.shutdown_disks(self, inst, ignore_failures=True)

    def _undo_create(self) -> None:
        inst = self.instance
        if inst.admin_state == constants.ADMINST_UP:
            iu.shutdown_instance(self, inst, 30, ignore_failures=True)
        iu.shutdown_disks(self, inst, ignore_failures=True)
        iu.remove_disks(self, inst, self.disks, ignore_failures=True)
        try:
            self.cfg.remove_instance(iu.instance_uuid(inst))
        finally:
            self._drop_lock()


def _address_alive(address: str, port: int = constants.DEFAULT_NODED_PORT,
                   timeout: float = 1.0) -> bool:
    """Whether something answers TCP at ``address`` (connection accepted or refused)."""
    import socket

    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
