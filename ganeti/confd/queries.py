"""One handler per confd request type, answering from a ``Snapshot``.

``answer(snapshot, request)`` returns the ``Reply``; it never raises for a
bad query (the client gets an error status with Ganeti's error code, or a
message for a refused generic query). Every reply carries the serial
number of the configuration it was computed from, so a client asking
several servers can keep the freshest answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ganeti import confd
from ganeti.confd import config_query
from ganeti.confd.protocol import Reply, Request
from ganeti.confd.snapshot import Snapshot
from ganeti.objects import Disk, Instance, Node

logger = logging.getLogger("ganeti.confd")


class _Error(Exception):
    """Ends a handler with an error reply carrying ``answer``."""

    def __init__(self, answer: Any, reason: str) -> None:
        super().__init__(reason)
        self.answer = answer


def _unknown(reason: str) -> _Error:
    return _Error(confd.ERROR_UNKNOWN_ENTRY, reason)


def _argument(reason: str) -> _Error:
    return _Error(confd.ERROR_ARGUMENT, reason)


def _name_query(query: Any, what: str) -> str:
    if not isinstance(query, str) or not query:
        raise _argument("the query must be a %s name, got %r" % (what, query))
    return query


def _node(snap: Snapshot, query: Any) -> Node:
    name = _name_query(query, "node")
    node = snap.find_node(name)
    if node is None:
        raise _unknown("node %r is not in the configuration" % name)
    return node


def _instance(snap: Snapshot, query: Any) -> Instance:
    name = _name_query(query, "instance")
    inst = snap.find_instance(name)
    if inst is None:
        raise _unknown("instance %r is not in the configuration" % name)
    return inst


def node_role(snap: Snapshot, node: Node) -> int:
    """Ganeti's order: master, then drained, offline, candidate, regular."""
    if node.uuid == snap.cluster.master_node:
        return confd.NODE_ROLE_MASTER
    if node.drained:
        return confd.NODE_ROLE_DRAINED
    if node.offline:
        return confd.NODE_ROLE_OFFLINE
    if node.master_candidate:
        return confd.NODE_ROLE_CANDIDATE
    return confd.NODE_ROLE_REGULAR


# -- handlers ------------------------------------------------------------------------------

def _ping(snap: Snapshot, query: Any) -> Any:
    return snap.data.version


def _node_role(snap: Snapshot, query: Any) -> Any:
    return node_role(snap, _node(snap, query))


def _master(snap: Snapshot) -> Node:
    master = snap.master_node
    if master is None:
        raise _Error(confd.ERROR_INTERNAL, "the master node is not in the configuration")
    return master


def _cluster_master(snap: Snapshot, query: Any) -> Any:
    if query is None:
        return _master(snap).name
    if not isinstance(query, dict):
        raise _argument("CLUSTER_MASTER takes no query or a dictionary of fields")
    fields = query.get(confd.REQQ_FIELDS, [])
    if not isinstance(fields, list):
        raise _argument("the fields of a CLUSTER_MASTER query must be a list")
    master = _master(snap)
    values = []
    for fld in fields:
        code = _field_code(fld)
        if code == confd.REQFIELD_NAME:
            values.append(master.name)
        elif code == confd.REQFIELD_IP:
            values.append(snap.cluster.master_ip)
        else:
            values.append(master.primary_ip)
    return values


def _field_code(fld: Any) -> int:
    """A CLUSTER_MASTER field (its number, also accepted as a numeric string)."""
    try:
        code = int(fld)
    except (TypeError, ValueError):
        code = -1
    if isinstance(fld, bool) or code not in confd.REQFIELD_NAMES:
        raise _argument("unknown CLUSTER_MASTER field %r (known: %s)"
                        % (fld, ", ".join("%d (%s)" % item
                                          for item in confd.REQFIELD_NAMES.items())))
    return code


def _node_pip_list(snap: Snapshot, query: Any) -> Any:
    return [node.primary_ip for node in snap.data.nodes.values()]


def _mc_pip_list(snap: Snapshot, query: Any) -> Any:
    return [node.primary_ip for node in snap.data.nodes.values() if node.master_candidate]


def _link(snap: Snapshot, link: Any) -> str:
    if link is None:
        return snap.default_link
    if not isinstance(link, str):
        raise _argument("the link must be a string, got %r" % (link,))
    return link


def _instances_ips_list(snap: Snapshot, query: Any) -> Any:
    return sorted(snap.link_ips.get(_link(snap, query), {}))


def _pip_of_instance_ip(snap: Snapshot, link: str, ip: str) -> tuple[int, Any]:
    inst_uuid = snap.link_ips.get(link, {}).get(ip)
    inst = snap.data.instances.get(inst_uuid) if inst_uuid else None
    node = snap.data.nodes.get(inst.primary_node) if inst is not None else None
    if node is None:
        return confd.REPL_STATUS_ERROR, confd.ERROR_UNKNOWN_ENTRY
    return confd.REPL_STATUS_OK, node.primary_ip


def _node_pip_by_instance_ip(snap: Snapshot, query: Any) -> Any:
    if not isinstance(query, dict):
        raise _argument("NODE_PIP_BY_INSTANCE_IP takes a dictionary {ip or ip list, link}")
    link = _link(snap, query.get(confd.REQQ_LINK))
    ip = query.get(confd.REQQ_IP)
    if ip is not None:
        if not isinstance(ip, str):
            raise _argument("the instance IP must be a string, got %r" % (ip,))
        status, value = _pip_of_instance_ip(snap, link, ip)
        if status != confd.REPL_STATUS_OK:
            raise _unknown("no instance has IP %s on link %r" % (ip, link))
        return value
    ips = query.get(confd.REQQ_IPLIST, [])
    if not isinstance(ips, list) or not all(isinstance(i, str) for i in ips):
        raise _argument("the instance IP list must be a list of strings")
    # One (status, answer) pair per address, as Ganeti answers lists.
    return [list(_pip_of_instance_ip(snap, link, i)) for i in ips]


def _node_drbd(snap: Snapshot, query: Any) -> Any:
    node = _node(snap, query)
    return [list(minor) for minor in snap.drbd_minors.get(node.uuid or "", [])]


def _redacted_instance(snap: Snapshot, inst: Instance) -> Any:
    return config_query.INSTANCE.view(inst.to_dict(), snap)


def _node_instances(snap: Snapshot, query: Any) -> Any:
    node = _node(snap, query)
    primary, secondary = snap.node_instances.get(node.uuid or "", ([], []))
    instances = snap.data.instances
    return [[_redacted_instance(snap, instances[u]) for u in primary],
            [_redacted_instance(snap, instances[u]) for u in secondary]]


def _redacted_disk(snap: Snapshot, disk: Disk) -> Any:
    return config_query.DISK.view(disk.to_dict(), snap)


def _instance_disks(snap: Snapshot, query: Any) -> Any:
    inst = _instance(snap, query)
    return [_redacted_disk(snap, disk) for disk in snap.instance_disks(inst)]


def _config_query(snap: Snapshot, query: Any) -> Any:
    try:
        return config_query.query(snap, query)
    except config_query.QueryError as err:
        raise _Error(err.answer, str(err)) from None


HANDLERS: dict[int, Callable[[Snapshot, Any], Any]] = {
    confd.REQ_PING: _ping,
    confd.REQ_NODE_ROLE_BYNAME: _node_role,
    confd.REQ_NODE_PIP_BY_INSTANCE_IP: _node_pip_by_instance_ip,
    confd.REQ_CLUSTER_MASTER: _cluster_master,
    confd.REQ_NODE_PIP_LIST: _node_pip_list,
    confd.REQ_MC_PIP_LIST: _mc_pip_list,
    confd.REQ_INSTANCES_IPS_LIST: _instances_ips_list,
    confd.REQ_NODE_DRBD: _node_drbd,
    confd.REQ_NODE_INSTANCES: _node_instances,
    confd.REQ_INSTANCE_DISKS: _instance_disks,
    confd.REQ_CONFIG_QUERY: _config_query,
}


def answer(snap: Snapshot | None, request: Request) -> Reply:
    """The reply to ``request`` from ``snap`` (None: no configuration loaded)."""
    if snap is None:
        return Reply(confd.REPL_STATUS_ERROR, confd.ERROR_INTERNAL, 0)
    if request.protocol != confd.PROTOCOL_VERSION:
        return Reply(confd.REPL_STATUS_ERROR, confd.ERROR_ARGUMENT, snap.serial)
    handler = HANDLERS.get(request.type)
    if handler is None:
        return Reply(confd.REPL_STATUS_NOTIMPLEMENTED, None, snap.serial)
    try:
        return Reply(confd.REPL_STATUS_OK, handler(snap, request.query), snap.serial)
    except _Error as err:
        logger.debug("%s query %r refused: %s",
                     confd.REQUEST_NAMES.get(request.type, request.type), request.query, err)
        return Reply(confd.REPL_STATUS_ERROR, err.answer, snap.serial)
    except Exception:  # a bug or an odd config: answer, keep serving
        logger.exception("Error answering %s query %r",
                         confd.REQUEST_NAMES.get(request.type, request.type), request.query)
        return Reply(confd.REPL_STATUS_ERROR, confd.ERROR_INTERNAL, snap.serial)


def too_large(reply: Reply, size: int) -> Reply:
    """The error sent instead of a reply that does not fit in a UDP packet."""
    return Reply(confd.REPL_STATUS_ERROR,
                 "the answer (%d bytes) does not fit in a confd packet (limit %d bytes); "
                 "ask for a narrower path" % (size, confd.MAX_PACKET_SIZE), reply.serial)

