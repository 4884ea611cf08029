"""JSON (de)serialization and HMAC-signed messages, used everywhere.

One encoder for config files, job files, RPC and luxi: simplejson, compact
and key-sorted so that equal data always gives equal bytes (checksums of
distributed files depend on it).

Signed messages (confd, node join) are ``{"msg": str, "salt": str,
"hmac": hex}`` where the HMAC covers ``salt + msg``; verification uses a
constant-time comparison.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import simplejson

from ganeti import errors


def dump(data: Any, *, pretty: bool = False) -> str:
    """Serialize ``data`` to a JSON string (sorted keys, no trailing spaces)."""
    if pretty:
        return simplejson.dumps(data, sort_keys=True, indent=2, separators=(",", ": ")) + "\n"
    return simplejson.dumps(data, sort_keys=True, separators=(",", ":"))


def dump_bytes(data: Any, *, pretty: bool = False) -> bytes:
    return dump(data, pretty=pretty).encode("utf-8")


def load(text: str | bytes) -> Any:
    """Parse JSON; a syntax error becomes ``ValueError`` naming the position."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    try:
        return simplejson.loads(text)
    except simplejson.JSONDecodeError as err:
        raise ValueError("Invalid JSON: %s" % err) from err


# -- signed messages ----------------------------------------------------------

_HMAC_DIGESTS: dict[str, Callable[..., Any]] = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}


def compute_hmac(key: bytes, text: str, salt: str = "", digest: str = "sha1") -> str:
    """Hex HMAC over ``salt + text`` (confd uses SHA-1, as Ganeti does)."""
    return hmac.new(key, (salt + text).encode("utf-8"), _HMAC_DIGESTS[digest]).hexdigest()


def verify_hmac(key: bytes, text: str, signature: str, salt: str = "",
                digest: str = "sha1") -> bool:
    expected = compute_hmac(key, text, salt, digest)
    return hmac.compare_digest(expected, signature.lower())


def dump_signed(data: Any, key: bytes, salt: str = "", digest: str = "sha1") -> str:
    """Serialize ``data`` inside a signed envelope."""
    msg = dump(data)
    return dump({"msg": msg, "salt": salt, "hmac": compute_hmac(key, msg, salt, digest)})


def load_signed(text: str | bytes, key: bytes, digest: str = "sha1") -> tuple[Any, str]:
    """Check and open a signed envelope; returns ``(data, salt)``.

    Raises ``SignatureError`` for a malformed envelope or a bad signature.
    """
    try:
        envelope = load(text)
    except ValueError as err:
        raise errors.SignatureError("Signed message is not valid JSON: %s" % err) from err
    if not isinstance(envelope, dict):
        raise errors.SignatureError("Signed message must be a JSON object")
    msg, salt, signature = envelope.get("msg"), envelope.get("salt"), envelope.get("hmac")
    if not (isinstance(msg, str) and isinstance(salt, str) and isinstance(signature, str)):
        raise errors.SignatureError("Signed message lacks string fields msg, salt and hmac")
    if not verify_hmac(key, msg, signature, salt, digest):
        raise errors.SignatureError("Invalid signature")
    try:
        return load(msg), salt
    except ValueError as err:
        raise errors.SignatureError("Signed payload is not valid JSON: %s" % err) from err
