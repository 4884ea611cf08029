"""A local 3-node cluster for the instance-operation tests, with test OS definitions.

``ops_cluster_up`` (the body of a test module's module-scoped fixture) brings up
three nodes with the fake hypervisor and the diskless, file and sharedfile
templates, and writes into every node's OS search path:

- ``recorder`` (API 20, 15, 10; variants default, other; parameters ``color`` and
  ``secret_key``): its create and rename scripts write their whole environment to
  ``<os dir>/env-<script>-<instance>``; its verify script refuses ``color=red``;
- ``recorder2``: the same scripts, parameters ``color`` and ``size`` (another OS,
  for reinstall -o);
- ``halfbroken``: valid on the master only (its create script is missing on the
  other nodes), for gnt-os diagnose.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from local_cluster_fixture import reserve_addresses

from ganeti import constants, serializer
from ganeti.tools.local_cluster import LocalCluster

_RECORD = """#!/bin/sh
env | sort > "$(dirname "$0")/env-%s-$INSTANCE_NAME"
exit 0
"""
_VERIFY = """#!/bin/sh
if [ "$OSP_COLOR" = "red" ]; then echo "the color red is refused" >&2; exit 1; fi
exit 0
"""
_NOOP = "#!/bin/sh\nexit 0\n"


def _write(path: str, text: str, executable: bool = False) -> None:
    with open(path, "w") as handle:
        handle.write(text)
    if executable:
        os.chmod(path, 0o755)


def install_os(root: str, name: str, parameters: dict[str, str], create: bool = True) -> str:
    directory = os.path.join(root, "srv/ganeti/os", name)
    os.makedirs(directory, exist_ok=True)
    for script in ("import", "export"):
        _write(os.path.join(directory, script), _NOOP, True)
    if create:
        _write(os.path.join(directory, "create"), _RECORD % "create", True)
    _write(os.path.join(directory, "rename"), _RECORD % "rename", True)
    _write(os.path.join(directory, "verify"), _VERIFY, True)
    _write(os.path.join(directory, "ganeti_api_version"), "20\n15\n10\n")
    _write(os.path.join(directory, "variants.list"), "default\nother\n")
    _write(os.path.join(directory, "parameters.list"),
           "".join("%s %s\n" % item for item in parameters.items()))
    return directory


def os_dir(node_root: str, name: str = "recorder") -> str:
    return os.path.join(node_root, "srv/ganeti/os", name)


def recorded_env(cluster: LocalCluster, script: str, instance: str,
                 name: str = "recorder") -> dict[str, str]:
    """The environment the OS script last ran with for ``instance`` (on any node)."""
    for node in cluster.node_list():
        path = os.path.join(os_dir(node.root, name), "env-%s-%s" % (script, instance))
        if os.path.exists(path):
            with open(path) as handle:
                return dict(line.rstrip("\n").split("=", 1) for line in handle if "=" in line)
    raise AssertionError("no %s script environment recorded for %s" % (script, instance))


def forget_env(cluster: LocalCluster) -> None:
    for node in cluster.node_list():
        for name in ("recorder", "recorder2"):
            directory = os_dir(node.root, name)
            for entry in os.listdir(directory):
                if entry.startswith("env-"):
                    os.unlink(os.path.join(directory, entry))


def gnt(cluster: LocalCluster, *argv: str, ok: bool = True) -> Any:
    """Run a gnt-* command on the master; assert its success (or failure)."""
    result = cluster.run_cli(1, list(argv))
    if ok:
        assert result.returncode == 0, (argv, result.stdout, result.stderr)
    else:
        assert result.returncode != 0, (argv, result.stdout, result.stderr)
    return result


def instance_rows(cluster: LocalCluster, fields: str = "name,pnode,status") -> dict[str, list[str]]:
    out = gnt(cluster, "gnt-instance", "list", "--no-headers", "--separator=|",
              "-o", fields).stdout
    return {line.split("|")[0]: line.split("|")[1:] for line in out.splitlines() if line}


def config(cluster: LocalCluster) -> dict[str, Any]:
    with open(cluster.master.paths.config_file) as handle:
        result: dict[str, Any] = serializer.load(handle.read())
    return result


def node_names(cluster: LocalCluster) -> list[str]:
    return [node.name for node in cluster.node_list()]


def ops_cluster_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """Body of each test module's module-scoped ``cluster`` fixture (see module doc)."""
    base = str(tmp_path_factory.mktemp("ops-cluster"))
    with reserve_addresses(3) as first:
        cluster = LocalCluster(base, nodes=3, first_index=first, disk_templates=(
            constants.DT_DISKLESS, constants.DT_FILE, constants.DT_SHARED_FILE))
        try:
            cluster.up()
            for number, node in enumerate(cluster.node_list()):
                install_os(node.root, "recorder", {"color": "the color",
                                                   "secret_key": "a secret"})
                install_os(node.root, "recorder2", {"color": "the color", "size": "a size"})
                install_os(node.root, "halfbroken", {}, create=number == 0)
            yield cluster
        finally:
            cluster.down()
