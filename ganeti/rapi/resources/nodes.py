"""Nodes: list, roles, evacuation, migration, parameters, storage, tags."""

from __future__ import annotations

from typing import Any

from ganeti import constants, opcodes, serializer
from ganeti.rapi import OPT_WRITE, apierrors
from ganeti.rapi.baserlib import FORCE, REASON, WRITE_QUERY, QueryParam, Resource
from ganeti.rapi.resources.common import (
    COMMON_FIELDS,
    ObjectListResource,
    ObjectResource,
    TagsResource,
)

#: Node fields of bulk answers (Ganeti's N_FIELDS), kept to those the master declares.
NODE_BULK_FIELDS = (
    "name", "offline", "master_candidate", "drained", "dtotal", "dfree", "sptotal",
    "spfree", "mtotal", "mnode", "mfree", "hv_state", "pinst_cnt", "sinst_cnt", "ctotal",
    "cnos", "cnodes", "csockets", "pip", "sip", "role", "pinst_list", "sinst_list",
    "master_capable", "vm_capable", "ndparams", "group.uuid", *COMMON_FIELDS)

ROLE_MASTER = "master"
ROLE_CANDIDATE = "master-candidate"
ROLE_REGULAR = "regular"
ROLE_DRAINED = "drained"
ROLE_OFFLINE = "offline"
#: The query field "role" letter -> the RAPI role name (Ganeti's).
ROLE_BY_LETTER = {"M": ROLE_MASTER, "C": ROLE_CANDIDATE, "R": ROLE_REGULAR,
                  "D": ROLE_DRAINED, "O": ROLE_OFFLINE}
#: The node flags a role sets (master_candidate, drained, offline).
FLAGS_BY_ROLE = {
    ROLE_REGULAR: {"master_candidate": False, "drained": False, "offline": False},
    ROLE_CANDIDATE: {"master_candidate": True, "drained": False, "offline": False},
    ROLE_DRAINED: {"master_candidate": False, "drained": True, "offline": False},
    ROLE_OFFLINE: {"master_candidate": False, "drained": False, "offline": True},
}

STORAGE_TYPE = QueryParam("storage_type", "string", "Storage type (file, lvm-pv, lvm-vg…)")
STORAGE_NAME = QueryParam("name", "string", "Storage unit name")


class _NodeItem(Resource):
    def opcode_params(self, method: str) -> dict[str, Any]:
        return {"node_name": self.items["node_name"]}


class Nodes(ObjectListResource):
    DOC = "Nodes: names and URIs, or full objects with bulk=1."
    QUERY_RESOURCE = constants.QR_NODE
    BULK_FIELDS = NODE_BULK_FIELDS
    URI_FORMAT = "/2/nodes/%s"


class Node(ObjectResource):
    DOC = "One node's data."
    QUERY_RESOURCE = constants.QR_NODE
    BULK_FIELDS = NODE_BULK_FIELDS
    NAME_ITEM = "node_name"
    KIND = "node"


class NodeRole(_NodeItem):
    DOC = ("GET the node's role (master, master-candidate, regular, drained, offline);"
           " PUT a role (a JSON string) to change it.")
    PUT_OPCODE = opcodes.OpNodeSetParams
    PUT_QUERY = (FORCE, QueryParam("auto-promote", "bool", "Promote other nodes to keep"
                                   " the candidate pool full"), *WRITE_QUERY)
    BODY_DOC = {"PUT": "The new role as a JSON string: master-candidate, regular, drained"
                       " or offline"}

    async def handle_get(self) -> Any:
        name = self.items["node_name"]
        rows = await self.query_rows(constants.QR_NODE, ["role"], ["=", "name", name])
        if not rows:
            raise apierrors.NotFound("Node '%s' not found" % name)
        return ROLE_BY_LETTER.get(rows[0]["role"], rows[0]["role"])

    async def handle_put(self) -> Any:
        role = self.request.body
        if role == ROLE_MASTER:
            raise apierrors.BadRequest("The master role can't be set; fail the master over"
                                       " instead (gnt-cluster master-failover)")
        if not isinstance(role, str) or role not in FLAGS_BY_ROLE:
            raise apierrors.BadRequest("The body must be one of the roles %s as a JSON"
                                       " string, got %s" % (", ".join(sorted(FLAGS_BY_ROLE)),
                                                            serializer.dump(role)))
        data: dict[str, Any] = dict(FLAGS_BY_ROLE[role])
        data["force"] = self.query_bool("force")
        data["auto_promote"] = self.query_bool("auto-promote")
        return await self.submit(self.build_opcode("PUT", data))


class NodeEvacuate(_NodeItem):
    DOC = "Move instances off a node (body: 'mode', 'iallocator', 'remote_node')."
    POST_OPCODE = opcodes.OpNodeEvacuate


class NodeMigrate(_NodeItem):
    DOC = "Migrate the primary instances of a node (body: 'mode', 'target_node', …)."
    POST_OPCODE = opcodes.OpNodeMigrate
    POST_QUERY = (QueryParam("live", "bool", "Legacy: live migration"),
                  QueryParam("mode", "string", "Legacy: live or non-live"), *WRITE_QUERY)

    async def handle_post(self) -> Any:
        body = self.body_dict()
        if not body:  # legacy: parameters in the query string
            if self.query_value("mode") is not None:
                body["mode"] = self.query_value("mode")
            elif self.query_value("live") is not None:
                body["mode"] = (constants.HT_MIGRATION_LIVE if self.query_bool("live")
                                else constants.HT_MIGRATION_NONLIVE)
        return await self.submit(self.build_opcode("POST", body))


class NodeModify(_NodeItem):
    DOC = "Change node parameters."
    POST_OPCODE = opcodes.OpNodeSetParams


class NodePowercycle(_NodeItem):
    DOC = "Power-cycle a node."
    POST_OPCODE = opcodes.OpNodePowercycle
    POST_QUERY = (FORCE, *WRITE_QUERY)

    def opcode_params(self, method: str) -> dict[str, Any]:
        params = super().opcode_params(method)
        params["force"] = self.query_bool("force")
        return params


class NodeStorage(_NodeItem):
    DOC = "Submit a job listing a node's storage units."
    GET_OPCODE = opcodes.OpNodeQueryStorage
    GET_ACCESS = (OPT_WRITE,)
    GET_QUERY = (STORAGE_TYPE, QueryParam("output_fields", "string",
                                          "Comma-separated fields"), REASON)

    async def handle_get(self) -> Any:
        fields = self.query_value("output_fields")
        if not fields:
            raise apierrors.BadRequest("Query parameter 'output_fields' is required")
        op = self.build_opcode("GET", {
            "nodes": [self.items["node_name"]], "storage_type": self.query_value(
                "storage_type"), "output_fields": fields.split(",")})
        return await self.submit(op)

    def opcode_params(self, method: str) -> dict[str, Any]:
        return {}


class NodeStorageModify(_NodeItem):
    DOC = "Change a storage unit (allocatable=0|1)."
    PUT_OPCODE = opcodes.OpNodeModifyStorage
    PUT_QUERY = (STORAGE_TYPE, STORAGE_NAME,
                 QueryParam("allocatable", "bool", "Whether new disks may go there"),
                 *WRITE_QUERY)

    def opcode_params(self, method: str) -> dict[str, Any]:
        params = super().opcode_params(method)
        changes = {}
        if self.query_value("allocatable") is not None:
            changes["allocatable"] = self.query_bool("allocatable")
        params.update(storage_type=self.query_value("storage_type"),
                      name=self.query_value("name"), changes=changes)
        return params


class NodeStorageRepair(_NodeItem):
    DOC = "Repair a storage unit."
    PUT_OPCODE = opcodes.OpRepairNodeStorage
    PUT_QUERY = (STORAGE_TYPE, STORAGE_NAME, *WRITE_QUERY)

    def opcode_params(self, method: str) -> dict[str, Any]:
        params = super().opcode_params(method)
        params.update(storage_type=self.query_value("storage_type"),
                      name=self.query_value("name"))
        return params


class NodeTags(TagsResource):
    DOC = "Tags of a node."
    TAG_KIND = constants.TAG_NODE
    NAME_ITEM = "node_name"
