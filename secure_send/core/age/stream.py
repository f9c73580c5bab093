"""The age v1 payload: ChaCha20-Poly1305 STREAM in 64 KiB chunks.

Guarantees: plaintext is released (passed to ``write``) in order, and only after
each of its chunks' Poly1305 tags verified. A truncated, reordered, tampered or
extended payload is detected; everything released before the failing chunk is
authentic, but the file as a whole must then be treated as bad, so callers that
write files do so atomically (see ``secure_send.core.atomic``).

Speed: the kinds of work overlap, each on its own thread. A reader fills input
buffers ahead (a file, a pipe, a download); an observer, if the source has one,
looks at each input buffer in order (a receiver hashes the download there); a few
workers seal or open chunks, in reused buffers, with OpenSSL's ChaCha20-Poly1305
(through ``cryptography``); a writer hands the results to ``write`` in input order.
The calling thread only hands out and collects tasks. Reading, hashing and writing
release the GIL, so on two cores they run beside the cipher. libsodium (PyNaCl)
runs this AEAD at about half OpenSSL's and Go's speed on current x86 CPUs, which is
why the bulk payload does not use it (docs/architecture.md). Output order and bytes
are exactly a single-threaded run's. Memory is bounded by the buffers in flight
(about a dozen MiB). An input that fits one task runs on the calling thread alone.

``write`` receives a memoryview that is valid only during the call: copy it or
write it out, never keep it; it is called from one thread at a time, and never
after the run returned. ``src`` is read on the reader thread only (never at the
same time as by the caller); after an error the reader may finish the one read it
is in, and then stops.

Neither ``concurrent.futures`` nor ``dataclasses`` is used here: importing them costs
``secure-send encrypt`` several milliseconds of start-up (``logging``, ``inspect``).
"""

from __future__ import annotations

import os
import queue
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, NamedTuple, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from secure_send.core.age.source import Observe, Source
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


class _Task(NamedTuple):
    first: int  # STREAM counter of the task's first chunk
    inbuf: bytearray
    size: int  # bytes of input in inbuf
    ends_input: bool  # nothing follows this task's last chunk
    outbuf: bytearray


class _Result(NamedTuple):
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


class _Filled(NamedTuple):
    """One input buffer as the reader filled it."""

    buf: bytearray
    size: int
    # an AgeError comes after the ``size`` good bytes (armor that breaks part-way);
    # anything else (a cut download, an OSError) is raised as soon as it is reached
    error: BaseException | None


class _ReadAhead:
    """Fills input buffers from a source on its own thread, up to ``most`` buffers
    (made as needed: a short input never allocates them all)."""

    def __init__(self, src: Source, unit: int, first: _Filled, most: int) -> None:
        self._free: queue.SimpleQueue[bytearray | None] = queue.SimpleQueue()
        self._filled: queue.SimpleQueue[_Filled] = queue.SimpleQueue()
        self._filled.put(first)  # read by the caller before there was a thread
        self._size = len(first.buf)
        self._made = 1
        self._most = most
        self._stopped = False
        self._thread = threading.Thread(
            target=self._read, args=(src, unit), name="age-read", daemon=True
        )
        self._thread.start()

    def _buffer(self) -> bytearray | None:
        """A buffer to fill: a recycled one, a new one, or (all in use) the next one
        given back; ``None`` means stop."""
        try:
            return self._free.get(block=False)
        except queue.Empty:
            if self._made < self._most:
                self._made += 1
                return bytearray(self._size)
            return self._free.get()

    def _read(self, src: Source, unit: int) -> None:
        while not self._stopped and (buf := self._buffer()) is not None:
            try:
                size, error = _fill(src, buf, unit)
            except BaseException as err:  # handed over: the consumer raises it
                self._filled.put(_Filled(buf, 0, err))
                return
            self._filled.put(_Filled(buf, size, error))
            if error is not None or size < len(buf):
                return  # the end of the input

    def next(self) -> _Filled:
        """The next buffer in input order (waits for it)."""
        return self._filled.get()

    def recycle(self, buf: bytearray) -> None:
        """Give a buffer back to be filled again."""
        self._free.put(buf)

    def finish(self) -> None:
        """Wait for the reader, which has reached the end of the input."""
        self._thread.join()

    def stop(self) -> None:
        """Stop early: the reader ends after the read it may be in (it is not waited for:
        a pipe may never deliver another byte)."""
        self._stopped = True
        self._free.put(None)  # wakes it if it waits for a buffer


T = TypeVar("T")


class _Job(Generic[T]):
    """One call on a worker thread; :meth:`result` waits for it."""

    __slots__ = ("_call", "_done", "_error", "_result")

    def __init__(self, call: Callable[[], T]) -> None:
        self._call = call
        self._result: T | None = None
        self._error: BaseException | None = None
        self._done = threading.Lock()
        self._done.acquire()  # released by the worker that ran it

    def run(self) -> None:
        try:
            self._result = self._call()
        except BaseException as err:  # handed over: result() raises it
            self._error = err
        finally:
            self._done.release()

    def skip(self) -> None:
        self._error = RuntimeError("not run: the stream stopped")
        self._done.release()

    def result(self) -> T | None:
        self._done.acquire()
        self._done.release()
        if self._error is not None:
            raise self._error
        return self._result


class _Workers:
    """A few threads running calls, first come first served (one thread: in order)."""

    def __init__(self, count: int, name: str) -> None:
        self._todo: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._stopping = False
        self._threads = [
            threading.Thread(target=self._serve, name=name, daemon=True) for _ in range(count)
        ]
        for thread in self._threads:
            thread.start()

    def _serve(self) -> None:
        while (job := self._todo.get()) is not None:
            if self._stopping:
                job.skip()
            else:
                job.run()

    def submit(self, call: Callable[[], T]) -> _Job[T]:
        job = _Job(call)
        self._todo.put(job)
        return job

    def close(self, *, skip_queued: bool = False) -> None:
        """End the threads once they have run the calls submitted (or with
        ``skip_queued``, only the ones running now), and wait for that."""
        self._stopping = skip_queued
        for _ in self._threads:
            self._todo.put(None)
        for thread in self._threads:
            thread.join()


class _InFlight(NamedTuple):
    task: _Task
    work: _Job[_Result]
    seen: _Job[object] | None  # the observer's look at the task's input


def _run(direction: _Direction, src: Source, write: Write, workers: int) -> None:
    """Process ``src`` in tasks and write the results in input order; the input bytes
    go to ``src.observe`` (if any) in order, once each."""
    in_size = direction.in_unit * CHUNKS_PER_TASK
    first = bytearray(in_size)
    size, error = _fill(src, first, direction.in_unit)
    if size < in_size or error is not None:
        _run_alone(direction, src.observe, first, size, error, write)
    else:
        _run_overlapped(direction, src, write, workers, _Filled(first, size, None))


def _run_alone(
    direction: _Direction,
    observe: Observe | None,
    buf: bytearray,
    size: int,
    error: AgeError | None,
    write: Write,
) -> None:
    """The whole input fits one task (a small file, the metadata): no threads to start."""
    if observe is not None and size:
        observe(memoryview(buf)[:size])
    if size or error is None:  # an empty input is one empty chunk, unless it failed
        chunks = max(1, -(-size // direction.in_unit))
        outbuf = bytearray(chunks * direction.out_unit)
        result = direction.work(_Task(0, buf, size, error is None, outbuf))
        write(memoryview(outbuf)[: result.size])
        if result.failure is not None:
            raise result.failure
    if error is not None:
        raise error


def _run_overlapped(
    direction: _Direction, src: Source, write: Write, workers: int, first: _Filled
) -> None:
    """Read tasks ahead, run them (and the observer) on threads, write results in order."""
    run = _Overlapped(direction, src, write, workers, first)
    finished = False
    try:
        run.run()
        finished = True
    finally:
        run.close(finished)


class _Overlapped:
    """One run on threads: a reader fills input buffers ahead, the workers seal or open
    them, an observer (if any) looks at each input buffer in order, and a writer hands
    the results to ``write`` in order. This thread takes filled buffers, hands out the
    tasks and collects them, and recycles every buffer once all its users are done.
    """

    WRITES_AHEAD = 2  # results handed to the writer and not yet written, at most

    def __init__(
        self, direction: _Direction, src: Source, write: Write, workers: int, first: _Filled
    ) -> None:
        self.direction = direction
        self.in_size = len(first.buf)
        self.out_size = direction.out_unit * CHUNKS_PER_TASK
        self.most_inflight = 2 * workers
        # in flight, plus the current and the look-ahead buffer, plus one being filled
        self.reader = _ReadAhead(src, direction.in_unit, first, self.most_inflight + 3)
        self.pool = _Workers(workers, "age-stream")
        self.observe = src.observe
        self.watcher = _Workers(1, "age-observe") if src.observe is not None else None
        self.write = write
        self.writer = _Workers(1, "age-write")  # one thread: in order
        self.spare: list[bytearray] = []
        self.inflight: deque[_InFlight] = deque()
        self.writes: deque[tuple[_Job[object], bytearray]] = deque()

    def run(self) -> None:
        counter = 0
        current = self.take()
        while True:
            error = current.error
            ends = current.size < self.in_size or error is not None
            nxt: _Filled | None = None
            if not ends:  # look one task ahead: is this task's last chunk the final one?
                nxt = self.take()
                ends = nxt.size == 0 and nxt.error is None
                error = nxt.error
            if current.size or (counter == 0 and error is None):
                outbuf = self.spare.pop() if self.spare else bytearray(self.out_size)
                last = ends and error is None
                self.submit(_Task(counter, current.buf, current.size, last, outbuf))
                counter += CHUNKS_PER_TASK
            else:
                self.reader.recycle(current.buf)
            while len(self.inflight) > self.most_inflight:
                self.emit_oldest()
            if ends or nxt is None:
                if nxt is not None:
                    self.reader.recycle(nxt.buf)
                break
            current = nxt
        while self.inflight:
            self.emit_oldest()
        self.wait_writes(0)
        if error is not None:
            raise error

    def take(self) -> _Filled:
        filled = self.reader.next()
        if filled.error is not None and not isinstance(filled.error, AgeError):
            raise filled.error
        return filled

    def submit(self, task: _Task) -> None:
        seen = None
        if self.watcher is not None and self.observe is not None:
            observe = self.observe
            seen = self.watcher.submit(lambda: observe(memoryview(task.inbuf)[: task.size]))
        work = self.pool.submit(lambda: self.direction.work(task))
        self.inflight.append(_InFlight(task, work, seen))

    def emit_oldest(self) -> None:
        task, work, seen = self.inflight.popleft()
        result = work.result()
        if seen is not None:
            seen.result()  # the input buffer is refilled only after the observer read it
        self.reader.recycle(task.inbuf)
        if result is None:
            raise RuntimeError("a stream task finished without a result")
        out = memoryview(task.outbuf)[: result.size]
        self.writes.append((self.writer.submit(lambda: self.write(out)), task.outbuf))
        if result.failure is not None:
            self.wait_writes(0)  # everything authentic before the failure is out
            raise result.failure
        self.wait_writes(self.WRITES_AHEAD)

    def wait_writes(self, most: int) -> None:
        """Wait until at most ``most`` results are still to be written."""
        while len(self.writes) > most:
            job, outbuf = self.writes.popleft()
            job.result()
            self.spare.append(outbuf)

    def close(self, finished: bool) -> None:
        """End every thread; after a failure the reader is not waited for (a pipe may
        never deliver another byte), queued work is dropped, and the writer is waited
        for so that nothing writes after the caller has discarded the output."""
        if finished:
            self.reader.finish()
        else:
            self.reader.stop()
        self.pool.close(skip_queued=not finished)
        if self.watcher is not None:
            self.watcher.close(skip_queued=not finished)
        self.writer.close(skip_queued=not finished)


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
