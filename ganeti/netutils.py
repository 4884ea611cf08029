"""Network helpers: this node's own name.

On a local multi-node cluster (several node roots on one machine) each
node's daemons learn their name from ``GANETI_HOSTNAME``; elsewhere the
machine's fully qualified name is the node name.
"""

from __future__ import annotations

import os
import socket

HOSTNAME_ENV = "GANETI_HOSTNAME"


def my_hostname() -> str:
    """This node's name: ``$GANETI_HOSTNAME`` if set, else the FQDN."""
    name = os.environ.get(HOSTNAME_ENV, "").strip()
    return name or socket.getfqdn()
