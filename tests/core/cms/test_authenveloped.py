"""AuthEnvelopedData: round trips, constant memory, tampering, the GCM known answers."""

from __future__ import annotations

import io
import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from secure_send.core.cms import authenveloped as ae
from secure_send.core.cms import der, kari
from secure_send.core.cms.errors import (
    CmsError,
    CmsInvalidPointError,
    CmsNoRecipientError,
    CmsRecipientInfoError,
    CmsTagError,
    CmsTruncatedError,
    CmsUnsupportedError,
)
from tests.core.cms.conftest import Ident
from tests.core.cms.vectors import records

# the GCM algorithm identifier up to the nonce's OCTET STRING header
_GCM_PARAMS = der.oid(ae.ID_AES256_GCM) + b"\x30\x11\x04\x0c"
SIZES = [0, 1, 15, 16, 65535, 65536, 65537, 5 * 1024 * 1024 + 3]


def _seal(data: bytes, to: list[Ident]) -> bytes:
    out = io.BytesIO()
    ae.encrypt(io.BytesIO(data), out, [(i.ski, i.public) for i in to])
    return out.getvalue()


def _open(msg: bytes, who: Ident, **kw: object) -> bytes:
    out = io.BytesIO()
    ae.decrypt(io.BytesIO(msg), out, who.key, **kw)  # type: ignore[arg-type]
    return out.getvalue()


@pytest.mark.parametrize("count", [1, 5])
@pytest.mark.parametrize("size", SIZES)
def test_round_trip(idents: list[Ident], size: int, count: int) -> None:
    data = os.urandom(size)
    msg = _seal(data, idents[:count])
    for who in idents[:count]:
        assert _open(msg, who, ski=who.ski) == data
    # without a key identifier the key is tried on every entry
    assert _open(msg, idents[count - 1]) == data
    with pytest.raises(CmsNoRecipientError):
        _open(msg, idents[5])
    with pytest.raises(CmsNoRecipientError):
        _open(msg, idents[5], ski=idents[5].ski)


def test_content_is_streamed_in_pieces(idents: list[Ident]) -> None:
    msg = _seal(b"a" * (3 * ae.PIECE + 5), idents[:1])
    assert msg.startswith(b"\x30\x80")
    assert msg.endswith(der.EOC * 3)
    assert msg.count(b"\x04\x83\x01\x00\x00") == 3  # three full 64 KiB OCTET STRINGs


def test_memory_stays_constant(idents: list[Ident], tmp_path: Path) -> None:
    plain, sealed, opened = tmp_path / "p", tmp_path / "c", tmp_path / "o"
    plain.write_bytes(os.urandom(8 * 1024 * 1024))
    tracemalloc.start()
    try:
        with plain.open("rb") as src, sealed.open("wb") as dst:
            ae.encrypt(src, dst, [(idents[0].ski, idents[0].public)])
        enc_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        with sealed.open("rb") as src, opened.open("wb") as dst:
            ae.decrypt(src, dst, idents[0].key)
        dec_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert opened.read_bytes() == plain.read_bytes()
    assert enc_peak < 1024 * 1024, enc_peak
    assert dec_peak < 1024 * 1024, dec_peak


@pytest.mark.parametrize(
    "rec",
    [r for r in records("aes256gcm_encrypt.txt", "Count")],
    ids=lambda r: f"{len(r['PT']) * 4}bit-{r['Count']}",
)
def test_aes256gcm_known_answers(rec: dict[str, str]) -> None:
    out = io.BytesIO()
    tag = ae.seal_content(
        bytes.fromhex(rec["Key"]),
        bytes.fromhex(rec["IV"]),
        io.BytesIO(bytes.fromhex(rec["PT"])),
        out,
        piece=7,  # several pieces, so the stream is joined the way GCM expects
    )
    pieces = der.parse_all(out.getvalue()) if out.getvalue() else ()
    assert b"".join(p.value for p in pieces) == bytes.fromhex(rec["CT"])
    assert tag == bytes.fromhex(rec["Tag"])


# ------------------------------------------------------------------ tampering


def _flip(msg: bytes, at: int) -> bytes:
    return msg[:at] + bytes([msg[at] ^ 0x01]) + msg[at + 1 :]


def _kari_of(msg: bytes) -> tuple[int, der.Node]:
    """Where the recipientInfos SET starts (after the fixed prefix) and its node."""
    start = msg.index(b"\x02\x01\x00") + 3
    return start, der.Reader(io.BytesIO(msg[start:])).element(1 << 20)


def _with_kari(msg: bytes, change: Callable[[list[bytes]], list[bytes]]) -> bytes:
    """The message with its (only) KARI's fields replaced, lengths re-encoded."""
    start, infos = _kari_of(msg)
    fields = change([c.encoding for c in infos.children[0].children])
    new = der.set_of(der.tlv(0xA1, b"".join(fields)))
    return msg[:start] + new + msg[start + len(infos.encoding) :]


def _originator(point: bytes) -> bytes:
    key = der.seq(der.oid(kari.ID_EC_PUBLIC_KEY)) + der.bit_string(point)
    return der.tlv(0xA0, der.tlv(0xA1, key))


@pytest.fixture
def sample(idents: list[Ident]) -> bytes:
    return _seal(os.urandom(100_000), idents[:1])


def _fails(msg: bytes, who: Ident, kind: type[CmsError], tmp_path: Path, **kw: object) -> None:
    out = tmp_path / "out.part"
    with out.open("wb") as dst, pytest.raises(CmsError) as caught:
        ae.decrypt(io.BytesIO(msg), dst, who.key, **kw)  # type: ignore[arg-type]
    assert type(caught.value) is kind, caught.value


def test_tag_tampering(idents: list[Ident], sample: bytes, tmp_path: Path) -> None:
    tag_at = len(sample) - 6 - 16  # the mac is followed by three end-of-contents
    assert sample[tag_at - 2 : tag_at] == b"\x04\x10"
    _fails(_flip(sample, tag_at + 3), idents[0], CmsTagError, tmp_path)
    _fails(_flip(sample, len(sample) // 2), idents[0], CmsTagError, tmp_path)  # content
    nonce_at = sample.index(_GCM_PARAMS) + len(_GCM_PARAMS)
    _fails(_flip(sample, nonce_at), idents[0], CmsTagError, tmp_path)
    assert CmsTagError.code.value == "payload_modified"


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        (der.oid(ae.ID_AES256_GCM), der.oid("2.16.840.1.101.3.4.1.6"), CmsUnsupportedError),
        (der.oid(ae.ID_DATA), der.oid("1.2.840.113549.1.7.2"), CmsUnsupportedError),
        (b"\x02\x01\x10", b"\x02\x01\x0c", CmsUnsupportedError),  # ICV length 12
        (
            der.oid(ae.ID_CT_AUTH_ENVELOPED_DATA),
            der.oid("1.2.840.113549.1.7.3"),
            CmsUnsupportedError,
        ),
        (b"\xa0\x80\x30\x80\x02\x01\x00", b"\xa0\x80\x30\x80\x02\x01\x02", CmsUnsupportedError),
        (_GCM_PARAMS, _GCM_PARAMS[:-1] + b"\x0d", der.DerError),  # a length changed
    ],
)
def test_header_tampering(
    idents: list[Ident], sample: bytes, tmp_path: Path, old: bytes, new: bytes, kind: type[CmsError]
) -> None:
    assert sample.index(old) < 300  # in the header, not by chance in the content
    _fails(sample.replace(old, new, 1), idents[0], kind, tmp_path)


def test_recipient_info_tampering(idents: list[Ident], sample: bytes, tmp_path: Path) -> None:
    me = idents[0]
    _, infos = _kari_of(sample)
    wrapped = infos.children[0].children[3].children[0].children[1].value
    at = sample.index(wrapped)
    _fails(_flip(sample, at + 5), me, CmsRecipientInfoError, tmp_path, ski=me.ski)
    assert CmsRecipientInfoError.code.value == "header_modified"
    ski_at = sample.index(me.ski)
    _fails(_flip(sample, ski_at), me, CmsNoRecipientError, tmp_path, ski=me.ski)
    # the ephemeral point: a changed y coordinate is off the curve
    point = infos.children[0].children[1].children[0].children[1].value[1:]
    _fails(_flip(sample, sample.index(point) + 60), me, CmsInvalidPointError, tmp_path)


@pytest.mark.parametrize("point", [b"\x00", b"", b"\x04" + b"\x00" * 64, b"\x05" + b"\x01" * 64])
def test_invalid_originator_points(
    idents: list[Ident], sample: bytes, tmp_path: Path, point: bytes
) -> None:
    def swap(fields: list[bytes]) -> list[bytes]:
        return [fields[0], _originator(point), *fields[2:]]

    _fails(_with_kari(sample, swap), idents[0], CmsInvalidPointError, tmp_path)


def test_unknown_key_agreement_algorithms(
    idents: list[Ident], sample: bytes, tmp_path: Path
) -> None:
    sha1kdf = "1.3.133.16.840.63.0.2"  # what openssl uses without ecdh_kdf_md:sha256

    def kdf(fields: list[bytes]) -> list[bytes]:
        alg = der.seq(der.oid(sha1kdf), der.seq(der.oid(kari.ID_AES256_WRAP)))
        return [*fields[:2], alg, fields[3]]

    def wrap(fields: list[bytes]) -> list[bytes]:
        alg = der.seq(der.oid(kari.ECDH_STD_SHA256KDF), der.seq(der.oid("2.16.840.1.101.3.4.1.5")))
        return [*fields[:2], alg, fields[3]]

    _fails(_with_kari(sample, kdf), idents[0], CmsUnsupportedError, tmp_path)
    _fails(_with_kari(sample, wrap), idents[0], CmsUnsupportedError, tmp_path)
    assert _open(_with_kari(sample, lambda f: f), idents[0]) == _open(sample, idents[0])


@pytest.mark.parametrize("cut", [1, 2, 6, 20, 22, 50_000, 99_000, 100_200])
def test_truncation(idents: list[Ident], sample: bytes, tmp_path: Path, cut: int) -> None:
    _fails(sample[: len(sample) - cut], idents[0], CmsTruncatedError, tmp_path)


def test_trailing_data_is_refused(idents: list[Ident], sample: bytes, tmp_path: Path) -> None:
    _fails(sample + b"\x00", idents[0], der.DerError, tmp_path)
