"""gnt-cluster: set up, inspect, verify, maintain and fail over the cluster.

The sub-commands live in area modules (set-up, maintenance, failover);
this module only puts them together.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ganeti import cli
from ganeti.client import cluster_disks, cluster_failover, cluster_maint, cluster_setup

PROG = "gnt-cluster"


def commands() -> dict[str, cli.Command]:
    merged: dict[str, cli.Command] = {}
    for module in (cluster_setup, cluster_maint, cluster_failover, cluster_disks):
        for name, command in module.COMMANDS.items():
            if name in merged:
                raise AssertionError("gnt-cluster sub-command '%s' defined twice" % name)
            merged[name] = command
    return merged


def main(argv: Sequence[str] | None = None) -> int:
    return cli.generic_main(PROG, commands(), argv, description=__doc__ or "")


if __name__ == "__main__":
    sys.exit(main())
