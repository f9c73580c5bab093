"""Ciphertext made on the fly for uploads: identical to the measured bytes, from any
offset, stoppable, and failing loudly when the plaintext cannot be read — in both
suites (age: chunk tags; CMS: unit digests, issue 21)."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from secure_send.client.blob_source import EncryptingSource, FileSource, measure
from secure_send.client.errors import ClientError
from secure_send.client.suite_crypto import AgeCipher, BlobCipher, CmsCipher
from secure_send.core.age.api import encrypt_prepared, prepare
from secure_send.core.age.stream import ENCRYPTED_CHUNK_SIZE
from secure_send.core.age.x25519 import X25519Identity
from secure_send.core.cms import authenveloped as cms
from secure_send.core.cms import der
from secure_send.core.directory.enrol import p256_point
from secure_send.core.envelope.manifest import AGE_SUITE, CMS_SUITE

SIZE = 3 * 1024 * 1024 + 17
SUITES = [AGE_SUITE, CMS_SUITE]
# where the third chunk (age) or content piece (CMS) starts, after the header
PIECE_BYTES = {AGE_SUITE: ENCRYPTED_CHUNK_SIZE, CMS_SUITE: len(der.octets(bytes(cms.PIECE)))}


def _cipher(suite: str) -> BlobCipher:
    if suite == AGE_SUITE:
        return AgeCipher(prepare([X25519Identity.generate().recipient]))
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return CmsCipher(cms.prepare([(cms.subject_key_id(p256_point(key)), key)]))


def _source(tmp_path: Path, suite: str = AGE_SUITE) -> tuple[EncryptingSource, bytes]:
    plain = tmp_path / "plain.bin"
    plain.write_bytes(os.urandom(SIZE))
    cipher = _cipher(suite)
    out = io.BytesIO()
    cipher.encrypt(io.BytesIO(plain.read_bytes()), out)
    return EncryptingSource(cipher, plain, measure(cipher, plain)), out.getvalue()


def _read_all(reader: object, step: int) -> bytes:
    parts = []
    while chunk := reader.read(step):  # type: ignore[attr-defined]
        parts.append(chunk)
    reader.close()  # type: ignore[attr-defined]
    return b"".join(parts)


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("offset", [0, 1, 65_552, 1_000_000])
def test_the_same_ciphertext_from_any_offset(tmp_path: Path, offset: int, suite: str) -> None:
    source, ciphertext = _source(tmp_path, suite)
    measured = measure(source.cipher, source.plaintext)
    assert (measured.sha256, measured.size) == (
        hashlib.sha256(ciphertext).digest(),
        len(ciphertext),
    )
    assert _read_all(source.open(offset), 1 << 20) == ciphertext[offset:]
    assert source.sha256_from(offset) == hashlib.sha256(ciphertext[offset:]).digest()


def test_closing_early_stops_the_encrypting_thread(tmp_path: Path) -> None:
    source, ciphertext = _source(tmp_path)
    before = threading.active_count()
    reader = source.open(0)
    first = reader.read(1000)
    assert first
    assert ciphertext.startswith(first)
    reader.close()
    assert threading.active_count() <= before


def test_an_unreadable_plaintext_is_an_error_not_a_short_file(tmp_path: Path) -> None:
    source, _ = _source(tmp_path)
    source.plaintext.unlink()
    reader = source.open(0)
    with pytest.raises(FileNotFoundError):
        _read_all(reader, 1 << 20)


def test_file_source(tmp_path: Path) -> None:
    path = tmp_path / "m"
    path.write_bytes(b"0123456789")
    source = FileSource(path)
    assert _read_all(source.open(3), 4) == b"3456789"
    assert source.sha256_from(3) == hashlib.sha256(b"3456789").digest()


# ------------------------------------------------- keystream reuse (issue 14, item 2)


def _edit_in_place(path: Path, at: int, data: bytes) -> None:
    """Change bytes of ``path`` keeping its size and modification time (an edit a
    size/mtime check cannot see)."""
    stat = path.stat()
    with path.open("r+b") as f:
        f.seek(at)
        f.write(data)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("step", [1 << 20, 1000])
def test_a_changed_chunk_is_never_encrypted_out(tmp_path: Path, step: int, suite: str) -> None:
    """The plaintext is edited after measuring: the reader hands out the ciphertext of
    the unchanged chunks before the edit, then refuses — no byte of the edited chunk
    (the same keystream over other plaintext) ever leaves it."""
    source, ciphertext = _source(tmp_path, suite)
    chunk = 2 * 65_536 + 100  # inside the third chunk (index 2)
    _edit_in_place(source.plaintext, chunk, b"edited")
    reader = source.open(0)
    out = bytearray()

    def read_all() -> None:
        while piece := reader.read(step):
            out.extend(piece)

    with pytest.raises(ClientError) as caught:
        read_all()
    reader.close()
    assert caught.value.code == "file_changed"
    first_changed = len(source.cipher.header) + 2 * PIECE_BYTES[suite]
    assert len(out) <= first_changed
    assert bytes(out) == ciphertext[: len(out)]  # all of it the measured ciphertext


@pytest.mark.parametrize("suite", SUITES)
def test_a_file_that_grew_is_refused(tmp_path: Path, suite: str) -> None:
    source, ciphertext = _source(tmp_path, suite)
    stat = source.plaintext.stat()
    with source.plaintext.open("ab") as f:
        f.write(b"more")
    os.utime(source.plaintext, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    reader = source.open(len(ciphertext) - 10)
    with pytest.raises(ClientError, match="changed"):
        _read_all(reader, 1 << 20)


@pytest.mark.parametrize("size", [0, 1, 65_536, 65_537, 3 * 65_536])
def test_the_tags_of_every_chunk_are_recorded(tmp_path: Path, size: int) -> None:
    plain = tmp_path / "plain.bin"
    plain.write_bytes(os.urandom(size))
    prepared = prepare([X25519Identity.generate().recipient])
    measured = measure(AgeCipher(prepared), plain)
    ciphertext = io.BytesIO()
    encrypt_prepared(prepared, io.BytesIO(plain.read_bytes()), ciphertext)
    payload = ciphertext.getvalue()[len(prepared.header) :]
    step = ENCRYPTED_CHUNK_SIZE
    chunks = [payload[i : i + step] for i in range(0, len(payload), step)]
    assert measured.tags == b"".join(c[-16:] for c in chunks)
    # and the same file read back from any offset passes the check
    source = EncryptingSource(AgeCipher(prepared), plain, measured)
    assert _read_all(source.open(0), 777) == ciphertext.getvalue()


@pytest.mark.parametrize("suite", SUITES)
def test_the_hash_of_a_resumed_upload_is_not_made_of_a_changed_file(
    tmp_path: Path, suite: str
) -> None:
    """issue 14 follow-up: a resumed upload (the server reports an offset > 0) sends
    the SHA-256 of the rest as its Content-Digest. That hash was made of the file as it
    is now, without the tag check: the server got a function of another plaintext under
    the same keystream (enough to confirm a guessed edit: it knows the first ciphertext).
    The edited chunk now stops it, as it stops the upload itself."""
    source, _ = _source(tmp_path, suite)
    _edit_in_place(source.plaintext, 2 * 65_536 + 100, b"edited")
    with pytest.raises(ClientError) as caught:
        source.sha256_from(1)
    assert caught.value.code == "file_changed"


# ------------------------------------------------------------ CMS units (issue 21)


@pytest.mark.parametrize("size", [0, 1, 65_535, 65_536, 65_537, 3 * 65_536])
def test_the_digest_of_every_cms_unit_is_recorded(tmp_path: Path, size: int) -> None:
    """One digest per write of the encryptor: header, each piece, the trailer."""
    plain = tmp_path / "plain.bin"
    plain.write_bytes(os.urandom(size))
    cipher = _cipher(CMS_SUITE)
    measured = measure(cipher, plain)
    pieces = -(-size // cms.PIECE)
    assert len(measured.tags) == 16 * (pieces + 2)
    assert measured.tags[:16] == hashlib.sha256(cipher.header).digest()[:16]
    ciphertext = io.BytesIO()
    cipher.encrypt(io.BytesIO(plain.read_bytes()), ciphertext)
    trailer = ciphertext.getvalue()[-(2 * 2 + 18 + 3 * 2) :]  # EOCs, the tag's TLV, EOCs
    assert measured.tags[-16:] == hashlib.sha256(trailer).digest()[:16]
    assert _read_all(EncryptingSource(cipher, plain, measured).open(0), 777) == (
        ciphertext.getvalue()
    )


def test_a_cms_trailer_over_a_changed_file_never_leaves(tmp_path: Path) -> None:
    """An edit in the last piece: every byte before that piece goes out, and neither
    the piece nor the trailer (its GCM tag over the other plaintext under the same
    key and nonce) does."""
    source, ciphertext = _source(tmp_path, CMS_SUITE)
    _edit_in_place(source.plaintext, SIZE - 3, b"x")
    reader = source.open(0)
    out = bytearray()

    def read_all() -> None:
        while piece := reader.read(1 << 20):
            out.extend(piece)

    with pytest.raises(ClientError) as caught:
        read_all()
    reader.close()
    assert caught.value.code == "file_changed"
    last_piece = len(source.cipher.header) + (SIZE // cms.PIECE) * PIECE_BYTES[CMS_SUITE]
    assert len(out) == last_piece
    assert bytes(out) == ciphertext[:last_piece]


def test_a_shortened_cms_file_is_refused(tmp_path: Path) -> None:
    """Cut at a piece boundary: the trailer comes where a piece was measured."""
    source, _ = _source(tmp_path, CMS_SUITE)
    stat = source.plaintext.stat()
    with source.plaintext.open("r+b") as f:
        f.truncate(2 * cms.PIECE)
    os.utime(source.plaintext, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(ClientError, match="changed"):
        _read_all(source.open(0), 1 << 20)
    with pytest.raises(ClientError, match="changed"):
        source.sha256_from(0)
