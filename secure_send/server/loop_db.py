"""The event loop's own SQLite connection: it answers at once, or not at all.

Every signed request writes its nonce, and an idle inbox poll reads one index
range. Each on a worker thread (``run_in_threadpool``) cost about 0.15 ms of the
server's CPU per hop (thread wake-ups, the GIL handed over and back: measured
with ``benchmarks/bench_inbox.py``), more than the statement itself (~15 us). So
the event loop first tries the statement itself, on this connection, and falls
back to the worker thread (the store's own connection, which waits) whenever
waiting could be needed — it never waits here:

* the connection's lock is taken without waiting (another loop call using it);
* ``timeout=0``: no busy handler — a write lock held by another connection (a
  worker thread's transaction, another server process) is ``SQLITE_BUSY`` at once;
* ``wal_autocheckpoint=0``: a commit here never checkpoints (a checkpoint fsyncs
  the WAL and the database); after :data:`WRITES_BEFORE_CHECKPOINT` writes here,
  writes wait for one on the store's connection, whose commit checkpoints when the
  WAL is long (SQLite's default, 1,000 pages);
* ``synchronous=NORMAL`` like the store's connection (a per-connection setting:
  SQLite's default, FULL, would fsync the WAL on every commit);
* any SQLite error is :class:`WouldBlock`: the worker-thread path then runs the
  same statement and reports it (a full disk, a damaged file) as it always did.

Statements here are single autocommit statements: one that failed changed nothing.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

# writes the loop may commit between two of the store's (about 4 WAL pages each:
# the nonces table and its two indexes), so the WAL stays near SQLite's own bound
WRITES_BEFORE_CHECKPOINT = 200


class WouldBlock(Exception):
    """The call could have to wait (a lock, a reload, a checkpoint, an error): run it
    on a worker thread instead. Raised before anything was changed."""


class LoopConnection:
    """A second connection to the store's database file, for the event loop; see the
    module docstring. Opened on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._writes = 0  # committed here since the store's connection last wrote
        self._closed = False

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=0)
        try:
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA wal_autocheckpoint=0")
            db.execute("PRAGMA foreign_keys=ON")
        except BaseException:
            db.close()
            raise
        return db

    def run(self, sql: str, params: tuple[Any, ...], *, write: bool) -> tuple[list[Any], int]:
        """Run one statement now: its rows and ``rowcount``.

        Raises:
            WouldBlock: it could not run without waiting (nothing was changed).
        """
        if write and self._writes >= WRITES_BEFORE_CHECKPOINT:
            raise WouldBlock
        if not self._lock.acquire(blocking=False):
            raise WouldBlock
        try:
            if self._closed:
                raise WouldBlock
            if self._db is None:
                self._db = self._connect()
            cursor = self._db.execute(sql, params)
            rows, count = cursor.fetchall(), cursor.rowcount
        except sqlite3.Error:
            raise WouldBlock from None
        finally:
            self._lock.release()
        if write:
            self._writes += 1
        return rows, count

    def store_wrote(self) -> None:
        """The store's connection committed (and so checkpointed if the WAL was long)."""
        self._writes = 0

    def close(self) -> None:
        """Close the connection (later calls raise :class:`WouldBlock`)."""
        with self._lock:
            self._closed = True
            if self._db is not None:
                self._db.close()
                self._db = None
