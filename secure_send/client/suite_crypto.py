"""A drop's blobs in its cipher suite: age v1 (X25519, ChaCha20-Poly1305) or CMS
AuthEnvelopedData (ECDH P-256, AES-256-GCM), issue 21.

The send and receive paths speak to one small interface and never to a suite:

- :func:`send_keys` turns the drop's recipient persons into the keys of its suite —
  every active device's X25519 key for age, every active device's P-256 key for CMS
  (a device without one stops the send, :class:`SuiteUnavailable`, before anything is
  written or uploaded);
- :class:`BlobCipher` is one file's fresh key and header: ``encrypt`` makes the same
  ciphertext every time (the send measures, then encrypts again while uploading:
  :mod:`.blob_source`), ``recorder``/``check`` record and check what proves each
  re-made piece is the measured one (age's chunk tags, :mod:`.chunk_tags`; CMS's unit
  digests, :mod:`.cipher_units`), ``record`` is what a resume file keeps of it (the
  secret key sealed with age to this device's own X25519 key, as before issue 21);
- :func:`decrypt_stream` / :func:`decrypt_small` open a blob of either suite with this
  device's keys: a recipient accepts both suites whatever its own policy says.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from secure_send.client.chunk_tags import TagCheck, TagRecorder
from secure_send.client.cipher_units import UnitCheck, UnitRecorder
from secure_send.client.errors import ClientError
from secure_send.core.age import api as age
from secure_send.core.age.x25519 import X25519Identity, X25519Recipient
from secure_send.core.cms import authenveloped as cms
from secure_send.core.cms import kari
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.directory.model import Entry
from secure_send.core.encoding import b64u, unb64u
from secure_send.core.envelope.manifest import AGE_SUITE, CMS_SUITE
from secure_send.core.error_codes import ErrorCode

Observe = Callable[[memoryview], object]


class Sink(Protocol):
    """Where an encryptor writes (a file, a hashing sink, an upload's reader)."""

    def write(self, data: bytes | memoryview, /) -> int: ...


class Recorder(Protocol):
    """Records what proves each piece of a ciphertext while it is measured."""

    def feed(self, data: bytes | memoryview) -> None: ...

    def tags(self) -> bytes: ...


class Check(Protocol):
    """Checks a re-made ciphertext against what was recorded (see :mod:`.chunk_tags`)."""

    def feed(self, data: bytes | memoryview) -> int: ...


class BlobCipher(Protocol):
    """One blob's key and header in its suite."""

    @property
    def suite(self) -> str: ...

    @property
    def header(self) -> bytes: ...

    def encrypt(self, src: BinaryIO, dst: Sink) -> None: ...

    def recorder(self) -> Recorder: ...

    def check(self, expected: bytes, size: int) -> Check: ...

    def record(self, own: X25519Recipient) -> dict[str, Any]: ...


@dataclass(frozen=True, repr=False)
class AgeCipher:
    """An age v1 file to be made (file key, header and nonce)."""

    prepared: age.Prepared
    suite: str = AGE_SUITE

    @property
    def header(self) -> bytes:
        return self.prepared.header

    def encrypt(self, src: BinaryIO, dst: Sink) -> None:
        age.encrypt_prepared(self.prepared, src, dst)

    def recorder(self) -> Recorder:
        return TagRecorder(len(self.prepared.header))

    def check(self, expected: bytes, size: int) -> Check:
        return TagCheck(expected, len(self.prepared.header), size)

    def record(self, own: X25519Recipient) -> dict[str, Any]:
        return {
            "suite": AGE_SUITE,
            "header": b64u(self.prepared.header),
            "key": b64u(seal(self.prepared.file_key, own)),
        }


@dataclass(frozen=True, repr=False)
class CmsCipher:
    """A CMS AuthEnvelopedData message to be made (content key, nonce and header)."""

    prepared: cms.Prepared
    suite: str = CMS_SUITE

    @property
    def header(self) -> bytes:
        return self.prepared.header

    def encrypt(self, src: BinaryIO, dst: Sink) -> None:
        cms.encrypt_prepared(self.prepared, src, dst)

    def recorder(self) -> Recorder:
        return UnitRecorder()

    def check(self, expected: bytes, size: int) -> Check:
        return UnitCheck(expected, size)

    def record(self, own: X25519Recipient) -> dict[str, Any]:
        return {
            "suite": CMS_SUITE,
            "header": b64u(self.prepared.header),
            "nonce": b64u(self.prepared.nonce),
            "key": b64u(seal(self.prepared.cek, own)),
        }


class SuiteUnavailable(ClientError):
    """Policy asks for the CMS suite, but some device to encrypt to has no P-256 key.
    ``recipient`` names the persons (display name and id) for the app's sentence;
    ``what`` is what was stopped (a send, or a file request's text)."""

    def __init__(self, people: Sequence[Entry], what: str = "send") -> None:
        self.people = tuple(p.id for p in people)
        self.recipient = ", ".join(f"{p.name_ja or p.name_en or p.id} ({p.id})" for p in people)
        done = "sent" if what == "send" else "created"
        super().__init__(
            ErrorCode.SUITE_UNAVAILABLE,
            f"this {what} must use the CRYPTREC suite ({CMS_SUITE}), but a device of "
            f"{self.recipient} has no P-256 key yet; nothing was {done}",
        )


@dataclass(frozen=True)
class SendKeys:
    """The keys every blob of one drop is encrypted to, in the drop's suite."""

    suite: str
    x25519: tuple[X25519Recipient, ...] = ()
    p256: tuple[cms.Recipient, ...] = ()

    def prepare(self) -> BlobCipher:
        """A fresh key and header for one blob."""
        if self.suite == CMS_SUITE:
            return CmsCipher(cms.prepare(list(self.p256)))
        return AgeCipher(age.prepare(list(self.x25519)))

    def encrypt_small(self, data: bytes) -> bytes:
        """``data`` encrypted in memory (the metadata blob: names, sizes, a message)."""
        out = io.BytesIO()
        self.prepare().encrypt(io.BytesIO(data), out)
        return out.getvalue()


def send_keys(suite: str, people: Sequence[Entry]) -> SendKeys:
    """The keys of every active device of ``people`` in ``suite``; raises
    :class:`SuiteUnavailable` naming every person with a device lacking a P-256 key."""
    devices = [(p, d) for p in people for d in p.active_devices()]
    if suite == AGE_SUITE:
        return SendKeys(suite, x25519=tuple(X25519Recipient(d.enc_key) for _, d in devices))
    if suite != CMS_SUITE:
        raise ValueError(f"unknown suite {suite!r}")
    lacking: dict[str, Entry] = {}
    for person, device in devices:
        if not device.has_p256:
            lacking.setdefault(person.id, person)
    if lacking:
        raise SuiteUnavailable(list(lacking.values()))
    points = [d.p256_key for _, d in devices if d.p256_key is not None]  # all, checked above
    p256 = tuple((cms.subject_key_id(p), kari.load_point(p)) for p in points)
    return SendKeys(suite, p256=p256)


def seal(secret: bytes, own: X25519Recipient) -> bytes:
    """``secret`` (a blob's key) readable only with this device's X25519 key."""
    out = io.BytesIO()
    age.encrypt(io.BytesIO(secret), out, [own])
    return out.getvalue()


def _unseal(sealed: bytes, keys: DeviceKeys) -> bytes:
    out = io.BytesIO()
    age.decrypt(io.BytesIO(sealed), out, [X25519Identity(bytes(keys.encryption))])
    return out.getvalue()


def cipher_from_record(record: dict[str, Any], keys: DeviceKeys) -> BlobCipher:
    """The cipher a resume record keeps (a record without ``suite``, from before issue
    21, is age). Raises KeyError/ValueError for a broken record, a SecureSendError if
    the sealed key does not open with this device's key."""
    suite = record.get("suite", AGE_SUITE)
    header = unb64u(record["header"])
    key = _unseal(unb64u(record["key"]), keys)
    if suite == AGE_SUITE:
        return AgeCipher(age.Prepared(key, header))
    if suite == CMS_SUITE:
        nonce = unb64u(record["nonce"])
        # The nonce is kept twice: alone, and inside the header's GCM parameters. A record
        # where they differ is corrupt, and would encrypt under the same content key with
        # another nonce than the one measured (and named to recipients). The unit digests
        # would stop that at the first piece, but as "file changed" and only after making
        # the ciphertext: refuse the record instead (red team, issue 21).
        if len(nonce) != cms.NONCE_LEN or not header.endswith(cms.header_end(nonce)):
            raise ValueError("a resume record's nonce is not its header's")
        return CmsCipher(cms.Prepared(key, nonce, header))
    raise ValueError("unknown suite in a resume record")


def no_p256() -> ClientError:
    """This device cannot open a CMS drop (enrolled before P-256 keys, key not added yet)."""
    return ClientError(
        ErrorCode.SUITE_UNAVAILABLE,
        f"this drop is in the CRYPTREC suite ({CMS_SUITE}) and this device has no P-256 key "
        "yet; restart the app so it adds one, then open the drop again",
    )


def decrypt_stream(
    suite: str, src: Any, dst: Any, keys: DeviceKeys, observe: Observe | None = None
) -> None:
    """Decrypt one blob of ``suite`` from ``src`` into ``dst`` (untrusted until this
    returns: the caller keeps it hidden), passing every byte read to ``observe``."""
    if suite == AGE_SUITE:
        age.decrypt(src, dst, [X25519Identity(bytes(keys.encryption))], observe=observe)
        return
    if suite != CMS_SUITE:
        raise ValueError(f"unknown suite {suite!r}")
    point = keys.p256_public()
    if keys.p256 is None or point is None:
        raise no_p256()
    reader: Any = _Observed(src, observe) if observe is not None else src
    cms.decrypt(reader, dst, keys.p256, cms.subject_key_id(point))


def decrypt_small(suite: str, data: bytes, keys: DeviceKeys) -> bytes:
    """A small blob of ``suite`` decrypted in memory (its tag verified)."""
    out = io.BytesIO()
    decrypt_stream(suite, io.BytesIO(data), out, keys)
    return out.getvalue()


class _Observed:
    """A reader passing every byte it hands out to ``observe``, once, in order (the
    receiver hashes the download this way, as age's ``observe=`` does)."""

    def __init__(self, src: Any, observe: Observe) -> None:
        self._src = src
        self._observe = observe

    def read(self, n: int = -1, /) -> bytes:
        data = bytes(self._src.read(n))
        if data:
            self._observe(memoryview(data))
        return data
