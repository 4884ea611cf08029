"""The remote API (RAPI): Ganeti's HTTPS+JSON interface, version 2.

Layout: ``apierrors`` (HTTP errors with Ganeti's JSON body), ``auth``
(pluggable authentication: the users file, hashed bearer tokens),
``policy`` (per-opcode authorization), ``baserlib`` (the resource base
class: request parsing, opcode building and submission), ``resources``
(one module per area), ``routes`` (paths to resources), ``server`` (the
aiohttp application) and ``openapi`` (the OpenAPI 3 document and
doc/rapi.md, generated from the routes and the opcode schema).
"""

from __future__ import annotations

#: HTTP Basic realm, also hashed into ``{HA1}`` passwords (Ganeti's).
REALM = "Ganeti Remote API"

#: Features announced at /2/features (clients switch body formats on them).
FEATURE_INSTANCE_CREATE_REQV1 = "instance-create-reqv1"
FEATURE_INSTANCE_REINSTALL_REQV1 = "instance-reinstall-reqv1"
FEATURE_NODE_MIGRATE_REQV1 = "node-migrate-reqv1"
FEATURE_NODE_EVAC_RES1 = "node-evac-res1"
FEATURES = (FEATURE_INSTANCE_CREATE_REQV1, FEATURE_INSTANCE_REINSTALL_REQV1,
            FEATURE_NODE_MIGRATE_REQV1, FEATURE_NODE_EVAC_RES1)

#: Largest request body accepted (bigger: 413).
DEFAULT_MAX_BODY_SIZE = 1024 * 1024

#: Options of a user (users file, token file).
OPT_READ = "read"
OPT_WRITE = "write"
