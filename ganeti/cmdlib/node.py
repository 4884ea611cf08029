"""Node logical units: add (SSH bootstrap), remove, change roles and parameters.

The master candidate pool follows Ganeti's rules: a node may be a candidate
when it is master capable, online and not drained; the cluster wants
``min(candidate_pool_size, eligible nodes)`` candidates. Adding a node or
bringing one back promotes it when the pool is short; demoting a candidate
(directly, or by offlining/draining it) is refused if the pool would fall
short, unless ``auto_promote`` promotes other nodes in its place. The master
is always a candidate and its role changes only through master failover.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import Any

from ganeti import constants, errors, locking, netutils, objects, opcodes, paramdefs, ssconf
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import FeedbackFn, LogicalUnit, require_nodegroup
from ganeti.config import ConfigWriter
from ganeti.rpc.client import NodeAddress

#: The remote command of a node join (its input comes on stdin).
NODE_JOIN_MODULE = "ganeti.tools.node_join"
#: Seconds a new node's daemon gets to answer after node_join started it.
NODED_READY_TIMEOUT = 30.0


# -- master candidate pool ----------------------------------------------------------------

def eligible_for_candidate(node: objects.Node) -> bool:
    return bool(node.master_capable and not node.offline and not node.drained)


def candidate_stats(nodes: Iterable[objects.Node], pool_size: int) -> tuple[int, int]:
    """(current candidates, wanted candidates) among ``nodes``."""
    nodes = list(nodes)
    current = sum(1 for node in nodes if node.master_candidate)
    eligible = sum(1 for node in nodes if eligible_for_candidate(node))
    return current, min(pool_size, eligible)


def promotion_order(nodes: Iterable[objects.Node], exclude: Iterable[str] = ()
                    ) -> list[objects.Node]:
    """Eligible non-candidates, in name order: who gets promoted first."""
    skip = set(exclude)
    return sorted((node for node in nodes if node.uuid not in skip
                   and not node.master_candidate and eligible_for_candidate(node)),
                  key=lambda node: ssconf.nice_sort_key(node.name))


def set_candidate(cluster: objects.Cluster, node: objects.Node, candidate: bool,
                  client_cert_digest: str | None = None) -> None:
    """Flip a node's candidate flag and keep the cluster's candidate_certs in step."""
    node.master_candidate = candidate
    assert node.uuid is not None
    if candidate and client_cert_digest:
        cluster.candidate_certs[node.uuid] = client_cert_digest
    elif not candidate:
        cluster.candidate_certs.pop(node.uuid, None)


def push_config(lu: LogicalUnit, new_nodes: Iterable[str] = ()) -> None:
    """Send ``new_nodes`` (newly added or promoted) every replicated file and start
    their confd; failures are warnings. (config.data and ssconf reach every node
    after each save through masterd's save hook, so they are not sent again here.)"""
    from ganeti.cmdlib import cluster_redist

    new_nodes = list(new_nodes)
    if not new_nodes:
        return
    failures = cluster_redist.redistribute_config(lu.context, nodes=new_nodes)
    for failure in failures:
        lu.log_warning("%s", failure)
    # A new candidate serves confd too (its ssconf did not list it when it joined).
    for uuid in new_nodes:
        node = lu.cfg.get_node_info(uuid)
        if node.master_candidate and not node.offline:
            result = lu.rpc.call_one("node_ensure_daemon", _node_address(lu, node),
                                     [constants.CONFD, True])
            if not result.success:
                lu.log_warning("Could not start confd on %s: %s", node.name, result.error)


def demote_from_candidate(lu: LogicalUnit, node: objects.Node) -> None:
    """Tell a node it is no longer a master candidate (drops config.data, stops confd)."""
    if node.offline:
        return
    result = lu.rpc.call_one("node_demote_from_mc", _node_address(lu, node), [])
    if not result.success:
        lu.log_warning("Node %s could not drop its candidate files (remove config.data "
                       "there by hand): %s", node.name, result.error)


def _node_address(lu: LogicalUnit, node: objects.Node) -> NodeAddress:
    return NodeAddress(node.name, node.primary_ip, lu.context.noded_port, bool(node.offline))


def _check_ndparams(cfg: ConfigWriter, ndparams: dict[str, Any] | None,
                    group: objects.NodeGroup, owner: str) -> dict[str, Any]:
    """Filled node parameters; bad names or values become OpPrereqError."""
    probe = objects.Node(name=owner, ndparams=dict(ndparams or {}))
    try:
        return cfg.get_cluster_info().fill_ndparams(probe, group)
    except errors.ParameterError as err:
        raise errors.OpPrereqError("Invalid node parameters for %s: %s" % (owner, err),
                                   errors.ECODE_INVAL) from err


def _lookup_group(cfg: ConfigWriter, name: str | None) -> objects.NodeGroup:
    if name:
        return require_nodegroup(cfg, name)
    groups = cfg.get_nodegroups()
    if len(groups) != 1:
        raise errors.OpPrereqError("There are %d node groups (%s); name the one for the node"
                                   " (--node-group)" % (len(groups), ", ".join(
                                       sorted(g.name for g in groups.values()))),
                                   errors.ECODE_INVAL)
    return next(iter(groups.values()))


# -- add ---------------------------------------------------------------------------------

@lu_for(opcodes.OpNodeAdd)
class LUNodeAdd(LogicalUnit):
    """Bootstrap a machine over SSH and add it to the cluster (or re-add it)."""

    HPATH = "node-add"
    HTYPE = constants.HTYPE_NODE

    def check_arguments(self) -> None:
        try:
            self.node_name, resolved_ip = netutils.resolve(self.op.node_name,
                                                           self.context.paths)
        except errors.ResolverError as err:
            raise errors.OpPrereqError("Node %s: %s" % (self.op.node_name, err),
                                       errors.ECODE_RESOLVER) from err
        self.primary_ip = self.op.get("primary_ip") or resolved_ip
        self.secondary_ip = self.op.get("secondary_ip") or self.primary_ip
        for what, address in (("primary", self.primary_ip), ("secondary", self.secondary_ip)):
            if not netutils.is_valid_ip(address):
                raise errors.OpPrereqError("Node %s: %s IP %r is not a valid IP address"
                                           % (self.node_name, what, address),
                                           errors.ECODE_INVAL)

    def expand_names(self) -> None:
        # The BGL, held exclusively, covers the configuration change.
        self.needed_locks = {}

    def check_prereq(self) -> None:
        cfg = self.cfg
        existing = cfg.find_node(self.node_name)
        readd = bool(self.op.readd)
        if existing is not None and not readd:
            raise errors.OpPrereqError("Node %s is already in the configuration (use --readd"
                                       " for a reinstalled node)" % self.node_name,
                                       errors.ECODE_EXISTS)
        if existing is None and readd:
            raise errors.OpPrereqError("Node %s is not in the configuration; --readd is only"
                                       " for nodes of this cluster" % self.node_name,
                                       errors.ECODE_NOENT)
        if existing is not None and existing.uuid == cfg.get_master_node():
            raise errors.OpPrereqError("Node %s is the master node; it cannot be re-added"
                                       % self.node_name, errors.ECODE_INVAL)
        self.existing = existing
        with cfg.locked() as data:
            for other in data.nodes.values():
                if existing is not None and other.uuid == existing.uuid:
                    continue
                taken = {other.primary_ip, other.secondary_ip or other.primary_ip}
                clash = taken & {self.primary_ip, self.secondary_ip}
                if clash:
                    raise errors.OpPrereqError(
                        "IP address(es) %s of new node %s are already used by node %s"
                        % (", ".join(sorted(clash)), self.node_name, other.name),
                        errors.ECODE_NOTUNIQUE)
        if existing is not None:
            if existing.primary_ip != self.primary_ip:
                raise errors.OpPrereqError(
                    "Re-added node %s has primary IP %s, the configuration %s"
                    % (self.node_name, self.primary_ip, existing.primary_ip),
                    errors.ECODE_INVAL)
            self.group = cfg.get_nodegroup(existing.group) if not self.op.get("group") \
                else _lookup_group(cfg, self.op.group)
        else:
            self.group = _lookup_group(cfg, self.op.get("group"))
        ndparams = self.op.get("ndparams")
        if ndparams is None and existing is not None:
            ndparams = existing.ndparams
        self.ndparams = dict(ndparams or {})
        self.filled_ndparams = _check_ndparams(cfg, self.ndparams, self.group, self.node_name)

    def build_hooks_env(self) -> dict[str, Any]:
        return {"OP_TARGET": self.node_name, "NODE_NAME": self.node_name,
                "NODE_PIP": self.primary_ip, "NODE_SIP": self.secondary_ip,
                "MASTER_CAPABLE": str(self._flag("master_capable")),
                "VM_CAPABLE": str(self._flag("vm_capable"))}

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        master = self.cfg.get_master_node()
        return [master], [master]

    def _flag(self, name: str) -> bool:
        value = self.op.get(name)
        if value is None:
            return bool(getattr(self.existing, name)) if self.existing is not None else True
        return bool(value)

    # -- exec --------------------------------------------------------------------------

    def _join_data(self, client_pem: bytes) -> dict[str, Any]:
        paths = self.context.paths
        with self.cfg.locked() as data:
            values = ssconf.compute_values(data)
        join = {
            "cluster_name": self.cfg.get_cluster_name(),
            "node_name": self.node_name,
            "server_pem": _read_text(paths.server_cert_file),
            "client_pem": client_pem.decode("ascii"),
            "confd_hmac_key": _read_text(paths.confd_hmac_key_file),
            "ssconf": values,
            "noded_bind": self.primary_ip,
            "noded_port": self.context.noded_port,
            "readd": bool(self.op.readd),
        }
        for key, path in (("cluster_domain_secret", paths.cluster_domain_secret_file),
                          ("known_hosts", paths.known_hosts_file)):
            try:
                join[key] = _read_text(path)
            except errors.OpExecError:
                continue
        return join

    def _bootstrap(self, client_pem: bytes) -> dict[str, Any]:
        """Run node_join over SSH; its answer, or OpExecError saying what failed."""
        from ganeti import serializer, ssh

        paths = self.context.paths
        port = int(self.filled_ndparams[paramdefs.ND_SSH_PORT])
        stdin = serializer.dump(self._join_data(client_pem)).encode("utf-8")
        command = "%s -m %s" % (sys.executable, NODE_JOIN_MODULE)
        self.log_info("Bootstrapping node %s over SSH (%s port %d)", self.node_name,
                      self.primary_ip, port)
        try:
            result = ssh.run_command(self.primary_ip, port, command,
                                     key_file=paths.ssh_key_file,
                                     known_hosts_file=paths.known_hosts_file,
                                     host_name=self.node_name, stdin_data=stdin,
                                     accept_new_host_key=bool(self.op.accept_new_host_key))
        except ssh.SshError as err:
            raise errors.OpExecError("Node %s: %s" % (self.node_name, err)) from err
        answer: Any = None
        for line in reversed(result.stdout.strip().splitlines()):
            try:
                answer = serializer.load(line)
                break
            except ValueError:
                continue
        if not isinstance(answer, dict):
            raise errors.OpExecError(
                "Node %s: node_join gave no answer (exit status %d): %s"
                % (self.node_name, result.exit_status,
                   (result.stderr.strip() or result.stdout.strip() or "no output")[-2000:]))
        if not answer.get("success"):
            raise errors.OpExecError("Node %s: node_join failed: %s"
                                     % (self.node_name, answer.get("error", "unknown error")))
        return answer

    def _wait_noded(self, address: NodeAddress) -> None:
        deadline = time.monotonic() + NODED_READY_TIMEOUT
        while True:
            result = self.rpc.call_one("version", address, timeout=5)
            if result.success:
                if result.payload != constants.PROTOCOL_VERSION:
                    raise errors.OpExecError(
                        "Node %s speaks RPC protocol %s, the master %s"
                        % (self.node_name, result.payload, constants.PROTOCOL_VERSION))
                return
            if time.monotonic() > deadline:
                raise errors.OpExecError("The node daemon of %s did not answer after the join:"
                                         " %s" % (self.node_name, result.describe()))
            time.sleep(0.2)

    def _undo_join(self, address: NodeAddress) -> None:
        result = self.rpc.call_one("node_leave_cluster", address,
                                   [bool(self.cfg.get_cluster_info().modify_ssh_setup)])
        if not result.success:
            self.log_warning("Could not make %s leave the cluster again: %s",
                             self.node_name, result.describe())

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        from ganeti.utils import x509

        server_pem = _read_text(self.context.paths.server_cert_file).encode("ascii")
        client_pem = x509.generate_client_cert(server_pem, self.node_name)
        self._bootstrap(client_pem)
        address = NodeAddress(self.node_name, self.primary_ip, self.context.noded_port, False)
        try:
            self._wait_noded(address)
            node = self._commit(x509.fingerprint(client_pem))
        except BaseException:
            if self.existing is None:
                self._undo_join(address)
            raise
        assert node.uuid is not None
        if self.existing is None:
            self.glm.add(self.owner, locking.LEVEL_NODE, node.uuid)
        push_config(self, [node.uuid])
        self.log_info("Node %s added%s", node.name,
                      " as a master candidate" if node.master_candidate else "")
        return node.name

    def _commit(self, cert_digest: str) -> objects.Node:
        cfg = self.cfg
        cluster = cfg.get_cluster_info()
        with cfg.locked() as data:
            others = [n for n in data.nodes.values()
                      if self.existing is None or n.uuid != self.existing.uuid]
        if self.existing is not None:
            node = self.existing
            node.offline = False
            node.drained = False
            node.secondary_ip = self.secondary_ip
            node.group = self.group.uuid or node.group
            node.ndparams = self.ndparams
        else:
            ec_id = "node-add-%s" % self.owner
            uuid = cfg.generate_uuid(ec_id)
            cfg.release_reservations(ec_id)  # held by the BGL until the node is saved
            node = objects.Node(uuid=uuid, name=self.node_name, primary_ip=self.primary_ip,
                                secondary_ip=self.secondary_ip, group=self.group.uuid,
                                ndparams=self.ndparams, master_candidate=False,
                                offline=False, drained=False, powered=True)
        node.master_capable = self._flag("master_capable")
        node.vm_capable = self._flag("vm_capable")
        for name, param in (("hv_state_static", "hv_state"),
                            ("disk_state_static", "disk_state")):
            value = self.op.get(param)
            if value is not None:
                setattr(node, name, value)
        current, wanted = candidate_stats([*others, node], cluster.candidate_pool_size)
        current -= 1 if node.master_candidate else 0
        promote = eligible_for_candidate(node) and current < wanted
        set_candidate(cluster, node, promote, cert_digest)
        if self.existing is not None:
            cfg.update(node)
        else:
            cfg.add_node(node)
        return node


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="ascii") as handle:
            return handle.read()
    except OSError as err:
        raise errors.OpExecError("Can't read %s: %s" % (path, err.strerror or err)) from err


# -- remove ------------------------------------------------------------------------------

@lu_for(opcodes.OpNodeRemove)
class LUNodeRemove(LogicalUnit):
    """Remove a node without instances; it is told to leave the cluster."""

    HPATH = "node-remove"
    HTYPE = constants.HTYPE_NODE

    def expand_names(self) -> None:
        self.node_uuid, self.node_name = self.expand_node(self.op.get("node_uuid")
                                                          or self.op.node_name)
        self.needed_locks = {locking.LEVEL_NODE: [self.node_uuid]}

    def check_prereq(self) -> None:
        cfg = self.cfg
        node = cfg.get_node_info(self.node_uuid)
        if self.node_uuid == cfg.get_master_node():
            raise errors.OpPrereqError("Node %s is the master node, which cannot be removed;"
                                       " fail the master role over to another node first"
                                       % node.name, errors.ECODE_INVAL)
        primary, secondary = cfg.get_node_instances(self.node_uuid)
        if primary or secondary:
            names = sorted(cfg.get_instance_info(u).name for u in primary + secondary)
            raise errors.OpPrereqError("Node %s still has instances (%s); move or remove them"
                                       " first" % (node.name, ", ".join(names)),
                                       errors.ECODE_STATE)
        self.node = node

    def build_hooks_env(self) -> dict[str, Any]:
        return {"OP_TARGET": self.node_name, "NODE_NAME": self.node_name}

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        master = self.cfg.get_master_node()
        return [master], [master]

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        cfg = self.cfg
        cluster = cfg.get_cluster_info()
        address = _node_address(self, self.node)
        was_candidate = bool(self.node.master_candidate)
        cluster.candidate_certs.pop(self.node_uuid, None)
        cfg.remove_node(self.node_uuid)
        self.glm.remove(self.owner, locking.LEVEL_NODE, self.node_uuid)
        promoted: list[str] = []
        if was_candidate:
            promoted = adjust_candidate_pool(self, exclude=())
        push_config(self, promoted)
        if not address.offline:
            result = self.rpc.call_one("node_leave_cluster", address,
                                       [bool(cluster.modify_ssh_setup)])
            if not result.success:
                self.log_warning("Node %s did not leave the cluster cleanly (remove its"
                                 " cluster files by hand): %s", self.node_name,
                                 result.describe())
        return None


def fill_candidate_pool(cfg: ConfigWriter, exclude: Iterable[str] = ()) -> list[objects.Node]:
    """Promote eligible nodes (name order) until the pool is as full as it can be.

    The one place the pool is topped up: node add/remove/modify and a larger
    candidate_pool_size all come here. Returns the promoted nodes.
    """
    cluster = cfg.get_cluster_info()
    with cfg.locked() as data:
        nodes = list(data.nodes.values())
    current, wanted = candidate_stats(nodes, cluster.candidate_pool_size)
    promoted = []
    for node in promotion_order(nodes, exclude)[:max(0, wanted - current)]:
        assert node.uuid is not None
        set_candidate(cluster, node, True, cluster.candidate_certs.get(node.uuid))
        cfg.update(node)
        promoted.append(node)
    return promoted


def adjust_candidate_pool(lu: LogicalUnit, exclude: Iterable[str]) -> list[str]:
    """fill_candidate_pool for an LU, with a log line each; UUIDs of those promoted."""
    promoted = fill_candidate_pool(lu.cfg, exclude)
    for node in promoted:
        lu.log_info("Promoted node %s to master candidate", node.name)
    return [node.uuid or "" for node in promoted]


def _candidate_digest(lu: LogicalUnit, node: objects.Node) -> str | None:
    """The digest recorded for a promoted node (kept from before, if known)."""
    assert node.uuid is not None
    return lu.cfg.get_cluster_info().candidate_certs.get(node.uuid)


# -- modify ------------------------------------------------------------------------------

#: Op parameters that change the node's role.
_ROLE_PARAMS = ("master_candidate", "offline", "drained", "master_capable")


@lu_for(opcodes.OpNodeSetParams)
class LUNodeSetParams(LogicalUnit):
    """Change a node's flags (offline, drained, candidate, capabilities) and parameters."""

    HPATH = "node-modify"
    HTYPE = constants.HTYPE_NODE
    REQ_BGL = False

    _PARAMS = ("master_candidate", "offline", "drained", "master_capable", "vm_capable",
               "secondary_ip", "ndparams", "powered", "hv_state", "disk_state")

    def check_arguments(self) -> None:
        given = [name for name in self._PARAMS if self.op.get(name) is not None]
        if not given:
            raise errors.OpPrereqError("Please pass at least one modification (e.g."
                                       " --offline, --drained, --master-candidate)",
                                       errors.ECODE_INVAL)
        flags = [name for name in ("offline", "drained", "master_candidate")
                 if self.op.get(name)]
        if len(flags) > 1:
            raise errors.OpPrereqError("Only one of offline, drained and master_candidate"
                                       " can be set to yes at a time (got %s)"
                                       % ", ".join(flags), errors.ECODE_INVAL)
        self.role_change = any(self.op.get(name) is not None for name in _ROLE_PARAMS)

    def expand_names(self) -> None:
        self.node_uuid, self.node_name = self.expand_node(self.op.get("node_uuid")
                                                          or self.op.node_name)
        # Promoting or demoting other nodes needs them all locked.
        nodes: Any = locking.ALL_SET if self.role_change else [self.node_uuid]
        self.needed_locks = {locking.LEVEL_NODE: nodes}

    def check_prereq(self) -> None:
        cfg = self.cfg
        cluster = cfg.get_cluster_info()
        node = cfg.get_node_info(self.node_uuid)
        is_master = self.node_uuid == cfg.get_master_node()
        op = self.op
        if is_master and (op.get("master_candidate") is False or op.get("offline")
                          or op.get("drained") or op.get("master_capable") is False):
            raise errors.OpPrereqError("Node %s is the master node; its role changes only"
                                       " through master failover" % node.name,
                                       errors.ECODE_INVAL)
        new = node.copy()
        for name in ("offline", "drained", "master_capable", "vm_capable", "powered"):
            if op.get(name) is not None:
                setattr(new, name, bool(op.get(name)))
        if op.get("master_candidate") is not None:
            new.master_candidate = bool(op.master_candidate)
        # Going offline, drained or incapable ends candidacy (Ganeti's rule).
        if new.master_candidate and not eligible_for_candidate(new):
            if op.get("master_candidate"):
                raise errors.OpPrereqError(
                    "Node %s cannot be a master candidate: it is %s" % (
                        node.name, ", ".join(w for w, bad in (
                            ("offline", new.offline), ("drained", new.drained),
                            ("not master capable", not new.master_capable)) if bad)),
                    errors.ECODE_STATE)
            new.master_candidate = False
        if op.get("secondary_ip") is not None:
            if not netutils.is_valid_ip(op.secondary_ip):
                raise errors.OpPrereqError("Secondary IP %r of node %s is not a valid IP"
                                           " address" % (op.secondary_ip, node.name),
                                           errors.ECODE_INVAL)
            new.secondary_ip = op.secondary_ip
        if op.get("ndparams") is not None:
            merged = dict(node.ndparams)
            for key, value in op.ndparams.items():
                if value is None or value == constants.VALUE_DEFAULT:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            _check_ndparams(cfg, merged, cfg.get_nodegroup(node.group), node.name)
            new.ndparams = merged
        for name, param in (("hv_state_static", "hv_state"),
                            ("disk_state_static", "disk_state")):
            if op.get(param) is not None:
                setattr(new, name, op.get(param))
        with cfg.locked() as data:
            others = [n for n in data.nodes.values() if n.uuid != node.uuid]
        self.promote_others: list[objects.Node] = []
        self.self_promote = False
        if node.master_candidate and not new.master_candidate:
            self._plan_demotion(node, new, others, cluster.candidate_pool_size)
        elif not node.master_candidate and not new.master_candidate \
                and op.get("master_candidate") is None and eligible_for_candidate(new) \
                and not eligible_for_candidate(node):
            # Back online/undrained/capable: take a place the pool lacks.
            current, wanted = candidate_stats([*others, new], cluster.candidate_pool_size)
            if current < wanted:
                new.master_candidate = True
                self.self_promote = True
        self.node = node
        self.new = new

    def _plan_demotion(self, node: objects.Node, new: objects.Node,
                       others: list[objects.Node], pool_size: int) -> None:
        # As Ganeti: the pool without this node must still be as large as it can be.
        current, wanted = candidate_stats(others, pool_size)
        if current == 0:
            raise errors.OpPrereqError("Node %s is the last master candidate; the cluster"
                                       " cannot be left without one" % node.name,
                                       errors.ECODE_STATE)
        if current >= wanted:
            return
        if not self.op.auto_promote:
            raise errors.OpPrereqError(
                "Not enough master candidates if %s is demoted (desired %d, new value will"
                " be %d); use --auto-promote to promote other nodes" % (node.name, wanted,
                                                                       current),
                errors.ECODE_STATE)
        self.promote_others = promotion_order(others)[:wanted - current]

    def build_hooks_env(self) -> dict[str, Any]:
        env = {"OP_TARGET": self.node_name, "NODE_NAME": self.node_name}
        for name in ("master_candidate", "offline", "drained", "master_capable",
                     "vm_capable"):
            env[name.upper()] = str(self.op.get(name))
        return env

    def build_hooks_nodes(self) -> tuple[list[str], list[str]]:
        master = self.cfg.get_master_node()
        return [master], [master, self.node_uuid]

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        cfg = self.cfg
        cluster = cfg.get_cluster_info()
        node = cfg.get_node_info(self.node_uuid)
        # self.node is this same live object: remember the role before changing it.
        was_candidate = bool(node.master_candidate)
        changes: list[tuple[str, Any]] = []
        for name in ("offline", "drained", "master_capable", "vm_capable", "powered",
                     "master_candidate", "secondary_ip", "ndparams", "hv_state_static",
                     "disk_state_static"):
            old, value = getattr(node, name), getattr(self.new, name)
            if old != value:
                setattr(node, name, value)
                changes.append((name, value))
        if bool(node.master_candidate) != was_candidate:
            set_candidate(cluster, node, bool(node.master_candidate),
                          _candidate_digest(self, node))
        if self.self_promote:
            self.log_info("Auto-promoting node %s to master candidate", node.name)
        cfg.update(node)
        promoted = []
        for other in self.promote_others:
            live = cfg.get_node_info(other.uuid or "")
            set_candidate(cluster, live, True, _candidate_digest(self, live))
            cfg.update(live)
            self.log_info("Promoted node %s to master candidate", live.name)
            promoted.append(live.uuid or "")
            changes.append(("master_candidate[%s]" % live.name, True))
        if self.role_change or promoted:
            new_candidates = promoted + ([node.uuid or ""] if node.master_candidate
                                         and not was_candidate else [])
            push_config(self, [u for u in new_candidates
                               if not cfg.get_node_info(u).offline])
        if was_candidate and not node.master_candidate:
            demote_from_candidate(self, node)
        return [[name, value if not isinstance(value, bool) else str(value)]
                for name, value in changes]
