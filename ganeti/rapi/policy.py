"""Authorization of RAPI writes, per opcode, before a job is submitted.

The policy file (``rapi/policy``, JSON) grants users or groups opcodes,
optionally only on objects carrying given tags::

    {
      "groups": {"operators": ["alice", "bob"]},
      "rules": [
        {"subjects": ["option:write"], "opcodes": ["*"]},
        {"subjects": ["group:operators"],
         "opcodes": ["OP_INSTANCE_STARTUP", "OP_INSTANCE_SHUTDOWN", "OP_INSTANCE_REBOOT"],
         "objects": {"instance": {"tags": ["owner:{user}"]}}}
      ]
    }

A subject is ``user:<name>``, ``group:<name>``, ``option:read`` /
``option:write`` (the user's options in the users or token file) or ``*``
(any authenticated user). Opcodes are OP_IDs, with shell wildcards
(``OP_INSTANCE_*``). ``objects`` restricts a rule to opcodes aimed at an
object of one of the given kinds (``instance``, ``node``, ``nodegroup`` (alias
``group``), ``network``, ``cluster``) whose tags include every listed tag,
``{user}`` standing for the caller's name; for instance creation the new
instance's ``tags`` parameter is what counts.

Without a policy file the default policy applies: users with the ``write``
option may submit every opcode — Ganeti's read/write rule. A policy file that
cannot be parsed denies every opcode (and says so in the log) rather than
falling back to something more permissive.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ganeti import constants, opcodes, serializer
from ganeti.rapi.auth import ReloadingFile, User

logger = logging.getLogger("ganeti.rapi.policy")

KIND_ALIASES = {"group": constants.TAG_NODEGROUP}
OBJECT_KINDS = frozenset(constants.VALID_TAG_TYPES)

class PolicyError(ValueError):
    """The policy file is malformed (the message names what and where)."""


@dataclass(frozen=True)
class Rule:
    subjects: tuple[str, ...]
    opcodes: tuple[str, ...]
    #: kind -> tags every matching object must carry ({user} substituted).
    objects: Mapping[str, tuple[str, ...]] | None = None

    def grants_subject(self, user: User, groups: Mapping[str, frozenset[str]]) -> bool:
        for subject in self.subjects:
            if subject == "*":
                return True
            kind, _, value = subject.partition(":")
            if kind == "user" and value == user.name:
                return True
            if kind == "group" and user.name in groups.get(value, frozenset()):
                return True
            if kind == "option" and user.has(value):
                return True
        return False

    def grants_opcode(self, op_id: str) -> bool:
        return any(fnmatch.fnmatchcase(op_id, pattern) for pattern in self.opcodes)


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...]
    groups: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: Why every request is denied (a broken policy file), else None.
    broken: str | None = None


DEFAULT_POLICY = Policy((Rule(("option:write",), ("*",)),))


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item
                                              for item in value):
        raise PolicyError("%s must be a list of non-empty strings, got %s"
                          % (where, serializer.dump(value)))
    return tuple(value)


def parse_policy(text: str, where: str = "policy file") -> Policy:
    """A policy from its JSON text; ``PolicyError`` naming the bad part."""
    try:
        data = serializer.load(text)
    except ValueError as err:
        raise PolicyError("%s is not valid JSON: %s" % (where, err)) from err
    if not isinstance(data, dict):
        raise PolicyError("%s must hold a JSON object" % where)
    unknown = set(data) - {"groups", "rules"}
    if unknown:
        raise PolicyError("%s: unknown keys %s (known: groups, rules)"
                          % (where, ", ".join(sorted(unknown))))
    groups_data = data.get("groups", {})
    if not isinstance(groups_data, dict):
        raise PolicyError("%s: 'groups' must map group names to lists of users" % where)
    groups = {name: frozenset(_string_list(members, "%s: group '%s'" % (where, name)))
              for name, members in groups_data.items()}
    rules_data = data.get("rules")
    if not isinstance(rules_data, list):
        raise PolicyError("%s: 'rules' must be a list of rules" % where)
    rules = [_parse_rule(rule, "%s: rule %d" % (where, index), groups)
             for index, rule in enumerate(rules_data, 1)]
    return Policy(tuple(rules), groups)


def _parse_rule(data: Any, where: str, groups: Mapping[str, frozenset[str]]) -> Rule:
    if not isinstance(data, dict):
        raise PolicyError("%s must be an object" % where)
    unknown = set(data) - {"subjects", "opcodes", "objects", "comment"}
    if unknown:
        raise PolicyError("%s: unknown keys %s (known: subjects, opcodes, objects, comment)"
                          % (where, ", ".join(sorted(unknown))))
    subjects = _string_list(data.get("subjects"), "%s: 'subjects'" % where)
    for subject in subjects:
        kind, sep, value = subject.partition(":")
        if subject == "*":
            continue
        if not sep or kind not in ("user", "group", "option") or not value:
            raise PolicyError("%s: subject %r must be '*', 'user:NAME', 'group:NAME' or"
                              " 'option:read|write'" % (where, subject))
        if kind == "group" and value not in groups:
            raise PolicyError("%s: group %r is not defined in 'groups'" % (where, value))
    patterns = _string_list(data.get("opcodes"), "%s: 'opcodes'" % where)
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(op_id, pattern) for op_id in opcodes.OP_REGISTRY):
            raise PolicyError("%s: %r matches no opcode" % (where, pattern))
    objects: dict[str, tuple[str, ...]] | None = None
    if "objects" in data:
        if not isinstance(data["objects"], dict) or not data["objects"]:
            raise PolicyError("%s: 'objects' must map object kinds to {\"tags\": [...]}"
                              % where)
        objects = {}
        for kind, spec in data["objects"].items():
            real_kind = KIND_ALIASES.get(kind, kind)
            if real_kind not in OBJECT_KINDS:
                raise PolicyError("%s: unknown object kind %r (known: %s)"
                                  % (where, kind, ", ".join(sorted(OBJECT_KINDS | {"group"}))))
            if not isinstance(spec, dict) or set(spec) != {"tags"}:
                raise PolicyError("%s: objects.%s must be {\"tags\": [...]}" % (where, kind))
            objects[real_kind] = _string_list(spec["tags"], "%s: objects.%s.tags"
                                              % (where, kind))
    return Rule(subjects, patterns, objects)


def opcode_target(op: opcodes.OpCode) -> tuple[str, str] | None:
    """The object an opcode acts on, as (tag kind, name); None if none."""
    if op.OP_ID in ("OP_TAGS_SET", "OP_TAGS_DEL", "OP_TAGS_GET"):
        return (op.kind, op.get("name") or "")
    for param, kind in (("instance_name", constants.TAG_INSTANCE),
                        ("node_name", constants.TAG_NODE),
                        ("group_name", constants.TAG_NODEGROUP),
                        ("network_name", constants.TAG_NETWORK)):
        if param in op.PARAMS_BY_NAME and op.get(param):
            return (kind, str(op.get(param)))
    if op.OP_ID.startswith("OP_CLUSTER_"):
        return (constants.TAG_CLUSTER, "")
    return None


class Authorizer:
    """Decides per opcode; the policy file is re-read when it changes."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._file = (ReloadingFile(path, self._parse, None) if path else None)

    def _parse(self, text: str, where: str) -> Policy:
        try:
            return parse_policy(text, where)
        except PolicyError as err:
            logger.error("Denying every opcode: %s", err)
            return Policy((), broken=str(err))

    def policy(self) -> Policy:
        if self._file is None:
            return DEFAULT_POLICY
        current = self._file.current()
        return DEFAULT_POLICY if current is None else current

    def _candidates(self, user: User, op: opcodes.OpCode) -> tuple[Policy, list[Rule]]:
        policy = self.policy()
        return policy, [rule for rule in policy.rules
                        if rule.grants_subject(user, policy.groups)
                        and rule.grants_opcode(op.OP_ID)]

    def tags_needed(self, user: User, op: opcodes.OpCode) -> tuple[str, str] | None:
        """The object whose current tags ``check`` needs, if any rule depends on them."""
        if op.OP_ID == "OP_INSTANCE_CREATE":
            return None
        target = opcode_target(op)
        if target is None:
            return None
        _, rules = self._candidates(user, op)
        if any(rule.objects is None for rule in rules):
            return None
        if any(target[0] in rule.objects for rule in rules if rule.objects is not None):
            return target
        return None

    def check(self, user: User, op: opcodes.OpCode, tags: Sequence[str] | None = None
              ) -> str | None:
        """None if ``user`` may submit ``op``, else the reason it may not.

        ``tags`` are the current tags of the object named by ``tags_needed``.
        """
        policy, rules = self._candidates(user, op)
        if policy.broken is not None:
            return "the RAPI policy file is invalid (%s)" % policy.broken
        target = opcode_target(op)
        for rule in rules:
            if rule.objects is None:
                return None
            if target is None or target[0] not in rule.objects:
                continue
            wanted = {tag.replace("{user}", user.name) for tag in rule.objects[target[0]]}
            if op.OP_ID == "OP_INSTANCE_CREATE":
                have = set(op.get("tags") or [])
            else:
                have = set(tags or ())
            if wanted <= have:
                return None
        where = "" if target is None else " on %s %s" % (target[0], target[1] or "(cluster)")
        return "user '%s' is not allowed to submit %s%s" % (user.name, op.OP_ID, where)

    def reload(self) -> None:
        """Re-read the policy file on the next check (SIGHUP)."""
        if self._file is not None:
            self._file.reload()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
