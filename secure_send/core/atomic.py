"""Atomic file output: nothing appears under the target name until it is complete.

Decrypted plaintext is written to a hidden temporary file in the target's own
folder (same file system, so the final rename is atomic), flushed to disk, and
renamed only on :meth:`AtomicOutput.commit`. If anything fails first, the
temporary file is deleted, so a failure never leaves partial plaintext behind.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import mmap
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol

from secure_send.core.error_codes import ErrorCode
from secure_send.core.errors import SecureSendError

# The hidden temporary name AtomicOutput gives a target's plaintext until commit: what a
# sweep of recorded leftovers may delete (client/partials.py), and nothing else.
PARTIAL_NAME = re.compile(r"\..+\.[0-9a-f]{12}\.partial", re.DOTALL)


class OutputExistsError(SecureSendError):
    """The target already exists and overwriting was not asked for."""

    code = ErrorCode.OUTPUT_EXISTS

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} already exists")
        self.path = path


class OutputFile(Protocol):
    """The file an output hands out: write, flush, fileno, close."""

    def write(self, data: bytes | memoryview, /) -> int: ...
    def flush(self) -> None: ...
    def fileno(self) -> int: ...
    def close(self) -> None: ...


class EarlyWriteback:
    """A file writer that asks the kernel to start writing to disk as data arrives.

    ``commit`` must fsync (a crash must never leave a half-written file under the
    final name). Starting writeback every few MiB overlaps the disk with the
    encryption, so that the final fsync has little left to wait for; it also keeps
    a multi-GiB output from crowding the page cache.
    """

    STEP = 32 * 1024 * 1024

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self._flushed_to = 0
        self._written = 0

    def write(self, data: bytes | memoryview) -> int:
        """Write all of ``data``."""
        n = self._file.write(data)
        self._written += n
        if self._written - self._flushed_to >= self.STEP and hasattr(os, "posix_fadvise"):
            self._file.flush()
            # On Linux, DONTNEED starts asynchronous writeback of the dirty range.
            os.posix_fadvise(
                self._file.fileno(),
                self._flushed_to,
                self._written - self._flushed_to,
                os.POSIX_FADV_DONTNEED,
            )
            self._flushed_to = self._written
        return n

    def flush(self) -> None:
        """Flush Python's buffer to the OS."""
        self._file.flush()

    def rewind(self) -> None:
        """Empty the file and write from its start again."""
        self._file.flush()
        self._file.seek(0)
        self._file.truncate(0)
        self._written = self._flushed_to = 0

    def fileno(self) -> int:
        """The OS file descriptor."""
        return self._file.fileno()

    def close(self) -> None:
        """Close the file."""
        self._file.close()


_O_DIRECT = getattr(os, "O_DIRECT", 0)  # Linux (and a few others); 0 elsewhere


class DirectWriter:
    """A file writer that sends whole blocks to the disk around the page cache
    (``O_DIRECT``), and the rest through it.

    An output is fsynced before it is placed (``commit``), so its bytes must reach the
    disk before the file appears anyway. Through the page cache that costs a copy into
    it plus the kernel's dirty-page work, then the fsync waits for the disk regardless;
    measured on the 2-core test VM, 0.2-1.6 s of CPU per GiB, erratic, which took that
    CPU from decryption and the download. A direct write of an aligned 1 MiB block is
    DMA: ~0.05 s of CPU per GiB, and the final fsync has nothing left to flush.

    Writes are gathered in a page-aligned block; each full block is written at a
    block-aligned offset. The tail (a small file is only a tail) is written through the
    page cache at :meth:`flush`, after which the file stays buffered. Where ``O_DIRECT``
    is refused (tmpfs, some network or FUSE file systems) everything is buffered.
    """

    BLOCK = 1024 * 1024

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._block: mmap.mmap | None = None  # made at the first write
        self._view = memoryview(b"")  # of the block
        self._fill = 0
        self._direct_ok = True  # O_DIRECT not refused so far
        self._direct_on = False  # the descriptor has O_DIRECT set now
        self._aligned = True  # everything written so far is whole blocks

    def write(self, data: bytes | memoryview) -> int:
        """Write all of ``data``."""
        src = memoryview(data).cast("B")
        size = len(src)
        if self._block is None:
            self._block = mmap.mmap(-1, self.BLOCK)  # page-aligned, as O_DIRECT needs
            self._view = memoryview(self._block)
        while len(src):
            take = min(self.BLOCK - self._fill, len(src))
            self._view[self._fill : self._fill + take] = src[:take]
            self._fill += take
            src = src[take:]
            if self._fill == self.BLOCK:
                self._write_block()
        return size

    def _write_block(self) -> None:
        if self._aligned and self._direct_ok and not self._direct_on:
            self._set_direct(True)
        done = 0
        while done < self.BLOCK:
            try:
                done += os.write(self._fd, self._view[done:])
            except OSError as err:
                if not self._direct_on or err.errno != errno.EINVAL:
                    raise
                self._direct_ok = False  # accepted at fcntl, refused at write
                self._set_direct(False)
            if done % self.BLOCK and self._direct_on:  # a short direct write
                self._set_direct(False)
                self._aligned = False
        self._fill = 0

    def _set_direct(self, on: bool) -> None:
        if not _O_DIRECT:
            self._direct_ok = False
            return
        flags = fcntl.fcntl(self._fd, fcntl.F_GETFL)
        try:
            fcntl.fcntl(self._fd, fcntl.F_SETFL, flags | _O_DIRECT if on else flags & ~_O_DIRECT)
        except OSError:
            if not on:
                raise
            self._direct_ok = False
            return
        self._direct_on = on

    def flush(self) -> None:
        """Write what is gathered (through the page cache: it is not a whole block)."""
        if not self._fill:
            return
        if self._direct_on:
            self._set_direct(False)
        self._aligned = False
        # Offsets, not a slice kept in a local: a write that fails (a full disk) leaves
        # this frame in the traceback, and a slice of the block held there made
        # close() fail with BufferError instead of closing (red team, issue 21).
        done, end = 0, self._fill
        self._fill = 0
        while done < end:
            done += os.write(self._fd, self._view[done:end])

    def rewind(self) -> None:
        """Empty the file and write from its start again."""
        self._fill = 0
        os.ftruncate(self._fd, 0)
        os.lseek(self._fd, 0, os.SEEK_SET)
        self._aligned = True

    def fileno(self) -> int:
        """The OS file descriptor."""
        return self._fd

    def close(self) -> None:
        """Write what is gathered, then close the file (a second call does nothing)."""
        if self._fd < 0:
            return
        try:
            self.flush()
        finally:
            os.close(self._fd)
            self._fd = -1
            if self._block is not None:
                self._view.release()
                self._block.close()
                self._block = None


class AtomicOutput:
    """Context manager yielding a binary file; the target appears only on commit.

    Leaving the ``with`` block without :meth:`commit` (or with an exception)
    deletes the temporary file. Files are created readable by the owner only
    (0600): what we write is usually personal data or key material.
    """

    def __init__(
        self,
        target: Path | str,
        *,
        overwrite: bool = False,
        before_create: Callable[[Path], None] | None = None,
    ) -> None:
        self.target = Path(target)
        self.overwrite = overwrite
        if not overwrite and self.target.exists():
            raise OutputExistsError(self.target)
        # os.urandom, not the secrets module: the same bytes, ~3 ms less start-up
        name = f".{self.target.name}.{os.urandom(6).hex()}.partial"
        self._tmp = self.target.with_name(name)
        if before_create is not None:
            # told the hidden name first, so a process killed before commit or discard
            # leaves a record of what to delete (the receiver's journal:
            # client/partials.py); a failure here creates nothing
            before_create(self._tmp)
        try:
            fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o600)
        except OSError as err:  # name the file the user asked for, not our temporary
            raise OSError(err.errno, err.strerror, str(self.target)) from None
        self._writer: EarlyWriteback | DirectWriter = (
            DirectWriter(fd) if _O_DIRECT else EarlyWriteback(os.fdopen(fd, "wb"))
        )
        self.file: OutputFile = self._writer
        self._done = False
        self._sealed = False

    @property
    def temp_path(self) -> Path:
        """The hidden temporary file that holds the output until commit (received files
        are virus-scanned there, before their names appear: client/antivirus.py)."""
        return self._tmp

    def __enter__(self) -> AtomicOutput:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._done:
            self.discard()

    def restart(self) -> None:
        """Throw away what was written so far and start again (e.g. after a cut
        download); the temporary file stays hidden."""
        if self._sealed or self._done:
            raise ValueError("restart after seal or commit")
        self._writer.rewind()

    def seal(self) -> None:
        """Flush the temporary file to disk and close it, without moving it into place
        yet (so several outputs can be placed together once all are known good)."""
        if self._sealed:
            return
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        self._sealed = True

    def commit(self) -> None:
        """Flush to disk and move into place (refusing to replace unless allowed)."""
        self.seal()
        try:
            if self.overwrite:
                os.replace(self._tmp, self.target)
            else:
                # link() fails if the target appeared meanwhile: never clobber silently.
                _move_no_replace(self._tmp, self.target)
        except BaseException:
            self.discard()
            raise
        self._done = True
        fsync_dir(self.target.parent)

    def discard(self) -> None:
        """Close and delete the temporary file; the target is left untouched."""
        self._done = True
        try:
            with contextlib.suppress(OSError):
                self.file.close()
        finally:  # whatever closing raised, never leave the unverified plaintext behind
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._tmp)


class DeviceOutput(AtomicOutput):
    """Output to an existing device or pipe (``/dev/null``, a FIFO): written in place.

    Such a target cannot be renamed over (and must never be replaced by a regular
    file), and holds nothing that an overwrite could destroy.
    """

    def __init__(self, target: Path | str) -> None:
        self.target = Path(target)
        self.overwrite = True
        self.file = open(self.target, "wb")  # noqa: SIM115 - closed in commit/discard
        self._done = False
        self._sealed = False

    def restart(self) -> None:
        """A device cannot take back what it was given."""
        raise ValueError("cannot restart output to a device or pipe")

    def commit(self) -> None:
        """Flush and close."""
        self._done = True
        self.file.close()

    def discard(self) -> None:
        """Close; there is no temporary file to remove."""
        self._done = True
        with contextlib.suppress(OSError):
            self.file.close()


def open_output(target: Path | str, *, overwrite: bool = False) -> AtomicOutput:
    """The right output for ``target``: atomic for files, in place for devices and pipes.

    Raises:
        OutputExistsError: a regular file exists there and ``overwrite`` is false.
        IsADirectoryError: the target is a folder.
    """
    path = Path(target)
    if path.is_dir():
        raise IsADirectoryError(21, "Is a directory", str(path))
    if path.exists() and not path.is_file():
        return DeviceOutput(path)
    return AtomicOutput(path, overwrite=overwrite)


_O_BINARY = getattr(os, "O_BINARY", 0)


def _move_no_replace(src: Path, dst: Path) -> None:
    # link() fails if the target appeared meanwhile, so nothing is clobbered even in
    # a race. Where hard links are unsupported (FAT, some shares), check and rename.
    try:
        os.link(src, dst)
    except FileExistsError:
        raise OutputExistsError(dst) from None
    except OSError:
        if dst.exists():
            raise OutputExistsError(dst) from None
        os.rename(src, dst)
        return
    os.unlink(src)


def fsync_dir(folder: Path) -> None:
    """Make a folder's entries (a name just placed or removed) durable (POSIX only)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def private_dir(folder: Path) -> None:
    """``mkdir -p folder``, each folder it creates readable by the owner only (0700,
    whatever the umask: ``mkdir(parents=True)`` would make the parents 0777 & ~umask)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        made.mkdir(mode=0o700, exist_ok=True)


def open_private_append(path: Path) -> BinaryIO:
    """``path`` opened for appending, created 0600 and made 0600 if it was not (a file
    written by an older version under the default umask was 0644)."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _O_BINARY, 0o600)
    try:
        os.fchmod(fd, 0o600)
        return os.fdopen(fd, "ab")
    except BaseException:
        os.close(fd)
        raise


@contextlib.contextmanager
def exclusive_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``folder/.lock`` (between threads and processes)
    for the ``with`` block: the one way writers of a folder take turns."""
    private_dir(folder)
    with open_private_append(folder / ".lock") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
