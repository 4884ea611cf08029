"""gnt-cluster sub-commands that reach the nodes over SSH, as Ganeti's do.

``command`` runs a shell command on nodes and ``copyfile`` copies a file of
the master to them: both over SSH (paramiko, ``ganeti.ssh``; root's cluster
key, host keys checked against the cluster's known_hosts, each node's
ndparam ``ssh_port`` from ssconf). Node RPC is not used because its
``upload_file`` accepts only the allow-listed cluster files, and because an
administrator's command must not run inside the node daemon.

A path given to ``copyfile`` is a cluster path: one under this node's root
(GANETI_ROOTDIR) is taken relative to it, and every node places the copy
under its own root (the same path on a real cluster, where roots are "/").

``renew-crypto`` replaces certificates and keys on the master
(``bootstrap.generate_crypto_files``), stops the daemons, installs the new
files on every other online node with ``ganeti.tools.node_join`` (as a
re-add: the secrets travel on the SSH channel's standard input), starts the
daemons again everywhere and finally runs a RedistributeConfig job so the
master candidates get the new RAPI certificate.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from ganeti import cli, cli_jobs, constants, errors, pathutils, serializer
from ganeti.cli import Command, opt

if TYPE_CHECKING:  # paramiko and cryptography are slow to import: only when needed
    from ganeti import ssconf, ssh

# ssconf, netutils and utils.io are imported where used: every gnt-cluster command
# imports this module, and they pull in ctypes, tempfile, ipaddress and more.

#: Seconds one remote command may run before it counts as failed.
REMOTE_TIMEOUT = 300.0


class RemoteNode(NamedTuple):  # not a dataclass: gnt-cluster starts faster without it
    name: str
    address: str
    ssh_port: int
    candidate: bool


def _store() -> ssconf.SimpleStore:
    from ganeti import ssconf

    return ssconf.SimpleStore(pathutils.current())


def cluster_nodes() -> tuple[str, list[RemoteNode]]:
    """The master's name and the online nodes (ssconf), master included."""
    store = _store()
    try:
        master = store.get_master_node()
        online = store.get_online_nodes()
        ips = store.get_node_primary_ips()
        ports = store.get_ssh_ports()
        candidates = set(store.get_master_candidates())
    except (errors.SsconfError, OSError) as err:
        raise errors.OpPrereqError("Can't read this node's ssconf (is it in a cluster?): %s"
                                   % err, errors.ECODE_ENVIRON) from err
    nodes = [RemoteNode(name, ips[name], ports.get(name, 22), name in candidates)
             for name in online if name in ips]
    return master, nodes


def _group_members(group: str) -> set[str]:
    client = cli_jobs.get_client()
    answer = client.query(constants.QR_NODE, ["name", "group"], None)
    members = {row[0][1] for row in answer["data"] if row[1][1] == group}
    if not members:
        groups = {row[1][1] for row in answer["data"]}
        if group not in groups:
            raise errors.OpPrereqError("Node group '%s' is not known" % group,
                                       errors.ECODE_NOENT)
    return members


def select_nodes(names: Sequence[str], group: str | None) -> tuple[str, list[RemoteNode]]:
    """The master and the chosen online nodes (``-n`` names, ``-g`` group, else all)."""
    master, nodes = cluster_nodes()
    if names:
        by_name = {node.name: node for node in nodes}
        unknown = [name for name in names if name not in by_name]
        if unknown:
            raise errors.OpPrereqError("Node(s) %s not found among the online nodes (%s)"
                                       % (", ".join(unknown), ", ".join(by_name)),
                                       errors.ECODE_NOENT)
        nodes = [by_name[name] for name in dict.fromkeys(names)]
    if group:
        members = _group_members(group)
        nodes = [node for node in nodes if node.name in members]
    return master, nodes


def run_on(node: RemoteNode, command: str, stdin_data: bytes = b"",
           timeout: float = REMOTE_TIMEOUT) -> ssh.SshResult:
    """Run ``command`` on ``node`` as root with the cluster's key."""
    from ganeti import ssh

    paths = pathutils.current()
    return ssh.run_command(node.address, node.ssh_port, command, key_file=paths.ssh_key_file,
                           known_hosts_file=paths.known_hosts_file, host_name=node.name,
                           stdin_data=stdin_data, timeout=timeout)


# -- command ------------------------------------------------------------------------------


def run_command(options: argparse.Namespace) -> int:
    from ganeti import ssh

    master, nodes = select_nodes(options.nodes, options.nodegroup)
    # Run on the master last, as Ganeti does (the command may disturb it).
    nodes.sort(key=lambda node: node.name == master)
    command = " ".join(options.command)
    status = cli.EXIT_SUCCESS
    for node in nodes:
        try:
            result = run_on(node, command)
            output, code = result.stdout + result.stderr, result.exit_status
        except ssh.SshError as err:
            output, code = str(err) + "\n", 255
        if code != 0:
            status = cli.EXIT_FAILURE
        if options.failure_only and code == 0:
            continue
        cli.to_stdout("------------------------------------------------")
        if options.show_machine_names:
            for line in output.splitlines():
                cli.to_stdout("%s: %s" % (node.name, line))
        else:
            cli.to_stdout("node: %s" % node.name)
            cli.to_stdout(output.rstrip("\n"))
        cli.to_stdout("return code = %s" % code)
    return status


# -- copyfile -----------------------------------------------------------------------------


def cluster_path_of(path: str, paths: pathutils.Paths) -> str:
    """The cluster path of a local file: relative to this node's root when under it."""
    absolute = os.path.abspath(path)
    root = paths.root.rstrip("/")
    if root and (absolute == root or absolute.startswith(root + "/")):
        return "/" + os.path.relpath(absolute, paths.root)
    return absolute


def copy_command(cluster_file: str, mode: int) -> str:
    """Shell command writing standard input atomically to ``cluster_file`` under the
    node's root."""
    quoted = shlex.quote(cluster_file)
    return ('dest="${GANETI_ROOTDIR%%/}"%s; tmp="$dest.gnt-copyfile.$$";'
            ' mkdir -p "$(dirname "$dest")" && cat > "$tmp" && chmod %o "$tmp"'
            ' && mv -f "$tmp" "$dest" || { rm -f "$tmp"; exit 1; }' % (quoted, mode))


def copy_file(options: argparse.Namespace) -> int:
    from ganeti import ssh

    source = options.filename
    if not os.path.isfile(source):
        raise errors.OpPrereqError("Please give a valid existing file: %s" % source,
                                   errors.ECODE_INVAL)
    with open(source, "rb") as handle:
        content = handle.read()
        mode = os.fstat(handle.fileno()).st_mode & 0o7777
    cluster_file = cluster_path_of(source, pathutils.current())
    master, nodes = select_nodes(options.nodes, options.nodegroup)
    status = cli.EXIT_SUCCESS
    for node in nodes:
        if node.name == master:
            continue
        try:
            result = run_on(node, copy_command(cluster_file, mode), content)
            failure = (result.stderr.strip() or "exit status %d" % result.exit_status
                       if result.exit_status else None)
        except ssh.SshError as err:
            failure = str(err)
        if failure:
            status = cli.EXIT_FAILURE
            cli.to_stderr("Copy of file %s to node %s failed: %s"
                          % (cluster_file, node.name, failure))
    return status


# -- renew-crypto ---------------------------------------------------------------------------


def _daemon_util_command(action: str) -> str:
    from ganeti.server import daemon_util

    return shlex.join([sys.executable, daemon_util.find_daemon_util(), action])


def _local_daemons(action: str) -> None:
    from ganeti.server import daemon_util

    result = daemon_util.run([action], timeout=daemon_util.STOP_TIMEOUT * 6)
    if result.returncode != 0:
        raise errors.OpExecError("daemon-util %s on the master failed: %s"
                                 % (action, result.stderr.strip() or result.stdout.strip()))


def _read_optional(path: str) -> str | None:
    from ganeti.utils import io

    try:
        return io.read_file(path)
    except FileNotFoundError:
        return None


def _join_document(node: RemoteNode, paths: pathutils.Paths, cluster_pem: bytes,
                   values: dict[str, str]) -> bytes:
    from ganeti import ssconf
    from ganeti.utils import io, x509

    document: dict[str, Any] = {
        "cluster_name": values[ssconf.KEY_CLUSTER_NAME],
        "node_name": node.name,
        "server_pem": cluster_pem.decode("ascii"),
        "client_pem": x509.generate_client_cert(cluster_pem, node.name).decode("ascii"),
        "confd_hmac_key": io.read_file(paths.confd_hmac_key_file),
        "ssconf": values,
        "noded_bind": node.address,
        "noded_port": constants.DEFAULT_NODED_PORT,
        "readd": True,
    }
    for key, path in (("cluster_domain_secret", paths.cluster_domain_secret_file),
                      ("known_hosts", paths.known_hosts_file)):
        text = _read_optional(path)
        if text:
            document[key] = text
    return serializer.dump(document).encode("utf-8")


def _renew_on_node(node: RemoteNode, document: bytes) -> str | None:
    """Install the new files on one node and restart its daemons; a failure message."""
    from ganeti import ssh

    try:
        stopped = run_on(node, _daemon_util_command("stop-all"))
        if stopped.exit_status != 0:
            return "stopping its daemons failed: %s" % (stopped.stderr.strip()
                                                        or stopped.stdout.strip())
        joined = run_on(node, shlex.join([sys.executable, "-m", "ganeti.tools.node_join"]),
                        document)
        answer = serializer.load(joined.stdout.strip().splitlines()[-1]) \
            if joined.stdout.strip() else {}
        if joined.exit_status != 0 or not answer.get("success"):
            return "installing the new files failed: %s" % (
                answer.get("error") or joined.stderr.strip() or "exit status %d"
                % joined.exit_status)
        started = run_on(node, _daemon_util_command("start-all"))
        if started.exit_status != 0:
            return "starting its daemons failed: %s" % (started.stderr.strip()
                                                        or started.stdout.strip())
    except (ssh.SshError, ValueError) as err:
        return str(err)
    return None


def _crypto_request(options: argparse.Namespace) -> dict[str, Any]:
    rapi_pem = None
    if options.rapi_cert_file:
        with open(options.rapi_cert_file, "rb") as handle:
            rapi_pem = handle.read()
    secret = None
    if options.cluster_domain_secret_file:
        with open(options.cluster_domain_secret_file, "rb") as handle:
            secret = handle.read()
    return {
        "new_cluster_cert": options.new_cluster_cert,
        "new_client_cert": options.new_cluster_cert or options.new_node_certs,
        "new_rapi_cert": options.new_rapi_cert,
        "rapi_cert_pem": rapi_pem,
        "new_confd_hmac_key": options.new_confd_hmac_key,
        "new_cluster_domain_secret": options.new_cluster_domain_secret,
        "cluster_domain_secret": secret,
    }


def renew_crypto(options: argparse.Namespace) -> int:
    from ganeti import bootstrap, netutils, ssconf

    if options.new_ssh_keys:
        raise errors.OpPrereqError("Renewing the SSH keys is not supported yet",
                                   errors.ECODE_INVAL)
    if options.new_rapi_cert and options.rapi_cert_file:
        raise cli.UsageError("--new-rapi-certificate and --rapi-certificate exclude each other")
    request = _crypto_request(options)
    if not any(request.values()):
        raise cli.UsageError("Nothing to renew: give at least one --new-… option")
    paths = pathutils.current()
    master, nodes = cluster_nodes()
    if master != netutils.my_hostname():
        raise errors.OpPrereqError("renew-crypto must run on the master (%s)" % master,
                                   errors.ECODE_ENVIRON)
    if not options.force and not cli.confirm(
            "Updating certificates now. Running \"gnt-cluster verify\" is recommended after"
            " this operation. Continue?"):
        cli.to_stderr("Not confirmed (use -f/--force to skip the question)")
        return cli.EXIT_CONFIRMATION
    # The nodes must get new files whenever what noded or confd hold changes.
    via_nodes = (request["new_client_cert"] or request["new_confd_hmac_key"]
                 or bool(request["new_cluster_domain_secret"] or
                         request["cluster_domain_secret"]))
    cli.to_stdout("Stopping the master's daemons")
    _local_daemons("stop-all")
    failures: list[str] = []
    try:
        crypto = bootstrap.generate_crypto_files(paths, master, **request)
        cli.to_stdout("Renewed: %s" % ", ".join(os.path.basename(p) for p in crypto.written))
        if via_nodes:
            values = ssconf.SimpleStore(paths).read_all()
            for node in nodes:
                if node.name == master:
                    continue
                cli.to_stdout("Installing the new files on %s" % node.name)
                failure = _renew_on_node(node, _join_document(node, paths, crypto.cluster_pem,
                                                              values))
                if failure:
                    failures.append("%s: %s" % (node.name, failure))
                    cli.to_stderr("Node %s: %s" % (node.name, failure))
    finally:
        cli.to_stdout("Starting the master's daemons")
        _local_daemons("start-all")
    # The RAPI certificate and the configuration travel by node RPC.
    cli_jobs.submit_or_send([{"OP_ID": "OP_CLUSTER_REDIST_CONF"}], options)
    if failures:
        cli.to_stderr("Renewing failed on %d node(s); fix them and run renew-crypto again"
                      % len(failures))
        return cli.EXIT_FAILURE
    cli.to_stdout("All requested certificates and keys have been replaced. Running"
                  " \"gnt-cluster verify\" now is recommended.")
    return cli.EXIT_SUCCESS


_NODE_SELECTION = (
    opt("-n", "--node", dest="nodes", action="append", default=[], metavar="NODE",
        help="only this node (repeatable)"),
    opt("-g", "--node-group", dest="nodegroup", default=None, metavar="GROUP",
        help="only the nodes of this group"),
)

COMMANDS: dict[str, Command] = {
    "command": Command(
        run_command, "run a shell command on all (or some) online nodes over SSH",
        args=(opt("command", nargs="+", metavar="COMMAND"),),
        options=(*_NODE_SELECTION,
                 opt("-M", dest="show_machine_names", action="store_true",
                     help="prefix each output line with the node's name"),
                 opt("--failure-only", action="store_true",
                     help="show only the output of nodes where the command failed"))),
    "copyfile": Command(
        copy_file, "copy a file of the master to the same path on the other online nodes",
        args=(opt("filename", metavar="FILE"),), options=_NODE_SELECTION),
    "renew-crypto": Command(
        renew_crypto, "replace the cluster's certificates and keys on every node",
        options=(
            opt("--new-cluster-certificate", dest="new_cluster_cert", action="store_true",
                help="new cluster certificate (and node client certificates)"),
            opt("--new-node-certificates", dest="new_node_certs", action="store_true",
                help="new client certificates for every node"),
            opt("--new-confd-hmac-key", action="store_true", help="new confd HMAC key"),
            opt("--new-rapi-certificate", dest="new_rapi_cert", action="store_true",
                help="new self-signed RAPI certificate"),
            opt("--rapi-certificate", dest="rapi_cert_file", default=None, metavar="FILE",
                help="use this RAPI certificate (PEM with its key)"),
            opt("--new-cluster-domain-secret", action="store_true",
                help="new cluster domain secret"),
            opt("--cluster-domain-secret", dest="cluster_domain_secret_file", default=None,
                metavar="FILE", help="use this cluster domain secret"),
            opt("--new-ssh-keys", action="store_true", help="new SSH keys (not supported)"),
            cli.FORCE_OPT)),
}
