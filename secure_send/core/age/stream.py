"""The age v1 payload: ChaCha20-Poly1305 STREAM in 64 KiB chunks.

Guarantees: plaintext is released (passed to ``write``) chunk by chunk, in order,
and only after that chunk's Poly1305 tag verified. A truncated, reordered,
tampered or extended payload is detected; everything released before the
failing chunk is authentic, but the file as a whole must be treated as bad, so
callers that write files must do so atomically (see ``secure_send.core.atomic``).

Chunks are sealed and opened on a small thread pool: libsodium releases the GIL,
so two cores give close to twice the throughput. The output order and the bytes
are exactly those of a single-threaded run.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import nacl.bindings as sodium
import nacl.exceptions

from secure_send.core.age.source import Source
from secure_send.core.errors import AgeError, PayloadError, PayloadFailure

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
# Chunks per unit of work handed to a thread: big enough that the hand-off costs
# little, small enough that memory stays a few MiB whatever the file size.
CHUNKS_PER_TASK = 8

_seal = sodium.crypto_aead_chacha20poly1305_ietf_encrypt
_open = sodium.crypto_aead_chacha20poly1305_ietf_decrypt
_CryptoError = nacl.exceptions.CryptoError

Write = Callable[[bytes], Any]
T = TypeVar("T")
R = TypeVar("R")


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


@dataclass(frozen=True)
class _Task:
    first: int  # counter of the first chunk
    chunks: list[bytes]
    ends_input: bool  # the last chunk of this task is the last piece of input


def _tasks(src: Source, unit: int) -> Iterator[_Task]:
    """Split the input into tasks of whole chunks, knowing which chunk is last."""
    counter = 0
    nxt = src.read(unit)
    while True:
        chunks: list[bytes] = []
        ends = False
        while len(chunks) < CHUNKS_PER_TASK:
            cur = nxt
            nxt = src.read(unit) if len(cur) == unit else b""
            chunks.append(cur)
            if not nxt:
                ends = True
                break
        yield _Task(counter, chunks, ends)
        if ends:
            return
        counter += len(chunks)


def default_workers() -> int:
    """Threads to use: one per core, at most four (more gains nothing here)."""
    return max(1, min(4, os.cpu_count() or 1))


def _pipeline(
    tasks: Iterator[T], work: Callable[[T], R], emit: Callable[[R], None], workers: int
) -> None:
    """Run ``work`` over ``tasks`` on threads; ``emit`` results in input order.

    An error while reading input is raised only after every earlier task was
    emitted, so the released output is the same as a sequential run's. An error
    raised by ``emit`` stops everything at once.
    """
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="age-stream")
    inflight: deque[Future[R]] = deque()
    read_error: AgeError | None = None
    try:
        while True:
            try:
                task = next(tasks)
            except StopIteration:
                break
            except AgeError as err:  # e.g. bad armor further on in the input
                read_error = err
                break
            inflight.append(pool.submit(work, task))
            if len(inflight) > 2 * workers:
                emit(inflight.popleft().result())
        while inflight:
            emit(inflight.popleft().result())
    finally:
        for fut in inflight:
            fut.cancel()
        pool.shutdown(wait=True)
    if read_error is not None:
        raise read_error


def encrypt_payload(key: bytes, src: Source, write: Write, workers: int = 1) -> None:
    """Encrypt everything from ``src`` as a STREAM payload under the 32-byte ``key``."""

    def seal(task: _Task) -> list[bytes]:
        last_index = len(task.chunks) - 1
        return [
            _seal(chunk, None, _nonce(task.first + i, task.ends_input and i == last_index), key)
            for i, chunk in enumerate(task.chunks)
        ]

    def emit(sealed: list[bytes]) -> None:
        for block in sealed:
            write(block)

    _pipeline(_tasks(src, CHUNK_SIZE), seal, emit, workers)


@dataclass
class _Opened:
    plaintexts: list[bytes]
    failure: PayloadError | None


def _open_task(key: bytes, task: _Task) -> _Opened:
    out: list[bytes] = []
    last_index = len(task.chunks) - 1
    for i, chunk in enumerate(task.chunks):
        counter = task.first + i
        final_piece = task.ends_input and i == last_index
        try:
            plaintext, was_last = _open_chunk(key, chunk, counter, final_piece)
        except PayloadError as err:
            return _Opened(out, err)
        out.append(plaintext)
        if was_last and not final_piece:
            return _Opened(out, PayloadError(PayloadFailure.TRAILING_DATA, counter + 1))
        if final_piece and not was_last:
            return _Opened(out, PayloadError(PayloadFailure.TRUNCATED, counter + 1))
    return _Opened(out, None)


def _open_chunk(key: bytes, chunk: bytes, counter: int, final_piece: bool) -> tuple[bytes, bool]:
    """Open one chunk; return its plaintext and whether it carried the last flag."""
    if len(chunk) < TAG_SIZE:
        raise PayloadError(PayloadFailure.TRUNCATED, counter)
    if len(chunk) < ENCRYPTED_CHUNK_SIZE:
        # Only the last chunk may be short, and only the very first may be empty.
        if len(chunk) == TAG_SIZE and counter > 0:
            raise PayloadError(PayloadFailure.EMPTY_LAST_CHUNK, counter)
        order = (True,)
    else:
        # A full chunk is usually not last; at the end of input it usually is.
        order = (True, False) if final_piece else (False, True)
    for last in order:
        try:
            return _open(chunk, None, _nonce(counter, last), key), last
        except _CryptoError:
            continue
    raise PayloadError(PayloadFailure.TAMPERED, counter)


def decrypt_payload(key: bytes, src: Source, write: Write, workers: int = 1) -> None:
    """Open a STREAM payload, writing each authenticated chunk as soon as it is.

    Raises:
        PayloadError: truncated, tampered, trailing data, or an empty last chunk.
            Everything written before the error was authentic.
    """

    def emit(opened: _Opened) -> None:
        for plaintext in opened.plaintexts:
            write(plaintext)
        if opened.failure is not None:
            raise opened.failure

    _pipeline(_tasks(src, ENCRYPTED_CHUNK_SIZE), lambda t: _open_task(key, t), emit, workers)
