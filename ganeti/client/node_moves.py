"""gnt-node migrate and evacuate: move a node's instances elsewhere.

Both submit one opcode that computes a job per instance; the command then
follows those jobs, showing their log, and reports how many failed.
"""

from __future__ import annotations

import argparse
from typing import Any

from ganeti import cli, cli_jobs, constants, errors
from ganeti.cli import Command, opt


def _node_instances(node: str, fields: list[str]) -> list[str]:
    """The instance names in ``fields`` (pinst_list, sinst_list) of ``node``."""
    result = cli_jobs.get_client().query(constants.QR_NODE, ["name", *fields],
                                         ["|", ["==", "name", node]])
    rows = result["data"]
    if not rows:
        raise errors.OpPrereqError("Node '%s' is not known" % node, errors.ECODE_NOENT)
    names: set[str] = set()
    for _status, value in rows[0][1:]:
        names.update(value or [])
    return sorted(names)


def migrate_node(options: argparse.Namespace) -> int:
    """Migrate every primary instance of the node (one job each)."""
    if options.non_live and options.migration_mode is not None:
        raise cli.UsageError("Only one of the --non-live and --migration-mode options can be"
                             " passed")
    instances = _node_instances(options.node, ["pinst_list"])
    if not instances:
        cli.to_stdout("No primary instances on node %s, exiting." % options.node)
        return cli.EXIT_SUCCESS
    if not (options.force or cli.confirm("Migrate instance(s) %s?" % ", ".join(instances))):
        return cli.EXIT_CONFIRMATION
    op: dict[str, Any] = {"OP_ID": "OP_NODE_MIGRATE", "node_name": options.node,
                          "ignore_ipolicy": options.ignore_ipolicy,
                          "allow_runtime_changes": options.allow_runtime_changes}
    mode = constants.HT_MIGRATION_NONLIVE if options.non_live else options.migration_mode
    if mode is not None:
        op["mode"] = mode
    for key in ("iallocator", "target_node"):
        if getattr(options, key):
            op[key] = getattr(options, key)
    return cli_jobs.run_moves(op, options, "All instances migrated successfully.",
                           "There were %s errors during the node migration.")


def evacuate_node(options: argparse.Namespace) -> int:
    """Move the node's instances elsewhere, as an allocator plans it."""
    if options.remote_node is not None:
        cli.to_stderr("New secondary node given (disabling iallocator), hence evacuating"
                      " secondary instances only.")
        options.secondary_only, options.primary_only = True, False
    chosen = [flag for flag in ("primary_only", "secondary_only", "all_instances")
              if getattr(options, flag)]
    if len(chosen) > 1:
        raise cli.UsageError("Only one of the --primary-only, --secondary-only and --all"
                             " options can be passed")
    if options.primary_only:
        mode, fields = constants.NODE_EVAC_PRI, ["pinst_list"]
    elif options.secondary_only:
        mode, fields = constants.NODE_EVAC_SEC, ["sinst_list"]
    else:
        mode, fields = constants.NODE_EVAC_ALL, ["pinst_list", "sinst_list"]
    instances = _node_instances(options.node, fields)
    if not instances:
        cli.to_stderr("No instances to evacuate on node(s) %s, exiting." % options.node)
        return cli.EXIT_SUCCESS
    if not (options.force or cli.confirm("Relocate instance(s) %s from node(s) %s?"
                                         % (", ".join(instances), options.node))):
        return cli.EXIT_CONFIRMATION
    op: dict[str, Any] = {"OP_ID": "OP_NODE_EVACUATE", "node_name": options.node,
                          "mode": mode, "early_release": options.early_release}
    if options.ignore_soft_errors:
        op["ignore_soft_errors"] = True
    for key in ("iallocator", "remote_node"):
        if getattr(options, key):
            op[key] = getattr(options, key)
    return cli_jobs.run_moves(op, options, "All instances evacuated successfully.",
                           "There were %s errors during the evacuation.")


_NODE = opt("node", metavar="NODE")
_IALLOCATOR = opt("-I", "--iallocator", dest="iallocator", default=None, metavar="NAME",
                  help="allocator choosing the new nodes ('.': the cluster default;"
                       " default: built-in unless the cluster sets one)")

COMMANDS: dict[str, Command] = {
    "migrate": Command(
        migrate_node, "migrate all primary instances of a node away", args=(_NODE,),
        options=(
            opt("--non-live", action="store_true", help="non-live migration"),
            opt("--migration-mode", choices=sorted(constants.HT_MIGRATION_MODES),
                default=None, help="live or non-live (default: the hypervisor's setting)"),
            opt("-n", "--target-node", dest="target_node", default=None, metavar="NODE",
                help="node to migrate the instances to (shared storage)"),
            _IALLOCATOR,
            opt("--ignore-ipolicy", action="store_true", help="ignore the instance policy"),
            opt("--no-runtime-changes", dest="allow_runtime_changes", action="store_false",
                help="do not change the instances' memory to fit the target"),
            cli.FORCE_OPT, *cli.SUBMIT_OPTS)),
    "evacuate": Command(
        evacuate_node, "move instances off a node (as an allocator plans it)", args=(_NODE,),
        options=(
            opt("-p", "--primary-only", action="store_true",
                help="move the primary instances only"),
            opt("-s", "--secondary-only", action="store_true",
                help="move the secondary instances only"),
            opt("--all", dest="all_instances", action="store_true",
                help="move primary and secondary instances (the default)"),
            opt("-n", "--new-secondary", dest="remote_node", default=None, metavar="NODE",
                help="new secondary node (secondary instances only)"),
            _IALLOCATOR,
            opt("--early-release", action="store_true",
                help="release locks early (mirrored disks)"),
            opt("--ignore-soft-errors", action="store_true",
                help="have the allocator ignore soft policy errors"),
            cli.FORCE_OPT, *cli.SUBMIT_OPTS)),
}
