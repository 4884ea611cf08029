"""Every file and directory the system uses, defined once.

All paths hang off a root directory (``GANETI_ROOTDIR``, default ``/``) so
that one machine can hold several nodes, each in its own root, as the local
demo cluster and the integration tests do. Install-time directories
(prefix, sysconfdir, localstatedir) come from ``_autoconf``, which
``./configure`` bakes at build time.

Code asks for ``current()`` (the root of this process) or ``for_root(path)``
(an explicit root, e.g. in tests); nothing else builds a path from a literal.
"""

from __future__ import annotations

import functools
import os
from typing import NamedTuple

from ganeti import _autoconf

ROOTDIR_ENV = "GANETI_ROOTDIR"

#: Name of every ssconf file is this prefix plus the key.
SSCONF_FILE_PREFIX = "ssconf_"

#: Where Debian's packages put OS definitions; always searched.
_DEBIAN_OS_DIR = "/usr/share/ganeti/os"


def _under(root: str, absolute: str) -> str:
    """Place an absolute install path under ``root``."""
    return os.path.normpath(os.path.join(root, absolute.lstrip("/")))


# NamedTuple rather than a frozen dataclass: the same immutable value, without
# importing dataclasses (and inspect), which every gnt-* start-up would pay for.
class Paths(NamedTuple):
    """The paths of one node, rooted at ``root``."""

    root: str

    # -- top-level directories ------------------------------------------
    @property
    def data_dir(self) -> str:
        return _under(self.root, os.path.join(_autoconf.LOCALSTATEDIR, "lib/ganeti"))

    @property
    def run_dir(self) -> str:
        return _under(self.root, os.path.join(_autoconf.LOCALSTATEDIR, "run/ganeti"))

    @property
    def log_dir(self) -> str:
        return _under(self.root, os.path.join(_autoconf.LOCALSTATEDIR, "log/ganeti"))

    @property
    def conf_dir(self) -> str:
        return _under(self.root, os.path.join(_autoconf.SYSCONFDIR, "ganeti"))

    @property
    def socket_dir(self) -> str:
        return os.path.join(self.run_dir, "socket")

    # -- configuration and its companions --------------------------------
    @property
    def config_file(self) -> str:
        return os.path.join(self.data_dir, "config.data")

    def ssconf_file(self, key: str) -> str:
        return os.path.join(self.data_dir, SSCONF_FILE_PREFIX + key)

    @property
    def cluster_hosts_file(self) -> str:
        """Optional name→address map for clusters on loopback (DESIGN §5)."""
        return os.path.join(self.data_dir, "hosts")

    @property
    def known_hosts_file(self) -> str:
        return os.path.join(self.data_dir, "known_hosts")

    @property
    def cluster_domain_secret_file(self) -> str:
        return os.path.join(self.data_dir, "cluster-domain-secret")

    # -- certificates and keys ------------------------------------------
    @property
    def server_cert_file(self) -> str:
        """The cluster certificate noded presents (``server.pem``)."""
        return os.path.join(self.data_dir, "server.pem")

    @property
    def client_cert_file(self) -> str:
        """This node's client certificate, signed by the cluster's."""
        return os.path.join(self.data_dir, "client.pem")

    @property
    def rapi_cert_file(self) -> str:
        return os.path.join(self.data_dir, "rapi.pem")

    @property
    def confd_hmac_key_file(self) -> str:
        return os.path.join(self.data_dir, "confd.key")

    @property
    def spice_cert_file(self) -> str:
        return os.path.join(self.data_dir, "spice.pem")

    @property
    def spice_cacert_file(self) -> str:
        return os.path.join(self.data_dir, "spice-ca.pem")

    # -- SSH (node join) ---------------------------------------------------
    @property
    def ssh_dir(self) -> str:
        """The SSH directory of root, whose key ``gnt-node add`` logs in with."""
        return _under(self.root, "/root/.ssh")

    @property
    def ssh_key_file(self) -> str:
        return os.path.join(self.ssh_dir, "id_ed25519")

    @property
    def ssh_pub_key_file(self) -> str:
        return self.ssh_key_file + ".pub"

    @property
    def ssh_host_rsa_pub_file(self) -> str:
        return _under(self.root, "/etc/ssh/ssh_host_rsa_key.pub")

    # -- RAPI ------------------------------------------------------------
    @property
    def rapi_data_dir(self) -> str:
        return os.path.join(self.data_dir, "rapi")

    @property
    def rapi_users_file(self) -> str:
        return os.path.join(self.rapi_data_dir, "users")

    @property
    def rapi_policy_file(self) -> str:
        return os.path.join(self.rapi_data_dir, "policy")

    @property
    def rapi_tokens_file(self) -> str:
        """Hashed bearer tokens of the RAPI's token authentication backend."""
        return os.path.join(self.rapi_data_dir, "tokens")

    # -- job queue -------------------------------------------------------
    @property
    def queue_dir(self) -> str:
        return os.path.join(self.data_dir, "queue")

    @property
    def queue_archive_dir(self) -> str:
        return os.path.join(self.queue_dir, "archive")

    @property
    def queue_serial_file(self) -> str:
        return os.path.join(self.queue_dir, "serial")

    @property
    def queue_version_file(self) -> str:
        return os.path.join(self.queue_dir, "version")

    @property
    def queue_lock_file(self) -> str:
        return os.path.join(self.queue_dir, "lock")

    @property
    def queue_drain_file(self) -> str:
        return os.path.join(self.queue_dir, "drain")

    def job_file(self, job_id: int) -> str:
        return os.path.join(self.queue_dir, "job-%d" % job_id)

    def archived_job_file(self, job_id: int) -> str:
        # Ganeti's layout: archive/<id // 10000>/job-<id>
        return os.path.join(self.queue_archive_dir, str(job_id // 10000), "job-%d" % job_id)

    # -- watcher ---------------------------------------------------------
    @property
    def watcher_pause_file(self) -> str:
        return os.path.join(self.data_dir, "watcher.pause")

    def watcher_group_state_file(self, group_uuid: str) -> str:
        return os.path.join(self.data_dir, "watcher.%s.data" % group_uuid)

    @property
    def instance_status_file(self) -> str:
        return os.path.join(self.run_dir, "instance-status")

    # -- sockets ---------------------------------------------------------
    @property
    def master_socket(self) -> str:
        """The luxi socket (Ganeti's clients call it ``ganeti-query``)."""
        return os.path.join(self.socket_dir, "ganeti-query")

    # -- daemons ---------------------------------------------------------
    def daemon_pid_file(self, daemon: str) -> str:
        return os.path.join(self.run_dir, "%s.pid" % daemon)

    def daemon_log_file(self, daemon: str) -> str:
        # Ganeti names logs after the daemon without its "ganeti-" prefix.
        short = daemon[len("ganeti-"):] if daemon.startswith("ganeti-") else daemon
        return os.path.join(self.log_dir, "%s.log" % short)

    @property
    def commands_log_file(self) -> str:
        """Log of the commands that act outside the job queue (e.g. master-failover)."""
        return os.path.join(self.log_dir, "commands.log")

    @property
    def os_log_dir(self) -> str:
        return os.path.join(self.log_dir, "os")

    @property
    def hooks_log_dir(self) -> str:
        return os.path.join(self.log_dir, "hooks")

    # -- node-local state ------------------------------------------------
    @property
    def hypervisor_run_dir(self) -> str:
        """Per-hypervisor runtime state lives below here (e.g. fake VMs)."""
        return self.run_dir

    def hypervisor_state_dir(self, hypervisor: str) -> str:
        return os.path.join(self.run_dir, "%s-hypervisor" % hypervisor)

    @property
    def instance_disks_dir(self) -> str:
        return os.path.join(self.run_dir, "instance-disks")

    @property
    def crypto_dir(self) -> str:
        return os.path.join(self.run_dir, "crypto")

    @property
    def import_export_dir(self) -> str:
        return os.path.join(self.run_dir, "import-export")

    # -- administrator-provided trees -------------------------------------
    @property
    def os_search_path(self) -> list[str]:
        """Directories searched for OS definitions, in order."""
        dirs = [
            _under(self.root, "/srv/ganeti/os"),
            _under(self.root, os.path.join(_autoconf.PREFIX, "share/ganeti/os")),
            _under(self.root, _DEBIAN_OS_DIR),
        ]
        return list(dict.fromkeys(dirs))  # drop duplicates, keep order

    @property
    def extstorage_search_path(self) -> list[str]:
        return [_under(self.root, "/srv/ganeti/extstorage")]

    @property
    def iallocator_search_path(self) -> list[str]:
        dirs = [
            _under(self.root, os.path.join(_autoconf.PREFIX, "lib/ganeti/iallocators")),
            _under(self.root, "/usr/lib/ganeti/iallocators"),
            # Debian's ganeti-htools-3.0 puts hail here.
            _under(self.root, "/usr/lib/ganeti/3.0/usr/lib/ganeti/iallocators"),
        ]
        return list(dict.fromkeys(dirs))

    @property
    def export_dir(self) -> str:
        return _under(self.root, "/srv/ganeti/export")

    @property
    def default_file_storage_dir(self) -> str:
        return _under(self.root, "/srv/ganeti/file-storage")

    @property
    def default_shared_file_storage_dir(self) -> str:
        return _under(self.root, "/srv/ganeti/shared-file-storage")

    @property
    def file_storage_paths_file(self) -> str:
        """Administrator's allow-list of file storage directories."""
        return os.path.join(self.conf_dir, "file-storage-paths")

    @property
    def hooks_base_dir(self) -> str:
        return os.path.join(self.conf_dir, "hooks")

    def hooks_dir(self, hooks_path: str, phase: str) -> str:
        """Directory of one hook point, e.g. ``instance-add-pre.d``."""
        return os.path.join(self.hooks_base_dir, "%s-%s.d" % (hooks_path, phase))

    @property
    def restricted_commands_dir(self) -> str:
        return os.path.join(self.conf_dir, "restricted-commands")

    @property
    def external_master_setup_script(self) -> str:
        """The administrator's master IP script (cluster use_external_mip_script)."""
        return os.path.join(self.conf_dir, "scripts", "master-ip-setup")


class LocalClusterPaths(NamedTuple):
    """The files of a local multi-node cluster (tools/local-cluster) under ``base``."""

    base: str

    def node_root(self, index: int) -> str:
        return os.path.join(self.base, "node%d" % index)

    @property
    def state_file(self) -> str:
        """What ``up`` created (nodes, addresses, ports), for ``down`` and ``env``."""
        return os.path.join(self.base, "local-cluster.json")

    @property
    def bin_dir(self) -> str:
        """Wrapper scripts running gnt-* commands on the master node."""
        return os.path.join(self.base, "bin")

    @property
    def sshd_dir(self) -> str:
        return os.path.join(self.base, "sshd")

    @property
    def sshd_config(self) -> str:
        return os.path.join(self.sshd_dir, "sshd_config")

    @property
    def sshd_host_key(self) -> str:
        return os.path.join(self.sshd_dir, "ssh_host_ed25519_key")

    @property
    def sshd_authorized_keys(self) -> str:
        return os.path.join(self.sshd_dir, "authorized_keys")

    @property
    def sshd_pid_file(self) -> str:
        return os.path.join(self.sshd_dir, "sshd.pid")

    @property
    def sshd_log_file(self) -> str:
        return os.path.join(self.sshd_dir, "sshd.log")


def default_local_cluster_dir() -> str:
    """Where tools/local-cluster puts its nodes unless told otherwise."""
    if os.geteuid() == 0:
        return _under("/", os.path.join(_autoconf.LOCALSTATEDIR, "lib/ganeti-local"))
    return os.path.join(os.path.expanduser("~"), "ganeti-local")


@functools.cache
def for_root(root: str) -> Paths:
    """The paths of a node rooted at ``root``."""
    return Paths(os.path.abspath(root))


def current() -> Paths:
    """The paths of this process's node (``GANETI_ROOTDIR``, default ``/``)."""
    return for_root(os.environ.get(ROOTDIR_ENV) or "/")
