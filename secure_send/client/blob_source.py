"""Where an upload's bytes come from: a stored file, or ciphertext made on the fly.

A file to send is not encrypted into a ciphertext copy on disk. It is encrypted
once to learn the ciphertext's SHA-256 and size (the signed manifest needs them),
and again, byte for byte identically (same key and nonce, in the drop's suite:
:class:`secure_send.client.suite_crypto.BlobCipher`), while it is uploaded. That
saves writing (and the disk then flushing) a second copy of every file, which on
this machine was the largest cost of a send.

If the plaintext changed in between, the second ciphertext would be another plaintext
under the same keystream: measuring records every chunk's tag (age, :mod:`.chunk_tags`)
or every unit's digest (CMS, :mod:`.cipher_units`), and the upload hands out a piece's
bytes only after it matched, so a changed file stops the send before any byte of a
changed piece leaves (the server's hash check would come too late: it sees the bytes
first).
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import threading
from pathlib import Path
from types import TracebackType
from typing import NamedTuple, Protocol

from secure_send.client.api import Reader
from secure_send.client.chunk_tags import changed
from secure_send.client.suite_crypto import BlobCipher, Check, Recorder


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
    """Counts and hashes what the encryptor writes (skipping the first ``skip`` bytes),
    and records its chunk tags (unit digests) if given a recorder, or checks them if
    given a check."""

    def __init__(
        self, skip: int = 0, tags: Recorder | None = None, check: Check | None = None
    ) -> None:
        self.digest = hashlib.sha256()
        self.size = 0
        self._skip = skip
        self.tags = tags
        self._check = check

    def write(self, data: bytes | memoryview) -> int:
        n = len(data)
        self.size += n
        if self.tags is not None:
            self.tags.feed(data)
        if self._check is not None:
            self._check.feed(data)  # raises file_changed at a changed chunk
        if self._skip >= n:
            self._skip -= n
        else:
            self.digest.update(data[self._skip :])
            self._skip = 0
        return n


class Measured(NamedTuple):
    """What a send records of a file's ciphertext before uploading it."""

    sha256: bytes
    size: int
    # every chunk's tag (age, :mod:`.chunk_tags`) or unit's digest (CMS, :mod:`.cipher_units`)
    tags: bytes


def measure(cipher: BlobCipher, plaintext: Path) -> Measured:
    """SHA-256, size and chunk tags of the ciphertext ``cipher`` makes of ``plaintext``."""
    tags = cipher.recorder()
    sink = _Sink(tags=tags)
    with plaintext.open("rb") as src:
        cipher.encrypt(src, sink)
    return Measured(sink.digest.digest(), sink.size, tags.tags())


class EncryptingSource:
    """The ciphertext of a plaintext file under a :class:`BlobCipher`'s key and header,
    as it was measured: ``measured`` holds its size and tags, checked as it is made."""

    def __init__(self, cipher: BlobCipher, plaintext: Path, measured: Measured) -> None:
        self.cipher = cipher
        self.plaintext = plaintext
        self.measured = measured

    def open(self, offset: int) -> Reader:
        """See :meth:`BlobSource.open`: encrypts on a thread as it is read; a chunk is
        handed out only once its tag matched the measured one (else the reader raises
        ``file_changed`` when it reaches that chunk)."""
        check = self.cipher.check(self.measured.tags, self.measured.size)
        return _CipherReader(self.cipher, self.plaintext, offset, check)

    def sha256_from(self, offset: int) -> bytes:
        """See :meth:`BlobSource.sha256_from` (encrypts the whole file once more). The
        hash is sent to the server: it too is made only of chunks whose tag matched
        (raises ``file_changed`` otherwise), or it would be a function of another
        plaintext under the same keystream."""
        check = self.cipher.check(self.measured.tags, self.measured.size)
        sink = _Sink(offset, check=check)
        with self.plaintext.open("rb") as src:
            self.cipher.encrypt(src, sink)
        if sink.size != self.measured.size:  # shorter: the last chunk's tag was never seen
            raise changed()
        return sink.digest.digest()


class _Stop(Exception):
    """The reader was closed: the encrypting thread gives up."""


class _CipherReader:
    """Ciphertext produced by a thread into a small queue (a few MiB at most)."""

    def __init__(self, cipher: BlobCipher, plaintext: Path, skip: int, check: Check) -> None:
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=8)  # None: the end
        self._stop = threading.Event()
        self._skip = skip
        self._check = check
        self._held = bytearray()  # made, but its chunk's tag not yet seen
        self._released = 0  # stream position up to which bytes were handed on
        self._buf = memoryview(b"")
        self._eof = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._produce, args=(cipher, plaintext), name="encrypt-upload", daemon=True
        )
        self._thread.start()

    def _produce(self, cipher: BlobCipher, plaintext: Path) -> None:
        try:
            with plaintext.open("rb") as src:
                cipher.encrypt(src, self)
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
        """Called by the encryptor (the buffers it passes are reused: copy). Bytes are
        passed on only up to the end of the last chunk whose tag matched."""
        if self._stop.is_set():
            raise _Stop
        n = len(data)
        safe = self._check.feed(data)  # raises file_changed at a changed chunk
        if not self._held and safe == self._released + n:  # whole chunks: the usual case
            self._pass_on(data)
        else:  # a chunk continues in the next piece: hold its start back until then
            self._held += data
            k = safe - self._released
            self._pass_on(self._held[:k])
            del self._held[:k]
        self._released = safe
        return n

    def _pass_on(self, data: bytes | bytearray | memoryview) -> None:
        n = len(data)
        if self._skip >= n:
            self._skip -= n
            return
        self._put(bytes(data[self._skip :]))
        self._skip = 0

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
