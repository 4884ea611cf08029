"""Query fields of networks (``gnt-network list``, RAPI ``/2/networks``).

Declared once here with Ganeti's names, titles and kinds, and registered
with ``ganeti.query``. The items are ``NetworkRow`` snapshots built from
one consistent view of the configuration (``network_items``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ganeti import constants, objects, query
from ganeti.network import AddressPool, group_connection
from ganeti.query import FieldStatus, QueryField

if TYPE_CHECKING:
    from ganeti.config import ConfigWriter


@dataclass
class NetworkRow:
    network: objects.Network
    pool: AddressPool
    #: (group name, mode, link, vlan) of each connected group, by group name.
    groups: list[tuple[str, str, str, str]] = field(default_factory=list)
    instances: list[str] = field(default_factory=list)


def _attr(name: str) -> Callable[[NetworkRow], Any]:
    return lambda row: getattr(row.network, name)


def _optional(name: str) -> Callable[[NetworkRow], Any]:
    """A value that may be unset: RS_UNAVAIL then, as Ganeti's."""
    def getter(row: NetworkRow) -> Any:
        value = getattr(row.network, name)
        if value is None:
            raise FieldStatus(constants.RS_UNAVAIL)
        return value
    return getter


def _network_fields() -> list[QueryField]:
    text, number, other, timestamp = (constants.QFT_TEXT, constants.QFT_NUMBER,
                                      constants.QFT_OTHER, constants.QFT_TIMESTAMP)
    return [
        QueryField("name", "Network", text, _attr("name"), "Name"),
        QueryField("network", "Subnet", text, _attr("network"), "IPv4 subnet"),
        QueryField("gateway", "Gateway", other, _optional("gateway"), "IPv4 gateway"),
        QueryField("network6", "IPv6Subnet", other, _optional("network6"), "IPv6 subnet"),
        QueryField("gateway6", "IPv6Gateway", other, _optional("gateway6"), "IPv6 gateway"),
        QueryField("mac_prefix", "MacPrefix", other, _optional("mac_prefix"),
                   "MAC address prefix"),
        QueryField("free_count", "FreeCount", number, lambda row: row.pool.free_count(),
                   "Number of available addresses"),
        QueryField("reserved_count", "ReservedCount", number,
                   lambda row: row.pool.reserved_count(), "Number of reserved addresses"),
        QueryField("map", "Map", text, lambda row: row.pool.map(), "Actual mapping"),
        QueryField("external_reservations", "ExternalReservations", text,
                   lambda row: ", ".join(row.pool.external_reservations()),
                   "External reservations"),
        QueryField("group_list", "GroupList", other,
                   lambda row: [list(conn) for conn in row.groups],
                   "List of nodegroups (group name, NIC mode, NIC link)"),
        QueryField("group_cnt", "NodeGroups", number, lambda row: len(row.groups),
                   "Number of nodegroups"),
        QueryField("inst_list", "InstanceList", other, lambda row: list(row.instances),
                   "List of instances"),
        QueryField("inst_cnt", "Instances", number, lambda row: len(row.instances),
                   "Number of instances"),
        QueryField("tags", "Tags", other, lambda row: list(row.network.tags), "Tags"),
        QueryField("serial_no", "SerialNo", number, _attr("serial_no"),
                   "Network object serial number, incremented on each modification"),
        QueryField("uuid", "UUID", text, _attr("uuid"), "Network UUID"),
        QueryField("ctime", "CTime", timestamp, _attr("ctime"), "Creation timestamp"),
        QueryField("mtime", "MTime", timestamp, _attr("mtime"), "Modification timestamp"),
    ]


query.register_resource(constants.QR_NETWORK, _network_fields())

#: What ``gnt-network list`` shows without ``-o`` (Ganeti's).
DEFAULT_NETWORK_FIELDS = ("name", "network", "gateway", "mac_prefix", "group_list", "tags")


def network_items(cfg: ConfigWriter) -> list[NetworkRow]:
    """A row per network, sorted by name, from one consistent view of the config."""
    with cfg.locked() as data:
        rows: dict[str, NetworkRow] = {}
        for uuid, net in data.networks.items():
            snapshot = net.copy()
            rows[uuid] = NetworkRow(snapshot, AddressPool(snapshot))
        for group in data.nodegroups.values():
            for net_uuid, params in group.networks.items():
                if net_uuid in rows:
                    rows[net_uuid].groups.append((group.name, *group_connection(params)))
        for inst in data.instances.values():
            for net_uuid in dict.fromkeys(nic.network for nic in inst.nics if nic.network):
                if net_uuid in rows:
                    rows[net_uuid].instances.append(inst.name)
    result = sorted(rows.values(), key=lambda row: row.network.name)
    for row in result:
        row.groups.sort()
        row.instances.sort()
    return result
