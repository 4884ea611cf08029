"""gnt-network: IP networks, their address pools and their connections to node groups."""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

from ganeti import cli, cli_jobs, cli_query, constants, luxi, paramdefs
from ganeti.cli import Command, opt
from ganeti.client.gnt_node import key_values_arg
from ganeti.client.tag_commands import object_tag_commands

PROG = "gnt-network"
DEFAULT_LIST_FIELDS = ("name", "network", "gateway", "mac_prefix", "group_list", "tags")


def _reserved_ips(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return cli.parse_list(text) if text else []


def add_network(options: argparse.Namespace) -> int:
    if not options.network:
        raise cli.UsageError("The --network option must be given")
    op = {"OP_ID": "OP_NETWORK_ADD", "network_name": options.name,
          "network": options.network, "gateway": options.gateway,
          "network6": options.network6, "gateway6": options.gateway6,
          "mac_prefix": options.mac_prefix,
          "add_reserved_ips": _reserved_ips(options.add_reserved_ips),
          "conflicts_check": options.conflicts_check,
          "tags": cli.parse_list(options.tags) if options.tags else []}
    cli_jobs.submit_or_send([op], options)
    return cli.EXIT_SUCCESS


def modify_network(options: argparse.Namespace) -> int:
    changes = {"gateway": options.gateway, "network6": options.network6,
               "gateway6": options.gateway6, "mac_prefix": options.mac_prefix,
               "add_reserved_ips": _reserved_ips(options.add_reserved_ips),
               "remove_reserved_ips": _reserved_ips(options.remove_reserved_ips)}
    if all(value is None for value in changes.values()):
        raise cli.UsageError("Please give at least one of the parameters.")
    op = {"OP_ID": "OP_NETWORK_SET_PARAMS", "network_name": options.name,
          **{key: value for key, value in changes.items() if value is not None}}
    cli_jobs.submit_or_send([op], options)
    return cli.EXIT_SUCCESS


def remove_network(options: argparse.Namespace) -> int:
    cli_jobs.submit_or_send([{"OP_ID": "OP_NETWORK_REMOVE", "network_name": options.name,
                              "force": options.force}], options)
    return cli.EXIT_SUCCESS


def rename_network(options: argparse.Namespace) -> int:
    cli_jobs.submit_or_send([{"OP_ID": "OP_NETWORK_RENAME", "network_name": options.name,
                              "new_name": options.new_name}], options)
    return cli.EXIT_SUCCESS


def _target_groups(client: luxi.Client, groups: Sequence[str]) -> list[str]:
    """The groups named, or every group of the cluster (Ganeti's default)."""
    known = [row[0][1] for row in client.query(constants.QR_GROUP, ["name"], None)["data"]]
    if not groups:
        return known
    for group in groups:
        if group not in known and group in constants.NIC_VALID_MODES:
            # Ganeti 2.7's "connect NET GROUP MODE LINK" form is gone there too.
            raise cli.UsageError("Node group %r is not known; the NIC mode and link are"
                                 " given with -N mode=%s,link=LINK" % (group, group))
    return list(groups)


def connect_network(options: argparse.Namespace) -> int:
    client = cli_jobs.get_client()
    nicparams = paramdefs.NICPARAMS.defaults()
    nicparams.update(options.nicparams or {})
    ops = [{"OP_ID": "OP_NETWORK_CONNECT", "group_name": group,
            "network_name": options.name,
            "network_mode": nicparams[paramdefs.NIC_MODE],
            "network_link": nicparams[paramdefs.NIC_LINK],
            "network_vlan": nicparams[paramdefs.NIC_VLAN],
            "conflicts_check": options.conflicts_check}
           for group in _target_groups(client, options.groups)]
    cli_jobs.submit_or_send(ops, options)
    return cli.EXIT_SUCCESS


def disconnect_network(options: argparse.Namespace) -> int:
    client = cli_jobs.get_client()
    ops = [{"OP_ID": "OP_NETWORK_DISCONNECT", "group_name": group,
            "network_name": options.name}
           for group in _target_groups(client, options.groups)]
    cli_jobs.submit_or_send(ops, options)
    return cli.EXIT_SUCCESS


def _group_list(value: Any) -> str:
    return ", ".join("%s (%s, %s, %s)" % tuple(conn) for conn in value or [])


def list_networks(options: argparse.Namespace) -> int:
    fields = cli.parse_fields(options.output, DEFAULT_LIST_FIELDS)
    return cli_query.generic_list(cli_jobs.get_client(), constants.QR_NETWORK, fields,
                                  cli_query.or_filter("name", options.networks), options,
                                  format_override={"group_list": _group_list})


def list_fields(options: argparse.Namespace) -> int:
    return cli_query.list_fields(cli_jobs.get_client(), constants.QR_NETWORK,
                                 options.fields, options)


_INFO_FIELDS = ["name", "network", "gateway", "network6", "gateway6", "mac_prefix",
                "free_count", "reserved_count", "map", "group_list", "inst_list",
                "external_reservations", "serial_no", "uuid"]


def _info_lines(row: dict[str, Any], nic_users: dict[str, list[str]]) -> list[str]:
    """Ganeti's ``gnt-network info`` text of one network."""
    size = row["free_count"] + row["reserved_count"]
    lines = ["Network name: %s" % row["name"], "UUID: %s" % row["uuid"],
             "Serial number: %d" % row["serial_no"], "  Subnet: %s" % row["network"]]
    for key, title in (("gateway", "Gateway"), ("network6", "IPv6 Subnet"),
                       ("gateway6", "IPv6 Gateway"), ("mac_prefix", "Mac Prefix")):
        lines.append("  %s: %s" % (title, row[key]))
    lines.append("  Size: %d" % size)
    lines.append("  Free: %d (%.2f%%)" % (row["free_count"],
                                         100.0 * row["free_count"] / size if size else 0.0))
    lines.append("  Usage map:")
    mapping = row["map"]
    for start in range(0, len(mapping), 64):
        lines.append("     %s %s %d" % (str(start).rjust(4), mapping[start:start + 64].ljust(64),
                                        start + 63))
    lines.append("         (X) used    (.) free")
    if row["external_reservations"]:
        lines.append("  externally reserved IPs:")
        lines.extend("    %s" % line for line in textwrap.wrap(row["external_reservations"],
                                                              width=64))
    if row["group_list"]:
        lines.append("  connected to node groups:")
        lines.extend("    %s (mode:%s link:%s vlan:%s)" % tuple(conn)
                     for conn in row["group_list"])
    else:
        lines.append("  not connected to any node group")
    if row["inst_list"]:
        lines.append("  used by %d instances:" % len(row["inst_list"]))
        lines.extend("    %s: %s" % (name, ", ".join(nic_users.get(name, [])))
                     for name in row["inst_list"])
    else:
        lines.append("  not used by any instances")
    return lines


def show_networks(options: argparse.Namespace) -> int:
    client = cli_jobs.get_client()
    result = client.query(constants.QR_NETWORK, _INFO_FIELDS,
                          cli_query.or_filter("name", options.networks))
    rows = [dict(zip(_INFO_FIELDS, (value for _status, value in row)))
            for row in result["data"]]
    missing = [name for name in options.networks if name not in {r["name"] for r in rows}]
    if missing:
        raise cli.UsageError("Network(s) not known: %s" % ", ".join(missing))
    users = sorted({name for row in rows for name in row["inst_list"]})
    nics: dict[str, tuple[list[Any], list[Any]]] = {}
    if users:
        inst_rows = client.query(constants.QR_INSTANCE, ["name", "nic.ips", "nic.networks"],
                                 cli_query.or_filter("name", users))["data"]
        nics = {r[0][1]: (r[1][1], r[2][1]) for r in inst_rows}
    for row in rows:
        nic_users = {name: ["%d:%s" % (index, ip) for index, (ip, net)
                            in enumerate(zip(*nics[name])) if net == row["uuid"]]
                     for name in row["inst_list"] if name in nics}
        for line in _info_lines(row, nic_users):
            cli.to_stdout(line)
    return cli.EXIT_SUCCESS


_NETWORK = opt("name", metavar="NETWORK")
_NO_CONFLICTS_CHECK = opt("--no-conflicts-check", dest="conflicts_check",
                          action="store_false", default=True,
                          help="do not check for conflicting IP addresses")
_GATEWAY_OPT = opt("--gateway", default=None, metavar="GATEWAY",
                   help="IPv4 gateway of the network ('none' clears it on modify)")
_NETWORK6_OPT = opt("--network6", default=None, metavar="NETWORK6",
                    help="IPv6 subnet of the network")
_GATEWAY6_OPT = opt("--gateway6", default=None, metavar="GATEWAY6",
                    help="IPv6 gateway of the network")
_MAC_PREFIX_OPT = opt("--mac-prefix", dest="mac_prefix", default=None, metavar="PREFIX",
                      help="MAC prefix (xx:xx:xx) of the NICs on this network")
_ADD_RESERVED_OPT = opt("--add-reserved-ips", dest="add_reserved_ips", default=None,
                        metavar="IPS", help="comma-separated IP addresses to keep away from"
                        " instances")
_REMOVE_RESERVED_OPT = opt("--remove-reserved-ips", dest="remove_reserved_ips", default=None,
                           metavar="IPS", help="comma-separated IP addresses to release")
_GROUPS = opt("groups", nargs="*", metavar="GROUP")

COMMANDS: dict[str, Command] = {
    "add": Command(add_network, "add a new IP network to the cluster", args=(_NETWORK,),
                   options=(opt("--network", default=None, metavar="NETWORK",
                                help="IPv4 subnet in CIDR notation (a.b.c.d/n), required"),
                            _GATEWAY_OPT, _ADD_RESERVED_OPT, _MAC_PREFIX_OPT, _NETWORK6_OPT,
                            _GATEWAY6_OPT, _NO_CONFLICTS_CHECK,
                            opt("--tags", default=None, metavar="TAGS",
                                help="comma-separated tags of the network"),
                            *cli.SUBMIT_OPTS)),
    "modify": Command(modify_network, "change the parameters of a network", args=(_NETWORK,),
                      options=(_ADD_RESERVED_OPT, _REMOVE_RESERVED_OPT, _GATEWAY_OPT,
                               _MAC_PREFIX_OPT, _NETWORK6_OPT, _GATEWAY6_OPT,
                               *cli.SUBMIT_OPTS)),
    "remove": Command(remove_network, "remove a network no node group is connected to",
                      args=(_NETWORK,), options=(cli.FORCE_OPT, *cli.SUBMIT_OPTS)),
    "rename": Command(rename_network, "rename a network",
                      args=(_NETWORK, opt("new_name", metavar="NEW_NAME")),
                      options=cli.SUBMIT_OPTS),
    "connect": Command(connect_network,
                       "connect a network to node groups (all groups if none given)",
                       args=(_NETWORK, _GROUPS),
                       options=(opt("-N", "--nic-parameters", dest="nicparams", default=None,
                                    type=key_values_arg("--nic-parameters",
                                                        paramdefs.NICPARAMS),
                                    metavar="PARAMS",
                                    help="mode=…,link=…,vlan=… of the NICs on this network"
                                         " in those groups"),
                                _NO_CONFLICTS_CHECK, *cli.SUBMIT_OPTS)),
    "disconnect": Command(disconnect_network,
                          "disconnect a network from node groups (all groups if none given)",
                          args=(_NETWORK, _GROUPS), options=cli.SUBMIT_OPTS),
    "list": Command(list_networks, "list the IP networks",
                    args=(opt("networks", nargs="*", metavar="NETWORK"),),
                    options=(*cli.LIST_OPTS, cli.VERBOSE_OPT),
                    description="Lists the IP networks (default fields: %s)."
                                % ", ".join(DEFAULT_LIST_FIELDS)),
    "list-fields": Command(list_fields, "list the fields gnt-network list can show",
                           args=(opt("fields", nargs="*", metavar="FIELD"),),
                           options=(cli.NOHDR_OPT, cli.SEP_OPT)),
    "info": Command(show_networks, "show information about networks (all by default)",
                    args=(opt("networks", nargs="*", metavar="NETWORK"),)),
    **object_tag_commands(constants.TAG_NETWORK, "network"),
}


def main(argv: Sequence[str] | None = None) -> int:
    return cli.generic_main(PROG, COMMANDS, argv, description=__doc__ or "")


if __name__ == "__main__":
    sys.exit(main())
