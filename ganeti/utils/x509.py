"""X.509 certificates of the cluster, generated and inspected in one place.

The cluster certificate (``server.pem``) holds the private key and the
certificate in one PEM file, as Ganeti's does. It is self-signed with
``CA:TRUE`` so that it can sign each node's client certificate
(``client.pem``); noded accepts a client presenting either of them.

Keys and certificates are generated with ``cryptography`` (pyOpenSSL's
generators are deprecated). Fingerprints are computed and compared here only.
"""

from __future__ import annotations

import datetime
import hmac
import os
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ganeti import errors
from ganeti.utils import io

#: Ganeti's defaults: RSA keys of 2048 bits, certificates valid five years.
DEFAULT_KEY_BITS = 2048
MIN_KEY_BITS = 2048
DEFAULT_VALIDITY_DAYS = 5 * 365
#: Common name of the cluster certificate (Ganeti's).
CLUSTER_CERT_CN = "ganeti.example.com"
#: Backdating of notBefore, so a node with a slightly late clock accepts it.
_CLOCK_SKEW = datetime.timedelta(minutes=5)

_DIGESTS = {"sha1": hashes.SHA1, "sha256": hashes.SHA256}


@dataclass(frozen=True)
class CertAndKey:
    """A certificate and, when the PEM held one, its private key."""

    cert: x509.Certificate
    key: rsa.RSAPrivateKey | None

    def to_pem(self) -> bytes:
        """Key (if any) then certificate, one PEM text as Ganeti writes it."""
        parts = []
        if self.key is not None:
            parts.append(self.key.private_bytes(serialization.Encoding.PEM,
                                                serialization.PrivateFormat.TraditionalOpenSSL,
                                                serialization.NoEncryption()))
        parts.append(self.cert.public_bytes(serialization.Encoding.PEM))
        return b"".join(parts)


def _check_params(bits: int, validity_days: int) -> None:
    if not isinstance(bits, int) or bits < MIN_KEY_BITS:
        raise errors.X509CertError("Key size must be an integer of at least %d bits, got %r"
                                   % (MIN_KEY_BITS, bits))
    if not isinstance(validity_days, int) or validity_days < 1:
        raise errors.X509CertError("Validity must be a positive number of days, got %r"
                                   % (validity_days,))


def _build(subject_cn: str, issuer: CertAndKey | None, bits: int, validity_days: int,
           is_ca: bool) -> CertAndKey:
    _check_params(bits, validity_days)
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    now = datetime.datetime.now(datetime.UTC)
    if issuer is None:
        issuer_name, signing_key, issuer_public = subject, key, key.public_key()
    else:
        if issuer.key is None:
            raise errors.X509CertError("The signing certificate has no private key")
        issuer_name = issuer.cert.subject
        signing_key, issuer_public = issuer.key, issuer.key.public_key()
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH]
    if is_ca:
        usages.insert(0, ExtendedKeyUsageOID.SERVER_AUTH)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + datetime.timedelta(days=validity_days))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True,
                                     content_commitment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=is_ca,
                                     crl_sign=is_ca, encipher_only=False,
                                     decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public),
                       critical=False)
    )
    cert = builder.sign(signing_key, hashes.SHA256())
    return CertAndKey(cert, key)


def generate_cluster_cert(common_name: str = CLUSTER_CERT_CN, bits: int = DEFAULT_KEY_BITS,
                          validity_days: int = DEFAULT_VALIDITY_DAYS) -> bytes:
    """A new self-signed cluster certificate (CA) with its key, as PEM."""
    return _build(common_name, None, bits, validity_days, is_ca=True).to_pem()


def generate_client_cert(signing_pem: bytes | str, common_name: str,
                         bits: int = DEFAULT_KEY_BITS,
                         validity_days: int = DEFAULT_VALIDITY_DAYS) -> bytes:
    """A node client certificate with its key, signed by ``signing_pem``.

    ``signing_pem`` must hold the cluster certificate and its private key.
    """
    return _build(common_name, load(signing_pem), bits, validity_days, is_ca=False).to_pem()


def load(pem: bytes | str) -> CertAndKey:
    """Parse a PEM holding a certificate and optionally its private key."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        cert = x509.load_pem_x509_certificate(data)
    except ValueError as err:
        raise errors.X509CertError("No valid certificate in PEM data: %s" % err) from err
    key = None
    if b"PRIVATE KEY-----" in data:
        try:
            loaded = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as err:
            raise errors.X509CertError("Invalid private key in PEM data: %s" % err) from err
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise errors.X509CertError("Private key is not an RSA key")
        cert_public = cert.public_key()
        if (not isinstance(cert_public, rsa.RSAPublicKey)
                or loaded.public_key().public_numbers() != cert_public.public_numbers()):
            raise errors.X509CertError("Private key does not match the certificate")
        key = loaded
    return CertAndKey(cert, key)


def load_file(path: str) -> CertAndKey:
    """``load`` of a file; a missing or unreadable file names the path."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as err:
        raise errors.X509CertError("Can't read certificate file %s: %s" % (path, err)) from err
    try:
        return load(data)
    except errors.X509CertError as err:
        raise errors.X509CertError("%s: %s" % (path, err)) from err


def write_file(path: str, pem: bytes) -> None:
    """Store a PEM with its key, readable by root only (mode 0400 as Ganeti)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    io.write_file_atomic(path, pem, mode=0o400)


def fingerprint(pem_or_cert: bytes | str | x509.Certificate, digest: str = "sha1") -> str:
    """Colon-separated upper-case hex digest of the DER certificate.

    ``sha1`` is the form ssconf ``master_candidates_certs`` carries.
    """
    if digest not in _DIGESTS:
        raise errors.X509CertError("Unknown digest %r, expected one of %s"
                                   % (digest, ", ".join(sorted(_DIGESTS))))
    cert = pem_or_cert if isinstance(pem_or_cert, x509.Certificate) else load(pem_or_cert).cert
    raw = cert.fingerprint(_DIGESTS[digest]())
    return ":".join("%02X" % byte for byte in raw)


def fingerprints_equal(first: str, second: str) -> bool:
    """Compare fingerprints case- and separator-insensitively, in constant time."""
    def norm(value: str) -> bytes:
        return value.replace(":", "").strip().upper().encode("ascii", "replace")
    return hmac.compare_digest(norm(first), norm(second))


def verify_signed_by(pem: bytes | str, signer_pem: bytes | str) -> bool:
    """Whether ``pem``'s certificate was issued and signed by ``signer_pem``'s."""
    cert, signer = load(pem).cert, load(signer_pem).cert
    if cert.issuer != signer.subject:
        return False
    public = signer.public_key()
    if not isinstance(public, rsa.RSAPublicKey) or cert.signature_hash_algorithm is None:
        return False
    try:
        public.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                      cert.signature_hash_algorithm)
    except Exception:  # cryptography raises InvalidSignature; any failure means "no"
        return False
    return True


def validity(pem_or_cert: bytes | str | x509.Certificate
             ) -> tuple[datetime.datetime, datetime.datetime]:
    """``(not_before, not_after)`` in UTC."""
    cert = pem_or_cert if isinstance(pem_or_cert, x509.Certificate) else load(pem_or_cert).cert
    return cert.not_valid_before_utc, cert.not_valid_after_utc


def check_expiry(pem_or_cert: bytes | str | x509.Certificate, warn_days: int = 30,
                 now: datetime.datetime | None = None) -> tuple[str | None, str | None]:
    """Ganeti-style verdict: ``(error, warning)``, each a message or None.

    An error when the certificate is not yet or no longer valid; a warning
    when it expires within ``warn_days``.
    """
    not_before, not_after = validity(pem_or_cert)
    now = now or datetime.datetime.now(datetime.UTC)
    if now < not_before:
        return "Certificate not valid until %s" % not_before.isoformat(), None
    if now > not_after:
        return "Certificate expired on %s" % not_after.isoformat(), None
    left = not_after - now
    if left < datetime.timedelta(days=warn_days):
        return None, "Certificate expires in %d days (%s)" % (left.days, not_after.isoformat())
    return None, None
