"""OS definitions on the master: OpOsDiagnose and the "os" query resource.

One ``os_diagnose`` fan-out to the online vm-capable nodes gives, per OS, each
node's verdict; an OS is valid when every asked node has it valid. Its
variants, parameters and API versions are those all nodes agree on. The cluster
adds whether it is hidden or blacklisted and its per-OS parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ganeti import constants, opcodes, query
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import FeedbackFn, QueryLU
from ganeti.cmdlib.query import ITEM_SOURCES
from ganeti.query import QueryField

if TYPE_CHECKING:
    from ganeti.context import MasterContext


@dataclass
class OsRow:
    """One OS as the nodes report it."""

    name: str
    #: node name -> [[path, valid, message, variants, parameters, api_versions], …]
    node_status: dict[str, list[list[Any]]] = field(default_factory=dict)
    hidden: bool = False
    blacklisted: bool = False
    trusted: bool = True
    os_hvp: dict[str, Any] = field(default_factory=dict)
    osparams: dict[str, Any] = field(default_factory=dict)
    nodes_asked: int = 0

    def first_entries(self) -> list[list[Any]]:
        return [entries[0] for entries in self.node_status.values() if entries]

    @property
    def valid(self) -> bool:
        firsts = self.first_entries()
        return (len(firsts) == self.nodes_asked and self.nodes_asked > 0
                and all(entry[1] for entry in firsts))

    def _common(self, index: int) -> list[Any]:
        lists = [entry[index] for entry in self.first_entries() if entry[1]]
        if not lists or not self.valid:
            return []
        common = [item for item in lists[0] if all(item in other for other in lists[1:])]
        return common

    @property
    def variants(self) -> list[str]:
        return self._common(3)

    @property
    def parameters(self) -> list[list[str]]:
        return self._common(4)

    @property
    def api_versions(self) -> list[int]:
        return self._common(5)


def os_items(context: MasterContext, names: list[str] | None = None) -> list[OsRow]:
    """Rows for every OS found on the online vm-capable nodes (optionally only ``names``)."""
    cfg = context.cfg
    with cfg.locked():
        cluster = cfg.get_cluster_info()
        nodes = [n for n in cfg.get_all_nodes_info().values() if not n.offline and n.vm_capable]
    addresses = context.node_addresses([n.uuid for n in nodes if n.uuid])
    results = context.rpc.call("os_diagnose", addresses, []) if addresses else {}
    rows: dict[str, OsRow] = {}
    asked = 0
    for address in addresses:
        result = results[address.name]
        if not result.success:
            continue  # a node that does not answer has no say, as in Ganeti
        asked += 1
        for name, path, valid, message, variants, params, api, trusted in result.payload:
            row = rows.setdefault(name, OsRow(name))
            row.node_status.setdefault(address.name, []).append(
                [path, bool(valid), message, variants, params, api])
            row.trusted = row.trusted and bool(trusted)
    for row in rows.values():
        row.nodes_asked = asked
        row.hidden = row.name in cluster.hidden_os
        row.blacklisted = row.name in cluster.blacklisted_os
        row.os_hvp = dict(cluster.os_hvp.get(row.name) or {})
        row.osparams = dict(cluster.osparams.get(row.name) or {})
    wanted = set(names or [])
    return sorted((row for row in rows.values() if not wanted or row.name in wanted),
                  key=lambda row: row.name)


def _fields() -> list[QueryField]:
    text, boolean, other = constants.QFT_TEXT, constants.QFT_BOOL, constants.QFT_OTHER
    return [
        QueryField("name", "Name", text, lambda r: r.name, "Operating system name"),
        QueryField("valid", "Valid", boolean, lambda r: r.valid,
                   "Whether operating system definition is valid"),
        QueryField("hidden", "Hidden", boolean, lambda r: r.hidden,
                   "Whether operating system is hidden"),
        QueryField("blacklisted", "Blacklisted", boolean, lambda r: r.blacklisted,
                   "Whether operating system is blacklisted"),
        QueryField("trusted", "Trusted", boolean, lambda r: r.trusted,
                   "Whether this OS is trusted"),
        QueryField("variants", "Variants", other, lambda r: r.variants,
                   "Operating system variants"),
        QueryField("api_versions", "ApiVersions", other, lambda r: r.api_versions,
                   "Operating system API versions"),
        QueryField("parameters", "Parameters", other, lambda r: r.parameters,
                   "Operating system parameters"),
        QueryField("node_status", "NodeStatus", other, lambda r: r.node_status,
                   "Status from node"),
        QueryField("os_hvp", "OsHypervisorParams", other, lambda r: r.os_hvp,
                   "Operating system specific hypervisor parameters"),
        QueryField("osparams", "OsParameters", other, lambda r: r.osparams,
                   "Operating system specific parameters"),
    ]


query.register_resource(constants.QR_OS, _fields())
ITEM_SOURCES[constants.QR_OS] = lambda context, needed: os_items(context)


@lu_for(opcodes.OpOsDiagnose)
class LUOsDiagnose(QueryLU):
    """The OS definitions as rows of the asked fields (Ganeti's old-style query)."""

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        fields = list(self.op.output_fields)
        result = query.query(constants.QR_OS, fields,
                             os_items(self.context, list(self.op.get("names") or [])), None)
        return [[value for _status, value in row] for row in result["data"]]
