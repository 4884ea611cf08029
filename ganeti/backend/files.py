"""Node side of file distribution: ``upload_file`` and ``write_ssconf_files``.

A file is accepted only if its path is on the upload allow-list (the
configuration, the certificates and keys the master distributes, the RAPI
users file, known_hosts, the hypervisors' ancillary files and the
administrator's extra files listed in ssconf ``redistribute_files``).
Anything else is refused before a byte is written.
"""

from __future__ import annotations

import grp
import logging
import os
import pwd

from ganeti import errors, pathutils, ssconf
from ganeti.rpc import encoding
from ganeti.utils import io


def node_path(cluster_path: str, paths: pathutils.Paths | None = None) -> str:
    """Where a cluster path (absolute, as on a node rooted at ``/``) lives here."""
    paths = paths or pathutils.current()
    if not os.path.isabs(cluster_path):
        raise errors.ProgrammerError("Cluster path %r is not absolute" % cluster_path)
    return os.path.normpath(os.path.join(paths.root, os.path.normpath(cluster_path).lstrip("/")))


def _hypervisor_files(paths: pathutils.Paths) -> list[str]:
    try:
        from ganeti import hypervisor
    except ImportError:  # no hypervisor support installed on this node
        return []
    found: list[str] = []
    for name in hypervisor.implemented_hypervisors():
        try:
            found.extend(path for path, _ in hypervisor.get_hypervisor(name, paths)
                         .ancillary_files())
        except errors.GenericError as err:
            logging.warning("Can't list hypervisor %s's ancillary files: %s", name, err)
    return found


def _extra_files(paths: pathutils.Paths) -> list[str]:
    """The administrator's extra files (ssconf redistribute_files), if any."""
    if not os.path.exists(paths.ssconf_file(ssconf.KEY_REDISTRIBUTE_FILES)):
        return []
    return [node_path(path, paths)
            for _, path in ssconf.SimpleStore(paths).get_redistribute_files()]


def upload_allow_list(paths: pathutils.Paths | None = None) -> frozenset[str]:
    """Every path ``upload_file`` may write on this node (node paths)."""
    paths = paths or pathutils.current()
    fixed = [
        paths.config_file,
        paths.known_hosts_file,
        paths.rapi_cert_file,
        paths.rapi_users_file,
        paths.confd_hmac_key_file,
        paths.cluster_domain_secret_file,
        paths.spice_cert_file,
        paths.spice_cacert_file,
    ]
    all_paths = fixed + _hypervisor_files(paths) + _extra_files(paths)
    return frozenset(os.path.normpath(path) for path in all_paths)


def _resolve_owner(value: str | int, kind: str) -> int:
    if isinstance(value, int):
        return value
    try:
        if kind == "uid":
            return pwd.getpwnam(value).pw_uid
        return grp.getgrnam(value).gr_gid
    except KeyError:
        raise errors.OpExecError("upload_file: unknown %s %r on this node"
                                 % ("user" if kind == "uid" else "group", value)) from None


def upload_file(file_name: str, data: list[object], mode: int, uid: str | int,
                gid: str | int, atime: float, mtime: float) -> None:
    """Replace an allow-listed file atomically with the given owner, mode and times."""
    paths = pathutils.current()
    target = node_path(file_name, paths)
    if target not in upload_allow_list(paths):
        raise errors.OpExecError("upload_file: %s is not on this node's upload allow-list "
                                 "(config, certificates, RAPI users, known_hosts, hypervisor "
                                 "files, the cluster's extra files)" % file_name)
    content = encoding.decode(data)
    uid_num, gid_num = _resolve_owner(uid, "uid"), _resolve_owner(gid, "gid")
    os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
    io.write_file_atomic(target, content, mode=mode, uid=uid_num, gid=gid_num)
    os.utime(target, (atime, mtime))
    logging.info("Received %s (%d bytes)", file_name, len(content))


def write_ssconf_files(values: dict[str, str]) -> None:
    """Replace this node's ssconf files with ``values`` (unknown keys refused)."""
    ssconf.write_files(values, pathutils.current())
