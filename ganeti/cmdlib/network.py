"""Network logical units: add, remove, rename, change, connect to and disconnect from groups.

A network is an IPv4 subnet with an address pool (``ganeti.network``),
optionally an IPv6 subnet, gateways and a MAC prefix. A node group is
connected to a network with the NIC mode, link and VLAN its instances' NICs
on that network use (``NodeGroup.networks``: network UUID -> those
parameters). Every check runs before anything changes: a refused operation
leaves the configuration as it was.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

from ganeti import constants, errors, locking, objects, opcodes, paramdefs, query_network
from ganeti import network as netlib
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import FeedbackFn, LogicalUnit, require_nodegroup
from ganeti.cmdlib.query import ITEM_SOURCES
from ganeti.cmdlib.tags import validate_tag
from ganeti.config import ConfigWriter

ITEM_SOURCES[constants.QR_NETWORK] = \
    lambda context, needed: query_network.network_items(context.cfg)


def find_network(cfg: ConfigWriter, name: str) -> objects.Network:
    """The network named ``name`` (or with that UUID); OpPrereqError if unknown."""
    net = cfg.find_network(name)
    if net is None:
        raise errors.OpPrereqError("Network '%s' is not known" % name, errors.ECODE_NOENT)
    return net




def group_instances(cfg: ConfigWriter, group_uuid: str) -> list[objects.Instance]:
    """Instances with a node (primary or secondary) in the group, by name."""
    members = set(cfg.get_nodegroup_members(group_uuid))
    found = []
    for inst_uuid, inst in cfg.get_all_instances_info().items():
        if members.intersection(cfg.get_instance_nodes(inst_uuid)):
            found.append(inst)
    return sorted(found, key=lambda inst: inst.name)


def _check_inside(pool: netlib.AddressPool, address: str, what: str) -> None:
    if not pool.contains(address):
        raise errors.OpPrereqError("%s %s is not inside network %s (%s)"
                                   % (what, address, pool.network.name, pool.net),
                                   errors.ECODE_INVAL)


def _check_ipv6(network6: str | None, gateway6: str | None) -> None:
    if network6:
        netlib.parse_subnet6(network6)
    if gateway6:
        netlib.check_gateway6(gateway6, network6)


def _conflicts(instances: Iterable[objects.Instance],
               nic_matches: Callable[[objects.NIC], bool]) -> list[str]:
    """"instance: nicN/ip, …" for the NICs ``nic_matches`` selects."""
    found = []
    for inst in instances:
        nics = ["nic%d/%s" % (index, nic.ip) for index, nic in enumerate(inst.nics)
                if nic_matches(nic)]
        if nics:
            found.append("%s: %s" % (inst.name, ", ".join(nics)))
    return found


class _NetworkLU(LogicalUnit):
    HTYPE = constants.HTYPE_NETWORK
    REQ_BGL = False

    def _lock_network(self, shared: bool = False) -> None:
        net = find_network(self.cfg, self.op.network_name)
        assert net.uuid is not None
        self.network_uuid = net.uuid
        self.needed_locks = {locking.LEVEL_NETWORK: [net.uuid]}
        self.share_locks[locking.LEVEL_NETWORK] = shared

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        master = self.cfg.get_master_node()
        return [master], [master]


@lu_for(opcodes.OpNetworkAdd)
class LUNetworkAdd(_NetworkLU):
    """Create a network and its address pool."""

    HPATH = "network-add"

    def check_arguments(self) -> None:
        op = self.op
        self.subnet = netlib.parse_subnet(op.network)
        _check_ipv6(op.get("network6"), op.get("gateway6"))
        if op.get("mac_prefix"):
            op.mac_prefix = op.mac_prefix.lower()
        for tag in op.get("tags") or []:
            validate_tag(tag)

    def expand_names(self) -> None:
        # The nodes' addresses are read for the conflicts check. A second job adding
        # the same name meanwhile is refused by the configuration writer.
        self.needed_locks = {}
        if self.op.conflicts_check:
            self.needed_locks[locking.LEVEL_NODE] = locking.ALL_SET
            self.share_locks[locking.LEVEL_NODE] = True

    def check_prereq(self) -> None:
        op, cfg = self.op, self.cfg
        if cfg.find_network(op.network_name) is not None:
            raise errors.OpPrereqError("Network '%s' already exists" % op.network_name,
                                       errors.ECODE_EXISTS)
        if op.conflicts_check:
            for other in cfg.get_networks().values():
                if ipaddress.IPv4Network(other.network, strict=False).overlaps(self.subnet):
                    raise errors.OpPrereqError(
                        "Network %s overlaps network '%s' (%s); use --no-conflicts-check to"
                        " create it anyway (e.g. the same subnet on another VLAN)"
                        % (self.subnet, other.name, other.network), errors.ECODE_INVAL)
        self.network = objects.Network(
            name=op.network_name, network=str(self.subnet), gateway=op.get("gateway"),
            network6=op.get("network6"), gateway6=op.get("gateway6"),
            mac_prefix=op.get("mac_prefix"), tags=list(op.get("tags") or []))
        if op.get("gateway") and ipaddress.IPv4Address(op.gateway) not in self.subnet:
            raise errors.OpPrereqError("Gateway %s is not inside network %s"
                                       % (op.gateway, self.subnet), errors.ECODE_INVAL)
        pool = netlib.AddressPool.initialize(self.network)
        self.notes: list[str] = []
        for address in op.get("add_reserved_ips") or []:
            _check_inside(pool, address, "Reserved IP address")
            if pool.is_reserved_externally(address):
                raise errors.OpPrereqError("IP address %s is already reserved in network %s"
                                           " (network, broadcast or gateway address, or given"
                                           " twice)" % (address, op.network_name),
                                           errors.ECODE_INVAL)
            pool.reserve(address, external=True)
        if op.conflicts_check:
            self._reserve_cluster_addresses(pool)

    def _reserve_cluster_addresses(self, pool: netlib.AddressPool) -> None:
        """Keep the nodes' and the master's addresses away from instances (Ganeti's)."""
        owners = [(addr, "node %s" % node.name) for node in self.cfg.get_all_nodes_info().values()
                  for addr in (node.primary_ip, node.secondary_ip) if addr]
        owners.append((self.cfg.get_cluster_info().master_ip, "the cluster master IP"))
        for address, owner in owners:
            if pool.contains(address) and not pool.is_reserved_externally(address):
                pool.reserve(address, external=True)
                self.notes.append("Reserved IP address of %s (%s)" % (owner, address))

    def build_hooks_env(self) -> dict[str, Any]:
        env = netlib.hooks_env(self.network.to_dict())
        env["OP_TARGET"] = self.op.network_name
        return env

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        for note in self.notes:
            self.log_info("%s", note)
        self.cfg.add_network(self.network)
        assert self.network.uuid is not None
        self.glm.add(self.owner, locking.LEVEL_NETWORK, self.network.uuid)
        return None


@lu_for(opcodes.OpNetworkRemove)
class LUNetworkRemove(_NetworkLU):
    """Remove a network no group is connected to and no NIC uses."""

    HPATH = "network-remove"

    def expand_names(self) -> None:
        self._lock_network()
        assert self.needed_locks is not None
        self.needed_locks[locking.LEVEL_NODEGROUP] = locking.ALL_SET
        self.share_locks[locking.LEVEL_NODEGROUP] = True

    def check_prereq(self) -> None:
        name = self.op.network_name
        groups = sorted(group.name for group in self.cfg.get_nodegroups().values()
                        if self.network_uuid in group.networks)
        if groups:
            raise errors.OpPrereqError("Network '%s' is still connected to node group(s) %s;"
                                       " disconnect it first (gnt-network disconnect)"
                                       % (name, ", ".join(groups)), errors.ECODE_STATE)
        users = _conflicts(self.cfg.get_all_instances_info().values(),
                           lambda nic: nic.network == self.network_uuid)
        if users:
            raise errors.OpPrereqError("Network '%s' is still used by instance NICs: %s"
                                       % (name, "; ".join(sorted(users))), errors.ECODE_STATE)

    def build_hooks_env(self) -> dict[str, Any]:
        return {"OP_TARGET": self.op.network_name, "NETWORK_NAME": self.op.network_name}

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        self.cfg.remove_network(self.network_uuid)
        self.glm.remove(self.owner, locking.LEVEL_NETWORK, self.network_uuid)
        return None


@lu_for(opcodes.OpNetworkRename)
class LUNetworkRename(_NetworkLU):
    """Rename a network."""

    HPATH = "network-rename"

    def expand_names(self) -> None:
        self._lock_network()

    def check_prereq(self) -> None:
        other = self.cfg.find_network(self.op.new_name)
        if other is not None and other.uuid != self.network_uuid:
            raise errors.OpPrereqError("Network '%s' already exists" % self.op.new_name,
                                       errors.ECODE_EXISTS)

    def build_hooks_env(self) -> dict[str, Any]:
        return {"OP_TARGET": self.op.network_name, "OLD_NAME": self.op.network_name,
                "NEW_NAME": self.op.new_name}

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        nodes = [self.cfg.get_master_node()]
        for group_uuid, group in sorted(self.cfg.get_nodegroups().items()):
            if self.network_uuid in group.networks:
                nodes.extend(self.cfg.get_nodegroup_members(group_uuid))
        unique = list(dict.fromkeys(nodes))
        return unique, list(unique)

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        net = self.cfg.get_network(self.network_uuid).copy()
        net.name = self.op.new_name
        self.cfg.update(net)
        return self.op.new_name


@lu_for(opcodes.OpNetworkSetParams)
class LUNetworkSetParams(_NetworkLU):
    """Change a network's gateways, IPv6 subnet, MAC prefix and reserved addresses."""

    HPATH = "network-modify"
    _CHANGES = ("gateway", "network6", "gateway6", "mac_prefix", "add_reserved_ips",
                "remove_reserved_ips")

    def check_arguments(self) -> None:
        op = self.op
        if all(op.get(name) in (None, []) for name in self._CHANGES):
            raise errors.OpPrereqError("Please give at least one of the parameters",
                                       errors.ECODE_INVAL)
        if op.get("gateway") and (op.get("add_reserved_ips") or op.get("remove_reserved_ips")):
            raise errors.OpPrereqError("Cannot modify the gateway and the reserved IP addresses"
                                       " at once", errors.ECODE_INVAL)

    def expand_names(self) -> None:
        self._lock_network()

    def check_prereq(self) -> None:
        op = self.op
        self.new = new = self.cfg.get_network(self.network_uuid).copy()
        pool = netlib.AddressPool(new)
        self.warnings: list[str] = []
        gateway = op.get("gateway")
        if gateway:
            self._change_gateway(pool, None if gateway == constants.VALUE_NONE else gateway)
        for address in op.get("add_reserved_ips") or []:
            _check_inside(pool, address, "Reserved IP address")
            if pool.is_reserved_externally(address):
                self.warnings.append("IP address %s is already reserved" % address)
            else:
                pool.reserve(address, external=True)
        for address in op.get("remove_reserved_ips") or []:
            _check_inside(pool, address, "IP address to release")
            if address == new.gateway:
                self.warnings.append("Cannot release the gateway's IP address %s" % address)
            elif not pool.is_reserved_externally(address):
                self.warnings.append("IP address %s is not reserved" % address)
            else:
                pool.release(address, external=True)
        for name in ("network6", "gateway6", "mac_prefix"):
            value = op.get(name)
            if value:
                setattr(new, name, None if value == constants.VALUE_NONE else value)
        if new.mac_prefix:
            new.mac_prefix = new.mac_prefix.lower()
        _check_ipv6(new.network6, new.gateway6)

    def _change_gateway(self, pool: netlib.AddressPool, gateway: str | None) -> None:
        new = self.new
        if gateway == new.gateway:
            self.warnings.append("Gateway is already %s" % gateway)
            return
        if gateway is not None:
            _check_inside(pool, gateway, "Gateway")
            if pool.is_reserved(gateway):
                raise errors.OpPrereqError("Gateway IP address %s is already reserved in"
                                           " network %s" % (gateway, new.name),
                                           errors.ECODE_STATE)
            pool.reserve(gateway, external=True)
        if new.gateway and pool.is_reserved_externally(new.gateway):
            pool.release(new.gateway, external=True)
        new.gateway = gateway

    def build_hooks_env(self) -> dict[str, Any]:
        env = netlib.hooks_env(self.new.to_dict())
        env["OP_TARGET"] = self.op.network_name
        return env

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        for warning in self.warnings:
            self.log_warning("%s", warning)
        self.cfg.update(self.new)
        return None


class _GroupConnectionLU(_NetworkLU):
    """Connect/disconnect: the group locked, its instances shared, the network shared."""

    def expand_names(self) -> None:
        net = find_network(self.cfg, self.op.network_name)
        group = require_nodegroup(self.cfg, self.op.group_name)
        assert net.uuid is not None and group.uuid is not None
        self.network_uuid, self.group_uuid = net.uuid, group.uuid
        self.needed_locks = {locking.LEVEL_NODEGROUP: [group.uuid],
                             locking.LEVEL_INSTANCE: [],
                             locking.LEVEL_NETWORK: [net.uuid]}
        self.share_locks[locking.LEVEL_INSTANCE] = True
        self.share_locks[locking.LEVEL_NETWORK] = True

    def declare_locks(self, level: int) -> None:
        if level == locking.LEVEL_INSTANCE and self.wants_instances():
            assert self.needed_locks is not None
            self.needed_locks[level] = [inst.name for inst in
                                        group_instances(self.cfg, self.group_uuid)]

    def wants_instances(self) -> bool:
        return True

    def _locked_group_instances(self) -> list[objects.Instance]:
        """The group's instances, refused if one joined since the locks were declared."""
        instances = group_instances(self.cfg, self.group_uuid)
        missing = sorted({i.name for i in instances} - self.owned_locks(locking.LEVEL_INSTANCE))
        if missing:
            raise errors.OpPrereqError("Instances %s joined node group %s meanwhile; retry"
                                       % (", ".join(missing), self.op.group_name),
                                       errors.ECODE_STATE)
        return instances

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        members = self.cfg.get_nodegroup_members(self.group_uuid)
        return list(members), list(members)

    def _hooks_env(self, params: dict[str, Any] | None) -> dict[str, Any]:
        env = netlib.hooks_env(self.cfg.get_network(self.network_uuid).to_dict())
        env.update({"OP_TARGET": self.op.network_name, "GROUP_NAME": self.op.group_name})
        if params is not None:
            mode, link, vlan = netlib.group_connection(params)
            env.update({"GROUP_NETWORK_MODE": mode, "GROUP_NETWORK_LINK": link,
                        "GROUP_NETWORK_VLAN": vlan})
        return env


@lu_for(opcodes.OpNetworkConnect)
class LUNetworkConnect(_GroupConnectionLU):
    """Connect a network to a node group with the NIC mode, link and VLAN there."""

    HPATH = "network-connect"

    def wants_instances(self) -> bool:
        return bool(self.op.conflicts_check)

    def check_prereq(self) -> None:
        op = self.op
        self.params = {paramdefs.NIC_MODE: op.network_mode, paramdefs.NIC_LINK: op.network_link,
                       paramdefs.NIC_VLAN: op.get("network_vlan") or ""}
        try:
            self.cfg.get_cluster_info().fill_nicparams(self.params)
        except errors.ParameterError as err:
            raise errors.OpPrereqError("Cannot connect network %s to node group %s: %s"
                                       % (op.network_name, op.group_name, err),
                                       errors.ECODE_INVAL) from None
        if (self.params[paramdefs.NIC_MODE] == constants.NIC_MODE_ROUTED
                and self.params[paramdefs.NIC_VLAN]):
            raise errors.OpPrereqError("A VLAN needs mode bridged or openvswitch, not routed",
                                       errors.ECODE_INVAL)
        group = self.cfg.get_nodegroup(self.group_uuid)
        self.connected = self.network_uuid in group.networks
        if self.connected or not op.conflicts_check:
            return
        pool = netlib.AddressPool(self.cfg.get_network(self.network_uuid).copy())
        found = _conflicts(self._locked_group_instances(),
                           lambda nic: nic.network != self.network_uuid
                           and pool.contains(nic.ip))
        if found:
            raise errors.OpPrereqError(
                "Conflicting IP addresses: instances of node group %s already use addresses"
                " of network %s (%s): %s; change or remove those NICs first, or use"
                " --no-conflicts-check" % (op.group_name, op.network_name, pool.net,
                                          "; ".join(found)), errors.ECODE_STATE)

    def build_hooks_env(self) -> dict[str, Any]:
        return self._hooks_env(self.params)

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        if self.connected:
            self.log_warning("Network '%s' is already connected to node group '%s'",
                             self.op.network_name, self.op.group_name)
            return None
        group = self.cfg.get_nodegroup(self.group_uuid).copy()
        group.networks = {**group.networks, self.network_uuid: dict(self.params)}
        self.cfg.update(group)
        return None


@lu_for(opcodes.OpNetworkDisconnect)
class LUNetworkDisconnect(_GroupConnectionLU):
    """Disconnect a network from a node group none of whose instances use it."""

    HPATH = "network-disconnect"

    def check_prereq(self) -> None:
        group = self.cfg.get_nodegroup(self.group_uuid)
        self.params = group.networks.get(self.network_uuid)
        if self.params is None:
            return
        users = _conflicts(self._locked_group_instances(),
                           lambda nic: nic.network == self.network_uuid)
        if users:
            raise errors.OpPrereqError(
                "Network %s is still used by instances of node group %s: %s; remove those"
                " NICs or move them to another network first"
                % (self.op.network_name, self.op.group_name, "; ".join(users)),
                errors.ECODE_STATE)

    def build_hooks_env(self) -> dict[str, Any]:
        return self._hooks_env(self.params)

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        if self.params is None:
            self.log_warning("Network '%s' is not connected to node group '%s'",
                             self.op.network_name, self.op.group_name)
            return None
        group = self.cfg.get_nodegroup(self.group_uuid).copy()
        group.networks = {uuid: params for uuid, params in group.networks.items()
                          if uuid != self.network_uuid}
        self.cfg.update(group)
        return None
