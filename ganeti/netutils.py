"""Network helpers: this node's own name and host name resolution.

On a local multi-node cluster (several node roots on one machine) each
node's daemons learn their name from ``GANETI_HOSTNAME``; elsewhere the
machine's fully qualified name is the node name.

Names resolve first through the cluster hosts file (pathutils
``cluster_hosts_file``, ``/etc/hosts`` format: ``address name [aliases…]``),
which lets a cluster live on loopback addresses, then through the system
resolver. A name that resolves nowhere raises errors.ResolverError naming it.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable

from ganeti import errors, pathutils

HOSTNAME_ENV = "GANETI_HOSTNAME"


def my_hostname() -> str:
    """This node's name: ``$GANETI_HOSTNAME`` if set, else the FQDN."""
    name = os.environ.get(HOSTNAME_ENV, "").strip()
    return name or socket.getfqdn()


def is_valid_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def parse_hosts(text: str) -> list[tuple[str, list[str]]]:
    """``(address, [name, aliases…])`` per entry of an /etc/hosts-format text.

    Comments and blank lines are skipped; so are lines without a valid
    address or without a name (a hosts file is forgiving, as the libc's is).
    """
    entries: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and is_valid_ip(fields[0]):
            entries.append((fields[0], fields[1:]))
    return entries


def format_hosts(entries: Iterable[tuple[str, Iterable[str]]]) -> str:
    """The /etc/hosts-format text of ``(address, names)`` entries."""
    return "".join("%s %s\n" % (address, " ".join(names)) for address, names in entries)


def read_cluster_hosts(paths: pathutils.Paths | None = None) -> list[tuple[str, list[str]]]:
    """Entries of the cluster hosts file; none when the file does not exist."""
    hosts_file = (paths or pathutils.current()).cluster_hosts_file
    try:
        with open(hosts_file, encoding="utf-8") as handle:
            return parse_hosts(handle.read())
    except FileNotFoundError:
        return []


def _lookup_hosts_file(name: str, paths: pathutils.Paths | None
                       ) -> tuple[str, str] | None:
    wanted = name.rstrip(".").lower()
    for address, names in read_cluster_hosts(paths):
        if wanted in (n.lower() for n in names):
            return names[0], address
    return None


def _lookup_system(name: str, family: int) -> tuple[str, str]:
    try:
        infos = socket.getaddrinfo(name, None, family, socket.SOCK_STREAM, 0,
                                   socket.AI_CANONNAME)
    except (socket.gaierror, UnicodeError) as err:
        reason = err.strerror if isinstance(err, socket.gaierror) else str(err)
        raise errors.ResolverError("Cannot resolve host name %r: %s" % (name, reason)
                                   ) from err
    canonical = next((info[3] for info in infos if info[3]), name)
    return canonical, str(infos[0][4][0])


def resolve(name: str, paths: pathutils.Paths | None = None,
            family: int = socket.AF_UNSPEC) -> tuple[str, str]:
    """``(fully qualified name, address)`` of ``name``.

    The cluster hosts file of ``paths`` (default: this process's node)
    comes first, then the system resolver. An address is returned as it is
    (its name then being the address). Raises errors.ResolverError naming
    ``name`` when neither knows it.
    """
    name = name.strip()
    if not name:
        raise errors.ResolverError("Cannot resolve an empty host name")
    if is_valid_ip(name):
        return name, name
    found = _lookup_hosts_file(name, paths)
    if found is not None:
        return found
    return _lookup_system(name, family)


def lookup_ip(name: str, paths: pathutils.Paths | None = None,
              family: int = socket.AF_UNSPEC) -> str:
    """The address of ``name`` (see ``resolve``)."""
    return resolve(name, paths, family)[1]


def is_local_address(address: str) -> bool:
    """Whether ``address`` is one of this machine's (can be bound to)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((address, 0))
        except OSError:
            return False
    return True
