"""The nonces table: one write per signed request, the same replay answers (issue 17,
item 4: an idle inbox poll's server CPU)."""

from __future__ import annotations

from pathlib import Path

from secure_send.server.nonce_table import PURGE_SECONDS
from secure_send.server.storage import SqliteMetadataStore

KEY = "hanako.sato/laptop"


def _rows(store: SqliteMetadataStore) -> list[tuple[str, int]]:
    return [(str(n), int(e)) for n, e in store.query("SELECT nonce, expires FROM nonces")]


def test_expired_nonces_are_purged_at_most_every_few_seconds(tmp_path: Path) -> None:
    """The purge (a second write transaction) no longer runs before every insert: an
    expired row waits for the next purge, PURGE_SECONDS later — and meanwhile still
    refuses nothing."""
    store = SqliteMetadataStore(tmp_path / "meta.sqlite")
    try:
        assert store.remember_nonce(KEY, "a" * 22, expires=91, now=90)  # purges (first)
        assert store.remember_nonce(KEY, "b" * 22, expires=200, now=92)  # "a" expired
        assert ("a" * 22, 91) in _rows(store)  # not purged yet: one write, not two
        assert store.remember_nonce(KEY, "a" * 22, expires=300, now=93)  # taken over
        assert not store.remember_nonce(KEY, "a" * 22, expires=300, now=94)  # replay
        assert not store.remember_nonce(KEY, "b" * 22, expires=200, now=200)  # last second
        assert store.remember_nonce(KEY, "c" * 22, expires=400, now=200 + PURGE_SECONDS)
        assert sorted(_rows(store)) == [("a" * 22, 300), ("c" * 22, 400)]  # "b" purged
    finally:
        store.close()


def test_a_clock_that_went_back_purges_again(tmp_path: Path) -> None:
    store = SqliteMetadataStore(tmp_path / "meta.sqlite")
    try:
        assert store.remember_nonce(KEY, "a" * 22, expires=50, now=1000)
        assert store.remember_nonce(KEY, "b" * 22, expires=2000, now=10)  # back in time
        assert store.remember_nonce(KEY, "c" * 22, expires=2000, now=60)  # purges "a"
        assert sorted(n for n, _ in _rows(store)) == ["b" * 22, "c" * 22]
    finally:
        store.close()
