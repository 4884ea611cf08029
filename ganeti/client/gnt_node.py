"""gnt-node: add, list, inspect, change and remove the cluster's nodes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ganeti import cli, cli_jobs, cli_query, constants, errors, paramdefs
from ganeti.cli import Command, opt
from ganeti.client import node_moves, node_storage
from ganeti.client.tag_commands import object_tag_commands

PROG = "gnt-node"
#: Default fields of ``list`` (Ganeti's); ganeti.query_node declares them all.
DEFAULT_LIST_FIELDS = ("name", "dtotal", "dfree", "mtotal", "mnode", "mfree", "pinst_cnt",
                       "sinst_cnt")

_YES = ("yes", "true", "y", "1")
_NO = ("no", "false", "n", "0")


def yes_no(text: str) -> bool:
    """``yes``/``no`` option values (Ganeti's), also true/false."""
    value = text.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise argparse.ArgumentTypeError("expected yes or no, got %r" % text)


def coerce_changes(family: paramdefs.ParamFamily, values: dict[str, Any],
                   option: str) -> dict[str, Any]:
    """Command-line strings as typed parameter values; ``default`` and ``-key``
    (None) stay, to remove an override."""
    from ganeti.client.cluster_setup import coerce_params

    kept = {k: v for k, v in values.items() if v is not None and v != constants.VALUE_DEFAULT}
    result = {k: v for k, v in values.items() if k not in kept}
    result.update(coerce_params(family, kept, option))
    return result


def key_values_arg(option: str, family: paramdefs.ParamFamily = paramdefs.NDPARAMS) -> Any:
    """An argparse type: ``k=v,…`` of ``family``'s parameters, typed."""
    def parse(text: str) -> dict[str, Any]:
        try:
            return coerce_changes(family, cli.split_key_values(text, option), option)
        except errors.GenericError as err:
            raise argparse.ArgumentTypeError(str(err)) from err
    return parse


# -- add / remove ---------------------------------------------------------------------------

def add_node(options: argparse.Namespace) -> int:
    op: dict[str, Any] = {
        "OP_ID": "OP_NODE_ADD",
        "node_name": options.node,
        "readd": options.readd,
        "accept_new_host_key": options.accept_new_host_key,
    }
    for key in ("secondary_ip", "group", "master_capable", "vm_capable", "ndparams",
                "primary_ip"):
        value = getattr(options, key)
        if value is not None:
            op[key] = value
    if options.readd:
        cli.to_stdout("Re-adding node %s to the cluster" % options.node)
    cli_jobs.submit_or_send([op], options)
    return cli.EXIT_SUCCESS


def remove_node(options: argparse.Namespace) -> int:
    cli_jobs.submit_or_send([{"OP_ID": "OP_NODE_REMOVE", "node_name": options.node}], options)
    return cli.EXIT_SUCCESS


# -- modify -----------------------------------------------------------------------------------

_MODIFY_FLAGS = ("master_candidate", "drained", "offline", "master_capable", "vm_capable",
                 "powered", "secondary_ip", "ndparams")


def modify_node(options: argparse.Namespace) -> int:
    op: dict[str, Any] = {"OP_ID": "OP_NODE_SET_PARAMS", "node_name": options.node,
                          "force": options.force, "auto_promote": options.auto_promote}
    for key in _MODIFY_FLAGS:
        value = getattr(options, key)
        if value is not None:
            op[key] = value
    if len(op) == 4:
        raise cli.UsageError("Please give at least one of the parameters.")
    results = cli_jobs.submit_or_send([op], options)
    changes = results[0] if results else None
    if changes:
        cli.to_stdout("Modified node %s" % options.node)
        for name, value in changes:
            cli.to_stdout(" - %-5s -> %s" % (name, value))
    return cli.EXIT_SUCCESS


# -- list / info ------------------------------------------------------------------------------

def _name_filter(names: Sequence[str]) -> list[Any] | None:
    return cli_query.or_filter("name", list(names))


def list_nodes(options: argparse.Namespace) -> int:
    fields = cli.parse_fields(options.output, DEFAULT_LIST_FIELDS)
    qfilter = _name_filter(options.nodes)
    if options.filter:
        from ganeti import serializer

        try:
            extra = serializer.load(options.filter)
        except ValueError as err:
            raise cli.UsageError("--filter must be a JSON filter ([op, …]): %s" % err) \
                from err
        qfilter = cli_query.and_filters(qfilter, extra)
    return cli_query.generic_list(cli_jobs.get_client(), constants.QR_NODE, fields, qfilter,
                                  options)


def list_fields(options: argparse.Namespace) -> int:
    return cli_query.list_fields(cli_jobs.get_client(), constants.QR_NODE, options.fields,
                                 options)


_INFO_FIELDS = ["name", "pip", "sip", "master_candidate", "drained", "offline",
                "master_capable", "vm_capable", "group", "role", "pinst_list", "sinst_list",
                "ndparams", "tags", "uuid", "serial_no"]


def format_node_info(row: dict[str, Any]) -> list[str]:
    lines = ["Node name: %s" % row["name"],
             "  primary ip: %s" % row["pip"],
             "  secondary ip: %s" % row["sip"],
             "  UUID: %s" % row["uuid"],
             "  role: %s" % row["role"],
             "  master candidate: %s" % row["master_candidate"],
             "  drained: %s" % row["drained"],
             "  offline: %s" % row["offline"],
             "  master_capable: %s" % row["master_capable"],
             "  vm_capable: %s" % row["vm_capable"],
             "  group: %s" % row["group"],
             "  tags: %s" % (", ".join(row["tags"] or []) or "(none)")]
    for key, title in (("pinst_list", "primary for instances"),
                       ("sinst_list", "secondary for instances")):
        if row[key]:
            lines.append("  %s:" % title)
            lines.extend("    - %s" % name for name in row[key])
        else:
            lines.append("  %s: (none)" % title)
    lines.append("  node parameters:")
    for key, value in sorted((row["ndparams"] or {}).items()):
        lines.append("    %s: %s" % (key, value))
    return lines


def show_nodes(options: argparse.Namespace) -> int:
    client = cli_jobs.get_client()
    result = client.query(constants.QR_NODE, _INFO_FIELDS, _name_filter(options.nodes))
    rows = [dict(zip(_INFO_FIELDS, (value for _status, value in row)))
            for row in result["data"]]
    found = {row["name"] for row in rows}
    missing = [name for name in options.nodes if name not in found]
    if missing:
        raise cli.UsageError("Node(s) not known: %s" % ", ".join(missing))
    for row in rows:
        for line in format_node_info(row):
            cli.to_stdout(line)
    return cli.EXIT_SUCCESS


# -- options ------------------------------------------------------------------------------------

_NODE = opt("node", metavar="NODE")
_NDPARAMS_OPT = opt("--node-parameters", dest="ndparams", type=key_values_arg("--node-parameters"),
                    default=None, metavar="PARAMS",
                    help="node parameters, e.g. ssh_port=22,spindle_count=2")
_SECONDARY_IP_OPT = opt("-s", "--secondary-ip", dest="secondary_ip", default=None,
                        metavar="ADDRESS", help="secondary (replication) IP address")
_MASTER_CAPABLE_OPT = opt("--master-capable", dest="master_capable", type=yes_no, default=None,
                          metavar="yes|no", help="whether the node may become a master"
                                                 " candidate")
_VM_CAPABLE_OPT = opt("--vm-capable", dest="vm_capable", type=yes_no, default=None,
                      metavar="yes|no", help="whether the node may host instances")

_ADD_OPTIONS = (
    opt("--readd", action="store_true", help="re-add a node of this cluster that was"
                                             " reinstalled"),
    _SECONDARY_IP_OPT,
    opt("--primary-ip", dest="primary_ip", default=None, metavar="ADDRESS",
        help="primary IP address (default: the address the name resolves to)"),
    opt("-g", "--node-group", dest="group", default=None, metavar="GROUP",
        help="node group to put the node in (needed when there are several)"),
    _MASTER_CAPABLE_OPT, _VM_CAPABLE_OPT, _NDPARAMS_OPT,
    opt("--accept-new-host-key", "--no-ssh-key-check", dest="accept_new_host_key",
        action="store_true",
        help="trust the node's SSH host key if known_hosts has none for it, and record it"
             " (a key differing from a recorded one is always refused)"),
    *cli.SUBMIT_OPTS,
)

_MODIFY_OPTIONS = (
    opt("-C", "--master-candidate", dest="master_candidate", type=yes_no, default=None,
        metavar="yes|no", help="make the node a master candidate or not"),
    opt("-D", "--drained", dest="drained", type=yes_no, default=None, metavar="yes|no",
        help="mark the node drained (no new instances) or not"),
    opt("-O", "--offline", dest="offline", type=yes_no, default=None, metavar="yes|no",
        help="mark the node offline or online again"),
    _MASTER_CAPABLE_OPT, _VM_CAPABLE_OPT, _SECONDARY_IP_OPT, _NDPARAMS_OPT,
    opt("--node-powered", dest="powered", type=yes_no, default=None, metavar="yes|no",
        help="record the node as powered on or off"),
    opt("--auto-promote", action="store_true",
        help="promote other nodes to master candidates if this change demotes one"),
    cli.FORCE_OPT,
    *cli.SUBMIT_OPTS,
)

COMMANDS: dict[str, Command] = {
    "add": Command(add_node, "add a node to the cluster (bootstrapped over SSH)",
                   args=(_NODE,), options=_ADD_OPTIONS),
    "remove": Command(remove_node, "remove a node without instances from the cluster",
                      args=(_NODE,), options=cli.SUBMIT_OPTS),
    "modify": Command(modify_node, "change a node's roles and parameters", args=(_NODE,),
                      options=_MODIFY_OPTIONS),
    "list": Command(
        list_nodes, "list the nodes", args=(opt("nodes", nargs="*", metavar="NODE"),),
        options=(*cli.LIST_OPTS, cli.VERBOSE_OPT,
                 opt("-F", "--filter", dest="filter", default=None, metavar="FILTER",
                     help="query filter in the list form, as JSON")),
        description="Lists the nodes (default fields: %s)." % ", ".join(DEFAULT_LIST_FIELDS)),
    "list-fields": Command(list_fields, "list the fields gnt-node list can show",
                           args=(opt("fields", nargs="*", metavar="FIELD"),),
                           options=(cli.NOHDR_OPT, cli.SEP_OPT)),
    "info": Command(show_nodes, "show information about nodes (all by default)",
                    args=(opt("nodes", nargs="*", metavar="NODE"),), aliases=("show",)),
    **node_moves.COMMANDS,
    **node_storage.COMMANDS,
    **object_tag_commands(constants.TAG_NODE, "node"),
}


def main(argv: Sequence[str] | None = None) -> int:
    return cli.generic_main(PROG, COMMANDS, argv, description=__doc__ or "")


if __name__ == "__main__":
    sys.exit(main())
