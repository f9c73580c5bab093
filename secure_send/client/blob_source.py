"""Where an upload's bytes come from: a stored file, or ciphertext made on the fly.

A file to send is not encrypted into a ciphertext copy on disk. It is encrypted
once to learn the ciphertext's SHA-256 and size (the signed manifest needs them),
and again, byte for byte identically (same file key and nonce:
:func:`secure_send.core.age.api.encrypt_prepared`), while it is uploaded. That
saves writing (and the disk then flushing) a second copy of every file, which on
this machine was the largest cost of a send. If the plaintext changed in between,
the server's hash check refuses the upload and nothing becomes visible.
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import threading
from pathlib import Path
from types import TracebackType
from typing import Protocol

from secure_send.client.api import Reader
from secure_send.core.age.api import Prepared, encrypt_prepared


class BlobSource(Protocol):
    """A blob's bytes from any offset, and their SHA-256."""

    def open(self, offset: int) -> Reader:
        """The bytes from ``offset`` on."""
        ...

    def sha256_from(self, offset: int) -> bytes:
        """The SHA-256 of the bytes from ``offset`` on."""
        ...


class FileSource:
    """A blob stored as a file (the small encrypted metadata)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def open(self, offset: int) -> Reader:
        """See :meth:`BlobSource.open`."""
        src = self.path.open("rb")
        src.seek(offset)
        return src

    def sha256_from(self, offset: int) -> bytes:
        """See :meth:`BlobSource.sha256_from`."""
        digest = hashlib.sha256()
        src = self.open(offset)
        try:
            while block := src.read(1 << 20):
                digest.update(block)
        finally:
            src.close()
        return digest.digest()


class _Sink:
    """Counts and hashes what the encryptor writes (skipping the first ``skip`` bytes)."""

    def __init__(self, skip: int = 0) -> None:
        self.digest = hashlib.sha256()
        self.size = 0
        self._skip = skip

    def write(self, data: bytes | memoryview) -> int:
        n = len(data)
        self.size += n
        if self._skip >= n:
            self._skip -= n
        else:
            self.digest.update(data[self._skip :])
            self._skip = 0
        return n


def measure(prepared: Prepared, plaintext: Path) -> tuple[bytes, int]:
    """SHA-256 and size of the ciphertext ``prepared`` makes of ``plaintext``."""
    sink = _Sink()
    with plaintext.open("rb") as src:
        encrypt_prepared(prepared, src, sink)
    return sink.digest.digest(), sink.size


class EncryptingSource:
    """The age ciphertext of a plaintext file under a :class:`Prepared` header."""

    def __init__(self, prepared: Prepared, plaintext: Path) -> None:
        self.prepared = prepared
        self.plaintext = plaintext

    def open(self, offset: int) -> Reader:
        """See :meth:`BlobSource.open`: encrypts on a thread as it is read."""
        return _CipherReader(self.prepared, self.plaintext, offset)

    def sha256_from(self, offset: int) -> bytes:
        """See :meth:`BlobSource.sha256_from` (encrypts the whole file once more)."""
        sink = _Sink(offset)
        with self.plaintext.open("rb") as src:
            encrypt_prepared(self.prepared, src, sink)
        return sink.digest.digest()


class _Stop(Exception):
    """The reader was closed: the encrypting thread gives up."""


class _CipherReader:
    """Ciphertext produced by a thread into a small queue (a few MiB at most)."""

    def __init__(self, prepared: Prepared, plaintext: Path, skip: int) -> None:
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=8)  # None: the end
        self._stop = threading.Event()
        self._skip = skip
        self._buf = memoryview(b"")
        self._eof = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._produce, args=(prepared, plaintext), name="encrypt-upload", daemon=True
        )
        self._thread.start()

    def _produce(self, prepared: Prepared, plaintext: Path) -> None:
        try:
            with plaintext.open("rb") as src:
                encrypt_prepared(prepared, src, self)
        except _Stop:
            return
        except BaseException as err:  # handed to the reading side
            self._error = err
        self._put(None)

    def _put(self, item: bytes | None) -> None:
        while True:
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                if self._stop.is_set():
                    raise _Stop from None

    def write(self, data: bytes | memoryview) -> int:
        """Called by the encryptor (the buffers it passes are reused: copy)."""
        if self._stop.is_set():
            raise _Stop
        n = len(data)
        if self._skip >= n:
            self._skip -= n
            return n
        self._put(bytes(data[self._skip :]))
        self._skip = 0
        return n

    def read(self, size: int, /) -> bytes:
        """Up to ``size`` bytes, often fewer: one piece as the encryptor made it (no copy),
        or a part of one; ``b""`` only at the end. Pieces are never joined: that copied
        every byte twice more (~0.3 s of CPU per GiB)."""
        if not self._buf:
            if self._eof:
                return b""
            item = self._queue.get()
            if item is None:
                self._eof = True
                if self._error is not None:
                    raise self._error
                return b""
            if len(item) <= size:  # the common case
                return item
            self._buf = memoryview(item)
        take, self._buf = self._buf[:size], self._buf[size:]
        return bytes(take)

    def close(self) -> None:
        """Stop the encrypting thread (if still running) and wait for it."""
        self._stop.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.1)
        self._thread.join()

    def __enter__(self) -> _CipherReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
