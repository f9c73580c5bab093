"""Encrypt and decrypt age v1 files between binary streams.

Memory use is constant (a few MiB) whatever the file size. Decryption writes
each chunk only after it authenticated; on any error the caller must discard
what was written (``secure_send.core.atomic.AtomicOutput`` does that for files).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import BinaryIO, NamedTuple, Protocol

from secure_send.core.age import header as hdr
from secure_send.core.age.armor import ArmorReader, ArmorWriter, looks_armored
from secure_send.core.age.kdf import hkdf_sha256
from secure_send.core.age.source import Observe, Readable, Source, Writable
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


class Prepared(NamedTuple):
    """A file key and the header (with the payload nonce) of one age file to be made.

    :func:`encrypt_prepared` turns the same plaintext into byte-identical ciphertext
    every time under the same ``Prepared`` (the payload is a deterministic function
    of key, nonce and plaintext), so a sender can hash the ciphertext first and
    produce it again while uploading, instead of keeping a copy on disk.
    ``file_key`` is secret; the header is not.
    """

    file_key: bytes
    header: bytes  # the encoded header followed by the 16-byte payload nonce

    def __repr__(self) -> str:  # never the key
        return f"Prepared(header={len(self.header)} bytes)"


def prepare(recipients: Sequence[Recipient]) -> Prepared:
    """A fresh random file key and nonce, wrapped to every recipient.

    Raises:
        ValueError: no recipients were given (a programming error, not user input).
    """
    if not recipients:
        raise ValueError("encrypt needs at least one recipient")
    file_key = os.urandom(FILE_KEY_SIZE)
    stanzas = [r.wrap(file_key) for r in recipients]
    mac = hdr.compute_mac(_mac_key(file_key), stanzas)
    return Prepared(file_key, hdr.encode_header(stanzas, mac) + os.urandom(NONCE_SIZE))


def encrypt_prepared(
    prepared: Prepared, src: BinaryIO | Readable, dst: Writable, *, workers: int | None = None
) -> None:
    """Write the binary age file of ``src`` under ``prepared`` to ``dst``."""
    dst.write(prepared.header)
    nonce = prepared.header[-NONCE_SIZE:]
    key = _payload_key(prepared.file_key, nonce)
    encrypt_payload(key, Source(src), dst.write, workers or default_workers())


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
    prepared = prepare(recipients)
    out: Writable = ArmorWriter(dst) if armor else dst
    encrypt_prepared(prepared, src, out, workers=workers)
    if isinstance(out, ArmorWriter):
        out.close()


def decrypt(
    src: BinaryIO | Readable,
    dst: Writable,
    identities: Sequence[Identity],
    *,
    armor: bool | None = None,
    workers: int | None = None,
    observe: Observe | None = None,
) -> None:
    """Decrypt an age v1 file from ``src`` into ``dst``.

    Args:
        armor: ``True``/``False`` to require or forbid armor; ``None`` detects it.
        observe: called with every byte taken from ``src`` (armor included), in order,
            once each, before this returns; most of them on another thread while the
            payload is decrypted (a receiver hashes the download this way, off the
            download's path). The memoryview is valid only during the call.

    Raises:
        ArmorError, HeaderError, NoIdentityMatchError, HeaderMacError, PayloadError:
            in that order of checking. After a ``PayloadError`` (or a late
            ``ArmorError``) ``dst`` holds authentic but incomplete plaintext.
    """
    source = Source(src, observe=observe)
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
