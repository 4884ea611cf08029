"""Hypervisors, found by name.

``get_hypervisor(name)`` returns the implementation for a constants.HT_*
name; modules are imported on first use so a node only loads what it runs.
"""

from __future__ import annotations

import importlib

from ganeti import constants, errors, pathutils
from ganeti.hypervisor.hv_base import BaseHypervisor

#: Hypervisor name -> "module:class" of its implementation.
_IMPLEMENTATIONS: dict[str, str] = {
    constants.HT_FAKE: "ganeti.hypervisor.hv_fake:FakeHypervisor",
}


def implemented_hypervisors() -> list[str]:
    return sorted(_IMPLEMENTATIONS)


def get_hypervisor_class(name: str) -> type[BaseHypervisor]:
    """The class implementing hypervisor ``name``; ``HypervisorError`` if none."""
    target = _IMPLEMENTATIONS.get(name)
    if target is None:
        if name in constants.HYPER_TYPES:
            raise errors.HypervisorError("Hypervisor '%s' is not implemented on this node "
                                         "(available: %s)"
                                         % (name, ", ".join(implemented_hypervisors())))
        raise errors.HypervisorError("Unknown hypervisor '%s' (known: %s)"
                                     % (name, ", ".join(sorted(constants.HYPER_TYPES))))
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    assert issubclass(cls, BaseHypervisor)
    return cls


def get_hypervisor(name: str, paths: pathutils.Paths | None = None) -> BaseHypervisor:
    """An instance of hypervisor ``name`` for this node (or the node at ``paths``)."""
    return get_hypervisor_class(name)(paths)
