"""What the master daemon's parts share: config, locks, RPC, the job queue.

``MasterContext`` is built once by masterd (``MasterContext.build``) and
handed to the job queue, the processor and every logical unit. Lock names
follow Ganeti: nodes, node groups and networks are locked by UUID,
instances by name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ganeti import constants, errors, locking, pathutils
from ganeti.config import ConfigWriter
from ganeti.rpc.client import NodeAddress, RpcClient

if TYPE_CHECKING:
    from ganeti.jqueue.queue import JobQueue


def lock_names(cfg: ConfigWriter) -> dict[str, list[str]]:
    """The lock names of every modifiable level, from the configuration."""
    with cfg.locked() as data:
        return {
            "nodes": list(data.nodes),
            "node_groups": list(data.nodegroups),
            "instances": [inst.name for inst in data.instances.values()],
            "networks": list(data.networks),
        }


def build_lock_manager(cfg: ConfigWriter) -> locking.LockManager:
    return locking.LockManager(**lock_names(cfg))


@dataclass(eq=False)
class MasterContext:
    """The master's shared state; ``jobqueue`` is set once the queue exists."""

    cfg: ConfigWriter
    glm: locking.LockManager
    rpc: RpcClient
    paths: pathutils.Paths
    node_name: str
    #: TCP port of the node daemons (Ganeti's "ganeti-noded" service, 1811).
    noded_port: int = constants.DEFAULT_NODED_PORT
    jobqueue: JobQueue | None = None

    @classmethod
    def build(cls, paths: pathutils.Paths, node_name: str, cfg: ConfigWriter | None = None,
              rpc: RpcClient | None = None,
              noded_port: int = constants.DEFAULT_NODED_PORT) -> MasterContext:
        """A context from this node's files (config.data, certificates)."""
        cfg = cfg if cfg is not None else ConfigWriter(paths.config_file)
        rpc = rpc if rpc is not None else RpcClient(paths)
        return cls(cfg=cfg, glm=build_lock_manager(cfg), rpc=rpc, paths=paths,
                   node_name=node_name, noded_port=noded_port)

    @property
    def queue(self) -> JobQueue:
        if self.jobqueue is None:
            raise errors.ProgrammerError("The master context has no job queue yet")
        return self.jobqueue

    # -- node addresses for RPC ---------------------------------------------------

    def node_address(self, name_or_uuid: str) -> NodeAddress:
        """Where to reach a node (by name or UUID); unknown nodes raise OpPrereqError."""
        with self.cfg.locked():
            node = self.cfg.find_node(name_or_uuid)
        if node is None:
            raise errors.OpPrereqError("Node '%s' is not known" % name_or_uuid,
                                       errors.ECODE_NOENT)
        return NodeAddress(node.name, node.primary_ip, self.noded_port, bool(node.offline))

    def node_addresses(self, names_or_uuids: Iterable[str]) -> list[NodeAddress]:
        """Addresses of the given nodes, each once, in the given order."""
        seen: dict[str, NodeAddress] = {}
        for item in names_or_uuids:
            address = self.node_address(item)
            seen.setdefault(address.name, address)
        return list(seen.values())

    def other_master_candidates(self) -> list[NodeAddress]:
        """Online master candidates except this node (job queue replication)."""
        with self.cfg.locked():  # called from other threads than the config's writer
            return [NodeAddress(node.name, node.primary_ip, self.noded_port, False)
                    for node in self.cfg.get_master_candidates()
                    if node.name != self.node_name and not node.offline]

    def master_name(self) -> str:
        return self.cfg.get_master_node_info().name
