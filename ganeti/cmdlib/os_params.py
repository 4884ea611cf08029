"""Master-side checks of OS definitions and OS parameters (Ganeti 2.1's design).

Used by instance creation, reinstall and ``gnt-os modify``. Values are
checked here before any node is asked: names the OS does not declare and
values with shell metacharacters or control characters are refused with an
error naming the parameter. Then the OS's ``verify`` script judges the values
on every node that will run the instance (``os_validate`` RPC).

Private and secret values are never put into an error message or log line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ganeti import constants, errors, paramdefs

if TYPE_CHECKING:
    from ganeti.cmdlib.base import LogicalUnit
    from ganeti.objects import Cluster

#: A parameter name as OS definitions declare them in parameters.list.
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
#: "Normal" characters: no shell metacharacters ($ ` ; & | < > ( ) { } [ ] * ? ! ~ # ' " \),
#: no control characters, no newlines.
_VALUE_RE = re.compile(r"[A-Za-z0-9 _.,:/=+@%^-]*")
#: What the validation asks the OS's verify script for.
_VALIDATE_CHECKS = ["parameters"]


def split_os_name(name: str) -> tuple[str, str]:
    """``"debootstrap+buster"`` -> ``("debootstrap", "buster")``; no variant gives ""."""
    base, _, variant = name.partition("+")
    return base, variant


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def check_param_syntax(params: Mapping[str, Any] | None, kind: str = "OS parameter",
                       show_values: bool = True) -> dict[str, str]:
    """Names and values checked for "normal" characters; the values as strings.

    ``kind`` names the parameter family in the error ("private OS parameter");
    ``show_values`` False keeps the value out of the message (private, secret).
    """
    checked: dict[str, str] = {}
    for name, value in (params or {}).items():
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
            raise errors.OpPrereqError("Invalid %s name %r: expected letters, digits, '_',"
                                       " '.' and '-'" % (kind, name), errors.ECODE_INVAL)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise errors.OpPrereqError("%s '%s' must be a string, got %s"
                                       % (_cap(kind), name, type(value).__name__),
                                       errors.ECODE_INVAL)
        text = str(value)
        if not _VALUE_RE.fullmatch(text):
            bad = sorted({char for char in text if not _VALUE_RE.fullmatch(char)})
            shown = ", ".join(repr(char) for char in bad)
            raise errors.OpPrereqError(
                "%s '%s' has a value with characters that are not allowed (%s)%s: only"
                " letters, digits, spaces and _ . , : / = + @ %% ^ - may be used (no shell"
                " metacharacters, no control characters)"
                % (_cap(kind), name, shown,
                   " in %r" % text if show_values else ""), errors.ECODE_INVAL)
        checked[name] = text
    return checked


def cluster_os_params(cluster: Cluster, os_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The cluster's (public, private) defaults for ``os_name`` (OS, then OS+variant)."""
    base, _ = split_os_name(os_name)
    public: dict[str, Any] = {}
    private: dict[str, Any] = {}
    for key in dict.fromkeys([base, os_name]):
        public.update(cluster.osparams.get(key) or {})
        private.update(cluster.osparams_private_cluster.get(key) or {})
    return public, private


def check_os_allowed(cluster: Cluster, os_name: str) -> None:
    """Refuse a blacklisted OS (by name or name+variant) for new installs."""
    base, _ = split_os_name(os_name)
    for key in (os_name, base):
        if key in cluster.blacklisted_os:
            raise errors.OpPrereqError("OS '%s' is blacklisted on this cluster (gnt-os modify"
                                       " --blacklisted=no %s allows it again)" % (os_name, key),
                                       errors.ECODE_STATE)


def check_os_params(lu: LogicalUnit, node_uuids: Iterable[str], os_name: str,
                    osparams: Mapping[str, Any] | None,
                    osparams_private: Mapping[str, Any] | None = None,
                    osparams_secret: Mapping[str, Any] | None = None,
                    force_variant: bool = False) -> dict[str, str]:
    """Check an instance's OS and its OS parameters; return the merged effective values.

    ``os_name`` is ``name`` or ``name+variant``. The given values are layered over the
    cluster's per-OS defaults (``gnt-os modify -O``). Refused with OpPrereqError naming the
    parameter: names the OS does not declare in ``parameters.list``, values that are not
    strings of "normal" characters (no shell metacharacters, no control characters).
    A blacklisted OS is refused. Then the OS (and its variant, unless ``force_variant``)
    is validated on every node of ``node_uuids`` through the ``os_validate`` RPC, which
    runs the OS's ``verify`` script. The returned dict (public + private + secret,
    filled) is what reaches the OS scripts; it must never be logged.
    """
    if not os_name or not split_os_name(os_name)[0]:
        raise errors.OpPrereqError("No OS given (-o/--os-type)", errors.ECODE_INVAL)
    public = check_param_syntax(osparams)
    private = check_param_syntax(osparams_private, "private OS parameter", False)
    secret = check_param_syntax(osparams_secret, "secret OS parameter", False)
    for kind, values in (("private", private), ("secret", secret)):
        both = sorted(set(public) & set(values))
        if both:
            raise errors.OpPrereqError("OS parameter(s) %s given both as public and %s"
                                       % (", ".join(both), kind), errors.ECODE_INVAL)
    cluster = lu.cfg.get_cluster_info()
    check_os_allowed(cluster, os_name)
    cluster_public, cluster_private = cluster_os_params(cluster, os_name)
    merged: dict[str, str] = {}
    for layer in (cluster_public, cluster_private, public, private, secret):
        merged.update({key: str(value) for key, value in layer.items()})
    validate_os_on_nodes(lu, node_uuids, os_name, merged, force_variant)
    return merged


def validate_os_on_nodes(lu: LogicalUnit, node_uuids: Iterable[str], os_name: str,
                         params: Mapping[str, str], force_variant: bool,
                         required: bool = True) -> None:
    """Run ``os_validate`` on the (online) nodes; OpPrereqError naming node and reason."""
    addresses = [address for address in lu.context.node_addresses(node_uuids)
                 if not address.offline]
    if not addresses:
        return
    results = lu.rpc.call("os_validate", addresses,
                          [required, os_name, list(_VALIDATE_CHECKS), dict(params),
                           force_variant])
    for address in addresses:
        result = results[address.name]
        if result.success:
            continue
        reason = result.error or "unknown error"
        if result.exception is not None and result.exception.args:
            reason = str(result.exception.args[-1])
        raise errors.OpPrereqError("OS '%s' is not valid on node %s: %s"
                                   % (os_name, address.name, reason), errors.ECODE_INVAL)


#: OpClusterSetParams parameters handled by ``apply_cluster_os_changes``.
CLUSTER_OS_PARAMS = frozenset(["osparams", "osparams_private_cluster", "os_hvp", "hidden_os",
                               "blacklisted_os"])


def apply_cluster_os_changes(new: Cluster, op: Any) -> None:
    """Apply gnt-os modify's changes (OpClusterSetParams) to the cluster copy ``new``.

    Per-OS parameter defaults are checked for "normal" characters (not against the
    OS's declaration: the OS need not exist yet, as in Ganeti); a value of None or
    ``default`` removes a default. Hidden/blacklisted lists take [add|remove, OS] pairs.
    """

    for param, kind, show in (("osparams", "OS parameter", True),
                              ("osparams_private_cluster", "private OS parameter", False)):
        changes = op.get(param)
        if not changes:
            continue
        holder = new.osparams if param == "osparams" else new.osparams_private_cluster
        for os_name, values in changes.items():
            check_param_syntax({k: v for k, v in values.items()
                                if v is not None and v != constants.VALUE_DEFAULT}, kind, show)
            merged = paramdefs.updated_params(holder.get(os_name), values)
            if merged:
                holder[os_name] = {k: str(v) for k, v in merged.items()}
            else:
                holder.pop(os_name, None)
    for os_name, per_hv in (op.get("os_hvp") or {}).items():
        current = dict(new.os_hvp.get(os_name) or {})
        for hv_name, values in per_hv.items():
            try:
                family = paramdefs.hv_family(hv_name)
                merged = paramdefs.updated_params(current.get(hv_name), values)
                family.check(merged, "OS %s" % os_name)
            except errors.ParameterError as err:
                raise errors.OpPrereqError("os_hvp: %s" % err, errors.ECODE_INVAL) from None
            current[hv_name] = merged
        new.os_hvp[os_name] = current
    for param in ("hidden_os", "blacklisted_os"):
        changes = op.get(param)
        if not changes:
            continue
        names = list(getattr(new, param))
        for action, os_name in changes:
            if action == constants.DDM_ADD and os_name not in names:
                names.append(os_name)
            elif action == constants.DDM_REMOVE:
                if os_name not in names:
                    raise errors.OpPrereqError("OS %s is not in %s, cannot remove it"
                                               % (os_name, param), errors.ECODE_INVAL)
                names.remove(os_name)
        setattr(new, param, names)
