"""ganeti-confd as a real process: answers, signatures, the generic query, reloads.

Each daemon runs in the foreground (``-f -d``) in its own node root on a
loopback address and a free UDP port, with a hand-made config.data (three
nodes, a DRBD instance, an instance on a network) and a confd key.
"""

from __future__ import annotations

import copy
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from master_cluster import config_data
from noded_cluster import TREE, node_env

from ganeti import confd, constants, netutils, pathutils, serializer, ssconf
from ganeti.confd import client as confd_client
from ganeti.confd import protocol, snapshot
from ganeti.server import confd as confd_server
from ganeti.utils import io

CONFD = os.path.join(TREE, "daemons", "ganeti-confd")
CONFD_QUERY = os.path.join(TREE, "tools", "confd-query")
NAMES = ["node1.example.com", "node2.example.com", "node3.example.com"]
IPS = ["127.0.1.1", "127.0.1.2", "127.0.1.3"]
INST1_IP = "192.0.2.10"
INST2_IP = "10.9.0.5"
DRBD_SECRET = "b4a2f0c1d3e5drbdsecret"
START_TIMEOUT = 20.0


def free_udp_port(addresses: list[str]) -> int:
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((addresses[0], 0))
            port = probe.getsockname()[1]
        ok = True
        for address in addresses[1:]:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                try:
                    probe.bind((address, port))
                except OSError:
                    ok = False
        if ok:
            return port
    raise RuntimeError("no UDP port free on %s" % addresses)


def sample_config(serial: int = 5) -> dict[str, Any]:
    """Three nodes (node1 master, node2 candidate, node3 drained), two instances."""
    data = config_data(NAMES, IPS)
    data["serial_no"] = serial
    uuids = {n["name"]: u for u, n in data["nodes"].items()}
    node1, node2, node3 = (uuids[n] for n in NAMES)
    data["nodes"][node3].update(master_candidate=False, drained=True)
    cluster = data["cluster"]
    cluster["rsahostkeypub"] = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCsecretish"
    cluster["candidate_certs"] = {node1: "d1gest"}
    cluster["osparams_private_cluster"] = {"debootstrap": {"root_password": "hunter2"}}
    cluster["hvparams"][constants.HT_FAKE]["vnc_password_file"] = "/etc/ganeti/vnc"
    net_uuid = "net-uuid-1"
    data["networks"][net_uuid] = {
        "uuid": net_uuid, "name": "net1", "network": "10.9.0.0/29", "gateway": "10.9.0.1",
        "reservations": "00000100", "ext_reservations": "11000001", "serial_no": 1,
        "tags": [],
    }
    drbd = {
        "uuid": "disk-drbd", "name": "data", "dev_type": constants.DT_DRBD8, "size": 1024,
        "logical_id": [node1, node2, 11000, 0, 3, DRBD_SECRET], "nodes": [node1, node2],
        "iv_name": "disk/0", "mode": "rw", "params": {}, "serial_no": 1,
        "children": [
            {"uuid": "disk-data", "dev_type": "plain", "size": 1024,
             "logical_id": ["xenvg", "data"], "nodes": [node1, node2], "children": [],
             "params": {}, "mode": "rw"},
            {"uuid": "disk-meta", "dev_type": "plain", "size": 128,
             "logical_id": ["xenvg", "meta"], "nodes": [node1, node2], "children": [],
             "params": {}, "mode": "rw"},
        ],
    }
    data["disks"]["disk-drbd"] = drbd
    data["instances"]["inst-uuid-1"] = {
        "uuid": "inst-uuid-1", "name": "web1.example.com", "primary_node": node1,
        "os": "debootstrap+default", "hypervisor": constants.HT_FAKE,
        "hvparams": {"vnc_password_file": "/etc/ganeti/vnc-web1"}, "beparams": {},
        "osparams": {"dhcp": "yes"}, "osparams_private": {"root_password": "hunter2"},
        "admin_state": "up", "disks": ["disk-drbd"], "serial_no": 3, "tags": ["web"],
        "nics": [{"uuid": "nic-uuid-1", "name": "eth0", "mac": "aa:00:00:11:22:33",
                  "ip": INST1_IP, "nicparams": {}}],
    }
    data["instances"]["inst-uuid-2"] = {
        "uuid": "inst-uuid-2", "name": "db1.example.com", "primary_node": node2,
        "os": "debootstrap+default", "hypervisor": constants.HT_FAKE, "hvparams": {},
        "beparams": {}, "osparams": {}, "admin_state": "down", "disks": [],
        "serial_no": 1, "tags": [],
        "nics": [{"uuid": "nic-uuid-2", "name": "eth0", "mac": "aa:00:00:11:22:44",
                  "ip": INST2_IP, "network": net_uuid, "nicparams": {"link": "br9"}}],
    }
    return data


@dataclass
class ConfdNode:
    root: str
    name: str
    address: str
    port: int
    key: str
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def paths(self) -> pathutils.Paths:
        return pathutils.for_root(self.root)

    @property
    def env(self) -> dict[str, str]:
        env = node_env(self.root)
        env[netutils.HOSTNAME_ENV] = self.name
        return env

    def write_files(self, config: dict[str, Any]) -> None:
        paths = self.paths
        os.makedirs(paths.data_dir, exist_ok=True)
        self.write_config(config)
        io.write_file_atomic(paths.confd_hmac_key_file, (self.key + "\n").encode(), 0o600)
        candidates = [n["name"] for n in config["nodes"].values() if n["master_candidate"]]
        ssconf.write_files({
            ssconf.KEY_CLUSTER_NAME: config["cluster"]["cluster_name"],
            ssconf.KEY_MASTER_CANDIDATES: "\n".join(candidates),
            ssconf.KEY_MASTER_CANDIDATES_IPS: self.address,
            ssconf.KEY_NODE_PRIMARY_IPS: "\n".join("%s %s" % p for p in zip(NAMES, IPS)),
        }, paths)

    def write_config(self, config: dict[str, Any]) -> None:
        io.write_file_atomic(self.paths.config_file, serializer.dump_bytes(config), 0o600)

    def start(self, *extra: str) -> None:
        with open(os.path.join(self.root, "confd.stderr"), "ab") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, CONFD, "-f", "-d", "-p", str(self.port), *extra],
                env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=stderr)
        deadline = time.monotonic() + START_TIMEOUT
        with self.client(timeout=0.3) as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError("confd exited with %s: %s"
                                       % (self.process.returncode, self.log_text()))
                try:
                    client.query(confd.REQ_PING)
                    return
                except confd_client.NoAnswer:
                    if time.monotonic() > deadline:
                        raise RuntimeError("confd did not answer: "
                                           + self.log_text()) from None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def client(self, timeout: float = 2.0) -> confd_client.ConfdClient:
        return confd_client.ConfdClient(self.key.encode(), [self.address], self.port, timeout)

    def log_text(self) -> str:
        try:
            with open(self.paths.daemon_log_file(constants.CONFD), encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            return ""


def make_node(base: str, index: int, port: int, key: str,
              config: dict[str, Any]) -> ConfdNode:
    node = ConfdNode(os.path.join(base, "node%d" % (index + 1)), NAMES[index], IPS[index],
                     port, key)
    node.write_files(config)
    return node


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConfdNode]:
    base = str(tmp_path_factory.mktemp("confd"))
    node = make_node(base, 0, free_udp_port(IPS[:1]), secrets.token_hex(32),
                     sample_config())
    node.start()
    try:
        yield node
    finally:
        node.stop()


def ask(node: ConfdNode, req_type: int, query: Any = None) -> protocol.Reply:
    with node.client() as client:
        return client.query(req_type, query).best.reply


def ok(node: ConfdNode, req_type: int, query: Any = None) -> Any:
    reply = ask(node, req_type, query)
    assert reply.status == confd.REPL_STATUS_OK, reply
    assert reply.serial == 5
    return reply.answer


# -- the fixed queries -------------------------------------------------------------------

def test_ping_and_roles(server: ConfdNode) -> None:
    assert ok(server, confd.REQ_PING) == constants.CONFIG_VERSION
    roles = {name: ok(server, confd.REQ_NODE_ROLE_BYNAME, name) for name in NAMES}
    assert roles == {NAMES[0]: confd.NODE_ROLE_MASTER, NAMES[1]: confd.NODE_ROLE_CANDIDATE,
                     NAMES[2]: confd.NODE_ROLE_DRAINED}
    assert ok(server, confd.REQ_NODE_ROLE_BYNAME, "node2") == confd.NODE_ROLE_CANDIDATE
    missing = ask(server, confd.REQ_NODE_ROLE_BYNAME, "nosuchnode")
    assert (missing.status, missing.answer) == (confd.REPL_STATUS_ERROR,
                                                confd.ERROR_UNKNOWN_ENTRY)
    bad = ask(server, confd.REQ_NODE_ROLE_BYNAME, {"1": "x"})
    assert (bad.status, bad.answer) == (confd.REPL_STATUS_ERROR, confd.ERROR_ARGUMENT)


def test_cluster_master(server: ConfdNode) -> None:
    assert ok(server, confd.REQ_CLUSTER_MASTER) == NAMES[0]
    fields = [confd.REQFIELD_NAME, confd.REQFIELD_IP, confd.REQFIELD_MNODE_PIP]
    assert ok(server, confd.REQ_CLUSTER_MASTER, {confd.REQQ_FIELDS: fields}) == \
        [NAMES[0], IPS[0], IPS[0]]
    # Ganeti's Python clients send the field codes as strings.
    assert ok(server, confd.REQ_CLUSTER_MASTER, {confd.REQQ_FIELDS: ["2", "0"]}) == \
        [IPS[0], NAMES[0]]
    bad = ask(server, confd.REQ_CLUSTER_MASTER, "node1")
    assert (bad.status, bad.answer) == (confd.REPL_STATUS_ERROR, confd.ERROR_ARGUMENT)


def test_ip_lists(server: ConfdNode) -> None:
    assert sorted(ok(server, confd.REQ_NODE_PIP_LIST)) == IPS
    assert sorted(ok(server, confd.REQ_MC_PIP_LIST)) == IPS[:2]
    default_link = sample_config()["cluster"]["nicparams"]["default"]["link"]
    assert ok(server, confd.REQ_INSTANCES_IPS_LIST) == [INST1_IP]
    assert ok(server, confd.REQ_INSTANCES_IPS_LIST, default_link) == [INST1_IP]
    assert ok(server, confd.REQ_INSTANCES_IPS_LIST, "br9") == [INST2_IP]
    assert ok(server, confd.REQ_INSTANCES_IPS_LIST, "nolink") == []


def test_node_pip_by_instance_ip(server: ConfdNode) -> None:
    assert ok(server, confd.REQ_NODE_PIP_BY_INSTANCE_IP, {confd.REQQ_IP: INST1_IP}) == IPS[0]
    assert ok(server, confd.REQ_NODE_PIP_BY_INSTANCE_IP,
              {confd.REQQ_IP: INST2_IP, confd.REQQ_LINK: "br9"}) == IPS[1]
    # Not on the default link:
    wrong_link = ask(server, confd.REQ_NODE_PIP_BY_INSTANCE_IP, {confd.REQQ_IP: INST2_IP})
    assert (wrong_link.status, wrong_link.answer) == (confd.REPL_STATUS_ERROR,
                                                      confd.ERROR_UNKNOWN_ENTRY)
    assert ok(server, confd.REQ_NODE_PIP_BY_INSTANCE_IP,
              {confd.REQQ_IPLIST: [INST1_IP, "192.0.2.99"]}) == \
        [[confd.REPL_STATUS_OK, IPS[0]], [confd.REPL_STATUS_ERROR, confd.ERROR_UNKNOWN_ENTRY]]


def test_node_drbd_instances_and_disks(server: ConfdNode) -> None:
    assert ok(server, confd.REQ_NODE_DRBD, NAMES[0]) == \
        [[NAMES[0], 0, "web1.example.com", "disk/0", "primary", NAMES[1]]]
    assert ok(server, confd.REQ_NODE_DRBD, NAMES[1]) == \
        [[NAMES[1], 3, "web1.example.com", "disk/0", "secondary", NAMES[0]]]
    assert ok(server, confd.REQ_NODE_DRBD, NAMES[2]) == []

    primary, secondary = ok(server, confd.REQ_NODE_INSTANCES, NAMES[1])
    assert [i["name"] for i in primary] == ["db1.example.com"]
    assert [i["name"] for i in secondary] == ["web1.example.com"]
    assert all("osparams_private" not in i for i in primary + secondary)
    assert secondary[0]["hvparams"] == {}  # the password file is left out

    disks = ok(server, confd.REQ_INSTANCE_DISKS, "web1.example.com")
    assert [d["uuid"] for d in disks] == ["disk-drbd"]
    assert disks[0]["size"] == 1024
    assert DRBD_SECRET not in serializer.dump(disks)
    assert [c["logical_id"] for c in disks[0]["children"]] == [["xenvg", "data"],
                                                               ["xenvg", "meta"]]
    assert ok(server, confd.REQ_INSTANCE_DISKS, "db1") == []
    missing = ask(server, confd.REQ_INSTANCE_DISKS, "nosuch")
    assert (missing.status, missing.answer) == (confd.REPL_STATUS_ERROR,
                                                confd.ERROR_UNKNOWN_ENTRY)


def test_unknown_type_not_implemented(server: ConfdNode) -> None:
    reply = ask(server, 99)
    assert reply.status == confd.REPL_STATUS_NOTIMPLEMENTED


# -- the generic query ----------------------------------------------------------------------

def test_config_query_allowed_values(server: ConfdNode) -> None:
    def get(path: str) -> Any:
        return ok(server, confd.REQ_CONFIG_QUERY, path)

    assert get("/cluster/cluster_name") == "cluster.example.com"
    assert get("/serial_no") == 5
    assert get("/nodes/node2.example.com/primary_ip") == IPS[1]
    assert get("/nodes/node3/drained") is True
    nics = get("/instances/web1.example.com/nics")
    assert [(n["name"], n["uuid"]) for n in nics] == [("eth0", "nic-uuid-1")]
    assert get("/instances/inst-uuid-1/nics/eth0/ip") == INST1_IP
    assert get("/instances/web1/nics/0/mac") == "aa:00:00:11:22:33"
    assert get("/instances/web1/disks") == ["disk-drbd"]
    assert get("/disks/data/children/1/logical_id") == ["xenvg", "meta"]
    node_uuids = [get("/nodes/%s/uuid" % name) for name in NAMES[:2]]
    assert get("/disks/disk-drbd/logical_id") == [*node_uuids, 11000, 0, 3]
    assert get("/networks/net1/gateway") == "10.9.0.1"
    assert get("/networks/net1/ips/10.9.0.3") == {
        "address": "10.9.0.3", "free": True, "reserved": False, "external_reserved": False,
        "instance": None}
    used = get("/networks/net1/ips/10.9.0.5")
    assert (used["free"], used["reserved"], used["instance"]) == (False, True,
                                                                 "db1.example.com")
    assert get("/networks/net1/ips/10.9.0.1")["external_reserved"] is True
    assert get("/networks/net1/ips") == {"network": "10.9.0.0/29", "size": 8, "free": 4,
                                         "reserved": 1, "external_reserved": 3}
    assert get("/cluster/nicparams/default/link") == \
        sample_config()["cluster"]["nicparams"]["default"]["link"]
    # Escaped segments (RFC 6901) and a trailing slash.
    assert get("/cluster/tags/") == ["test-cluster"]


def test_config_query_keeps_secrets_out(server: ConfdNode) -> None:
    for path in ("/cluster/rsahostkeypub", "/cluster/candidate_certs",
                 "/cluster/osparams_private_cluster",
                 "/instances/web1/osparams_private",
                 "/instances/web1/osparams_private/root_password",
                 "/instances/web1/hvparams/vnc_password_file",
                 "/cluster/hvparams/fake/vnc_password_file",
                 "/disks/disk-drbd/logical_id/5", "/filters"):
        reply = ask(server, confd.REQ_CONFIG_QUERY, path)
        assert reply.status == confd.REPL_STATUS_ERROR, path
        assert isinstance(reply.answer, str) and "not readable" in reply.answer, reply
        refused = reply.answer.split(":", 1)[0]  # the message starts with the refused path
        assert path.startswith(refused) and refused.count("/") >= 1, refused
    # Whole objects come back without them.
    everything = serializer.dump(ok(server, confd.REQ_CONFIG_QUERY, "/"))
    for secret in ("hunter2", DRBD_SECRET, "AAAAB3NzaC1yc2E", "d1gest", "vnc"):
        assert secret not in everything, secret
    assert "web1.example.com" in everything
    cluster = ok(server, confd.REQ_CONFIG_QUERY, "/cluster")
    assert "rsahostkeypub" not in cluster and "cluster_name" in cluster
    assert "vnc_password_file" not in cluster["hvparams"]["fake"]


def test_config_query_bad_paths(server: ConfdNode) -> None:
    for path, code in (("cluster", confd.ERROR_ARGUMENT), ("/cluster//x", confd.ERROR_ARGUMENT),
                       ("/nodes/nosuch", confd.ERROR_UNKNOWN_ENTRY),
                       ("/instances/web1/nics/7", confd.ERROR_UNKNOWN_ENTRY),
                       ("/networks/net1/ips/10.1.1.1", confd.ERROR_UNKNOWN_ENTRY),
                       ("/networks/net1/ips/notanip", confd.ERROR_ARGUMENT),
                       ("/cluster/cluster_name/x", confd.ERROR_ARGUMENT)):
        reply = ask(server, confd.REQ_CONFIG_QUERY, path)
        assert (reply.status, reply.answer) == (confd.REPL_STATUS_ERROR, code), path
    reply = ask(server, confd.REQ_CONFIG_QUERY, 42)
    assert (reply.status, reply.answer) == (confd.REPL_STATUS_ERROR, confd.ERROR_ARGUMENT)


def test_answer_too_large_for_a_packet() -> None:
    """In-process: an answer over the UDP limit becomes an error naming the limit."""
    config = sample_config()
    template = config["instances"]["inst-uuid-2"]
    for i in range(1500):
        config["instances"]["bulk-%d" % i] = dict(template, uuid="bulk-%d" % i,
                                                  name="bulk%d.example.com" % i)
    snap = snapshot.load(serializer.dump_bytes(config))
    key = b"k" * 64
    request = protocol.new_request(confd.REQ_CONFIG_QUERY, "/instances")
    stats = confd_server.Stats()
    packet = confd_server.respond(protocol.pack_request(request, key), key, snap, stats)
    assert packet is not None and len(packet) <= confd.MAX_PACKET_SIZE
    reply, salt = protocol.parse_reply(packet, key)
    assert salt == request.rsalt and reply.status == confd.REPL_STATUS_ERROR
    assert "does not fit" in reply.answer and "narrower path" in reply.answer
    small = protocol.new_request(confd.REQ_CONFIG_QUERY, "/instances/bulk1499/name")
    packet = confd_server.respond(protocol.pack_request(small, key), key, snap, stats)
    assert packet is not None
    assert protocol.parse_reply(packet, key)[0].answer == "bulk1499.example.com"
    assert stats["answered"] == 2


# -- what is dropped -----------------------------------------------------------------------

def test_bad_signature_stale_and_garbage_dropped(server: ConfdNode) -> None:
    key = server.key.encode()
    request = protocol.new_request(confd.REQ_PING)
    wrong_key = protocol.pack_request(request, b"0" * 64)
    stale = protocol.pack_request(request, key, now=time.time() - 1000)
    future = protocol.pack_request(request, key, now=time.time() + 1000)
    tampered = protocol.pack_request(request, key).replace(b'\\"type\\":0', b'\\"type\\":4')
    assert tampered != protocol.pack_request(request, key)
    good = protocol.new_request(confd.REQ_PING)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(10)
        for packet in (wrong_key, stale, future, tampered, b"plj0{not json", b"hello"):
            sock.sendto(packet, (server.address, server.port))
        # The server handles packets in order: had it answered a bad one, that
        # reply would come before the good one's.
        sock.sendto(protocol.pack_request(good, key), (server.address, server.port))
        reply, salt = protocol.parse_reply(sock.recv(confd.MAX_PACKET_SIZE), key)
    assert salt == good.rsalt and reply.answer == constants.CONFIG_VERSION
    log = server.log_text()
    assert log.count("Dropped a request") >= 5
    assert "behind our clock" in log and "ahead of our clock" in log
    assert "Invalid signature" in log and "without the confd magic" in log


def test_client_ignores_replies_with_wrong_key(server: ConfdNode) -> None:
    client = confd_client.ConfdClient(b"f" * 64, [server.address], server.port, timeout=0.5)
    with client, pytest.raises(confd_client.NoAnswer, match=server.address):
        client.query(confd.REQ_PING)


# -- reloads and several servers ---------------------------------------------------------------

def _wait_serial(node: ConfdNode, serial: int, timeout: float = 20.0) -> protocol.Reply:
    deadline = time.monotonic() + timeout
    while True:
        reply = ask(node, confd.REQ_CONFIG_QUERY, "/serial_no")
        if reply.answer == serial or time.monotonic() > deadline:
            return reply
        time.sleep(0.1)


def test_config_change_is_picked_up(tmp_path: Any) -> None:
    config = sample_config(serial=10)
    node = make_node(str(tmp_path), 0, free_udp_port(IPS[:1]), secrets.token_hex(32), config)
    node.start()
    try:
        changed = copy.deepcopy(config)
        changed["serial_no"] = 11
        changed["cluster"]["cluster_name"] = "renamed.example.com"
        node.write_config(changed)
        assert _wait_serial(node, 11).answer == 11
        assert ask(node, confd.REQ_CONFIG_QUERY, "/cluster/cluster_name").answer == \
            "renamed.example.com"
        # A broken file leaves the last good configuration in service.
        io.write_file_atomic(node.paths.config_file, b"{broken", 0o600)
        deadline = time.monotonic() + 20
        while "Can't load" not in node.log_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "still serving serial 11" in node.log_text()
        assert ask(node, confd.REQ_CONFIG_QUERY, "/serial_no").answer == 11
        changed["serial_no"] = 12
        node.write_config(changed)
        assert _wait_serial(node, 12).answer == 12
    finally:
        node.stop()


def test_client_keeps_highest_serial(tmp_path: Any) -> None:
    port = free_udp_port(IPS[:2])
    key = secrets.token_hex(32)
    older = make_node(str(tmp_path), 0, port, key, sample_config(serial=7))
    newer = make_node(str(tmp_path), 1, port, key, sample_config(serial=9))
    older.start()
    try:
        newer.start()
        try:
            for peers in (IPS[:2], IPS[1::-1]):
                with confd_client.ConfdClient(key.encode(), peers, port) as client:
                    result = client.query(confd.REQ_NODE_ROLE_BYNAME, NAMES[1])
                assert (result.serial, result.server) == (9, IPS[1])
                assert sorted(r.reply.serial for r in result.replies) == [7, 9]
                assert result.answer == confd.NODE_ROLE_CANDIDATE
        finally:
            newer.stop()
    finally:
        older.stop()


# -- start-up and the command-line tool ----------------------------------------------------------

def test_not_a_candidate_exits(tmp_path: Any) -> None:
    node = make_node(str(tmp_path), 2, free_udp_port(IPS[2:]), secrets.token_hex(32),
                     sample_config())
    result = subprocess.run([sys.executable, CONFD, "-f", "-p", str(node.port)],
                            env=node.env, capture_output=True, text=True, timeout=30,
                            check=False)
    assert result.returncode == constants.EXIT_NOTCANDIDATE
    assert "not a master candidate" in result.stderr


def _tool(node: ConfdNode, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, CONFD_QUERY, "-p", str(node.port), *args],
                          env=node.env, capture_output=True, text=True, timeout=30,
                          check=False)


def test_confd_query_tool(server: ConfdNode) -> None:
    result = _tool(server, "node-role", NAMES[2])
    assert (result.returncode, result.stdout) == (0, "drained\n"), result.stderr
    result = _tool(server, "--json", "CLUSTER_MASTER", "name", "ip")
    assert result.returncode == 0, result.stderr
    reply = serializer.load(result.stdout)
    assert reply["answer"] == [NAMES[0], IPS[0]] and reply["serial"] == 5
    assert reply["server"] == server.address
    result = _tool(server, "config-query", "/instances/web1/nics/0/ip")
    assert (result.returncode, result.stdout) == (0, INST1_IP + "\n")
    result = _tool(server, "node-pip-by-instance-ip", "--link", "br9", INST2_IP)
    assert (result.returncode, result.stdout) == (0, IPS[1] + "\n")
    result = _tool(server, "config-query", "/cluster/rsahostkeypub")
    assert result.returncode == 1 and "not readable" in result.stderr
    result = _tool(server, "node-role")
    assert result.returncode == 2 and "takes 1 argument" in result.stderr
    result = _tool(server, "bogus-type")
    assert result.returncode == 2 and "unknown query type" in result.stderr


def test_confd_query_without_answer(server: ConfdNode) -> None:
    port = free_udp_port(IPS[:1])
    result = subprocess.run([sys.executable, CONFD_QUERY, "-p", str(port), "-t", "0.3",
                             "ping"], env=server.env, capture_output=True, text=True,
                            timeout=30, check=False)
    assert result.returncode == 3
    assert "No confd server answered" in result.stderr and IPS[0] in result.stderr
