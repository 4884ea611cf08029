"""gnt-cluster sub-commands that set up and describe the cluster.

init, destroy, info (alias show), getmaster, version, rename, master-ping.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from typing import Any

from ganeti import cli, constants, errors, paramdefs, serializer
from ganeti.cli import Command, opt
from ganeti.utils import argtypes, units

#: Parameters given in MiB that accept units on the command line (``512M``, ``1G``).
_UNIT_PARAMS = frozenset([paramdefs.BE_MAXMEM, paramdefs.BE_MINMEM, paramdefs.BE_MEMORY])


def coerce_params(family: paramdefs.ParamFamily, values: Mapping[str, Any],
                  option: str) -> dict[str, Any]:
    """Command-line strings converted to each parameter's type (by its default).

    Unknown names are kept as they are, for the family's check to name them.
    """
    result: dict[str, Any] = {}
    for name, value in values.items():
        targets = family.aliases.get(name, (name,))
        definition = family.params.get(targets[0])
        what = "%s parameter %r" % (option, name)
        if definition is None or not isinstance(value, str):
            result[name] = value
            continue
        default = definition.default
        try:
            if name in _UNIT_PARAMS:
                result[name] = units.parse_unit(value)
            elif isinstance(default, bool):
                result[name] = argtypes.parse_bool(value, what)
            elif isinstance(default, int):
                result[name] = int(value)
            elif isinstance(default, float):
                result[name] = float(value)
            else:
                result[name] = value
        except ValueError:
            raise errors.ParameterError("%s: expected %s, got %r"
                                        % (what, definition.check.desc, value)) from None
    return result


def _ident_params(items: list[str] | None, option: str,
                  family_of: Any) -> dict[str, dict[str, Any]]:
    """``-H kvm:k=v`` style options (repeatable) to ``{ident: params}``."""
    result: dict[str, dict[str, Any]] = {}
    for item in items or ():
        ident, params = cli.parse_ident_key_values(item, option)
        if not isinstance(params, dict):
            raise errors.ParameterError("%s: '%s' cannot be removed at cluster init"
                                        % (option, ident))
        if ident in result:
            raise errors.ParameterError("%s given twice for %r" % (option, ident))
        try:
            family = family_of(ident)
        except errors.GenericError as err:
            raise errors.ParameterError("%s: %s" % (option, err)) from err
        result[ident] = coerce_params(family, params, option)
    return result


def _family_params(text: str | None, family: paramdefs.ParamFamily,
                   option: str) -> dict[str, Any]:
    return coerce_params(family, cli.split_key_values(text or "", option), option)


# -- init -----------------------------------------------------------------------------

def init(options: argparse.Namespace) -> int:
    from ganeti import bootstrap

    params = bootstrap.InitParams(
        cluster_name=options.cluster_name,
        enabled_hypervisors=cli.parse_list(options.enabled_hypervisors)
        if options.enabled_hypervisors else None,
        enabled_disk_templates=cli.parse_list(options.enabled_disk_templates)
        if options.enabled_disk_templates else None,
        hvparams=_ident_params(options.hvparams, "-H", paramdefs.hv_family),
        beparams=_family_params(options.beparams, paramdefs.BEPARAMS, "-B"),
        nicparams=_family_params(options.nicparams, paramdefs.NICPARAMS, "-N"),
        ndparams=_family_params(options.ndparams, paramdefs.NDPARAMS, "--node-parameters"),
        diskparams=_ident_params(options.diskparams, "-D", paramdefs.disk_family),
        master_netdev=options.master_netdev,
        master_netmask=options.master_netmask,
        mac_prefix=options.mac_prefix,
        candidate_pool_size=options.candidate_pool_size,
        file_storage_dir=options.file_storage_dir,
        shared_file_storage_dir=options.shared_file_storage_dir,
        gluster_storage_dir=options.gluster_storage_dir or "",
        vg_name=options.vg_name,
        secondary_ip=options.secondary_ip,
        modify_etc_hosts=options.modify_etc_hosts,
        modify_ssh_setup=options.modify_ssh_setup,
        maintain_node_health=bool(options.maintain_node_health),
        prealloc_wipe_disks=bool(options.prealloc_wipe_disks),
        default_iallocator=options.default_iallocator or "",
        drbd_helper=options.drbd_helper,
    )
    feedback = cli.to_stdout if options.verbose else _quiet
    result = bootstrap.init_cluster(params, feedback=feedback)
    cli.to_stdout("Cluster %s initialised; master node %s (%s), daemons running: %s"
                  % (result.cluster_name, result.master_name, result.master_ip,
                     ", ".join(result.daemons) or "none"))
    return cli.EXIT_SUCCESS


def _quiet(_message: str) -> None:
    pass


def _netmask(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a prefix length (e.g. 32), got %r"
                                         % text) from None


_INIT_OPTIONS = (
    opt("--enabled-hypervisors", metavar="HV[,HV…]", default=None,
        help="hypervisors the cluster may use; the first is the default (default: kvm)"),
    opt("--enabled-disk-templates", metavar="T[,T…]", default=None,
        help="disk templates instances may use; the first is the default"
             " (default: drbd,plain)"),
    opt("-H", "--hypervisor-parameters", dest="hvparams", action="append", default=[],
        metavar="HV:K=V,…", help="hypervisor parameters (repeatable, one per hypervisor)"),
    opt("-B", "--backend-parameters", dest="beparams", default=None, metavar="K=V,…",
        help="default backend parameters of instances (vcpus, maxmem, minmem, …)"),
    opt("-N", "--nic-parameters", dest="nicparams", default=None, metavar="K=V,…",
        help="default NIC parameters (mode, link, vlan)"),
    opt("--node-parameters", dest="ndparams", default=None, metavar="K=V,…",
        help="default node parameters (e.g. ssh_port=2222, spindle_count, …)"),
    opt("-D", "--disk-parameters", dest="diskparams", action="append", default=[],
        metavar="TEMPLATE:K=V,…", help="disk parameters (repeatable, one per template)"),
    opt("--master-netdev", default=None, metavar="DEV",
        help="network device of the master IP (default: lo on loopback, else xen-br0)"),
    opt("--master-netmask", type=_netmask, default=None, metavar="BITS",
        help="prefix length of the master IP (default: 32, or 128 for IPv6)"),
    opt("-m", "--mac-prefix", default=constants.DEFAULT_MAC_PREFIX, metavar="PREFIX",
        help="prefix of generated MAC addresses (default: %(default)s)"),
    opt("-C", "--candidate-pool-size", type=argtypes.positive_int,
        default=constants.MASTER_POOL_SIZE_DEFAULT, metavar="N",
        help="wanted number of master candidates (default: %(default)s)"),
    opt("--file-storage-dir", default=None, metavar="DIR",
        help="directory of file disks (default: /srv/ganeti/file-storage)"),
    opt("--shared-file-storage-dir", default=None, metavar="DIR",
        help="directory of shared-file disks (default: /srv/ganeti/shared-file-storage)"),
    opt("--gluster-storage-dir", default=None, metavar="DIR",
        help="directory of gluster disks"),
    opt("-g", "--vg-name", default=None, metavar="VG",
        help="LVM volume group for plain and drbd disks (default: xenvg when enabled)"),
    opt("-s", "--secondary-ip", default=None, metavar="ADDRESS",
        help="this node's secondary (replication) address"),
    opt("--no-etc-hosts", dest="modify_etc_hosts", action="store_false",
        help="do not maintain /etc/hosts"),
    opt("--no-ssh-init", dest="modify_ssh_setup", action="store_false",
        help="do not set up the cluster's SSH key"),
    opt("--maintain-node-health", type=argtypes.yes_no, default=None, metavar="yes|no",
        help="shut down unknown instances on offline nodes"),
    opt("--prealloc-wipe-disks", type=argtypes.yes_no, default=None, metavar="yes|no",
        help="wipe disks before use"),
    opt("-I", "--default-iallocator", default=None, metavar="NAME",
        help="default instance allocator"),
    opt("--drbd-usermode-helper", dest="drbd_helper", default=None, metavar="PATH",
        help="DRBD usermode helper"),
    cli.VERBOSE_OPT,
)


# -- destroy ----------------------------------------------------------------------------

def destroy(options: argparse.Namespace) -> int:
    from ganeti import bootstrap, cli_jobs

    if not options.yes_do_it:
        cli.to_stderr("Destroying a cluster is irreversible. If you really want to destroy"
                      " this cluster, supply the --yes-do-it option.")
        return cli.EXIT_FAILURE
    results = cli_jobs.submit_or_send([{"OP_ID": "OP_CLUSTER_DESTROY"}], options)
    bootstrap.finish_destroy()
    cli.to_stdout("Cluster destroyed; master %s left it and its daemons stopped"
                  % results[0])
    return cli.EXIT_SUCCESS


# -- info -------------------------------------------------------------------------------

def _format_time(value: Any) -> str:
    if not value:
        return "N/A"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(value)))


def _format_value(value: Any) -> str:
    if value is None or value == "":
        return "(none)" if value is None else "(empty)"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) if value else "(none)"
    return str(value)


def _dict_section(values: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [(str(key), _dict_section(value) if isinstance(value, Mapping) else value)
            for key, value in sorted(values.items())]


def info_sections(info: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Ganeti's ``gnt-cluster info`` layout: (title, value or nested list)."""
    return [
        ("Cluster name", info["name"]),
        ("Cluster UUID", info["uuid"]),
        ("Creation time", _format_time(info.get("ctime"))),
        ("Modification time", _format_time(info.get("mtime"))),
        ("Master node", info["master"]),
        ("Architecture (this node)", "%s (%s)" % tuple(info["architecture"])),
        ("Tags", sorted(info.get("tags") or [])),
        ("Default hypervisor", info.get("default_hypervisor")),
        ("Enabled hypervisors", info.get("enabled_hypervisors")),
        ("Hypervisor parameters", _dict_section(info.get("hvparams") or {})),
        ("OS-specific hypervisor parameters", _dict_section(info.get("os_hvp") or {})),
        ("OS parameters", _dict_section(info.get("osparams") or {})),
        ("Hidden OSes", info.get("hidden_os")),
        ("Blacklisted OSes", info.get("blacklisted_os")),
        ("Cluster parameters", [
            ("candidate pool size", info.get("candidate_pool_size")),
            ("maximal number of jobs running simultaneously", info.get("max_running_jobs")),
            ("maximal number of jobs simultaneously tracked by the scheduler",
             info.get("max_tracked_jobs")),
            ("master IP", info.get("master_ip")),
            ("master netdev", info.get("master_netdev")),
            ("master netmask", info.get("master_netmask")),
            ("use external master IP address setup script",
             info.get("use_external_mip_script")),
            ("lvm volume group", info.get("volume_group_name")),
            ("lvm reserved volumes", info.get("reserved_lvs")),
            ("drbd usermode helper", info.get("drbd_usermode_helper")),
            ("file storage path", info.get("file_storage_dir")),
            ("shared file storage path", info.get("shared_file_storage_dir")),
            ("gluster storage path", info.get("gluster_storage_dir")),
            ("maintenance of node health", info.get("maintain_node_health")),
            ("uid pool", info.get("uid_pool")),
            ("default instance allocator", info.get("default_iallocator")),
            ("primary ip version", info.get("primary_ip_version")),
            ("preallocation wipe disks", info.get("prealloc_wipe_disks")),
            ("OS search path", None),
            ("ExtStorage Providers search path", None),
            ("enabled disk templates", info.get("enabled_disk_templates")),
            ("enabled user shutdown", info.get("enabled_user_shutdown")),
            ("modify /etc/hosts", info.get("modify_etc_hosts")),
            ("modify SSH set-up", info.get("modify_ssh_setup")),
        ]),
        ("Default node parameters", _dict_section(info.get("ndparams") or {})),
        ("Default instance parameters", _dict_section(info.get("beparams") or {})),
        ("Default nic parameters", _dict_section(info.get("nicparams") or {})),
        ("Default disk parameters", _dict_section(info.get("diskparams") or {})),
        ("Instance policy - limits for instances", _dict_section(info.get("ipolicy") or {})),
    ]


def format_sections(sections: list[tuple[str, Any]], indent: int = 0) -> list[str]:
    lines: list[str] = []
    pad = "  " * indent
    for title, value in sections:
        if isinstance(value, list) and value and all(isinstance(v, tuple) for v in value):
            lines.append("%s%s:" % (pad, title))
            lines.extend(format_sections(value, indent + 1))
        else:
            lines.append("%s%s: %s" % (pad, title, _format_value(value)))
    return lines


def _fill_search_paths(sections: list[tuple[str, Any]]) -> None:
    from ganeti import pathutils

    paths = pathutils.current()
    for title, value in sections:
        if title == "Cluster parameters":
            for index, (name, _v) in enumerate(value):
                if name == "OS search path":
                    value[index] = (name, paths.os_search_path)
                elif name == "ExtStorage Providers search path":
                    value[index] = (name, paths.extstorage_search_path)


def show_info(options: argparse.Namespace) -> int:
    from ganeti import cli_jobs

    info = cli_jobs.get_client().query_cluster_info()
    if options.output == "json":
        cli.to_stdout(serializer.dump(info))
        return cli.EXIT_SUCCESS
    sections = info_sections(info)
    _fill_search_paths(sections)
    for line in format_sections(sections):
        cli.to_stdout(line)
    return cli.EXIT_SUCCESS


# -- getmaster, version, master-ping ------------------------------------------------------

def get_master(options: argparse.Namespace) -> int:
    """Print the master's name from ssconf (works without the master daemon)."""
    from ganeti import ssconf

    try:
        master = ssconf.SimpleStore().get_master_node()
    except (errors.SsconfError, OSError) as err:
        cli.to_stderr("This node is not part of a cluster (no ssconf): %s" % err)
        return cli.EXIT_NOTCLUSTER
    cli.to_stdout(master)
    return cli.EXIT_SUCCESS


def show_version(options: argparse.Namespace) -> int:
    from ganeti import cli_jobs

    info = cli_jobs.get_client().query_cluster_info()
    cli.to_stdout("Software version: %s" % info["software_version"])
    cli.to_stdout("Internode protocol: %s" % info["protocol_version"])
    cli.to_stdout("Configuration format: %s" % info["config_version"])
    cli.to_stdout("OS api version: %s" % info["os_api_version"])
    cli.to_stdout("Export interface: %s" % info["export_version"])
    cli.to_stdout("VCS version: %s" % info["vcs_version"])
    return cli.EXIT_SUCCESS


def master_ping(options: argparse.Namespace) -> int:
    """Exit 0 if the master daemon answers, 1 (with the reason) if not."""
    from ganeti import cli_jobs

    try:
        cli_jobs.get_client().query_config_values(["cluster_name"])
    except (errors.GenericError, OSError) as err:
        cli.to_stderr("The master daemon does not answer: %s" % err)
        return cli.EXIT_FAILURE
    return cli.EXIT_SUCCESS


# -- rename -------------------------------------------------------------------------------

def rename(options: argparse.Namespace) -> int:
    from ganeti import cli_jobs

    client = cli_jobs.get_client()
    old_name = client.query_config_values(["cluster_name"])[0]
    if not options.force and not cli.confirm(
            "This will rename the cluster from '%s' to '%s'. If you are connected over the"
            " network to the cluster name, the operation is very dangerous as the IP"
            " address will be removed from the node and the change may not go through."
            " Continue?" % (old_name, options.new_name)):
        cli.to_stderr("Rename not confirmed (use -f/--force to skip the question)")
        return cli.EXIT_CONFIRMATION
    results = cli_jobs.submit_or_send([{"OP_ID": "OP_CLUSTER_RENAME",
                                        "name": options.new_name}], options, client)
    cli.to_stdout("Cluster renamed from %s to %s" % (old_name, results[0]))
    return cli.EXIT_SUCCESS


COMMANDS: dict[str, Command] = {
    "init": Command(
        init, "create a cluster with this node as its master",
        args=(opt("cluster_name", metavar="CLUSTER_NAME",
                  help="name of the cluster (resolving to the master IP)"),),
        options=_INIT_OPTIONS),
    "destroy": Command(
        destroy, "destroy the cluster (only the master may be left, no instances)",
        options=(opt("--yes-do-it", action="store_true",
                     help="confirm that the cluster is to be destroyed"),
                 *cli.SUBMIT_OPTS)),
    "info": Command(
        show_info, "show the cluster's configuration", aliases=("show",),
        options=(opt("--output", choices=["text", "json"], default="text",
                     help="text (default) or json for scripts"),
                 opt("--roman", action="store_true", help=argparse.SUPPRESS))),
    "getmaster": Command(get_master, "print the name of the master node"),
    "version": Command(show_version, "print the cluster's software and protocol versions"),
    "master-ping": Command(master_ping,
                           "exit 0 if the master daemon answers, non-zero otherwise"),
    "rename": Command(
        rename, "rename the cluster (its master IP follows the new name)",
        args=(opt("new_name", metavar="NEW_NAME"),),
        options=(cli.FORCE_OPT, *cli.SUBMIT_OPTS)),
}
