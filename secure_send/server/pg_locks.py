"""Locks several servers share through PostgreSQL advisory locks (issue 18).

* An upload is written by one PATCH at a time (:class:`.state.Busy`): across servers the
  claim is a *session* advisory lock held on a connection of its own for the PATCH. A
  session lock, not a lease row with a timeout, because a server that is killed mid-PATCH
  drops its connection and PostgreSQL releases the lock at once: the client's retry
  through another server is not locked out (issue 18's failover test).
* The sweeper runs on one server at a time (:data:`SWEEP_LOCK`, ``pg_store.advisory``).
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from typing import Any

import psycopg

from secure_send.server.pg_store import PostgresMetadataStore

SWEEP_LOCK = 0x5EC5E4D0004


def lock_key(kind: str, name: str) -> int:
    """A 64-bit advisory lock key for ``kind:name`` (signed, as PostgreSQL's bigint)."""
    digest = hashlib.sha256(f"{kind}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class UploadLeases:
    """Cross-server claims on uploads: one connection (and lock) per PATCH in progress."""

    def __init__(self, db: PostgresMetadataStore) -> None:
        self.db = db
        self._held: dict[str, psycopg.Connection[Any]] = {}
        self._mutex = threading.Lock()

    def claim(self, upload_id: str) -> bool:
        """Take the upload's lock; False if another server (or request) holds it."""
        conn = self.db.connect()
        try:
            row = conn.execute(
                "SELECT pg_try_advisory_lock(%s)", (lock_key("upload", upload_id),)
            ).fetchone()
        except BaseException:
            conn.close()
            raise
        if not (row and row[0]):
            conn.close()
            return False
        with self._mutex:
            self._held[upload_id] = conn
        return True

    def release(self, upload_id: str) -> None:
        """Give the lock back (closing its connection releases it)."""
        with self._mutex:
            conn = self._held.pop(upload_id, None)
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                conn.close()
