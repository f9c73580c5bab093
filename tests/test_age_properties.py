"""Property, tamper and truncation tests for the age v1 implementation.

Expected outcomes are derived from the file layout (C2SP age spec) by small
oracles written here, independent of the product's parser: which error class a
change must cause, which STREAM chunk fails, and exactly which plaintext may
have been released before the failure (only the authentic chunks before it).
"""

from __future__ import annotations

import base64
import binascii
import io
import random
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secure_send.core import age
from secure_send.core.age import bech32
from secure_send.core.age.armor import ArmorReader, ArmorWriter
from secure_send.core.age.source import Source
from secure_send.core.age.stream import encrypt_payload
from secure_send.core.errors import (
    AgeError,
    ArmorError,
    HeaderError,
    HeaderMacError,
    KeyFormatError,
    NoIdentityMatchError,
    PayloadError,
    PayloadFailure,
)

CHUNK = 64 * 1024
TAG = 16
ENC_CHUNK = CHUNK + TAG
NONCE = 16
TASK_CHUNKS = 16  # the STREAM pool hands out 16 chunks per task: test across that border
SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------- helpers


def _bytes(size: int, seed: int = 0) -> bytes:
    return random.Random(seed * 1_000_003 + size).randbytes(size)  # noqa: S311 - test data


def _encrypt(
    plaintext: bytes,
    recipients: list[age.X25519Recipient],
    *,
    armor: bool = False,
    workers: int | None = None,
) -> bytes:
    out = io.BytesIO()
    age.encrypt(io.BytesIO(plaintext), out, recipients, armor=armor, workers=workers)
    return out.getvalue()


def _decrypt(
    ciphertext: bytes,
    identities: list[age.X25519Identity],
    *,
    workers: int | None = None,
    armor: bool | None = None,
) -> tuple[bytes, AgeError | None]:
    """Everything released, and the error raised (if any)."""
    out = io.BytesIO()
    try:
        age.decrypt(io.BytesIO(ciphertext), out, identities, armor=armor, workers=workers)
    except AgeError as err:
        return out.getvalue(), err
    return out.getvalue(), None


def _chunk_count(size: int) -> int:
    return max(1, -(-size // CHUNK))


def _header_length(ciphertext: bytes) -> int:
    """Bytes up to and including the ``--- MAC`` line (found without the product's parser)."""
    pos = 0
    while True:
        end = ciphertext.index(b"\n", pos) + 1
        if ciphertext.startswith(b"--- ", pos):
            return end
        pos = end


@dataclass(frozen=True)
class Sealed:
    plaintext: bytes
    ciphertext: bytes
    identity: age.X25519Identity

    @property
    def payload_start(self) -> int:
        return _header_length(self.ciphertext) + NONCE


def _seal(size: int, *, seed: int = 0) -> Sealed:
    identity = age.X25519Identity.generate()
    plaintext = _bytes(size, seed)
    return Sealed(plaintext, _encrypt(plaintext, [identity.recipient]), identity)


def _assert_payload_error(
    released: bytes,
    err: AgeError | None,
    plaintext: bytes,
    chunk: int,
    reasons: set[PayloadFailure],
) -> None:
    assert isinstance(err, PayloadError), repr(err)
    assert err.reason in reasons
    assert err.chunk == chunk
    # The STREAM guarantee: exactly the authentic chunks before the failing one.
    assert released == plaintext[: chunk * CHUNK]


# ---------------------------------------------------------------- round trips

chunk_edges = st.builds(
    lambda k, d: max(0, k * CHUNK + d), st.integers(0, 3), st.sampled_from([-1, 0, 1])
)
task_edges = st.builds(lambda d: TASK_CHUNKS * CHUNK + d, st.sampled_from([-1, 0, 1, CHUNK]))
sizes = st.one_of(st.integers(0, 200), chunk_edges, task_edges, st.integers(0, 3 * CHUNK + 7))


@SETTINGS
@given(
    size=sizes,
    seed=st.integers(0, 2**16),
    armor=st.booleans(),
    count=st.integers(1, 5),
    workers=st.sampled_from([1, 2]),
    data=st.data(),
)
def test_round_trip(
    size: int, seed: int, armor: bool, count: int, workers: int, data: st.DataObject
) -> None:
    plaintext = _bytes(size, seed)
    identities = [age.X25519Identity.generate() for _ in range(count)]
    ciphertext = _encrypt(
        plaintext, [i.recipient for i in identities], armor=armor, workers=workers
    )
    opener = data.draw(st.sampled_from(identities), label="opener")
    stranger = age.X25519Identity.generate()
    dec_workers = data.draw(st.sampled_from([1, 2]), label="decrypt workers")
    released, err = _decrypt(ciphertext, [stranger, opener], workers=dec_workers)
    assert err is None
    assert released == plaintext
    binary = ArmorReader(io.BytesIO(ciphertext)).read() if armor else ciphertext
    if armor:
        assert ciphertext.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----\n")
    # Layout: header, 16-byte nonce, then one 16-byte tag per 64 KiB chunk (at least one).
    assert binary.startswith(b"age-encryption.org/v1\n")
    assert binary.count(b"\n-> X25519 ", 0, _header_length(binary)) == count
    payload = len(binary) - _header_length(binary) - NONCE
    assert payload == size + TAG * _chunk_count(size)


@SETTINGS
@given(plaintext=st.binary(max_size=4096), armor=st.booleans())
def test_round_trip_small_arbitrary(plaintext: bytes, armor: bool) -> None:
    identity = age.X25519Identity.generate()
    ciphertext = _encrypt(plaintext, [identity.recipient], armor=armor)
    assert _decrypt(ciphertext, [identity], armor=armor) == (plaintext, None)
    if not armor and len(plaintext) >= 16:  # the payload carries no plaintext in the clear
        assert plaintext not in ciphertext[_header_length(ciphertext) :]


@SETTINGS
@given(size=sizes, seed=st.integers(0, 2**16))
def test_stream_output_independent_of_workers(size: int, seed: int) -> None:
    key = _bytes(32, seed)
    plaintext = _bytes(size, seed)
    outputs = []
    for workers in (1, 2, 4):
        out = io.BytesIO()
        encrypt_payload(key, Source(io.BytesIO(plaintext)), out.write, workers)
        outputs.append(out.getvalue())
    assert outputs[0] == outputs[1] == outputs[2]
    assert len(outputs[0]) == size + TAG * _chunk_count(size)


def test_fresh_share_mac_and_nonce_every_time() -> None:
    identity = age.X25519Identity.generate()
    first = _encrypt(b"same", [identity.recipient])
    second = _encrypt(b"same", [identity.recipient])
    one, two = _header_length(first), _header_length(second)
    assert one == two
    first_lines, second_lines = first[:one].split(b"\n"), second[:two].split(b"\n")
    for line in (1, 2, 3):  # ephemeral share, wrapped file key, header MAC
        assert first_lines[line] != second_lines[line]
    assert first[one : one + NONCE] != second[two : two + NONCE]
    assert first[one + NONCE :] != second[two + NONCE :]


def test_encrypt_needs_a_recipient() -> None:
    with pytest.raises(ValueError, match="recipient"):
        _encrypt(b"x", [])


def test_wrong_identity() -> None:
    sealed = _seal(1000)
    others = [age.X25519Identity.generate() for _ in range(3)]
    released, err = _decrypt(sealed.ciphertext, others)
    assert isinstance(err, NoIdentityMatchError)
    assert released == b""
    released, err = _decrypt(sealed.ciphertext, [])
    assert isinstance(err, NoIdentityMatchError)
    assert released == b""


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


# ---------------------------------------------------------------- identity files


def test_identity_file_with_comments_and_blank_lines() -> None:
    first, second = age.X25519Identity.generate(), age.X25519Identity.generate()
    text = (
        "# created: 2024-01-01T00:00:00Z\r\n"
        f"# public key: {first.recipient}\r\n"
        "\n"
        f"{first.secret_string()}\n"
        "   \n"
        "  # indented comment\n"
        f"  {second.secret_string()}  \n"
    )
    parsed = age.parse_identity_file(text)
    assert [p.recipient for p in parsed] == [first.recipient, second.recipient]


def test_identity_file_round_trip() -> None:
    identity = age.X25519Identity.generate()
    text = age.format_identity_file(identity)
    lines = text.splitlines()
    assert lines[0].startswith("# created: ")
    assert lines[1] == f"# public key: {identity.recipient}"
    assert lines[2] == identity.secret_string()
    assert len(lines) == 3
    (parsed,) = age.parse_identity_file(text)
    assert parsed.recipient == identity.recipient
    assert parsed.secret_string() == identity.secret_string()


def _corruptions(secret: str) -> list[str]:
    swapped = "Q" if secret[-1] != "Q" else "P"
    letter = next(i for i in range(16, len(secret)) if secret[i].isalpha())
    return [
        secret[:-1] + swapped,  # bad checksum
        secret.lower(),  # identities are uppercase
        secret[:30],  # cut short
        secret + "QQ",  # too long
        secret[:letter] + secret[letter].lower() + secret[letter + 1 :],  # mixed case
        "AGE-PLUGIN-FOO-" + secret[15:],  # another kind of identity
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI secret-looking comment",
    ]


@pytest.mark.parametrize("which", range(7))
def test_malformed_identity_line_number_without_text(which: int) -> None:
    good = age.X25519Identity.generate()
    bad = _corruptions(age.X25519Identity.generate().secret_string())[which]
    text = f"# comment\n\n{good.secret_string()}\n# another\n{bad}\n"
    with pytest.raises(KeyFormatError) as info:
        age.parse_identity_file(text)
    message = f"{info.value} {info.value!r}"
    assert "line 5" in message
    for secret in (bad, bad.strip()[15:45], good.secret_string(), good.secret_string()[15:45]):
        assert secret not in message
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "  \n# x\n"])
def test_identity_file_without_identities(text: str) -> None:
    with pytest.raises(KeyFormatError, match="no identities"):
        age.parse_identity_file(text)


def test_identity_repr_hides_the_secret() -> None:
    identity = age.X25519Identity.generate()
    secret = identity.secret_string()
    assert secret not in repr(identity)
    assert secret[15:40] not in repr(identity)
    assert str(identity.recipient) in repr(identity)


# ---------------------------------------------------------------- Bech32 and key strings

# BIP 173 test vectors (valid ones, and invalid ones that age must also refuse).
BIP173_VALID = [
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
]
BIP173_INVALID = [
    "pzry9x0s0muk",  # no separator
    "1pzry9x0s0muk",  # empty prefix
    "x1b4n0q5v",  # 'b' is not a data character
    "li1dgmt3",  # checksum too short
    "A1G7SGD8",  # checksum computed over the uppercase prefix
    "10a06t8",  # empty prefix
    "1qzzfhee",  # empty prefix
    "de1lg7wt\xff",  # invalid character
    "\x201nwldj5",  # prefix character out of range
    "\x7f1axkwrx",  # prefix character out of range
]


@pytest.mark.parametrize("text", BIP173_VALID)
def test_bech32_bip173_valid(text: str) -> None:
    hrp, data = bech32.decode(text)
    assert hrp == text[: text.rfind("1")].lower()
    again = bech32.encode(hrp.upper() if text.isupper() else hrp, data)
    assert again == text


def test_bech32_bip173_known_data() -> None:
    assert bech32.decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw") == (
        "abcdef",
        bytes.fromhex("00443214c74254b635cf84653a56d7c675be77df"),
    )


@pytest.mark.parametrize("text", BIP173_INVALID)
def test_bech32_bip173_invalid(text: str) -> None:
    with pytest.raises(KeyFormatError):
        bech32.decode(text)


# At least one letter, so that the case of the prefix decides the case of the string.
hrps = st.builds(
    str.__add__,
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=5),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", max_size=15),
)


@SETTINGS
@given(hrp=hrps, data=st.binary(max_size=80), upper=st.booleans())
def test_bech32_round_trip(hrp: str, data: bytes, upper: bool) -> None:
    text = bech32.encode(hrp.upper() if upper else hrp, data)
    assert text == (text.upper() if upper else text.lower())
    assert bech32.decode(text) == (hrp, data)


@SETTINGS
@given(hrp=hrps, data=st.binary(min_size=1, max_size=40), pick=st.data())
def test_bech32_rejects_one_substituted_character(
    hrp: str, data: bytes, pick: st.DataObject
) -> None:
    text = bech32.encode(hrp, data)
    pos = pick.draw(st.integers(text.rfind("1") + 1, len(text) - 1), label="position")
    other = pick.draw(
        st.sampled_from([c for c in "qpzry9x8gf2tvdw0s3jn54khce6mua7l" if c != text[pos]]),
        label="replacement",
    )
    with pytest.raises(KeyFormatError):
        bech32.decode(text[:pos] + other + text[pos + 1 :])


@SETTINGS
@given(key=st.binary(min_size=32, max_size=32), pick=st.data())
def test_bech32_rejects_mixed_case(key: bytes, pick: st.DataObject) -> None:
    text = str(age.X25519Recipient(key))
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    pos = pick.draw(st.sampled_from(letters), label="position")
    mixed = text[:pos] + text[pos].upper() + text[pos + 1 :]
    with pytest.raises(KeyFormatError):
        bech32.decode(mixed)
    with pytest.raises(KeyFormatError):
        age.X25519Recipient.parse(mixed)
    assert bech32.decode(text.upper())[1] == key  # one case throughout is fine for Bech32


@SETTINGS
@given(key=st.binary(min_size=32, max_size=32))
def test_recipient_string_round_trip(key: bytes) -> None:
    recipient = age.X25519Recipient(key)
    text = str(recipient)
    assert text.startswith("age1")
    assert len(text) == 62
    assert text == text.lower()
    parsed = age.X25519Recipient.parse(text)
    assert parsed == recipient
    assert parsed.public_key == key
    assert str(parsed) == text
    assert hash(parsed) == hash(recipient)
    with pytest.raises(KeyFormatError):
        age.X25519Recipient.parse(text.upper())  # recipients are lowercase


@SETTINGS
@given(secret=st.binary(min_size=32, max_size=32))
def test_identity_string_round_trip(secret: bytes) -> None:
    identity = age.X25519Identity(secret)
    text = identity.secret_string()
    assert text.startswith("AGE-SECRET-KEY-1")
    assert text == text.upper()
    parsed = age.X25519Identity.parse(text)
    assert parsed.secret_string() == text
    assert parsed.recipient == identity.recipient
    with pytest.raises(KeyFormatError):
        age.X25519Identity.parse(text.lower())  # identities are uppercase
    with pytest.raises(KeyFormatError):
        age.X25519Recipient.parse(text)  # a secret is not a recipient


@pytest.mark.parametrize(
    "text",
    [
        "",
        "age1",
        bech32.encode("age", bytes(31)),  # wrong length
        bech32.encode("age", bytes(33)),
        bech32.encode("agf", bytes(32)),  # another prefix
        bech32.encode("AGE-SECRET-KEY-", bytes(32)),
    ],
)
def test_recipient_parse_rejects(text: str) -> None:
    with pytest.raises(KeyFormatError):
        age.X25519Recipient.parse(text)
