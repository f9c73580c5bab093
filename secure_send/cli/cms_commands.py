"""``encrypt --suite cms`` and the CMS side of ``decrypt``: files outside the product.

CMS AuthEnvelopedData (``core/cms``: AES-256-GCM, ECDH P-256, X9.63 KDF SHA-256,
AES-256 key wrap), what ``openssl cms -encrypt -aes-256-gcm -keyid -keyopt
ecdh_kdf_md:sha256`` writes, to the P-256 keys of X.509 certificates; and back with a
P-256 private key read from a file. The product's device keys never come here: they
stay in the OS key store, and these commands take keys from files only.

Imported only when a CMS command runs (``cryptography``'s X.509 loader costs
start-up time the age commands do not pay).
"""

from __future__ import annotations

import argparse
import getpass
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, cast

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from secure_send.cli.cms_armor import CMS_PEM, PemReader, PemWriter
from secure_send.core.age.source import Writable
from secure_send.core.cms import authenveloped as ae
from secure_send.core.errors import KeyFormatError, SecureSendError

_Load = Callable[[bytes, bytes | None], object]


class CmsUsageError(SecureSendError):
    """A CMS command line asks for something that cannot be done."""


# ---------------------------------------------------------------- recipients


def read_certificates(path: str) -> list[x509.Certificate]:
    """Every certificate in ``path``: PEM (one or more blocks) or one DER certificate."""
    data = Path(path).read_bytes()
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise KeyFormatError(f"{path}: not an X.509 certificate (PEM or DER)") from None


def _describe_key(key: object) -> str:
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return f"an EC key on {key.curve.name}"
    return f"a {type(key).__name__.removeprefix('_').replace('PublicKey', '')} key"


def recipient_of(cert: x509.Certificate, path: str) -> ae.Recipient:
    """The (subject key identifier, P-256 key) of one certificate.

    The identifier is the certificate's subjectKeyIdentifier extension, which is what
    ``openssl cms -keyid`` names and what the holder's tools look up; a certificate
    without one gets SHA-1 of its public key (RFC 5280 method 1, as ``openssl x509``
    computes it), which its holder's decryption still finds by trying the key.
    """
    try:
        public = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFormatError(f"{path}: the certificate's public key cannot be read") from None
    if not isinstance(public, ec.EllipticCurvePublicKey) or not isinstance(
        public.curve, ec.SECP256R1
    ):
        raise KeyFormatError(
            f"{path}: the certificate holds {_describe_key(public)}; "
            "the CMS suite needs an EC P-256 (prime256v1) key"
        )
    try:
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        point = public.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        ski = ae.subject_key_id(point)
    except ValueError:
        raise KeyFormatError(f"{path}: the certificate's extensions are malformed") from None
    return ski, public


def read_recipients(paths: list[str]) -> list[ae.Recipient]:
    """One recipient per certificate in every ``--cert`` file."""
    if not paths:
        raise CmsUsageError("missing recipients: give --cert CERT.pem")
    return [recipient_of(cert, p) for p in paths for cert in read_certificates(p)]


def encrypt_job(args: argparse.Namespace, src: BinaryIO) -> Callable[[Writable], None]:
    """What ``encrypt --suite cms`` writes: DER (BER, streamed), or PEM with ``-a``."""
    recipients = read_recipients(args.cert)

    def job(out: Writable) -> None:
        dst = cast(BinaryIO, out)
        if not args.armor:
            ae.encrypt(src, dst, recipients)
            return
        pem = PemWriter(dst)
        ae.encrypt(src, pem, recipients)
        pem.close()

    return job


# ---------------------------------------------------------------- keys


def is_private_key_file(data: bytes) -> bool:
    """Whether ``data`` looks like a PEM or DER private key rather than an age identity
    file (which is text: ``#`` comments and ``AGE-SECRET-KEY-1…`` lines)."""
    text = data.lstrip()
    if text.startswith(b"-----BEGIN"):
        return b"PRIVATE KEY-----" in text.split(b"\n", 1)[0]
    return data[:1] == b"\x30"  # a DER SEQUENCE


def _ask_passphrase(path: str) -> bytes:
    """The key's passphrase, typed on the terminal (never argv, never stdin, which may
    carry the ciphertext); a clear error where there is no terminal."""
    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
    except OSError:
        raise CmsUsageError(
            f"{path} is encrypted and there is no terminal to ask its passphrase"
        ) from None
    with warnings.catch_warnings():
        warnings.simplefilter("error", getpass.GetPassWarning)  # never echo, never stdin
        try:
            typed = getpass.getpass(f"Passphrase for {Path(path).name}: ")
        except getpass.GetPassWarning:
            raise CmsUsageError(f"cannot read the passphrase of {path} from the terminal") from None
    return typed.encode("utf-8")


def read_private_key(path: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 private key from PKCS#8 or SEC1 ``EC PRIVATE KEY``, PEM or DER; an
    encrypted one asks its passphrase on the terminal."""
    data = Path(path).read_bytes()
    pem = data.lstrip().startswith(b"-----BEGIN")
    load: _Load = serialization.load_pem_private_key if pem else serialization.load_der_private_key
    try:
        key = load(data, None)
    except TypeError:  # encrypted: cryptography wants a password
        password = _ask_passphrase(path)
        try:
            key = load(data, password)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise KeyFormatError(f"{path}: wrong passphrase, or the key is damaged") from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFormatError(f"{path}: not a private key (PKCS#8 or SEC1 EC, PEM or DER)") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise KeyFormatError(
            f"{path}: this is {_describe_key(key)}; CMS messages open with an EC P-256 key"
        )
    return key


def the_private_key(paths: list[str]) -> ec.EllipticCurvePrivateKey:
    """The one P-256 key among the ``-i`` files (age identity files are skipped)."""
    keys = [p for p in paths if is_private_key_file(Path(p).read_bytes())]
    if not keys:
        raise CmsUsageError(
            "this input is a CMS message: give its EC P-256 private key with -i KEY.pem "
            "(age identity files do not open it)"
        )
    if len(keys) > 1:
        raise CmsUsageError("a CMS message is opened with one P-256 key: give one -i KEY.pem")
    return read_private_key(keys[0])


def decrypt_job(args: argparse.Namespace, kind: str, src: BinaryIO) -> Callable[[Writable], None]:
    """What ``decrypt`` writes for a CMS input. The plaintext it writes is not yet
    authentic (the tag comes last): the caller holds it back until the job returned."""
    key = the_private_key(args.identity)
    body: BinaryIO = PemReader(src) if kind == CMS_PEM else src  # type: ignore[assignment]

    def job(dst: Writable) -> None:
        # no identifier given: the key is tried on each recipient entry, so messages
        # naming us by any subject key identifier or issuer and serial number open
        ae.decrypt(body, cast(BinaryIO, dst), key)

    return job
