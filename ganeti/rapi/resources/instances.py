"""Instances: list, create, and every per-instance operation."""

from __future__ import annotations

from typing import Any

from ganeti import constants, opcodes
from ganeti.rapi import OPT_READ, OPT_WRITE, apierrors
from ganeti.rapi.baserlib import FORCE, REASON, WRITE_QUERY, QueryParam, Resource
from ganeti.rapi.resources.common import (
    COMMON_FIELDS,
    ObjectListResource,
    ObjectResource,
    TagsResource,
)

#: Instance fields of bulk answers (Ganeti's I_FIELDS), kept to those the master declares.
INSTANCE_BULK_FIELDS = (
    "name", "admin_state", "os", "pnode", "snodes", "disk_template", "nic.ips", "nic.macs",
    "nic.modes", "nic.uuids", "nic.names", "nic.links", "nic.networks",
    "nic.networks.names", "nic.bridges", "network_port", "disk.sizes", "disk.spindles",
    "disk_usage", "disk.uuids", "disk.names", "beparams", "hvparams", "oper_state",
    "oper_ram", "oper_vcpus", "status", "custom_hvparams", "custom_beparams",
    "custom_nicparams", *COMMON_FIELDS)

#: The only creation body format served (clients check /2/features).
CREATE_DATA_VERSION = 1
VERSION_FIELD = "__version__"

NO_REMEMBER = QueryParam("no_remember", "bool", "Do not record the new state in the config")


class _InstanceItem(Resource):
    """Base of /2/instances/<instance_name>/…: the name goes into the opcode."""

    def opcode_params(self, method: str) -> dict[str, Any]:
        return {"instance_name": self.items["instance_name"]}


class Instances(ObjectListResource):
    DOC = "Instances: GET the list (bulk=1: full objects), POST creates one."
    QUERY_RESOURCE = constants.QR_INSTANCE
    BULK_FIELDS = INSTANCE_BULK_FIELDS
    URI_FORMAT = "/2/instances/%s"
    POST_OPCODE = opcodes.OpInstanceCreate
    POST_RENAME = {"name": "instance_name", "os": "os_type"}

    async def handle_post(self) -> Any:
        body = self.body_dict()
        version = body.pop(VERSION_FIELD, 0)
        if version != CREATE_DATA_VERSION:
            raise apierrors.BadRequest(
                "Unsupported request data version %r: instance creation needs '%s': %d"
                " in the body (feature %s)" % (version, VERSION_FIELD, CREATE_DATA_VERSION,
                                                "instance-create-reqv1"))
        return await self.submit(self.build_opcode("POST", body))


class InstancesMultiAlloc(Resource):
    DOC = "Allocate several instances at once (body: 'instances', 'iallocator')."
    POST_OPCODE = opcodes.OpInstanceMultiAlloc


class Instance(ObjectResource, _InstanceItem):
    DOC = "One instance: GET its data, DELETE removes it."
    QUERY_RESOURCE = constants.QR_INSTANCE
    BULK_FIELDS = INSTANCE_BULK_FIELDS
    NAME_ITEM = "instance_name"
    KIND = "instance"
    DELETE_OPCODE = opcodes.OpInstanceRemove


class InstanceInfo(_InstanceItem):
    DOC = "Submit a job collecting detailed instance data (static=1: config only)."
    GET_OPCODE = opcodes.OpInstanceQueryData
    GET_QUERY = (QueryParam("static", "bool", "Only configuration data"), REASON)

    async def handle_get(self) -> Any:
        op = self.build_opcode("GET", {"instances": [self.items["instance_name"]],
                                       "static": self.query_bool("static")})
        return await self.submit(op)

    def opcode_params(self, method: str) -> dict[str, Any]:
        return {}


class InstanceReboot(_InstanceItem):
    DOC = "Reboot an instance (type=soft|hard|full)."
    POST_OPCODE = opcodes.OpInstanceReboot
    POST_QUERY = (QueryParam("type", "string", "soft, hard (default) or full"),
                  QueryParam("ignore_secondaries", "bool", "Ignore secondary node errors"),
                  *WRITE_QUERY)

    def opcode_params(self, method: str) -> dict[str, Any]:
        params = super().opcode_params(method)
        params["reboot_type"] = self.query_value("type", constants.INSTANCE_REBOOT_HARD)
        if self.query_value("ignore_secondaries") is not None:
            params["ignore_secondaries"] = self.query_bool("ignore_secondaries")
        return params


class InstanceStartup(_InstanceItem):
    DOC = "Start an instance."
    PUT_OPCODE = opcodes.OpInstanceStartup
    PUT_QUERY = (FORCE, NO_REMEMBER, *WRITE_QUERY)

    def opcode_params(self, method: str) -> dict[str, Any]:
        params = super().opcode_params(method)
        params["force"] = self.query_bool("force")
        params["no_remember"] = self.query_bool("no_remember")
        return params


class InstanceShutdown(_InstanceItem):
    DOC = "Stop an instance (body: 'timeout', 'force', 'ignore_offline_nodes')."
    PUT_OPCODE = opcodes.OpInstanceShutdown
    PUT_QUERY = (NO_REMEMBER, *WRITE_QUERY)

    def opcode_params(self, method: str) -> dict[str, Any]:
        params = super().opcode_params(method)
        if self.query_value("no_remember") is not None:
            params["no_remember"] = self.query_bool("no_remember")
        return params


class InstanceReinstall(_InstanceItem):
    DOC = ("Reinstall an instance: one job shuts it down, reinstalls and (unless"
           " start=false) starts it. Body: 'os', 'start', 'osparams'.")
    POST_OPCODE = opcodes.OpInstanceReinstall
    POST_QUERY = (QueryParam("os", "string", "Legacy: the OS to install"),
                  QueryParam("nostartup", "bool", "Legacy: do not start afterwards"),
                  *WRITE_QUERY)
    BODY_DOC = {"POST": "{\"os\": OS name, \"start\": boolean (default true),"
                        " \"osparams\": {…}}"}

    async def handle_post(self) -> Any:
        body = self.body_dict()
        if body:
            unknown = set(body) - {"os", "start", "osparams"}
            if unknown:
                raise apierrors.BadRequest("Unknown reinstall parameters %s (known: os,"
                                           " start, osparams)" % ", ".join(sorted(unknown)))
            os_name, start, osparams = body.get("os"), body.get("start", True), \
                body.get("osparams")
            if not isinstance(start, bool):
                raise apierrors.BadRequest("Body parameter 'start' must be a boolean")
        else:
            os_name = self.query_value("os")
            start = not self.query_bool("nostartup")
            osparams = None
        name = self.items["instance_name"]
        reinstall: dict[str, Any] = {"os_type": os_name}
        if osparams is not None:
            reinstall["osparams"] = osparams
        ops = [self.build_opcode("POST", {"instance_name": name},
                                 opcodes.OpInstanceShutdown),
               self.build_opcode("POST", reinstall)]
        if start:
            ops.append(self.build_opcode("POST", {"instance_name": name, "force": False},
                                         opcodes.OpInstanceStartup))
        return await self.submit_many(ops)


class InstanceReplaceDisks(_InstanceItem):
    DOC = "Replace the disks of a mirrored instance."
    POST_OPCODE = opcodes.OpInstanceReplaceDisks

    async def handle_post(self) -> Any:
        body = self.body_dict()
        disks = body.get("disks")
        if isinstance(disks, str):  # legacy "0,1"
            try:
                body["disks"] = [int(part) for part in disks.split(",") if part.strip()]
            except ValueError:
                raise apierrors.BadRequest("Body parameter 'disks' must list disk indices,"
                                           " got %r" % disks) from None
        return await self.submit(self.build_opcode("POST", body))


class InstanceActivateDisks(_InstanceItem):
    DOC = "Activate the disks of an instance."
    PUT_OPCODE = opcodes.OpInstanceActivateDisks
    PUT_QUERY = (QueryParam("ignore_size", "bool", "Ignore recorded disk sizes"),
                 *WRITE_QUERY)

    def opcode_params(self, method: str) -> dict[str, Any]:
        params = super().opcode_params(method)
        params["ignore_size"] = self.query_bool("ignore_size")
        return params


class InstanceDeactivateDisks(_InstanceItem):
    DOC = "Deactivate the disks of an instance."
    PUT_OPCODE = opcodes.OpInstanceDeactivateDisks
    PUT_QUERY = (FORCE, *WRITE_QUERY)

    def opcode_params(self, method: str) -> dict[str, Any]:
        params = super().opcode_params(method)
        params["force"] = self.query_bool("force")
        return params


class InstanceRecreateDisks(_InstanceItem):
    DOC = "Recreate the disks of an instance (body: 'disks', 'nodes', 'iallocator')."
    POST_OPCODE = opcodes.OpInstanceRecreateDisks


class InstanceGrowDisk(_InstanceItem):
    DOC = "Grow one disk (body: 'amount', 'wait_for_sync', 'absolute')."
    POST_OPCODE = opcodes.OpInstanceGrowDisk

    def opcode_params(self, method: str) -> dict[str, Any]:
        params = super().opcode_params(method)
        params["disk"] = int(self.items["disk_index"])
        return params


class InstancePrepareExport(_InstanceItem):
    DOC = "Prepare an export (mode=local|remote)."
    PUT_OPCODE = opcodes.OpBackupPrepare
    PUT_QUERY = (QueryParam("mode", "string", "local or remote"), *WRITE_QUERY)

    def opcode_params(self, method: str) -> dict[str, Any]:
        params = super().opcode_params(method)
        params["mode"] = self.query_value("mode")
        return params


class InstanceExport(_InstanceItem):
    DOC = "PUT exports the instance; DELETE removes its export."
    PUT_OPCODE = opcodes.OpBackupExport
    PUT_RENAME = {"destination": "target_node"}
    DELETE_OPCODE = opcodes.OpBackupRemove


class InstanceMigrate(_InstanceItem):
    DOC = "Live-migrate an instance to its secondary or another node."
    PUT_OPCODE = opcodes.OpInstanceMigrate


class InstanceFailover(_InstanceItem):
    DOC = "Fail an instance over to another node."
    PUT_OPCODE = opcodes.OpInstanceFailover


class InstanceRename(_InstanceItem):
    DOC = "Rename an instance (body: 'new_name', 'ip_check', 'name_check')."
    PUT_OPCODE = opcodes.OpInstanceRename


class InstanceModify(_InstanceItem):
    DOC = "Change instance parameters."
    PUT_OPCODE = opcodes.OpInstanceSetParams


class InstanceConsole(_InstanceItem):
    DOC = "How to reach the console of an instance (needs an authenticated user)."
    GET_OPCODE = opcodes.OpInstanceConsole
    GET_ACCESS = (OPT_READ, OPT_WRITE)

    async def handle_get(self) -> Any:
        return await self.submit_and_wait(self.build_opcode("GET", {}))


class InstanceTags(TagsResource):
    DOC = "Tags of an instance."
    TAG_KIND = constants.TAG_INSTANCE
    NAME_ITEM = "instance_name"
