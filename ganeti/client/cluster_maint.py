"""gnt-cluster sub-commands that check and maintain the cluster.

verify, redist-conf, modify, queue, watcher, list-tags/add-tags/remove-tags/
search-tags here; command, copyfile and renew-crypto (they reach the nodes
over SSH) in ``ganeti.client.cluster_remote``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from ganeti import cli, cli_jobs, constants, errors, paramdefs
from ganeti.cli import Command, opt
from ganeti.client import cluster_remote, tag_commands
from ganeti.client.cluster_setup import coerce_params
from ganeti.utils import argtypes

# -- verify -----------------------------------------------------------------------------


def _verify_op(options: argparse.Namespace) -> dict[str, Any]:
    skip = [] if options.nplus1_mem else [constants.VERIFY_NPLUSONE_MEM]
    op: dict[str, Any] = {
        "OP_ID": "OP_CLUSTER_VERIFY",
        "verbose": bool(options.verbose),
        "error_codes": options.error_codes,
        "debug_simulate_errors": options.simulate_errors,
        "skip_checks": skip,
        "ignore_errors": list(options.ignore_errors),
        "verify_clutter": options.verify_clutter,
    }
    if options.nodegroup:
        op["group_name"] = options.nodegroup
    return op


def verify(options: argparse.Namespace) -> int:
    """Submit the verification, follow every job it spawns; exit 1 on any error."""
    client = cli_jobs.get_client()
    results = cli_jobs.submit_or_send([_verify_op(options)], options, client)
    bad_jobs = bad_results = 0
    for submitted, job_id in results[0][constants.JOB_IDS_KEY]:
        if not submitted:
            bad_jobs += 1
            cli.to_stderr("Submitting a verification job failed: %s" % (job_id,))
            continue
        try:
            op_results = cli_jobs.poll_job(client, job_id)
        except errors.GenericError as err:
            bad_jobs += 1
            cli.to_stderr("Job %s failed: %s" % (job_id, cli.format_error(err)[1]))
            continue
        if not all(op_results):
            bad_results += 1
    if bad_jobs:
        cli.to_stdout("%s job(s) failed while verifying the cluster." % bad_jobs)
    return cli.EXIT_SUCCESS if not bad_jobs and not bad_results else cli.EXIT_FAILURE


# -- redist-conf -------------------------------------------------------------------------


def redist_conf(options: argparse.Namespace) -> int:
    cli_jobs.submit_or_send([{"OP_ID": "OP_CLUSTER_REDIST_CONF"}], options)
    return cli.EXIT_SUCCESS


# -- modify ------------------------------------------------------------------------------


def _changes(family: paramdefs.ParamFamily, text: str, option: str) -> dict[str, Any]:
    """``k=v,…`` for modify: ``default`` (or ``-k``) removes the cluster's override."""
    values = cli.split_key_values(text, option)
    kept = {k: v for k, v in values.items() if v is not None and v != constants.VALUE_DEFAULT}
    result: dict[str, Any] = dict.fromkeys(set(values) - set(kept), constants.VALUE_DEFAULT)
    result.update(coerce_params(family, kept, option))
    return result


def _ident_changes(items: list[str], option: str,
                   family_of: Callable[[str], paramdefs.ParamFamily]
                   ) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for item in items:
        ident, sep, rest = item.partition(":")
        if not sep or not ident:
            raise errors.ParameterError("%s: expected NAME:key=value[,…], got %r"
                                        % (option, item))
        if ident in result:
            raise errors.ParameterError("%s given twice for %r" % (option, ident))
        try:
            family = family_of(ident)
        except errors.GenericError as err:
            raise errors.ParameterError("%s: %s" % (option, err)) from err
        result[ident] = _changes(family, rest, option)
    return result


def parse_redistribute_file(text: str) -> dict[str, str]:
    """``PATH[:all|:master-candidates]`` (default all) as an extra-files entry."""
    path, sep, target = text.rpartition(":")
    if not sep or target not in ("all", "master-candidates"):
        path, target = text, "all"
    if not path.startswith("/"):
        raise errors.ParameterError("--add-redistribute-file: expected an absolute path"
                                    " (optionally :all or :master-candidates), got %r" % text)
    return {"path": path, "nodes": target}


_MODIFY_PLAIN: tuple[tuple[str, str], ...] = (
    ("vg_name", "vg_name"), ("candidate_pool_size", "candidate_pool_size"),
    ("max_running_jobs", "max_running_jobs"), ("max_tracked_jobs", "max_tracked_jobs"),
    ("maintain_node_health", "maintain_node_health"),
    ("prealloc_wipe_disks", "prealloc_wipe_disks"),
    ("default_iallocator", "default_iallocator"), ("mac_prefix", "mac_prefix"),
    ("master_netdev", "master_netdev"), ("master_netmask", "master_netmask"),
    ("drbd_helper", "drbd_helper"), ("use_external_mip_script", "use_external_mip_script"),
    ("file_storage_dir", "file_storage_dir"),
    ("shared_file_storage_dir", "shared_file_storage_dir"),
    ("gluster_storage_dir", "gluster_storage_dir"),
    ("enabled_user_shutdown", "enabled_user_shutdown"),
)


def modify_op(options: argparse.Namespace) -> dict[str, Any]:
    """The OpClusterSetParams of ``gnt-cluster modify``'s options."""
    op: dict[str, Any] = {"OP_ID": "OP_CLUSTER_SET_PARAMS"}
    for dest, param in _MODIFY_PLAIN:
        value = getattr(options, dest)
        if value is not None:
            op[param] = value
    for dest in ("enabled_hypervisors", "enabled_disk_templates", "reserved_lvs",
                 "compression_tools"):
        value = getattr(options, dest)
        if value is not None:
            op[dest] = cli.parse_list(value)
    if options.hvparams:
        op["hvparams"] = _ident_changes(options.hvparams, "-H", paramdefs.hv_family)
    if options.diskparams:
        op["diskparams"] = _ident_changes(options.diskparams, "-D", paramdefs.disk_family)
    for dest, family, option in (("beparams", paramdefs.BEPARAMS, "-B"),
                                 ("nicparams", paramdefs.NICPARAMS, "-N"),
                                 ("ndparams", paramdefs.NDPARAMS, "--node-parameters")):
        text = getattr(options, dest)
        if text is not None:
            op[dest] = _changes(family, text, option)
    if options.add_redistribute_files:
        op["add_redistribute_files"] = [parse_redistribute_file(text)
                                        for text in options.add_redistribute_files]
    if options.remove_redistribute_files:
        op["remove_redistribute_files"] = list(options.remove_redistribute_files)
    if len(op) == 1:
        raise cli.UsageError("Please give at least one of the parameters to change")
    return op


def modify(options: argparse.Namespace) -> int:
    cli_jobs.submit_or_send([modify_op(options)], options)
    return cli.EXIT_SUCCESS


_MODIFY_OPTIONS = (
    opt("--enabled-hypervisors", default=None, metavar="HV[,HV…]",
        help="hypervisors instances may use; the first is the default"),
    opt("--enabled-disk-templates", default=None, metavar="T[,T…]",
        help="disk templates instances may use; the first is the default"),
    opt("-H", "--hypervisor-parameters", dest="hvparams", action="append", default=[],
        metavar="HV:K=V,…", help="hypervisor parameters (repeatable); V=default removes"
                                 " the cluster's value"),
    opt("-B", "--backend-parameters", dest="beparams", default=None, metavar="K=V,…",
        help="default backend parameters"),
    opt("-N", "--nic-parameters", dest="nicparams", default=None, metavar="K=V,…",
        help="default NIC parameters"),
    opt("--node-parameters", dest="ndparams", default=None, metavar="K=V,…",
        help="default node parameters"),
    opt("-D", "--disk-parameters", dest="diskparams", action="append", default=[],
        metavar="TEMPLATE:K=V,…", help="disk parameters (repeatable)"),
    opt("-C", "--candidate-pool-size", type=argtypes.positive_int, default=None, metavar="N",
        help="wanted number of master candidates (nodes are promoted when it grows)"),
    opt("--max-running-jobs", type=argtypes.positive_int, default=None, metavar="N",
        help="jobs allowed to run at the same time"),
    opt("--max-tracked-jobs", type=argtypes.positive_int, default=None, metavar="N",
        help="jobs the queue keeps track of"),
    opt("-g", "--vg-name", default=None, metavar="VG",
        help="LVM volume group (empty string: none)"),
    opt("--maintain-node-health", type=argtypes.yes_no, default=None, metavar="yes|no",
        help="shut down unknown instances on offline nodes"),
    opt("--prealloc-wipe-disks", type=argtypes.yes_no, default=None, metavar="yes|no",
        help="wipe disks before use"),
    opt("--user-shutdown", dest="enabled_user_shutdown", type=argtypes.yes_no, default=None,
        metavar="yes|no", help="treat shutdowns from inside instances as intended"),
    opt("--use-external-mip-script", type=argtypes.yes_no, default=None, metavar="yes|no",
        help="set up the master IP with the administrator's script"),
    opt("-I", "--default-iallocator", default=None, metavar="NAME",
        help="default instance allocator"),
    opt("-m", "--mac-prefix", default=None, metavar="PREFIX",
        help="prefix of generated MAC addresses"),
    opt("--master-netdev", default=None, metavar="DEV",
        help="network device of the master IP"),
    opt("--master-netmask", type=argtypes.non_negative_int, default=None, metavar="BITS",
        help="prefix length of the master IP"),
    opt("--drbd-usermode-helper", dest="drbd_helper", default=None, metavar="PATH",
        help="DRBD usermode helper"),
    opt("--reserved-lvs", default=None, metavar="LV[,LV…]",
        help="logical volumes verify ignores (empty string: none)"),
    opt("--compression-tools", default=None, metavar="TOOL[,TOOL…]",
        help="compression tools allowed for instance moves"),
    opt("--file-storage-dir", default=None, metavar="DIR", help="directory of file disks"),
    opt("--shared-file-storage-dir", default=None, metavar="DIR",
        help="directory of shared-file disks"),
    opt("--gluster-storage-dir", default=None, metavar="DIR",
        help="directory of gluster disks"),
    opt("--add-redistribute-file", dest="add_redistribute_files", action="append",
        default=[], metavar="PATH[:all|:master-candidates]",
        help="add a file that redist-conf copies from the master to all nodes (default)"
             " or to the master candidates only (repeatable)"),
    opt("--remove-redistribute-file", dest="remove_redistribute_files", action="append",
        default=[], metavar="PATH", help="take a file off that list (repeatable)"),
    *cli.SUBMIT_OPTS,
)


# -- queue and watcher -------------------------------------------------------------------


def queue(options: argparse.Namespace) -> int:
    client = cli_jobs.get_client()
    if options.action == "drain":
        client.call("SetDrainFlag", True)
    elif options.action == "undrain":
        client.call("SetDrainFlag", False)
    else:
        drained = client.query_config_values(["drain_flag"])[0]
        cli.to_stdout("The drain flag is %s" % ("set" if drained else "unset"))
    return cli.EXIT_SUCCESS


def _duration(text: str) -> int:
    from ganeti.client.gnt_job import parse_timespec

    try:
        return parse_timespec(text)
    except errors.ParameterError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def watcher(options: argparse.Namespace) -> int:
    client = cli_jobs.get_client()
    if options.action == "pause":
        if options.duration is None:
            raise cli.UsageError("watcher pause needs a duration (e.g. 30m, 2h, 1d)")
        until = client.call("SetWatcherPause", time.time() + options.duration)
        cli.to_stdout("The watcher is paused until %s." % time.ctime(until))
    elif options.action == "continue":
        client.call("SetWatcherPause", None)
        cli.to_stdout("The watcher is no longer paused.")
    else:
        until = client.query_config_values(["watcher_pause"])[0]
        if until is None or until < time.time():
            cli.to_stdout("The watcher is not paused.")
        else:
            cli.to_stdout("The watcher is paused until %s." % time.ctime(until))
    return cli.EXIT_SUCCESS


# -- tags -----------------------------------------------------------------------------------


def list_tags(options: argparse.Namespace) -> int:
    tags = cli_jobs.get_client().query_tags(constants.TAG_CLUSTER, "")
    for tag in sorted(tags):
        cli.to_stdout(tag)
    return cli.EXIT_SUCCESS


def add_tags(options: argparse.Namespace) -> int:
    cli_jobs.submit_or_send([{"OP_ID": "OP_TAGS_SET", "kind": constants.TAG_CLUSTER,
                              "name": None, "tags": tag_commands.tags_from(options)}], options)
    return cli.EXIT_SUCCESS


def remove_tags(options: argparse.Namespace) -> int:
    cli_jobs.submit_or_send([{"OP_ID": "OP_TAGS_DEL", "kind": constants.TAG_CLUSTER,
                              "name": None, "tags": tag_commands.tags_from(options)}], options)
    return cli.EXIT_SUCCESS


def search_tags(options: argparse.Namespace) -> int:
    found = cli_jobs.submit_or_send([{"OP_ID": "OP_TAGS_SEARCH",
                                      "pattern": options.pattern}], options)[0]
    for path, tag in sorted(found):
        cli.to_stdout("%s %s" % (path, tag))
    return cli.EXIT_SUCCESS


_TAG_ARGS = (opt("tags", nargs="*", metavar="TAG"),)
_TAG_OPTIONS = (opt("--from", dest="tags_source", default=None, metavar="FILE",
                    help="read more tags from FILE, one per line ('-': standard input)"),
                *cli.SUBMIT_OPTS)


COMMANDS: dict[str, Command] = {
    "verify": Command(
        verify, "check the configuration and the nodes; exit 1 if any error is found",
        options=(
            cli.VERBOSE_OPT,
            opt("--error-codes", action="store_true",
                help="machine-parsable errors: ftype:ecode:edomain:name:msg"),
            opt("--debug-simulate-errors", dest="simulate_errors", action="store_true",
                help="report every check as failed (to test error handling)"),
            opt("-I", "--ignore-errors", dest="ignore_errors", action="append", default=[],
                choices=sorted(constants.CV_ALL_ECODES_STRINGS), metavar="ECODE",
                help="report this error code as a warning (repeatable)"),
            opt("--node-group", dest="nodegroup", default=None, metavar="GROUP",
                help="verify only this node group (and not the configuration)"),
            opt("--no-nplus1-mem", dest="nplus1_mem", action="store_false",
                help="skip the N+1 memory redundancy check"),
            opt("--verify-ssh-clutter", dest="verify_clutter", action="store_true",
                help="also look for stray keys in authorized_keys files"),
            *cli.SUBMIT_OPTS)),
    "redist-conf": Command(
        redist_conf, "push the configuration and the replicated files to every node",
        options=cli.SUBMIT_OPTS),
    "modify": Command(modify, "change cluster parameters", options=_MODIFY_OPTIONS),
    "queue": Command(
        queue, "drain (refuse new jobs), undrain, or show the job queue's drain flag",
        args=(opt("action", choices=["drain", "undrain", "info"]),)),
    "watcher": Command(
        watcher, "pause the watcher for a while, let it continue, or show its state",
        args=(opt("action", choices=["pause", "continue", "info"]),
              opt("duration", nargs="?", type=_duration, default=None,
                  metavar="DURATION", help="for pause: 30 (seconds), 30m, 2h, 1d, 1w"))),
    "list-tags": Command(list_tags, "list the cluster's tags"),
    "add-tags": Command(add_tags, "add tags to the cluster", args=_TAG_ARGS,
                        options=_TAG_OPTIONS),
    "remove-tags": Command(remove_tags, "remove tags from the cluster", args=_TAG_ARGS,
                           options=_TAG_OPTIONS),
    "search-tags": Command(
        search_tags, "list the objects (cluster, nodes, instances, …) whose tags match",
        args=(opt("pattern", metavar="REGEX"),), options=cli.SUBMIT_OPTS),
    **cluster_remote.COMMANDS,
}
