"""Instance creation in mode "import" (gnt-backup import): the parts LUInstanceCreate
calls for an import.

``read_export`` (at argument checking) finds the export (``--src-node``,
``--src-dir``; without a node, the first node holding an export of that name),
reads its ``config.ini`` and fills the opcode with what the command line
left open, as Ganeti does: OS, disks, NICs (with their MAC addresses),
hypervisor and its parameters, backend and OS parameters, tags, and the
disk template (the export's when the cluster has it enabled, else the
cluster's default). ``--identify-defaults`` then drops every parameter equal
to the cluster's default, so the instance follows the cluster's later changes.

``import_disks`` (instead of the OS create script) copies each dump to the new
primary node when it is another node than the export's, runs the OS
definition's ``import`` script on each disk, fed with the dump, then the
``rename`` script from the exported instance's name. A failure fails the
creation, which removes the new instance again (Ganeti only warns).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ganeti import constants, errors, locking, paramdefs, pathutils
from ganeti.cmdlib import export_support as es
from ganeti.cmdlib import instance_utils as iu
from ganeti.cmdlib.base import LogicalUnit

_AUTO_MAC = (None, "", constants.VALUE_AUTO)


@dataclass
class ImportSource:
    """Where the export is and what it says."""

    node_uuid: str
    node_name: str
    #: The export's directory, relative to the export directory.
    path: str
    config: es.ExportConfig

    @property
    def images(self) -> list[str | None]:
        """Dump file name of each disk (None: the export has none)."""
        return [disk["dump"] for disk in self.config.disks]

    def absolute_path(self) -> str:
        """The export's directory as a node rooted at / sees it."""
        return os.path.join(pathutils.for_root("/").export_dir, self.path)


def _relative_path(src_path: str) -> str:
    """``--src-dir`` as a path relative to the export directory."""
    base = pathutils.for_root("/").export_dir
    path = os.path.normpath(src_path)
    if os.path.isabs(path):
        if not path.startswith(base + "/"):
            raise errors.OpPrereqError("Source directory %s is not below the export directory"
                                       " %s" % (src_path, base), errors.ECODE_INVAL)
        path = path[len(base) + 1:]
    if not path or path == "." or ".." in path.split("/"):
        raise errors.OpPrereqError("Invalid source directory %r (expected an export name or"
                                   " a directory below %s)" % (src_path, base),
                                   errors.ECODE_INVAL)
    return path


def _find_export(lu: LogicalUnit, path: str) -> tuple[str, str]:
    """(uuid, name) of the first node (by name) holding the export ``path``."""
    nodes = sorted(lu.cfg.get_all_nodes_info().values(), key=lambda node: node.name)
    listing = es.list_exports(lu.context, [node.uuid for node in nodes if node.uuid])
    for uuid, (name, exports, _status) in listing.items():
        if exports is not None and path in exports:
            return uuid, name
    raise errors.OpPrereqError("No export found for relative path %s on any node (see"
                               " gnt-backup list)" % path, errors.ECODE_NOENT)


def read_export(lu: LogicalUnit) -> ImportSource:
    """Locate and read the export of an import, and fill the opcode from it."""
    op = lu.op
    if op.get("compress", constants.IEC_NONE) != constants.IEC_NONE:
        raise errors.OpPrereqError("Compression %r is not supported for imports (only %r)"
                                   % (op.compress, constants.IEC_NONE), errors.ECODE_INVAL)
    path = _relative_path(op.get("src_path") or op.instance_name)
    if op.get("src_node"):
        node_uuid, node_name = lu.expand_node(op.src_node)
    elif os.path.isabs(op.get("src_path") or ""):
        raise errors.OpPrereqError("Importing an instance from a path requires a source node"
                                   " option (--src-node)", errors.ECODE_INVAL)
    else:
        node_uuid, node_name = _find_export(lu, path)
    iu.check_node_online(lu.cfg, node_uuid, "import an instance from it")
    op.src_node, op.src_node_uuid, op.src_path = node_name, node_uuid, path
    result = lu.rpc.call_one("export_info", iu.node_address(lu, node_uuid), [path])
    if not result.success:
        raise errors.OpPrereqError("No export or invalid export found in directory %s on node"
                                   " %s: %s" % (path, node_name, iu.result_error(result)),
                                   errors.ECODE_INVAL)
    source = ImportSource(node_uuid, node_name, path,
                          es.parse_config(result.payload, "%s:%s" % (node_name, path)))
    _fill_opcode(lu, source.config)
    return source


def _coerced(family: paramdefs.ParamFamily, values: dict[str, str], lu: LogicalUnit,
             what: str) -> dict[str, Any]:
    """Export strings as typed parameters; names this cluster does not know are dropped."""
    from ganeti.client.cluster_setup import coerce_params

    known: dict[str, Any] = {}
    for name, value in values.items():
        definition = family.params.get(family.aliases.get(name, (name,))[0])
        if definition is None:
            lu.log_warning("Ignoring the exported %s parameter %s=%s (unknown here)",
                           what, name, value)
        elif value.lower() == constants.VALUE_NONE and definition.default is None:
            known[name] = None
        else:
            known[name] = value
    try:
        return coerce_params(family, known, "export %s" % what)
    except errors.ParameterError as err:
        raise errors.OpPrereqError(str(err), errors.ECODE_INVAL) from err


def _fill_opcode(lu: LogicalUnit, config: es.ExportConfig) -> None:
    """What the command line did not say comes from the export (Ganeti's rules)."""
    op = lu.op
    cluster = lu.cfg.get_cluster_info()
    op.os_type = config.os
    # The variant was accepted at the first installation; refusing it now would
    # make the export useless.
    op.force_variant = True
    if op.get("no_install"):
        lu.log_info("No-installation mode has no effect during import")
        op.no_install = False
    if not op.get("disk_template"):
        template = config.disk_template
        if template not in cluster.enabled_disk_templates:
            template = (cluster.enabled_disk_templates or [constants.DT_DISKLESS])[0]
        op.disk_template = template
    if not op.disks and op.disk_template != constants.DT_DISKLESS:
        if not config.disks:
            raise errors.OpPrereqError("No disk information given and the export has none",
                                       errors.ECODE_INVAL)
        op.disks = [{constants.IDISK_SIZE: disk["size"], constants.IDISK_NAME: disk["name"]}
                    if disk["name"] else {constants.IDISK_SIZE: disk["size"]}
                    for disk in config.disks]
    if not op.nics:
        op.nics = [_nic_from_export(nic) for nic in config.nics]
    elif op.instance_name == config.name:
        # The same instance back: NICs without a MAC keep the exported ones.
        for nic, exported in zip(op.nics, config.nics):
            if nic.get(constants.INIC_MAC) in _AUTO_MAC and exported.get("mac"):
                nic[constants.INIC_MAC] = exported["mac"]
    if not op.get("tags"):
        op.tags = list(config.tags)
    if not op.get("hypervisor"):
        op.hypervisor = config.hypervisor
    hypervisor = op.get("hypervisor") or (cluster.enabled_hypervisors or [""])[0]
    hvparams = _coerced(paramdefs.hv_family(hypervisor), config.hvparams, lu, "hypervisor")
    op.hvparams = {**hvparams, **(op.get("hvparams") or {})}
    beparams = _coerced(paramdefs.BEPARAMS, config.beparams, lu, "backend")
    op.beparams = {**paramdefs.BEPARAMS.resolve_aliases(beparams),
                   **paramdefs.BEPARAMS.resolve_aliases(dict(op.get("beparams") or {}))}
    op.osparams = {**config.osparams, **(op.get("osparams") or {})}
    op.osparams_private = {**config.osparams_private, **(op.get("osparams_private") or {})}
    if op.get("identify_defaults"):
        _drop_defaults(lu, hypervisor)


def _nic_from_export(nic: dict[str, Any]) -> dict[str, Any]:
    """A NIC definition of the opcode from an exported NIC (no value: not set)."""
    keys = [constants.INIC_MAC, constants.INIC_IP, constants.INIC_NAME]
    # A NIC on a network takes its mode and link from the network's connection.
    keys.append(constants.INIC_NETWORK if nic.get("network") else constants.INIC_MODE)
    if not nic.get("network"):
        keys.extend([constants.INIC_LINK, constants.INIC_VLAN])
    return {key: nic[key] for key in keys if nic.get(key) is not None}


def _drop_defaults(lu: LogicalUnit, hypervisor: str) -> None:
    """--identify-defaults: parameters equal to the cluster's defaults are not kept."""
    op = lu.op
    cluster = lu.cfg.get_cluster_info()
    defaults = {
        "hvparams": cluster.fill_hvparams_for(hypervisor, op.os_type, {}),
        "beparams": cluster.fill_beparams({}),
        "osparams": dict(cluster.osparams.get(op.os_type.split("+", 1)[0]) or {}),
    }
    for key, default in defaults.items():
        setattr(op, key, {name: value for name, value in (op.get(key) or {}).items()
                          if name not in default or default[name] != value})


def add_source_lock(lu: LogicalUnit, source: ImportSource | None) -> None:
    """The node holding the export is locked (shared) with the new instance's nodes."""
    assert lu.needed_locks is not None
    nodes = lu.needed_locks.get(locking.LEVEL_NODE)
    if source is not None and nodes is not locking.ALL_SET and source.node_uuid not in nodes:
        nodes.append(source.node_uuid)


def hooks_env(source: ImportSource | None) -> dict[str, str]:
    """Ganeti's SRC_NODE, SRC_PATH and SRC_IMAGES hook variables."""
    if source is None:
        return {"SRC_NODE": "", "SRC_PATH": "", "SRC_IMAGES": ""}
    return {"SRC_NODE": source.node_name, "SRC_PATH": source.absolute_path(),
            "SRC_IMAGES": " ".join(os.path.join(source.absolute_path(), image)
                                   for image in source.images if image)}


def import_disks(lu: LogicalUnit, source: ImportSource, inst: Any, pnode_uuid: str,
                 osparams: dict[str, Any], start: bool) -> None:
    """Fill the new instance's disks from the export's dumps; run the rename script."""
    lu.log_info("Running the OS import scripts of %s for instance %s on node %s",
                inst.os, inst.name, iu.node_name(lu.cfg, pnode_uuid))
    iu.assemble_disks(lu, inst)
    data = iu.instance_rpc_dict(lu.cfg, inst, osparams=osparams)
    primary = iu.node_address(lu, pnode_uuid)
    local = source.node_uuid == pnode_uuid
    staging = source.path if local else ".import-%s-%s" % (inst.name, lu.owner)
    debug = int(lu.op.get("debug_level") or 0)
    disk_count = len(data["disks"])
    try:
        for index, dump in enumerate(source.images[:disk_count]):
            label = "disk/%d" % index
            if dump is None:
                lu.log_warning("The export has no dump for %s; it is left empty", label)
                continue
            if not local:
                es.copy_dump(lu, source.node_uuid, source.path, pnode_uuid, staging, dump,
                             label, lambda message: lu.log_info("%s", message))
            lu.log_info("  - %s: running the import script", label)
            lu.rpc.call_one("import_disk", primary, [data, index, staging, dump, debug]
                            ).raise_if_failed("Importing %s of %s" % (label, inst.name))
            if not local:
                lu.rpc.call_one("export_remove", primary, [staging + "/" + dump])
    finally:
        if not local:
            lu.rpc.call_one("export_remove", primary, [staging])
    if disk_count < len(source.images):
        lu.log_warning("The export has %d disk dump(s); only the first %d were imported",
                       len(source.images), disk_count)
    lu.log_info("Running the rename script for %s (exported as %s)", inst.name,
                source.config.name)
    result = lu.rpc.call_one("instance_run_rename", primary,
                             [data, source.config.name, debug])
    if not result.success:
        lu.log_warning("Failed to run the rename script for %s on node %s: %s", inst.name,
                       primary.name, iu.result_error(result))
    if not start:
        iu.shutdown_disks(lu, inst, ignore_failures=True)
