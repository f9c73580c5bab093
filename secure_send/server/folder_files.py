"""The files of :class:`~secure_send.server.storage.FolderBlobStore`: appending to an
upload's partial file, where partial files live, hashing and copying them."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, BinaryIO

from secure_send.core.atomic import AtomicOutput, EarlyWriteback

CHUNK = 256 * 1024
# starts asynchronous writeback of a dirty range on Linux (see core/atomic.py)
DONTNEED = getattr(os, "POSIX_FADV_DONTNEED", 4)


class FileAppender:
    """:class:`~secure_send.server.storage.PartialWriter` over a file descriptor
    (``writev``: no joining copies).

    Asks the kernel to start writeback every 32 MiB (as :class:`EarlyWriteback`
    does for decrypted files) so the fsync that completes a large upload has little
    left to wait for.
    """

    STEP = EarlyWriteback.STEP

    def __init__(self, fd: int, offset: int) -> None:
        self._fd = fd
        self._flushed = self._end = offset
        try:
            self.truncate(offset)
        except OSError:
            os.close(fd)
            raise

    def write(self, parts: list[bytes]) -> None:
        """See :meth:`PartialWriter.write`."""
        views = [memoryview(p) for p in parts if p]
        while views:
            written = os.pwritev(self._fd, views[:1024], self._end)  # IOV_MAX is 1024
            self._end += written
            while views and written >= len(views[0]):
                written -= len(views[0])
                views.pop(0)
            if views and written:
                views[0] = views[0][written:]
        if self._end - self._flushed >= self.STEP and hasattr(os, "posix_fadvise"):
            os.posix_fadvise(self._fd, self._flushed, self._end - self._flushed, DONTNEED)
            self._flushed = self._end

    def truncate(self, size: int) -> None:
        """See :meth:`PartialWriter.truncate`."""
        os.ftruncate(self._fd, size)
        self._end = self._flushed = size

    def flush(self) -> None:
        """Nothing to do: ``pwritev`` handed the bytes to the OS already."""

    def sync(self) -> None:
        """See :meth:`PartialWriter.sync`."""
        os.fsync(self._fd)

    def close(self) -> None:
        """See :meth:`PartialWriter.close`."""
        os.close(self._fd)


def partial_folder(blobs: Path) -> Path:
    """Where uploads in progress are kept: ``partial/`` beside ``blobs/``, unless
    ``blobs/`` is a file system of its own (a mount): then ``blobs/.partial``, so that
    finishing an upload stays a rename (across file systems it fails with ``EXDEV``).
    No blob id starts with a dot, so the name never meets a blob's folder."""
    beside = blobs.parent / "partial"
    if os.stat(blobs).st_dev == os.stat(blobs.parent).st_dev:
        return beside
    return blobs / ".partial"


def sha256_of(src: BinaryIO, length: int | None = None) -> Any:
    """A ``hashlib.sha256`` fed the rest of ``src`` (or its next ``length`` bytes)."""
    digest, remaining = hashlib.sha256(), length
    while remaining is None or remaining > 0:
        chunk = src.read(CHUNK if remaining is None else min(CHUNK, remaining))
        if not chunk:
            break
        digest.update(chunk)
        remaining = None if remaining is None else remaining - len(chunk)
    return digest


def copy_durably(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` through a hidden temporary file, fsynced, renamed into place."""
    with src.open("rb") as source, AtomicOutput(dst, overwrite=True) as out:
        while chunk := source.read(CHUNK * 4):
            out.file.write(chunk)
        out.commit()
