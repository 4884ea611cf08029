"""What exports and imports share on the master: the export's ``config.ini``,
the export list of the nodes, and copying dumps between nodes.

``config.ini`` is Ganeti's export format (version 0): sections ``export``
(version, timestamp, source node, OS, compression), ``instance`` (name,
memory, vcpus, disk template, hypervisor, tags, ``nic<N>_*`` and
``disk<N>_*`` keys with their counts), ``hypervisor``, ``backend``, ``os``
and ``os_private`` holding the instance's filled parameters. A value
``None`` stands for no value, as in Ganeti.

Dumps are copied between nodes in base64 chunks through the master, the way
``gnt-instance move`` copies disks, with progress lines in the job log.
"""

from __future__ import annotations

import configparser
import io
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ganeti import constants, errors, objects, paramdefs
from ganeti.cmdlib import instance_utils as iu
from ganeti.cmdlib.base import FeedbackFn, LogicalUnit
from ganeti.cmdlib.chunk_copy import CHUNK_SIZE, copy_chunks

if TYPE_CHECKING:
    from ganeti.context import MasterContext

INISECT_EXP = "export"
INISECT_INS = "instance"
INISECT_HYP = "hypervisor"
INISECT_BEP = "backend"
INISECT_OSP = "os"
INISECT_OSP_PRIVATE = "os_private"
#: NIC parameters saved per NIC (Ganeti's NICS_PARAMETER_TYPES).
NIC_PARAMS = (paramdefs.NIC_MODE, paramdefs.NIC_LINK, paramdefs.NIC_VLAN)
#: Most disks and NICs an export is searched for.
_MAX_DEVICES = 64


def _new_parser() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep the case
    return parser


def _text(value: Any) -> str:
    return "None" if value is None else str(value)


def build_config(cfg: Any, inst: objects.Instance, disks: list[objects.Disk],
                 dumps: list[str]) -> str:
    """The ``config.ini`` text of an export of ``inst`` (``dumps``: file per disk)."""
    data = iu.instance_rpc_dict(cfg, inst, disks=disks)
    beparams = data["beparams"]
    parser = _new_parser()
    parser[INISECT_EXP] = {
        "version": str(constants.EXPORT_VERSION),
        "timestamp": "%d" % int(time.time()),
        "source": iu.node_name(cfg, inst.primary_node),
        "os": inst.os,
        "compression": constants.IEC_NONE,
    }
    section: dict[str, str] = {
        "name": inst.name,
        "maxmem": _text(beparams.get(paramdefs.BE_MAXMEM)),
        "minmem": _text(beparams.get(paramdefs.BE_MINMEM)),
        # Deprecated, kept for older readers (as Ganeti does).
        "memory": _text(beparams.get(paramdefs.BE_MAXMEM)),
        "vcpus": _text(beparams.get(paramdefs.BE_VCPUS)),
        "disk_template": disks[0].dev_type if disks else constants.DT_DISKLESS,
        "hypervisor": inst.hypervisor,
        "tags": " ".join(inst.tags),
    }
    for index, nic in enumerate(inst.nics):
        section["nic%d_mac" % index] = _text(nic.mac)
        section["nic%d_ip" % index] = _text(nic.ip)
        section["nic%d_network" % index] = _text(nic.network)
        section["nic%d_name" % index] = _text(nic.name)
        for param in NIC_PARAMS:
            section["nic%d_%s" % (index, param)] = _text(nic.nicparams.get(param))
    section["nic_count"] = "%d" % len(inst.nics)
    for index, (disk, dump) in enumerate(zip(disks, dumps, strict=True)):
        section["disk%d_ivname" % index] = _text(disk.iv_name)
        section["disk%d_dump" % index] = dump
        section["disk%d_size" % index] = "%d" % disk.size
        section["disk%d_name" % index] = _text(disk.name)
    section["disk_count"] = "%d" % len(disks)
    parser[INISECT_INS] = section
    parser[INISECT_HYP] = {k: _text(v) for k, v in sorted(data["hvparams"].items())
                           if k not in paramdefs.HVC_GLOBALS}
    parser[INISECT_BEP] = {k: _text(v) for k, v in sorted(beparams.items())}
    parser[INISECT_OSP] = {k: _text(v) for k, v in sorted(data["osparams"].items())}
    parser[INISECT_OSP_PRIVATE] = {k: _text(v)
                                   for k, v in sorted(data["osparams_private"].items())}
    out = io.StringIO()
    parser.write(out)
    return out.getvalue()


@dataclass
class ExportConfig:
    """An export's ``config.ini``, read."""

    version: int
    os: str
    name: str
    hypervisor: str | None
    disk_template: str | None
    tags: list[str]
    #: [{size (MiB), name, dump (file name or None)}] by disk index
    disks: list[dict[str, Any]] = field(default_factory=list)
    #: [{mac, ip, name, network, mode, link, vlan}] by NIC index
    nics: list[dict[str, Any]] = field(default_factory=list)
    hvparams: dict[str, str] = field(default_factory=dict)
    beparams: dict[str, str] = field(default_factory=dict)
    osparams: dict[str, str] = field(default_factory=dict)
    osparams_private: dict[str, str] = field(default_factory=dict)


def _value(parser: configparser.ConfigParser, section: str, option: str) -> str | None:
    """An option's value; "None" and missing options give None."""
    value = parser.get(section, option, fallback=None)
    if value is None or value.lower() == constants.VALUE_NONE:
        return None
    return value


def parse_config(text: str, where: str) -> ExportConfig:
    """Read an export's ``config.ini``; OpPrereqError naming ``where`` if it is unusable."""
    parser = _new_parser()
    try:
        parser.read_string(text)
    except configparser.Error as err:
        raise errors.OpPrereqError("The export at %s has an unreadable %s: %s"
                                   % (where, "config.ini", err), errors.ECODE_ENVIRON) from err
    for section in (INISECT_EXP, INISECT_INS):
        if not parser.has_section(section):
            raise errors.OpPrereqError("The export at %s is corrupted: config.ini has no"
                                       " [%s] section" % (where, section),
                                       errors.ECODE_ENVIRON)
    version = _value(parser, INISECT_EXP, "version")
    if version is None or not version.isdigit() or int(version) != constants.EXPORT_VERSION:
        raise errors.OpPrereqError("The export at %s has version %s; this cluster reads"
                                   " version %d" % (where, version, constants.EXPORT_VERSION),
                                   errors.ECODE_ENVIRON)
    os_name = _value(parser, INISECT_EXP, "os")
    name = _value(parser, INISECT_INS, "name")
    if not os_name or not name:
        raise errors.OpPrereqError("The export at %s is corrupted: config.ini names no %s"
                                   % (where, "OS" if not os_name else "instance"),
                                   errors.ECODE_ENVIRON)
    config = ExportConfig(
        version=int(version), os=os_name, name=name,
        hypervisor=_value(parser, INISECT_INS, "hypervisor"),
        disk_template=_value(parser, INISECT_INS, "disk_template"),
        tags=(_value(parser, INISECT_INS, "tags") or "").split())
    for index in range(_MAX_DEVICES):
        size = _value(parser, INISECT_INS, "disk%d_size" % index)
        if size is None:
            break
        if not size.isdigit():
            raise errors.OpPrereqError("The export at %s is corrupted: disk%d_size is %r"
                                       % (where, index, size), errors.ECODE_ENVIRON)
        config.disks.append({"size": int(size),
                             "name": _value(parser, INISECT_INS, "disk%d_name" % index),
                             "dump": _value(parser, INISECT_INS, "disk%d_dump" % index)})
    for index in range(_MAX_DEVICES):
        if not parser.has_option(INISECT_INS, "nic%d_mac" % index):
            break
        config.nics.append({key: _value(parser, INISECT_INS, "nic%d_%s" % (index, key))
                            for key in ("mac", "ip", "name", "network", *NIC_PARAMS)})
    for section, target in ((INISECT_HYP, config.hvparams), (INISECT_BEP, config.beparams),
                            (INISECT_OSP, config.osparams),
                            (INISECT_OSP_PRIVATE, config.osparams_private)):
        if parser.has_section(section):
            target.update(parser.items(section))
    return config


# -- the nodes' exports -------------------------------------------------------------------

def list_exports(context: MasterContext, node_uuids: Iterable[str]
                 ) -> dict[str, tuple[str, list[str] | None, int]]:
    """node UUID -> (node name, its exports or None, cell status when None)."""
    addresses = {uuid: context.node_address(uuid) for uuid in node_uuids}
    online = [address for address in addresses.values() if not address.offline]
    results = context.rpc.call("export_list", online, []) if online else {}
    answer: dict[str, tuple[str, list[str] | None, int]] = {}
    for uuid, address in addresses.items():
        result = results.get(address.name)
        if address.offline:
            answer[uuid] = (address.name, None, constants.RS_OFFLINE)
        elif result is None or not result.success:
            answer[uuid] = (address.name, None, constants.RS_NODATA)
        else:
            answer[uuid] = (address.name, list(result.payload), constants.RS_NORMAL)
    return answer


def remove_exports(lu: LogicalUnit, name: str, node_uuids: Iterable[str]) -> list[str]:
    """Remove the export ``name`` from those of ``node_uuids`` holding it; the names of
    the nodes it was removed from. Failures are warnings."""
    removed = []
    for uuid, (node, exports, _status) in list_exports(lu.context, node_uuids).items():
        if exports is None:
            lu.log_warning("Could not ask node %s for its exports", node)
            continue
        if name not in exports:
            continue
        result = lu.rpc.call_one("export_remove", iu.node_address(lu, uuid), [name])
        if result.success:
            removed.append(node)
        else:
            lu.log_warning("Could not remove the export of %s on node %s: %s", name, node,
                           iu.result_error(result))
    return removed


# -- copying dumps between nodes ------------------------------------------------------------

def copy_dump(lu: LogicalUnit, src_uuid: str, src_path: str, dst_uuid: str, dst_path: str,
              name: str, label: str, feedback_fn: FeedbackFn) -> int:
    """Copy dump ``name`` from ``src_path`` on one node to ``dst_path`` on another,
    with progress lines; returns the bytes copied."""
    src = iu.node_address(lu, src_uuid)
    dst = iu.node_address(lu, dst_uuid)
    total = lu.rpc.call_one("export_file_size", src, [src_path, name]).raise_if_failed(
        "%s: size of the dump" % label)

    def read(offset: int) -> str:
        return lu.rpc.call_one("export_read_chunk", src, [src_path, name, offset, CHUNK_SIZE]
                               ).raise_if_failed(label)

    def write(offset: int, data: str) -> None:
        lu.rpc.call_one("export_write_chunk", dst,
                        [dst_path, name, offset, data]).raise_if_failed(label)

    def progress(percent: int, offset: int) -> str:
        return ("  - %s: %d%% copied to %s (%d of %d MiB)"
                % (label, percent, dst.name, offset >> 20, total >> 20))

    # An empty dump still gets its (empty) file on the target.
    return copy_chunks(lu, read, write, total, progress, feedback_fn, create_empty=True)
