"""gnt-instance sub-commands that change an existing instance: reinstall, rename,
modify, failover, migrate, console."""

from __future__ import annotations

import argparse
import os
import shlex
from typing import Any

from ganeti import cli, cli_jobs, constants, errors, paramdefs
from ganeti.cli import Command, opt

_INSTANCE = opt("instance", metavar="INSTANCE")


def _key_values(option: str) -> Any:
    def parse(text: str) -> dict[str, Any]:
        try:
            return cli.split_key_values(text, option)
        except errors.GenericError as err:
            raise argparse.ArgumentTypeError(str(err)) from err
    return parse


def _typed(family: paramdefs.ParamFamily, option: str) -> Any:
    from ganeti.client.gnt_node import coerce_changes

    def parse(text: str) -> dict[str, Any]:
        try:
            return coerce_changes(family, cli.split_key_values(text, option), option)
        except errors.GenericError as err:
            raise argparse.ArgumentTypeError(str(err)) from err
    return parse


def _hv_params(text: str) -> tuple[str | None, dict[str, Any]]:
    """``-H k=v`` (the instance's hypervisor) or ``-H hv:k=v``."""
    try:
        if ":" in text.split("=", 1)[0]:
            hv_name, values = cli.parse_ident_key_values(text, "-H")
            return hv_name, values
        return None, cli.split_key_values(text, "-H")
    except errors.GenericError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def _device_mod(kind: str) -> Any:
    """``--net add:mac=…``, ``--net 1:remove``, ``--net 0:link=br1`` (Ganeti's syntax)."""
    def parse(text: str) -> list[Any]:
        ident, sep, rest = text.partition(":")
        try:
            params = cli.split_key_values(rest, "--%s" % kind) if sep else {}
        except errors.GenericError as err:
            raise argparse.ArgumentTypeError(str(err)) from err
        action = constants.DDM_MODIFY
        if ident in (constants.DDM_ADD, constants.DDM_REMOVE):
            return [ident, -1, _coerce_device(kind, params)]
        for name in (constants.DDM_ADD, constants.DDM_REMOVE):
            if name in params and params[name] is True:
                del params[name]
                action = name
        if not ident:
            raise argparse.ArgumentTypeError("--%s needs an index, a name, 'add' or 'remove',"
                                             " got %r" % (kind, text))
        index: Any = int(ident) if ident.lstrip("-").isdigit() else ident
        return [action, index, _coerce_device(kind, params)]
    return parse


def _coerce_device(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    if kind == "disk" and "size" in params:
        from ganeti.utils import units

        try:
            params["size"] = units.parse_unit(str(params["size"]))
        except (errors.GenericError, ValueError) as err:
            raise argparse.ArgumentTypeError("--disk size: %s" % err) from err
    for key, value in params.items():
        if value is True or value is False:
            raise argparse.ArgumentTypeError("--%s: %s needs a value (%s=…)" % (kind, key, key))
    return params


def _submit(op: dict[str, Any], options: argparse.Namespace) -> Any:
    results = cli_jobs.submit_or_send([op], options)
    return results[0] if results else None


def reinstall(options: argparse.Namespace) -> int:
    op: dict[str, Any] = {"OP_ID": "OP_INSTANCE_REINSTALL", "instance_name": options.instance,
                          "force_variant": options.force_variant,
                          "keep_known_osparams": options.keep_known_osparams}
    if options.os_type:
        op["os_type"] = options.os_type
    for attr in ("osparams", "osparams_private", "osparams_secret"):
        if getattr(options, attr) is not None:
            op[attr] = getattr(options, attr)
    _submit(op, options)
    return cli.EXIT_SUCCESS


def rename(options: argparse.Namespace) -> int:
    new_name = _submit({"OP_ID": "OP_INSTANCE_RENAME", "instance_name": options.instance,
                        "new_name": options.new_name, "name_check": options.name_check,
                        "ip_check": options.ip_check}, options)
    cli.to_stdout("Instance '%s' renamed to '%s'" % (options.instance, new_name))
    return cli.EXIT_SUCCESS


def modify(options: argparse.Namespace) -> int:
    op: dict[str, Any] = {"OP_ID": "OP_INSTANCE_SET_PARAMS", "instance_name": options.instance,
                          "force": options.force, "force_variant": options.force_variant}
    hvparams: dict[str, Any] = {}
    for hv_name, values in options.hvparams:
        if hv_name is not None:
            from ganeti.client.gnt_node import coerce_changes

            values = coerce_changes(paramdefs.hv_family(hv_name), values, "-H")
        hvparams.update(values)
    if hvparams:
        op["hvparams"] = hvparams
    for attr in ("beparams", "osparams", "osparams_private", "os_name"):
        if getattr(options, attr):
            op[attr] = getattr(options, attr)
    if options.nics:
        op["nics"] = options.nics
    if options.disks:
        op["disks"] = options.disks
    if options.offline is not None:
        op["offline"] = options.offline
    if len(op) == 4:
        raise cli.UsageError("Please give at least one of the parameters to change")
    if not options.conflicts_check:
        op["conflicts_check"] = False
    changes = _submit(op, options) or []
    cli.to_stdout("Modified instance %s" % options.instance)
    for name, value in changes:
        cli.to_stdout(" - %-5s -> %s" % (name, value))
    cli.to_stdout("Please don't forget that most parameters take effect only at the next"
                  " (re)start of the instance.")
    return cli.EXIT_SUCCESS


def _move_op(op_id: str, options: argparse.Namespace) -> dict[str, Any]:
    op: dict[str, Any] = {"OP_ID": op_id, "instance_name": options.instance,
                          "ignore_ipolicy": options.ignore_ipolicy,
                          "cleanup": options.cleanup}
    if options.target_node:
        op["target_node"] = options.target_node
    if options.iallocator:
        op["iallocator"] = options.iallocator
    return op


def failover(options: argparse.Namespace) -> int:
    _confirm_move(options, "Instance %s will be stopped and started on another node."
                  " Continue?")
    op = _move_op("OP_INSTANCE_FAILOVER", options)
    op["ignore_consistency"] = options.ignore_consistency
    op["shutdown_timeout"] = options.shutdown_timeout
    _submit(op, options)
    return cli.EXIT_SUCCESS


def migrate(options: argparse.Namespace) -> int:
    _confirm_move(options, "Instance %s will be migrated while it runs; a hypervisor"
                  " failure during the migration can affect it. Continue?")
    op = _move_op("OP_INSTANCE_MIGRATE", options)
    op["allow_failover"] = options.allow_failover
    if options.non_live:
        op["mode"] = constants.HT_MIGRATION_NONLIVE
    elif options.migration_mode:
        op["mode"] = options.migration_mode
    _submit(op, options)
    return cli.EXIT_SUCCESS


def move(options: argparse.Namespace) -> int:
    _confirm_move(options, "Instance %s will be stopped while its disks are copied to the"
                  " target node. Continue?")
    _submit({"OP_ID": "OP_INSTANCE_MOVE", "instance_name": options.instance,
             "target_node": options.target_node, "shutdown_timeout": options.shutdown_timeout,
             "ignore_consistency": options.ignore_consistency,
             "ignore_ipolicy": options.ignore_ipolicy}, options)
    return cli.EXIT_SUCCESS


def console(options: argparse.Namespace) -> int:
    """Hand off to the instance's console (or print how, with --show-cmd)."""
    info = _submit({"OP_ID": "OP_INSTANCE_CONSOLE", "instance_name": options.instance},
                   options)
    kind = info.get("kind")
    if kind == "msg":
        cli.to_stdout(str(info.get("message")))
        return cli.EXIT_SUCCESS
    if kind == "ssh":
        argv = ["ssh", "-t", "-q", "-oEscapeChar=none", "-oBatchMode=yes"]
        if info.get("port"):
            argv += ["-p", str(info["port"])]
        argv += ["%s@%s" % (info.get("user") or "root", info.get("host")), info["command"]
                 if isinstance(info.get("command"), str)
                 else shlex.join(info.get("command") or [])]
        if options.show_cmd:
            cli.to_stdout(shlex.join(argv))
            return cli.EXIT_SUCCESS
        os.execvp(argv[0], argv)
    if kind in ("vnc", "spice"):
        cli.to_stdout("Instance %s has a %s console at %s:%s"
                      % (options.instance, kind.upper(), info.get("host"), info.get("port")))
        return cli.EXIT_SUCCESS
    raise errors.OpExecError("Unknown console kind %r for instance %s"
                             % (kind, options.instance))


_OSPARAM_OPTS = (
    opt("-O", "--os-parameters", dest="osparams", type=_key_values("-O"), default=None,
        metavar="PARAMS", help="OS parameters (name=value,…)"),
    opt("--os-parameters-private", dest="osparams_private",
        type=_key_values("--os-parameters-private"), default=None, metavar="PARAMS",
        help="private OS parameters (kept out of logs and listings)"),
)
_FORCE_VARIANT = opt("--force-variant", action="store_true",
                     help="accept an OS variant the OS does not list")
_MOVE_OPTS = (
    opt("-n", "--target-node", dest="target_node", default=None, metavar="NODE",
        help="node to move the instance to (shared storage)"),
    opt("-I", "--iallocator", dest="iallocator", default=None, metavar="NAME",
        help="allocator choosing the target node ('.': the cluster default)"),
    opt("--ignore-ipolicy", action="store_true", help="ignore the instance policy"),
    opt("--cleanup", action="store_true", help="clean up after a failed migration"),
    cli.FORCE_OPT,
    *cli.SUBMIT_OPTS,
)


def _confirm_move(options: argparse.Namespace, question: str) -> None:
    """Moving an instance is disruptive: ask unless --force (as Ganeti's)."""
    if not options.force and not cli.confirm(question % options.instance):
        raise cli.UsageError("not confirmed; use --force (-f) to go ahead without asking")

COMMANDS: dict[str, Command] = {
    "reinstall": Command(
        reinstall, "reinstall a stopped instance's OS (optionally another OS)",
        args=(_INSTANCE,),
        options=(opt("-o", "--os-type", dest="os_type", default=None, metavar="OS",
                     help="install this OS (name+variant) instead"),
                 *_OSPARAM_OPTS,
                 opt("--os-parameters-secret", dest="osparams_secret",
                     type=_key_values("--os-parameters-secret"), default=None,
                     metavar="PARAMS", help="secret OS parameters (never stored)"),
                 opt("--keep-known-os-parameters", dest="keep_known_osparams",
                     action="store_true",
                     help="with another OS, keep the old parameters the new OS knows"),
                 _FORCE_VARIANT, cli.FORCE_OPT, *cli.SUBMIT_OPTS)),
    "rename": Command(
        rename, "rename a stopped instance (runs the OS rename script)",
        args=(_INSTANCE, opt("new_name", metavar="NEW_NAME")),
        options=(opt("--no-name-check", dest="name_check", action="store_false",
                     help="do not check that the new name resolves"),
                 opt("--no-ip-check", dest="ip_check", action="store_false",
                     help="do not check that the new IP is unused"),
                 *cli.SUBMIT_OPTS)),
    "modify": Command(
        modify, "change an instance's parameters, NICs, disks or offline state",
        args=(_INSTANCE,),
        options=(
            opt("-H", "--hypervisor-parameters", dest="hvparams", type=_hv_params,
                action="append", default=[], metavar="[HV:]PARAMS",
                help="hypervisor parameters ('-name' or name=default removes one)"),
            opt("-B", "--backend-parameters", dest="beparams",
                type=_typed(paramdefs.BEPARAMS, "-B"), default=None, metavar="PARAMS",
                help="backend parameters (memory, maxmem, minmem, vcpus, …)"),
            opt("--net", dest="nics", type=_device_mod("net"), action="append", default=[],
                metavar="add|N:remove|N:PARAMS", help="add, remove or change a NIC"),
            opt("--no-conflicts-check", dest="conflicts_check", action="store_false",
                help="do not check for IP conflicts"),
            opt("--disk", dest="disks", type=_device_mod("disk"), action="append",
                default=[], metavar="add:size=S|N:remove", help="add or remove a disk"),
            opt("-o", "--os-type", dest="os_name", default=None, metavar="OS",
                help="change the OS (no reinstall)"),
            *_OSPARAM_OPTS,
            opt("--offline", dest="offline", action="store_const", const=True, default=None,
                help="mark the (stopped) instance offline"),
            opt("--online", dest="offline", action="store_const", const=False,
                help="mark an offline instance online (stopped) again"),
            _FORCE_VARIANT, cli.FORCE_OPT, *cli.SUBMIT_OPTS)),
    "failover": Command(
        failover, "stop the instance and start it on another node (shared storage)",
        args=(_INSTANCE,),
        options=(opt("--ignore-consistency", action="store_true",
                     help="go on even if the source node cannot stop the instance"),
                 opt("--shutdown-timeout", type=int,
                     default=constants.DEFAULT_SHUTDOWN_TIMEOUT, metavar="SECONDS",
                     help="seconds to wait for the shutdown"),
                 *_MOVE_OPTS)),
    "migrate": Command(
        migrate, "move a running instance to another node without stopping it",
        args=(_INSTANCE,),
        options=(opt("--non-live", action="store_true", help="non-live migration"),
                 opt("--migration-mode", choices=sorted(constants.HT_MIGRATION_MODES),
                     default=None, help="live or non-live"),
                 opt("--allow-failover", action="store_true",
                     help="fail over when the instance cannot be migrated"),
                 *_MOVE_OPTS)),
    "move": Command(
        move, "move an instance to another node by copying its disks (file, plain)",
        args=(_INSTANCE,),
        options=(opt("-n", "--target-node", dest="target_node", required=True,
                     metavar="NODE", help="node to move the instance to"),
                 opt("--shutdown-timeout", type=int,
                     default=constants.DEFAULT_SHUTDOWN_TIMEOUT, metavar="SECONDS",
                     help="seconds to wait for the shutdown"),
                 opt("--ignore-consistency", action="store_true",
                     help="go on even if the instance cannot be stopped"),
                 opt("--ignore-ipolicy", action="store_true",
                     help="ignore the instance policy"),
                 cli.FORCE_OPT,
                 *cli.SUBMIT_OPTS)),
    "console": Command(
        console, "connect to the instance's console", args=(_INSTANCE,),
        options=(opt("--show-cmd", action="store_true",
                     help="print the command instead of running it"),)),
}
