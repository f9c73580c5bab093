"""The overlapped STREAM pipeline: a reader thread ahead, workers, an observer thread.

What must hold whatever the threads do: the output is a single-threaded run's, the
observer sees every input byte exactly once and in order (a receiver hashes the
download with it), errors from the source surface unchanged, only authenticated
plaintext is released, and no thread is left behind once decrypt has returned.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable

import pytest

from secure_send.core import age
from secure_send.core.age.armor import ArmorWriter
from secure_send.core.errors import PayloadError, PayloadFailure
from tests.age_kit import CHUNK, ENC_CHUNK, TASK_CHUNKS, _bytes, _seal

TASK = TASK_CHUNKS * CHUNK
# one task (no threads), a task border, and enough tasks to reuse every buffer
SIZES = [0, 100, TASK - 1, TASK, TASK + 1, 2 * TASK + 5, 12 * TASK + 777]


class Trickle:
    """A source that hands out data in small, uneven pieces (a pipe, a socket)."""

    def __init__(self, data: bytes, piece: int = 4099) -> None:
        self._data = memoryview(data)
        self._piece = piece
        self.reads = 0

    def read(self, n: int = -1, /) -> bytes:
        self.reads += 1
        size = len(self._data) if n < 0 else min(n, self._piece)
        out, self._data = self._data[:size], self._data[size:]
        return bytes(out)


class Failing(Trickle):
    """Fails with an OSError once ``after`` bytes were read (a cut download)."""

    def __init__(self, data: bytes, after: int) -> None:
        super().__init__(data, piece=65536)
        self._left = after

    def read(self, n: int = -1, /) -> bytes:
        if self._left <= 0:
            raise OSError(104, "Connection reset by peer")
        out = super().read(min(n, self._left) if n >= 0 else self._left)
        self._left -= len(out)
        return out


def _observer() -> tuple[bytearray, Callable[[memoryview], object]]:
    seen = bytearray()

    def observe(view: memoryview) -> None:
        seen.extend(view)  # copied: the view is valid only during the call

    return seen, observe


def _no_stream_threads() -> bool:
    """Every pipeline thread ended (polled: they end right after decrypt returns)."""
    for _ in range(500):
        names = [t.name for t in threading.enumerate() if t.name.startswith("age-")]
        if not names:
            return True
        time.sleep(0.01)
    return False


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("armor", [False, True])
def test_observer_sees_every_input_byte_once_in_order(size: int, workers: int, armor: bool) -> None:
    identity = age.X25519Identity.generate()
    plaintext = _bytes(size, 7)
    sealed = io.BytesIO()
    age.encrypt(io.BytesIO(plaintext), sealed, [identity.recipient], armor=armor)
    ciphertext = sealed.getvalue()
    seen, observe = _observer()
    out = io.BytesIO()
    source = Trickle(ciphertext)
    age.decrypt(source, out, [identity], workers=workers, observe=observe)
    assert out.getvalue() == plaintext
    assert bytes(seen) == ciphertext
    assert _no_stream_threads()


@pytest.mark.parametrize("size", SIZES)
def test_a_file_source_gives_the_same_output(size: int) -> None:
    sealed = _seal(size)
    seen, observe = _observer()
    out = io.BytesIO()
    age.decrypt(io.BytesIO(sealed.ciphertext), out, [sealed.identity], observe=observe)
    assert out.getvalue() == sealed.plaintext
    assert bytes(seen) == sealed.ciphertext


@pytest.mark.parametrize("workers", [1, 2])
def test_a_source_error_midway_surfaces_unchanged(workers: int) -> None:
    sealed = _seal(10 * TASK)
    cut = sealed.payload_start + 5 * TASK_CHUNKS * ENC_CHUNK + 1000
    out = io.BytesIO()
    with pytest.raises(OSError, match="reset"):
        age.decrypt(Failing(sealed.ciphertext, cut), out, [sealed.identity], workers=workers)
    released = out.getvalue()
    assert sealed.plaintext.startswith(released)  # only authentic plaintext, in order
    assert len(released) <= 5 * TASK
    assert _no_stream_threads()


@pytest.mark.parametrize("workers", [1, 2])
def test_tampering_early_stops_reading_and_releases_only_what_authenticated(
    workers: int,
) -> None:
    sealed = _seal(40 * TASK)
    damaged = bytearray(sealed.ciphertext)
    damaged[sealed.payload_start + 2 * TASK_CHUNKS * ENC_CHUNK + 5] ^= 1  # third task
    source = Trickle(bytes(damaged), piece=65536)
    out = io.BytesIO()
    with pytest.raises(PayloadError) as caught:
        age.decrypt(source, out, [sealed.identity], workers=workers)
    assert caught.value.reason is PayloadFailure.TAMPERED
    assert out.getvalue() == sealed.plaintext[: 2 * TASK]
    assert _no_stream_threads()
    # the reader ran a few buffers ahead at most, not to the end of the input
    assert source.reads * 65536 < len(damaged) // 2


def test_the_observer_may_not_be_skipped_by_armor_detection() -> None:
    """Autodetected armor: the observer still sees the raw (armored) bytes."""
    sealed = _seal(3 * TASK)
    armored = io.BytesIO()
    writer = ArmorWriter(armored)
    writer.write(sealed.ciphertext)
    writer.close()
    seen, observe = _observer()
    out = io.BytesIO()
    age.decrypt(io.BytesIO(armored.getvalue()), out, [sealed.identity], observe=observe)
    assert out.getvalue() == sealed.plaintext
    assert bytes(seen) == armored.getvalue()
