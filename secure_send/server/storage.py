"""Storage interfaces and the embedded defaults (SQLite in WAL mode, a blob folder).

The server talks only to :class:`MetadataStore` and :class:`BlobStore`, so a
scale-out deployment (PostgreSQL, S3-compatible storage) can replace them
without touching the routes. Guarantees of the defaults: the schema is brought
to the newest version by numbered migrations, each in one transaction; a blob's
path is derived only from a validated id (never from user text), so no request
can name a file outside the blob folder.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from secure_send.core.atomic import AtomicOutput, EarlyWriteback, fsync_dir
from secure_send.core.errors import SecureSendError
from secure_send.server.loop_db import LoopConnection
from secure_send.server.migrations import MIGRATIONS as MIGRATIONS  # re-exported
from secure_send.server.nonce_table import NonceTable

# The ids the server makes for an upload (secrets.token_urlsafe) and under which its
# finished blob is then stored: one shape, one name. Not a manifest's blob id
# (core.envelope.manifest.BLOB_ID), which names a blob within its drop.
OPAQUE_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
CHUNK = 256 * 1024
# starts asynchronous writeback of a dirty range on Linux (see core/atomic.py)
DONTNEED = getattr(os, "POSIX_FADV_DONTNEED", 4)


class StorageError(SecureSendError):
    """The store refused an operation (bad id, missing blob)."""


class MetadataStore(Protocol):
    """Server metadata: nonces now; drops, recipients, quotas in later slices."""

    def remember_nonce(
        self, key_id: str, nonce: str, expires: int, now: int, *, blocking: bool = True
    ) -> bool:
        """Record a nonce until ``expires`` (unix time); False if already seen (a replay).
        With ``blocking=False`` (the event loop): raises ``loop_db.WouldBlock`` rather
        than wait, having recorded nothing."""
        ...

    def close(self) -> None:
        """Release resources."""
        ...


class Rows(Protocol):
    """What a statement returns (``sqlite3.Cursor`` or ``pg_store.PgCursor``)."""

    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Transaction(Protocol):
    """The connection inside a write transaction."""

    def execute(self, sql: str, params: Any = (), /) -> Rows: ...

    def executemany(self, sql: str, rows: Any, /) -> Any: ...


class SqlDatabase(Protocol):
    """The SQL surface the drop, enrolment and request stores use: one statement text
    for SQLite and PostgreSQL (``pg_sql`` translates), parameters as ``?``."""

    def query(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]: ...

    def query_now(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]: ...

    def transaction(self) -> contextlib.AbstractContextManager[Any]: ...


class PartialWriter(Protocol):
    """Appends to one upload's partial data. :meth:`flush` makes every byte written so
    far survive the server process being killed (and, in a shared store, readable by
    another server continuing the upload); :meth:`sync` makes them durable on disk.
    The offset is recorded in the database only after a flush."""

    def write(self, parts: list[bytes]) -> None:
        """Append these byte strings, in order."""
        ...

    def truncate(self, size: int) -> None:
        """Cut the file back to ``size`` bytes and append from there."""
        ...

    def flush(self) -> None:
        """Store every byte written so far, so another server can continue from here."""
        ...

    def sync(self) -> None:
        """Flush to stable storage (fsync)."""
        ...

    def close(self) -> None:
        """Release the file (bytes written since the last flush may be lost)."""
        ...


class BlobStore(Protocol):
    """Ciphertext blobs, addressed by server-made ids only."""

    # whether other servers use the same store at once (S3): then the database's offset
    # is the only truth about an upload, and a start-up repair must not act on others'
    shared: bool

    def write(self, blob_id: str, data: bytes) -> None:
        """Store ``data`` under ``blob_id`` (atomically)."""
        ...

    def read(self, blob_id: str) -> bytes:
        """The blob's bytes; raises :class:`StorageError` if missing."""
        ...

    def delete(self, blob_id: str) -> None:
        """Remove the blob if present."""
        ...

    def open(self, blob_id: str) -> BinaryIO:
        """The blob opened for reading (streaming); raises :class:`StorageError` if missing."""
        ...

    def open_partial(self, upload_id: str, offset: int) -> PartialWriter:
        """An upload's partial file (created if new), cut to ``offset``, for appending."""
        ...

    def hash_partial(self, upload_id: str, length: int | None = None) -> Any | None:
        """A ``hashlib.sha256`` object fed an upload's partial file (or its first
        ``length`` bytes), to be continued or finished by the caller; or None when
        this store cannot read an unfinished upload (then :meth:`hash_blob` after
        :meth:`finish_partial`)."""
        ...

    def hash_blob(self, blob_id: str) -> bytes:
        """The SHA-256 of a stored blob (read back whole)."""
        ...

    def partial_size(self, upload_id: str) -> int:
        """How many bytes an upload's partial file holds (0 if it has none)."""
        ...

    def finish_partial(self, upload_id: str, blob_id: str, length: int) -> None:
        """Move a complete partial file of ``length`` bytes into place as ``blob_id``."""
        ...

    def delete_partial(self, upload_id: str) -> None:
        """Remove an upload's partial file if present."""
        ...

    def exists(self, blob_id: str) -> bool:
        """Whether the blob is stored."""
        ...

    def partial_exists(self, upload_id: str) -> bool:
        """Whether the upload has a partial file."""
        ...

    def partial_ids(self) -> list[str]:
        """The upload ids that have partial files."""
        ...


def check_opaque_id(value: str) -> str:
    """A stored blob's or upload's id: 16-64 base64url characters (no dots or slashes,
    so no traversal)."""
    if not isinstance(value, str) or not OPAQUE_ID.fullmatch(value):
        raise StorageError("invalid blob id")
    return value


class SqliteMetadataStore:
    """:class:`MetadataStore` on one SQLite file in WAL mode (thread-safe via a lock)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # created 0600 before SQLite opens it: its -wal and -shm files copy its mode
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        os.chmod(path, 0o600)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()
        self.loop = LoopConnection(path)  # the event loop's (never waits; opened on use)
        self.nonces = NonceTable(self.loop)

    def schema_version(self) -> int:
        """The version the database is at."""
        with self._lock:
            row = self._db.execute("SELECT MAX(version) FROM schema_version").fetchone()
            return int(row[0] or 0)

    def _migrate(self) -> None:
        with self._lock:
            self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
            row = self._db.execute("SELECT MAX(version) FROM schema_version").fetchone()
            current = int(row[0] or 0)
            for version, sql in enumerate(MIGRATIONS[current:], start=current + 1):
                statements = [s for s in sql.split(";") if s.strip()]
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for statement in statements:
                        self._db.execute(statement)
                    self._db.execute("INSERT INTO schema_version VALUES (?)", (version,))
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise

    def remember_nonce(
        self, key_id: str, nonce: str, expires: int, now: int, *, blocking: bool = True
    ) -> bool:
        """See :meth:`MetadataStore.remember_nonce` and :mod:`.nonce_table`."""
        if not blocking:
            return self.nonces.remember_now(key_id, nonce, expires, now)
        with self._lock:
            return self.nonces.remember(self._db, key_id, nonce, expires, now)

    def query_now(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run one read statement on the event loop, or raise ``loop_db.WouldBlock``."""
        return self.loop.run(sql, params, write=False)[0]

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run one statement (autocommit) and return its rows."""
        with self._lock:
            return list(self._db.execute(sql, params).fetchall())

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The connection inside ``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on error)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        """Close the connections."""
        self.loop.close()
        with self._lock:
            self._db.close()


class _FileAppender:
    """:class:`PartialWriter` over a file descriptor (``writev``: no joining copies).

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
        """See :meth:`PartialWriter.flush`: nothing to do, ``pwritev`` handed the bytes
        to the OS already."""

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


def _copy_durably(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` through a hidden temporary file, fsynced, renamed into place."""
    with src.open("rb") as source, AtomicOutput(dst, overwrite=True) as out:
        while chunk := source.read(CHUNK * 4):
            out.file.write(chunk)
        out.commit()


class FolderBlobStore:
    """:class:`BlobStore` as one file per blob under ``root/<first 2 chars>/<id>``."""

    shared = False  # one server's own folder

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.root = root.resolve()
        self.partial_root = partial_folder(self.root)
        self.partial_root.mkdir(exist_ok=True, mode=0o700)

    def path_for(self, blob_id: str) -> Path:
        """The file of a blob; the id is validated, so the path stays under the root."""
        blob_id = check_opaque_id(blob_id)
        return self.root / blob_id[:2] / blob_id

    def write(self, blob_id: str, data: bytes) -> None:
        """Store atomically (temporary file, fsync, rename)."""
        path = self.path_for(blob_id)
        path.parent.mkdir(exist_ok=True, mode=0o700)
        with AtomicOutput(path, overwrite=True) as out:
            out.file.write(data)
            out.commit()

    def read(self, blob_id: str) -> bytes:
        """The blob's bytes."""
        try:
            return self.path_for(blob_id).read_bytes()
        except FileNotFoundError:
            raise StorageError("no such blob") from None

    def delete(self, blob_id: str) -> None:
        """Remove the blob if present."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path_for(blob_id))

    def open(self, blob_id: str) -> BinaryIO:
        """The blob opened for reading."""
        try:
            return self.path_for(blob_id).open("rb")
        except FileNotFoundError:
            raise StorageError("no such blob") from None

    def partial_path(self, upload_id: str) -> Path:
        """The partial file of an upload, in ``partial/`` beside the blob folder."""
        return self.partial_root / check_opaque_id(upload_id)

    def open_partial(self, upload_id: str, offset: int) -> PartialWriter:
        """See :meth:`BlobStore.open_partial`."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC
        return _FileAppender(os.open(self.partial_path(upload_id), flags, 0o600), offset)

    def hash_partial(self, upload_id: str, length: int | None = None) -> Any:
        """See :meth:`BlobStore.hash_partial`."""
        digest = hashlib.sha256()
        remaining = length
        with self.partial_path(upload_id).open("rb") as src:
            while remaining is None or remaining > 0:
                chunk = src.read(CHUNK if remaining is None else min(CHUNK, remaining))
                if not chunk:
                    break
                digest.update(chunk)
                remaining = None if remaining is None else remaining - len(chunk)
        return digest

    def hash_blob(self, blob_id: str) -> bytes:
        """See :meth:`BlobStore.hash_blob`."""
        digest = hashlib.sha256()
        with self.open(blob_id) as src:
            while chunk := src.read(CHUNK * 4):
                digest.update(chunk)
        return digest.digest()

    def partial_size(self, upload_id: str) -> int:
        """See :meth:`BlobStore.partial_size`."""
        try:
            return self.partial_path(upload_id).stat().st_size
        except FileNotFoundError:
            return 0

    def finish_partial(self, upload_id: str, blob_id: str, length: int) -> None:
        """See :meth:`BlobStore.finish_partial` (rename, then fsync the folder)."""
        path = self.path_for(blob_id)
        path.parent.mkdir(exist_ok=True, mode=0o700)
        partial = self.partial_path(upload_id)
        try:
            os.replace(partial, path)
        except OSError as err:
            if err.errno != errno.EXDEV:
                raise
            # the folders were put on different file systems after start: copy instead
            _copy_durably(partial, path)
            os.unlink(partial)
        fsync_dir(path.parent)

    def delete_partial(self, upload_id: str) -> None:
        """See :meth:`BlobStore.delete_partial`."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.partial_path(upload_id))

    def exists(self, blob_id: str) -> bool:
        """See :meth:`BlobStore.exists`."""
        return self.path_for(blob_id).is_file()

    def partial_exists(self, upload_id: str) -> bool:
        """See :meth:`BlobStore.partial_exists`."""
        return self.partial_path(upload_id).is_file()

    def partial_ids(self) -> list[str]:
        """See :meth:`BlobStore.partial_ids` (names that are not valid ids are skipped)."""
        return [p.name for p in self.partial_root.iterdir() if OPAQUE_ID.fullmatch(p.name)]
