"""gnt-instance: create, inspect, start, stop, change, move and remove instances.

The sub-commands live in two area modules: the core lifecycle
(``instance_core``) and the operations on existing instances
(``instance_ops``); this module only puts them together.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ganeti import cli
from ganeti.client import instance_core, instance_ops, instance_placement

PROG = "gnt-instance"


def commands() -> dict[str, cli.Command]:
    merged: dict[str, cli.Command] = {}
    for module in (instance_core, instance_ops, instance_placement):
        for name, command in module.COMMANDS.items():
            if name in merged:
                raise AssertionError("gnt-instance sub-command '%s' defined twice" % name)
            merged[name] = command
    return merged


def main(argv: Sequence[str] | None = None) -> int:
    return cli.generic_main(PROG, commands(), argv, description=__doc__ or "")


if __name__ == "__main__":
    sys.exit(main())
