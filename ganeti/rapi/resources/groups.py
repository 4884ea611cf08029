"""Node groups: list, add, remove, modify, rename, assign nodes, tags."""

from __future__ import annotations

from typing import Any

from ganeti import constants, opcodes
from ganeti.rapi.baserlib import FORCE, WRITE_QUERY, Resource
from ganeti.rapi.resources.common import (
    COMMON_FIELDS,
    ObjectListResource,
    ObjectResource,
    TagsResource,
)

#: Group fields of bulk answers (Ganeti's G_FIELDS), kept to those the master declares.
GROUP_BULK_FIELDS = (
    "alloc_policy", "name", "node_cnt", "node_list", "ipolicy", "custom_ipolicy",
    "diskparams", "custom_diskparams", "ndparams", "custom_ndparams", *COMMON_FIELDS)


class _GroupItem(Resource):
    def opcode_params(self, method: str) -> dict[str, Any]:
        return {"group_name": self.items["group_name"]}


class Groups(ObjectListResource):
    DOC = "Node groups: GET the list (bulk=1: full objects), POST adds one."
    QUERY_RESOURCE = constants.QR_GROUP
    BULK_FIELDS = GROUP_BULK_FIELDS
    LIST_KEY = "name"
    URI_FORMAT = "/2/groups/%s"
    POST_OPCODE = opcodes.OpGroupAdd
    POST_RENAME = {"name": "group_name"}


class Group(ObjectResource, _GroupItem):
    DOC = "One node group: GET its data, DELETE removes it."
    QUERY_RESOURCE = constants.QR_GROUP
    BULK_FIELDS = GROUP_BULK_FIELDS
    NAME_ITEM = "group_name"
    KIND = "group"
    DELETE_OPCODE = opcodes.OpGroupRemove


class GroupModify(_GroupItem):
    DOC = "Change node group parameters."
    PUT_OPCODE = opcodes.OpGroupSetParams
    PUT_RENAME = {"custom_ndparams": "ndparams", "custom_ipolicy": "ipolicy",
                  "custom_diskparams": "diskparams"}


class GroupRename(_GroupItem):
    DOC = "Rename a node group (body: 'new_name')."
    PUT_OPCODE = opcodes.OpGroupRename


class GroupAssignNodes(_GroupItem):
    DOC = "Move nodes into a node group (body: 'nodes')."
    PUT_OPCODE = opcodes.OpGroupAssignNodes
    PUT_QUERY = (FORCE, *WRITE_QUERY)

    def opcode_params(self, method: str) -> dict[str, Any]:
        params = super().opcode_params(method)
        if self.query_value("force") is not None:
            params["force"] = self.query_bool("force")
        return params


class GroupTags(TagsResource):
    DOC = "Tags of a node group."
    TAG_KIND = constants.TAG_NODEGROUP
    NAME_ITEM = "group_name"
