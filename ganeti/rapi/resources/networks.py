"""Networks: list, add, remove, modify, connect, disconnect, rename, tags."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ganeti import constants, opcodes
from ganeti.rapi.baserlib import Resource
from ganeti.rapi.resources.common import (
    COMMON_FIELDS,
    ObjectListResource,
    ObjectResource,
    TagsResource,
)

#: Network fields of bulk answers (Ganeti's NET_FIELDS), kept to those the master declares.
NETWORK_BULK_FIELDS = (
    "name", "network", "gateway", "network6", "gateway6", "mac_prefix", "free_count",
    "reserved_count", "map", "group_list", "inst_list", "external_reservations",
    *COMMON_FIELDS)


class _NetworkItem(Resource):
    def opcode_params(self, method: str) -> dict[str, Any]:
        return {"network_name": self.items["network_name"]}


class Networks(ObjectListResource):
    DOC = "Networks: GET the list (bulk=1: full objects), POST adds one."
    QUERY_RESOURCE = constants.QR_NETWORK
    BULK_FIELDS = NETWORK_BULK_FIELDS
    LIST_KEY = "name"
    URI_FORMAT = "/2/networks/%s"
    POST_OPCODE = opcodes.OpNetworkAdd
    POST_RENAME = {"name": "network_name"}

    def build_opcode(self, method: str, body: Mapping[str, Any] | None = None,
                     opcode: type[opcodes.OpCode] | None = None) -> opcodes.OpCode:
        data = self.body_dict() if body is None else dict(body)
        # Ganeti's client sends "tags": null when none are given (Ganeti: no tags).
        if "tags" in data and data["tags"] is None:
            del data["tags"]
        return super().build_opcode(method, data, opcode)


class Network(ObjectResource, _NetworkItem):
    DOC = "One network: GET its data, DELETE removes it."
    QUERY_RESOURCE = constants.QR_NETWORK
    BULK_FIELDS = NETWORK_BULK_FIELDS
    NAME_ITEM = "network_name"
    KIND = "network"
    DELETE_OPCODE = opcodes.OpNetworkRemove


class NetworkModify(_NetworkItem):
    DOC = "Change network parameters."
    PUT_OPCODE = opcodes.OpNetworkSetParams


class NetworkConnect(_NetworkItem):
    DOC = "Connect a network to a node group (body: 'group_name', 'network_mode', …)."
    PUT_OPCODE = opcodes.OpNetworkConnect


class NetworkDisconnect(_NetworkItem):
    DOC = "Disconnect a network from a node group (body: 'group_name')."
    PUT_OPCODE = opcodes.OpNetworkDisconnect


class NetworkRename(_NetworkItem):
    DOC = "Rename a network (body: 'new_name')."
    PUT_OPCODE = opcodes.OpNetworkRename


class NetworkTags(TagsResource):
    DOC = "Tags of a network."
    TAG_KIND = constants.TAG_NETWORK
    NAME_ITEM = "network_name"
