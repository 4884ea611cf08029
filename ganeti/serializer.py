"""JSON (de)serialization and HMAC-signed messages, used everywhere.

One encoder for config files, job files, RPC and luxi: compact and
key-sorted so that equal data always gives equal bytes (checksums of
distributed files depend on it).

NaN and infinities are refused both ways: they are not JSON, and other
Ganeti implementations reading our files would choke on them.

Signed messages (confd, node join) are ``{"msg": str, "salt": str,
"hmac": hex}`` where the HMAC covers ``salt + msg``; verification uses a
constant-time comparison.
"""

from __future__ import annotations

from typing import Any, NoReturn

import simplejson

from ganeti import errors


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError("%s is not valid JSON" % name)


#: simplejson's options besides the layout. Its namedtuple and for_json hooks make
#: the C encoder ask every list and object for ``_asdict``/``for_json``, which
#: quadruples the cost of large answers (a 500-instance bulk list: 40 -> 10 ms);
#: nothing here relies on them.
_ENCODER_OPTIONS: dict[str, Any] = {"sort_keys": True, "allow_nan": False,
                                    "namedtuple_as_object": False, "for_json": False}


def dump(data: Any, *, pretty: bool = False) -> str:
    """Serialize ``data`` to a JSON string (sorted keys, no trailing spaces)."""
    if pretty:
        return simplejson.dumps(data, indent=2, separators=(",", ": "),
                                **_ENCODER_OPTIONS) + "\n"
    return simplejson.dumps(data, separators=(",", ":"), **_ENCODER_OPTIONS)


def dump_bytes(data: Any, *, pretty: bool = False) -> bytes:
    return dump(data, pretty=pretty).encode("utf-8")


def load(text: str | bytes) -> Any:
    """Parse JSON; a syntax error becomes ``ValueError`` naming the position."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    try:
        return simplejson.loads(text, parse_constant=_refuse_constant)
    except ValueError as err:
        raise ValueError("Invalid JSON: %s" % err) from err


# -- signed messages ----------------------------------------------------------

# hashlib and hmac are imported where used: they load OpenSSL's libcrypto, which
# every gnt-* command would otherwise pay for at start-up.
_HMAC_DIGESTS = frozenset(["sha1", "sha256"])


def compute_hmac(key: bytes, text: str, salt: str = "", digest: str = "sha1") -> str:
    """Hex HMAC over ``salt + text`` (confd uses SHA-1, as Ganeti does)."""
    import hmac

    if digest not in _HMAC_DIGESTS:
        raise KeyError(digest)
    return hmac.new(key, (salt + text).encode("utf-8"), digest).hexdigest()


def verify_hmac(key: bytes, text: str, signature: str, salt: str = "",
                digest: str = "sha1") -> bool:
    import hmac

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
