"""Tag logical units (reading; changing tags comes with the tag commands)."""

from __future__ import annotations

from typing import Any

from ganeti import constants, errors, opcodes
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import FeedbackFn, QueryLU
from ganeti.config import ConfigWriter


def object_tags(cfg: ConfigWriter, kind: str, name: str | None) -> list[str]:
    """The tags of an object (luxi QueryTags, OpTagsGet); unknown objects raise."""
    if kind == constants.TAG_CLUSTER:
        return list(cfg.get_cluster_info().tags)
    if not name:
        raise errors.OpPrereqError("Tags of a %s need the object's name" % kind,
                                   errors.ECODE_INVAL)
    finders = {
        constants.TAG_NODE: cfg.find_node,
        constants.TAG_INSTANCE: cfg.find_instance,
        constants.TAG_NODEGROUP: cfg.find_nodegroup,
        constants.TAG_NETWORK: cfg.find_network,
    }
    finder = finders.get(kind)
    if finder is None:
        raise errors.OpPrereqError("Unknown tag kind '%s'; known: %s"
                                   % (kind, ", ".join(sorted(constants.VALID_TAG_TYPES))),
                                   errors.ECODE_INVAL)
    obj = finder(name)
    if obj is None:
        raise errors.OpPrereqError("%s '%s' is not known" % (kind.capitalize(), name),
                                   errors.ECODE_NOENT)
    return list(obj.tags)


@lu_for(opcodes.OpTagsGet)
class LUTagsGet(QueryLU):
    """Return the tags of the cluster or of one object."""

    def check_prereq(self) -> None:
        self._tags = object_tags(self.cfg, self.op.kind, self.op.get("name"))

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        return sorted(self._tags)
