"""The ``nonces`` table's statements (replay protection, see :mod:`.auth`).

One write per request: a ``(key id, nonce)`` pair counts as a replay only while its
row has not expired (``expires >= now``), so an expired row is taken over by the
insert and the table needs no purge before each one — the same answers as the
former "delete every expired row, then insert or ignore", which made two write
transactions of every signed request. Expired rows are still deleted, at most
once per :data:`PURGE_SECONDS` (and whenever the clock went back), on the store's
own connection, so the table holds about a clock window's worth of requests.

Durability (unchanged by this module, checked before keeping it): the database runs
WAL with ``synchronous=NORMAL`` (:class:`.storage.SqliteMetadataStore`, and
:class:`.loop_db.LoopConnection` for its own connection): a commit is not fsynced,
so a power cut — not a process crash: the WAL is then in the page cache — can
lose the last commits. A nonce needs to outlive a crash only as long as its clock
window (``clock_skew_seconds``, 5 minutes by default): a request older than that
is refused by its ``created`` time anyway. The exposure is a request captured on
the wire and replayed within its window right after a power cut; FULL would close
it at an fsync per signed request.
"""

from __future__ import annotations

import sqlite3

from secure_send.server.loop_db import LoopConnection, WouldBlock

PURGE_SECONDS = 5  # expired nonces are deleted at most this often (unix seconds)
# a pair new to the table, or one whose row expired (taken over): one row changed;
# a pair still held: none (a replay)
REMEMBER = (
    "INSERT INTO nonces (key_id, nonce, expires) VALUES (?, ?, ?)"
    " ON CONFLICT (key_id, nonce) DO UPDATE SET expires = excluded.expires"
    " WHERE nonces.expires < ?"
)


class NonceTable:
    """Remember nonces on the store's connection or, without waiting, on the loop's."""

    def __init__(self, loop: LoopConnection) -> None:
        self.loop = loop
        self._purged_at = -PURGE_SECONDS  # when expired rows were last deleted

    def _purge_due(self, now: int) -> bool:
        return not self._purged_at <= now < self._purged_at + PURGE_SECONDS

    def remember(
        self, db: sqlite3.Connection, key_id: str, nonce: str, expires: int, now: int
    ) -> bool:
        """On the store's connection ``db`` (its lock held): True if the pair is new."""
        if self._purge_due(now):
            db.execute("DELETE FROM nonces WHERE expires < ?", (now,))
            self._purged_at = now
        cursor = db.execute(REMEMBER, (key_id, nonce, expires, now))
        self.loop.store_wrote()
        return cursor.rowcount == 1

    def remember_now(self, key_id: str, nonce: str, expires: int, now: int) -> bool:
        """On the loop's connection: True if the pair is new.

        Raises:
            WouldBlock: it would wait (a due purge, a lock; see :mod:`.loop_db`).
        """
        if self._purge_due(now):
            raise WouldBlock
        return self.loop.run(REMEMBER, (key_id, nonce, expires, now), write=True)[1] == 1
