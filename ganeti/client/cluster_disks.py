"""gnt-cluster sub-commands about instance disks and the master IP.

verify-disks, repair-disk-sizes, activate-master-ip, deactivate-master-ip
(Ganeti's names, options and messages).
"""

from __future__ import annotations

import argparse
from typing import Any

from ganeti import cli, cli_jobs, constants, errors
from ganeti.cli import Command, opt

_DEACTIVATE_QUESTION = (
    "This will disable the master IP. All the open connections to the master IP will be"
    " closed. To reach the master you will need to use its node IP. Continue?")
#: How much of a node's error verify-disks shows (Ganeti's).
_ERROR_TAIL = 400


def _device_name(volume: str) -> str:
    """LVM volumes show as /dev/vg/lv (Ganeti's format); file disks by their path."""
    return volume if volume.startswith("/") else "/dev/%s" % volume


def _report_group(client: Any, options: argparse.Namespace, result: list[Any]) -> int:
    """Print one group's verification and activate the disks that need it."""
    bad_nodes, instances, missing = result
    code = cli.EXIT_SUCCESS
    for node, text in sorted(bad_nodes.items()):
        cli.to_stdout("Error gathering data on node %s: %s" % (node, text[-_ERROR_TAIL:]))
        cli.to_stdout("You need to fix these nodes first before fixing instances")
        code = cli.EXIT_FAILURE
    for name in instances:
        if name in missing:
            continue
        cli.to_stdout("Activating disks for instance '%s'" % name)
        try:
            cli_jobs.submit_or_send([{"OP_ID": "OP_INSTANCE_ACTIVATE_DISKS",
                                      "instance_name": name}], options, client)
        except errors.GenericError as err:
            code = cli.EXIT_FAILURE
            cli.to_stderr("Error activating disks for instance %s: %s"
                          % (name, cli.format_error(err)[1]))
    if missing:
        for name, volumes in sorted(missing.items()):
            if all(node in bad_nodes for node, _ in volumes):
                cli.to_stdout("Instance %s cannot be verified as it lives on broken nodes"
                              % name)
                continue
            cli.to_stdout("Instance %s has missing logical volumes:" % name)
            for node, volume in sorted(volumes):
                prefix = "broken node " if node in bad_nodes else ""
                cli.to_stdout("\t%s%s %s" % (prefix, node, _device_name(volume)))
        cli.to_stdout("You need to replace or recreate disks for all the above instances if"
                      " this message persists after fixing broken nodes.")
        code = cli.EXIT_FAILURE
    elif not instances:
        cli.to_stdout("No disks need to be activated.")
    return code


def verify_disks(options: argparse.Namespace) -> int:
    client = cli_jobs.get_client()
    op: dict[str, Any] = {"OP_ID": "OP_CLUSTER_VERIFY_DISKS", "is_strict": options.strict}
    if options.nodegroup:
        op["group_name"] = options.nodegroup
    submitted = cli_jobs.submit_or_send([op], options, client)[0][constants.JOB_IDS_KEY]
    code = cli.EXIT_SUCCESS
    for ok, job_id in submitted:
        if not ok:
            cli.to_stdout("Job failed: %s" % (job_id,))
            code = cli.EXIT_FAILURE
            continue
        try:
            results = cli_jobs.poll_job(client, int(job_id))
        except errors.GenericError as err:
            cli.to_stdout("Job failed: %s" % cli.format_error(err)[1])
            code = cli.EXIT_FAILURE
            continue
        code = max(code, _report_group(client, options, results[0]))
    return code


def repair_disk_sizes(options: argparse.Namespace) -> int:
    cli_jobs.submit_or_send([{"OP_ID": "OP_CLUSTER_REPAIR_DISK_SIZES",
                              "instances": list(options.instances)}], options)
    return cli.EXIT_SUCCESS


def activate_master_ip(options: argparse.Namespace) -> int:
    cli_jobs.submit_or_send([{"OP_ID": "OP_CLUSTER_ACTIVATE_MASTER_IP"}], options)
    return cli.EXIT_SUCCESS


def deactivate_master_ip(options: argparse.Namespace) -> int:
    if not options.yes and not cli.confirm(_DEACTIVATE_QUESTION):
        return cli.EXIT_FAILURE
    cli_jobs.submit_or_send([{"OP_ID": "OP_CLUSTER_DEACTIVATE_MASTER_IP"}], options)
    return cli.EXIT_SUCCESS


COMMANDS: dict[str, Command] = {
    "verify-disks": Command(
        verify_disks, "check the disks of the instances whose disks should be active;"
                      " activate those that need it",
        options=(opt("--node-group", dest="nodegroup", default=None, metavar="GROUP",
                     help="check only this node group"),
                 opt("--no-strict", dest="strict", action="store_false",
                     help="accepted for compatibility: only DRBD checks are strict or not,"
                          " and no template here has them"),
                 cli.PRIORITY_OPT, cli.REASON_OPT)),
    "repair-disk-sizes": Command(
        repair_disk_sizes, "record the real sizes of instance disks in the configuration",
        args=(opt("instances", nargs="*", metavar="INSTANCE"),),
        options=(cli.PRIORITY_OPT, cli.REASON_OPT, cli.DRY_RUN_OPT)),
    "activate-master-ip": Command(
        activate_master_ip, "bring up the cluster's master IP on the master node",
        options=(cli.PRIORITY_OPT, cli.REASON_OPT)),
    "deactivate-master-ip": Command(
        deactivate_master_ip, "take down the cluster's master IP on the master node",
        options=(cli.YES_OPT, cli.PRIORITY_OPT, cli.REASON_OPT)),
}
