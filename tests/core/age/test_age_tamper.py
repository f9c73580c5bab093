"""Tamper, truncation and trailing-data tests for the age v1 implementation.

Expected outcomes are derived from the file layout (C2SP age spec) by small
oracles written here, independent of the product's parser: which error class a
change must cause, which STREAM chunk fails, and exactly which plaintext may
have been released before the failure (only the authentic chunks before it).
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secure_send.core import age
from secure_send.core.age.armor import ArmorReader, ArmorWriter
from secure_send.core.errors import (
    AgeError,
    ArmorError,
    HeaderError,
    HeaderMacError,
    NoIdentityMatchError,
    PayloadError,
    PayloadFailure,
)
from tests.age_kit import (
    CHUNK,
    ENC_CHUNK,
    NONCE,
    SETTINGS,
    TAG,
    TASK_CHUNKS,
    Sealed,
    _assert_payload_error,
    _bytes,
    _chunk_count,
    _decrypt,
    _encrypt,
    _header_length,
    _seal,
)

# ---------------------------------------------------------------- header bit flips


def _canonical_b64(text: bytes, size: int) -> bool:
    """Whether ``text`` is the one unpadded base64 spelling of ``size`` bytes."""
    try:
        raw = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(raw) == size and base64.b64encode(raw).rstrip(b"=") == text


@dataclass(frozen=True)
class Field:
    start: int
    end: int
    kind: str  # "fixed", "type", "share", "body" or "mac"
    stanza: int  # index of the stanza holding it, -1 outside stanzas


def _header_fields(header: bytes) -> list[Field]:
    """Split a header we wrote (X25519 stanzas only) into fields, by position."""
    fields = [Field(0, 22, "fixed", -1)]  # "age-encryption.org/v1\n"
    pos = 22
    index = 0
    while header.startswith(b"-> ", pos):
        end = header.index(b"\n", pos)
        body_end = header.index(b"\n", end + 1)
        fields += [
            Field(pos, pos + 3, "fixed", index),
            Field(pos + 3, pos + 10, "type", index),  # "X25519" and the space after it
            Field(pos + 10, end, "share", index),
            Field(end, end + 1, "fixed", index),
            Field(end + 1, body_end, "body", index),
            Field(body_end, body_end + 1, "fixed", index),
        ]
        pos = body_end + 1
        index += 1
    assert header[pos : pos + 4] == b"--- "
    fields += [Field(pos, pos + 4, "fixed", -1), Field(pos + 4, len(header) - 1, "mac", -1)]
    fields.append(Field(len(header) - 1, len(header), "fixed", -1))
    return fields


def _grammatical_args(text: bytes) -> bool:
    """Stanza arguments as the header grammar allows: non-empty runs of VCHAR."""
    return all(part and all(33 <= c <= 126 for c in part) for part in text.split(b" "))


def _expected_header_flip(
    header: bytes, field: Field, pos: int, flipped: int, ours: int
) -> type[AgeError]:
    """The error one changed header byte must cause, when stanza ``ours`` is ours.

    The header grammar applies to every stanza. The X25519 rules (one argument, a
    canonical 32-byte share) apply to the stanzas tried before ours was found, as
    the reference age does (it stops at the first stanza that opens); a change in a
    later stanza that the grammar allows is caught by the header MAC.
    """
    changed = bytearray(header[field.start : field.end])
    changed[pos - field.start] = flipped
    if field.kind == "fixed":
        return HeaderError  # version line, "-> ", "--- " and line ends are exact
    if field.kind == "type":
        # Any other visible character just makes it a stanza type nobody here knows.
        if not 33 <= flipped <= 126:
            return HeaderError
    elif field.kind == "share" and field.stanza > ours:
        if not _grammatical_args(bytes(changed)):
            return HeaderError
    elif not _canonical_b64(bytes(changed), 32):  # share, body and MAC are 32 bytes each
        return HeaderError
    if field.kind == "mac":
        return HeaderMacError
    # A well-formed but different stanza: ours no longer opens, while a change in
    # someone else's still lets us find the file key, and then the MAC notices.
    return NoIdentityMatchError if field.stanza == ours else HeaderMacError


@pytest.mark.parametrize(("count", "ours"), [(1, 0), (3, 1), (2, 0), (2, 1)])
def test_every_header_bit_flip(count: int, ours: int) -> None:
    identities = [age.X25519Identity.generate() for _ in range(count)]
    plaintext = _bytes(300)
    ciphertext = _encrypt(plaintext, [i.recipient for i in identities])
    length = _header_length(ciphertext)
    header = ciphertext[:length]
    seen: set[type[AgeError]] = set()
    for field in _header_fields(header):
        for pos in range(field.start, field.end):
            for bit in range(8):
                damaged = bytearray(ciphertext)
                damaged[pos] ^= 1 << bit
                expected = _expected_header_flip(header, field, pos, damaged[pos], ours)
                released, err = _decrypt(bytes(damaged), [identities[ours]])
                where = f"byte {pos} ({field.kind} of stanza {field.stanza}) bit {bit}"
                assert type(err) is expected, f"{where}: {err!r}"
                assert released == b"", where
                seen.add(expected)
    expected_kinds = {HeaderError, HeaderMacError, NoIdentityMatchError}
    assert seen == expected_kinds  # the oracle really exercised every outcome


# ---------------------------------------------------------------- payload bit flips


def _payload_flip_offsets(size: int) -> dict[str, int]:
    """Named offsets inside the payload (relative to the first payload byte)."""
    chunks = _chunk_count(size)
    last_start = (chunks - 1) * ENC_CHUNK
    last_len = size - (chunks - 1) * CHUNK + TAG
    offsets = {
        "first-chunk-first-byte": 0,
        "first-chunk-middle": min(CHUNK // 2, last_len - 1),
        "first-chunk-tag": min(ENC_CHUNK, last_len) - 1,
        "last-chunk-first-byte": last_start,
        "last-chunk-tag": last_start + last_len - TAG,
        "last-byte": last_start + last_len - 1,
    }
    if chunks > 2:
        middle = chunks // 2
        offsets["middle-chunk"] = middle * ENC_CHUNK + 1234
        offsets["middle-chunk-tag"] = middle * ENC_CHUNK + CHUNK + 3
    return offsets


PAYLOAD_SIZES = [
    0,
    1,
    CHUNK,
    3 * CHUNK + 100,
    3 * CHUNK,
    (TASK_CHUNKS + 2) * CHUNK - 5,
]


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("size", PAYLOAD_SIZES)
def test_payload_region_bit_flips(size: int, workers: int) -> None:
    sealed = _seal(size)
    start = sealed.payload_start
    assert len(sealed.ciphertext) == start + size + TAG * _chunk_count(size)
    for name, offset in _payload_flip_offsets(size).items():
        for bit in (0, 7):
            damaged = bytearray(sealed.ciphertext)
            damaged[start + offset] ^= 1 << bit
            released, err = _decrypt(bytes(damaged), [sealed.identity], workers=workers)
            chunk = offset // ENC_CHUNK
            try:
                _assert_payload_error(
                    released, err, sealed.plaintext, chunk, {PayloadFailure.TAMPERED}
                )
            except AssertionError as exc:
                raise AssertionError(f"{name} (offset {offset}): {exc}") from exc


@pytest.mark.parametrize("size", [0, 5, CHUNK + 5])
def test_nonce_bit_flips(size: int) -> None:
    sealed = _seal(size)
    nonce_start = sealed.payload_start - NONCE
    for pos in range(nonce_start, sealed.payload_start):
        damaged = bytearray(sealed.ciphertext)
        damaged[pos] ^= 0x10
        released, err = _decrypt(bytes(damaged), [sealed.identity])
        _assert_payload_error(released, err, sealed.plaintext, 0, {PayloadFailure.TAMPERED})


def _armored(binary: bytes) -> bytes:
    out = io.BytesIO()
    writer = ArmorWriter(out)
    writer.write(binary)
    writer.close()
    return out.getvalue()


@SETTINGS
@given(
    size=st.integers(0, 4 * CHUNK),
    data=st.data(),
    workers=st.sampled_from([1, 2]),
    armor=st.booleans(),
)
def test_any_payload_bit_flip(size: int, data: st.DataObject, workers: int, armor: bool) -> None:
    sealed = _seal(size)
    length = len(sealed.ciphertext) - sealed.payload_start
    offset = data.draw(st.integers(0, length - 1), label="offset")
    bit = data.draw(st.integers(0, 7), label="bit")
    damaged = bytearray(sealed.ciphertext)
    damaged[sealed.payload_start + offset] ^= 1 << bit
    # Inside well-formed armor the same damage must have the same outcome.
    wrapped = _armored(bytes(damaged)) if armor else bytes(damaged)
    released, err = _decrypt(wrapped, [sealed.identity], workers=workers)
    chunk = offset // ENC_CHUNK
    _assert_payload_error(released, err, sealed.plaintext, chunk, {PayloadFailure.TAMPERED})


@pytest.mark.parametrize("workers", [1, 2])
def test_swapped_chunks_detected(workers: int) -> None:
    sealed = _seal(4 * CHUNK + 10)
    start = sealed.payload_start
    body = bytearray(sealed.ciphertext)
    first = bytes(body[start + ENC_CHUNK : start + 2 * ENC_CHUNK])
    second = bytes(body[start + 2 * ENC_CHUNK : start + 3 * ENC_CHUNK])
    body[start + ENC_CHUNK : start + 2 * ENC_CHUNK] = second
    body[start + 2 * ENC_CHUNK : start + 3 * ENC_CHUNK] = first
    released, err = _decrypt(bytes(body), [sealed.identity], workers=workers)
    _assert_payload_error(released, err, sealed.plaintext, 1, {PayloadFailure.TAMPERED})


# ---------------------------------------------------------------- truncation


def _check_truncation(sealed: Sealed, cut: int, workers: int) -> None:
    """Decrypt ``ciphertext[:cut]`` and check the outcome against the layout."""
    released, err = _decrypt(sealed.ciphertext[:cut], [sealed.identity], workers=workers)
    where = f"cut at {cut}"
    if cut < sealed.payload_start:  # inside the header, or inside the nonce
        assert isinstance(err, HeaderError), f"{where}: {err!r}"
        assert released == b"", where
        return
    into = cut - sealed.payload_start
    chunk, rest = divmod(into, ENC_CHUNK)
    if rest < TAG:
        # Nothing, or less than a tag, of chunk `chunk` arrived: plainly truncated.
        reasons = {PayloadFailure.TRUNCATED}
    elif rest == TAG and chunk > 0:
        # Looks exactly like an (illegal) empty last chunk.
        reasons = {PayloadFailure.TRUNCATED, PayloadFailure.EMPTY_LAST_CHUNK}
    else:
        reasons = {PayloadFailure.TAMPERED}  # a partial chunk cannot authenticate
    try:
        _assert_payload_error(released, err, sealed.plaintext, chunk, reasons)
    except AssertionError as exc:
        raise AssertionError(f"{where} (chunk {chunk} + {rest}): {exc}") from exc


def _interesting_cuts(sealed: Sealed) -> list[int]:
    header = _header_length(sealed.ciphertext)
    payload = sealed.payload_start
    total = len(sealed.ciphertext)
    cuts = [0, 1, 10, 21, 22, 23, 40, header - 40, header - 2, header - 1, header]
    cuts += [header + 1, header + NONCE // 2, payload - 1, payload, payload + 1]
    cuts += [payload + TAG - 1, payload + TAG, payload + TAG + 1]
    for k in range(1, _chunk_count(len(sealed.plaintext)) + 1):
        boundary = payload + k * ENC_CHUNK
        cuts += [boundary - ENC_CHUNK // 2, boundary - 1, boundary, boundary + 1]
        cuts += [boundary + TAG - 1, boundary + TAG, boundary + TAG + 1]
    cuts.append(total - 1)
    return sorted({c for c in cuts if 0 <= c < total})


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, 2 * CHUNK + 17, 3 * CHUNK])
def test_truncation_at_interesting_offsets(size: int, workers: int) -> None:
    sealed = _seal(size)
    for cut in _interesting_cuts(sealed):
        _check_truncation(sealed, cut, workers)


@pytest.mark.parametrize("workers", [1, 2])
def test_truncation_at_task_borders(workers: int) -> None:
    sealed = _seal((TASK_CHUNKS + 2) * CHUNK + 9)
    for k in (TASK_CHUNKS - 1, TASK_CHUNKS, TASK_CHUNKS + 1, TASK_CHUNKS + 2):
        boundary = sealed.payload_start + k * ENC_CHUNK
        for cut in (boundary - 1, boundary, boundary + 1, boundary + TAG + 3):
            _check_truncation(sealed, cut, workers)
    _check_truncation(sealed, len(sealed.ciphertext) - 1, workers)


@SETTINGS
@given(size=st.integers(0, 3 * CHUNK), data=st.data())
def test_truncation_anywhere(size: int, data: st.DataObject) -> None:
    sealed = _seal(size)
    cut = data.draw(st.integers(0, len(sealed.ciphertext) - 1), label="cut")
    _check_truncation(sealed, cut, data.draw(st.sampled_from([1, 2]), label="workers"))


def test_one_byte_short_of_a_full_last_chunk() -> None:
    sealed = _seal(2 * CHUNK)
    released, err = _decrypt(sealed.ciphertext[:-1], [sealed.identity])
    _assert_payload_error(released, err, sealed.plaintext, 1, {PayloadFailure.TAMPERED})


# ---------------------------------------------------------------- trailing data


@pytest.mark.parametrize("extra", [b"\x00", b"x" * TAG, _bytes(ENC_CHUNK + 3)])
@pytest.mark.parametrize("size", [CHUNK, 2 * CHUNK, TASK_CHUNKS * CHUNK])
def test_trailing_data_after_full_last_chunk(size: int, extra: bytes) -> None:
    sealed = _seal(size)
    for workers in (1, 2):
        released, err = _decrypt(sealed.ciphertext + extra, [sealed.identity], workers=workers)
        assert isinstance(err, PayloadError), repr(err)
        assert err.reason is PayloadFailure.TRAILING_DATA
        assert err.chunk == size // CHUNK
        assert released == sealed.plaintext  # every chunk was authentic; the extra was not


@pytest.mark.parametrize("extra", [b"\x00", b"x" * TAG, _bytes(ENC_CHUNK + 3)])
@pytest.mark.parametrize("size", [0, 1, CHUNK + 1])
def test_trailing_data_after_short_last_chunk(size: int, extra: bytes) -> None:
    """Appended bytes merge into a short last chunk, which then fails to authenticate."""
    sealed = _seal(size)
    released, err = _decrypt(sealed.ciphertext + extra, [sealed.identity])
    last = _chunk_count(size) - 1
    _assert_payload_error(released, err, sealed.plaintext, last, {PayloadFailure.TAMPERED})


def test_trailing_garbage_after_armor() -> None:
    identity = age.X25519Identity.generate()
    ciphertext = _encrypt(b"hello", [identity.recipient], armor=True)
    assert _decrypt(ciphertext + b"\n \t\n", [identity]) == (b"hello", None)
    released, err = _decrypt(ciphertext + b"trailing\n", [identity])
    assert isinstance(err, ArmorError), repr(err)
    assert released in (b"", b"hello")


def test_armor_damaged_late_releases_only_whole_authentic_chunks() -> None:
    identity = age.X25519Identity.generate()
    plaintext = _bytes(5 * CHUNK + 77)
    lines = _encrypt(plaintext, [identity.recipient], armor=True).split(b"\n")
    broken = len(lines) * 3 // 4
    header = _header_length(ArmorReader(io.BytesIO(b"\n".join(lines))).read())
    lines[broken] = b"!" + lines[broken][1:]
    released, err = _decrypt(b"\n".join(lines), [identity])
    assert isinstance(err, ArmorError), repr(err)
    # Line i (after BEGIN) holds binary bytes [48 (i - 1), 48 i): the chunks wholly
    # before the broken line are released, nothing from or after it.
    before = (broken - 1) * 48 - header - NONCE
    assert before // ENC_CHUNK >= 2
    assert released == plaintext[: before // ENC_CHUNK * CHUNK]
