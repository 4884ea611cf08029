"""Generic queries: /2/query/<resource> and its field definitions."""

from __future__ import annotations

from typing import Any

from ganeti import constants, ht
from ganeti.rapi import OPT_READ, OPT_WRITE, apierrors
from ganeti.rapi.baserlib import QueryParam, Resource

FIELDS_QUERY = QueryParam("fields", "string", "Comma-separated field names")


def _resource(name: str) -> str:
    if name not in constants.QR_ALL:
        raise apierrors.NotFound("Unknown query resource '%s'; known: %s"
                                 % (name, ", ".join(sorted(constants.QR_ALL))))
    return name


def _split_fields(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [name for name in text.split(",") if name]


class Query(Resource):
    DOC = ("Query a resource: GET with fields=a,b, or PUT a body {\"fields\": [...],"
           " \"filter\": list filter}. The answer has 'fields' and 'data'.")
    GET_ACCESS = (OPT_READ, OPT_WRITE)
    PUT_ACCESS = (OPT_READ, OPT_WRITE)
    GET_QUERY = (FIELDS_QUERY,)
    PUT_QUERY = ()
    BODY_DOC = {"PUT": "{\"fields\": [field names], \"filter\": list-form filter or null}"}

    async def handle_get(self) -> Any:
        what = _resource(self.items["resource"])
        fields = _split_fields(self.query_value("fields"))
        if not fields:
            raise apierrors.BadRequest("Query parameter 'fields' is required (e.g."
                                       " fields=name)")
        return await self.service.luxi.call("Query", what, fields, None)

    async def handle_put(self) -> Any:
        what = _resource(self.items["resource"])
        body = self.body_dict()
        unknown = set(body) - {"fields", "filter", "qfilter"}
        if unknown:
            raise apierrors.BadRequest("Unknown body parameters %s (known: fields, filter)"
                                       % ", ".join(sorted(unknown)))
        fields = body.get("fields")
        if not ht.TListOfStrings(fields) or not fields:
            raise apierrors.BadRequest("Body parameter 'fields' must be a non-empty list of"
                                       " field names, got %s" % ht.describe_value(fields))
        qfilter = body.get("filter", body.get("qfilter"))
        if qfilter is not None and not isinstance(qfilter, list):
            raise apierrors.BadRequest("Body parameter 'filter' must be a list-form filter"
                                       " or null, got %s" % ht.describe_value(qfilter))
        return await self.service.luxi.call("Query", what, fields, qfilter)


class QueryFields(Resource):
    DOC = "Field definitions of a query resource (fields=a,b to pick some)."
    GET_QUERY = (FIELDS_QUERY,)

    async def handle_get(self) -> Any:
        what = _resource(self.items["resource"])
        return await self.service.luxi.call("QueryFields", what,
                                            _split_fields(self.query_value("fields")))
