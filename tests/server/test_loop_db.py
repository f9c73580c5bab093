"""The event loop's own connection (issue 17, item 4): it answers at once or raises
WouldBlock, never waits, never checkpoints, and shares the nonces with the store."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from secure_send.server.loop_db import WRITES_BEFORE_CHECKPOINT, WouldBlock
from secure_send.server.storage import SqliteMetadataStore

# about the embedded backend's own files (SQLite, audit.jsonl)
pytestmark = pytest.mark.embedded_only

KEY = "hanako.sato/laptop"
NOW = 1_000


def test_the_loop_does_not_wait_for_another_connections_write_lock(tmp_path: Path) -> None:
    """Another process (here: another connection) in a write transaction: the loop's
    write is refused at once, records nothing, and the worker-thread path (which
    waits) records it; a replay is then refused on either path."""
    store = SqliteMetadataStore(tmp_path / "meta.sqlite")
    other = sqlite3.connect(tmp_path / "meta.sqlite", isolation_level=None)
    try:
        assert store.remember_nonce(KEY, "z" * 22, NOW + 300, NOW)  # purged: none due
        assert store.remember_nonce(KEY, "y" * 22, NOW + 300, NOW, blocking=False)
        other.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        with pytest.raises(WouldBlock):
            store.remember_nonce(KEY, "a" * 22, NOW + 300, NOW, blocking=False)
        assert time.monotonic() - started < 0.5  # no busy handler (the store's waits 5 s)
        other.execute("COMMIT")
        assert store.query("SELECT COUNT(*) FROM nonces") == [(2,)]
        assert store.remember_nonce(KEY, "a" * 22, NOW + 300, NOW)  # the thread's path
        assert not store.remember_nonce(KEY, "a" * 22, NOW + 300, NOW, blocking=False)
        assert store.remember_nonce(KEY, "b" * 22, NOW + 300, NOW, blocking=False)
        assert not store.remember_nonce(KEY, "b" * 22, NOW + 300, NOW)  # seen by the store
    finally:
        other.close()
        store.close()


def test_the_loop_leaves_checkpoints_to_the_store(tmp_path: Path) -> None:
    """A commit on the loop never checkpoints (an fsync); after a bounded number of them
    its writes wait (WouldBlock) until the store's connection committed one."""
    store = SqliteMetadataStore(tmp_path / "meta.sqlite")
    try:
        assert store.remember_nonce(KEY, "first" + "x" * 17, NOW + 300, NOW)
        for i in range(WRITES_BEFORE_CHECKPOINT):
            assert store.remember_nonce(KEY, f"{i:022d}", NOW + 300, NOW, blocking=False)
        loop = store.loop._db
        assert loop is not None
        assert loop.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        assert loop.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL, as the store
        with pytest.raises(WouldBlock):
            store.remember_nonce(KEY, "late" + "x" * 18, NOW + 300, NOW, blocking=False)
        assert store.remember_nonce(KEY, "late" + "x" * 18, NOW + 300, NOW)
        assert store.remember_nonce(KEY, "next" + "x" * 18, NOW + 300, NOW, blocking=False)
        assert store.query_now("SELECT COUNT(*) FROM nonces") == [(WRITES_BEFORE_CHECKPOINT + 3,)]
    finally:
        store.close()


def test_a_due_purge_and_a_closed_store_are_left_to_a_thread(tmp_path: Path) -> None:
    store = SqliteMetadataStore(tmp_path / "meta.sqlite")
    with pytest.raises(WouldBlock):  # nothing purged yet: a purge is due
        store.remember_nonce(KEY, "a" * 22, NOW + 300, NOW, blocking=False)
    assert store.remember_nonce(KEY, "a" * 22, NOW + 300, NOW)  # purges, records
    assert store.remember_nonce(KEY, "b" * 22, NOW + 300, NOW + 1, blocking=False)
    store.close()
    with pytest.raises(WouldBlock):
        store.query_now("SELECT 1")
