"""cfgupgrade: bring a config.data to the format this version writes.

Reads a configuration written by Ganeti 2.11 or later (or by this project),
checks it, and rewrites it in the current format (Ganeti 3.0's layout). The
file is only replaced when the result verifies; the original is kept beside
it as ``<file>.bak-<old version>``. ``--dry-run`` and ``--verify-only``
change nothing.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from typing import TextIO

from ganeti import config, config_verify, constants, errors, pathutils
from ganeti.utils import io

EXIT_OK = 0
EXIT_FAILURE = 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cfgupgrade",
        description="Verify a cluster configuration file and upgrade it to version %d."
        % constants.CONFIG_VERSION)
    parser.add_argument("--path", default=None,
                        help="configuration file (default: this node's config.data)")
    parser.add_argument("-n", "--dry-run", action="store_true",
                        help="report what would change, write nothing")
    parser.add_argument("--verify-only", action="store_true",
                        help="only check the file, even if it needs an upgrade")
    parser.add_argument("-f", "--force", action="store_true",
                        help="rewrite the file even if it is already current")
    parser.add_argument("-v", "--verbose", action="store_true", help="say more")
    return parser


def run(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    options = _parser().parse_args(argv)
    stream = out if out is not None else sys.stdout

    def say(message: str) -> None:
        print(message, file=stream)

    path = options.path or pathutils.current().config_file
    try:
        raw = io.read_file(path).encode("utf-8")
    except OSError as err:
        say("Cannot read %s: %s" % (path, err.strerror))
        return EXIT_FAILURE
    try:
        old_version = config.parse_config(raw).get("version")
        data = config.load_config_data(raw)
    except errors.ConfigurationError as err:
        say("%s: %s" % (path, err))
        return EXIT_FAILURE
    problems = config_verify.verify(data)
    if problems:
        say("%s is inconsistent (%d problems); nothing was changed:" % (path, len(problems)))
        for problem in problems:
            say("  " + problem)
        return EXIT_FAILURE
    current = old_version == constants.CONFIG_VERSION
    if options.verbose:
        say("%s: version %s, %d nodes, %d instances, %d disks" %
            (path, old_version, len(data.nodes), len(data.instances), len(data.disks)))
    if options.verify_only:
        say("%s verifies (version %s)%s" % (path, old_version,
                                            "" if current else "; an upgrade is needed"))
        return EXIT_OK
    if current and not options.force:
        say("%s is already at version %s and verifies; nothing to do" % (path, old_version))
        return EXIT_OK
    if options.dry_run:
        say("Would rewrite %s from version %s to %d" % (path, old_version,
                                                         constants.CONFIG_VERSION))
        return EXIT_OK
    backup = "%s.bak-%s" % (path, old_version)
    shutil.copy2(path, backup)
    io.write_file_atomic(path, config.dump_config(data), mode=0o600)
    say("Upgraded %s from version %s to %d (original kept as %s)" %
        (path, old_version, constants.CONFIG_VERSION, backup))
    return EXIT_OK


def main() -> None:
    sys.exit(run())
