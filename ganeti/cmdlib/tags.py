"""Tag logical units: read, add, remove and search the tags of every kind of object."""

from __future__ import annotations

import re
from typing import Any

from ganeti import constants, errors, locking, opcodes
from ganeti.cmdlib import lu_for
from ganeti.cmdlib.base import FeedbackFn, NoHooksLU, QueryLU
from ganeti.config import ConfigWriter
from ganeti.objects import ConfigObject


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


# -- changing tags --------------------------------------------------------------------------

#: What a tag may contain (Ganeti's): letters, digits and ``_ . + * / : @ -``.
_TAG_RE = re.compile(r"^[\w.+*/:@-]+$")


def validate_tag(tag: Any) -> str:
    """A tag accepted as it is; OpPrereqError naming the tag and the rule otherwise."""
    if not isinstance(tag, str):
        raise errors.OpPrereqError("Invalid tag %r: expected a string" % (tag,),
                                   errors.ECODE_INVAL)
    if not tag:
        raise errors.OpPrereqError("Invalid tag: tags must not be empty", errors.ECODE_INVAL)
    if len(tag) > constants.MAX_TAG_LEN:
        raise errors.OpPrereqError("Invalid tag '%s': longer than %d characters"
                                   % (tag, constants.MAX_TAG_LEN), errors.ECODE_INVAL)
    if not _TAG_RE.match(tag):
        raise errors.OpPrereqError("Invalid tag '%s': only letters, digits and _ . + * / : @ -"
                                   " are allowed" % tag, errors.ECODE_INVAL)
    return tag


def _tagged_object(cfg: ConfigWriter, kind: str, name: str | None) -> ConfigObject:
    if kind == constants.TAG_CLUSTER:
        return cfg.get_cluster_info()
    object_tags(cfg, kind, name)  # unknown kinds and objects raise
    finders = {
        constants.TAG_NODE: cfg.find_node,
        constants.TAG_INSTANCE: cfg.find_instance,
        constants.TAG_NODEGROUP: cfg.find_nodegroup,
        constants.TAG_NETWORK: cfg.find_network,
    }
    obj = finders[kind](name or "")
    assert obj is not None
    return obj


class _TagsLU(NoHooksLU):
    """Shared part of the tag LUs: lock the tagged object (Ganeti's TagsLU)."""

    REQ_BGL = False

    def expand_names(self) -> None:
        kind, name = self.op.kind, self.op.get("name")
        self.needed_locks = {}
        if kind == constants.TAG_CLUSTER:
            return
        obj = _tagged_object(self.cfg, kind, name)
        uuid = obj._data.get("uuid")
        level = {
            constants.TAG_NODE: (locking.LEVEL_NODE, uuid),
            constants.TAG_NODEGROUP: (locking.LEVEL_NODEGROUP, uuid),
            constants.TAG_NETWORK: (locking.LEVEL_NETWORK, uuid),
            constants.TAG_INSTANCE: (locking.LEVEL_INSTANCE, obj._data.get("name")),
        }[kind]
        self.needed_locks = {level[0]: [level[1]]}

    def check_prereq(self) -> None:
        self.target = _tagged_object(self.cfg, self.op.kind, self.op.get("name"))
        self.tags = [validate_tag(tag) for tag in self.op.tags]


@lu_for(opcodes.OpTagsSet)
class LUTagsSet(_TagsLU):
    """Add tags to the cluster or an object."""

    def check_prereq(self) -> None:
        super().check_prereq()
        current = set(self.target._data.get("tags") or [])
        total = len(current | set(self.tags))
        if total > constants.MAX_TAGS_PER_OBJ:
            raise errors.OpPrereqError("Too many tags: %s would have %d, at most %d allowed"
                                       % (self.target.describe(), total,
                                          constants.MAX_TAGS_PER_OBJ), errors.ECODE_STATE)

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        tags = self.target.tags  # type: ignore[attr-defined]
        for tag in self.tags:
            if tag not in tags:
                tags.append(tag)
        self.cfg.update(self.target)
        return None


@lu_for(opcodes.OpTagsDel)
class LUTagsDel(_TagsLU):
    """Remove tags from the cluster or an object (all must be present)."""

    def check_prereq(self) -> None:
        super().check_prereq()
        current = set(self.target._data.get("tags") or [])
        missing = sorted(set(self.tags) - current)
        if missing:
            raise errors.OpPrereqError("Tag(s) %s not found on %s"
                                       % (", ".join("'%s'" % t for t in missing),
                                          self.target.describe()), errors.ECODE_NOENT)

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        tags = self.target.tags  # type: ignore[attr-defined]
        for tag in self.tags:
            tags.remove(tag)
        self.cfg.update(self.target)
        return None


def search_tags(cfg: ConfigWriter, pattern: str) -> list[tuple[str, str]]:
    """``(path, tag)`` of every tag matching ``pattern``: ``/cluster``,
    ``/nodes/N``, ``/instances/I``, ``/nodegroup/G``, ``/networks/N`` (Ganeti's)."""
    try:
        regex = re.compile(pattern)
    except re.error as err:
        raise errors.OpPrereqError("Invalid search pattern '%s': %s" % (pattern, err),
                                   errors.ECODE_INVAL) from err
    with cfg.locked() as data:
        sources: list[tuple[str, list[str]]] = [("/cluster", list(data.cluster.tags))]
        for prefix, objs in (("/instances/", data.instances), ("/nodes/", data.nodes),
                             ("/nodegroup/", data.nodegroups),
                             ("/networks/", data.networks)):
            sources.extend((prefix + obj.name, list(obj.tags))
                           for obj in sorted(objs.values(), key=lambda o: o.name))
    return [(path, tag) for path, tags in sources for tag in tags if regex.search(tag)]


@lu_for(opcodes.OpTagsSearch)
class LUTagsSearch(QueryLU):
    """Find the tags matching a regular expression."""

    def exec(self, feedback_fn: FeedbackFn) -> Any:
        return [list(item) for item in search_tags(self.cfg, self.op.pattern)]
