"""gnt-instance change-group and batch-create: commands whose opcode plans the
placement of instances and submits one job per instance, which they follow."""

from __future__ import annotations

import argparse
from typing import Any

from ganeti import cli, cli_jobs, constants, errors, serializer
from ganeti.cli import Command, opt


def change_group(options: argparse.Namespace) -> int:
    op = cli_jobs.with_group_targets({
        "OP_ID": "OP_INSTANCE_CHANGE_GROUP", "instance_name": options.instance,
        "early_release": options.early_release}, options)
    return cli_jobs.run_moves(
        op, options, "Instance '%s' changed group successfully." % options.instance,
        "There were %%s errors while changing group of instance '%s'." % options.instance)


def load_instance_definitions(path: str) -> list[dict[str, Any]]:
    """The OpInstanceCreate parameters of each instance in a batch-create file (a JSON
    list of objects, Ganeti's format); ParameterError naming what is wrong."""
    from ganeti import opcodes

    try:
        with open(path, encoding="utf-8") as handle:
            data = serializer.load(handle.read())
    except OSError as err:
        raise errors.ParameterError("Can't read the instance definition file %s: %s"
                                    % (path, err.strerror)) from err
    except ValueError as err:
        raise errors.ParameterError("Can't parse the instance definition file: %s"
                                    % err) from err
    if not (isinstance(data, list) and data and all(isinstance(i, dict) for i in data)):
        raise errors.ParameterError("The instance definition file is not a non-empty JSON"
                                    " list of objects (one per instance)")
    known = {param.name for param in opcodes.OpInstanceCreate.ALL_PARAMS}
    for index, definition in enumerate(data):
        unknown = sorted(set(definition) - known - {"OP_ID"})
        if unknown:
            raise errors.ParameterError("Unknown fields in definition %d: %s"
                                        % (index, ", ".join(unknown)))
        definition.pop("OP_ID", None)
    return data


def batch_create(options: argparse.Namespace) -> int:
    instances = load_instance_definitions(options.file)
    op: dict[str, Any] = {"OP_ID": "OP_INSTANCE_MULTI_ALLOC", "instances": instances}
    if options.iallocator:
        op["iallocator"] = options.iallocator
    result, failures = cli_jobs.submit_and_follow(op, options)
    not_placed = result.get(constants.FAILED_KEY) or []
    if not_placed:
        cli.to_stdout("No node found for instance(s): %s" % ", ".join(not_placed))
    if failures or not_placed:
        cli.to_stdout("There were %s errors during the creation."
                      % (failures + len(not_placed)))
        return cli.EXIT_FAILURE
    cli.to_stdout("All instances created successfully.")
    return cli.EXIT_SUCCESS


_IALLOCATOR = opt("-I", "--iallocator", dest="iallocator", default=None, metavar="NAME",
                  help="allocator placing the instances ('.': the cluster default;"
                       " default: built-in unless the cluster sets one)")

COMMANDS: dict[str, Command] = {
    "change-group": Command(
        change_group, "move an instance to another node group",
        args=(opt("instance", metavar="INSTANCE"),),
        options=(opt("--to", dest="to", action="append", default=[], metavar="GROUP",
                     help="group to move the instance to (repeatable; default: any other)"),
                 _IALLOCATOR,
                 opt("--early-release", action="store_true",
                     help="release locks early (mirrored disks)"),
                 *cli.SUBMIT_OPTS)),
    "batch-create": Command(
        batch_create, "create several instances from a JSON file of definitions",
        args=(opt("file", metavar="FILE.json"),),
        options=(_IALLOCATOR, *cli.SUBMIT_OPTS),
        description="The file holds a JSON list of objects, each with the parameters of"
                    " one instance creation (OpInstanceCreate: instance_name, disk_template,"
                    " disks, nics, os_type, beparams, …). Without pnode on every instance,"
                    " an allocator places them all."),
}
