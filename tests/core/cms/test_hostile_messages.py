"""Red team (issue 21): CMS messages built by a hostile sender to break ``decrypt``.

Each message is made field by field here (real keys, real key wrap and GCM), so a
field can be exactly wrong: a content key of the wrong size behind the right subject
key identifier, GCM parameters a reader must refuse, a missing ``mac``, authenticated
attributes, data after the ContentInfo, headers that try to exhaust memory or time.
Nothing is mocked: ``decrypt`` reads the bytes from a file as the CLI does.
"""

from __future__ import annotations

import io
import os
import resource
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from secure_send.core.cms import authenveloped as ae
from secure_send.core.cms import der, kari
from secure_send.core.cms.errors import (
    CmsError,
    CmsFormatError,
    CmsNoRecipientError,
    CmsRecipientInfoError,
    CmsUnsupportedError,
)
from tests.core.cms.conftest import Ident

PLAIN = b"the minister's draft " * 50


def _gcm(nonce: bytes, icv: bytes | None = der.integer(16)) -> bytes:
    params = der.octets(nonce) + (icv if icv is not None else b"")
    return der.seq(der.oid(ae.ID_AES256_GCM), der.seq(params))


def _message(
    infos: list[bytes],
    cek: bytes,
    *,
    nonce: bytes | None = None,
    gcm: bytes | None = None,
    after_content: bytes | None = None,
    tag: bytes | None = None,
) -> bytes:
    """A definite-length AuthEnvelopedData; ``after_content`` replaces the ``mac``."""
    nonce = nonce if nonce is not None else os.urandom(12)
    sealed = AESGCM(cek).encrypt(nonce, PLAIN, None) if len(cek) == 32 else PLAIN + bytes(16)
    body, real_tag = sealed[:-16], sealed[-16:]
    eci = der.seq(der.oid(ae.ID_DATA), gcm if gcm is not None else _gcm(nonce), der.tlv(0x80, body))
    rest = after_content if after_content is not None else der.octets(tag or real_tag)
    aed = der.seq(der.integer(0), der.set_of(*infos), eci, rest)
    return der.seq(der.oid(ae.ID_CT_AUTH_ENVELOPED_DATA), der.tlv(0xA0, aed))


def _decrypt(message: bytes, who: Ident, tmp_path: Path, **kw: object) -> bytes:
    """Decrypt from a file into a file; what was written (also on failure)."""
    src, out = tmp_path / "in.p7m", tmp_path / "out.part"
    src.write_bytes(message)
    try:
        with src.open("rb") as f, out.open("wb") as dst:
            ae.decrypt(f, dst, who.key, **kw)  # type: ignore[arg-type]
    finally:
        written = out.read_bytes()
        out.unlink()
    return written


def _refused(message: bytes, who: Ident, tmp_path: Path, kind: type[CmsError]) -> CmsError:
    with pytest.raises(CmsError) as caught:
        _decrypt(message, who, tmp_path)
    assert isinstance(caught.value, kind), repr(caught.value)
    return caught.value


def test_the_builder_makes_a_message_that_opens(idents: list[Ident], tmp_path: Path) -> None:
    me = idents[0]
    cek = os.urandom(32)
    assert _decrypt(_message([kari.build(cek, me.ski, me.public)], cek), me, tmp_path) == PLAIN


@pytest.mark.parametrize("size", [16, 24, 40, 64])
def test_a_content_key_of_the_wrong_size_behind_my_identifier(
    idents: list[Ident], tmp_path: Path, size: int
) -> None:
    """The entry names me and unwraps with my key, but to a key that is not AES-256:
    refused before any content is decrypted (nothing is written)."""
    me = idents[0]
    cek = os.urandom(size)
    message = _message([kari.build(cek, me.ski, me.public)], cek)
    out = tmp_path / "out.part"
    with out.open("wb") as dst, pytest.raises(CmsRecipientInfoError):
        ae.decrypt(io.BytesIO(message), dst, me.key, ski=me.ski)
    assert out.read_bytes() == b""
    _refused(message, me, tmp_path, CmsRecipientInfoError)  # also when trying every entry


def test_a_wrong_size_key_in_a_decoy_entry_does_not_hide_mine(
    idents: list[Ident], tmp_path: Path
) -> None:
    """A hostile co-recipient entry that unwraps to garbage for my key cannot exist
    (the unwrap's integrity check), but one naming *me* with a short key is refused
    rather than skipped: fail closed, never 'try the next one' into a downgrade."""
    me = idents[0]
    cek = os.urandom(32)
    decoy = kari.build(os.urandom(16), me.ski, me.public)
    message = _message([decoy, kari.build(cek, me.ski, me.public)], cek)
    with pytest.raises(CmsRecipientInfoError):
        _decrypt(message, me, tmp_path)


@pytest.mark.parametrize("icv", [0, 4, 8, 12, 15, 17, 2**64])
def test_gcm_tag_lengths_other_than_16_are_refused(
    idents: list[Ident], tmp_path: Path, icv: int
) -> None:
    me = idents[0]
    cek, nonce = os.urandom(32), os.urandom(12)
    message = _message(
        [kari.build(cek, me.ski, me.public)], cek, nonce=nonce, gcm=_gcm(nonce, der.integer(icv))
    )
    _refused(message, me, tmp_path, CmsUnsupportedError)


def test_the_default_tag_length_is_12_and_refused(idents: list[Ident], tmp_path: Path) -> None:
    me = idents[0]
    cek, nonce = os.urandom(32), os.urandom(12)
    message = _message(
        [kari.build(cek, me.ski, me.public)], cek, nonce=nonce, gcm=_gcm(nonce, None)
    )
    _refused(message, me, tmp_path, CmsUnsupportedError)


@pytest.mark.parametrize("nonce_len", [0, 1, 11, 13, 16, 1000])
def test_nonces_other_than_12_bytes_are_refused(
    idents: list[Ident], tmp_path: Path, nonce_len: int
) -> None:
    me = idents[0]
    cek = os.urandom(32)
    nonce = os.urandom(nonce_len)
    message = _message(
        [kari.build(cek, me.ski, me.public)], cek, nonce=os.urandom(12), gcm=_gcm(nonce)
    )
    # 1000 bytes: over the parameters' read budget already, a format error
    _refused(message, me, tmp_path, CmsUnsupportedError if nonce_len < 1000 else der.DerError)


@pytest.mark.parametrize(
    "after",
    [
        b"",  # the mac is simply missing
        der.tlv(0xA1, der.seq(der.oid("1.2.840.113549.1.9.3"))),  # authAttrs, no mac
        der.tlv(0x81, b"\x00" * 16),  # a primitive [1] where the mac belongs
        der.tlv(0xA2, der.seq()),  # unauthAttrs but no mac
        der.tlv(0x05, b""),  # NULL
    ],
    ids=["missing", "authattrs-only", "primitive-1", "unauthattrs-only", "null"],
)
def test_a_missing_mac_is_refused(idents: list[Ident], tmp_path: Path, after: bytes) -> None:
    me = idents[0]
    cek = os.urandom(32)
    message = _message([kari.build(cek, me.ski, me.public)], cek, after_content=after)
    _refused(message, me, tmp_path, CmsFormatError)


def test_authenticated_attributes_are_refused(idents: list[Ident], tmp_path: Path) -> None:
    """authAttrs before a correct mac: GCM would need them as associated data, which
    a streaming reader cannot give; a reader ignoring them would accept attributes the
    tag never covered."""
    me = idents[0]
    cek, nonce = os.urandom(32), os.urandom(12)
    tag = AESGCM(cek).encrypt(nonce, PLAIN, None)[-16:]
    attrs = der.tlv(0xA1, der.seq(der.oid("1.2.840.113549.1.9.3"), der.set_of(der.oid(ae.ID_DATA))))
    message = _message(
        [kari.build(cek, me.ski, me.public)],
        cek,
        nonce=nonce,
        after_content=attrs + der.octets(tag),
    )
    _refused(message, me, tmp_path, CmsUnsupportedError)


@pytest.mark.parametrize("trailer", [b"\x00", b"\x00\x00", b"\x30\x00", b"x" * 5000, "copy"])
def test_trailing_data_after_the_content_info(
    idents: list[Ident], tmp_path: Path, trailer: bytes | str
) -> None:
    me = idents[0]
    cek = os.urandom(32)
    message = _message([kari.build(cek, me.ski, me.public)], cek)
    extra = message if trailer == "copy" else trailer
    assert isinstance(extra, bytes)
    _refused(message + extra, me, tmp_path, CmsFormatError)
    out = io.BytesIO()
    ae.encrypt(io.BytesIO(PLAIN), out, [(me.ski, me.public)])  # the indefinite form too
    _refused(out.getvalue() + extra, me, tmp_path, CmsFormatError)


# ------------------------------------------------------------ memory and time


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_empty_indefinite_elements_cannot_run_past_the_header_budget(
    idents: list[Ident], tmp_path: Path
) -> None:
    """recipientInfos made of millions of empty indefinite SEQUENCEs (30 80 00 00):
    each costs a parsed node but declares no length, so before the fix the 1 MiB
    header budget never saw them (8 MB took 460 MiB of memory). Now refused as soon as
    the budget is passed, in bounded memory and time."""
    me = idents[0]
    count = 3_000_000  # 12 MB of input
    infos = b"\x31\x80" + b"\x30\x80\x00\x00" * count + b"\x00\x00"
    prefix = (
        b"\x30\x80" + der.oid(ae.ID_CT_AUTH_ENVELOPED_DATA) + b"\xa0\x80\x30\x80" + der.integer(0)
    )
    before = _peak_rss_mib()
    started = time.monotonic()
    with pytest.raises(der.DerError, match="larger than allowed"):
        _decrypt(prefix + infos + b"\x00\x00" * 3, me, tmp_path)
    assert time.monotonic() - started < 5
    assert _peak_rss_mib() - before < 100


def test_deep_nesting_is_refused(idents: list[Ident], tmp_path: Path) -> None:
    me = idents[0]
    prefix = (
        b"\x30\x80" + der.oid(ae.ID_CT_AUTH_ENVELOPED_DATA) + b"\xa0\x80\x30\x80" + der.integer(0)
    )
    nested = b"\x31\x80" + b"\x30\x80" * 100_000 + b"\x00\x00" * 100_001
    with pytest.raises(der.DerError, match="nested too deeply"):
        _decrypt(prefix + nested, me, tmp_path)


@pytest.mark.parametrize("length", [2**63, 2**64 - 1])
def test_an_enormous_declared_length_is_refused_without_reading_it(
    idents: list[Ident], tmp_path: Path, length: int
) -> None:
    me = idents[0]
    head = b"\x30\x80" + der.oid(ae.ID_CT_AUTH_ENVELOPED_DATA) + b"\xa0\x80\x30\x80"
    huge = b"\x31\x88" + length.to_bytes(8, "big")
    with pytest.raises(der.DerError, match="larger than allowed"):
        _decrypt(head + der.integer(0) + huge + b"\x00" * 100, me, tmp_path)


def test_thousands_of_recipient_entries_cost_bounded_time(
    idents: list[Ident], tmp_path: Path
) -> None:
    """As many recipient entries as the 1 MiB header budget holds, none of them mine,
    each with its own ephemeral key, tried one by one (no identifier given, as the CLI
    does): refused as 'not for this key' in seconds, and a budget's worth more is a
    format error, not more work."""
    me, other = idents[0], idents[1]
    cek = os.urandom(32)
    one = kari.build(cek, other.ski, other.public)
    fit = (ae.HEADER_BUDGET - 64) // len(one)
    infos = [one] * fit
    message = _message(infos, cek)
    started = time.monotonic()
    with pytest.raises(CmsNoRecipientError):
        _decrypt(message, me, tmp_path)
    elapsed = time.monotonic() - started
    print(f"{fit} entries of {len(one)} bytes tried in {elapsed:.2f} s")
    assert elapsed < 20
    with pytest.raises(der.DerError, match="larger than allowed"):
        _decrypt(_message(infos * 2, cek), me, tmp_path)


def test_one_entry_naming_thousands_of_recipients_costs_bounded_time(
    idents: list[Ident], tmp_path: Path
) -> None:
    """One key agreement entry (one ephemeral key) with as many RecipientEncryptedKeys
    as fit the budget, none mine: every one is tried (an ECDH and a key unwrap each),
    still in seconds."""
    me, other = idents[0], idents[1]
    cek = os.urandom(32)
    fields = der.parse_one(kari.build(cek, other.ski, other.public)).children
    rek = fields[3].children[0].encoding
    count = (ae.HEADER_BUDGET - 400) // len(rek)
    many = der.tlv(0xA1, b"".join(f.encoding for f in fields[:3]) + der.seq(*[rek] * count))
    started = time.monotonic()
    with pytest.raises(CmsNoRecipientError):
        _decrypt(_message([many], cek), me, tmp_path)
    elapsed = time.monotonic() - started
    print(f"{count} recipient keys of {len(rek)} bytes tried in {elapsed:.2f} s")
    assert elapsed < 20
