"""gnt-instance core sub-commands: add, remove, startup, shutdown, reboot, info, list,
list-fields, activate-disks, deactivate-disks, grow-disk, recreate-disks and the tags."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

from ganeti import cli, cli_jobs, cli_query, constants, errors, paramdefs
from ganeti.cli import Command, opt
from ganeti.client.tag_commands import object_tag_commands
from ganeti.utils import units

#: What ``gnt-instance list`` shows without ``-o`` (Ganeti's). Kept here rather than
#: taken from ganeti.query_instance, whose field table the command never needs.
LIST_DEFAULT_FIELDS = ("name", "hypervisor", "os", "pnode", "status", "oper_ram")

_NAMES = opt("instances", nargs="*", metavar="INSTANCE")
_INSTANCE = opt("instance", metavar="INSTANCE")


# -- option parsing ---------------------------------------------------------------------

def _argtype(parse: Any) -> Any:
    """An argparse type from a parser raising errors.GenericError."""
    def run(text: str) -> Any:
        try:
            return parse(text)
        except errors.GenericError as err:
            raise argparse.ArgumentTypeError(str(err)) from err
    return run


def parse_device(text: str, option: str) -> tuple[int, dict[str, Any]]:
    """``N:key=value,…`` (``--disk``/``--net``) to (index, values)."""
    ident, sep, rest = text.partition(":")
    if not ident.isdigit():
        raise errors.ParameterError("%s %r: expected INDEX:key=value,… with a numeric index"
                                    " (e.g. %s 0:%s)" % (option, text, option,
                                                          "size=1g" if option == "--disk"
                                                          else "mode=bridged"))
    return int(ident), cli.split_key_values(rest, option) if sep else {}


def _typed_params(family: paramdefs.ParamFamily, option: str) -> Any:
    def parse(text: str) -> dict[str, Any]:
        from ganeti.client.gnt_node import coerce_changes

        return coerce_changes(family, cli.split_key_values(text, option), option)
    return _argtype(parse)


def parse_hv_option(text: str) -> tuple[str, dict[str, Any]]:
    """``-H hv[:k=v,…]`` to (hypervisor, typed values)."""
    from ganeti.client.gnt_node import coerce_changes

    hv_name, values = cli.parse_ident_key_values(text, "-H")
    if not isinstance(values, dict):
        raise errors.ParameterError("-H %r: expected HYPERVISOR[:key=value,…]" % text)
    return hv_name, coerce_changes(paramdefs.hv_family(hv_name), values, "-H")


def collect_devices(items: Sequence[tuple[int, dict[str, Any]]], option: str
                    ) -> list[dict[str, Any]]:
    """Devices by index, which must run 0, 1, … without gaps or repeats."""
    by_index: dict[int, dict[str, Any]] = {}
    for index, values in items:
        if index in by_index:
            raise cli.UsageError("%s index %d given twice" % (option, index))
        by_index[index] = values
    if sorted(by_index) != list(range(len(by_index))):
        raise cli.UsageError("%s indexes must be 0, 1, … without gaps; got %s"
                             % (option, ", ".join(str(i) for i in sorted(by_index))))
    return [by_index[i] for i in range(len(by_index))]


def _disk_specs(options: argparse.Namespace) -> list[dict[str, Any]]:
    if options.disks and options.os_size:
        raise cli.UsageError("Give either --disk or -s/--os-size, not both")
    if options.disk_template == constants.DT_DISKLESS:
        if options.disks or options.os_size:
            raise cli.UsageError("Disk template diskless takes no --disk/-s")
        return []
    if options.os_size:
        return [{constants.IDISK_SIZE: options.os_size}]
    disks = collect_devices(options.disks, "--disk")
    for index, disk in enumerate(disks):
        unknown = sorted(set(disk) - constants.IDISK_PARAMS)
        if unknown:
            raise cli.UsageError("--disk %d: unknown key(s) %s (known: %s)"
                                 % (index, ", ".join(unknown),
                                    ", ".join(sorted(constants.IDISK_PARAMS))))
        if constants.IDISK_SIZE not in disk:
            raise cli.UsageError("--disk %d: missing size (e.g. --disk %d:size=1g)"
                                 % (index, index))
        try:
            disk[constants.IDISK_SIZE] = units.parse_unit(str(disk[constants.IDISK_SIZE]))
        except errors.GenericError as err:
            raise cli.UsageError("--disk %d: invalid size: %s" % (index, err)) from err
    if not disks:
        raise cli.UsageError("Disk template %s needs disks: --disk 0:size=SIZE or -s SIZE"
                             % options.disk_template)
    return disks


def _nic_specs(options: argparse.Namespace) -> list[dict[str, Any]]:
    if options.no_nics:
        if options.nics:
            raise cli.UsageError("Give either --net or --no-nics, not both")
        return []
    nics = collect_devices(options.nics, "--net")
    for index, nic in enumerate(nics):
        unknown = sorted(set(nic) - constants.INIC_PARAMS)
        if unknown:
            raise cli.UsageError("--net %d: unknown key(s) %s (known: %s)"
                                 % (index, ", ".join(unknown),
                                    ", ".join(sorted(constants.INIC_PARAMS))))
        for key, value in nic.items():
            if not isinstance(value, str):
                raise cli.UsageError("--net %d: %s needs a value (%s=…)" % (index, key, key))
    return nics or [{}]


# -- add / remove ---------------------------------------------------------------------------

def create_op(options: argparse.Namespace, mode: str, disks: list[dict[str, Any]],
              nics: list[dict[str, Any]]) -> dict[str, Any]:
    """The OpInstanceCreate of ``gnt-instance add`` and ``gnt-backup import`` (options
    both commands have; the caller adds its own)."""
    op: dict[str, Any] = {
        "OP_ID": "OP_INSTANCE_CREATE",
        "instance_name": options.instance,
        "mode": mode,
        "disk_template": options.disk_template,
        "disks": disks,
        "nics": nics,
        "start": options.start and not getattr(options, "no_install", False),
        "name_check": options.name_check,
        "ip_check": options.ip_check and options.name_check,
        "conflicts_check": options.conflicts_check,
        "wait_for_sync": options.wait_for_sync,
        "ignore_ipolicy": options.ignore_ipolicy,
    }
    if options.node:
        pnode, _, snode = options.node.partition(":")
        op["pnode"] = pnode
        if snode:
            op["snode"] = snode
    if options.iallocator:
        op["iallocator"] = options.iallocator
    if options.node and options.iallocator:
        raise cli.UsageError("Give either -n/--node or -I/--iallocator, not both")
    if options.hvparams is not None:
        op["hypervisor"], op["hvparams"] = options.hvparams
    for key in ("beparams", "osparams", "osparams_private", "osparams_secret",
                "file_storage_dir", "file_driver", "group_name"):
        value = getattr(options, key)
        if value is not None:
            op[key] = value
    if options.tags:
        op["tags"] = cli.parse_list(options.tags)
    return op


def add_instance(options: argparse.Namespace) -> int:
    op = create_op(options, constants.INSTANCE_CREATE, _disk_specs(options),
                   _nic_specs(options))
    op.update({"os_type": options.os_type, "no_install": options.no_install,
               "force_variant": options.force_variant})
    cli_jobs.submit_or_send([op], options)
    return cli.EXIT_SUCCESS


def _confirm(question: str, options: argparse.Namespace) -> bool:
    return bool(getattr(options, "force", False)) or cli.confirm(question)


def remove_instance(options: argparse.Namespace) -> int:
    if not _confirm("This will remove the volumes of the instance %s (including mirrors),"
                    " thus removing all the data of the instance. Continue?"
                    % options.instance, options):
        return cli.EXIT_FAILURE
    cli_jobs.submit_or_send([{"OP_ID": "OP_INSTANCE_REMOVE",
                              "instance_name": options.instance,
                              "ignore_failures": options.ignore_failures,
                              "shutdown_timeout": options.shutdown_timeout}], options)
    return cli.EXIT_SUCCESS


# -- start / stop / reboot -------------------------------------------------------------------

def _selected_instances(options: argparse.Namespace) -> list[str]:
    names = list(options.instances)
    if options.all:
        if names:
            raise cli.UsageError("Give instance names or --all, not both")
        result = cli_jobs.get_client().query(constants.QR_INSTANCE, ["name"], None)
        names = [row[0][1] for row in result["data"]]
        if not names:
            raise cli.UsageError("There are no instances")
    if not names:
        raise cli.UsageError("No instance given (name them, or use --all)")
    return names


def _run_per_instance(options: argparse.Namespace, build: Any, verb: str) -> int:
    """One job per instance, submitted together, then waited for (Ganeti's way)."""
    names = _selected_instances(options)
    if len(names) == 1:
        cli_jobs.submit_or_send([build(names[0])], options)
        return cli.EXIT_SUCCESS
    client = cli_jobs.get_client()
    jobs = []
    for name in names:
        ops = [build(name)]
        cli_jobs.set_generic_op_opts(ops, options)
        jobs.append((name, client.submit_job(ops)))
    if getattr(options, "submit_only", False):
        for name, job_id in jobs:
            cli.to_stdout("JobID: %s (%s)" % (job_id, name))
        return cli.EXIT_SUCCESS
    failed = 0
    for name, job_id in jobs:
        try:
            cli_jobs.poll_job(client, job_id)
        except errors.GenericError as err:
            failed += 1
            cli.to_stderr("Failed to %s instance %s: %s" % (verb, name, cli.format_error(err)[1]))
    return cli.EXIT_FAILURE if failed else cli.EXIT_SUCCESS


def startup(options: argparse.Namespace) -> int:
    def build(name: str) -> dict[str, Any]:
        op: dict[str, Any] = {"OP_ID": "OP_INSTANCE_STARTUP", "instance_name": name,
                              "force": options.force,
                              "ignore_offline_nodes": options.ignore_offline,
                              "no_remember": options.no_remember,
                              "startup_paused": options.startup_paused}
        if options.hvparams:
            op["hvparams"] = options.hvparams
        if options.beparams:
            op["beparams"] = options.beparams
        return op
    return _run_per_instance(options, build, "start")


def shutdown(options: argparse.Namespace) -> int:
    def build(name: str) -> dict[str, Any]:
        return {"OP_ID": "OP_INSTANCE_SHUTDOWN", "instance_name": name,
                "force": options.force, "ignore_offline_nodes": options.ignore_offline,
                "no_remember": options.no_remember, "timeout": options.timeout}
    return _run_per_instance(options, build, "stop")


def reboot(options: argparse.Namespace) -> int:
    def build(name: str) -> dict[str, Any]:
        return {"OP_ID": "OP_INSTANCE_REBOOT", "instance_name": name,
                "reboot_type": options.reboot_type,
                "ignore_secondaries": options.ignore_secondaries,
                "shutdown_timeout": options.shutdown_timeout}
    return _run_per_instance(options, build, "reboot")


# -- list / info ------------------------------------------------------------------------------

def _expand_names(client: Any, names: Sequence[str]) -> list[str]:
    """Full names of plain instance names (short names allowed); unknown ones raise."""
    result = client.query(constants.QR_INSTANCE, ["name"], None)
    known = [row[0][1] for row in result["data"]]
    expanded = []
    for name in names:
        if name in known:
            expanded.append(name)
            continue
        matches = [full for full in known if full.startswith(name + ".")]
        if len(matches) != 1:
            raise errors.OpPrereqError("Instance '%s' not known" % name, errors.ECODE_NOENT)
        expanded.append(matches[0])
    return expanded


def list_filter(client: Any, args: Sequence[str], force_filter: bool) -> list[Any] | None:
    """The filter of ``gnt-instance list`` arguments: a filter, globs or names."""
    from ganeti import qlang

    if force_filter or (len(args) == 1 and qlang.looks_like_filter(args[0])):
        return qlang.make_filter(args, True)
    plain = [name for name in args if not qlang.has_glob(name)]
    globs = [name for name in args if qlang.has_glob(name)]
    full = _expand_names(client, plain) if plain else []
    return qlang.names_filter("name", [*full, *globs])


def list_instances(options: argparse.Namespace) -> int:
    fields = cli.parse_fields(options.output, LIST_DEFAULT_FIELDS)
    client = cli_jobs.get_client()
    qfilter = list_filter(client, options.instances, options.force_filter)
    return cli_query.generic_list(client, constants.QR_INSTANCE, fields, qfilter, options)


def list_fields(options: argparse.Namespace) -> int:
    return cli_query.list_fields(cli_jobs.get_client(), constants.QR_INSTANCE, options.fields,
                                 options)


def _format_params(params: dict[str, Any], custom: dict[str, Any], indent: str) -> list[str]:
    lines = []
    for key in sorted(params):
        value = params[key]
        shown = "default (%s)" % (value,) if key not in custom else str(value)
        lines.append("%s%s: %s" % (indent, key, shown))
    return lines


def format_instance_info(data: dict[str, Any]) -> list[str]:
    """``gnt-instance info`` text of one instance (Ganeti's layout)."""
    def stamp(value: Any) -> str:
        return time.strftime("%a %b %d %H:%M:%S %Y", time.localtime(value)) if value else "-"

    run_state = data["run_state"]
    state = "configured to be %s" % data["config_state"]
    state += ", actual state is %s" % (run_state if run_state else "unknown")
    lines = ["Instance name: %s" % data["name"], "UUID: %s" % data["uuid"],
             "Serial number: %s" % data["serial_no"],
             "Creation time: %s" % stamp(data["ctime"]),
             "Modification time: %s" % stamp(data["mtime"]),
             "State: %s" % state,
             "  Nodes:", "    - primary: %s" % data["pnode"],
             "    - secondaries: %s" % ", ".join(data["snodes"]),
             "  Operating system: %s" % data["os"],
             "  Allocated network port: %s" % data["network_port"],
             "  Hypervisor: %s" % data["hypervisor"]]
    lines += _format_params(data["hv_actual"], data["hv_instance"], "    - ")
    lines.append("  Hardware:")
    lines += _format_params(data["be_actual"], data["be_instance"], "    - ")
    lines.append("    - NICs:")
    for index, nic in enumerate(data["nics"]):
        lines.append("      - nic/%d: MAC: %s, IP: %s, mode: %s, link: %s, vlan: %s"
                     % (index, nic["mac"], nic["ip"], nic["mode"], nic["link"],
                        nic["vlan"] or ""))
    if data["os_actual"]:
        lines.append("  OS parameters:")
        lines += _format_params(data["os_actual"], data["os_instance"], "    - ")
    lines.append("  Disk template: %s" % data["disk_template"])
    lines.append("  Disks:")
    for disk in data["disks"]:
        lines.append("    - %s: %s, size %s" % (disk["iv_name"], disk["dev_type"],
                                                 units.format_unit(disk["size"], "h")))
        lines.append("      access mode: %s" % disk["mode"])
        lines.append("      logical_id: %s" % ", ".join(str(x) for x in disk["logical_id"]))
        lines.append("      on nodes: %s" % ", ".join(disk["nodes"]))
    lines.append("  Tags: %s" % (", ".join(data["tags"]) or "(none)"))
    return lines


def info(options: argparse.Namespace) -> int:
    names = list(options.instances)
    if options.all and names:
        raise cli.UsageError("Give instance names or --all, not both")
    if not options.all and not names:
        raise cli.UsageError("No instance given (name them, or use --all)")
    op = {"OP_ID": "OP_INSTANCE_QUERY_DATA", "instances": names, "static": options.static,
          "use_locking": False}
    result = cli_jobs.submit_or_send([op], options)[0]
    for index, name in enumerate(sorted(result)):
        if index:
            cli.to_stdout("")
        for line in format_instance_info(result[name]):
            cli.to_stdout(line)
    return cli.EXIT_SUCCESS


# -- disks -----------------------------------------------------------------------------------

def activate_disks(options: argparse.Namespace) -> int:
    results = cli_jobs.submit_or_send([{"OP_ID": "OP_INSTANCE_ACTIVATE_DISKS",
                                        "instance_name": options.instance,
                                        "ignore_size": options.ignore_size,
                                        "wait_for_sync": options.wait_for_sync}], options)
    for node, iv_name, path in results[0] or []:
        cli.to_stdout("%s:%s:%s" % (node, iv_name, path))
    return cli.EXIT_SUCCESS


def deactivate_disks(options: argparse.Namespace) -> int:
    cli_jobs.submit_or_send([{"OP_ID": "OP_INSTANCE_DEACTIVATE_DISKS",
                              "instance_name": options.instance, "force": options.force}],
                            options)
    return cli.EXIT_SUCCESS


def grow_disk(options: argparse.Namespace) -> int:
    try:
        disk = int(options.disk)
    except ValueError:
        raise cli.UsageError("Invalid disk index %r (expected a number)" % options.disk) \
            from None
    try:
        amount = units.parse_unit(options.amount)
    except errors.GenericError as err:
        raise cli.UsageError("Invalid amount %r: %s" % (options.amount, err)) from err
    cli_jobs.submit_or_send([{"OP_ID": "OP_INSTANCE_GROW_DISK",
                              "instance_name": options.instance, "disk": disk,
                              "amount": amount, "absolute": options.absolute,
                              "wait_for_sync": options.wait_for_sync}], options)
    return cli.EXIT_SUCCESS


def recreate_disks(options: argparse.Namespace) -> int:
    disks: list[Any] = []
    for index, values in options.disks:
        if values:
            if constants.IDISK_SIZE in values:
                values[constants.IDISK_SIZE] = units.parse_unit(str(values[
                    constants.IDISK_SIZE]))
            disks.append([index, values])
        else:
            disks.append(index)
    op: dict[str, Any] = {"OP_ID": "OP_INSTANCE_RECREATE_DISKS",
                          "instance_name": options.instance, "disks": disks}
    if options.node:
        op["nodes"] = options.node.split(":")
    if options.iallocator:
        op["iallocator"] = options.iallocator
    cli_jobs.submit_or_send([op], options)
    return cli.EXIT_SUCCESS


# -- the commands -------------------------------------------------------------------------

_ALL = opt("--all", action="store_true", help="act on all instances")
_FORCE_MULTIPLE = opt("--force-multiple", action="store_true",
                      help="do not ask for confirmation when acting on several instances")
_IGNORE_OFFLINE = opt("--ignore-offline", action="store_true",
                      help="only change the configuration when the primary node is offline")
_NO_REMEMBER = opt("--no-remember", action="store_true",
                   help="do not record the new state in the configuration")
_SHUTDOWN_TIMEOUT = opt("--shutdown-timeout", dest="shutdown_timeout", type=int,
                        default=constants.DEFAULT_SHUTDOWN_TIMEOUT, metavar="SECONDS",
                        help="seconds the instance gets to shut down (default %(default)s)")
_KEY_VALUES = _argtype(lambda text: cli.split_key_values(text, "-O"))

_ADD_OPTIONS = (
    opt("-t", "--disk-template", dest="disk_template", required=True,
        choices=sorted(constants.DISK_TEMPLATES), help="disk template of the instance"),
    opt("--disk", dest="disks", action="append", default=[], metavar="N:size=SIZE[,…]",
        type=_argtype(lambda text: parse_device(text, "--disk")),
        help="a disk: index, then size, mode, name, vg"),
    opt("-s", "--os-size", dest="os_size", default=None, metavar="SIZE",
        type=_argtype(units.parse_unit), help="size of a single disk"),
    opt("--net", dest="nics", action="append", default=[], metavar="N:key=value[,…]",
        type=_argtype(lambda text: parse_device(text, "--net")),
        help="a NIC: index, then mac, ip, mode, link, name, vlan"),
    opt("--no-nics", action="store_true", help="create the instance without NICs"),
    opt("-o", "--os-type", dest="os_type", required=True, metavar="OS[+VARIANT]",
        help="OS definition to install"),
    opt("-O", "--os-parameters", dest="osparams", type=_KEY_VALUES, default=None,
        metavar="PARAMS", help="OS parameters"),
    opt("--os-parameters-private", dest="osparams_private", type=_KEY_VALUES, default=None,
        metavar="PARAMS", help="private OS parameters (kept out of logs)"),
    opt("--os-parameters-secret", dest="osparams_secret", type=_KEY_VALUES, default=None,
        metavar="PARAMS", help="secret OS parameters (used for the install, never stored)"),
    opt("--force-variant", action="store_true", help="accept an unknown OS variant"),
    opt("-B", "--backend-parameters", dest="beparams", default=None, metavar="PARAMS",
        type=_typed_params(paramdefs.BEPARAMS, "-B"),
        help="backend parameters (memory, maxmem, minmem, vcpus, …)"),
    opt("-H", "--hypervisor-parameters", dest="hvparams", default=None,
        metavar="HV[:PARAMS]", type=_argtype(parse_hv_option),
        help="hypervisor and its parameters"),
    opt("-n", "--node", dest="node", default=None, metavar="PNODE[:SNODE]",
        help="primary node"),
    opt("-I", "--iallocator", dest="iallocator", default=None, metavar="ALLOCATOR",
        help="allocator choosing the node ('.' for the cluster default)"),
    opt("-g", "--node-group", dest="group_name", default=None, metavar="GROUP",
        help="node group for the allocator"),
    opt("--no-start", dest="start", action="store_false", help="do not start the instance"),
    opt("--no-install", action="store_true",
        help="do not install the OS (implies --no-start)"),
    opt("--name-check", dest="name_check", action="store_true", default=True,
        help="check that the name resolves (default)"),
    opt("--no-name-check", dest="name_check", action="store_false",
        help="do not check that the name resolves (implies --no-ip-check)"),
    opt("--ip-check", dest="ip_check", action="store_true", default=True,
        help="check that the instance's IP is unused (default)"),
    opt("--no-ip-check", dest="ip_check", action="store_false",
        help="do not check that the instance's IP is unused"),
    opt("--no-conflicts-check", dest="conflicts_check", action="store_false",
        help="do not check for IP conflicts"),
    opt("--file-storage-dir", dest="file_storage_dir", default=None, metavar="DIR",
        help="sub-directory of the cluster storage directory for the images"),
    opt("--file-driver", dest="file_driver", default=None,
        choices=sorted(constants.FILE_DRIVERS), help="file driver"),
    opt("--ignore-ipolicy", action="store_true", help="ignore the instance policy"),
    opt("--no-wait-for-sync", dest="wait_for_sync", action="store_false",
        help="do not wait for disks to sync"),
    opt("--tags", default=None, metavar="TAGS", help="comma-separated tags"),
    *cli.SUBMIT_OPTS,
)

COMMANDS: dict[str, Command] = {
    "add": Command(add_instance, "create an instance", args=(_INSTANCE,),
                   options=_ADD_OPTIONS),
    "remove": Command(remove_instance, "remove an instance and its disks", args=(_INSTANCE,),
                      options=(opt("--ignore-failures", action="store_true",
                                   help="remove it from the configuration despite errors"),
                               _SHUTDOWN_TIMEOUT, cli.FORCE_OPT, *cli.SUBMIT_OPTS)),
    "startup": Command(
        startup, "start instances", args=(_NAMES,), aliases=("start",),
        options=(cli.FORCE_OPT, _IGNORE_OFFLINE, _FORCE_MULTIPLE, _NO_REMEMBER, _ALL,
                 opt("-H", "--hypervisor-parameters", dest="hvparams", default=None,
                     type=_argtype(lambda text: cli.split_key_values(text, "-H")),
                     metavar="PARAMS", help="hypervisor parameters for this start only"),
                 opt("-B", "--backend-parameters", dest="beparams", default=None,
                     type=_typed_params(paramdefs.BEPARAMS, "-B"), metavar="PARAMS",
                     help="backend parameters for this start only"),
                 opt("--paused", dest="startup_paused", action="store_true",
                     help="start with the virtual CPUs paused"),
                 *cli.SUBMIT_OPTS)),
    "shutdown": Command(
        shutdown, "stop instances", args=(_NAMES,), aliases=("stop",),
        options=(cli.FORCE_OPT, _IGNORE_OFFLINE, _FORCE_MULTIPLE, _NO_REMEMBER, _ALL,
                 opt("--timeout", type=int, default=constants.DEFAULT_SHUTDOWN_TIMEOUT,
                     metavar="SECONDS",
                     help="seconds before the instance is stopped by force"),
                 *cli.SUBMIT_OPTS)),
    "reboot": Command(
        reboot, "reboot instances", args=(_NAMES,),
        options=(opt("-t", "--type", dest="reboot_type", default=constants.INSTANCE_REBOOT_HARD,
                     choices=sorted(constants.REBOOT_TYPES), help="soft, hard (default) or full"),
                 opt("--ignore-secondaries", action="store_true",
                     help="reboot even if secondary disks cannot be activated"),
                 _SHUTDOWN_TIMEOUT, _FORCE_MULTIPLE, _ALL, cli.FORCE_OPT, *cli.SUBMIT_OPTS)),
    "info": Command(info, "show detailed information on instances", args=(_NAMES,),
                    aliases=("show",),
                    options=(_ALL, opt("-s", "--static", action="store_true",
                                       help="only the configuration; do not ask the nodes"),
                             opt("--roman", action="store_true",
                                 help="(accepted for compatibility)"))),
    "list": Command(
        list_instances, "list instances", args=(_NAMES,),
        options=(*cli.LIST_OPTS,
                 opt("-F", "--filter", dest="force_filter", action="store_true",
                     help="treat the argument as a filter in the query language"),
                 opt("--roman", action="store_true", help="(accepted for compatibility)"))),
    "list-fields": Command(list_fields, "list the fields of instances",
                           args=(opt("fields", nargs="*", metavar="FIELD"),),
                           options=(cli.NOHDR_OPT, cli.SEP_OPT)),
    "activate-disks": Command(
        activate_disks, "activate an instance's disks", args=(_INSTANCE,),
        options=(opt("--ignore-size", action="store_true",
                     help="do not check the recorded disk sizes"),
                 opt("--wait-for-sync", action="store_true",
                     help="wait for mirrored disks to sync"),
                 *cli.SUBMIT_OPTS)),
    "deactivate-disks": Command(deactivate_disks, "deactivate an instance's disks",
                                args=(_INSTANCE,), options=(cli.FORCE_OPT, *cli.SUBMIT_OPTS)),
    "grow-disk": Command(
        grow_disk, "grow one of an instance's disks",
        args=(_INSTANCE, opt("disk", metavar="DISK"), opt("amount", metavar="AMOUNT")),
        options=(opt("--absolute", action="store_true",
                     help="AMOUNT is the new size, not the growth"),
                 opt("--no-wait-for-sync", dest="wait_for_sync", action="store_false",
                     help="do not wait for mirrored disks to sync"),
                 *cli.SUBMIT_OPTS)),
    "recreate-disks": Command(
        recreate_disks, "recreate an instance's missing disks", args=(_INSTANCE,),
        options=(opt("--disk", dest="disks", action="append", default=[],
                     metavar="N[:size=SIZE,mode=MODE]",
                     type=_argtype(lambda text: parse_device(text, "--disk")),
                     help="a disk to recreate (default: all)"),
                 opt("-n", "--node", default=None, metavar="NODE",
                     help="recreate the disks on this node"),
                 opt("-I", "--iallocator", default=None, metavar="ALLOCATOR",
                     help="allocator choosing the node"),
                 *cli.SUBMIT_OPTS)),
}
COMMANDS.update(object_tag_commands(constants.TAG_INSTANCE, "instance"))
