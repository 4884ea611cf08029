"""gnt-cluster sub-commands about the master role: master-failover (masterfailover).

Runs on the master candidate that takes over, outside the job queue (see
``ganeti.masterfailover``). Every run is logged to the commands log of
the node (pathutils ``commands_log_file``), a run with ``--no-voting`` with
a warning.
"""

from __future__ import annotations

import argparse
import logging
import os

from ganeti import cli, constants, pathutils
from ganeti.cli import Command, opt
from ganeti.utils import argtypes

_NO_VOTING_QUESTION = (
    "This will make this node the master even if most other nodes are down or this"
    " node's configuration is outdated; a second master can corrupt the cluster. See"
    " gnt-cluster(8) before going on. Continue?")


def _log_to_commands_log(paths: pathutils.Paths) -> logging.Handler | None:
    """Send the failover's log records to the commands log (if it can be opened)."""
    from ganeti import daemon  # asyncio and more: only master-failover needs it

    try:
        os.makedirs(paths.log_dir, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(paths.commands_log_file,
                                                       encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(
        daemon.LOG_FORMAT.replace("%(name)s", "gnt-cluster master-failover")))
    target = logging.getLogger("ganeti.masterfailover")
    target.setLevel(logging.INFO)
    target.addHandler(handler)
    return handler


def master_failover(options: argparse.Namespace) -> int:
    from ganeti import masterfailover, netutils

    if options.no_voting and not options.yes_do_it and not cli.confirm(_NO_VOTING_QUESTION):
        cli.to_stderr("Aborted: --no-voting needs confirmation (add --yes-do-it when not"
                      " running interactively)")
        return cli.EXIT_CONFIRMATION
    paths = pathutils.current()
    node_name = netutils.my_hostname()
    handler = _log_to_commands_log(paths)
    logger = logging.getLogger("ganeti.masterfailover")
    try:
        logger.info("master-failover to %s requested%s", node_name,
                    " with --no-voting" if options.no_voting else "")
        result = masterfailover.master_failover(
            paths, node_name, no_voting=options.no_voting, noded_port=options.noded_port,
            feedback=cli.to_stdout if options.verbose else None)
    except Exception as err:
        logger.error("master-failover to %s failed: %s", node_name, err)
        raise
    finally:
        if handler is not None:
            logger.removeHandler(handler)
            handler.close()
    for warning in result.warnings:
        cli.to_stderr("Warning: %s" % warning)
    cli.to_stdout("Master role moved from %s to %s (configuration serial %d, taken from"
                  " %s at serial %d)" % (result.old_master, result.new_master,
                                         result.new_serial, result.config_source,
                                         result.config_serial))
    return cli.EXIT_SUCCESS


NO_VOTING_OPT = opt("--no-voting", action="store_true",
                    help="do not ask the other nodes whether a strict majority agrees on"
                         " the current master (for two-node clusters whose other node is"
                         " down); dangerous, logged, passed on to the new master daemon")
YES_DO_IT_OPT = opt("--yes-do-it", action="store_true",
                    help="do not ask for confirmation of --no-voting")
NODED_PORT_OPT = opt("--noded-port", type=argtypes.port, default=constants.DEFAULT_NODED_PORT,
                     help=argparse.SUPPRESS)

COMMANDS: dict[str, cli.Command] = {
    "master-failover": Command(
        master_failover,
        "make this master candidate the master",
        options=(NO_VOTING_OPT, YES_DO_IT_OPT, cli.VERBOSE_OPT, NODED_PORT_OPT),
        aliases=("masterfailover",),
        description="Run on a master candidate: it takes over the master role with the"
                    " newest configuration among the candidates and the replicated job"
                    " queue, once a strict majority of the nodes agrees on the current"
                    " master. The old master's daemons are stopped if it answers; if it"
                    " comes back later, its master daemon refuses to start."),
}
