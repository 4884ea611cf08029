"""Hooks on the master side: the GANETI_* environment and the hooks_runner calls.

As Ganeti's hooks interface documents it: the scripts of
``<hooks dir>/<hpath>-<phase>.d/`` run on the nodes the LU names, with
``GANETI_HOOKS_VERSION``, ``GANETI_HOOKS_PHASE``, ``GANETI_HOOKS_PATH``,
``GANETI_OP_CODE``, ``GANETI_OBJECT_TYPE``, ``GANETI_CLUSTER``,
``GANETI_MASTER``, ``GANETI_DATA_DIR``, ``GANETI_OP_TARGET`` and the LU's own
variables (``GANETI_<NAME>``). The post phase repeats the pre phase's
variables and adds the LU's variables as they are after execution, as
``GANETI_POST_<NAME>``.

A failing pre-phase script aborts the opcode (``errors.HooksAbort`` naming
the node, the script and its output); a node that can't be reached does not
(only a warning). Post-phase failures are only reported.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ganeti import constants, errors
from ganeti.rpc.client import RpcResult

if TYPE_CHECKING:
    from ganeti.cmdlib.base import LogicalUnit
    from ganeti.context import MasterContext

ENV_PREFIX = "GANETI_"
POST_ENV_PREFIX = "GANETI_POST_"

#: ``run(node names, hpath, phase, env) -> {node name: RpcResult}``
HooksRunFn = Callable[[Sequence[str], str, str, dict[str, str]], dict[str, RpcResult]]
#: ``warn(message)``: where unreachable nodes and post-phase failures are reported.
WarnFn = Callable[[str], None]


def env_value(value: Any) -> str:
    """How a hook variable's value is written: None is empty, lists space-separated."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set, frozenset)):
        return " ".join(env_value(item) for item in value)
    return str(value)


def prefixed_env(lu_env: Mapping[str, Any], prefix: str) -> dict[str, str]:
    """The LU's variables with ``prefix``; names must be plain identifiers.

    Names keep their case, as Ganeti's: parameter names inside them stay lower case
    (``GANETI_INSTANCE_BE_maxmem``), which existing hook scripts read.
    """
    env = {}
    for name, value in lu_env.items():
        if not name or not name.replace("_", "").isalnum():
            raise errors.ProgrammerError("Hook variable name %r is not an identifier" % name)
        env[prefix + name] = env_value(value)
    return env


@dataclass(frozen=True)
class HookFailure:
    node: str
    script: str
    output: str

    def describe(self) -> str:
        text = self.output.strip()
        return "node %s, script %s%s" % (self.node, self.script,
                                         ", output: %s" % text if text else " (no output)")


def interpret_results(results: Mapping[str, RpcResult], phase: str
                      ) -> tuple[list[HookFailure], list[str]]:
    """(failed scripts, warnings about nodes whose hooks could not run)."""
    failures: list[HookFailure] = []
    warnings: list[str] = []
    for node in sorted(results):
        result = results[node]
        if result.offline:
            continue
        if not result.success:
            warnings.append("Communication failure to node %s while running %s hooks: %s"
                            % (node, phase, result.error))
            continue
        for script, status, output in result.payload or []:
            if status == constants.HKR_FAIL:
                failures.append(HookFailure(node, script, output))
    return failures, warnings


class HooksMaster:
    """Runs one LU's hooks: builds the environment, calls the nodes, judges."""

    def __init__(self, opcode: str, hooks_path: str, nodes: tuple[Sequence[str], Sequence[str]],
                 run_fn: HooksRunFn, build_env_fn: Callable[[], Mapping[str, Any]],
                 warn_fn: WarnFn, htype: str | None, cluster_name: str, master_name: str,
                 data_dir: str, op_target: str | None = None) -> None:
        self.opcode = opcode
        self.hooks_path = hooks_path
        self.pre_nodes, self.post_nodes = list(nodes[0]), list(nodes[1])
        self._run_fn = run_fn
        self._build_env_fn = build_env_fn
        self._warn = warn_fn
        self.htype = htype
        self.cluster_name = cluster_name
        self.master_name = master_name
        self.data_dir = data_dir
        self.op_target = op_target
        #: The LU's variables as built for the pre phase (the post phase repeats them).
        self._pre_lu_env: Mapping[str, Any] | None = None

    @classmethod
    def build_from_lu(cls, lu: LogicalUnit) -> HooksMaster:
        context = lu.context
        assert lu.HPATH is not None
        return cls(
            opcode=lu.op.OP_ID, hooks_path=lu.HPATH, nodes=lu.build_hooks_nodes(),
            run_fn=rpc_hooks_runner(context), build_env_fn=lu.build_hooks_env,
            warn_fn=lu.log_warning, htype=lu.HTYPE,
            cluster_name=context.cfg.get_cluster_name(), master_name=context.master_name(),
            data_dir=context.paths.data_dir, op_target=_default_target(lu))

    def base_env(self, phase: str) -> dict[str, str]:
        env = {
            "GANETI_HOOKS_VERSION": str(constants.HOOKS_VERSION),
            "GANETI_HOOKS_PHASE": phase,
            "GANETI_HOOKS_PATH": self.hooks_path,
            "GANETI_OP_CODE": self.opcode,
            "GANETI_DATA_DIR": self.data_dir,
            "GANETI_CLUSTER": self.cluster_name,
            "GANETI_MASTER": self.master_name,
            "GANETI_OP_TARGET": self.op_target or self.cluster_name,
        }
        if self.htype:
            env["GANETI_OBJECT_TYPE"] = self.htype
        return env

    def build_env(self, phase: str) -> dict[str, str]:
        """The whole environment of ``phase``."""
        if phase not in constants.HOOKS_PHASES:
            raise errors.ProgrammerError("Unknown hooks phase %r" % phase)
        env = self.base_env(phase)
        if phase == constants.HOOKS_PHASE_PRE or self._pre_lu_env is None:
            self._pre_lu_env = dict(self._build_env_fn())
        env.update(prefixed_env(self._pre_lu_env, ENV_PREFIX))
        if phase == constants.HOOKS_PHASE_POST:
            env.update(prefixed_env(self._build_env_fn(), POST_ENV_PREFIX))
        # The base variables win over an LU's variable of the same name.
        env.update(self.base_env(phase))
        if self._pre_lu_env.get("OP_TARGET"):
            env["GANETI_OP_TARGET"] = env_value(self._pre_lu_env["OP_TARGET"])
        return env

    def run_phase(self, phase: str) -> dict[str, RpcResult]:
        """Run the phase on its nodes; a pre-phase script failure raises HooksAbort."""
        nodes = self.pre_nodes if phase == constants.HOOKS_PHASE_PRE else self.post_nodes
        env = self.build_env(phase)
        if not nodes:
            return {}
        results = self._run_fn(nodes, self.hooks_path, phase, env)
        failures, warnings = interpret_results(results, phase)
        for warning in warnings:
            self._warn(warning)
        if failures and phase == constants.HOOKS_PHASE_PRE:
            raise errors.HooksAbort(
                "Hook script(s) of %s-%s failed: %s" % (
                    self.hooks_path, phase, "; ".join(f.describe() for f in failures)),
                [[f.node, f.script, f.output] for f in failures])
        for failure in failures:
            self._warn("Post hook failed on %s" % failure.describe())
        return results


def _default_target(lu: LogicalUnit) -> str | None:
    """OP_TARGET when the LU doesn't set it: the opcode's summary parameter."""
    name = type(lu.op).SUMMARY_PARAM
    value = lu.op.get(name) if name else None
    return env_value(value) if value is not None else None


def rpc_hooks_runner(context: MasterContext) -> HooksRunFn:
    """Run hooks through the ``hooks_runner`` node RPC."""

    def run(nodes: Sequence[str], hpath: str, phase: str,
            env: dict[str, str]) -> dict[str, RpcResult]:
        addresses = context.node_addresses(nodes)
        logging.debug("Running %s-%s hooks on %s", hpath, phase,
                      ", ".join(a.name for a in addresses))
        return context.rpc.call("hooks_runner", addresses, [hpath, phase, env])

    return run
