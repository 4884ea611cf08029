"""RedistributeConfig (Ganeti 2.1's design): keep the replicated files in sync.

``redistribute_config`` sends, from the master's own files:

- ssconf (``write_ssconf_files``) to every online node, first, because a
  node's upload allow-list includes the extra files listed in ssconf;
- ``config.data`` to the master candidates;
- the RAPI certificate and users file to the master candidates;
- each enabled hypervisor's ancillary files to every node;
- the cluster's ``redistribute_files``, each to all nodes or to the master
  candidates only.

A source file missing on the master is skipped (the RAPI users file is
optional, as in Ganeti). A node that fails gets a warning naming the node,
the file and the cause; the other nodes still get their copies.

``install_save_hook`` makes masterd push config.data and ssconf after every
configuration save, as Ganeti's config writer does, in rounds shared by
concurrent saves (``ConfigPusher``); ssconf only when a value changed.
"""

from __future__ import annotations

import grp
import logging
import os
import pwd
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ganeti import errors, locking, opcodes, pathutils, ssconf
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import FeedbackFn, NoHooksLU
from ganeti.config import ConfigWriter
from ganeti.rpc import encoding
from ganeti.rpc.client import NodeAddress

if TYPE_CHECKING:
    from ganeti.context import MasterContext

logger = logging.getLogger("ganeti.redist")

#: Paths on a node rooted at "/": the names upload_file and node_verify take.
CLUSTER_PATHS = pathutils.for_root("/")

#: Where a file goes.
TO_ALL = ssconf.REDISTRIBUTE_TO_ALL
TO_CANDIDATES = ssconf.REDISTRIBUTE_TO_CANDIDATES


def cluster_path(node_path: str, paths: pathutils.Paths) -> str:
    """The cluster path (as on a node rooted at "/") of a path under ``paths.root``."""
    relative = os.path.relpath(os.path.normpath(node_path), paths.root)
    if relative.startswith(".."):
        raise errors.ProgrammerError("%s is not under the node root %s" % (node_path, paths.root))
    return "/" + relative if relative != "." else "/"


def local_path(cluster_file: str, paths: pathutils.Paths) -> str:
    """Where a cluster path lives under ``paths.root``."""
    return os.path.normpath(os.path.join(paths.root, cluster_file.lstrip("/")))


@dataclass(frozen=True)
class ReplicatedFiles:
    """The cluster paths of the replicated files, by the nodes that hold them.

    ``optional`` files may be absent everywhere (but must then be absent on
    every node that should hold them).
    """

    all_nodes: frozenset[str]
    candidates: frozenset[str]
    optional: frozenset[str] = field(default_factory=frozenset)


def _hypervisor_files(enabled: Iterable[str], paths: pathutils.Paths
                      ) -> tuple[set[str], set[str]]:
    """(files, optional files) the enabled hypervisors declare, as cluster paths."""
    from ganeti import hypervisor

    files: set[str] = set()
    optional: set[str] = set()
    for name in enabled:
        for path, is_optional in hypervisor.get_hypervisor(name, paths).ancillary_files():
            files.add(cluster_path(path, paths))
            if is_optional:
                optional.add(cluster_path(path, paths))
    return files, optional


def ancillary_files(cfg: ConfigWriter, paths: pathutils.Paths) -> ReplicatedFiles:
    """The files RedistributeConfig sends besides config.data and ssconf."""
    with cfg.locked():
        cluster = cfg.get_cluster_info()
        enabled = list(cluster.enabled_hypervisors)
        extra = [(entry["nodes"], entry["path"]) for entry in cluster.redistribute_files]
    hv_files, hv_optional = _hypervisor_files(enabled, paths)
    all_nodes = set(hv_files) | {path for target, path in extra if target == TO_ALL}
    candidates = {CLUSTER_PATHS.rapi_cert_file, CLUSTER_PATHS.rapi_users_file}
    candidates |= {path for target, path in extra if target == TO_CANDIDATES}
    optional = hv_optional | {CLUSTER_PATHS.rapi_users_file}
    return ReplicatedFiles(frozenset(all_nodes), frozenset(candidates - all_nodes),
                           frozenset(optional))


def _owner_name(uid: int, gid: int) -> tuple[str | int, str | int]:
    """Owner and group by name where they have one (ids differ between nodes)."""
    user: str | int = uid
    group: str | int = gid
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        pass
    try:
        group = grp.getgrgid(gid).gr_name
    except KeyError:
        pass
    return user, group


def _upload_args(source: str, cluster_file: str) -> list[Any] | None:
    """upload_file's arguments for the master's copy, None if it has none."""
    try:
        with open(source, "rb") as handle:
            content = handle.read()
            info = os.fstat(handle.fileno())
    except FileNotFoundError:
        return None
    user, group = _owner_name(info.st_uid, info.st_gid)
    return [cluster_file, encoding.encode(content), info.st_mode & 0o7777, user, group,
            info.st_atime, info.st_mtime]


class Distributor:
    """Sends files to nodes through RPC, collecting one message per failure."""

    def __init__(self, context: MasterContext, feedback_fn: Callable[[str], None] | None):
        self.context = context
        self.feedback_fn = feedback_fn
        self.failures: list[str] = []

    def warn(self, message: str) -> None:
        self.failures.append(message)
        logger.warning("%s", message)
        if self.feedback_fn is not None:
            self.feedback_fn(message)

    def upload(self, cluster_file: str, nodes: list[NodeAddress]) -> None:
        targets = [node for node in nodes if not node.offline]
        if not targets:
            return
        args = _upload_args(local_path(cluster_file, self.context.paths), cluster_file)
        if args is None:
            return
        results = self.context.rpc.call("upload_file", targets, args)
        for result in results.values():
            if not result.success:
                self.warn("Copy of file %s to node %s failed: %s"
                           % (cluster_file, result.node, result.error))

    def write_ssconf(self, values: dict[str, str], nodes: list[NodeAddress]) -> None:
        targets = [node for node in nodes if not node.offline]
        if not targets:
            return
        results = self.context.rpc.call("write_ssconf_files", targets, [values])
        for result in results.values():
            if not result.success:
                self.warn("Writing ssconf files on node %s failed: %s"
                           % (result.node, result.error))


@dataclass
class _Targets:
    master: str
    values: dict[str, str]
    all_nodes: list[NodeAddress]
    candidates: list[NodeAddress]


def _targets(context: MasterContext, nodes: Iterable[str] | None) -> _Targets:
    cfg = context.cfg
    with cfg.locked() as data:
        wanted = None
        if nodes is not None:
            wanted = set()
            for item in nodes:
                node = cfg.find_node(item)
                if node is None:
                    raise errors.OpPrereqError("Node '%s' is not known" % item,
                                               errors.ECODE_NOENT)
                wanted.add(node.name)
        master = cfg.get_master_node_info().name
        values = ssconf.compute_values(data)
        all_nodes, candidates = [], []
        for node in sorted(data.nodes.values(), key=lambda n: ssconf.nice_sort_key(n.name)):
            if node.offline or (wanted is not None and node.name not in wanted):
                continue
            address = NodeAddress(node.name, node.primary_ip, context.noded_port, False)
            all_nodes.append(address)
            if node.master_candidate:
                candidates.append(address)
    return _Targets(master, values, all_nodes, candidates)


def _write_own_ssconf(context: MasterContext, values: dict[str, str],
                      distributor: Distributor) -> None:
    try:
        ssconf.write_files(values, context.paths)
    except (OSError, errors.GenericError) as err:
        distributor.warn("Writing the master's own ssconf files failed: %s" % err)


def distribute_config_and_ssconf(context: MasterContext,
                                 feedback_fn: Callable[[str], None] | None = None
                                 ) -> list[str]:
    """Push ssconf to every online node and config.data to the master candidates.

    The master writes its own ssconf directly; returns the failure messages.
    """
    return _distribute(context, _targets(context, None), feedback_fn)


def _distribute(context: MasterContext, targets: _Targets,
                feedback_fn: Callable[[str], None] | None = None,
                with_ssconf: bool = True) -> list[str]:
    distributor = Distributor(context, feedback_fn)
    others = [node for node in targets.all_nodes if node.name != targets.master]
    candidates = [node for node in targets.candidates if node.name != targets.master]
    # config.data and ssconf are independent: send them side by side.
    upload_errors: list[BaseException] = []

    def upload() -> None:
        try:
            distributor.upload(CLUSTER_PATHS.config_file, candidates)
        except BaseException as err:  # re-raised in the caller's thread below
            upload_errors.append(err)

    uploader = threading.Thread(target=upload, name="config-upload", daemon=True)
    uploader.start()
    try:
        if with_ssconf:
            _write_own_ssconf(context, targets.values, distributor)
            distributor.write_ssconf(targets.values, others)
    finally:
        uploader.join()
    if upload_errors:
        raise upload_errors[0]
    return distributor.failures


def redistribute_config(context: MasterContext, nodes: Iterable[str] | None = None,
                        feedback_fn: Callable[[str], None] | None = None) -> list[str]:
    """RedistributeConfig to ``nodes`` (names or UUIDs; None: every node).

    Returns one message per failed copy (also logged and passed to
    ``feedback_fn``); unknown node names raise OpPrereqError.
    """
    targets = _targets(context, nodes)
    distributor = Distributor(context, feedback_fn)
    if nodes is None or targets.master in {n.name for n in targets.all_nodes}:
        _write_own_ssconf(context, targets.values, distributor)
    others = [node for node in targets.all_nodes if node.name != targets.master]
    other_candidates = [node for node in targets.candidates if node.name != targets.master]
    distributor.write_ssconf(targets.values, others)
    distributor.upload(CLUSTER_PATHS.config_file, other_candidates)
    files = ancillary_files(context.cfg, context.paths)
    for cluster_file in sorted(files.all_nodes):
        distributor.upload(cluster_file, others)
    for cluster_file in sorted(files.candidates):
        distributor.upload(cluster_file, other_candidates)
    return distributor.failures


class ConfigPusher:
    """Pushes config.data and ssconf after saves, in shared rounds.

    ``push(serial)`` returns once a round that started after the save of
    ``serial`` has finished: a thread that finds no round under way leads
    one (with the newest configuration), threads arriving meanwhile wait
    and the next of them leads the following round, which covers them all.
    ssconf is sent only when a value changed since the last round that
    reached every node (instance creations change only the instance list;
    starts and stops change nothing there); config.data goes to the
    candidates every round.
    """

    def __init__(self, context: MasterContext) -> None:
        self.context = context
        self._cond = threading.Condition()
        self._running = False
        self._pushed_serial = -1
        self._ssconf_sent: dict[str, str] | None = None
        self.rounds = 0  # for tests and benchmarks

    def push(self, serial: int) -> None:
        """Return once the configuration of ``serial`` (or newer) was pushed."""
        with self._cond:
            while True:
                if self._pushed_serial >= serial:
                    return
                if not self._running:
                    self._running = True
                    break
                self._cond.wait()
        pushed = -1
        try:
            pushed = self._round()
        finally:
            with self._cond:
                self._running = False
                self._pushed_serial = max(self._pushed_serial, pushed)
                self.rounds += 1
                self._cond.notify_all()

    def _round(self) -> int:
        # What is on disk now (config.data is read later, so it is at least
        # this new); the in-memory serial may be ahead by saves being written.
        durable = self.context.cfg.durable_serial()
        targets = _targets(self.context, None)
        with_ssconf = targets.values != self._ssconf_sent
        failures = _distribute(self.context, targets, with_ssconf=with_ssconf)
        if with_ssconf:
            # After a failure the next round sends ssconf again.
            self._ssconf_sent = None if failures else targets.values
        return durable


def install_save_hook(context: MasterContext) -> ConfigPusher:
    """After every save, push config.data and ssconf (failures are logged only:
    the save itself stands, and ``gnt-cluster verify`` reports stale copies)."""
    pusher = ConfigPusher(context)

    def after_save(writer: ConfigWriter) -> None:
        try:
            # The save is on disk by now: push at least what the disk holds.
            pusher.push(writer.durable_serial())
        except Exception:  # a save must never fail because a node is unreachable
            logger.exception("Distributing the configuration after a save failed")

    context.cfg.add_save_hook(after_save)
    return pusher


@lu_for(opcodes.OpClusterRedistConf)
class LUClusterRedistConf(NoHooksLU):
    """Force the push of the configuration and the replicated files to every node."""

    REQ_BGL = False

    def expand_names(self) -> None:
        self.needed_locks = {locking.LEVEL_NODE: locking.ALL_SET}
        self.share_locks[locking.LEVEL_NODE] = True

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        failures = redistribute_config(self.context, None, self.log_warning)
        if failures:
            self.log_warning("%d cop%s failed; see the messages above"
                             % (len(failures), "y" if len(failures) == 1 else "ies"))
        return None
