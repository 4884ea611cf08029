"""gnt-cluster verify: the configuration checks and the node checks, as Ganeti.

``OpClusterVerify`` submits one job with ``OpClusterVerifyConfig`` (the
configuration, the certificates, the master candidate pool, the
hypervisor parameters) and one ``OpClusterVerifyGroup`` job per node group
(node_verify RPC: versions, reachability between nodes, checksums of the
replicated files, clock skew, hypervisors, RPC failures).

Each problem is one job log line, Ganeti's ``  - ERROR: node node2: …`` or,
with ``error_codes``, ``  - ERROR:ENODEVERSION:node:node2:…``
(``ftype:ecode:edomain:name:msg``; ``name`` is empty for cluster-wide
problems). Codes named in ``ignore_errors`` are reported as warnings. Each
verify opcode's result is True when it found no error.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from ganeti import constants, errors, hypervisor, locking, opcodes, ssconf
from ganeti.cmdlib import lu_for
from ganeti.cmdlib import node as node_lu
from ganeti.cmdlib.base import (
    FeedbackFn,
    NoHooksLU,
    ResultWithJobs,
    named_or_all_groups,
    require_nodegroup,
)
from ganeti.cmdlib.cluster_redist import CLUSTER_PATHS, ancillary_files
from ganeti.objects import Node
from ganeti.rpc.client import NodeAddress, RpcResult
from ganeti.utils import x509

# Object kinds of the error codes (Ganeti's CV_T*).
CV_TCLUSTER = "cluster"
CV_TGROUP = "group"
CV_TNODE = "node"
CV_TINSTANCE = "instance"

#: Error code -> the kind of object it names (Ganeti's tuples, less the doc).
ECODE_KINDS: dict[str, str] = {
    "ECLUSTERCFG": CV_TCLUSTER,
    "ECLUSTERCERT": CV_TCLUSTER,
    "ECLUSTERCLIENTCERT": CV_TCLUSTER,
    "ECLUSTERFILECHECK": CV_TCLUSTER,
    "ECLUSTERDANGLINGNODES": CV_TNODE,
    "ECLUSTERDANGLINGINST": CV_TNODE,
    "ENODEVERSION": CV_TNODE,
    "ENODENET": CV_TNODE,
    "ENODETIME": CV_TNODE,
    "ENODEHV": CV_TNODE,
    "ENODERPC": CV_TNODE,
    "ENODESSH": CV_TNODE,
    "ENODESETUP": CV_TNODE,
}

#: Seconds a node's clock may differ from the master's (Ganeti's NODE_MAX_CLOCK_SKEW).
NODE_MAX_CLOCK_SKEW = 150.0
#: Days before a certificate's expiry verify warns (Ganeti's SSL_CERT_EXPIRATION_WARN).
CERT_EXPIRATION_WARN_DAYS = 30


class _VerifyErrors:
    """Error reporting shared by the verify LUs (Ganeti's _VerifyErrors mix-in)."""

    op: opcodes.OpCode
    bad: bool
    _feedback: FeedbackFn

    def report(self, ecode: str, item: str | None, message: str,
               warning: bool = False) -> None:
        ltype = constants.CV_WARNING if warning else constants.CV_ERROR
        if ecode in self.op.get("ignore_errors", []):
            ltype = constants.CV_WARNING
        kind = ECODE_KINDS.get(ecode, CV_TCLUSTER)
        if self.op.get("error_codes", False):
            line = "%s:%s:%s:%s:%s" % (ltype, ecode, kind, item or "", message)
        else:
            line = "%s: %s%s: %s" % (ltype, kind, " " + item if item else "", message)
        self._feedback("  - %s" % line)
        if ltype == constants.CV_ERROR:
            self.bad = True

    def error_if(self, condition: Any, ecode: str, item: str | None, message: str,
                 warning: bool = False) -> bool:
        """Report ``message`` if ``condition`` (or when simulating errors)."""
        if bool(condition) or self.op.get("debug_simulate_errors", False):
            self.report(ecode, item, message, warning)
        return bool(condition)


@lu_for(opcodes.OpClusterVerify)
class LUClusterVerify(NoHooksLU):
    """Submit the verification jobs: the configuration, then each node group."""

    REQ_BGL = False

    def expand_names(self) -> None:
        self.needed_locks = {}

    def check_prereq(self) -> None:
        named_or_all_groups(self.cfg, self.op.get("group_name"))

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        common = {name: self.op.get(name) for name in
                  ("debug_simulate_errors", "error_codes", "ignore_errors", "verbose")}
        groups = named_or_all_groups(self.cfg, self.op.get("group_name"))
        jobs: list[list[Any]] = []
        if not self.op.get("group_name"):  # the whole cluster: its configuration too
            jobs.append([opcodes.OpClusterVerifyConfig(**common)])
        for name in groups:
            jobs.append([opcodes.OpClusterVerifyGroup(
                group_name=name, skip_checks=list(self.op.get("skip_checks", [])),
                verify_clutter=self.op.get("verify_clutter", False), **common)])
        return ResultWithJobs(jobs)


@lu_for(opcodes.OpClusterVerifyConfig)
class LUClusterVerifyConfig(_VerifyErrors, NoHooksLU):
    """The configuration's consistency, certificates, candidate pool, hvparams."""

    REQ_BGL = False

    def expand_names(self) -> None:
        self.needed_locks = {}
        self.bad = False

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        self._feedback = feedback_fn
        feedback_fn("* Verifying cluster config")
        for problem in self.cfg.verify_config():
            self.report("ECLUSTERCFG", None, problem)
        self._verify_candidate_pool()
        feedback_fn("* Verifying cluster certificate files")
        paths = self.context.paths
        for cert_file in (paths.server_cert_file, paths.client_cert_file, paths.rapi_cert_file):
            self._verify_certificate(cert_file)
        feedback_fn("* Verifying hypervisor parameters")
        self._verify_hvparams()
        return not self.bad

    def _verify_candidate_pool(self) -> None:
        with self.cfg.locked():
            cluster = self.cfg.get_cluster_info()
            nodes = list(self.cfg.get_all_nodes_info().values())
        actual, wanted = node_lu.candidate_stats(nodes, cluster.candidate_pool_size)
        self.error_if(actual < wanted, "ECLUSTERCFG", None,
                      "Not enough master candidates: actual %d, target %d" % (actual, wanted),
                      warning=True)

    def _verify_certificate(self, cert_file: str) -> None:
        try:
            with open(cert_file, "rb") as handle:
                pem = handle.read()
        except FileNotFoundError:
            return  # client.pem and rapi.pem are optional on older set-ups
        except OSError as err:
            self.report("ECLUSTERCERT", None, "Can't read %s: %s" % (cert_file, err))
            return
        try:
            error, warning = x509.check_expiry(pem, CERT_EXPIRATION_WARN_DAYS)
        except (errors.GenericError, ValueError) as err:
            self.report("ECLUSTERCERT", None, "Can't load %s: %s" % (cert_file, err))
            return
        if error:
            self.report("ECLUSTERCERT", None, "While verifying %s: %s" % (cert_file, error))
        elif warning:
            self.report("ECLUSTERCERT", None, "While verifying %s: %s" % (cert_file, warning),
                        warning=True)

    def _verify_hvparams(self) -> None:
        with self.cfg.locked():
            cluster = self.cfg.get_cluster_info()
            enabled = list(cluster.enabled_hypervisors)
            filled = {}
            for name in enabled:
                try:
                    filled[name] = cluster.fill_hvparams_for(name)
                except errors.GenericError as err:
                    self.report("ECLUSTERCFG", None,
                                "hypervisor %s parameters: %s" % (name, err))
        for name, params in filled.items():
            try:
                hypervisor.get_hypervisor_class(name).check_parameter_syntax(params)
            except errors.GenericError as err:
                self.report("ECLUSTERCFG", None,
                            "hypervisor %s parameter verify failure (source cluster): %s"
                            % (name, err))


#: Files every node holds, installed by node join and renew-crypto.
_JOINED_FILES = frozenset([CLUSTER_PATHS.server_cert_file])
_JOINED_OPTIONAL_FILES = frozenset([CLUSTER_PATHS.confd_hmac_key_file,
                                    CLUSTER_PATHS.cluster_domain_secret_file])


def _node_sort_key(name: str) -> Any:
    return ssconf.nice_sort_key(name)


def _join(names: Iterable[str]) -> str:
    return ", ".join(sorted(names, key=_node_sort_key))


@lu_for(opcodes.OpClusterVerifyGroup)
class LUClusterVerifyGroup(_VerifyErrors, NoHooksLU):
    """Ask every node of a group to run node_verify and judge the answers."""

    REQ_BGL = False

    def expand_names(self) -> None:
        group = require_nodegroup(self.cfg, self.op.group_name)
        assert group.uuid is not None
        self.group_uuid = group.uuid
        self.needed_locks = {locking.LEVEL_NODEGROUP: [group.uuid],
                             locking.LEVEL_NODE: locking.ALL_SET}
        self.share_locks = dict.fromkeys(locking.LEVELS, True)
        self.bad = False

    def check_prereq(self) -> None:
        with self.cfg.locked():
            all_nodes = self.cfg.get_all_nodes_info()
            self.master_uuid = self.cfg.get_master_node()
            self.cluster = self.cfg.get_cluster_info()
            self.group_nodes = sorted((all_nodes[uuid] for uuid in
                                       self.cfg.get_nodegroup_members(self.group_uuid)),
                                      key=lambda n: _node_sort_key(n.name))
            self.master = all_nodes[self.master_uuid]
            self.ssconf_keys = sorted(ssconf.compute_values(self.cfg.get_config_data()))

    # -- data gathering ----------------------------------------------------------------

    def _expected_files(self) -> tuple[dict[str, set[str]], frozenset[str]]:
        """cluster path -> names of the nodes that must hold it; optional files."""
        replicated = ancillary_files(self.cfg, self.context.paths)
        online = [n for n in self._checked_nodes() if not n.offline]
        candidates = [n for n in online if n.master_candidate or n.uuid == self.master_uuid]
        expected: dict[str, set[str]] = {}
        for key in self.ssconf_keys:
            expected[CLUSTER_PATHS.ssconf_file(key)] = {n.name for n in online}
        for path in replicated.all_nodes:
            expected[path] = {n.name for n in online}
        for path in replicated.candidates | {CLUSTER_PATHS.config_file}:
            expected[path] = {n.name for n in candidates}
        # Installed at join and by renew-crypto rather than redistributed; every node
        # must hold the same copy (the confd key and domain secret may be absent).
        for path in _JOINED_FILES | _JOINED_OPTIONAL_FILES:
            expected[path] = {n.name for n in online}
        return expected, replicated.optional | _JOINED_OPTIONAL_FILES

    def _checked_nodes(self) -> list[Node]:
        """The group's nodes, plus the master (the reference for the files)."""
        nodes = list(self.group_nodes)
        if all(n.uuid != self.master_uuid for n in nodes):
            nodes.append(self.master)
        return nodes

    def _address(self, node: Node) -> NodeAddress:
        return NodeAddress(node.name, node.primary_ip, self.context.noded_port,
                           bool(node.offline))

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        self._feedback = feedback_fn
        verbose = self.op.get("verbose", False)
        online = [n for n in self.group_nodes if not n.offline]
        offline = [n for n in self.group_nodes if n.offline]
        checked = [n for n in self._checked_nodes() if not n.offline]
        expected_files, optional_files = self._expected_files()
        feedback_fn("* Gathering data (%d nodes)" % len(online))
        checks: dict[str, Any] = {
            constants.NV_FILELIST: sorted(expected_files),
            constants.NV_VERSION: None,
            constants.NV_TIME: None,
            constants.NV_HYPERVISOR: list(self.cluster.enabled_hypervisors),
            constants.NV_NODENETTEST: [[n.name, n.primary_ip, self.context.noded_port]
                                       for n in online],
        }
        all_hvparams = {name: self.cluster.fill_hvparams_for(name)
                        for name in self.cluster.enabled_hypervisors}
        start = time.time()
        results = self.rpc.call("node_verify", [self._address(n) for n in checked],
                                [checks, self.cluster.cluster_name, all_hvparams])
        end = time.time()

        feedback_fn("* Verifying node status")
        answers: dict[str, dict[str, Any]] = {}
        for node in checked:
            answer = self._verify_node(node, results[node.name], start, end,
                                       node in online)
            if answer is not None:
                answers[node.name] = answer
        for node in offline:
            if verbose:
                feedback_fn("* Skipping offline node %s" % node.name)
        feedback_fn("* Verifying configuration file consistency")
        self._verify_files(expected_files, optional_files, answers)
        if offline:
            feedback_fn("  - NOTICE: %d offline node(s) found." % len(offline))
        return not self.bad

    # -- node checks -------------------------------------------------------------------

    def _verify_node(self, node: Node, result: RpcResult, start: float, end: float,
                     in_group: bool) -> dict[str, Any] | None:
        """Judge one node's answer; the answer if it can be used for the files."""
        name = node.name
        if self.error_if(not result.success, "ENODERPC", name,
                         "while contacting node: %s" % result.error):
            return None
        answer = result.payload
        if self.error_if(not isinstance(answer, dict), "ENODERPC", name,
                         "unable to verify node: no data returned"):
            return None
        if not self._verify_version(name, answer.get(constants.NV_VERSION)):
            return None
        if not in_group:
            return answer  # the master, asked only for its files
        self._verify_time(name, answer.get(constants.NV_TIME), start, end)
        for hv_name, verdict in sorted((answer.get(constants.NV_HYPERVISOR) or {}).items()):
            self.error_if(verdict is not None, "ENODEHV", name,
                          "hypervisor %s verify failure: '%s'" % (hv_name, verdict))
        net = answer.get(constants.NV_NODENETTEST)
        if self.error_if(not isinstance(net, dict), "ENODENET", name,
                         "node hasn't returned node tcp connectivity data"):
            return answer
        for target in sorted(net, key=_node_sort_key):
            self.report("ENODENET", name,
                        "tcp communication with node '%s': %s" % (target, net[target]))
        return answer

    def _verify_version(self, name: str, version: Any) -> bool:
        if self.error_if(not (isinstance(version, list) and len(version) == 2),
                         "ENODEVERSION", name, "connection to node returned invalid data"):
            return False
        protocol, release = version
        if self.error_if(protocol != constants.PROTOCOL_VERSION, "ENODEVERSION", name,
                         "incompatible protocol versions: master %s, node %s"
                         % (constants.PROTOCOL_VERSION, protocol)):
            return False
        self.error_if(release != constants.RELEASE_VERSION, "ENODEVERSION", name,
                      "software version mismatch: master %s, node %s"
                      % (constants.RELEASE_VERSION, release), warning=True)
        return True

    def _verify_time(self, name: str, node_time: Any, start: float, end: float) -> None:
        try:
            seconds = float(node_time[0]) + float(node_time[1]) / 1e6
        except (TypeError, ValueError, IndexError):
            self.report("ENODETIME", name, "Node returned invalid time")
            return
        skew = max(start - seconds, seconds - end)
        self.error_if(skew > NODE_MAX_CLOCK_SKEW, "ENODETIME", name,
                      "Node time diverges by at least %.01fs from master node time" % skew)

    # -- replicated files --------------------------------------------------------------

    def _verify_files(self, expected: dict[str, set[str]], optional: frozenset[str],
                      answers: dict[str, dict[str, Any]]) -> None:
        """Missing, unexpected and differing copies (Ganeti's _VerifyFiles)."""
        answered = set(answers)
        for path in sorted(expected):
            checksums: dict[str, set[str]] = {}
            for node_name, answer in answers.items():
                checksum = (answer.get(constants.NV_FILELIST) or {}).get(path)
                if checksum is not None:
                    checksums.setdefault(checksum, set()).add(node_name)
            with_file = set().union(*checksums.values()) if checksums else set()
            wanted = expected[path] & answered
            missing = wanted - with_file
            if path in optional:
                self.error_if(missing and missing != wanted, "ECLUSTERFILECHECK", None,
                              "File %s is optional, but it must exist on all or no nodes"
                              " (not found on %s)" % (path, _join(missing)))
            else:
                self.error_if(missing, "ECLUSTERFILECHECK", None,
                              "File %s is missing from node(s) %s" % (path, _join(missing)))
                # Only config.data must be gone from a demoted node (as in Ganeti);
                # the other candidate files may stay behind harmlessly.
                unexpected = with_file - wanted if path == CLUSTER_PATHS.config_file \
                    else set()
                self.error_if(unexpected, "ECLUSTERFILECHECK", None,
                              "File %s should not exist on node(s) %s"
                              % (path, _join(unexpected)))
            variants = ["variant %d on %s" % (index, _join(nodes)) for index, (_, nodes)
                        in enumerate(sorted(checksums.items()), start=1)]
            self.error_if(len(checksums) > 1, "ECLUSTERFILECHECK", None,
                          "File %s found with %d different checksums (%s)"
                          % (path, len(checksums), "; ".join(variants)))
