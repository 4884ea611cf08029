"""gnt-node sub-commands about storage: list-storage, modify-storage, repair-storage,
volumes (Ganeti's names, options and table formats)."""

from __future__ import annotations

import argparse
from typing import Any

from ganeti import cli, cli_jobs, constants
from ganeti.cli import Command, opt
from ganeti.utils import argtypes

#: Default fields of list-storage and their titles (Ganeti's).
STORAGE_FIELDS: dict[str, str] = {
    constants.SF_NODE: "Node", constants.SF_TYPE: "Type", constants.SF_NAME: "Name",
    constants.SF_SIZE: "Size", constants.SF_USED: "Used", constants.SF_FREE: "Free",
    constants.SF_ALLOCATABLE: "Allocatable",
}
_STORAGE_UNIT_FIELDS = (constants.SF_SIZE, constants.SF_USED, constants.SF_FREE)
#: Default fields of volumes and their titles (Ganeti's).
VOLUME_FIELDS: dict[str, str] = {
    constants.VF_NODE: "Node", constants.VF_PHYS: "PhysDev", constants.VF_VG: "VG",
    constants.VF_NAME: "Name", constants.VF_SIZE: "Size", constants.VF_INSTANCE: "Instance",
}
#: Storage types the user may name (Ganeti's gnt-node choices).
USER_STORAGE_TYPES = (constants.ST_FILE, constants.ST_LVM_PV, constants.ST_LVM_VG,
                      constants.ST_SHARED_FILE, constants.ST_GLUSTER)
MODIFIABLE_STORAGE_TYPES = tuple(sorted(constants.MODIFIABLE_STORAGE_FIELDS))
REPAIRABLE_STORAGE_TYPES = tuple(sorted(constants.VALID_STORAGE_OPERATIONS))


def _print_table(options: argparse.Namespace, fields: list[str], titles: dict[str, str],
                 rows: list[list[Any]], unit_fields: tuple[str, ...]) -> None:
    headers = None if options.no_headers else [titles.get(f, f) for f in fields]
    units = [i for i, name in enumerate(fields) if name in unit_fields]
    for line in cli.format_table(headers, rows, options.separator, unit_columns=units,
                                 units=options.units):
        cli.to_stdout(line)


def list_storage(options: argparse.Namespace) -> int:
    fields = cli.parse_fields(options.output, list(STORAGE_FIELDS))
    op: dict[str, Any] = {"OP_ID": "OP_NODE_QUERY_STORAGE", "nodes": list(options.nodes),
                          "output_fields": fields}
    if options.storage_type:
        op["storage_type"] = options.storage_type
    rows = cli_jobs.submit_or_send([op], options)[0]
    _print_table(options, fields, STORAGE_FIELDS, rows, _STORAGE_UNIT_FIELDS)
    return cli.EXIT_SUCCESS


def list_volumes(options: argparse.Namespace) -> int:
    fields = cli.parse_fields(options.output, list(VOLUME_FIELDS))
    rows = cli_jobs.submit_or_send([{"OP_ID": "OP_NODE_QUERYVOLS", "nodes": list(options.nodes),
                                     "output_fields": fields}], options)[0]
    size_index = fields.index(constants.VF_SIZE) if constants.VF_SIZE in fields else None
    if size_index is not None:
        # The opcode returns strings (as Ganeti's); sizes become numbers for --units.
        rows = [[int(value) if i == size_index else value for i, value in enumerate(row)]
                for row in rows]
    _print_table(options, fields, VOLUME_FIELDS, rows, (constants.VF_SIZE,))
    return cli.EXIT_SUCCESS


def modify_storage(options: argparse.Namespace) -> int:
    changes: dict[str, Any] = {}
    if options.allocatable is not None:
        changes[constants.SF_ALLOCATABLE] = options.allocatable
    if not changes:
        cli.to_stderr("No changes to perform, exiting.")
        return cli.EXIT_SUCCESS
    cli_jobs.submit_or_send([{"OP_ID": "OP_NODE_MODIFY_STORAGE", "node_name": options.node,
                              "storage_type": options.storage_type, "name": options.name,
                              "changes": changes}], options)
    return cli.EXIT_SUCCESS


def repair_storage(options: argparse.Namespace) -> int:
    cli_jobs.submit_or_send([{"OP_ID": "OP_REPAIR_NODE_STORAGE", "node_name": options.node,
                              "storage_type": options.storage_type, "name": options.name,
                              "ignore_consistency": options.ignore_consistency}], options)
    return cli.EXIT_SUCCESS


_NODES_ARG = opt("nodes", nargs="*", metavar="NODE")
_NODE_ARG = opt("node", metavar="NODE")
_UNIT_NAME_ARG = opt("name", metavar="NAME", help="the storage unit (e.g. /dev/sdb1, xenvg)")

COMMANDS: dict[str, Command] = {
    "list-storage": Command(
        list_storage, "list the storage units of nodes (all by default)",
        args=(_NODES_ARG,),
        options=(*cli.LIST_OPTS, cli.PRIORITY_OPT,
                 opt("-t", "--storage-type", dest="storage_type", choices=USER_STORAGE_TYPES,
                     default=None, metavar="STORAGE_TYPE",
                     help="storage type (%s); default: that of the first enabled disk"
                          " template" % ", ".join(USER_STORAGE_TYPES))),
        description="Lists the storage units of a type on the nodes. Fields: %s."
                    % ", ".join(STORAGE_FIELDS)),
    "modify-storage": Command(
        modify_storage, "change a storage unit of a node",
        args=(_NODE_ARG, opt("storage_type", choices=MODIFIABLE_STORAGE_TYPES,
                             metavar="STORAGE_TYPE"), _UNIT_NAME_ARG),
        options=(opt("--allocatable", type=argtypes.yes_no, default=None, metavar="yes|no",
                     help="whether new volumes may be allocated on the unit"),
                 *cli.SUBMIT_OPTS)),
    "repair-storage": Command(
        repair_storage, "repair a storage unit of a node (lvm-vg: vgreduce --removemissing)",
        args=(_NODE_ARG, opt("storage_type", choices=REPAIRABLE_STORAGE_TYPES,
                             metavar="STORAGE_TYPE"), _UNIT_NAME_ARG),
        options=(opt("--ignore-consistency", action="store_true",
                     help="repair even if instances have faulty disks on other nodes"),
                 *cli.SUBMIT_OPTS)),
    "volumes": Command(
        list_volumes, "list the logical volumes of nodes (all by default)",
        args=(_NODES_ARG,), options=(*cli.LIST_OPTS, cli.PRIORITY_OPT),
        description="Lists the LVM logical volumes on the nodes. Fields: %s."
                    % ", ".join(VOLUME_FIELDS)),
}
