"""gnt-group: create, list, inspect, change, rename and remove node groups."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ganeti import cli, cli_jobs, cli_query, constants, errors, paramdefs
from ganeti.cli import Command, opt
from ganeti.client.gnt_node import coerce_changes, key_values_arg
from ganeti.client.tag_commands import object_tag_commands

PROG = "gnt-group"
DEFAULT_LIST_FIELDS = ("name", "node_cnt", "pinst_cnt", "alloc_policy", "ndparams")


def _disk_params(text: str) -> tuple[str, dict[str, Any]]:
    try:
        template, values = cli.parse_ident_key_values(text, "--disk-parameters")
        if not isinstance(values, dict):
            raise argparse.ArgumentTypeError("expected TEMPLATE:key=value,…, got %r" % text)
        return template, coerce_changes(paramdefs.disk_family(template), values,
                                        "--disk-parameters")
    except errors.GenericError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number, got %r" % text) from None


def _settings(options: argparse.Namespace) -> dict[str, Any]:
    """The group settings given on the command line, as opcode parameters."""
    op: dict[str, Any] = {}
    if options.alloc_policy is not None:
        op["alloc_policy"] = options.alloc_policy
    if options.ndparams is not None:
        op["ndparams"] = options.ndparams
    if options.diskparams:
        diskparams: dict[str, dict[str, Any]] = {}
        for template, values in options.diskparams:
            if template in diskparams:
                raise cli.UsageError("disk template %s given twice in --disk-parameters"
                                     % template)
            diskparams[template] = values
        op["diskparams"] = diskparams
    ipolicy: dict[str, Any] = {}
    if options.ipolicy_vcpu_ratio is not None:
        ipolicy["vcpu-ratio"] = options.ipolicy_vcpu_ratio
    if options.ipolicy_spindle_ratio is not None:
        ipolicy["spindle-ratio"] = options.ipolicy_spindle_ratio
    if options.ipolicy_disk_templates is not None:
        ipolicy["disk-templates"] = cli.parse_list(options.ipolicy_disk_templates)
    if ipolicy:
        op["ipolicy"] = ipolicy
    return op


def add_group(options: argparse.Namespace) -> int:
    op = {"OP_ID": "OP_GROUP_ADD", "group_name": options.group, **_settings(options)}
    cli_jobs.submit_or_send([op], options)
    return cli.EXIT_SUCCESS


def modify_group(options: argparse.Namespace) -> int:
    settings = _settings(options)
    if not settings:
        raise cli.UsageError("Please give at least one of the parameters.")
    op = {"OP_ID": "OP_GROUP_SET_PARAMS", "group_name": options.group, **settings}
    results = cli_jobs.submit_or_send([op], options)
    if results and results[0]:
        cli.to_stdout("Modified node group %s" % options.group)
        for name, value in results[0]:
            cli.to_stdout(" - %-5s -> %s" % (name, value))
    return cli.EXIT_SUCCESS


def assign_nodes(options: argparse.Namespace) -> int:
    cli_jobs.submit_or_send([{"OP_ID": "OP_GROUP_ASSIGN_NODES", "group_name": options.group,
                              "nodes": list(options.nodes), "force": options.force}],
                            options)
    return cli.EXIT_SUCCESS


def rename_group(options: argparse.Namespace) -> int:
    cli_jobs.submit_or_send([{"OP_ID": "OP_GROUP_RENAME", "group_name": options.group,
                              "new_name": options.new_name}], options)
    return cli.EXIT_SUCCESS


def remove_group(options: argparse.Namespace) -> int:
    cli_jobs.submit_or_send([{"OP_ID": "OP_GROUP_REMOVE", "group_name": options.group}],
                            options)
    return cli.EXIT_SUCCESS


def evacuate_group(options: argparse.Namespace) -> int:
    """Move every instance out of the group (one job each), following the jobs."""
    op = cli_jobs.with_group_targets({
        "OP_ID": "OP_GROUP_EVACUATE", "group_name": options.group,
        "early_release": options.early_release, "sequential": options.sequential,
        "force_failover": options.force_failover}, options)
    return cli_jobs.run_moves(op, options, "All instances evacuated successfully.",
                              "There were %s errors during the evacuation.")


def list_groups(options: argparse.Namespace) -> int:
    fields = cli.parse_fields(options.output, DEFAULT_LIST_FIELDS)
    return cli_query.generic_list(cli_jobs.get_client(), constants.QR_GROUP, fields,
                                  cli_query.or_filter("name", options.groups), options)


def list_fields(options: argparse.Namespace) -> int:
    return cli_query.list_fields(cli_jobs.get_client(), constants.QR_GROUP, options.fields,
                                 options)


_INFO_FIELDS = ["name", "uuid", "alloc_policy", "node_list", "pinst_list", "ndparams",
                "custom_ndparams", "diskparams", "custom_diskparams", "ipolicy",
                "custom_ipolicy", "tags", "serial_no"]


def _dump(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict):
        lines = []
        for key in sorted(value):
            item = value[key]
            if isinstance(item, dict) and item:
                lines.append("%s%s:" % (pad, key))
                lines.extend(_dump(item, indent + 2))
            else:
                lines.append("%s%s: %s" % (pad, key, item))
        return lines
    return ["%s%s" % (pad, value)]


def show_groups(options: argparse.Namespace) -> int:
    result = cli_jobs.get_client().query(constants.QR_GROUP, _INFO_FIELDS,
                                         cli_query.or_filter("name", options.groups))
    rows = [dict(zip(_INFO_FIELDS, (value for _status, value in row)))
            for row in result["data"]]
    missing = [name for name in options.groups if name not in {r["name"] for r in rows}]
    if missing:
        raise cli.UsageError("Node group(s) not known: %s" % ", ".join(missing))
    for row in rows:
        cli.to_stdout("Node group: %s" % row["name"])
        cli.to_stdout("  UUID: %s" % row["uuid"])
        cli.to_stdout("  Allocation policy: %s" % row["alloc_policy"])
        cli.to_stdout("  Nodes: %s" % (", ".join(row["node_list"]) or "(none)"))
        cli.to_stdout("  Primary instances: %s" % (", ".join(row["pinst_list"]) or "(none)"))
        cli.to_stdout("  Tags: %s" % (", ".join(row["tags"]) or "(none)"))
        for key, title in (("ndparams", "Node parameters"), ("diskparams", "Disk parameters"),
                           ("ipolicy", "Instance policy")):
            cli.to_stdout("  %s:" % title)
            for line in _dump(row[key] or {}, 4):
                cli.to_stdout(line)
            custom = row["custom_" + key]
            if custom:
                cli.to_stdout("  %s set on the group:" % title)
                for line in _dump(custom, 4):
                    cli.to_stdout(line)
    return cli.EXIT_SUCCESS


_GROUP = opt("group", metavar="GROUP")
_SETTINGS_OPTIONS = (
    opt("--node-parameters", dest="ndparams", type=key_values_arg("--node-parameters"),
        default=None, metavar="PARAMS", help="node parameters of the group's nodes"),
    opt("--alloc-policy", dest="alloc_policy", default=None,
        choices=sorted(constants.VALID_ALLOC_POLICIES),
        help="allocation policy: preferred, last_resort or unallocable"),
    opt("-D", "--disk-parameters", dest="diskparams", type=_disk_params, action="append",
        default=[], metavar="TEMPLATE:PARAMS",
        help="disk parameters of a disk template (repeatable), e.g. drbd:metavg=xenvg"),
    opt("--ipolicy-vcpu-ratio", dest="ipolicy_vcpu_ratio", type=_float, default=None,
        metavar="RATIO", help="instance policy: maximum virtual CPUs per physical CPU"),
    opt("--ipolicy-spindle-ratio", dest="ipolicy_spindle_ratio", type=_float, default=None,
        metavar="RATIO", help="instance policy: maximum instances per spindle"),
    opt("--ipolicy-disk-templates", dest="ipolicy_disk_templates", default=None,
        metavar="TEMPLATES", help="instance policy: allowed disk templates, comma-separated"),
    *cli.SUBMIT_OPTS,
)

COMMANDS: dict[str, Command] = {
    "add": Command(add_group, "create a node group", args=(_GROUP,),
                   options=_SETTINGS_OPTIONS),
    "modify": Command(modify_group, "change a node group's parameters", args=(_GROUP,),
                      options=_SETTINGS_OPTIONS),
    "assign-nodes": Command(
        assign_nodes, "move nodes into a node group",
        args=(_GROUP, opt("nodes", nargs="+", metavar="NODE")),
        options=(opt("--force", action="store_true",
                     help="move even if instances end up spanning node groups"),
                 *cli.SUBMIT_OPTS)),
    "rename": Command(rename_group, "rename a node group",
                      args=(_GROUP, opt("new_name", metavar="NEW_NAME")),
                      options=cli.SUBMIT_OPTS),
    "remove": Command(remove_group, "remove an empty node group", args=(_GROUP,),
                      options=cli.SUBMIT_OPTS),
    "evacuate": Command(
        evacuate_group, "move all instances out of a node group", args=(_GROUP,),
        options=(opt("--to", dest="to", action="append", default=[], metavar="GROUP",
                     help="group to move the instances to (repeatable; default: any"
                          " other)"),
                 opt("-I", "--iallocator", dest="iallocator", default=None, metavar="NAME",
                     help="allocator choosing the new nodes ('.': the cluster default)"),
                 opt("--early-release", action="store_true",
                     help="release locks early (mirrored disks)"),
                 opt("--sequential", action="store_true",
                     help="run the instances' jobs one after the other"),
                 opt("--force-failover", action="store_true",
                     help="fail the instances over instead of migrating them"),
                 *cli.SUBMIT_OPTS)),
    "list": Command(list_groups, "list the node groups",
                    args=(opt("groups", nargs="*", metavar="GROUP"),),
                    options=(*cli.LIST_OPTS, cli.VERBOSE_OPT),
                    description="Lists the node groups (default fields: %s)."
                                % ", ".join(DEFAULT_LIST_FIELDS)),
    "list-fields": Command(list_fields, "list the fields gnt-group list can show",
                           args=(opt("fields", nargs="*", metavar="FIELD"),),
                           options=(cli.NOHDR_OPT, cli.SEP_OPT)),
    "info": Command(show_groups, "show information about node groups (all by default)",
                    args=(opt("groups", nargs="*", metavar="GROUP"),), aliases=("show",)),
    **object_tag_commands(constants.TAG_NODEGROUP, "group"),
}


def main(argv: Sequence[str] | None = None) -> int:
    return cli.generic_main(PROG, COMMANDS, argv, description=__doc__ or "")


if __name__ == "__main__":
    sys.exit(main())
