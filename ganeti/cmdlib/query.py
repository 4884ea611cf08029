"""OpQuery / OpQueryFields: queries through the job queue (Ganeti's generic query LUs).

``ITEM_SOURCES`` maps a resource to the function building its items; areas
add theirs as they come (nodes and groups so far). Resources without one
get the query module's "not supported yet" error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ganeti import constants, errors, opcodes, query, query_instance, query_node
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import FeedbackFn, QueryLU

if TYPE_CHECKING:
    from ganeti.context import MasterContext

ItemSource = Callable[["MasterContext", set[str]], list[Any]]

ITEM_SOURCES: dict[str, ItemSource] = {
    constants.QR_NODE: lambda context, needed: query_node.node_items(
        context.cfg, context.rpc, context.noded_port, needed),
    constants.QR_GROUP: lambda context, needed: query_node.group_items(context.cfg),
    constants.QR_INSTANCE: lambda context, needed: query_instance.instance_items(
        context.cfg, context.rpc, context.noded_port, needed),
}


def run_query(context: MasterContext, what: str, fields: list[str],
              qfilter: list[Any] | None) -> dict[str, Any]:
    """The Query answer for a resource served through the job queue."""
    query.resource_fields(what)
    query.compile_filter(what, qfilter)  # a bad filter fails before any node is asked
    source = ITEM_SOURCES.get(what)
    if source is None:
        raise errors.OpPrereqError("Queries on resource '%s' through OpQuery are not"
                                   " supported yet; supported: %s"
                                   % (what, ", ".join(sorted(ITEM_SOURCES))),
                                   errors.ECODE_INVAL)
    needed = set(fields) | query.filter_field_names(qfilter)
    return query.query(what, fields, source(context, needed), qfilter)


@lu_for(opcodes.OpQuery)
class LUQuery(QueryLU):
    """Query a resource's items."""

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        return run_query(self.context, self.op.what, list(self.op.fields),
                         self.op.get("qfilter"))


@lu_for(opcodes.OpQueryFields)
class LUQueryFields(QueryLU):
    """Describe a resource's fields."""

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        fields = self.op.get("fields")
        return query.query_fields(self.op.what, list(fields) if fields else None)
