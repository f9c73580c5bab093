"""Storage interfaces and the embedded defaults (SQLite in WAL mode, a blob folder).

The server talks only to :class:`MetadataStore` and :class:`BlobStore`, so a
scale-out deployment (PostgreSQL, S3-compatible storage) can replace them
without touching the routes. Guarantees of the defaults: the schema is brought
to the newest version by numbered migrations, each in one transaction; a blob's
path is derived only from a validated id (never from user text), so no request
can name a file outside the blob folder.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from pathlib import Path
from typing import Protocol

from secure_send.core.atomic import AtomicOutput
from secure_send.core.errors import SecureSendError

# Numbered migrations: index + 1 is the schema version each one produces.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE nonces (
        key_id TEXT NOT NULL,
        nonce TEXT NOT NULL,
        expires INTEGER NOT NULL,
        PRIMARY KEY (key_id, nonce)
    );
    CREATE INDEX nonces_expires ON nonces (expires);
    """,
)

BLOB_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


class StorageError(SecureSendError):
    """The store refused an operation (bad id, missing blob)."""


class MetadataStore(Protocol):
    """Server metadata: nonces now; drops, recipients, quotas in later slices."""

    def remember_nonce(self, key_id: str, nonce: str, expires: int, now: int) -> bool:
        """Record a nonce until ``expires`` (unix time); False if already seen (a replay)."""
        ...

    def close(self) -> None:
        """Release resources."""
        ...


class BlobStore(Protocol):
    """Ciphertext blobs, addressed by server-made ids only."""

    def write(self, blob_id: str, data: bytes) -> None:
        """Store ``data`` under ``blob_id`` (atomically)."""
        ...

    def read(self, blob_id: str) -> bytes:
        """The blob's bytes; raises :class:`StorageError` if missing."""
        ...

    def delete(self, blob_id: str) -> None:
        """Remove the blob if present."""
        ...


def check_blob_id(blob_id: str) -> str:
    """A blob id: 16-64 base64url characters (no dots or slashes, so no traversal)."""
    if not isinstance(blob_id, str) or not BLOB_ID.fullmatch(blob_id):
        raise StorageError("invalid blob id")
    return blob_id


class SqliteMetadataStore:
    """:class:`MetadataStore` on one SQLite file in WAL mode (thread-safe via a lock)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

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

    def remember_nonce(self, key_id: str, nonce: str, expires: int, now: int) -> bool:
        """See :meth:`MetadataStore.remember_nonce`; expired nonces are purged first."""
        with self._lock:
            self._db.execute("DELETE FROM nonces WHERE expires < ?", (now,))
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO nonces (key_id, nonce, expires) VALUES (?, ?, ?)",
                (key_id, nonce, expires),
            )
            return cursor.rowcount == 1

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()


class FolderBlobStore:
    """:class:`BlobStore` as one file per blob under ``root/<first 2 chars>/<id>``."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.root = root.resolve()

    def path_for(self, blob_id: str) -> Path:
        """The file of a blob; the id is validated, so the path stays under the root."""
        blob_id = check_blob_id(blob_id)
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
        path = self.path_for(blob_id)
        if path.exists():
            os.unlink(path)
