"""node_join: the new node's side of ``gnt-node add``.

The master runs ``<python> -m ganeti.tools.node_join`` on the new node over
SSH and writes one JSON document on its standard input (never on a command
line: it holds the cluster's secrets):

``{"cluster_name", "node_name", "server_pem", "client_pem", "confd_hmac_key",
"cluster_domain_secret" (optional), "known_hosts" (optional), "ssconf": {key:
value}, "noded_bind", "noded_port", "readd"}``

It checks the document and this machine (its name, and that it is not in
another cluster — or, without ``readd``, in any), writes the certificates,
keys, ssconf and known_hosts under this node's root (GANETI_ROOTDIR, set by
the SSH server on a local cluster), (re)starts the node daemon through
daemon-util bound to ``noded_bind:noded_port``, and answers one JSON line:
``{"success": true, "node_name": …, "noded_pid": …}`` or
``{"success": false, "error": "…"}`` (exit status 1).
"""

from __future__ import annotations

import os
import sys
from typing import IO, Any

from ganeti import constants, errors, ht, netutils, pathutils, serializer, ssconf
from ganeti.utils import io, x509

#: Largest input accepted (certificates and ssconf are a few KiB).
MAX_INPUT = 4 * 1024 * 1024

TJoinData = ht.TStrictDict(True, {
    "cluster_name": ht.TNonEmptyString,
    "node_name": ht.TNonEmptyString,
    "server_pem": ht.TNonEmptyString,
    "client_pem": ht.TNonEmptyString,
    "confd_hmac_key": ht.TRegex(r"^[0-9a-f]{64}\n?$", "64 lowercase hex characters"),
    "ssconf": ht.TDictOf(ht.TNonEmptyString, ht.TString),
    "noded_bind": ht.TNonEmptyString,
    "noded_port": ht.TIntRange(1, 65535),
    "readd": ht.TBool,
})
_OPTIONAL = {
    "cluster_domain_secret": ht.TString,
    "known_hosts": ht.TString,
}


class JoinError(errors.GenericError):
    """The join cannot go on; the message says why."""


def parse_input(raw: bytes) -> dict[str, Any]:
    """The checked join document; JoinError names what is wrong."""
    if len(raw) > MAX_INPUT:
        raise JoinError("Join data too large (%d bytes, at most %d)" % (len(raw), MAX_INPUT))
    try:
        data = serializer.load(raw)
    except ValueError as err:
        raise JoinError("Join data on standard input is not JSON: %s" % err) from err
    if not isinstance(data, dict):
        raise JoinError("Join data must be a JSON object, got %s" % type(data).__name__)
    optional = {key: data.pop(key) for key in list(data) if key in _OPTIONAL}
    if not TJoinData(data):
        where = ht.explain_failure(TJoinData, data)
        detail = "%s %s" % where if where else "expected %s" % TJoinData.desc
        raise JoinError("Invalid join data: %s" % detail.strip())
    for key, value in optional.items():
        if not _OPTIONAL[key](value):
            raise JoinError("Invalid join data: %s must be %s" % (key, _OPTIONAL[key].desc))
        data[key] = value
    ssconf.verify_keys(data["ssconf"])
    for field in ("server_pem", "client_pem"):
        try:
            x509.load(data[field])
        except errors.X509CertError as err:
            raise JoinError("Invalid %s: %s" % (field, err)) from err
    if not x509.verify_signed_by(data["client_pem"], data["server_pem"]):
        raise JoinError("The client certificate is not signed by the cluster certificate")
    return data


def _same_host(first: str, second: str) -> bool:
    """Equal names, or one is the short form of the other."""
    a, b = first.lower().rstrip("."), second.lower().rstrip(".")
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def check_node(data: dict[str, Any], paths: pathutils.Paths) -> None:
    """Refuse a machine that is someone else or belongs to another cluster."""
    here = netutils.my_hostname()
    if not _same_host(here, data["node_name"]):
        raise JoinError("This machine is %s, not %s: refusing to join it under another name"
                        % (here, data["node_name"]))
    try:
        current = ssconf.SimpleStore(paths).get_cluster_name()
    except (errors.SsconfError, OSError):
        current = None
    if current and current != data["cluster_name"]:
        raise JoinError("This node belongs to cluster %s; remove it from that cluster"
                        " before adding it to %s" % (current, data["cluster_name"]))
    if os.path.exists(paths.config_file) and not data["readd"]:
        raise JoinError("This node has a cluster configuration (%s); it is still in a"
                        " cluster (use --readd for a node of this cluster)"
                        % paths.config_file)


def write_files(data: dict[str, Any], paths: pathutils.Paths) -> list[str]:
    """Write the node's certificates, keys, ssconf and known_hosts; the paths written."""
    os.makedirs(paths.data_dir, mode=0o755, exist_ok=True)
    written = []
    x509.write_file(paths.server_cert_file, data["server_pem"].encode("ascii"))
    written.append(paths.server_cert_file)
    x509.write_file(paths.client_cert_file, data["client_pem"].encode("ascii"))
    written.append(paths.client_cert_file)
    key = data["confd_hmac_key"].strip() + "\n"
    io.write_file_atomic(paths.confd_hmac_key_file, key.encode("ascii"), mode=0o400)
    written.append(paths.confd_hmac_key_file)
    if data.get("cluster_domain_secret"):
        io.write_file_atomic(paths.cluster_domain_secret_file,
                             data["cluster_domain_secret"].encode("ascii"), mode=0o400)
        written.append(paths.cluster_domain_secret_file)
    if data.get("known_hosts"):
        io.write_file_atomic(paths.known_hosts_file, data["known_hosts"].encode("utf-8"),
                             mode=0o644)
        written.append(paths.known_hosts_file)
    ssconf.write_files(data["ssconf"], paths)
    return written


def start_noded(data: dict[str, Any], paths: pathutils.Paths) -> int:
    """(Re)start the node daemon on the given address and port; its pid."""
    from ganeti.server import daemon_util

    # A running noded (re-add) holds the old certificates: restart it.
    stopped = daemon_util.run(["stop", constants.NODED], timeout=daemon_util.STOP_TIMEOUT + 10)
    if stopped.returncode != 0:
        raise JoinError("Stopping the old node daemon failed: %s"
                        % (stopped.stderr.strip() or stopped.stdout.strip()))
    started = daemon_util.run(["start", constants.NODED, "-b", data["noded_bind"],
                               "-p", str(data["noded_port"])], timeout=120)
    pid = daemon_util.running_pid(constants.NODED, paths)
    if started.returncode != 0 or pid is None:
        raise JoinError("Starting the node daemon on %s port %d failed: %s"
                        % (data["noded_bind"], data["noded_port"],
                           started.stderr.strip() or started.stdout.strip()
                           or "exit status %d" % started.returncode))
    return pid


def join(raw: bytes, paths: pathutils.Paths | None = None) -> dict[str, Any]:
    """Do the whole join; the answer document."""
    paths = paths or pathutils.current()
    data = parse_input(raw)
    check_node(data, paths)
    written = write_files(data, paths)
    pid = start_noded(data, paths)
    return {"success": True, "node_name": data["node_name"], "noded_pid": pid,
            "written": written, "protocol_version": constants.PROTOCOL_VERSION}


def main(stdin: IO[bytes] | None = None, stdout: IO[str] | None = None) -> int:
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout
    try:
        answer = join(stdin.read(MAX_INPUT + 1))
        code = 0
    except (errors.GenericError, OSError) as err:
        answer = {"success": False, "error": "%s: %s" % (type(err).__name__, err)
                  if not isinstance(err, JoinError) else str(err)}
        code = 1
    stdout.write(serializer.dump(answer) + "\n")
    stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
