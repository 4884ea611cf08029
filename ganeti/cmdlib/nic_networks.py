"""Instance NICs on networks (gnt-network): parameters from the group, addresses from pools.

A NIC given a network takes its mode, link and VLAN from the connection of
that network to the node group of the instance's primary node, and its
address from the network's pool (``ip=pool``) or as given (it must be
inside the network and free). Addresses are reserved under the job's
execution context until the configuration records them; the configuration
writer then marks them in the pool, and releases them when the NIC or the
instance goes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from ganeti import constants, errors, objects
from ganeti.cmdlib.base import LogicalUnit
from ganeti.network import group_connection


def _subnet(net: objects.Network) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(net.network, strict=False)


def _inside(address: str, net: objects.Network) -> bool:
    try:
        return ipaddress.ip_address(address) in _subnet(net)
    except ValueError:
        return False


def network_params(lu: LogicalUnit, what: str, network_name: str, pnode: objects.Node
                   ) -> tuple[str, dict[str, Any]]:
    """(UUID, NIC parameters) of a network as connected to the node's group."""
    net = lu.cfg.find_network(network_name)
    if net is None or net.uuid is None:
        raise errors.OpPrereqError("%s: network '%s' is not known" % (what, network_name),
                                   errors.ECODE_NOENT)
    group = lu.cfg.get_nodegroup(pnode.group)
    params = group.networks.get(net.uuid)
    if params is None:
        raise errors.OpPrereqError("%s: network %s is not connected to node group %s (of node"
                                   " %s); connect it first (gnt-network connect)"
                                   % (what, net.name, group.name, pnode.name),
                                   errors.ECODE_INVAL)
    lu.log_info("%s inherits netparams %s", what, list(group_connection(params)))
    return net.uuid, dict(params)


def check_ip_outside_networks(lu: LogicalUnit, what: str, address: str,
                              pnode: objects.Node) -> None:
    """A NIC without network must not take an address of a network of the node's group."""
    group = lu.cfg.get_nodegroup(pnode.group)
    for net_uuid in sorted(group.networks):
        net = lu.cfg.get_network(net_uuid)
        if _inside(address, net):
            raise errors.OpPrereqError(
                "%s: IP address %s belongs to network %s (connected to node group %s) but the"
                " NIC is not on it; give network=%s, another address, or --no-conflicts-check"
                % (what, address, net.name, group.name, net.name), errors.ECODE_STATE)


def resolve_nic_networks(lu: LogicalUnit, specs: Sequence[dict[str, Any]],
                         pnode: objects.Node, conflicts_check: bool) -> None:
    """Fill ``network_uuid`` and the group's ``nicparams`` into new NICs' specs."""
    for index, spec in enumerate(specs):
        what = "NIC %d" % index
        if spec.get("network"):
            spec["network_uuid"], spec["nicparams"] = network_params(
                lu, what, spec["network"], pnode)
        elif spec.get("ip") and conflicts_check:
            check_ip_outside_networks(lu, what, spec["ip"], pnode)


def reserve_nic_ip(lu: LogicalUnit, index: int, network_uuid: str, address: str | None,
                   ec_id: str, conflicts_check: bool) -> str | None:
    """The address of a NIC on a network, reserved for ``ec_id`` (None: no address).

    ``pool`` takes the first free address; another address must be inside
    the network and free (with ``conflicts_check`` off, an externally
    reserved address is accepted, one used by an instance never).
    """
    if not address:
        return None
    cfg = lu.cfg
    net = cfg.get_network(network_uuid)
    if address == constants.NIC_IP_POOL:
        try:
            chosen = cfg.generate_ip(network_uuid, ec_id)
        except errors.ReservationError:
            raise errors.OpPrereqError("NIC %d: network %s has no free IP address left (its"
                                       " pool %s is exhausted)" % (index, net.name, net.network),
                                       errors.ECODE_STATE) from None
        lu.log_info("Chose IP %s from network %s", chosen, net.name)
        return chosen
    if not _inside(address, net):
        raise errors.OpPrereqError("NIC %d: IP address %s is not inside network %s (%s)"
                                   % (index, address, net.name, net.network),
                                   errors.ECODE_INVAL)
    try:
        cfg.reserve_ip(network_uuid, address, ec_id, check_external=conflicts_check)
    except errors.ReservationError as err:
        raise errors.OpPrereqError("NIC %d: IP address %s cannot be used: %s"
                                   % (index, address, err), errors.ECODE_NOTUNIQUE) from None
    return address


def modify_nic_network(lu: LogicalUnit, index: int, nic: objects.NIC,
                       params: Mapping[str, Any], pnode: objects.Node, ec_id: str,
                       conflicts_check: bool) -> None:
    """Apply ``network``/``ip`` changes of one NIC (new or modified) in place.

    The previous address is released by the configuration writer when the
    instance is saved (``ConfigWriter.update(..., old_nics=…)``).
    """
    what = "NIC %d" % index
    old_network, old_ip = nic.network, nic.ip
    network = params.get(constants.INIC_NETWORK)
    given_ip = params.get(constants.INIC_IP)
    mode_or_link = any(params.get(k) for k in (constants.INIC_MODE, constants.INIC_LINK))
    if network is not None:
        if not network or network.lower() == constants.VALUE_NONE:
            nic.network = None
        else:
            if mode_or_link:
                raise errors.OpPrereqError("%s: with a network (%s) the mode and link come"
                                           " from the node group's connection; do not give"
                                           " them" % (what, network), errors.ECODE_INVAL)
            nic.network, nic.nicparams = network_params(lu, what, network, pnode)
    elif nic.network and mode_or_link:
        raise errors.OpPrereqError("%s is on network %s: its mode and link come from the"
                                   " node group's connection" % (what, nic.network),
                                   errors.ECODE_INVAL)
    address = nic.ip if given_ip is None else given_ip
    if address in ("", constants.VALUE_NONE):
        address = None
    if nic.network:
        if nic.network != old_network or address != old_ip:
            nic.ip = reserve_nic_ip(lu, index, nic.network, address, ec_id, conflicts_check)
    else:
        if address == constants.NIC_IP_POOL:
            raise errors.OpPrereqError("%s: ip=pool needs a network (network=NAME)" % what,
                                       errors.ECODE_INVAL)
        if given_ip is not None:
            nic.ip = address
        if nic.ip and conflicts_check and (given_ip is not None or network is not None):
            check_ip_outside_networks(lu, what, nic.ip, pnode)
