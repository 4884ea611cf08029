"""Every RAPI path and its resource (Ganeti's RAPI v2 paths).

Path parameters use aiohttp's syntax (``{name}``, ``{name:regex}``); the
OpenAPI generator reads the same table.
"""

from __future__ import annotations

import re

from ganeti.rapi.baserlib import Resource
from ganeti.rapi.resources import (
    cluster,
    filters,
    groups,
    instances,
    jobs,
    networks,
    nodes,
    query,
)

#: (path template, resource class), in no particular order.
ROUTES: tuple[tuple[str, type[Resource]], ...] = (
    ("/", cluster.Root),
    ("/version", cluster.Version),
    ("/2", cluster.Root),
    ("/2/info", cluster.Info),
    ("/2/features", cluster.Features),
    ("/2/modify", cluster.Modify),
    ("/2/redistribute-config", cluster.RedistributeConfig),
    ("/2/os", cluster.OperatingSystems),
    ("/2/tags", cluster.ClusterTags),
    ("/2/jobs", jobs.Jobs),
    ("/2/jobs/{job_id}", jobs.Job),
    ("/2/jobs/{job_id}/wait", jobs.JobWait),
    ("/2/query/{resource}", query.Query),
    ("/2/query/{resource}/fields", query.QueryFields),
    ("/2/instances", instances.Instances),
    ("/2/instances-multi-alloc", instances.InstancesMultiAlloc),
    ("/2/instances/{instance_name}", instances.Instance),
    ("/2/instances/{instance_name}/info", instances.InstanceInfo),
    ("/2/instances/{instance_name}/reboot", instances.InstanceReboot),
    ("/2/instances/{instance_name}/shutdown", instances.InstanceShutdown),
    ("/2/instances/{instance_name}/startup", instances.InstanceStartup),
    ("/2/instances/{instance_name}/reinstall", instances.InstanceReinstall),
    ("/2/instances/{instance_name}/replace-disks", instances.InstanceReplaceDisks),
    ("/2/instances/{instance_name}/activate-disks", instances.InstanceActivateDisks),
    ("/2/instances/{instance_name}/deactivate-disks", instances.InstanceDeactivateDisks),
    ("/2/instances/{instance_name}/recreate-disks", instances.InstanceRecreateDisks),
    ("/2/instances/{instance_name}/disk/{disk_index:[0-9]+}/grow",
     instances.InstanceGrowDisk),
    ("/2/instances/{instance_name}/prepare-export", instances.InstancePrepareExport),
    ("/2/instances/{instance_name}/export", instances.InstanceExport),
    ("/2/instances/{instance_name}/migrate", instances.InstanceMigrate),
    ("/2/instances/{instance_name}/failover", instances.InstanceFailover),
    ("/2/instances/{instance_name}/rename", instances.InstanceRename),
    ("/2/instances/{instance_name}/modify", instances.InstanceModify),
    ("/2/instances/{instance_name}/console", instances.InstanceConsole),
    ("/2/instances/{instance_name}/tags", instances.InstanceTags),
    ("/2/nodes", nodes.Nodes),
    ("/2/nodes/{node_name}", nodes.Node),
    ("/2/nodes/{node_name}/role", nodes.NodeRole),
    ("/2/nodes/{node_name}/evacuate", nodes.NodeEvacuate),
    ("/2/nodes/{node_name}/migrate", nodes.NodeMigrate),
    ("/2/nodes/{node_name}/modify", nodes.NodeModify),
    ("/2/nodes/{node_name}/powercycle", nodes.NodePowercycle),
    ("/2/nodes/{node_name}/storage", nodes.NodeStorage),
    ("/2/nodes/{node_name}/storage/modify", nodes.NodeStorageModify),
    ("/2/nodes/{node_name}/storage/repair", nodes.NodeStorageRepair),
    ("/2/nodes/{node_name}/tags", nodes.NodeTags),
    ("/2/groups", groups.Groups),
    ("/2/groups/{group_name}", groups.Group),
    ("/2/groups/{group_name}/modify", groups.GroupModify),
    ("/2/groups/{group_name}/rename", groups.GroupRename),
    ("/2/groups/{group_name}/assign-nodes", groups.GroupAssignNodes),
    ("/2/groups/{group_name}/tags", groups.GroupTags),
    ("/2/networks", networks.Networks),
    ("/2/networks/{network_name}", networks.Network),
    ("/2/networks/{network_name}/modify", networks.NetworkModify),
    ("/2/networks/{network_name}/connect", networks.NetworkConnect),
    ("/2/networks/{network_name}/disconnect", networks.NetworkDisconnect),
    ("/2/networks/{network_name}/rename", networks.NetworkRename),
    ("/2/networks/{network_name}/tags", networks.NetworkTags),
    ("/2/filters", filters.Filters),
    ("/2/filters/{filter_uuid}", filters.Filter),
)

#: Served by the server itself (not a Resource): the OpenAPI document.
OPENAPI_PATH = "/2/openapi.json"

_PARAM_RE = re.compile(r"\{([a-z_]+)(?::[^}]*)?\}")


def openapi_path(template: str) -> str:
    """``/2/x/{disk_index:[0-9]+}`` -> ``/2/x/{disk_index}``."""
    return _PARAM_RE.sub(r"{\1}", template)


def path_parameters(template: str) -> list[str]:
    return _PARAM_RE.findall(template)
