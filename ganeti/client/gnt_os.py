"""gnt-os: list, inspect, diagnose and configure the OS definitions."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ganeti import cli, cli_jobs, constants, errors, paramdefs
from ganeti.cli import Command, opt
from ganeti.utils import argtypes

PROG = "gnt-os"
_ALL_FIELDS = ["name", "valid", "hidden", "blacklisted", "trusted", "variants",
               "api_versions", "parameters", "node_status", "os_hvp", "osparams"]


def _rows(names: Sequence[str] = ()) -> list[dict[str, Any]]:
    qfilter = None
    if names:
        qfilter = ["|", *[["=", "name", name] for name in names]]
    result = cli_jobs.get_client().query(constants.QR_OS, _ALL_FIELDS, qfilter)
    return [dict(zip(_ALL_FIELDS, (value for _status, value in row)))
            for row in result["data"]]


def list_os(options: argparse.Namespace) -> int:
    names: list[str] = []
    for row in _rows():
        if not row["valid"] or row["hidden"] or row["blacklisted"]:
            continue
        if row["variants"]:
            names.extend("%s+%s" % (row["name"], variant) for variant in row["variants"])
        else:
            names.append(row["name"])
    headers = None if options.no_headers else ["Name"]
    for line in cli.format_table(headers, [[name] for name in names]):
        cli.to_stdout(line)
    return cli.EXIT_SUCCESS


def diagnose_os(options: argparse.Namespace) -> int:
    """Each OS's overall status, then each node's verdict and reason."""
    bad = False
    for row in _rows():
        if row["valid"]:
            status = "valid"
        elif any(entries and entries[0][1] for entries in row["node_status"].values()):
            status = "partially valid"
        else:
            status = "invalid"
        bad = bad or not row["valid"]
        marks = [mark for mark, flag in (("hidden", row["hidden"]),
                                         ("blacklisted", row["blacklisted"])) if flag]
        cli.to_stdout("OS: %s [global status: %s]%s"
                      % (row["name"], status, " (%s)" % ", ".join(marks) if marks else ""))
        if row["variants"]:
            cli.to_stdout("  Variants: [%s]" % ", ".join(row["variants"]))
        for node in sorted(row["node_status"]):
            entries = row["node_status"][node]
            for number, (path, valid, message, *_rest) in enumerate(entries):
                verdict = "valid" if valid else "invalid - %s" % message
                prefix = "  Node: %s, status: " % node if number == 0 else \
                    "    [shadowed by the above] "
                cli.to_stdout("%s%s (path: %s)" % (prefix, verdict, path))
        cli.to_stdout("")
    return cli.EXIT_FAILURE if bad else cli.EXIT_SUCCESS


def show_os(options: argparse.Namespace) -> int:
    rows = _rows(options.names)
    missing = [name for name in options.names
               if name.split("+", 1)[0] not in {row["name"] for row in rows}]
    for row in rows:
        cli.to_stdout("%s:" % row["name"])
        cli.to_stdout("  - valid: %s" % row["valid"])
        cli.to_stdout("  - hidden: %s" % row["hidden"])
        cli.to_stdout("  - blacklisted: %s" % row["blacklisted"])
        cli.to_stdout("  - trusted: %s" % row["trusted"])
        if row["valid"]:
            cli.to_stdout("  - API versions: %s"
                          % ", ".join(str(v) for v in row["api_versions"]))
            cli.to_stdout("  - variants: %s" % (", ".join(row["variants"]) or "(none)"))
            cli.to_stdout("  - parameters:")
            for name, doc in row["parameters"]:
                cli.to_stdout("    - %s: %s" % (name, doc))
        if row["os_hvp"]:
            cli.to_stdout("  - hypervisor parameters:")
            for hv_name in sorted(row["os_hvp"]):
                cli.to_stdout("    - %s: %s" % (hv_name, ", ".join(
                    "%s=%s" % kv for kv in sorted(row["os_hvp"][hv_name].items()))))
        if row["osparams"]:
            cli.to_stdout("  - cluster OS parameters:")
            for name in sorted(row["osparams"]):
                cli.to_stdout("    - %s: %s" % (name, row["osparams"][name]))
        cli.to_stdout("")
    if missing:
        raise errors.OpPrereqError("OS definition(s) not found on any node: %s"
                                   % ", ".join(missing), errors.ECODE_NOENT)
    return cli.EXIT_SUCCESS


def _key_values(option: str) -> Any:
    def parse(text: str) -> dict[str, Any]:
        try:
            values = cli.split_key_values(text, option) if text else {}
        except errors.GenericError as err:
            raise argparse.ArgumentTypeError(str(err)) from err
        return values
    return parse


def _hv_params(text: str) -> tuple[str, dict[str, Any]]:
    from ganeti.client.gnt_node import coerce_changes

    try:
        hv_name, values = cli.parse_ident_key_values(text, "-H")
        if not isinstance(values, dict):
            raise argparse.ArgumentTypeError("expected HYPERVISOR:key=value,…, got %r" % text)
        return hv_name, coerce_changes(paramdefs.hv_family(hv_name), values, "-H")
    except errors.GenericError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def modify_os(options: argparse.Namespace) -> int:
    """Per-OS cluster settings (OpClusterSetParams, as Ganeti's gnt-os modify)."""
    name = options.name
    op: dict[str, Any] = {"OP_ID": "OP_CLUSTER_SET_PARAMS"}
    if options.osparams is not None:
        op["osparams"] = {name: options.osparams}
    if options.osparams_private is not None:
        op["osparams_private_cluster"] = {name: options.osparams_private}
    if options.hvparams:
        op["os_hvp"] = {name: dict(options.hvparams)}
    for attr, param in (("hidden", "hidden_os"), ("blacklisted", "blacklisted_os")):
        value = getattr(options, attr)
        if value is not None:
            op[param] = [[constants.DDM_ADD if value else constants.DDM_REMOVE, name]]
    if len(op) == 1:
        raise cli.UsageError("At least one of OS parameters, hypervisor parameters, --hidden"
                             " or --blacklisted must be given")
    cli_jobs.submit_or_send([op], options)
    return cli.EXIT_SUCCESS


COMMANDS: dict[str, Command] = {
    "list": Command(list_os, "list the valid OS definitions (name+variant)",
                    options=(cli.NOHDR_OPT,)),
    "diagnose": Command(diagnose_os, "show each OS's status on every node, and why an"
                        " invalid one is invalid"),
    "info": Command(show_os, "show details of OS definitions (all by default)",
                    args=(opt("names", nargs="*", metavar="OS"),), aliases=("show",)),
    "modify": Command(
        modify_os, "change the cluster's settings of an OS (it need not exist yet)",
        args=(opt("name", metavar="OS"),),
        options=(
            opt("-O", "--os-parameters", dest="osparams", type=_key_values("-O"),
                default=None, metavar="PARAMS",
                help="per-OS parameter defaults (name=value,…; '-name' or name=default"
                     " removes one)"),
            opt("--os-parameters-private", dest="osparams_private",
                type=_key_values("--os-parameters-private"), default=None, metavar="PARAMS",
                help="private per-OS parameter defaults (kept out of logs)"),
            opt("-H", "--hypervisor-parameters", dest="hvparams", type=_hv_params,
                action="append", default=[], metavar="HV:PARAMS",
                help="per-OS hypervisor parameters"),
            opt("--hidden", type=argtypes.yes_no, default=None, metavar="yes|no",
                help="hide the OS from gnt-os list"),
            opt("--blacklisted", type=argtypes.yes_no, default=None, metavar="yes|no",
                help="forbid new installs of the OS"),
            *cli.SUBMIT_OPTS)),
}


def main(argv: Sequence[str] | None = None) -> int:
    return cli.generic_main(PROG, COMMANDS, argv, description=__doc__ or "")


if __name__ == "__main__":
    sys.exit(main())
