"""Master failover and the master vote.

Ganeti runs the master failover outside the job queue (the queue lives on
the master that is going away); so does ``master_failover`` here, on the
master candidate that takes over:

1. Its own configuration must list it as an online, master-capable master
   candidate (nodes that are not candidates have no configuration copy).
2. Every other master candidate is asked for its copy (``config_read``);
   the copy with the highest serial number (of the same cluster) wins.
3. Unless ``no_voting``: every node is asked whom its ssconf names as the
   master (``master_node_name``); a strict majority of the configuration's
   nodes (this one included) must name the current master, otherwise this
   node's view of the cluster can't be trusted and nothing changes.
4. If the old master answers, its master IP is taken down and its RAPI
   and masterd are stopped (``node_deactivate_master_ip``,
   ``node_stop_master``); its configuration is read once more, since it
   may have saved while we voted, and its job queue drain flag becomes
   this node's (a stale local flag does not survive the failover).
5. The configuration names this node the master (serial bumped) and is
   pushed with ssconf to every node (RedistributeConfig's code).
6. masterd (with ``--no-voting --yes-do-it`` when asked, so the flag is not
   lost on the way) and RAPI are started here through daemon-util; the job
   queue is the copy the old master replicated to every candidate. masterd
   brings the master IP up here as it starts.

The same vote guards masterd's start-up (``check_startup_vote``): a strict
majority of the nodes must name this node, so an old master that comes
back after a failover steps down instead of acting as a second master; it
then adopts the majority's configuration and ssconf where it can.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ganeti import constants, errors, pathutils, ssconf
from ganeti.config import ConfigWriter, load_config_data
from ganeti.objects import ConfigData, Node
from ganeti.rpc import encoding
from ganeti.rpc.client import NodeAddress, RpcClient
from ganeti.utils import io

logger = logging.getLogger("ganeti.masterfailover")

#: Seconds one round of votes (or of configuration reads) may take.
VOTE_TIMEOUT = 10.0
#: How long masterd keeps asking while too few nodes answer (they may be booting).
STARTUP_VOTE_WAIT = 60.0
#: Seconds between two rounds of votes.
VOTE_RETRY_INTERVAL = 2.0
#: Seconds the start of masterd (and RAPI) through daemon-util may take.
DAEMON_START_TIMEOUT = 120.0

FeedbackFn = Callable[[str], None]


# -- votes -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Vote:
    """Whom one node names as the master; ``master`` is None if it did not answer."""

    node: str
    master: str | None
    error: str | None = None

    def describe(self) -> str:
        if self.master is None:
            return "%s: no answer (%s)" % (self.node, self.error or "unknown error")
        return "%s: %s" % (self.node, self.master)


@dataclass(frozen=True)
class VoteTally:
    """The votes of one round; ``total`` is the number of nodes in the configuration."""

    votes: tuple[Vote, ...]
    total: int

    def count(self, name: str) -> int:
        return sum(1 for vote in self.votes if vote.master == name)

    @property
    def answered(self) -> int:
        return sum(1 for vote in self.votes if vote.master is not None)

    def has_majority(self, name: str) -> bool:
        """Whether more than half of all the nodes name ``name``."""
        return self.count(name) * 2 > self.total

    def majority(self) -> str | None:
        """The node a strict majority of all the nodes names, if any."""
        counts = Counter(vote.master for vote in self.votes if vote.master is not None)
        for name, votes in counts.items():
            if votes * 2 > self.total:
                return name
        return None

    def summary(self) -> str:
        counts = Counter(vote.master for vote in self.votes if vote.master is not None)
        named = ", ".join("%s: %d" % (name, votes) for name, votes in counts.most_common())
        return "%d of %d nodes answered (%s)" % (self.answered, self.total,
                                                 named or "no votes")

    def describe(self) -> str:
        return "; ".join(vote.describe() for vote in sorted(self.votes,
                                                            key=lambda v: v.node))


def node_addresses(data: ConfigData, port: int) -> list[NodeAddress]:
    """Every node of the configuration, in name order.

    Offline nodes are asked too (Ganeti contacts them for votes): a node
    that is really down only costs its connection failure.
    """
    nodes = sorted(data.nodes.values(), key=lambda node: ssconf.nice_sort_key(node.name))
    return [NodeAddress(node.name, node.primary_ip, port, False) for node in nodes]


def gather_votes(rpc: RpcClient, others: Sequence[NodeAddress], own: Vote, total: int,
                 timeout: float = VOTE_TIMEOUT) -> VoteTally:
    """Ask ``others`` whom they name as the master; ``own`` is this node's vote."""
    votes = [own]
    if others:
        for name, result in sorted(rpc.call("master_node_name", list(others),
                                            timeout=timeout).items()):
            if result.success:
                votes.append(Vote(name, str(result.payload)))
            else:
                votes.append(Vote(name, None, "%s: %s" % (result.kind, result.error)))
    return VoteTally(tuple(votes), total)


def _own_ssconf_vote(paths: pathutils.Paths, node_name: str) -> Vote:
    try:
        return Vote(node_name, ssconf.SimpleStore(paths).get_master_node())
    except (errors.GenericError, OSError) as err:
        return Vote(node_name, None, "its ssconf can't be read: %s" % err)


# -- configuration copies ---------------------------------------------------------------

@dataclass(frozen=True)
class ConfigCopy:
    """One node's config.data, parsed."""

    node: str
    raw: bytes
    data: ConfigData

    @property
    def serial(self) -> int:
        return int(self.data.serial_no)

    @property
    def master_name(self) -> str:
        return master_node_of(self.data).name


def master_node_of(data: ConfigData) -> Node:
    master = data.nodes.get(data.cluster.master_node)
    if master is None:
        raise errors.ConfigurationError("The configuration names master node %r, which is"
                                        " not one of its nodes" % data.cluster.master_node)
    node: Node = master
    return node


def find_node(data: ConfigData, name: str) -> Node | None:
    for node in data.nodes.values():
        if node.name == name:
            found: Node = node
            return found
    return None


def read_local_config(paths: pathutils.Paths, node_name: str) -> ConfigCopy:
    """This node's configuration copy; a node without one is not a candidate."""
    try:
        with open(paths.config_file, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        candidates = _ssconf_candidates(paths)
        raise errors.OpPrereqError(
            "This node (%s) has no configuration file %s: it is not a master candidate;"
            " run master-failover on a master candidate%s"
            % (node_name, paths.config_file,
               " (ssconf lists: %s)" % ", ".join(candidates) if candidates else ""),
            errors.ECODE_STATE) from None
    return ConfigCopy(node_name, raw, load_config_data(raw))


def _ssconf_candidates(paths: pathutils.Paths) -> list[str]:
    try:
        return ssconf.SimpleStore(paths).get_master_candidates()
    except (errors.GenericError, OSError):
        return []


def fetch_configs(rpc: RpcClient, nodes: Sequence[NodeAddress], cluster_uuid: str | None,
                  timeout: float = VOTE_TIMEOUT) -> tuple[list[ConfigCopy], list[str]]:
    """The configuration copies of ``nodes`` that belong to the same cluster.

    Returns the copies and one message per node whose copy could not be
    used (unreachable, unreadable, another cluster's).
    """
    copies: list[ConfigCopy] = []
    problems: list[str] = []
    if not nodes:
        return copies, problems
    for name, result in sorted(rpc.call("config_read", list(nodes), timeout=timeout).items()):
        if not result.success:
            problems.append("%s: configuration not read (%s: %s)"
                            % (name, result.kind, result.error))
            continue
        try:
            raw = encoding.decode(result.payload)
            copy = ConfigCopy(name, raw, load_config_data(raw))
        except errors.GenericError as err:
            problems.append("%s: configuration unusable: %s" % (name, err))
            continue
        if copy.data.cluster.uuid != cluster_uuid:
            problems.append("%s: configuration of another cluster (uuid %s, ours %s)"
                            % (name, copy.data.cluster.uuid, cluster_uuid))
            continue
        copies.append(copy)
    return copies, problems


def newest_config(local: ConfigCopy, others: Sequence[ConfigCopy]) -> ConfigCopy:
    """The copy with the highest serial number; on a tie, the local one."""
    best = local
    for copy in others:
        if copy.serial > best.serial:
            best = copy
    return best


# -- the failover -----------------------------------------------------------------------

@dataclass
class FailoverResult:
    """What ``master_failover`` did."""

    old_master: str
    new_master: str
    #: Node whose configuration copy was taken, and its serial number.
    config_source: str
    config_serial: int
    #: Serial number of the configuration that names the new master.
    new_serial: int
    tally: VoteTally | None
    #: Daemons stopped on the old master; None if it could not be reached.
    stopped_on_old_master: list[str] | None
    warnings: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)


def check_can_take_over(data: ConfigData, node_name: str) -> Node:
    """This node's entry in ``data``, if it may become the master; else OpPrereqError."""
    node = find_node(data, node_name)
    if node is None:
        raise errors.OpPrereqError("This node (%s) is not a node of the cluster's"
                                   " configuration" % node_name, errors.ECODE_NOENT)
    candidates = sorted(n.name for n in data.nodes.values()
                        if n.master_candidate and not n.offline)
    if not node.master_candidate:
        raise errors.OpPrereqError(
            "This node (%s) is not a master candidate; run master-failover on one of: %s"
            % (node_name, ", ".join(candidates) or "(none)"), errors.ECODE_STATE)
    if not node.master_capable:
        raise errors.OpPrereqError("This node (%s) is not master capable" % node_name,
                                   errors.ECODE_STATE)
    if node.offline:
        raise errors.OpPrereqError("This node (%s) is marked offline; it can't become"
                                   " the master" % node_name, errors.ECODE_STATE)
    return node


def _check_vote(tally: VoteTally, old_master: str, node_name: str) -> None:
    if tally.has_majority(old_master):
        return
    leader = tally.majority()
    if leader is not None:
        raise errors.OpPrereqError(
            "This node's configuration is out of date: it names %s as the master, but a"
            " majority of the nodes names %s (%s). Votes: %s"
            % (old_master, leader, tally.summary(), tally.describe()), errors.ECODE_STATE)
    raise errors.OpPrereqError(
        "No strict majority of the %d nodes agrees that %s is the master (%s), so this"
        " node (%s) can't safely take over. Votes: %s. Bring more nodes back, or, on a"
        " two-node cluster or if you are sure the other nodes are down, use --no-voting"
        % (tally.total, old_master, tally.summary(), node_name, tally.describe()),
        errors.ECODE_STATE)


def master_failover(paths: pathutils.Paths, node_name: str, *, no_voting: bool = False,
                    noded_port: int = constants.DEFAULT_NODED_PORT,
                    feedback: FeedbackFn | None = None, start_daemons: bool = True,
                    vote_timeout: float = VOTE_TIMEOUT,
                    rpc: RpcClient | None = None) -> FailoverResult:
    """Make ``node_name`` (this node) the master; see the module doc for the steps.

    Refusals (not a candidate, already the master, no majority) raise
    OpPrereqError and change nothing.
    """
    say = _feedback(feedback)
    local = read_local_config(paths, node_name)
    check_can_take_over(local.data, node_name)
    own_rpc = rpc is None
    client = rpc if rpc is not None else RpcClient(paths)
    try:
        return _failover(paths, node_name, local, client, no_voting=no_voting,
                         port=noded_port, say=say, start_daemons=start_daemons,
                         vote_timeout=vote_timeout)
    finally:
        if own_rpc:
            client.close()


def _feedback(feedback: FeedbackFn | None) -> FeedbackFn:
    def say(message: str) -> None:
        logger.info("%s", message)
        if feedback is not None:
            feedback(message)
    return say


def _other_candidates(data: ConfigData, node_name: str, port: int) -> list[NodeAddress]:
    candidates = {node.name for node in data.nodes.values() if node.master_candidate}
    return [address for address in node_addresses(data, port)
            if address.name != node_name and address.name in candidates]


def _failover(paths: pathutils.Paths, node_name: str, local: ConfigCopy, rpc: RpcClient, *,
              no_voting: bool, port: int, say: FeedbackFn, start_daemons: bool,
              vote_timeout: float) -> FailoverResult:
    warnings: list[str] = []
    cluster_uuid = local.data.cluster.uuid
    copies, problems = fetch_configs(rpc, _other_candidates(local.data, node_name, port),
                                     cluster_uuid, vote_timeout)
    warnings.extend(problems)
    best = newest_config(local, copies)
    old_master = best.master_name
    if old_master == node_name:
        raise errors.OpPrereqError(
            "This node (%s) is already the master according to the newest configuration"
            " (serial %d, from %s); if its master daemon is not running, start it with"
            " 'daemon-util start %s'" % (node_name, best.serial, best.node, constants.MASTERD),
            errors.ECODE_STATE)
    check_can_take_over(best.data, node_name)
    say("Newest configuration: serial %d, from %s (this node's: %d); current master: %s"
        % (best.serial, best.node, local.serial, old_master))

    tally: VoteTally | None = None
    if no_voting:
        logger.warning("Master failover to %s WITHOUT voting (--no-voting): the other"
                       " nodes were not asked whom they consider the master", node_name)
        say("Voting skipped (--no-voting)")
    else:
        everyone = node_addresses(best.data, port)
        tally = gather_votes(rpc, [a for a in everyone if a.name != node_name],
                             _own_ssconf_vote(paths, node_name), len(everyone), vote_timeout)
        logger.info("Master votes: %s", tally.describe())
        _check_vote(tally, old_master, node_name)
        say("Vote passed: %d of %d nodes name %s as the master"
            % (tally.count(old_master), tally.total, old_master))

    _deactivate_old_master_ip(rpc, best.data, old_master, port, say, warnings)
    stopped = _stop_old_master(rpc, best.data, old_master, port, say, warnings)
    if stopped is not None:
        # Stopped now, it can't save any more: its last word may be newer.
        again, problems = fetch_configs(rpc, [a for a in node_addresses(best.data, port)
                                              if a.name == old_master],
                                        cluster_uuid, vote_timeout)
        warnings.extend(problems)
        best = newest_config(best, again)
        if best.master_name != old_master:
            raise errors.OpExecError("The configuration changed during the failover: it now"
                                     " names %s as the master" % best.master_name)
        _take_drain_flag(paths, rpc, best.data, node_name, old_master, port, say, warnings)

    cfg = _write_as_master(paths, best, node_name)
    new_serial = cfg.get_config_serial()
    say("Configuration serial %d now names %s as the master" % (new_serial, node_name))
    warnings.extend(_distribute(paths, node_name, cfg, rpc, port, say))
    result = FailoverResult(old_master=old_master, new_master=node_name,
                            config_source=best.node, config_serial=best.serial,
                            new_serial=new_serial, tally=tally,
                            stopped_on_old_master=stopped, warnings=warnings)
    if start_daemons:
        result.started = start_master_daemons(paths, no_voting, port, say)
    return result


def _deactivate_old_master_ip(rpc: RpcClient, data: ConfigData, old_master: str, port: int,
                              say: FeedbackFn, warnings: list[str]) -> None:
    """Take the master IP down on the old master if it answers (the new master's
    masterd brings it up at start-up); an unreachable old master is a warning."""
    from ganeti.cmdlib.cluster_masterip import change_master_ip

    address = [a for a in node_addresses(data, port) if a.name == old_master]
    if not address or not data.cluster.master_netdev:
        return
    result = change_master_ip(rpc, address[0], data.cluster, False, timeout=VOTE_TIMEOUT)
    if result.success:
        say("Old master %s: %s" % (old_master, result.payload))
        return
    message = ("Could not deactivate the master IP %s on the old master %s (%s: %s); if"
               " it comes back, remove the address there by hand"
               % (data.cluster.master_ip, old_master, result.kind, result.error))
    logger.warning("%s", message)
    say("Warning: " + message)
    warnings.append(message)


def _stop_old_master(rpc: RpcClient, data: ConfigData, old_master: str, port: int,
                     say: FeedbackFn, warnings: list[str]) -> list[str] | None:
    address = [a for a in node_addresses(data, port) if a.name == old_master]
    result = rpc.call("node_stop_master", address)[old_master]
    if result.success:
        stopped = list(result.payload)
        say("Old master %s: %s" % (old_master, "stopped " + ", ".join(stopped) if stopped
                                   else "no master daemon was running"))
        return stopped
    message = ("Could not stop the master daemons on the old master %s (%s: %s); when it"
               " comes back its master daemon refuses to start, as the majority of the"
               " nodes names the new master" % (old_master, result.kind, result.error))
    logger.warning("%s", message)
    say("Warning: " + message)
    warnings.append(message)
    return None


def _take_drain_flag(paths: pathutils.Paths, rpc: RpcClient, data: ConfigData,
                     node_name: str, old_master: str, port: int, say: FeedbackFn,
                     warnings: list[str]) -> None:
    """Make the queue's drain flag the old master's, here and on the other candidates.

    A flag left on this node alone (e.g. by hand) must not outlive the
    failover; a queue the administrator drained stays drained.
    """
    addresses = node_addresses(data, port)
    result = rpc.call("jobqueue_get_drain_flag",
                      [a for a in addresses if a.name == old_master])[old_master]
    if not result.success:
        warnings.append("Could not read the old master's job queue drain flag (%s); this"
                        " node's flag is kept" % result.error)
        return
    drained = bool(result.payload)
    if drained != os.path.exists(paths.queue_drain_file):
        say("Job queue drain flag %s, as on the old master"
            % ("set" if drained else "cleared"))
    if drained:
        os.makedirs(paths.queue_dir, mode=0o700, exist_ok=True)
        io.write_file_atomic(paths.queue_drain_file, b"", mode=0o600)
    elif os.path.exists(paths.queue_drain_file):
        os.unlink(paths.queue_drain_file)
    others = _other_candidates(data, node_name, port)
    if others:
        for name, outcome in rpc.call("jobqueue_set_drain_flag", others, [drained]).items():
            if not outcome.success:
                warnings.append("Setting the job queue drain flag on %s failed: %s"
                                % (name, outcome.error))


def _write_as_master(paths: pathutils.Paths, best: ConfigCopy, node_name: str
                     ) -> ConfigWriter:
    if best.node != node_name:
        io.write_file_atomic(paths.config_file, best.raw, mode=0o600)
    cfg = ConfigWriter(paths.config_file)
    with cfg.locked():
        node = cfg.get_node_info_by_name(node_name)
        cluster = cfg.get_cluster_info()
        cluster.master_node = str(node.uuid)
        cfg.update(cluster)
    return cfg


def _distribute(paths: pathutils.Paths, node_name: str, cfg: ConfigWriter, rpc: RpcClient,
                port: int, say: FeedbackFn) -> list[str]:
    """Push config and ssconf (and the other replicated files) to every node."""
    from ganeti.cmdlib.cluster_redist import redistribute_config
    from ganeti.context import MasterContext

    context = MasterContext.build(paths, node_name, cfg=cfg, rpc=rpc, noded_port=port)
    failures = redistribute_config(context, None, lambda msg: say("Warning: " + msg))
    say("Configuration and ssconf distributed to the nodes%s"
        % (" (%d failure(s))" % len(failures) if failures else ""))
    return failures


def start_master_daemons(paths: pathutils.Paths, no_voting: bool, port: int,
                         say: FeedbackFn) -> list[str]:
    """Start masterd, then RAPI if installed, through daemon-util.

    masterd failing to start raises OpExecError; RAPI failing is a warning.
    """
    from ganeti.server import daemon_util

    masterd_args = ["--noded-port", str(port)] if port != constants.DEFAULT_NODED_PORT else []
    if no_voting:
        # Passed on explicitly: a flag lost on the way leaves the cluster without master.
        masterd_args += ["--no-voting", "--yes-do-it"]
    env = dict(os.environ)
    env[pathutils.ROOTDIR_ENV] = paths.root
    started = []
    for name, args in ((constants.MASTERD, masterd_args), (constants.RAPI, [])):
        if name != constants.MASTERD and not os.path.isfile(
                os.path.join(os.path.dirname(daemon_util.find_daemon_util()), name)):
            continue
        outcome = daemon_util.run(["start", name, *args], env=env,
                                  timeout=DAEMON_START_TIMEOUT)
        if outcome.returncode != 0 and name != constants.MASTERD:
            say("Warning: could not start %s: %s" % (name, (outcome.stderr or outcome.stdout)
                                                      .strip() or outcome.returncode))
            continue
        if outcome.returncode != 0:
            raise errors.OpExecError(
                "Could not start %s on this node: %s. The configuration already names this"
                " node the master; fix the problem and run 'daemon-util start %s%s'"
                % (name, (outcome.stderr or outcome.stdout).strip() or "exit status %d"
                   % outcome.returncode, name, "".join(" " + arg for arg in args)))
        say("Started %s" % name)
        started.append(name)
    return started


# -- masterd's start-up vote ---------------------------------------------------------------

class NotMajorityMasterError(errors.GenericError):
    """The nodes do not (or not by a strict majority) name this node as the master."""


def check_startup_vote(cfg: ConfigWriter, paths: pathutils.Paths, node_name: str,
                       port: int = constants.DEFAULT_NODED_PORT,
                       wait: float = STARTUP_VOTE_WAIT,
                       vote_timeout: float = VOTE_TIMEOUT) -> VoteTally | None:
    """Raise NotMajorityMasterError unless a strict majority of the nodes names us.

    This node's own vote counts (its configuration and ssconf name it).
    While too few nodes answer, ask again for up to ``wait`` seconds; a
    strict majority naming another node refuses at once, after adopting
    that master's configuration and ssconf when it can be read. A
    one-node cluster needs no vote (returns None).
    """
    with cfg.locked() as data:
        everyone = node_addresses(data, port)
    others = [address for address in everyone if address.name != node_name]
    if not others:
        return None
    deadline = time.monotonic() + wait
    with RpcClient(paths) as rpc:
        while True:
            tally = gather_votes(rpc, others, Vote(node_name, node_name), len(everyone),
                                 vote_timeout)
            if tally.has_majority(node_name):
                return tally
            leader = tally.majority()
            if leader is not None:
                adopted = adopt_majority_view(rpc, cfg, paths, leader, port)
                raise NotMajorityMasterError(
                    "this node (%s) is not the master: a majority of the nodes names %s (%s;"
                    " votes: %s); refusing to act as a second master.%s"
                    % (node_name, leader, tally.summary(), tally.describe(), adopted))
            if time.monotonic() >= deadline:
                raise NotMajorityMasterError(
                    "no strict majority of the %d nodes confirms that this node (%s) is the"
                    " master (%s; votes: %s). Start the other nodes' node daemons, or, if"
                    " you are sure this node must be the master (e.g. a two-node cluster"
                    " with the other node down), start %s with --no-voting --yes-do-it"
                    % (tally.total, node_name, tally.summary(), tally.describe(),
                       constants.MASTERD))
            time.sleep(VOTE_RETRY_INTERVAL)


def adopt_majority_view(rpc: RpcClient, cfg: ConfigWriter, paths: pathutils.Paths,
                        leader: str, port: int) -> str:
    """Take the majority master's configuration and ssconf; a sentence saying what happened.

    Only a copy of the same cluster, not older than ours and naming
    ``leader`` as its master, replaces this node's files.
    """
    with cfg.locked() as data:
        addresses = [a for a in node_addresses(data, port) if a.name == leader]
        cluster_uuid = data.cluster.uuid
        own_serial = int(data.serial_no)
    if not addresses:
        return " The master named by the majority is not in this node's configuration."
    copies, problems = fetch_configs(rpc, addresses, cluster_uuid)
    if not copies:
        return " Its configuration could not be read (%s)." % "; ".join(problems)
    copy = copies[0]
    if copy.master_name != leader or copy.serial < own_serial:
        return (" Its configuration (serial %d, master %s) was not adopted."
                % (copy.serial, copy.master_name))
    try:
        values = ssconf.compute_values(copy.data)
        io.write_file_atomic(paths.config_file, copy.raw, mode=0o600)
        ssconf.write_files(values, paths)
    except (OSError, errors.GenericError) as err:
        return " Adopting its configuration failed: %s." % err
    logger.warning("Adopted the configuration (serial %d) and ssconf of master %s",
                   copy.serial, leader)
    return (" This node's configuration and ssconf were updated from %s (serial %d)."
            % (leader, copy.serial))
