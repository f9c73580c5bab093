"""Shared helpers for the age tests: sealing, decrypting and checking failures."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

from hypothesis import HealthCheck, settings

from secure_send.core import age
from secure_send.core.errors import (
    AgeError,
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
