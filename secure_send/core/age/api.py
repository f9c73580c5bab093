"""Encrypt and decrypt age v1 files between binary streams.

Memory use is constant (a few MiB) whatever the file size. Decryption writes
each chunk only after it authenticated; on any error the caller must discard
what was written (``secure_send.core.atomic.AtomicOutput`` does that for files).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import BinaryIO, Protocol

from secure_send.core.age import header as hdr
from secure_send.core.age.armor import ArmorReader, ArmorWriter, looks_armored
from secure_send.core.age.kdf import hkdf_sha256
from secure_send.core.age.source import Readable, Source, Writable
from secure_send.core.age.stream import decrypt_payload, default_workers, encrypt_payload
from secure_send.core.errors import HeaderError, NoIdentityMatchError

FILE_KEY_SIZE = 16
NONCE_SIZE = 16


class Recipient(Protocol):
    """Anything that can wrap a file key into a stanza."""

    def wrap(self, file_key: bytes) -> hdr.Stanza: ...


class Identity(Protocol):
    """Anything that can find and unwrap its file key among the stanzas."""

    def unwrap(self, stanzas: Sequence[hdr.Stanza]) -> bytes | None: ...


def _mac_key(file_key: bytes) -> bytes:
    return hkdf_sha256(file_key, b"", b"header", 32)


def _payload_key(file_key: bytes, nonce: bytes) -> bytes:
    return hkdf_sha256(file_key, nonce, b"payload", 32)


def encrypt(
    src: BinaryIO | Readable,
    dst: Writable,
    recipients: Sequence[Recipient],
    *,
    armor: bool = False,
    workers: int | None = None,
) -> None:
    """Encrypt ``src`` to every recipient, writing an age v1 file to ``dst``.

    A fresh random file key and nonce are used every time. ``dst`` is not closed.

    Raises:
        ValueError: no recipients were given (a programming error, not user input).
    """
    if not recipients:
        raise ValueError("encrypt needs at least one recipient")
    file_key = os.urandom(FILE_KEY_SIZE)
    stanzas = [r.wrap(file_key) for r in recipients]
    mac = hdr.compute_mac(_mac_key(file_key), stanzas)
    nonce = os.urandom(NONCE_SIZE)
    out: Writable = ArmorWriter(dst) if armor else dst
    out.write(hdr.encode_header(stanzas, mac) + nonce)
    encrypt_payload(
        _payload_key(file_key, nonce), Source(src), out.write, workers or default_workers()
    )
    if isinstance(out, ArmorWriter):
        out.close()


def decrypt(
    src: BinaryIO | Readable,
    dst: Writable,
    identities: Sequence[Identity],
    *,
    armor: bool | None = None,
    workers: int | None = None,
) -> None:
    """Decrypt an age v1 file from ``src`` into ``dst``.

    Args:
        armor: ``True``/``False`` to require or forbid armor; ``None`` detects it.

    Raises:
        ArmorError, HeaderError, NoIdentityMatchError, HeaderMacError, PayloadError:
            in that order of checking. After a ``PayloadError`` (or a late
            ``ArmorError``) ``dst`` holds authentic but incomplete plaintext.
    """
    source = Source(src)
    if armor is None:
        armor = looks_armored(source)
    if armor:
        source = Source(ArmorReader(source), fails_midway=True)
    header = hdr.parse_header(source)
    file_key = None
    for identity in identities:
        file_key = identity.unwrap(header.stanzas)
        if file_key is not None:
            break
    if file_key is None:
        raise NoIdentityMatchError("no identity matched: the file was not encrypted to you")
    hdr.verify_mac(_mac_key(file_key), header)
    nonce = source.read(NONCE_SIZE)
    if len(nonce) != NONCE_SIZE:
        raise HeaderError("file ends before the payload nonce")
    decrypt_payload(_payload_key(file_key, nonce), source, dst.write, workers or default_workers())
