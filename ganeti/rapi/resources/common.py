"""Shapes shared by the areas: object lists, single objects, tags.

Lists and objects come from the master's query fields (luxi ``Query``): the
bulk field names are Ganeti's, kept to those the master declares, so a
field appears in RAPI as soon as its query field exists.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ganeti import opcodes
from ganeti.rapi import OPT_WRITE, apierrors
from ganeti.rapi.baserlib import BULK, LOCK, REASON, WRITE_QUERY, QueryParam, Resource

#: Fields every object resource has (Ganeti's COMMON_FIELDS).
COMMON_FIELDS = ("ctime", "mtime", "uuid", "serial_no", "tags")


class QueryBackedResource(Resource):
    """A resource whose objects are rows of a luxi query resource."""

    #: The query resource (constants.QR_*).
    QUERY_RESOURCE: ClassVar[str] = ""
    #: Ganeti's bulk field names, in order.
    BULK_FIELDS: ClassVar[tuple[str, ...]] = ()
    #: Key of non-bulk list entries ("id" or "name").
    LIST_KEY: ClassVar[str] = "id"
    #: URI of one object, ``%s`` being its name.
    URI_FORMAT: ClassVar[str] = ""

    async def bulk_rows(self, qfilter: list[Any] | None = None) -> list[dict[str, Any]]:
        """Objects with the bulk fields the master declares (one luxi Query)."""
        return await self.query_rows(self.QUERY_RESOURCE, self.BULK_FIELDS, qfilter,
                                     known_only=True)


class ObjectListResource(QueryBackedResource):
    """``/2/<objects>``: names and URIs, or full objects with ``bulk=1``."""

    GET_QUERY = (BULK, LOCK, REASON)

    async def handle_get(self) -> Any:
        if self.query_bool("bulk"):
            return await self.bulk_rows()
        rows = await self.query_rows(self.QUERY_RESOURCE, ["name"])
        return [{self.LIST_KEY: row["name"], "uri": self.URI_FORMAT % row["name"]}
                for row in rows]


class ObjectResource(QueryBackedResource):
    """``/2/<objects>/<name>``: one object with the bulk fields; 404 if unknown."""

    GET_QUERY = (LOCK, REASON)
    #: Path parameter naming the object.
    NAME_ITEM: ClassVar[str] = "name"
    KIND: ClassVar[str] = "object"

    async def handle_get(self) -> Any:
        name = self.items[self.NAME_ITEM]
        rows = await self.bulk_rows(["=", "name", name])
        if not rows:
            raise apierrors.NotFound("%s '%s' not found" % (self.KIND.capitalize(), name))
        return rows[0]


TAG_QUERY = QueryParam("tag", "list", "A tag (repeat the parameter for several)")


class TagsResource(Resource):
    """``…/tags``: GET the list, PUT adds, DELETE removes (``?tag=a&tag=b``)."""

    TAG_KIND: ClassVar[str] = ""
    #: Path parameter naming the object (None: the cluster).
    NAME_ITEM: ClassVar[str | None] = "name"
    PUT_OPCODE = opcodes.OpTagsSet
    DELETE_OPCODE = opcodes.OpTagsDel
    PUT_QUERY = (TAG_QUERY, *WRITE_QUERY)
    DELETE_QUERY = (TAG_QUERY, *WRITE_QUERY)
    PUT_ACCESS = (OPT_WRITE,)
    BODY_DOC = {"PUT": "Optionally, the tags as a JSON list (instead of 'tag' parameters)"}

    def object_name(self) -> str | None:
        return self.items[self.NAME_ITEM] if self.NAME_ITEM else None

    async def handle_get(self) -> Any:
        return await self.service.luxi.call("QueryTags", self.TAG_KIND,
                                            self.object_name() or "")

    def _tags(self) -> list[str]:
        tags = self.query_list("tag")
        body = self.request.body
        if isinstance(body, list):
            tags.extend(body)
        elif body not in (None, {}):
            raise apierrors.BadRequest("Tags go in 'tag' query parameters or a JSON list"
                                       " body, not %s" % type(body).__name__)
        if not tags:
            raise apierrors.BadRequest("No tags given (use ?tag=TAG, repeated as needed)")
        return tags

    async def handle_put(self) -> Any:
        return await self.submit(self.build_opcode("PUT", self._op_data()))

    async def handle_delete(self) -> Any:
        return await self.submit(self.build_opcode("DELETE", self._op_data()))

    def _op_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.TAG_KIND, "tags": self._tags()}
        name = self.object_name()
        if name is not None:
            data["name"] = name
        return data
