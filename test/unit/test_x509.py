"""Certificate generation, loading, fingerprints and checks (ganeti.utils.x509)."""

from __future__ import annotations

import datetime
import hashlib
import os
import ssl
import stat
from typing import Any

import pytest
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import serialization

from ganeti import errors
from ganeti.utils import x509


@pytest.fixture(scope="module")
def cluster_pem() -> bytes:
    return x509.generate_cluster_cert()


@pytest.fixture(scope="module")
def client_pem(cluster_pem: bytes) -> bytes:
    return x509.generate_client_cert(cluster_pem, "node1.example.com")


def test_cluster_cert_is_a_sha256_rsa_ca_with_its_key(cluster_pem: bytes) -> None:
    loaded = x509.load(cluster_pem)
    assert loaded.key is not None and loaded.key.key_size == 2048
    cert = loaded.cert
    assert cert.signature_hash_algorithm is not None
    assert cert.signature_hash_algorithm.name == "sha256"
    assert cert.extensions.get_extension_for_class(cx509.BasicConstraints).value.ca
    assert cert.issuer == cert.subject
    assert cluster_pem.index(b"PRIVATE KEY") < cluster_pem.index(b"CERTIFICATE")
    not_before, not_after = x509.validity(cluster_pem)
    assert (not_after - not_before).days >= x509.DEFAULT_VALIDITY_DAYS


def test_client_cert_is_signed_by_the_cluster_cert(cluster_pem: bytes,
                                                   client_pem: bytes) -> None:
    cert = x509.load(client_pem).cert
    assert not cert.extensions.get_extension_for_class(cx509.BasicConstraints).value.ca
    assert x509.verify_signed_by(client_pem, cluster_pem)
    assert x509.verify_signed_by(cluster_pem, cluster_pem)
    assert not x509.verify_signed_by(client_pem, x509.generate_cluster_cert())
    assert not x509.verify_signed_by(cluster_pem, client_pem)


def test_openssl_accepts_the_chain(cluster_pem: bytes, client_pem: bytes,
                                   tmp_path: Any) -> None:
    ca, client = str(tmp_path / "ca.pem"), str(tmp_path / "client.pem")
    x509.write_file(ca, cluster_pem)
    x509.write_file(client, client_pem)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(ca)       # key+cert in one file
    ctx.load_verify_locations(ca)  # the key block is skipped
    ctx.load_cert_chain(client)
    assert stat.S_IMODE(os.stat(ca).st_mode) == 0o400


def test_custom_bits_and_validity() -> None:
    pem = x509.generate_cluster_cert(bits=3072, validity_days=10)
    loaded = x509.load(pem)
    assert loaded.key is not None and loaded.key.key_size == 3072
    not_before, not_after = x509.validity(pem)
    assert datetime.timedelta(days=10) <= not_after - not_before <= datetime.timedelta(
        days=10, minutes=10)


@pytest.mark.parametrize("bits, days, message", [
    (1024, 10, "at least 2048 bits"),
    (2048, 0, "positive number of days"),
])
def test_bad_parameters_are_refused(bits: int, days: int, message: str) -> None:
    with pytest.raises(errors.X509CertError, match=message):
        x509.generate_cluster_cert(bits=bits, validity_days=days)


def test_fingerprints(cluster_pem: bytes) -> None:
    der = x509.load(cluster_pem).cert.public_bytes(serialization.Encoding.DER)
    sha1 = x509.fingerprint(cluster_pem)
    assert sha1.replace(":", "") == hashlib.sha1(der).hexdigest().upper()
    assert len(sha1.split(":")) == 20
    sha256 = x509.fingerprint(cluster_pem, "sha256")
    assert sha256.replace(":", "") == hashlib.sha256(der).hexdigest().upper()
    assert x509.fingerprints_equal(sha1, sha1.lower().replace(":", ""))
    assert not x509.fingerprints_equal(sha1, sha256)
    with pytest.raises(errors.X509CertError, match="Unknown digest 'md5'"):
        x509.fingerprint(cluster_pem, "md5")


def test_expiry_verdicts(cluster_pem: bytes) -> None:
    not_before, not_after = x509.validity(cluster_pem)
    assert x509.check_expiry(cluster_pem) == (None, None)
    error, warning = x509.check_expiry(cluster_pem, now=not_after + datetime.timedelta(days=1))
    assert error is not None and "expired" in error and warning is None
    error, warning = x509.check_expiry(cluster_pem,
                                       now=not_before - datetime.timedelta(days=1))
    assert error is not None and "not valid until" in error
    error, warning = x509.check_expiry(cluster_pem, warn_days=30,
                                       now=not_after - datetime.timedelta(days=3))
    assert error is None and warning is not None and "expires in" in warning


def test_load_errors(cluster_pem: bytes, client_pem: bytes, tmp_path: Any) -> None:
    with pytest.raises(errors.X509CertError, match="No valid certificate"):
        x509.load(b"garbage")
    # The key of one certificate with another's certificate.
    key_part = client_pem[:client_pem.index(b"-----BEGIN CERTIFICATE")]
    cert_part = cluster_pem[cluster_pem.index(b"-----BEGIN CERTIFICATE"):]
    with pytest.raises(errors.X509CertError, match="does not match"):
        x509.load(key_part + cert_part)
    missing = str(tmp_path / "missing.pem")
    with pytest.raises(errors.X509CertError, match=r"missing\.pem"):
        x509.load_file(missing)
    cert_only = x509.load(cert_part)
    assert cert_only.key is None
    with pytest.raises(errors.X509CertError, match="no private key"):
        x509.generate_client_cert(cert_part, "node2")
