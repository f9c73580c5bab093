"""Ciphertext made on the fly for uploads: identical to the measured bytes, from any
offset, stoppable, and failing loudly when the plaintext cannot be read."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path

import pytest

from secure_send.client.blob_source import EncryptingSource, FileSource, measure
from secure_send.core.age.api import encrypt_prepared, prepare
from secure_send.core.age.x25519 import X25519Identity

SIZE = 3 * 1024 * 1024 + 17


def _source(tmp_path: Path) -> tuple[EncryptingSource, bytes]:
    plain = tmp_path / "plain.bin"
    plain.write_bytes(os.urandom(SIZE))
    identity = X25519Identity.generate()
    prepared = prepare([identity.recipient])
    out = io.BytesIO()
    encrypt_prepared(prepared, io.BytesIO(plain.read_bytes()), out)
    return EncryptingSource(prepared, plain), out.getvalue()


def _read_all(reader: object, step: int) -> bytes:
    parts = []
    while chunk := reader.read(step):  # type: ignore[attr-defined]
        parts.append(chunk)
    reader.close()  # type: ignore[attr-defined]
    return b"".join(parts)


@pytest.mark.parametrize("offset", [0, 1, 65_552, 1_000_000])
def test_the_same_ciphertext_from_any_offset(tmp_path: Path, offset: int) -> None:
    source, ciphertext = _source(tmp_path)
    assert measure(source.prepared, source.plaintext) == (
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
