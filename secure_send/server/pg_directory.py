"""The published directory in PostgreSQL, shared by several servers (issue 18).

Behind a load balancer the directory signer pushes to *one* server; the documents live
in the shared database so every server serves, and authenticates against, the same
snapshot. ``directory_bundle`` holds the snapshot (one row, with a ``version`` that
every push increments) and ``directory_events`` the log lines by position.

Guarantees:

* A push is stored in ONE transaction under an advisory lock (:data:`DIRECTORY_LOCK`):
  the log's new lines and the bundle commit together, so no server ever reads a torn
  state, and ``accept``'s "does the push continue what is held" check reads the held
  version inside that lock — two pushes racing through two servers: one is stored,
  the other is refused as stale (and the signer retries from the new state).
* The trust anchor is NOT here: each server verifies every load against its own
  ``HOME/directory/anchor.json``, so a hostile database can make a server refuse
  (503 ``server_directory_damaged``) but never serve or trust a forged directory.
* Seeding: when the database holds no directory yet, the first server to start
  copies its home's (verified) files in, under the same lock; the others load that.

Freshness window: a request must not wait for the database to learn whether the
directory changed (``held(blocking=False)`` on the event loop never waits), so the
version a request compares with is a cached one, kept current by a thread of this
process: it re-reads the version as soon as a ``NOTIFY`` on :data:`CHANNEL` (sent in
the push's own transaction, so delivered exactly when it commits) reaches
:class:`.pg_notify.PgBus`' listener, and at least every :data:`POLL_SECONDS` in case
a notice was lost. A revocation pushed through server B therefore counts on server A
within the NOTIFY latency (milliseconds), at most about one second.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg

from secure_send.server.directory_docs import Writer
from secure_send.server.pg_store import PostgresMetadataStore

log = logging.getLogger("secure_send.server")

DIRECTORY_LOCK = 0x5EC5E4D0005
CHANNEL = "secure_send_directory"
POLL_SECONDS = 1.0  # the longest a missed notice delays a push's effect here
MISSING = -1  # the version of "no row": a load then finds the directory damaged


class PgDocuments:
    """:class:`.directory_docs.Documents` in the shared database (see the module
    docstring); :meth:`start` the refresher before serving, :meth:`close` after."""

    where = "the database (tables directory_bundle, directory_events)"

    def __init__(self, db: PostgresMetadataStore) -> None:
        self.db = db
        self._version: int | None = self._read_version()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ the version

    def _read_version(self) -> int | None:
        rows = self.db.query("SELECT version FROM directory_bundle WHERE id = 1")
        return int(rows[0][0]) if rows else None

    def stamp(self) -> int:
        """The cached version (no round trip: see the module docstring)."""
        version = self._version
        if version is None:
            raise FileNotFoundError("the database holds no directory yet")
        return version

    def poke(self) -> None:
        """Another server stored a push (a notice): re-read the version now. Any thread."""
        self._wake.set()

    def refresh(self) -> None:
        """Re-read the version (a worker thread's call: it is a round trip)."""
        version = self._read_version()
        self._version = MISSING if version is None else version

    def start(self) -> None:
        """Keep the cached version current until :meth:`close`."""
        self._thread = threading.Thread(target=self._run, name="pg-directory", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        failing = False
        while not self._stop.is_set():
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.refresh()
                failing = False
            except psycopg.Error as err:  # the database is away: keep what is held
                if not failing:
                    log.warning("cannot read the directory's version: %s", type(err).__name__)
                failing = True

    def close(self) -> None:
        """Stop the refresher."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # ------------------------------------------------------------ the documents

    def read(self) -> tuple[bytes, tuple[bytes, ...]]:
        """The bundle and the log, from one snapshot of the database (REPEATABLE READ)."""
        with self.db.pool.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            row = conn.execute("SELECT bundle FROM directory_bundle WHERE id = 1").fetchone()
            lines = conn.execute("SELECT pos, line FROM directory_events ORDER BY pos").fetchall()
        if row is None:
            return b"", ()  # no snapshot: the load refuses it (damaged), never serves it
        complete: list[bytes] = []
        for pos, line in lines:
            if pos != len(complete):
                break  # a gap: the log stops there (the load then finds it short)
            complete.append(bytes(line))
        return bytes(row[0]), tuple(complete)

    @contextlib.contextmanager
    def writing(self) -> Iterator[Writer]:
        writer: _PgWriter | None = None
        with self.db.pool.connection() as conn:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (DIRECTORY_LOCK,))
                writer = _PgWriter(conn)
                yield writer
            if writer.version is not None:  # committed: in force here from now on
                self._version = writer.version

    def seed(self, data: bytes, lines: Sequence[bytes]) -> bool:
        """Store a first directory if the database holds none (under the lock, so
        servers starting at once seed it once); False: one was there already."""
        with self.db.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (DIRECTORY_LOCK,))
            row = conn.execute("SELECT version FROM directory_bundle WHERE id = 1").fetchone()
            if row is not None:
                # seeded by a server that started at the same time, after this one's
                # first read: hold that version, else stamp() says "no directory yet"
                self._version = int(row[0])
                return False
            _insert_events(conn, 0, lines)
            conn.execute("INSERT INTO directory_bundle VALUES (1, 1, %s)", (data,))
        self._version = 1
        return True


class _PgWriter:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.version: int | None = None

    def stamp(self) -> int:
        row = self.conn.execute("SELECT version FROM directory_bundle WHERE id = 1").fetchone()
        return MISSING if row is None else int(row[0])

    def store(self, log_bytes: int, log_size: int, events: Sequence[bytes], data: bytes) -> None:
        # a log never shrinks; rows past the held size are not part of it (none is
        # left by a crash — one transaction — but a hand edit must not break a push)
        self.conn.execute("DELETE FROM directory_events WHERE pos >= %s", (log_size,))
        _insert_events(self.conn, log_size, events)
        row = self.conn.execute(
            "UPDATE directory_bundle SET version = version + 1, bundle = %s WHERE id = 1 "
            "RETURNING version",
            (data,),
        ).fetchone()
        if row is None:
            raise psycopg.errors.NoDataFound("the directory row is missing")
        # delivered to every listening server when (and only if) this commits
        self.conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(row[0])))
        self.version = int(row[0])

    def stored(self) -> int:
        if self.version is None:
            raise RuntimeError("store() first")
        return self.version


def _insert_events(conn: psycopg.Connection[Any], start: int, lines: Sequence[bytes]) -> None:
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO directory_events VALUES (%s, %s)",
            [(start + i, line) for i, line in enumerate(lines)],
        )
