"""list-tags / add-tags / remove-tags sub-commands of a kind of object (node, group…).

``object_tag_commands(kind, what)`` gives the three Commands taking the
object's name first, as ``gnt-node add-tags NODE TAG…`` does; ``--from FILE``
(``-`` for standard input) adds tags one per line.
"""

from __future__ import annotations

import argparse
import sys

from ganeti import cli, cli_jobs
from ganeti.cli import Command, opt


def tags_from(options: argparse.Namespace) -> list[str]:
    """The tags on the command line plus those of ``--from``; UsageError if none."""
    tags = list(options.tags)
    if options.tags_source:
        if options.tags_source == "-":
            text = sys.stdin.read()
        else:
            with open(options.tags_source, encoding="utf-8") as handle:
                text = handle.read()
        tags.extend(line.strip() for line in text.splitlines() if line.strip())
    if not tags:
        raise cli.UsageError("No tags given")
    return tags


def object_tag_commands(kind: str, what: str) -> dict[str, Command]:
    """The tag sub-commands for objects of ``kind`` (a constants.TAG_* value)."""
    article = "an" if what[:1] in "aeiou" else "a"

    def list_tags(options: argparse.Namespace) -> int:
        for tag in sorted(cli_jobs.get_client().query_tags(kind, options.name)):
            cli.to_stdout(tag)
        return cli.EXIT_SUCCESS

    def change(op_id: str) -> cli.CommandFunc:
        def run(options: argparse.Namespace) -> int:
            cli_jobs.submit_or_send([{"OP_ID": op_id, "kind": kind, "name": options.name,
                                      "tags": tags_from(options)}], options)
            return cli.EXIT_SUCCESS
        return run

    name_arg = opt("name", metavar=what.upper())
    tag_args = (name_arg, opt("tags", nargs="*", metavar="TAG"))
    tag_options = (opt("--from", dest="tags_source", default=None, metavar="FILE",
                       help="read more tags from FILE, one per line ('-': standard input)"),
                   *cli.SUBMIT_OPTS)
    the_object = "%s %s" % (article, what)
    return {
        "list-tags": Command(list_tags, "list the tags of %s" % the_object, args=(name_arg,)),
        "add-tags": Command(change("OP_TAGS_SET"), "add tags to %s" % the_object,
                            args=tag_args, options=tag_options),
        "remove-tags": Command(change("OP_TAGS_DEL"), "remove tags from %s" % the_object,
                               args=tag_args, options=tag_options),
    }
