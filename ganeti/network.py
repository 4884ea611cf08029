"""IPv4 networks (gnt-network): checks of their definition and their address pools.

A network's pool is two bitmaps stored in the configuration as strings of
'0'/'1', one character per address of the subnet (Ganeti's format):
``reservations`` holds the addresses instances use, ``ext_reservations``
those kept away from instances (network and broadcast addresses, the
gateway, and what the administrator reserved). An address is free when it
is in neither (counted and searched with ``bitarray``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from bitarray import bitarray

from ganeti import errors, objects, paramdefs

#: Smallest and largest IPv4 subnets a pool may cover (prefix lengths, Ganeti's limits).
IPV4_SMALLEST_PREFIX = 30
IPV4_LARGEST_PREFIX = 16


def parse_subnet(value: str, what: str = "network") -> ipaddress.IPv4Network:
    """An IPv4 subnet a pool can cover; OpPrereqError naming the problem otherwise."""
    try:
        net = ipaddress.IPv4Network(value, strict=False)
    except ValueError as err:
        raise errors.OpPrereqError("Invalid %s %r: %s (expected a.b.c.d/n)" % (what, value, err),
                                   errors.ECODE_INVAL) from None
    if str(net) != value:
        raise errors.OpPrereqError("Invalid %s %r: it has host bits set (the subnet is %s)"
                                   % (what, value, net), errors.ECODE_INVAL)
    if net.prefixlen > IPV4_SMALLEST_PREFIX:
        raise errors.OpPrereqError("Network %s is too small: %d address(es); use at least a"
                                   " /%d" % (net, net.num_addresses, IPV4_SMALLEST_PREFIX),
                                   errors.ECODE_INVAL)
    if net.prefixlen < IPV4_LARGEST_PREFIX:
        raise errors.OpPrereqError("Network %s is too big: %d addresses; use at most a /%d"
                                   % (net, net.num_addresses, IPV4_LARGEST_PREFIX),
                                   errors.ECODE_INVAL)
    return net


def parse_subnet6(value: str) -> ipaddress.IPv6Network:
    try:
        return ipaddress.IPv6Network(value, strict=True)
    except ValueError as err:
        raise errors.OpPrereqError("Invalid IPv6 network %r: %s" % (value, err),
                                   errors.ECODE_INVAL) from None


def check_gateway6(gateway6: str, network6: str | None) -> None:
    """The IPv6 gateway is inside the IPv6 subnet (or link-local), as Ganeti checks."""
    address = ipaddress.IPv6Address(gateway6)
    if network6 and not address.is_link_local and address not in parse_subnet6(network6):
        raise errors.OpPrereqError("IPv6 gateway %s is not inside the IPv6 network %s"
                                   % (gateway6, network6), errors.ECODE_INVAL)


def hooks_env(net: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Ganeti's NETWORK_* variables of a network (``prefix`` e.g. ``NIC_0_``).

    ``net`` is a network's dictionary (``Network.to_dict()``, or the
    ``netinfo`` of a NIC the master sent to a node).
    """
    env = {prefix + "NETWORK_NAME": str(net.get("name") or ""),
           prefix + "NETWORK_UUID": str(net.get("uuid") or ""),
           prefix + "NETWORK_TAGS": " ".join(net.get("tags") or [])}
    for key, name in (("network", "SUBNET"), ("gateway", "GATEWAY"),
                      ("network6", "SUBNET6"), ("gateway6", "GATEWAY6"),
                      ("mac_prefix", "MAC_PREFIX")):
        if net.get(key):
            env[prefix + "NETWORK_" + name] = str(net[key])
    return env


def group_connection(params: Mapping[str, Any]) -> tuple[str, str, str]:
    """(mode, link, vlan) of a group's connection to a network, '-' where unset."""
    values = [params.get(key) for key in (paramdefs.NIC_MODE, paramdefs.NIC_LINK,
                                           paramdefs.NIC_VLAN)]
    mode, link, vlan = ("-" if value is None else str(value) for value in values)
    return mode, link, vlan


class AddressPool:
    """The address pool of one network, read and changed in place.

    Changes write the bitmaps back to the Network object at once; saving the
    configuration is the caller's business.
    """

    def __init__(self, network: objects.Network) -> None:
        self.network = network
        try:
            self.net = ipaddress.IPv4Network(network.network, strict=False)
        except ValueError as err:
            raise errors.ConfigurationError("%s: field 'network' is invalid: %s"
                                            % (network.describe(), err)) from err
        size = self.net.num_addresses
        if not network.reservations or len(network.reservations) != size:
            network.reservations = "0" * size
        if not network.ext_reservations or len(network.ext_reservations) != size:
            # A pool without its bitmap keeps at least the network and broadcast
            # addresses (and the gateway) away from instances.
            ext = ["0"] * size
            ext[0] = ext[-1] = "1"
            if network.gateway and self.contains(network.gateway):
                ext[self._index(network.gateway)] = "1"
            network.ext_reservations = "".join(ext)

    @classmethod
    def initialize(cls, network: objects.Network) -> AddressPool:
        """A new network's pool: network, broadcast and gateway externally reserved."""
        network.reservations = None
        network.ext_reservations = None
        return cls(network)

    # -- addresses ---------------------------------------------------------------------

    def contains(self, address: str | None) -> bool:
        if not address:
            return False
        try:
            return ipaddress.ip_address(address) in self.net
        except ValueError:
            return False

    def _index(self, address: str) -> int:
        if not self.contains(address):
            raise errors.AddressPoolError("IP %s is not in network %s (%s)"
                                          % (address, self.network.name, self.net))
        return int(ipaddress.IPv4Address(address)) - int(self.net.network_address)

    def _address(self, index: int) -> str:
        return str(ipaddress.IPv4Address(int(self.net.network_address) + index))

    def is_reserved(self, address: str, external: bool = True) -> bool:
        """Used by an instance, or (``external``) reserved externally too."""
        index = self._index(address)
        if (self.network.reservations or "")[index] == "1":
            return True
        return external and (self.network.ext_reservations or "")[index] == "1"

    def is_reserved_externally(self, address: str) -> bool:
        return (self.network.ext_reservations or "")[self._index(address)] == "1"

    def _set_bit(self, field: str, address: str, value: bool) -> None:
        index = self._index(address)
        bits = getattr(self.network, field) or ""
        setattr(self.network, field, bits[:index] + ("1" if value else "0") + bits[index + 1:])

    def set(self, address: str, used: bool) -> None:
        """Mark an address used (or not) by an instance, whatever it was."""
        self._set_bit("reservations", address, used)

    def reserve(self, address: str, external: bool = False) -> None:
        """Reserve an address; AddressPoolError if it is already."""
        if external:
            if self.is_reserved_externally(address):
                raise errors.AddressPoolError("IP %s is already externally reserved in"
                                              " network %s" % (address, self.network.name))
            self._set_bit("ext_reservations", address, True)
        else:
            if self.is_reserved(address):
                raise errors.AddressPoolError("IP %s in network %s is already in use"
                                              % (address, self.network.name))
            self.set(address, True)

    def release(self, address: str, external: bool = False) -> None:
        """Release a reservation; AddressPoolError if there is none."""
        if external:
            if not self.is_reserved_externally(address):
                raise errors.AddressPoolError("IP %s is not externally reserved in network %s"
                                              % (address, self.network.name))
            self._set_bit("ext_reservations", address, False)
        else:
            if not self.is_reserved(address, external=False):
                raise errors.AddressPoolError("IP %s is not used by an instance in network %s"
                                              % (address, self.network.name))
            self.set(address, False)

    # -- views ---------------------------------------------------------------------------

    def _combined(self) -> bitarray:
        return (bitarray(self.network.reservations or "")
                | bitarray(self.network.ext_reservations or ""))

    def free_addresses(self) -> Iterator[str]:
        for index in self._combined().search(bitarray("0")):
            yield self._address(index)

    def free_count(self) -> int:
        return self._combined().count(0)

    def reserved_count(self) -> int:
        return self._combined().count(1)

    def map(self) -> str:
        """Ganeti's usage map: 'X' for a reserved address, '.' for a free one."""
        return self._combined().to01().replace("1", "X").replace("0", ".")

    def external_reservations(self) -> list[str]:
        bits = bitarray(self.network.ext_reservations or "")
        return [self._address(i) for i in bits.search(bitarray("1"))]

    def instance_reservations(self) -> list[str]:
        bits = bitarray(self.network.reservations or "")
        return [self._address(i) for i in bits.search(bitarray("1"))]
