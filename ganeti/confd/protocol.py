"""confd packets: building, signing, checking and opening them.

A request is accepted only with a good signature and a timestamp (its
salt) within ``MAX_CLOCK_SKEW`` seconds of ours; a reply only with a good
signature and the salt the client chose (``rsalt``). Every refusal raises
``errors.SignatureError`` (bad packet or signature) or ``StaleRequest``,
with a message naming what was wrong.
"""

from __future__ import annotations

import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from ganeti import confd, errors, pathutils


class StaleRequest(errors.SignatureError):
    """A correctly signed request whose timestamp is too old or too new."""


@dataclass(frozen=True)
class Request:
    type: int
    query: Any
    rsalt: str
    protocol: int = confd.PROTOCOL_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "type": self.type, "query": self.query,
                "rsalt": self.rsalt}


@dataclass(frozen=True)
class Reply:
    status: int
    answer: Any
    serial: int
    protocol: int = confd.PROTOCOL_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "status": self.status, "answer": self.answer,
                "serial": self.serial}


def load_hmac_key(paths: pathutils.Paths | None = None) -> bytes:
    """The cluster's confd key: the stripped text of ``confd_hmac_key_file``."""
    path = (paths or pathutils.current()).confd_hmac_key_file
    try:
        with open(path, "rb") as handle:
            key = handle.read().strip()
    except OSError as err:
        raise errors.ConfigurationError("Can't read the confd HMAC key %s: %s"
                                        % (path, err.strerror)) from err
    if not key:
        raise errors.ConfigurationError("The confd HMAC key file %s is empty" % path)
    return key


# confd packets are small and many: a reused compact encoder and one-shot HMAC
# (the same envelope as serializer.dump_signed/load_signed, without their
# per-call set-up, which dominated the cost of a query).
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode
_DECODE = json.JSONDecoder().decode


def _sign(key: bytes, salt: str, msg: str) -> str:
    return hmac.digest(key, (salt + msg).encode("utf-8"), "sha1").hex()


def _pack(data: dict[str, Any], key: bytes, salt: str) -> bytes:
    msg = _ENCODE(data)
    envelope = _ENCODE({"msg": msg, "salt": salt, "hmac": _sign(key, salt, msg)})
    return confd.MAGIC + envelope.encode("utf-8")


def _open(packet: bytes, key: bytes) -> tuple[Any, str]:
    if not packet.startswith(confd.MAGIC):
        raise errors.SignatureError("Packet does not start with the confd magic %r"
                                    % confd.MAGIC.decode("ascii"))
    try:
        envelope = _DECODE(packet[len(confd.MAGIC):].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise errors.SignatureError("Packet is not a JSON envelope: %s" % err) from err
    if not isinstance(envelope, dict):
        raise errors.SignatureError("Packet envelope must be a JSON object")
    msg, salt, signature = envelope.get("msg"), envelope.get("salt"), envelope.get("hmac")
    if not (isinstance(msg, str) and isinstance(salt, str) and isinstance(signature, str)):
        raise errors.SignatureError("Packet envelope lacks string fields msg, salt and hmac")
    if not hmac.compare_digest(_sign(key, salt, msg), signature.lower()):
        raise errors.SignatureError("Invalid signature")
    try:
        return _DECODE(msg), salt
    except ValueError as err:
        raise errors.SignatureError("Signed message is not valid JSON: %s" % err) from err


def new_request(req_type: int, query: Any = None) -> Request:
    """A request with a fresh random reply salt."""
    return Request(req_type, query, uuid.uuid4().hex)


def pack_request(request: Request, key: bytes, now: float | None = None) -> bytes:
    """The signed request packet, salted with the current time."""
    salt = "%d" % int(time.time() if now is None else now)
    return _pack(request.to_dict(), key, salt)


def parse_request(packet: bytes, key: bytes, now: float | None = None) -> Request:
    """Check and open a request packet (signature, timestamp, fields)."""
    data, salt = _open(packet, key)
    try:
        stamp = int(float(salt))  # Ganeti sends whole seconds; accept fractions too
    except (ValueError, OverflowError):
        raise errors.SignatureError("Request salt %r is not a timestamp" % salt) from None
    skew = stamp - (time.time() if now is None else now)
    if abs(skew) > confd.MAX_CLOCK_SKEW:
        raise StaleRequest("Request timestamp %d is %.0f s %s our clock (limit %d s)"
                           % (stamp, abs(skew), "ahead of" if skew > 0 else "behind",
                              confd.MAX_CLOCK_SKEW))
    if not isinstance(data, dict):
        raise errors.SignatureError("Request message must be a JSON object")
    req_type, rsalt = data.get("type"), data.get("rsalt")
    protocol = data.get("protocol")
    if type(req_type) is not int:
        raise errors.SignatureError("Request field 'type' must be an integer, got %r"
                                    % (req_type,))
    if not isinstance(rsalt, str):
        raise errors.SignatureError("Request field 'rsalt' must be a string, got %r"
                                    % (rsalt,))
    if type(protocol) is not int:
        raise errors.SignatureError("Request field 'protocol' must be an integer, got %r"
                                    % (protocol,))
    return Request(req_type, data.get("query"), rsalt, protocol)


def pack_reply(reply: Reply, key: bytes, rsalt: str) -> bytes:
    return _pack(reply.to_dict(), key, rsalt)


def parse_reply(packet: bytes, key: bytes) -> tuple[Reply, str]:
    """Check and open a reply packet; returns it with its salt (the request's rsalt)."""
    data, salt = _open(packet, key)
    if not isinstance(data, dict):
        raise errors.SignatureError("Reply message must be a JSON object")
    status, serial = data.get("status"), data.get("serial")
    protocol = data.get("protocol", confd.PROTOCOL_VERSION)
    if type(status) is not int or type(serial) is not int or type(protocol) is not int:
        raise errors.SignatureError("Reply needs integer fields 'status' and 'serial', got "
                                    "%r and %r" % (status, serial))
    return Reply(status, data.get("answer"), serial, protocol), salt
