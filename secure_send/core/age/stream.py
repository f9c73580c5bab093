"""The age v1 payload: ChaCha20-Poly1305 STREAM in 64 KiB chunks.

Guarantees: plaintext is released (passed to ``write``) in order, and only after
each of its chunks' Poly1305 tags verified. A truncated, reordered, tampered or
extended payload is detected; everything released before the failing chunk is
authentic, but the file as a whole must then be treated as bad, so callers that
write files do so atomically (see ``secure_send.core.atomic``).

Speed: chunks are sealed and opened on a small thread pool, in reused buffers,
with OpenSSL's ChaCha20-Poly1305 (through ``cryptography``), which releases the
GIL: two cores give nearly twice the throughput. libsodium (PyNaCl) runs this
AEAD at about half OpenSSL's and Go's speed on current x86 CPUs, which is why the
bulk payload does not use it (docs/architecture.md). Output order and bytes are
exactly a single-threaded run's. Memory is bounded by the tasks in flight.

``write`` receives a memoryview that is valid only during the call: copy it or
write it out, never keep it.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from secure_send.core.age.source import Source
from secure_send.core.errors import AgeError, PayloadError, PayloadFailure

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
# Chunks per task handed to a thread: large enough that the hand-off is cheap,
# small enough that memory stays a few MiB whatever the file size.
CHUNKS_PER_TASK = 16

Write = Callable[[memoryview], Any]


def default_workers() -> int:
    """Threads to use: one per core, at most four (more gains nothing here)."""
    return max(1, min(4, os.cpu_count() or 1))


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


@dataclass
class _Task:
    first: int  # STREAM counter of the task's first chunk
    inbuf: bytearray
    size: int  # bytes of input in inbuf
    ends_input: bool  # nothing follows this task's last chunk
    outbuf: bytearray


@dataclass
class _Result:
    size: int  # bytes of output ready in outbuf
    failure: PayloadError | None = None


class _Direction:
    """What differs between sealing and opening: sizes and the per-task work."""

    in_unit: int
    out_unit: int

    def __init__(self, key: bytes) -> None:
        self.aead = ChaCha20Poly1305(key)

    def work(self, task: _Task) -> _Result:
        raise NotImplementedError


class _Seal(_Direction):
    in_unit = CHUNK_SIZE
    out_unit = ENCRYPTED_CHUNK_SIZE

    def work(self, task: _Task) -> _Result:
        src = memoryview(task.inbuf)
        dst = memoryview(task.outbuf)
        count = max(1, -(-task.size // CHUNK_SIZE))  # an empty input is one empty chunk
        done = 0
        for i in range(count):
            start = i * CHUNK_SIZE
            length = min(CHUNK_SIZE, task.size - start)
            nonce = _nonce(task.first + i, task.ends_input and i == count - 1)
            done += self.aead.encrypt_into(
                nonce, src[start : start + length], None, dst[done : done + length + TAG_SIZE]
            )
        return _Result(done)


class _Open(_Direction):
    in_unit = ENCRYPTED_CHUNK_SIZE
    out_unit = CHUNK_SIZE

    def work(self, task: _Task) -> _Result:
        src = memoryview(task.inbuf)
        dst = memoryview(task.outbuf)
        count = max(1, -(-task.size // ENCRYPTED_CHUNK_SIZE))
        done = 0
        for i in range(count):
            counter = task.first + i
            start = i * ENCRYPTED_CHUNK_SIZE
            length = min(ENCRYPTED_CHUNK_SIZE, task.size - start)
            final_piece = task.ends_input and i == count - 1
            try:
                was_last = self._open_chunk(
                    dst[done : done + length - TAG_SIZE],
                    src[start : start + length],
                    counter,
                    final_piece,
                )
            except PayloadError as err:
                return _Result(done, err)
            done += length - TAG_SIZE
            if was_last and not final_piece:
                return _Result(done, PayloadError(PayloadFailure.TRAILING_DATA, counter + 1))
            if final_piece and not was_last:
                return _Result(done, PayloadError(PayloadFailure.TRUNCATED, counter + 1))
        return _Result(done)

    def _open_chunk(self, dst: memoryview, src: memoryview, counter: int, final: bool) -> bool:
        """Open one chunk into ``dst``; return whether it carried the last-chunk flag.

        On failure ``dst`` may hold unauthenticated bytes: callers never release it.
        """
        length = len(src)
        if length < TAG_SIZE:
            raise PayloadError(PayloadFailure.TRUNCATED, counter)
        if length < ENCRYPTED_CHUNK_SIZE:
            # Only the last chunk may be short, and only the very first may be empty.
            if length == TAG_SIZE and counter > 0:
                raise PayloadError(PayloadFailure.EMPTY_LAST_CHUNK, counter)
            order: tuple[bool, ...] = (True,)
        else:
            # A full chunk is usually not last; at the end of the input it usually is.
            order = (True, False) if final else (False, True)
        for last in order:
            try:
                self.aead.decrypt_into(_nonce(counter, last), src, None, dst)
            except InvalidTag:
                continue
            return last
        raise PayloadError(PayloadFailure.TAMPERED, counter)


def _fill(src: Source, buf: bytearray, unit: int) -> tuple[int, AgeError | None]:
    """Fill ``buf``; stop at end of input or at a read error.

    A source that can fail part-way (armor) is read a chunk at a time, so that a
    read error costs only the chunk it hit: the complete chunks before it are
    still processed, as a sequential reader would. Others are read in one call,
    which is a third faster.
    """
    step = unit if src.fails_midway else len(buf)
    view = memoryview(buf)
    size = 0
    while size < len(buf):
        try:
            got = src.readinto(view[size : size + step])
        except AgeError as err:
            return size, err
        size += got
        if got < step:
            break
    return size, None


def _run(direction: _Direction, src: Source, write: Write, workers: int) -> None:
    """Read tasks, run them on the pool, and write results in input order."""
    in_size = direction.in_unit * CHUNKS_PER_TASK
    out_size = direction.out_unit * CHUNKS_PER_TASK
    spare: list[tuple[bytearray, bytearray]] = []
    inflight: deque[tuple[Future[_Result], _Task]] = deque()

    def buffers() -> tuple[bytearray, bytearray]:
        return spare.pop() if spare else (bytearray(in_size), bytearray(out_size))

    def emit_oldest() -> None:
        future, task = inflight.popleft()
        result = future.result()
        write(memoryview(task.outbuf)[: result.size])
        spare.append((task.inbuf, task.outbuf))
        if result.failure is not None:
            raise result.failure

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="age-stream")
    try:
        counter = 0
        inbuf, outbuf = buffers()
        size, error = _fill(src, inbuf, direction.in_unit)
        while True:
            ends = size < in_size or error is not None
            nxt: tuple[bytearray, bytearray] | None = None
            if not ends:  # look one task ahead: is this task's last chunk the final one?
                nxt = buffers()
                nsize, error = _fill(src, nxt[0], direction.in_unit)
                ends = nsize == 0 and error is None
            if size or (counter == 0 and error is None):
                task = _Task(counter, inbuf, size, ends and error is None, outbuf)
                inflight.append((pool.submit(direction.work, task), task))
                counter += CHUNKS_PER_TASK
            while len(inflight) > 2 * workers:
                emit_oldest()
            if ends or nxt is None:
                break
            inbuf, outbuf = nxt
            size = nsize
        while inflight:
            emit_oldest()
        if error is not None:
            raise error
    finally:
        for future, _ in inflight:
            future.cancel()
        pool.shutdown(wait=True)


def encrypt_payload(key: bytes, src: Source, write: Write, workers: int = 1) -> None:
    """Encrypt everything from ``src`` as a STREAM payload under the 32-byte ``key``."""
    _run(_Seal(key), src, write, workers)


def decrypt_payload(key: bytes, src: Source, write: Write, workers: int = 1) -> None:
    """Open a STREAM payload, writing authenticated plaintext as it goes.

    Raises:
        PayloadError: truncated, tampered, trailing data, or an empty last chunk.
            Everything written before the error was authentic.
    """
    _run(_Open(key), src, write, workers)
