"""ganeti-masterd: the master daemon.

Owns the configuration (the only writer) and the job queue, and serves
luxi on the master socket (``socket/ganeti-query`` in the run dir, mode
0660). It refuses to start on a node that is not the master according to
the configuration (and ssconf, when its files exist), and unless a strict
majority of the nodes names it the master (the start-up vote, see
``ganeti.masterfailover``; ``--no-voting --yes-do-it`` skips it, logged).

Start-up (``prepare``, before detaching, so errors reach the terminal):
load and verify the configuration, check that this node is the master,
bind the socket. Then (``serve``): build the master context, start the job
queue (which recovers the jobs on disk: queued ones run again, ones that
were running are failed with the restart as reason), serve luxi. On
SIGTERM: stop accepting requests, let running opcodes finish for up to
``--shutdown-timeout`` seconds, then mark what still runs as failed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

from ganeti import constants, daemon, errors, masterfailover, netutils, pathutils, ssconf
from ganeti.config import ConfigWriter
from ganeti.daemon import Daemon, run_daemon
from ganeti.server.luxi_server import LuxiMethods, LuxiServer
from ganeti.utils import argtypes

if TYPE_CHECKING:
    from ganeti.context import MasterContext

logger = logging.getLogger("ganeti.masterd")

DEFAULT_WORKERS = 25
DEFAULT_SHUTDOWN_TIMEOUT = 20.0


class NotMasterError(errors.GenericError):
    """This node is not the cluster's master."""


def check_master(cfg: ConfigWriter, paths: pathutils.Paths, node_name: str) -> None:
    """Raise NotMasterError unless ``node_name`` is the master per config and ssconf."""
    master = cfg.get_master_node_info().name
    if master != node_name:
        raise NotMasterError(
            "this node (%s) is not the master node; the configuration %s names %s as the"
            " master (run the master daemon there, or fail over the master role first)"
            % (node_name, cfg.path, master))
    try:
        ssconf_master = ssconf.SimpleStore(paths).read_value(ssconf.KEY_MASTER_NODE).strip()
    except (errors.SsconfError, OSError):
        return  # no ssconf yet: the configuration decides
    if ssconf_master and ssconf_master != node_name:
        raise NotMasterError(
            "this node (%s) is not the master node according to ssconf (%s names %s);"
            " the configuration disagrees, redistribute it to fix the ssconf files"
            % (node_name, paths.ssconf_file(ssconf.KEY_MASTER_NODE), ssconf_master))


def _socket_alive(path: str) -> bool:
    """Whether a process accepts connections on the unix socket ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError("expected a positive number, got %r" % text)
    return value


class MasterDaemon(Daemon):
    name = constants.MASTERD
    description = "Master daemon: owns the configuration and the job queue, serves luxi"

    def __init__(self) -> None:
        self._paths = pathutils.current()
        self._cfg: ConfigWriter | None = None
        self._server: LuxiServer | None = None
        self.node_name = ""
        self._vote_outcome = ""

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--workers", type=argtypes.positive_int, default=DEFAULT_WORKERS,
                            help="job queue worker threads (default: %(default)s)")
        parser.add_argument("--shutdown-timeout", type=_positive,
                            default=DEFAULT_SHUTDOWN_TIMEOUT, metavar="SECONDS",
                            help="on stop, how long running opcodes may take to finish"
                                 " before they are failed (default: %(default)s)")
        parser.add_argument("--noded-port", type=argtypes.port,
                            default=constants.DEFAULT_NODED_PORT, metavar="PORT",
                            help="TCP port of the node daemons (default: %(default)s)")
        parser.add_argument("--no-voting", action="store_true",
                            help="start without asking the other nodes whether a strict"
                                 " majority names this node the master (two-node clusters"
                                 " whose other node is down); needs --yes-do-it")
        parser.add_argument("--yes-do-it", action="store_true",
                            help="confirm --no-voting")
        parser.add_argument("--vote-wait", type=_positive, metavar="SECONDS",
                            default=masterfailover.STARTUP_VOTE_WAIT,
                            help="how long to keep asking while too few nodes answer the"
                                 " master vote (default: %(default)s)")

    def prepare(self, options: argparse.Namespace) -> None:
        self.node_name = netutils.my_hostname()
        self._cfg = ConfigWriter(self._paths.config_file)
        check_master(self._cfg, self._paths, self.node_name)
        os.makedirs(self._paths.queue_dir, mode=0o700, exist_ok=True)
        # The socket of a live master must not be replaced (the pid file is
        # only taken after prepare), so check for one before binding.
        pid_file = self._paths.daemon_pid_file(self.name)
        if daemon.pid_file_locked(pid_file) or _socket_alive(self._paths.master_socket):
            raise errors.GenericError("%s is already running on this node (pid %s)"
                                      % (self.name, daemon.read_pid(pid_file)))
        self._vote_outcome = self._vote(options)
        try:
            self._server = LuxiServer(self._paths.master_socket)
        except OSError as err:
            raise errors.GenericError("can't listen on %s: %s"
                                      % (self._paths.master_socket, err)) from err

    def _vote(self, options: argparse.Namespace) -> str:
        """The start-up vote (before detaching: threads end before the fork)."""
        assert self._cfg is not None
        if options.no_voting:
            if not options.yes_do_it:
                raise errors.GenericError(
                    "--no-voting skips the check that a strict majority of the nodes names"
                    " this node the master; a second master can corrupt the cluster. Add"
                    " --yes-do-it if you are sure")
            return ("started with --no-voting: the other nodes were NOT asked whether this"
                    " node is the master")
        tally = masterfailover.check_startup_vote(self._cfg, self._paths, self.node_name,
                                                  options.noded_port, options.vote_wait)
        if tally is None:
            return "one-node cluster: no master vote needed"
        return "master vote passed: %s" % tally.summary()

    async def serve(self, options: argparse.Namespace, stopping: asyncio.Event,
                    ready: Callable[[], None]) -> None:
        assert self._cfg is not None and self._server is not None
        if options.no_voting:
            logger.warning("%s", self._vote_outcome)
        else:
            logger.info("%s", self._vote_outcome)
        # Threads (queue workers, RPC) start here, after detaching.
        from ganeti.context import MasterContext
        from ganeti.jqueue.queue import JobQueue

        context = MasterContext.build(self._paths, self.node_name, cfg=self._cfg,
                                      noded_port=options.noded_port)
        # Every configuration save pushes config.data and ssconf to the nodes.
        from ganeti.cmdlib.cluster_redist import install_save_hook
        install_save_hook(context)
        # As Ganeti's masterd: the master IP comes up with the master (a failure is logged).
        await asyncio.get_running_loop().run_in_executor(None, _activate_master_ip, context)
        queue = JobQueue(context, worker_count=options.workers)
        context.jobqueue = queue
        queue.start()
        server = self._server
        server.methods = LuxiMethods(context)
        server.serve_in_thread()
        logger.info("Serving luxi on %s as master %s (pid %d, %d workers)",
                    self._paths.master_socket, self.node_name, os.getpid(), options.workers)
        ready()
        loop = asyncio.get_running_loop()
        try:
            await stopping.wait()
        finally:
            logger.info("Stopping: no new requests; running jobs get %.0f s to finish",
                        options.shutdown_timeout)
            await loop.run_in_executor(None, server.close)
            await loop.run_in_executor(None, queue.shutdown, options.shutdown_timeout)
            close_rpc = getattr(context.rpc, "close", None)
            if close_rpc is not None:
                await loop.run_in_executor(None, close_rpc)


def _activate_master_ip(context: MasterContext) -> None:
    from ganeti.cmdlib.cluster_masterip import activate_at_startup

    with context.cfg.locked():
        cluster = context.cfg.get_cluster_info()
        master = context.node_address(context.cfg.get_master_node())
    problem = activate_at_startup(context.rpc, master, cluster)
    if problem is not None:
        logger.error("%s", problem)
    else:
        logger.info("Master IP %s active on %s", cluster.master_ip, master.name)


def main(argv: list[str] | None = None) -> int:
    return run_daemon(MasterDaemon(), argv)
