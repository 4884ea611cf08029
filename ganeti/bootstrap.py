"""Cluster bootstrap: ``gnt-cluster init`` and the master's side of ``destroy``.

``init_cluster`` turns this node (``GANETI_ROOTDIR``/``GANETI_HOSTNAME``)
into a one-node cluster, in Ganeti's order: check that the node is in no
cluster and that the names resolve, generate the crypto files, write the
first configuration and ssconf, create the data directories, start the
master's daemons and run OpClusterPostInit through the new job queue.
Nothing is written before every parameter has been checked, and a failure
after that removes what init wrote.

``generate_crypto_files`` is shared with ``gnt-cluster renew-crypto``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import socket
import time
import uuid as uuidlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ganeti import (
    constants,
    errors,
    ht,
    luxi,
    netutils,
    objects,
    paramdefs,
    pathutils,
    ssconf,
)
from ganeti.backend.node import remove_cluster_files
from ganeti.config import ConfigWriter
from ganeti.server import daemon_util
from ganeti.utils import io, x509

Feedback = Callable[[str], None]

#: Seconds init waits for the master daemon to answer and the post-init job to end.
MASTER_START_TIMEOUT = 60.0
#: The default node group's name (Ganeti's).
DEFAULT_NODEGROUP_NAME = "default"


def _no_feedback(_message: str) -> None:
    pass


# -- crypto -------------------------------------------------------------------------

def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def generate_confd_hmac_key() -> bytes:
    """A new confd HMAC key file content: 64 lowercase hex characters and a newline."""
    return (secrets.token_hex(32) + "\n").encode("ascii")


@dataclass
class CryptoResult:
    """What ``generate_crypto_files`` wrote (paths), and the cluster certificate."""

    written: list[str] = field(default_factory=list)
    cluster_pem: bytes = b""
    client_pem: bytes = b""


def generate_crypto_files(paths: pathutils.Paths, node_name: str, *,
                          new_cluster_cert: bool = True, new_client_cert: bool = True,
                          new_rapi_cert: bool = True, rapi_cert_pem: bytes | None = None,
                          new_confd_hmac_key: bool = True,
                          new_cluster_domain_secret: bool = True,
                          cluster_domain_secret: bytes | None = None) -> CryptoResult:
    """Write this node's certificates and keys (the missing ones, or as asked).

    Each ``new_*`` flag replaces the file; a file that does not exist is
    always created. ``rapi_cert_pem`` (certificate and key) replaces the
    RAPI certificate with a given one; ``cluster_domain_secret`` likewise.
    A new cluster certificate implies a new client certificate, which the
    cluster certificate signs. Files are mode 0400 (certificates) or 0600.
    """
    result = CryptoResult()
    os.makedirs(paths.data_dir, mode=0o755, exist_ok=True)

    def wanted(path: str, renew: bool) -> bool:
        return renew or not os.path.exists(path)

    if wanted(paths.server_cert_file, new_cluster_cert):
        result.cluster_pem = x509.generate_cluster_cert()
        x509.write_file(paths.server_cert_file, result.cluster_pem)
        result.written.append(paths.server_cert_file)
        new_client_cert = True
    else:
        result.cluster_pem = _read_bytes(paths.server_cert_file)
    if wanted(paths.client_cert_file, new_client_cert):
        result.client_pem = x509.generate_client_cert(result.cluster_pem, node_name)
        x509.write_file(paths.client_cert_file, result.client_pem)
        result.written.append(paths.client_cert_file)
    else:
        result.client_pem = _read_bytes(paths.client_cert_file)
    if rapi_cert_pem is not None:
        x509.load(rapi_cert_pem)  # refuse a file without a certificate before writing
        x509.write_file(paths.rapi_cert_file, rapi_cert_pem)
        result.written.append(paths.rapi_cert_file)
    elif wanted(paths.rapi_cert_file, new_rapi_cert):
        x509.write_file(paths.rapi_cert_file,
                        x509.generate_cluster_cert(common_name=node_name))
        result.written.append(paths.rapi_cert_file)
    if wanted(paths.confd_hmac_key_file, new_confd_hmac_key):
        io.write_file_atomic(paths.confd_hmac_key_file, generate_confd_hmac_key(), mode=0o400)
        result.written.append(paths.confd_hmac_key_file)
    if cluster_domain_secret is not None or wanted(paths.cluster_domain_secret_file,
                                                   new_cluster_domain_secret):
        secret = cluster_domain_secret or (secrets.token_hex(32) + "\n").encode("ascii")
        io.write_file_atomic(paths.cluster_domain_secret_file, secret, mode=0o400)
        result.written.append(paths.cluster_domain_secret_file)
    return result


def ensure_ssh_key(paths: pathutils.Paths) -> str:
    """Root's SSH key for node joins (created if missing); its public line."""
    if not os.path.exists(paths.ssh_key_file):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519

        key = ed25519.Ed25519PrivateKey.generate()
        private = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.OpenSSH,
                                    serialization.NoEncryption())
        public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                               serialization.PublicFormat.OpenSSH)
        os.makedirs(paths.ssh_dir, mode=0o700, exist_ok=True)
        io.write_file_atomic(paths.ssh_key_file, private, mode=0o600)
        io.write_file_atomic(paths.ssh_pub_key_file, public + b" root@ganeti\n", mode=0o644)
    return io.read_file(paths.ssh_pub_key_file).strip()


# -- parameters -----------------------------------------------------------------------

@dataclass
class InitParams:
    """Options of ``gnt-cluster init`` (Ganeti's names; None: the default)."""

    cluster_name: str
    enabled_hypervisors: Sequence[str] | None = None
    enabled_disk_templates: Sequence[str] | None = None
    hvparams: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    beparams: Mapping[str, Any] = field(default_factory=dict)
    nicparams: Mapping[str, Any] = field(default_factory=dict)
    ndparams: Mapping[str, Any] = field(default_factory=dict)
    diskparams: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    master_netdev: str | None = None
    master_netmask: int | None = None
    mac_prefix: str = constants.DEFAULT_MAC_PREFIX
    candidate_pool_size: int = constants.MASTER_POOL_SIZE_DEFAULT
    file_storage_dir: str | None = None
    shared_file_storage_dir: str | None = None
    gluster_storage_dir: str = ""
    vg_name: str | None = None
    secondary_ip: str | None = None
    modify_etc_hosts: bool = True
    modify_ssh_setup: bool = True
    maintain_node_health: bool = False
    prealloc_wipe_disks: bool = False
    default_iallocator: str = ""
    drbd_helper: str | None = None
    tags: Sequence[str] = ()


@dataclass
class InitResult:
    cluster_name: str
    master_name: str
    master_ip: str
    cluster_uuid: str
    post_init_job: int | None
    daemons: list[str]


def _check_names(kind: str, given: Sequence[str], valid: frozenset[str]) -> list[str]:
    values = list(dict.fromkeys(given))
    if not values:
        raise errors.OpPrereqError("At least one %s must be enabled" % kind,
                                   errors.ECODE_INVAL)
    unknown = [v for v in values if v not in valid]
    if unknown:
        raise errors.OpPrereqError("Unknown %s(s) %s; valid: %s"
                                   % (kind, ", ".join(unknown), ", ".join(sorted(valid))),
                                   errors.ECODE_INVAL)
    return values


def _filled(family: paramdefs.ParamFamily, overrides: Mapping[str, Any], owner: str
            ) -> dict[str, Any]:
    family.check(overrides, owner)
    values = family.defaults()
    values.update(family.resolve_aliases(overrides))
    return values


def _check_storage_dir(option: str, path: str) -> str:
    if not os.path.isabs(path):
        raise errors.OpPrereqError("%s must be an absolute path, got %r" % (option, path),
                                   errors.ECODE_INVAL)
    return os.path.normpath(path)


def _check_ip(option: str, address: str) -> str:
    if not netutils.is_valid_ip(address):
        raise errors.OpPrereqError("%s: %r is not an IP address" % (option, address),
                                   errors.ECODE_INVAL)
    return address


@dataclass
class _Plan:
    """Everything init will write, computed (and checked) before writing."""

    paths: pathutils.Paths
    node_name: str
    node_ip: str
    secondary_ip: str
    cluster_name: str
    master_ip: str
    config: dict[str, Any]
    storage_dirs: list[str]


def already_in_cluster(paths: pathutils.Paths) -> str | None:
    """The file showing this node is in a cluster, or None."""
    for path in (paths.config_file, paths.server_cert_file):
        if os.path.exists(path):
            return path
    return None


def _plan(params: InitParams, paths: pathutils.Paths, node_name: str,
          feedback: Feedback) -> _Plan:
    found = already_in_cluster(paths)
    if found is not None:
        raise errors.OpPrereqError(
            "This node (%s) is already part of a cluster: %s exists. Remove it from its"
            " cluster first (gnt-node remove, or gnt-cluster destroy on the master)"
            % (node_name, found), errors.ECODE_STATE)
    node_fqdn, node_ip = netutils.resolve(node_name, paths)
    if not netutils.is_local_address(node_ip):
        raise errors.OpPrereqError(
            "This node's name %s resolves to %s, which is not an address of this machine"
            % (node_name, node_ip), errors.ECODE_ENVIRON)
    loopback = ipaddress.ip_address(node_ip).is_loopback
    try:
        cluster_fqdn, master_ip = netutils.resolve(params.cluster_name, paths)
    except errors.ResolverError:
        if not loopback:
            raise
        # A cluster on loopback needs no master IP of its own: the master's address
        # serves (the cluster hosts file normally says so).
        cluster_fqdn, master_ip = params.cluster_name, node_ip
        feedback("Cluster name %s does not resolve; using the master's address %s"
                 % (params.cluster_name, node_ip))
    family = constants.IP6_FAMILY if ":" in node_ip else constants.IP4_FAMILY
    if master_ip != node_ip and _answers(master_ip, constants.DEFAULT_NODED_PORT):
        raise errors.OpPrereqError("Cluster IP %s (of %s) is already active: a node daemon"
                                   " answers there" % (master_ip, cluster_fqdn),
                                   errors.ECODE_NOTUNIQUE)
    if (":" in master_ip) != (":" in node_ip):
        raise errors.OpPrereqError("The cluster name resolves to %s and this node to %s:"
                                   " both must be of the same address family"
                                   % (master_ip, node_ip), errors.ECODE_INVAL)
    secondary_ip = _check_ip("secondary IP (-s)", params.secondary_ip) \
        if params.secondary_ip else node_ip
    if secondary_ip != node_ip and not netutils.is_local_address(secondary_ip):
        raise errors.OpPrereqError("Secondary IP %s is not an address of this machine"
                                   % secondary_ip, errors.ECODE_ENVIRON)

    hypervisors = _check_names("hypervisor",
                               params.enabled_hypervisors or [constants.HT_KVM],
                               constants.HYPER_TYPES)
    templates = _check_names("disk template",
                             params.enabled_disk_templates
                             or list(constants.DEFAULT_ENABLED_DISK_TEMPLATES),
                             constants.DISK_TEMPLATES)
    unknown_hv = sorted(set(params.hvparams) - constants.HYPER_TYPES)
    if unknown_hv:
        raise errors.OpPrereqError("Hypervisor parameters (-H) for unknown hypervisor(s) %s"
                                   % ", ".join(unknown_hv), errors.ECODE_INVAL)
    hvparams = {hv: _filled(paramdefs.hv_family(hv), params.hvparams.get(hv, {}),
                            "hypervisor %s" % hv) for hv in hypervisors}
    unknown_dt = sorted(set(params.diskparams) - constants.DISK_TEMPLATES)
    if unknown_dt:
        raise errors.OpPrereqError("Disk parameters (-D) for unknown template(s) %s"
                                   % ", ".join(unknown_dt), errors.ECODE_INVAL)
    diskparams = {t: _filled(f, params.diskparams.get(t, {}), "disk template %s" % t)
                  for t, f in paramdefs.DISKPARAMS.items()}
    beparams = _filled(paramdefs.BEPARAMS, params.beparams, "the cluster")
    nicparams = _filled(paramdefs.NICPARAMS, params.nicparams, "the cluster")
    ndparams = _filled(paramdefs.NDPARAMS, params.ndparams, "the cluster")
    if not ht.TMacPrefix(params.mac_prefix):
        raise errors.OpPrereqError("MAC prefix (-m) %r is invalid: expected %s"
                                   % (params.mac_prefix, ht.TMacPrefix.desc),
                                   errors.ECODE_INVAL)
    if params.candidate_pool_size < 1:
        raise errors.OpPrereqError("Candidate pool size (-C) must be at least 1, got %d"
                                   % params.candidate_pool_size, errors.ECODE_INVAL)
    max_bits = 128 if family == constants.IP6_FAMILY else 32
    netmask = params.master_netmask if params.master_netmask is not None else max_bits
    if not 0 < netmask <= max_bits:
        raise errors.OpPrereqError("Master netmask %d is out of range: expected 1 to %d"
                                   % (netmask, max_bits), errors.ECODE_INVAL)
    netdev = params.master_netdev or ("lo" if ipaddress.ip_address(master_ip).is_loopback
                                      else constants.DEFAULT_BRIDGE)
    vg_name = params.vg_name
    if vg_name is None and set(templates) & {constants.DT_PLAIN, constants.DT_DRBD8}:
        vg_name = constants.DEFAULT_VG
    file_dir = _check_storage_dir("--file-storage-dir", params.file_storage_dir
                                  or paths.default_file_storage_dir)
    shared_dir = _check_storage_dir("--shared-file-storage-dir",
                                    params.shared_file_storage_dir
                                    or paths.default_shared_file_storage_dir)
    storage_dirs = [d for t, d in ((constants.DT_FILE, file_dir),
                                   (constants.DT_SHARED_FILE, shared_dir)) if t in templates]

    now = time.time()
    group_uuid, node_uuid, cluster_uuid = (str(uuidlib.uuid4()) for _ in range(3))
    node = {
        "uuid": node_uuid, "name": node_fqdn, "primary_ip": node_ip,
        "secondary_ip": secondary_ip, "serial_no": 1, "ctime": now, "mtime": now,
        "master_candidate": True, "master_capable": True, "vm_capable": True,
        "offline": False, "drained": False, "powered": True, "group": group_uuid,
        "ndparams": {}, "hv_state_static": {}, "disk_state_static": {}, "tags": [],
    }
    group = {
        "uuid": group_uuid, "name": DEFAULT_NODEGROUP_NAME, "serial_no": 1, "ctime": now,
        "mtime": now, "alloc_policy": constants.ALLOC_POLICY_PREFERRED, "ndparams": {},
        "diskparams": {}, "ipolicy": {}, "hv_state_static": {}, "disk_state_static": {},
        "networks": {}, "tags": [],
    }
    cluster = {
        "uuid": cluster_uuid, "serial_no": 1, "ctime": now, "mtime": now,
        "cluster_name": cluster_fqdn, "master_node": node_uuid, "master_ip": master_ip,
        "master_netdev": netdev, "master_netmask": netmask,
        "use_external_mip_script": False, "mac_prefix": params.mac_prefix,
        "volume_group_name": vg_name, "drbd_usermode_helper": params.drbd_helper,
        "enabled_hypervisors": hypervisors, "enabled_disk_templates": templates,
        "hvparams": hvparams, "beparams": {constants.VALUE_DEFAULT: beparams},
        "nicparams": {constants.VALUE_DEFAULT: nicparams}, "ndparams": ndparams,
        "diskparams": diskparams, "file_storage_dir": file_dir,
        "shared_file_storage_dir": shared_dir,
        "gluster_storage_dir": params.gluster_storage_dir,
        "candidate_pool_size": params.candidate_pool_size,
        "modify_etc_hosts": params.modify_etc_hosts,
        "modify_ssh_setup": params.modify_ssh_setup,
        "maintain_node_health": params.maintain_node_health,
        "prealloc_wipe_disks": params.prealloc_wipe_disks,
        "default_iallocator": params.default_iallocator,
        "primary_ip_family": family, "highest_used_port": constants.FIRST_DRBD_PORT - 1,
        "tcpudp_port_pool": [], "tags": list(params.tags),
        "rsahostkeypub": _host_key(paths), "candidate_certs": {},
        "max_running_jobs": constants.DEFAULT_MAX_RUNNING_JOBS,
        "max_tracked_jobs": constants.DEFAULT_MAX_TRACKED_JOBS,
    }
    config = {"version": constants.CONFIG_VERSION, "serial_no": 1, "ctime": now,
              "mtime": now, "cluster": cluster, "nodes": {node_uuid: node},
              "nodegroups": {group_uuid: group}, "instances": {}, "networks": {},
              "disks": {}, "filters": {}}
    # Check the whole configuration now, before anything is written.
    from ganeti import config_verify

    problems = config_verify.verify(objects.ConfigData.from_dict(config))
    if problems:
        raise errors.OpPrereqError("The new configuration would be inconsistent: %s"
                                   % "; ".join(problems), errors.ECODE_INVAL)
    return _Plan(paths, node_fqdn, node_ip, secondary_ip, cluster_fqdn, master_ip, config,
                 storage_dirs)


def _answers(address: str, port: int, timeout: float = 2.0) -> bool:
    """Whether something accepts TCP connections on ``address:port``."""
    try:
        with socket.create_connection((address, port), timeout):
            return True
    except OSError:
        return False


def _host_key(paths: pathutils.Paths) -> str:
    """The node's SSH RSA host public key, as Ganeti records it (empty if none)."""
    try:
        return io.read_file(paths.ssh_host_rsa_pub_file).strip()
    except OSError:
        return ""


# -- init ---------------------------------------------------------------------------

def _daemon_env(paths: pathutils.Paths, node_name: str) -> dict[str, str]:
    env = dict(os.environ)
    env[pathutils.ROOTDIR_ENV] = paths.root
    env[netutils.HOSTNAME_ENV] = node_name
    return env


def start_daemons(paths: pathutils.Paths, node_name: str) -> list[str]:
    """Start this node's daemons for its role (daemon-util start-all); their names."""
    env = _daemon_env(paths, node_name)
    result = daemon_util.run(["start-all"], env=env, timeout=MASTER_START_TIMEOUT * 2)
    if result.returncode != 0:
        raise errors.OpExecError("Starting the daemons failed: %s"
                                 % (result.stderr.strip() or result.stdout.strip()))
    return [name for name in daemon_util.START_ORDER
            if daemon_util.running_pid(name, paths) is not None]


def stop_daemons(paths: pathutils.Paths, node_name: str) -> None:
    """Stop every daemon of this node (daemon-util stop-all)."""
    result = daemon_util.run(["stop-all"], env=_daemon_env(paths, node_name),
                             timeout=daemon_util.STOP_TIMEOUT * 6)
    if result.returncode != 0:
        raise errors.OpExecError("Stopping the daemons failed: %s"
                                 % (result.stderr.strip() or result.stdout.strip()))


def _write_files(plan: _Plan, params: InitParams, feedback: Feedback) -> None:
    paths = plan.paths
    for directory in (paths.data_dir, paths.run_dir, paths.log_dir, paths.socket_dir,
                      paths.queue_dir, paths.queue_archive_dir):
        os.makedirs(directory, mode=0o755 if directory != paths.queue_dir else 0o700,
                    exist_ok=True)
    for directory in plan.storage_dirs:
        os.makedirs(directory, mode=0o750, exist_ok=True)
    feedback("Generating the cluster certificate and keys")
    crypto = generate_crypto_files(paths, plan.node_name)
    node_uuid = plan.config["cluster"]["master_node"]
    plan.config["cluster"]["candidate_certs"] = {node_uuid: x509.fingerprint(crypto.client_pem)}
    if params.modify_ssh_setup:
        ensure_ssh_key(paths)
    feedback("Writing the configuration and ssconf")
    cfg = ConfigWriter.create(paths.config_file, objects.ConfigData.from_dict(plan.config))
    ssconf.write_files(ssconf.compute_values(cfg.get_config_data()), paths)


def _wait_master(paths: pathutils.Paths, timeout: float) -> luxi.Client:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), \
                socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.connect(paths.master_socket)
            return luxi.Client(paths.master_socket)
        if time.monotonic() > deadline:
            raise errors.OpExecError("The master daemon did not answer on %s within %.0f s"
                                     % (paths.master_socket, timeout))
        time.sleep(0.05)


def run_post_init(paths: pathutils.Paths, feedback: Feedback) -> int:
    """Submit OpClusterPostInit (post-init hooks) and wait for it; the job id."""
    from ganeti import cli_jobs

    client = _wait_master(paths, MASTER_START_TIMEOUT)
    job_id = int(client.submit_job([{"OP_ID": "OP_CLUSTER_POST_INIT"}]))

    def log(entry: list[Any]) -> None:
        feedback(str(entry[3]))

    cli_jobs.poll_job(client, job_id, log)
    return job_id


def init_cluster(params: InitParams, paths: pathutils.Paths | None = None,
                 node_name: str | None = None, start: bool = True,
                 feedback: Feedback = _no_feedback) -> InitResult:
    """Create a cluster with this node as its master (Ganeti's InitCluster).

    Raises OpPrereqError (nothing written) if the node is already in a
    cluster, a name does not resolve or a parameter is bad. With
    ``start=False`` only the files are written (no daemons, no post-init).
    """
    paths = paths or pathutils.current()
    node_name = node_name or netutils.my_hostname()
    plan = _plan(params, paths, node_name, feedback)
    try:
        _write_files(plan, params, feedback)
    except BaseException:
        remove_cluster_files(paths)
        raise
    daemons: list[str] = []
    job_id = None
    if start:
        feedback("Starting the master's daemons")
        try:
            daemons = start_daemons(paths, plan.node_name)
            job_id = run_post_init(paths, feedback)
        except BaseException:
            with contextlib.suppress(Exception):
                stop_daemons(paths, plan.node_name)
            remove_cluster_files(paths)
            raise
    return InitResult(plan.cluster_name, plan.node_name, plan.master_ip,
                      plan.config["cluster"]["uuid"], job_id, daemons)


def finish_destroy(paths: pathutils.Paths | None = None,
                   node_name: str | None = None) -> None:
    """After OpClusterDestroy: stop this master's daemons and remove its cluster files."""
    paths = paths or pathutils.current()
    node_name = node_name or netutils.my_hostname()
    stop_daemons(paths, node_name)
    remove_cluster_files(paths)
