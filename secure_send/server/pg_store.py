"""The metadata store on PostgreSQL, shared by several server processes (issue 18).

The same statements as the embedded SQLite store (:class:`.storage.SqliteMetadataStore`)
run here: :func:`.pg_sql.translate` turns SQLite's ``?`` marks into psycopg's ``%s``,
quotes the ``user`` column (a reserved word in PostgreSQL) and rewrites the few SQLite
idioms the stores use. One text per statement keeps the two backends from drifting.

Guarantees, the same as SQLite's:

* A write transaction (:meth:`PostgresMetadataStore.transaction`) first takes one
  transaction-scoped advisory lock, so write transactions run one at a time across
  every server, as SQLite's ``BEGIN IMMEDIATE`` makes them within one file. The stores'
  read-check-write steps (a drop's quota, the next change ``seq`` whose order the inbox
  cursor relies on, the enrolment queue's limits) were written for that and stay
  correct without SERIALIZABLE retries. They are short (a few statements); the hot
  paths — nonces, inbox reads — are single autocommit statements outside it.
* Migrations run under a session advisory lock: several servers starting at once
  migrate the schema exactly once.
* Nonces: ``INSERT … ON CONFLICT`` is one atomic statement, so a replay sent to two
  servers at once is accepted by at most one of them.

The password comes from ``[database] password_file`` and goes to libpq as a keyword,
never into the URL, a log line or an error message (psycopg's messages name the host,
not the password).
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from secure_send.server.loop_db import WouldBlock
from secure_send.server.nonce_table import PURGE_SECONDS, REMEMBER
from secure_send.server.pg_migrations import PG_MIGRATIONS
from secure_send.server.pg_sql import translate

log = logging.getLogger("secure_send.server")

# advisory lock keys (any 64-bit numbers, fixed so every server agrees)
WRITE_LOCK = 0x5EC5E4D0001
MIGRATE_LOCK = 0x5EC5E4D0002
POOL_SIZE = 16  # connections per server process (the thread pool has 40 workers)


class PgDatabaseError(Exception):
    """Raised for connection problems at start-up (with no password in the text)."""


def _params(params: Sequence[Any]) -> tuple[Any, ...]:
    # an Enum would be dumped by its *name* by psycopg; the stores mean its value
    return tuple(p.value if isinstance(p, enum.Enum) else p for p in params)


class PgCursor:
    """What the stores read from ``execute``: rows, one row, ``rowcount``, iteration."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor
        self.rowcount = cursor.rowcount

    def fetchone(self) -> Any:
        return self._cursor.fetchone() if self._cursor.description else None

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall() if self._cursor.description else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class PgTransaction:
    """The connection inside a write transaction, with SQLite's ``execute`` shape."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> PgCursor:
        return PgCursor(self._conn.execute(translate(sql), _params(params)))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(translate(sql), [_params(r) for r in rows])


def read_secret(path: Path, what: str) -> str:
    """A secret from its file, stripped; the error names the file, never the content."""
    try:
        value = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or "not UTF-8 text"
        raise PgDatabaseError(f"cannot read {what} from {path}: {reason}") from None
    if not value:
        raise PgDatabaseError(f"{path} is empty: it must hold {what}")
    return value


class PostgresMetadataStore:
    """:class:`.storage.MetadataStore` (and the SQL surface the stores use) on PostgreSQL."""

    dialect = "postgresql"

    def __init__(self, url: str, password_file: Path | None, pool_size: int = POOL_SIZE) -> None:
        kwargs: dict[str, Any] = {"autocommit": True, "connect_timeout": 10}
        if password_file is not None:
            kwargs["password"] = read_secret(password_file, "the database password")
        # which server process a session belongs to (pg_stat_activity: an operator, or
        # the failover test finding the server that holds an upload's lock)
        kwargs["application_name"] = f"secure-send-server[{os.getpid()}]"
        self.url = url
        self._kwargs = kwargs
        try:  # once first, for a precise reason (the pool would only time out)
            self.connect().close()
        except psycopg.Error as err:
            # libpq's own words ("password authentication failed for user …") name the
            # user, never the password; the URL holds none (config.check refuses one)
            reason = str(err).strip().splitlines()[-1] if str(err).strip() else "no answer"
            raise PgDatabaseError(
                f"cannot connect to the database at {_where(url)}: {reason}"
            ) from None
        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url, kwargs=kwargs, min_size=1, max_size=pool_size, open=False, name="secure-send"
        )
        try:
            self.pool.open(wait=True, timeout=15)
        except PoolTimeout:
            self.pool.close()
            raise PgDatabaseError(f"cannot connect to the database at {_where(url)}") from None
        self._purged_at = -PURGE_SECONDS
        self._migrate()

    def connect(self) -> psycopg.Connection[Any]:
        """A connection of its own (LISTEN, an advisory session lock), autocommit."""
        return psycopg.connect(self.url, **self._kwargs)

    def _migrate(self) -> None:
        with self.pool.connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATE_LOCK,))
            try:
                conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
                row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
                current = int(row[0] or 0) if row else 0
                for version, sql in enumerate(PG_MIGRATIONS[current:], start=current + 1):
                    with conn.transaction():
                        conn.execute(sql.encode())  # several statements: simple protocol
                        conn.execute("INSERT INTO schema_version VALUES (%s)", (version,))
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATE_LOCK,))

    def schema_version(self) -> int:
        """The version the database is at."""
        return int(self.query("SELECT MAX(version) FROM schema_version")[0][0] or 0)

    def remember_nonce(
        self, key_id: str, nonce: str, expires: int, now: int, *, blocking: bool = True
    ) -> bool:
        """See :meth:`.storage.MetadataStore.remember_nonce`: one atomic statement, so
        two servers given the same request at once accept it at most once. Never on the
        event loop (``blocking=False`` raises :class:`WouldBlock`): a network round trip."""
        if not blocking:
            raise WouldBlock
        with self.pool.connection() as conn:
            if not self._purged_at <= now < self._purged_at + PURGE_SECONDS:
                conn.execute("DELETE FROM nonces WHERE expires < %s", (now,))
                self._purged_at = now
            cursor = conn.execute(translate(REMEMBER), (key_id, nonce, expires, now))
            return cursor.rowcount == 1

    def query_now(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Never answers on the event loop: a network round trip could wait."""
        raise WouldBlock

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement (autocommit) and return its rows."""
        with self.pool.connection() as conn:
            cursor = conn.execute(translate(sql), _params(params))
            return list(cursor.fetchall()) if cursor.description else []

    @contextlib.contextmanager
    def transaction(self) -> Iterator[PgTransaction]:
        """A write transaction, one at a time across every server (see the module
        docstring); committed at the end of the block, rolled back on an error."""
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            yield PgTransaction(conn)

    @contextlib.contextmanager
    def advisory(self, key: int) -> Iterator[bool]:
        """Try a session advisory lock on its own pooled connection for the block:
        yields whether this process got it (the sweeper's "once across servers")."""
        with self.pool.connection() as conn:
            got = bool(conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0])  # type: ignore[index]
            try:
                yield got
            finally:
                if got:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def close(self) -> None:
        """Close the pool."""
        self.pool.close()


def _where(url: str) -> str:
    """``host:port/db`` of a URL (for messages: never the user's password)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 5432}{parts.path}"
