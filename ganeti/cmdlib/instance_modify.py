"""gnt-instance reinstall, rename and modify: OpInstanceReinstall, OpInstanceRename,
OpInstanceSetParams.

Reinstall runs the OS create script again (``INSTANCE_REINSTALL=1``), optionally
with another OS; the OS parameters given are stored on the instance (private ones
in ``osparams_private``, secret ones only passed to the scripts). With another OS
the old OS's parameters are dropped, unless ``keep_known_osparams`` keeps those the
new OS declares too. Rename changes the name in the configuration and runs the
OS rename script with ``OLD_INSTANCE_NAME``. Modify changes hypervisor/backend
parameters, NICs, disks, the OS name and parameters, and the offline flag; all
checks happen before anything changes.
"""

from __future__ import annotations

import copy
from typing import Any

from ganeti import constants, errors, locking, netutils, objects, opcodes, paramdefs
from ganeti.cmdlib import instance_utils as iu
from ganeti.cmdlib import lu_for, nic_networks, os_params
from ganeti.cmdlib.base import FeedbackFn, LogicalUnit


class _InstanceLU(LogicalUnit):
    """Locks the instance and its nodes; ``self.inst`` is the instance."""

    HTYPE = constants.HTYPE_INSTANCE
    #: Lock every node (for LUs that may add a node to the instance).
    ALL_NODES = False

    def expand_names(self) -> None:
        self.inst = iu.expand_instance(self.cfg, self.op.instance_name)
        self.op.instance_name = self.inst.name
        nodes = (locking.ALL_SET if self.ALL_NODES
                 else self.cfg.get_instance_nodes(iu.instance_uuid(self.inst)))
        self.needed_locks = {locking.LEVEL_INSTANCE: [self.inst.name],
                             locking.LEVEL_NODE: nodes}

    def build_hooks_env(self) -> dict[str, Any]:
        return iu.instance_hooks_env(self.cfg, self.inst)

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        return iu.instance_hooks_nodes(self.cfg, self.inst)

    def check_not_running(self, action: str) -> None:
        """Refuse ``action`` while the instance is marked up or runs on its primary."""
        iu.check_instance_state(self.inst, [constants.ADMINST_DOWN, constants.ADMINST_OFFLINE],
                                action)
        address = iu.node_address(self, self.inst.primary_node)
        if address.offline:
            return
        cluster = self.cfg.get_cluster_info()
        result = self.rpc.call_one("instance_info", address,
                                   [self.inst.name, self.inst.hypervisor,
                                    cluster.fill_hvparams_for(self.inst.hypervisor)])
        if result.success and result.payload:
            raise errors.OpPrereqError("Instance %s is running on node %s; cannot %s it"
                                       % (self.inst.name, address.name, action),
                                       errors.ECODE_STATE)

    def run_os_script(self, procedure: str, args: list[Any], data: dict[str, Any]) -> None:
        """Run an OS script RPC with the disks active on the primary node."""
        iu.assemble_disks(self, self.inst)
        try:
            result = self.rpc.call_one(procedure, iu.node_address(self, self.inst.primary_node),
                                       [data, *args])
            if not result.success:
                raise errors.OpExecError("Could not run the OS %s script for instance %s on"
                                         " node %s: %s"
                                         % (procedure.split("_")[-1], self.inst.name,
                                            result.node, iu.result_error(result)))
        finally:
            iu.shutdown_disks(self, self.inst, ignore_failures=True)


# -- reinstall --------------------------------------------------------------------------

def declared_os_params(lu: LogicalUnit, node_uuid: str, os_name: str) -> set[str]:
    """Names of the parameters ``os_name`` declares, as the node sees it."""
    result = lu.rpc.call_one("os_get", iu.node_address(lu, node_uuid), [os_name])
    if not result.success:
        raise errors.OpPrereqError("OS '%s' is not valid on node %s: %s"
                                   % (os_name, result.node, iu.result_error(result)),
                                   errors.ECODE_INVAL)
    return {name for name, _doc in result.payload.get("parameters") or []}


@lu_for(opcodes.OpInstanceReinstall)
class LUInstanceReinstall(_InstanceLU):
    """Reinstall the instance's OS (another one with ``os_type``)."""

    HPATH = "instance-reinstall"

    def check_prereq(self) -> None:
        self.check_not_running("reinstall")
        iu.check_node_online(self.cfg, self.inst.primary_node, "reinstall the instance")
        old_os = self.inst.os
        new_os = self.op.get("os_type") or old_os
        public = dict(self.inst.osparams)
        private = dict(self.inst.osparams_private)
        if os_params.split_os_name(new_os)[0] != os_params.split_os_name(old_os)[0]:
            if self.op.get("keep_known_osparams"):
                known = declared_os_params(self, self.inst.primary_node, new_os)
                public = {k: v for k, v in public.items() if k in known}
                private = {k: v for k, v in private.items() if k in known}
            else:
                public, private = {}, {}
        public.update(self.op.get("osparams") or {})
        private.update(self.op.get("osparams_private") or {})
        for name in self.op.get("osparams_secret") or {}:
            public.pop(name, None)
            private.pop(name, None)
        for name in self.op.get("osparams_private") or {}:
            public.pop(name, None)
        self.new_os = new_os
        self.new_public, self.new_private = public, private
        self.os_env = os_params.check_os_params(
            self, [self.inst.primary_node], new_os, public, private,
            self.op.get("osparams_secret"), bool(self.op.get("force_variant")))

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        inst = self.inst
        inst.os = self.new_os
        inst.osparams = self.new_public
        inst.osparams_private = self.new_private
        self.cfg.update(inst)
        feedback_fn("Running the OS create script of %s for instance %s"
                    % (self.new_os, inst.name))
        data = iu.instance_rpc_dict(self.cfg, inst, osparams=self.os_env)
        self.run_os_script("instance_os_add", [True, 0], data)
        return None


# -- rename -----------------------------------------------------------------------------

@lu_for(opcodes.OpInstanceRename)
class LUInstanceRename(_InstanceLU):
    """Rename an instance and run its OS's rename script."""

    HPATH = "instance-rename"

    def expand_names(self) -> None:
        super().expand_names()
        new_name = self.op.new_name
        if self.op.get("name_check", True):
            try:
                new_name = netutils.resolve(new_name, self.context.paths)[0]
            except errors.GenericError as err:
                raise errors.OpPrereqError("New name %s does not resolve (use --no-name-check"
                                           " to skip this check): %s" % (new_name, err),
                                           errors.ECODE_RESOLVER) from None
        if new_name == self.inst.name:
            raise errors.OpPrereqError("Instance %s already has that name" % new_name,
                                       errors.ECODE_INVAL)
        self.new_name = new_name
        self._new_lock = False

    def declare_locks(self, level: int) -> None:
        if level == locking.LEVEL_INSTANCE:
            # The new name's lock, held with the old one, so nobody creates an instance
            # of that name meanwhile.
            try:
                self.glm.add(self.owner, locking.LEVEL_INSTANCE, self.new_name)
            except errors.LockError as err:
                raise errors.OpPrereqError("Instance '%s' already exists or is being created"
                                           % self.new_name, errors.ECODE_EXISTS) from err
            self._new_lock = True
            assert self.needed_locks is not None
            self.needed_locks[locking.LEVEL_INSTANCE] = [self.inst.name, self.new_name]

    def _drop_new_lock(self) -> None:
        if self._new_lock:
            self.glm.remove(self.owner, locking.LEVEL_INSTANCE, self.new_name)
            self._new_lock = False

    def build_hooks_env(self) -> dict[str, Any]:
        env = iu.instance_hooks_env(self.cfg, self.inst)
        env["INSTANCE_NEW_NAME"] = self.new_name
        return env

    def check_prereq(self) -> None:
        try:
            self.check_not_running("rename")
            if self.cfg.find_instance(self.new_name) is not None:
                raise errors.OpPrereqError("Instance '%s' already exists" % self.new_name,
                                           errors.ECODE_EXISTS)
        except errors.GenericError:
            self._drop_new_lock()
            raise

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        inst = self.inst
        old_name = inst.name
        inst.name = self.new_name
        self.cfg.update(inst)
        self._new_lock = False  # it is the instance's lock now
        self.glm.remove(self.owner, locking.LEVEL_INSTANCE, old_name)
        feedback_fn("Renamed instance %s to %s; running the OS rename script"
                    % (old_name, self.new_name))
        self.run_os_script("instance_run_rename", [old_name, 0],
                           iu.instance_rpc_dict(self.cfg, inst))
        return self.new_name


# -- modify -----------------------------------------------------------------------------

def _normalize_mods(mods: list[Any]) -> list[tuple[str, Any, dict[str, Any]]]:
    """Device changes in the new form: (action, index or name, params)."""
    result = []
    for mod in mods:
        if len(mod) == 2:
            first, params = mod
            if isinstance(first, int):
                result.append((constants.DDM_MODIFY, first, dict(params)))
            else:
                result.append((first, -1, dict(params)))
        else:
            result.append((mod[0], mod[1], dict(mod[2])))
    return result


def _device_index(what: str, identifier: Any, items: list[Any]) -> int:
    """Index of a NIC/disk given by index (-1: last), name or UUID."""
    if isinstance(identifier, int) or (isinstance(identifier, str) and
                                       identifier.lstrip("-").isdigit()):
        index = int(identifier)
        if index == -1 and items:
            return len(items) - 1
        if 0 <= index < len(items):
            return index
        raise errors.OpPrereqError("%s index %s is out of range (the instance has %d)"
                                   % (what, identifier, len(items)), errors.ECODE_INVAL)
    for index, item in enumerate(items):
        if identifier in (item.name, item.uuid):
            return index
    raise errors.OpPrereqError("%s '%s' not found" % (what, identifier), errors.ECODE_NOENT)


@lu_for(opcodes.OpInstanceSetParams)
class LUInstanceSetParams(_InstanceLU):
    """Change an instance's parameters, NICs, disks, OS and offline flag."""

    HPATH = "instance-modify"

    _UNSUPPORTED = ("disk_template", "pnode", "pnode_uuid", "runtime_mem", "remote_node")

    def check_arguments(self) -> None:
        for name in self._UNSUPPORTED:
            if self.op.get(name) is not None:
                raise errors.OpPrereqError("gnt-instance modify can't change %s yet" % name,
                                           errors.ECODE_INVAL)
        wanted = [name for name in ("hvparams", "beparams", "nics", "disks", "os_name",
                                    "osparams", "osparams_private", "offline")
                  if self.op.get(name) not in (None, {}, [])]
        if not wanted:
            raise errors.OpPrereqError("No changes submitted", errors.ECODE_INVAL)

    def check_prereq(self) -> None:
        self.ec_id = "modify-%s" % self.owner
        try:
            self._check_changes()
        except BaseException:
            # Nothing stays reserved (MACs, addresses) for a refused change.
            self.cfg.release_reservations(self.ec_id)
            raise

    def _check_changes(self) -> None:
        cfg = self.cfg
        cluster = cfg.get_cluster_info()
        self.new = copy.deepcopy(self.inst)
        new = self.new
        self.changes: list[tuple[str, Any]] = []
        if self.op.get("hvparams"):
            merged = paramdefs.updated_params(new.hvparams, self.op.hvparams)
            try:
                paramdefs.hv_family(new.hypervisor).check(merged, new.describe())
            except errors.ParameterError as err:
                raise errors.OpPrereqError(str(err), errors.ECODE_INVAL) from None
            new.hvparams = merged
            self.changes += [("hv/%s" % k, v) for k, v in sorted(self.op.hvparams.items())]
        if self.op.get("beparams"):
            merged = paramdefs.updated_params(
                new.beparams, paramdefs.BEPARAMS.resolve_aliases(dict(self.op.beparams)))
            try:
                paramdefs.BEPARAMS.check(merged, new.describe())
            except errors.ParameterError as err:
                raise errors.OpPrereqError(str(err), errors.ECODE_INVAL) from None
            new.beparams = merged
            filled = cluster.fill_beparams(new)
            if filled[paramdefs.BE_MINMEM] > filled[paramdefs.BE_MAXMEM]:
                raise errors.OpPrereqError("Backend parameter minmem (%d) is larger than"
                                           " maxmem (%d)" % (filled[paramdefs.BE_MINMEM],
                                                             filled[paramdefs.BE_MAXMEM]),
                                           errors.ECODE_INVAL)
            self.changes += [("be/%s" % k, v) for k, v in sorted(self.op.beparams.items())]
        self._prereq_os(new)
        self._prereq_nics(new)
        self._prereq_disks(new)
        offline = self.op.get("offline")
        if offline is not None:
            if offline:
                iu.check_instance_state(self.inst, [constants.ADMINST_DOWN,
                                                    constants.ADMINST_OFFLINE],
                                        "mark offline")
                new.admin_state = constants.ADMINST_OFFLINE
            else:
                iu.check_instance_state(self.inst, [constants.ADMINST_OFFLINE,
                                                    constants.ADMINST_DOWN], "mark online")
                new.admin_state = constants.ADMINST_DOWN
            self.changes.append(("admin_state", new.admin_state))

    def _prereq_os(self, new: objects.Instance) -> None:
        os_name = self.op.get("os_name")
        public = self.op.get("osparams")
        private = self.op.get("osparams_private")
        if not os_name and not public and not private:
            return
        if os_name:
            new.os = os_name
            self.changes.append(("os", os_name))
        if public:
            new.osparams = paramdefs.updated_params(new.osparams, public)
            self.changes += [("os/%s" % k, v) for k, v in sorted(public.items())]
        if private:
            new.osparams_private = paramdefs.updated_params(new.osparams_private, private)
            self.changes += [("os/%s" % k, "<private>") for k in sorted(private)]
        os_params.check_os_params(self, [new.primary_node], new.os, new.osparams,
                                  new.osparams_private,
                                  force_variant=bool(self.op.get("force_variant")))

    def _prereq_nics(self, new: objects.Instance) -> None:
        cluster = self.cfg.get_cluster_info()
        ec_id = self.ec_id
        pnode = self.cfg.get_node_info(new.primary_node)
        conflicts_check = bool(self.op.get("conflicts_check", True))
        for action, ident, params in _normalize_mods(self.op.get("nics") or []):
            if action == constants.DDM_ADD:
                nicparams = {k: params[k] for k in (constants.INIC_MODE, constants.INIC_LINK)
                             if params.get(k)}
                try:
                    cluster.fill_nicparams(nicparams)
                except errors.GenericError as err:
                    raise errors.OpPrereqError("NIC to add: %s" % err,
                                               errors.ECODE_INVAL) from None
                index = len(new.nics) if ident in (-1, None) else int(ident)
                nic = objects.NIC(name=params.get(constants.INIC_NAME) or None,
                                  nicparams=nicparams)
                nic_networks.modify_nic_network(self, index, nic, params, pnode, ec_id,
                                                conflicts_check)
                mac = params.get(constants.INIC_MAC) or constants.VALUE_AUTO
                if mac in (constants.VALUE_AUTO, constants.VALUE_GENERATE):
                    mac = self.cfg.generate_mac(ec_id, nic.network)
                else:
                    self.cfg.reserve_mac(mac, ec_id)
                nic.mac = mac
                nic.uuid = self.cfg.generate_uuid(ec_id)
                new.nics.insert(index, nic)
                self.changes.append(("nic.%d" % index, "add:mac=%s" % mac))
            elif action == constants.DDM_REMOVE:
                index = _device_index("NIC", ident, new.nics)
                del new.nics[index]
                self.changes.append(("nic.%d" % index, "remove"))
            elif action == constants.DDM_MODIFY:
                index = _device_index("NIC", ident, new.nics)
                nic = new.nics[index]
                nic_networks.modify_nic_network(self, index, nic, params, pnode, ec_id,
                                                conflicts_check)
                for key in (constants.INIC_MODE, constants.INIC_LINK):
                    if key in params:
                        nic.nicparams = paramdefs.updated_params(nic.nicparams,
                                                                 {key: params[key]})
                try:
                    cluster.fill_nicparams(nic)
                except errors.GenericError as err:
                    raise errors.OpPrereqError("NIC %d: %s" % (index, err),
                                               errors.ECODE_INVAL) from None
                for key in (constants.INIC_MAC, constants.INIC_NAME):
                    if key in params:
                        setattr(nic, key, params[key] or None)
                self.changes += [("nic.%s/%d" % (k, index), v) for k, v in sorted(params.items())]
            else:
                raise errors.OpPrereqError("NIC action '%s' is not supported" % action,
                                           errors.ECODE_INVAL)

    def _prereq_disks(self, new: objects.Instance) -> None:
        self.disks_to_add: list[tuple[int, dict[str, Any]]] = []
        self.disks_to_remove: list[objects.Disk] = []
        mods = _normalize_mods(self.op.get("disks") or [])
        if not mods:
            return
        disks = list(self.cfg.get_instance_disks(iu.instance_uuid(self.inst)))
        template = disks[0].dev_type if disks else None
        for action, ident, params in mods:
            if action == constants.DDM_ADD:
                if template is None:
                    raise errors.OpPrereqError("Instance %s is diskless: it can't get disks"
                                               " (change its disk template first)"
                                               % self.inst.name, errors.ECODE_INVAL)
                if constants.IDISK_SIZE not in params:
                    raise errors.OpPrereqError("Disk to add: 'size' is required",
                                               errors.ECODE_INVAL)
                self.disks_to_add.append((len(disks) + len(self.disks_to_add), params))
                self.changes.append(("disk/%d" % (len(disks) + len(self.disks_to_add) - 1),
                                     "add:size=%s,mode=%s"
                                     % (params[constants.IDISK_SIZE],
                                        params.get(constants.IDISK_MODE, constants.DISK_RDWR))))
            elif action == constants.DDM_REMOVE:
                index = _device_index("Disk", ident, disks)
                self.check_not_running("remove a disk of")
                if len(disks) - len(self.disks_to_remove) <= 1:
                    raise errors.OpPrereqError("Cannot remove the last disk of instance %s"
                                               % self.inst.name, errors.ECODE_INVAL)
                self.disks_to_remove.append(disks[index])
                self.changes.append(("disk/%d" % index, "remove"))
            else:
                raise errors.OpPrereqError("Disk action '%s' is not supported yet (add and"
                                           " remove are)" % action, errors.ECODE_INVAL)
        self.template = template

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        inst, new = self.inst, self.new
        old_nics = list(inst.nics)
        for field in ("hvparams", "beparams", "os", "osparams", "osparams_private", "nics",
                      "admin_state"):
            setattr(inst, field, getattr(new, field))
        try:
            # The networks' pools follow the NICs' addresses in the same save.
            self.cfg.update(inst, old_nics=old_nics)
        finally:
            self.cfg.release_reservations(self.ec_id)
        for disk in self.disks_to_remove:
            iu.remove_disks(self, inst, [disk], ignore_failures=True)
            self.cfg.remove_instance_disk(iu.instance_uuid(inst), disk.uuid or "")
        if self.disks_to_add:
            ec_id = "modify-%s" % self.owner
            current = len(self.cfg.get_instance_disks(iu.instance_uuid(inst)))
            specs = [params for _index, params in self.disks_to_add]
            assert self.template is not None
            created = iu.generate_disks(self, self.template, specs, inst.name,
                                        inst.primary_node, ec_id, base_index=current)
            iu.create_disks(self, inst, created)
            for disk in created:
                self.cfg.add_instance_disk(iu.instance_uuid(inst), disk, ec_id=ec_id)
        return self.changes
