"""gnt-backup: export instances to a node of the cluster, import them back, list and
remove exports.

An export is a directory ``/srv/ganeti/export/<instance>/`` on the target node
holding ``config.ini`` and one dump per disk, made by the OS definition's
``export`` script; ``import`` creates an instance from it (mode "import" of
instance creation), running the OS ``import`` script on each disk.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ganeti import cli, cli_jobs, cli_query, constants, errors
from ganeti.cli import Command, opt
from ganeti.client import instance_core

PROG = "gnt-backup"
DEFAULT_FIELDS = ("node", "export")

_INSTANCE = opt("instance", metavar="INSTANCE")


def _expand_nodes(client: Any, names: Sequence[str]) -> list[str]:
    """Full node names (a unique short name is enough); unknown ones raise."""
    result = client.query(constants.QR_NODE, ["name"], None)
    known = [row[0][1] for row in result["data"]]
    expanded = []
    for name in names:
        matches = [name] if name in known else \
            [full for full in known if full.startswith(name + ".")]
        if len(matches) != 1:
            raise errors.OpPrereqError("Node '%s' is not known" % name, errors.ECODE_NOENT)
        expanded.append(matches[0])
    return expanded


def list_exports(options: argparse.Namespace) -> int:
    fields = cli.parse_fields(options.output, DEFAULT_FIELDS)
    client = cli_jobs.get_client()
    qfilter = cli_query.or_filter("node", _expand_nodes(client, options.nodes))
    return cli_query.generic_list(client, constants.QR_EXPORT, fields, qfilter, options)


def list_fields(options: argparse.Namespace) -> int:
    return cli_query.list_fields(cli_jobs.get_client(), constants.QR_EXPORT, options.fields,
                                 options)


def export_instance(options: argparse.Namespace) -> int:
    if not options.node:
        raise errors.OpPrereqError("Target node must be specified (-n NODE)",
                                   errors.ECODE_INVAL)
    op = {
        "OP_ID": "OP_BACKUP_EXPORT",
        "instance_name": options.instance,
        "target_node": options.node,
        "mode": constants.EXPORT_MODE_LOCAL,
        "compress": options.transport_compression,
        "shutdown": options.shutdown,
        "shutdown_timeout": options.shutdown_timeout,
        "remove_instance": options.remove_instance,
        "ignore_remove_failures": options.ignore_remove_failures,
        "zero_free_space": options.zero_free_space,
        "zeroing_timeout_fixed": options.zeroing_timeout_fixed,
        "zeroing_timeout_per_mib": options.zeroing_timeout_per_mib,
        "long_sleep": options.long_sleep,
    }
    cli_jobs.submit_or_send([op], options)
    return cli.EXIT_SUCCESS


def import_instance(options: argparse.Namespace) -> int:
    # Without --disk/--net the export's disks and NICs are used (Ganeti's rule, which
    # --no-nics does not change: the export's NICs still come).
    disks = instance_core._disk_specs(options) if options.disks or options.os_size else []
    nics = instance_core._nic_specs(options) if options.nics or options.no_nics else []
    op = instance_core.create_op(options, constants.INSTANCE_IMPORT, disks, nics)
    op.update({"src_node": options.src_node, "src_path": options.src_dir,
               "identify_defaults": options.identify_defaults,
               "compress": options.compress})
    cli_jobs.submit_or_send([op], options)
    return cli.EXIT_SUCCESS


def remove_export(options: argparse.Namespace) -> int:
    cli_jobs.submit_or_send([{"OP_ID": "OP_BACKUP_REMOVE",
                              "instance_name": options.instance}], options)
    return cli.EXIT_SUCCESS


#: gnt-instance add's options that make no sense for an import (the export says them).
_NOT_FOR_IMPORT = frozenset(["-t", "-o", "--no-install", "--force-variant"])

_IMPORT_OPTIONS = (
    opt("-t", "--disk-template", dest="disk_template", default=None,
        choices=sorted(constants.DISK_TEMPLATES),
        help="disk template (default: the export's when enabled, else the cluster's)"),
    *(option for option in instance_core._ADD_OPTIONS
      if not _NOT_FOR_IMPORT & set(option.flags)),
    opt("--src-node", dest="src_node", default=None, metavar="NODE",
        help="node holding the export (default: the first node having one of that name)"),
    opt("--src-dir", dest="src_dir", default=None, metavar="DIR",
        help="export directory, relative to the export directory or below it"
             " (default: the instance's name)"),
    opt("--identify-defaults", action="store_true",
        help="do not keep parameters equal to the cluster's defaults"),
    opt("--compress", default=constants.IEC_NONE, metavar="TOOL",
        help="compression of the transfer (only 'none')"),
)

COMMANDS: dict[str, Command] = {
    "list": Command(
        list_exports, "list the exports of the cluster's nodes",
        options=(*cli.LIST_OPTS, cli.VERBOSE_OPT,
                 opt("--node", dest="nodes", action="append", default=[], metavar="NODE",
                     help="only the exports of this node (repeatable)"))),
    "list-fields": Command(list_fields, "list the fields of exports",
                           args=(opt("fields", nargs="*", metavar="FIELD"),),
                           options=(cli.NOHDR_OPT, cli.SEP_OPT)),
    "export": Command(
        export_instance, "export an instance to a node's export directory",
        args=(_INSTANCE,),
        options=(
            opt("-n", "--node", dest="node", default=None, metavar="NODE",
                help="target node (required)"),
            opt("--shutdown-timeout", dest="shutdown_timeout", type=int,
                default=constants.DEFAULT_SHUTDOWN_TIMEOUT, metavar="SECONDS",
                help="seconds the instance gets to shut down (default %(default)s)"),
            opt("--noshutdown", dest="shutdown", action="store_false",
                help="do not shut the instance down (the export may be inconsistent)"),
            opt("--remove-instance", action="store_true",
                help="remove the instance once exported"),
            opt("--ignore-remove-failures", action="store_true",
                help="remove the instance even if some of its disks cannot be removed"),
            opt("--transport-compression", default=constants.IEC_NONE, metavar="TOOL",
                help="compression of the transfer (only 'none')"),
            opt("--zero-free-space", action="store_true",
                help="zero the free space first (not supported)"),
            opt("--zeroing-timeout-fixed", type=int, default=None, metavar="SECONDS",
                help="fixed part of the zeroing timeout"),
            opt("--zeroing-timeout-per-mib", type=float, default=None, metavar="SECONDS",
                help="zeroing timeout per MiB of disk"),
            opt("--long-sleep", action="store_true",
                help="allow the instance to stay down for the whole export"),
            cli.FORCE_OPT, *cli.SUBMIT_OPTS)),
    "import": Command(import_instance, "create an instance from an export",
                      args=(_INSTANCE,), options=_IMPORT_OPTIONS),
    "remove": Command(remove_export, "remove the exports of an instance from every node",
                      args=(_INSTANCE,), options=cli.SUBMIT_OPTS),
}


def main(argv: Sequence[str] | None = None) -> int:
    return cli.generic_main(PROG, COMMANDS, argv, description=__doc__ or "")


if __name__ == "__main__":
    sys.exit(main())
