"""Keys and certificates for the CMS CLI tests, made with ``cryptography``."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from secure_send.core.cms import authenveloped as ae

PASSPHRASE = "correct horse 電池"


@dataclass(frozen=True)
class Holder:
    """A P-256 key pair with a self-signed certificate, both in files."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    key_path: Path  # PKCS#8 PEM, unencrypted
    cert_path: Path  # PEM

    @property
    def point(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    @property
    def recipient(self) -> ae.Recipient:
        return ae.subject_key_id(self.point), self.key.public_key()


def certificate(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey,
    name: str,
    *,
    ski: bool = True,
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
    )
    if ski:
        # a CA-style identifier (not SHA-1 of the key), so that a test can tell which
        # identifier the message names
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier(b"\x5a" * 8 + name.encode()[:12]), critical=False
        )
    # Ed25519 signs without a separate hash
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, algorithm)


def holder(folder: Path, name: str, *, ski: bool = True) -> Holder:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = certificate(key, name, ski=ski)
    key_path, cert_path = folder / f"{name}.key.pem", folder / f"{name}.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Holder(key, cert, key_path, cert_path)


def key_file(
    h: Holder,
    folder: Path,
    encoding: serialization.Encoding,
    fmt: serialization.PrivateFormat,
    *,
    encrypted: bool = False,
) -> Path:
    """The holder's key written in another form."""
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(PASSPHRASE.encode())
        if encrypted
        else serialization.NoEncryption()
    )
    suffix = "pem" if encoding is serialization.Encoding.PEM else "der"
    form = "pkcs8" if fmt is serialization.PrivateFormat.PKCS8 else "sec1"
    path = folder / f"key-{form}-{'enc' if encrypted else 'plain'}.{suffix}"
    path.write_bytes(h.key.private_bytes(encoding, fmt, enc))
    return path


def sealed(plaintext: bytes, *recipients: ae.Recipient) -> bytes:
    out = io.BytesIO()
    ae.encrypt(io.BytesIO(plaintext), out, list(recipients))
    return out.getvalue()
