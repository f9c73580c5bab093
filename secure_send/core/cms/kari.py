"""KeyAgreeRecipientInfo for ECDH P-256 (RFC 5652 6.2.2, RFC 5753).

One entry per recipient: a fresh ephemeral P-256 key (the originator), ECDH with
the recipient's static key (dhSinglePass-stdDH-sha256kdf-scheme), the X9.63 KDF
over SHA-256 with the DER ECC-CMS-SharedInfo as shared info, and AES-256 key wrap
(RFC 3394) of the content-encryption key. This is what OpenSSL 3 writes for
``openssl cms -encrypt -keyopt ecdh_kdf_md:sha256``. A fresh ephemeral key per
entry, as OpenSSL does, keeps entries unlinkable to each other.
"""

from __future__ import annotations

from typing import NamedTuple

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)

from secure_send.core.cms import der
from secure_send.core.cms.errors import (
    CmsFormatError,
    CmsInvalidPointError,
    CmsUnsupportedError,
)

ID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
PRIME256V1 = "1.2.840.10045.3.1.7"
ECDH_STD_SHA256KDF = "1.3.132.1.11.1"
ID_AES256_WRAP = "2.16.840.1.101.3.4.1.45"
KEK_BITS = 256

# context tags
_CTX0_C = 0xA0
_CTX1_C = 0xA1
_CTX2_C = 0xA2


def shared_secret(private: ec.EllipticCurvePrivateKey, public: ec.EllipticCurvePublicKey) -> bytes:
    """Plain ECDH (the x coordinate, as SP 800-56A's Z for the standard primitive)."""
    return private.exchange(ec.ECDH(), public)


def shared_info(ukm: bytes | None) -> bytes:
    """DER ECC-CMS-SharedInfo (RFC 5753 7.2) for id-aes256-wrap."""
    parts = [der.seq(der.oid(ID_AES256_WRAP))]
    if ukm is not None:
        parts.append(der.tlv(_CTX0_C, der.octets(ukm)))
    parts.append(der.tlv(_CTX2_C, der.octets(KEK_BITS.to_bytes(4, "big"))))
    return der.seq(*parts)


def x963_sha256(z: bytes, info: bytes, length: int) -> bytes:
    """ANS X9.63 KDF with SHA-256 (SEC 1 3.6.1), as RFC 5753 uses it."""
    return X963KDF(algorithm=hashes.SHA256(), length=length, sharedinfo=info).derive(z)


def kek(z: bytes, ukm: bytes | None) -> bytes:
    """The key-encryption key: X9.63 KDF, SHA-256, 256 bits."""
    return x963_sha256(z, shared_info(ukm), KEK_BITS // 8)


def _key_wrap_alg() -> bytes:
    # RFC 3565: the AES key wrap identifiers take no parameters (absent, not NULL)
    return der.seq(der.oid(ECDH_STD_SHA256KDF), der.seq(der.oid(ID_AES256_WRAP)))


def build(cek: bytes, ski: bytes, recipient: ec.EllipticCurvePublicKey) -> bytes:
    """One ``[1] KeyAgreeRecipientInfo`` naming the recipient by rKeyId."""
    if not isinstance(recipient.curve, ec.SECP256R1):
        raise CmsUnsupportedError("recipient key is not on P-256")
    eph = ec.generate_private_key(ec.SECP256R1())
    point = eph.public_key().public_bytes(
        encoding=serialization.Encoding.X962,
        format=serialization.PublicFormat.UncompressedPoint,
    )
    wrapped = aes_key_wrap(kek(shared_secret(eph, recipient), None), cek)
    # originatorKey [1] IMPLICIT OriginatorPublicKey; parameters absent (RFC 5753 7.1.1
    # allows absent or NULL; absent is what OpenSSL writes)
    originator = der.tlv(
        _CTX0_C, der.tlv(_CTX1_C, der.seq(der.oid(ID_EC_PUBLIC_KEY)) + der.bit_string(point))
    )
    rek = der.seq(der.tlv(_CTX0_C, der.octets(ski)), der.octets(wrapped))
    body = der.integer(3) + originator + _key_wrap_alg() + der.seq(rek)
    return der.tlv(_CTX1_C, body)


class RecipientRef(NamedTuple):
    """One RecipientEncryptedKey: who it names and the wrapped key."""

    ski: bytes | None  # rKeyId's subjectKeyIdentifier
    issuer_serial: bytes | None  # the IssuerAndSerialNumber's DER, as written
    wrapped: bytes


class Kari(NamedTuple):
    originator: ec.EllipticCurvePublicKey
    ukm: bytes | None
    recipients: tuple[RecipientRef, ...]


def load_point(data: bytes) -> ec.EllipticCurvePublicKey:
    """A P-256 point from its X9.62 encoding; infinity or off-curve points refused."""
    if data in (b"", b"\x00"):
        raise CmsInvalidPointError("originator key is the point at infinity")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), data)
    except ValueError as exc:
        raise CmsInvalidPointError("originator key is not a point on P-256") from exc


def _originator(node: der.Node) -> ec.EllipticCurvePublicKey:
    node.expect(_CTX0_C, "originator")
    if len(node.children) != 1 or node.children[0].ident != _CTX1_C:
        raise CmsUnsupportedError("originator must be an ephemeral public key")
    parts = node.children[0].children
    if len(parts) != 2:
        raise CmsFormatError("originator key: wrong number of fields")
    alg = parts[0].expect(der.SEQUENCE, "originator algorithm").children
    if not alg or alg[0].oid() != ID_EC_PUBLIC_KEY:
        raise CmsUnsupportedError("originator key is not an EC key")
    if len(alg) > 2:
        raise CmsFormatError("originator algorithm: extra fields")
    if len(alg) == 2 and alg[1].ident != der.NULL and alg[1].oid() != PRIME256V1:
        raise CmsUnsupportedError("originator key is not on P-256")
    bits = parts[1].expect(der.BIT_STRING, "originator key").value
    if not bits or bits[0] != 0:
        raise CmsFormatError("originator key: bad bit string")
    return load_point(bits[1:])


def parse(node: der.Node) -> Kari:
    """Check and read one ``[1] KeyAgreeRecipientInfo``."""
    f = list(node.children)
    if len(f) not in (4, 5) or f[0].int() != 3:
        raise CmsUnsupportedError("key agreement recipient info: unsupported version")
    originator = _originator(f[1])
    ukm = None
    if len(f) == 5:
        ukm_node = f[2].expect(_CTX1_C, "ukm")
        if len(ukm_node.children) != 1:
            raise CmsFormatError("ukm: malformed")
        ukm = ukm_node.children[0].expect(der.OCTET_STRING, "ukm").value
    alg = f[-2].expect(der.SEQUENCE, "key encryption algorithm").children
    if len(alg) != 2 or alg[0].oid() != ECDH_STD_SHA256KDF:
        raise CmsUnsupportedError("key agreement is not dhSinglePass-stdDH-sha256kdf")
    wrap = alg[1].expect(der.SEQUENCE, "key wrap algorithm").children
    if not wrap or wrap[0].oid() != ID_AES256_WRAP or len(wrap) > 1:
        raise CmsUnsupportedError("key wrap is not id-aes256-wrap")
    refs = []
    for rek in f[-1].expect(der.SEQUENCE, "recipient encrypted keys").children:
        parts = rek.expect(der.SEQUENCE, "recipient encrypted key").children
        if len(parts) != 2:
            raise CmsFormatError("recipient encrypted key: wrong number of fields")
        rid, wrapped = parts[0], parts[1].expect(der.OCTET_STRING, "encrypted key").value
        if rid.ident == _CTX0_C:
            if not rid.children:
                raise CmsFormatError("rKeyId: empty")
            ski = rid.children[0].expect(der.OCTET_STRING, "subject key identifier").value
            refs.append(RecipientRef(ski, None, wrapped))
        elif rid.ident == der.SEQUENCE:
            refs.append(RecipientRef(None, rid.encoding, wrapped))
        else:
            raise CmsFormatError("recipient identifier: unknown form")
    if not refs:
        raise CmsFormatError("key agreement recipient info names nobody")
    return Kari(originator, ukm, tuple(refs))


def unwrap(private: ec.EllipticCurvePrivateKey, kari: Kari, wrapped: bytes) -> bytes | None:
    """The content key, or None when this entry does not open with ``private``."""
    try:
        cek = aes_key_unwrap(kek(shared_secret(private, kari.originator), kari.ukm), wrapped)
    except (InvalidUnwrap, ValueError):
        return None
    return cek
