"""Cluster-wide resources: version, info, features, modify, redistribution, OS, tags."""

from __future__ import annotations

from typing import Any

from ganeti import constants, opcodes
from ganeti.rapi import FEATURES
from ganeti.rapi.baserlib import BULK, REASON, Resource
from ganeti.rapi.resources.common import TagsResource


class Root(Resource):
    DOC = "Legacy entry point; answers null."

    async def handle_get(self) -> Any:
        return None


class Version(Resource):
    DOC = "The remote API version (2)."

    async def handle_get(self) -> Any:
        return constants.RAPI_VERSION


class Info(Resource):
    DOC = "Cluster information: name, master, versions, parameters, tags…"

    async def handle_get(self) -> Any:
        return await self.service.luxi.call("QueryClusterInfo")


class Features(Resource):
    DOC = "Optional features this server offers (clients choose body formats by them)."

    async def handle_get(self) -> Any:
        return list(FEATURES)


class Modify(Resource):
    DOC = "Change cluster parameters."
    PUT_OPCODE = opcodes.OpClusterSetParams


class RedistributeConfig(Resource):
    DOC = "Send the configuration and ancillary files to every node again."
    PUT_OPCODE = opcodes.OpClusterRedistConf


#: OpOsDiagnose fields of the bulk OS list (Ganeti's).
OS_BULK_FIELDS = ("name", "valid", "variants", "parameters", "api_versions",
                  "blacklisted", "hidden", "os_hvp", "osparams", "trusted")


class OperatingSystems(Resource):
    DOC = ("Operating systems valid on every node: names as 'os+variant', or full"
           " definitions with bulk=1.")
    GET_OPCODE = opcodes.OpOsDiagnose
    GET_QUERY = (BULK, REASON)

    async def handle_get(self) -> Any:
        bulk = self.query_bool("bulk")
        fields = list(OS_BULK_FIELDS) if bulk else ["name", "valid", "variants"]
        op = self.build_opcode("GET", {"output_fields": fields, "names": []})
        rows = await self.submit_and_wait(op)
        if not isinstance(rows, list):
            return []
        if bulk:
            return [dict(zip(fields, row)) for row in rows]
        names: list[str] = []
        for name, valid, variants in rows:
            if not valid:
                continue
            if variants:
                names.extend("%s+%s" % (name, variant) for variant in variants)
            else:
                names.append(name)
        return names


class ClusterTags(TagsResource):
    DOC = "Tags of the cluster."
    TAG_KIND = constants.TAG_CLUSTER
    NAME_ITEM = None
