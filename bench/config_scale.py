#!/usr/bin/env python3
"""Time loading, verifying and saving a large configuration.

Builds a realistic config.data of 1,000 nodes and 10,000 instances (DRBD
with children, plain, file and diskless disks, one or two NICs, parameter
overrides, tags, networks), then prints the median of several runs of:
load (read + parse + objects + full verification, as ConfigWriter opens
it), verify alone (full, as gnt-cluster verify), save (full verification +
serialization + atomic write with fsync), update (one changed instance
saved, as a job does: consistency checks in full, field types of the
changed object), and the file size.

Usage: bench/config_scale.py [--nodes N] [--instances N] [--runs N] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ganeti import config, constants, paramdefs
from ganeti.objects import ConfigData


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def build_config(n_nodes: int, n_instances: int, seed: int = 1) -> dict[str, Any]:
    """A plain-data config.data of the given size (deterministic)."""
    rng = random.Random(seed)
    now = time.time()
    groups: dict[str, Any] = {}
    group_uuids = []
    for index in range(max(1, n_nodes // 100)):
        guuid = _uuid(rng)
        group_uuids.append(guuid)
        groups[guuid] = {
            "uuid": guuid, "name": "group%d" % index, "serial_no": 1, "ctime": now,
            "mtime": now, "alloc_policy": "preferred", "ndparams": {}, "diskparams": {},
            "ipolicy": {}, "hv_state_static": {}, "disk_state_static": {}, "networks": {},
            "tags": [],
        }
    nodes: dict[str, Any] = {}
    node_uuids = []
    for index in range(n_nodes):
        nuuid = _uuid(rng)
        node_uuids.append(nuuid)
        nodes[nuuid] = {
            "uuid": nuuid, "name": "node%04d.example.com" % index,
            "primary_ip": "10.%d.%d.%d" % (index >> 16, (index >> 8) & 255, index & 255),
            "secondary_ip": "10.200.%d.%d" % ((index >> 8) & 255, index & 255),
            "serial_no": 1, "ctime": now, "mtime": now, "master_candidate": index < 10,
            "master_capable": True, "vm_capable": True, "offline": False, "drained": False,
            "powered": True, "group": group_uuids[index % len(group_uuids)],
            "ndparams": {}, "hv_state_static": {}, "disk_state_static": {},
            "tags": ["rack:%d" % (index // 40)],
        }
    net_uuid = _uuid(rng)
    networks: dict[str, dict[str, Any]] = {net_uuid: {
        "uuid": net_uuid, "name": "public", "network": "100.64.0.0/18",
        "gateway": "100.64.0.1", "mac_prefix": "aa:11:22", "serial_no": 1,
        "ctime": now, "mtime": now, "tags": [],
        "reservations": "0" * 16384, "ext_reservations": "11" + "0" * 16381 + "1",
    }}
    reservations = list(networks[net_uuid]["reservations"])
    instances: dict[str, Any] = {}
    disks: dict[str, Any] = {}
    templates = [constants.DT_DRBD8] * 4 + [constants.DT_PLAIN] * 4 + \
        [constants.DT_FILE, constants.DT_DISKLESS]
    port = 11000
    for index in range(n_instances):
        iuuid = _uuid(rng)
        pnode = node_uuids[index % n_nodes]
        snode = node_uuids[(index * 7 + 1) % n_nodes]
        template = templates[index % len(templates)]
        disk_list = []
        for disk_index in range(0 if template == constants.DT_DISKLESS else 1 + index % 2):
            duuid = _uuid(rng)
            size = 10240 * (1 + disk_index)
            disk: dict[str, Any] = {
                "uuid": duuid, "dev_type": template, "iv_name": "disk/%d" % disk_index,
                "size": size, "mode": "rw", "params": {}, "serial_no": 1, "ctime": now,
                "mtime": now, "nodes": [pnode],
            }
            if template == constants.DT_DRBD8:
                port += 1
                disk["nodes"] = [pnode, snode]
                disk["logical_id"] = [pnode, snode, port, disk_index, disk_index,
                                      "%040x" % rng.getrandbits(160)]
                disk["children"] = [
                    {"dev_type": "plain", "size": size, "mode": "rw", "params": {},
                     "logical_id": ["xenvg", "%s.disk%d_%s" % (duuid, disk_index, part)],
                     "nodes": [pnode, snode], "serial_no": 1, "ctime": now, "mtime": now}
                    for part in ("data", "meta")]
                disk["children"][1]["size"] = 128
            elif template == constants.DT_PLAIN:
                disk["logical_id"] = ["xenvg", "%s.disk%d" % (duuid, disk_index)]
            else:
                disk["logical_id"] = ["loop", "/srv/ganeti/file-storage/inst%d/disk%d"
                                      % (index, disk_index)]
            disks[duuid] = disk
            disk_list.append(duuid)
        nics: list[dict[str, Any]] = [{"uuid": _uuid(rng), "mac": "aa:00:%02x:%02x:%02x:%02x" % (
            (index >> 24) & 255, (index >> 16) & 255, (index >> 8) & 255, index & 255),
            "ip": None, "nicparams": {}}]
        if index % 3 == 0:
            address_index = 2 + index // 3
            reservations[address_index] = "1"
            nics.append({"uuid": _uuid(rng), "mac": "aa:11:22:%02x:%02x:%02x" % (
                (index >> 16) & 255, (index >> 8) & 255, index & 255),
                "ip": "100.64.%d.%d" % (address_index >> 8, address_index & 255),
                "network": net_uuid, "nicparams": {}})
        port += 1
        instances[iuuid] = {
            "uuid": iuuid, "name": "instance%05d.example.com" % index,
            "primary_node": pnode, "os": "debootstrap+default",
            "hypervisor": constants.HT_KVM if index % 5 else constants.HT_FAKE,
            "hvparams": {"kernel_args": "ro console=ttyS0"} if index % 5 else {},
            "beparams": {"maxmem": 1024, "minmem": 512, "vcpus": 1 + index % 4},
            "osparams": {}, "osparams_private": {}, "admin_state": "up",
            "admin_state_source": "admin", "disks": disk_list, "disks_active": True,
            "nics": nics, "network_port": port, "serial_no": 3, "ctime": now,
            "mtime": now, "tags": ["app:%d" % (index % 50)],
        }
    networks[net_uuid]["reservations"] = "".join(reservations)
    cluster = {
        "uuid": _uuid(rng), "serial_no": 1, "ctime": now, "mtime": now,
        "cluster_name": "big.example.com", "master_node": node_uuids[0],
        "master_ip": "10.255.0.1", "master_netdev": "eth0", "master_netmask": 32,
        "mac_prefix": "aa:00:00", "volume_group_name": "xenvg",
        "enabled_hypervisors": [constants.HT_KVM, constants.HT_FAKE],
        "enabled_disk_templates": [constants.DT_DRBD8, constants.DT_PLAIN, constants.DT_FILE,
                                   constants.DT_DISKLESS],
        "hvparams": {hv: paramdefs.HVPARAMS[hv].defaults()
                     for hv in (constants.HT_KVM, constants.HT_FAKE)},
        "beparams": {"default": paramdefs.BEPARAMS.defaults()},
        "nicparams": {"default": paramdefs.NICPARAMS.defaults()},
        "ndparams": paramdefs.NDPARAMS.defaults(),
        "diskparams": {t: f.defaults() for t, f in paramdefs.DISKPARAMS.items()},
        "highest_used_port": port, "tcpudp_port_pool": [], "tags": [],
        "rsahostkeypub": "ssh-rsa AAAA", "candidate_pool_size": 10,
    }
    return {"version": constants.CONFIG_VERSION, "serial_no": 1, "ctime": now, "mtime": now,
            "cluster": cluster, "nodes": nodes, "nodegroups": groups,
            "instances": instances, "networks": networks, "disks": disks, "filters": {}}


def _median_ms(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds of ``fn`` (CPU time shows the
    cost even when other processes compete for the machine)."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
        del result
        gc.collect()  # free the previous run's objects outside the measurement
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--instances", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--profile", choices=["load", "verify", "save"])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "config.data")
        writer = config.ConfigWriter.create(
            path, ConfigData.from_dict(build_config(args.nodes, args.instances)))
        size = os.path.getsize(path)
        instances = list(writer.get_all_instances_info().values())
        counter = iter(range(10**9))

        def update() -> None:
            # What a job does: change one instance and save (incremental checks).
            inst = instances[next(counter) % len(instances)]
            inst.beparams["vcpus"] = 1 + inst.beparams.get("vcpus", 1) % 4
            writer.update(inst)

        actions: dict[str, Callable[[], Any]] = {
            "load": lambda: config.ConfigWriter(path),
            "verify": writer.verify_config,
            "save": writer.save,
            "update": update,
        }
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(actions[args.profile])
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            return
        print("config: %d nodes, %d instances, %d disks; file %.1f MiB (%d bytes)"
              % (args.nodes, args.instances, len(writer.get_config_data().disks),
                 size / 1048576, size))
        print("os load average: %.1f (figures are noisy when the machine is busy)"
              % os.getloadavg()[0])
        for name, action in actions.items():
            wall, cpu = _median_ms(action, args.runs)
            print("%-7s median %7.1f ms wall, %7.1f ms CPU over %d runs"
                  % (name, wall, cpu, args.runs))


if __name__ == "__main__":
    main()
