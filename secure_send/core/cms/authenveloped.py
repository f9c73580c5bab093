"""CMS AuthEnvelopedData (RFC 5083) with AES-256-GCM (RFC 5084), streamed.

``encrypt`` writes what ``openssl cms -encrypt -binary -stream -outform DER
-aes-256-gcm -keyid -keyopt ecdh_kdf_md:sha256`` writes: indefinite-length outer
encodings and the content as a constructed OCTET STRING of ``PIECE``-sized parts, so
memory stays constant whatever the size. One KeyAgreeRecipientInfo per recipient
(:mod:`secure_send.core.cms.kari`), named by subject key identifier.

``decrypt`` streams plaintext into ``dst`` as it goes, because the GCM tag (the
``mac`` field) comes after the content in this format. **The caller must not
reveal or keep what was written unless ``decrypt`` returned normally**: write to a
temporary file and rename it only then (``secure_send.core.atomic``). ``decrypt``
returns only after the tag verified and the whole structure was read to its end.

Not supported, refused with :class:`CmsUnsupportedError`: authAttrs (GCM would
need them as associated data *before* the content, which a stream cannot give),
other content types than id-data, other ciphers, nonces other than 12 bytes and
tags other than 16 bytes. A changed nonce cannot be told from changed content: GCM
authenticates both only through the tag, so both are :class:`CmsTagError`.
"""

from __future__ import annotations

import hashlib
import os
from typing import BinaryIO, NamedTuple, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from secure_send.core.cms import der, kari
from secure_send.core.cms.errors import (
    CmsFormatError,
    CmsNoRecipientError,
    CmsRecipientInfoError,
    CmsTagError,
    CmsUnsupportedError,
)

ID_CT_AUTH_ENVELOPED_DATA = "1.2.840.113549.1.9.16.1.23"
ID_DATA = "1.2.840.113549.1.7.1"
ID_ENVELOPED_DATA = "1.2.840.113549.1.7.3"
ID_AES256_GCM = "2.16.840.1.101.3.4.1.46"
NONCE_LEN = 12
TAG_LEN = 16
PIECE = 64 * 1024
# recipientInfos and the like are read into memory: bounded so a hostile header
# cannot exhaust it (a KARI entry is ~200 bytes; 1 MiB is thousands of recipients)
HEADER_BUDGET = 1 << 20

Recipient = tuple[bytes, ec.EllipticCurvePublicKey]


class Writable(Protocol):
    """Where ciphertext goes (a file, or a sender's hashing sink)."""

    def write(self, data: bytes | memoryview, /) -> int | None: ...


# ---------------------------------------------------------------------- encrypt


class Prepared(NamedTuple):
    """A content key, nonce and header (every byte before the content) of one message.

    :func:`encrypt_prepared` turns the same plaintext into byte-identical ciphertext
    every time under the same ``Prepared`` (GCM is a deterministic function of key,
    nonce and plaintext), so a sender can hash the ciphertext first and make it again
    while uploading, as with age (``client/blob_source.py``). ``cek`` is secret."""

    cek: bytes
    nonce: bytes
    header: bytes

    def __repr__(self) -> str:  # never the key
        return f"Prepared(header={len(self.header)} bytes)"


def subject_key_id(point: bytes) -> bytes:
    """The subject key identifier of a public key without a certificate: SHA-1 of the
    key's bit string (RFC 5280 4.2.1.2, method 1), what ``openssl x509`` puts in a
    certificate for that key. An identifier only: nothing's security rests on it."""
    return hashlib.sha1(point, usedforsecurity=False).digest()


def prepare(recipients: list[Recipient]) -> Prepared:
    """A fresh content key and nonce, wrapped to every (subject key id, P-256 key)."""
    if not recipients:
        raise ValueError("at least one recipient is needed")
    cek = os.urandom(32)
    nonce = os.urandom(NONCE_LEN)
    infos = [kari.build(cek, ski, pub) for ski, pub in recipients]
    header = (
        der.indefinite(der.SEQUENCE)
        + der.oid(ID_CT_AUTH_ENVELOPED_DATA)
        + der.indefinite(0xA0)
        + der.indefinite(der.SEQUENCE)
        + der.integer(0)
        + der.set_of(*infos)
        + der.indefinite(der.SEQUENCE)
        + der.oid(ID_DATA)
        + header_end(nonce)
    )
    return Prepared(cek, nonce, header)


def header_end(nonce: bytes) -> bytes:
    """How every header made for ``nonce`` ends: the AES-256-GCM parameters naming it and
    the opening of the encrypted content (a sender's resume checks a kept nonce is its
    kept header's: ``client/suite_crypto.py``)."""
    gcm_alg = der.seq(der.oid(ID_AES256_GCM), der.seq(der.octets(nonce), der.integer(TAG_LEN)))
    return gcm_alg + der.indefinite(0xA0)


def encrypt_prepared(
    prepared: Prepared, src: BinaryIO, dst: Writable, *, piece: int = PIECE
) -> None:
    """Write the message of ``src`` under ``prepared`` to ``dst``, in one ``write`` per
    unit: the header, each content piece (an OCTET STRING of ``piece`` bytes, the last
    shorter), and the trailer (the closings and the tag). A sender's upload checks the
    units one by one (``client/cipher_units.py``)."""
    dst.write(prepared.header)
    tag = seal_content(prepared.cek, prepared.nonce, src, dst, piece)
    # close: encryptedContent, EncryptedContentInfo; then mac; then the
    # AuthEnvelopedData, the [0] content and the ContentInfo
    dst.write(der.EOC * 2 + der.octets(tag) + der.EOC * 3)


def encrypt(
    src: BinaryIO, dst: Writable, recipients: list[Recipient], *, piece: int = PIECE
) -> None:
    """Encrypt ``src`` to ``dst`` for every (subject key identifier, P-256 key)."""
    encrypt_prepared(prepare(recipients), src, dst, piece=piece)


def seal_content(cek: bytes, nonce: bytes, src: BinaryIO, dst: Writable, piece: int) -> bytes:
    """AES-256-GCM over ``src``, written as OCTET STRING pieces; returns the tag.

    Every full piece is read into one reused buffer and encrypted into another right
    after its fixed TLV header, so a piece costs no allocation and no concatenation
    (about 1.3x the throughput of ``der.octets(enc.update(chunk))``). ``dst`` gets a
    view of that buffer: it must use or copy the bytes before returning, as every
    writer here does (age's encryptor passes reused buffers the same way)."""
    enc = Cipher(algorithms.AES(cek), modes.GCM(nonce)).encryptor()
    head = bytes([der.OCTET_STRING]) + der.length_octets(piece)
    plain = memoryview(bytearray(piece))
    out = bytearray(len(head) + piece + 15)  # update_into wants block size - 1 spare
    out[: len(head)] = head
    sealed = memoryview(out)
    while n := _fill(src, plain):
        if n < piece:  # the last piece: shorter, its own header
            dst.write(der.octets(enc.update(plain[:n])))
            break
        enc.update_into(plain, sealed[len(head) :])
        dst.write(sealed[: len(head) + piece])
    enc.finalize()
    return enc.tag


def _fill(src: BinaryIO, buf: memoryview) -> int:
    """Read until ``buf`` is full or the input ends; how many bytes were read."""
    readinto = getattr(src, "readinto", None)
    n = 0
    while n < len(buf):
        if readinto is not None:
            got = readinto(buf[n:])
        else:  # a reader without readinto (a pipe wrapper)
            data = src.read(len(buf) - n)
            got = len(data)
            buf[n : n + got] = data
        if not got:
            break
        n += got
    return n


# ---------------------------------------------------------------------- decrypt


def _open(r: der.Reader, ident: int, what: str) -> int | None:
    """Read a constructed header; its end offset, or None when indefinite."""
    h = r.header()
    if h.ident != ident:
        raise CmsFormatError(f"{what}: expected tag 0x{ident:02x}, found 0x{h.ident:02x}")
    return None if h.length is None else r.offset + h.length


def _close(r: der.Reader, end: int | None, what: str) -> None:
    if end is None:
        r.end_of_contents()
    elif r.offset != end:
        raise CmsFormatError(f"{what}: length does not match its content")


def _at_close(r: der.Reader, end: int | None, h: der.Header | None) -> bool:
    """Whether a definite container ended, or ``h`` is the end-of-contents."""
    if end is not None:
        if r.offset > end:
            raise CmsFormatError("an element runs past its parent")
        return r.offset == end
    return h is not None and h.ident == 0


def _gcm_params(node: der.Node) -> bytes:
    parts = node.expect(der.SEQUENCE, "content encryption algorithm").children
    if not parts or parts[0].oid() != ID_AES256_GCM:
        raise CmsUnsupportedError("content encryption is not AES-256-GCM")
    if len(parts) != 2:
        raise CmsFormatError("AES-GCM parameters missing")
    params = parts[1].expect(der.SEQUENCE, "GCM parameters").children
    if not params or len(params) > 2:
        raise CmsFormatError("GCM parameters: wrong number of fields")
    nonce = params[0].expect(der.OCTET_STRING, "GCM nonce").value
    icv_len = params[1].int() if len(params) == 2 else 12  # RFC 5084 default
    if len(nonce) != NONCE_LEN or icv_len != TAG_LEN:
        raise CmsUnsupportedError("GCM must use a 12-byte nonce and a 16-byte tag")
    return nonce


def _issuer_serial(cert: x509.Certificate) -> bytes:
    return der.seq(cert.issuer.public_bytes(), der.integer(cert.serial_number))


def _content_key(
    infos: der.Node,
    key: ec.EllipticCurvePrivateKey,
    ski: bytes | None,
    cert: x509.Certificate | None,
) -> bytes:
    """Find our entry and unwrap the content key (see module docstring)."""
    if ski is None and cert is not None:
        try:
            ext = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
            ski = ext.value.digest
        except x509.ExtensionNotFound:
            pass
    mine_is = _issuer_serial(cert) if cert is not None else None
    named: list[tuple[kari.Kari, bytes]] = []
    unknown: list[tuple[kari.Kari, bytes]] = []
    unsupported: CmsUnsupportedError | None = None
    for info in infos.children:
        if info.ident != 0xA1:  # another kind of RecipientInfo: for someone else
            continue
        try:
            entry = kari.parse(info)
        except CmsUnsupportedError as exc:
            unsupported = exc
            continue
        for ref in entry.recipients:
            if (ref.ski is not None and ref.ski == ski) or (
                ref.issuer_serial is not None and ref.issuer_serial == mine_is
            ):
                named.append((entry, ref.wrapped))
            elif (ref.ski is not None and ski is None) or (
                ref.issuer_serial is not None and mine_is is None
            ):
                # we cannot tell whether it names us: try the key (openssl does too)
                unknown.append((entry, ref.wrapped))
    for entry, wrapped in named + unknown:
        cek = kari.unwrap(key, entry, wrapped)
        if cek is not None:
            if len(cek) != 32:
                raise CmsRecipientInfoError("wrapped key has the wrong length")
            return cek
    if named:
        raise CmsRecipientInfoError("the recipient entry for this key does not open")
    if unsupported is not None:
        raise unsupported
    raise CmsNoRecipientError("the message was not encrypted for this key")


def _stream_content(
    r: der.Reader, h: der.Header, dec: object, dst: BinaryIO, depth: int = 0
) -> None:
    """Decrypt an OCTET STRING (primitive or constructed, any nesting) into dst."""
    if depth > der.MAX_DEPTH:
        raise CmsFormatError("encrypted content nested too deeply")
    update = dec.update  # type: ignore[attr-defined]
    if not h.ident & der.CONSTRUCTED:
        left = h.length if h.length is not None else 0
        while left:
            n = min(left, PIECE)
            dst.write(update(r.read(n)))
            left -= n
        return
    end = None if h.length is None else r.offset + h.length
    while True:
        if end is not None and _at_close(r, end, None):
            return
        sub = r.header()
        if end is None and sub.ident == 0:
            if sub.length != 0:
                raise CmsFormatError("malformed end-of-contents")
            return
        if sub.ident not in (der.OCTET_STRING, der.OCTET_STRING | der.CONSTRUCTED):
            raise CmsFormatError("encrypted content: a part is not an OCTET STRING")
        _stream_content(r, sub, dec, dst, depth + 1)


def decrypt(
    src: BinaryIO,
    dst: BinaryIO,
    key: ec.EllipticCurvePrivateKey,
    ski: bytes | None = None,
    cert: x509.Certificate | None = None,
) -> None:
    """Decrypt ``src`` into ``dst``; raise unless the whole message verified.

    ``dst`` receives plaintext before the tag is checked: treat it as untrusted
    (keep it in a temporary file) until this function returns.
    """
    r = der.Reader(src)
    ci_end = _open(r, der.SEQUENCE, "ContentInfo")
    content_type = r.element(64).oid()
    if content_type != ID_CT_AUTH_ENVELOPED_DATA:
        # EnvelopedData (AES-CBC, what openssl cms -encrypt makes by default) is common:
        # say what to ask the sender for, not only what it is not
        raise CmsUnsupportedError(
            "not CMS AuthEnvelopedData"
            + (" (EnvelopedData, e.g. AES-CBC)" if content_type == ID_ENVELOPED_DATA else "")
            + ": ask for AES-256-GCM with ECDH P-256 (openssl cms -encrypt -aes-256-gcm"
            " -keyopt ecdh_kdf_md:sha256)"
        )
    x_end = _open(r, 0xA0, "content")
    aed_end = _open(r, der.SEQUENCE, "AuthEnvelopedData")
    if r.element(16).int() != 0:
        raise CmsUnsupportedError("AuthEnvelopedData: unsupported version")
    infos = r.element(HEADER_BUDGET)
    if infos.ident == 0xA0:  # originatorInfo (certificates we do not need)
        infos = r.element(HEADER_BUDGET)
    infos.expect(der.SET, "recipientInfos")
    eci_end = _open(r, der.SEQUENCE, "EncryptedContentInfo")
    if r.element(64).oid() != ID_DATA:
        raise CmsUnsupportedError("encrypted content type is not id-data")
    nonce = _gcm_params(r.element(1024))
    cek = _content_key(infos, key, ski, cert)
    dec = Cipher(algorithms.AES(cek), modes.GCM(nonce)).decryptor()
    h = r.header()
    if h.ident not in (0x80, 0xA0):
        raise CmsUnsupportedError("no encrypted content (detached content is not supported)")
    _stream_content(r, h, dec, dst)
    _close(r, eci_end, "EncryptedContentInfo")
    if aed_end is not None and r.offset >= aed_end:
        # a definite AuthEnvelopedData that ends here has no mac: say so, rather than
        # read the next header from beyond it (which ends as a 'truncated' error)
        raise CmsFormatError("mac missing")
    mac_h = r.header()
    if mac_h.ident == 0xA1:
        raise CmsUnsupportedError("authenticated attributes are not supported")
    tag = r.element_after(mac_h, 64).expect(der.OCTET_STRING, "mac").value
    if len(tag) != TAG_LEN:
        raise CmsFormatError("mac has the wrong length")
    try:
        dst.write(dec.finalize_with_tag(tag))
    except InvalidTag as exc:
        raise CmsTagError("the message was modified (authentication tag mismatch)") from exc
    # optional unauthAttrs, then the three closings; nothing may follow
    h2 = None if aed_end is not None else r.header()
    if aed_end is not None and not _at_close(r, aed_end, None):
        h2 = r.header()
    if h2 is not None and h2.ident == 0xA2:
        r.element_after(h2, HEADER_BUDGET)
        h2 = None if aed_end is not None else r.header()
    if aed_end is None:
        if h2 is None or h2.ident != 0 or h2.length != 0:
            raise CmsFormatError("AuthEnvelopedData: expected end-of-contents")
    else:
        if h2 is not None:
            raise CmsFormatError("AuthEnvelopedData: unexpected field")
        _close(r, aed_end, "AuthEnvelopedData")
    _close(r, x_end, "content")
    _close(r, ci_end, "ContentInfo")
    r.at_end()
