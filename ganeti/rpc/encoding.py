"""Blobs inside RPC arguments: ``[0, text]`` or ``[1, base64(zlib(bytes))]``.

Ganeti's encoding for file contents (``upload_file``, ``jobqueue_update``):
small UTF-8 text travels as is, anything else compressed.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from typing import Any

from ganeti import constants, errors, ht

#: Below this size, valid UTF-8 travels uncompressed.
COMPRESS_THRESHOLD = 512

TEncodedData = ht.WithDesc(
    ht.TTupleOf(ht.TElemOf(constants.RPC_ENCODINGS), ht.TString),
    "an encoded blob ([0, text] or [1, base64 of zlib data])")


def encode(data: bytes | str) -> list[Any]:
    """The wire form of ``data``."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) < COMPRESS_THRESHOLD:
        try:
            return [constants.RPC_ENCODING_NONE, raw.decode("utf-8")]
        except UnicodeDecodeError:
            pass
    return [constants.RPC_ENCODING_ZLIB_BASE64,
            base64.b64encode(zlib.compress(raw)).decode("ascii")]


def decode(value: Any) -> bytes:
    """The bytes of an encoded blob; a malformed one raises TypeEnforcementError."""
    if not TEncodedData(value):
        raise errors.TypeEnforcementError("Encoded data must be %s, got %s"
                                          % (TEncodedData.desc, ht.describe_value(value)))
    kind, text = value
    if kind == constants.RPC_ENCODING_NONE:
        return text.encode("utf-8")
    try:
        return zlib.decompress(base64.b64decode(text.encode("ascii"), validate=True))
    except (binascii.Error, ValueError, zlib.error) as err:
        raise errors.TypeEnforcementError("Encoded data is not valid base64 of zlib data: %s"
                                          % err) from err
