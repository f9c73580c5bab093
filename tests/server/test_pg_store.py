"""PostgreSQL as the metadata store (issue 18): the guarantees SQLite gave one process,
kept across several servers over one database. Real PostgreSQL (tests/engines)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from secure_send.server.config import ConfigError, ServerConfig, load_config
from secure_send.server.drop_store import ANY_AFTER, DropStore
from secure_send.server.metadata import open_metadata_store
from secure_send.server.pg_audit import PgAuditLog
from secure_send.server.pg_locks import SWEEP_LOCK, UploadLeases
from secure_send.server.pg_migrations import PG_MIGRATIONS
from secure_send.server.pg_notify import payloads
from secure_send.server.pg_sql import translate
from secure_send.server.pg_store import PostgresMetadataStore
from tests.engines.postgres import Postgres
from tests.engines.shared import postgres

# PostgreSQL/S3 only: run once, in the scale-out pass (make test; conftest.py)
pytestmark = pytest.mark.scale_out

Pair = tuple[PostgresMetadataStore, PostgresMetadataStore]


@pytest.fixture(scope="module")
def pg() -> Postgres:
    return postgres()


@pytest.fixture
def url(pg: Postgres) -> str:
    return pg.unique_database()


@pytest.fixture
def two(pg: Postgres, url: str) -> Iterator[Pair]:
    """Two stores over one database: two servers."""
    a = PostgresMetadataStore(url, pg.password_file)
    b = PostgresMetadataStore(url, pg.password_file)
    yield a, b
    a.close()
    b.close()


def test_statements_are_translated_not_rewritten() -> None:
    assert translate("SELECT user FROM t WHERE user = ? AND x LIKE 'a%'") == (
        'SELECT "user" FROM t WHERE "user" = %s AND x LIKE \'a%%\''
    )
    # a ? or the word user inside a literal is text, not a mark or a column
    assert translate("SELECT 'user?' FROM t WHERE a = ?") == "SELECT 'user?' FROM t WHERE a = %s"
    assert translate("SELECT r.user, users FROM t") == 'SELECT r."user", users FROM t'
    assert translate("json_extract(request, '$.code_mac') IS NOT NULL") == (
        "(request::jsonb ->> 'code_mac') IS NOT NULL"
    )
    with pytest.raises(ValueError, match="quote"):
        translate("SELECT 'unpaired")


def test_servers_starting_at_once_migrate_once(pg: Postgres, url: str) -> None:
    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: PostgresMetadataStore(url, pg.password_file), range(4)))
    try:
        versions = stores[0].query("SELECT version FROM schema_version ORDER BY version")
        assert [v[0] for v in versions] == list(range(1, len(PG_MIGRATIONS) + 1))
        assert all(s.schema_version() == len(PG_MIGRATIONS) for s in stores)
    finally:
        for store in stores:
            store.close()


def test_migration_4_keeps_drops_stored_before_it_visible(pg: Postgres, url: str) -> None:
    """Approvals (issue 20) add columns: a drop stored at version 3 needs none, stays on
    its recipient's inbox and is probed as before."""
    conn: Any = pg.connect(url.rsplit("/", 1)[1])
    with conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER)")
        for version, sql in enumerate(PG_MIGRATIONS[:3], start=1):
            conn.execute(sql.encode())
            conn.execute("INSERT INTO schema_version VALUES (%s)", (version,))
        conn.execute(
            "INSERT INTO drops (id, sender, sender_device, manifest, expires, size, state, seq)"
            " VALUES ('old', 'a', 'x', '{}', 9999999999, 1, 'committed', 1)"
        )
        conn.execute("INSERT INTO drop_recipients VALUES ('old', 'taro', 1)")
    store = PostgresMetadataStore(url, pg.password_file)
    try:
        assert store.schema_version() == len(PG_MIGRATIONS) >= 4  # 5: key_adds (issue 21)
        drops = DropStore(store)
        row = drops.get("old")
        assert row is not None
        assert (row.held, row.approval_state, row.approval) == (frozenset(), None, None)
        page = drops.inbox_page("taro", 0, 10, 0)
        assert [(d.id, d.approval_state) for d in page.drops] == [("old", None)]
        assert store.query(ANY_AFTER, ("taro", 0)) == [(1,)]
    finally:
        store.close()


def test_a_replay_sent_to_two_servers_at_once_is_accepted_once(two: Pair) -> None:
    a, b = two
    for attempt in range(20):
        barrier = threading.Barrier(2)

        def remember(
            store: PostgresMetadataStore, n: int = attempt, barrier: threading.Barrier = barrier
        ) -> bool:
            barrier.wait()
            return store.remember_nonce("k", f"nonce-{n}", 2_000_000_000, 1_000)

        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(remember, (a, b)))
        assert sorted(answers) == [False, True]


def test_write_transactions_are_one_at_a_time_across_servers(two: Pair) -> None:
    """The next change ``seq`` is MAX + 1 inside a write transaction: without the
    cross-server write lock two servers would hand out the same number, and an inbox
    cursor would skip a drop."""
    a, b = two
    a.query("CREATE TABLE counter (n BIGINT)")
    a.query("INSERT INTO counter VALUES (0)")
    seen: list[int] = []
    lock = threading.Lock()

    def bump(store: PostgresMetadataStore) -> None:
        for _ in range(50):
            with store.transaction() as db:
                (n,) = db.execute("SELECT n FROM counter").fetchone()
                db.execute("UPDATE counter SET n = ?", (n + 1,))
                with lock:
                    seen.append(n + 1)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(bump, (a, b, a, b)))
    assert sorted(seen) == list(range(1, 201))
    assert a.query("SELECT n FROM counter") == [(200,)]


def test_one_audit_chain_for_every_server(two: Pair) -> None:
    a, b = two
    logs = (PgAuditLog(a), PgAuditLog(b))

    def append(i: int) -> None:
        logs[i % 2].append(action="download", actor="u1", drop="d" * 22, size=i)

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(append, range(120)))
    report = logs[0].verify(expected_head=logs[1].head())
    assert report.records == 120
    assert logs[1].head()[0] == 119
    # a record removed behind the servers' backs breaks the chain
    a.query("DELETE FROM audit_records WHERE seq = 60")
    with pytest.raises(Exception, match="seq"):
        logs[0].verify()


def test_a_patch_lock_holds_across_servers_and_dies_with_its_server(two: Pair) -> None:
    a, b = two
    on_a, on_b = UploadLeases(a), UploadLeases(b)
    assert on_a.claim("upload-1")
    assert not on_b.claim("upload-1")  # another server is writing it
    assert on_b.claim("upload-2")
    # server A is killed mid-PATCH: its connection drops, and the lock with it
    conn = on_a._held["upload-1"]
    conn.pgconn.finish()  # the socket closes without a word, as a SIGKILL leaves it
    for _ in range(50):
        if on_b.claim("upload-1"):
            break
        threading.Event().wait(0.1)
    else:
        pytest.fail("the lock outlived its server")


def test_the_sweeper_runs_on_one_server_at_a_time(two: Pair) -> None:
    a, b = two
    with a.advisory(SWEEP_LOCK) as mine:
        assert mine
        with b.advisory(SWEEP_LOCK) as theirs:
            assert not theirs
    with b.advisory(SWEEP_LOCK) as theirs:
        assert theirs


def _config(tmp_path: Path, pg: Postgres, **database: str) -> ServerConfig:
    lines = ["[database]", *(f'{k} = "{v}"' for k, v in database.items())]
    (tmp_path / "server.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_config(tmp_path)


def test_no_password_in_the_url_and_none_in_an_error(tmp_path: Path, pg: Postgres) -> None:
    secret = "hunter2-" + "x" * 8
    with pytest.raises(ConfigError, match="password_file") as err:
        _config(tmp_path, pg, url=f"postgresql://{pg.user}:{secret}@127.0.0.1:{pg.port}/x")
    assert secret not in str(err.value)
    wrong = tmp_path / "wrong"
    wrong.write_text(secret, encoding="utf-8")
    config = _config(tmp_path, pg, url=pg.url("postgres"), password_file=str(wrong))
    with pytest.raises(ConfigError) as err:
        open_metadata_store(config)
    assert secret not in str(err.value)
    assert f"127.0.0.1:{pg.port}" in str(err.value)
    (tmp_path / "empty").write_text("\n", encoding="utf-8")
    config = _config(tmp_path, pg, url=pg.url("postgres"), password_file="empty")
    with pytest.raises(ConfigError, match="empty"):
        open_metadata_store(config)


def test_a_notice_for_many_users_is_split_under_notifys_limit() -> None:
    # ids as JSON writes them: non-ASCII ones cost six bytes a character (\\uXXXX)
    users = {f"user{i:05d}.tanaka" for i in range(3000)} | {f"職員{i}" * 30 for i in range(50)}
    notices = payloads("origin", users)
    assert len(notices) > 1
    assert all(len(n.encode()) < 8000 for n in notices)
    assert set().union(*(json.loads(n)["u"] for n in notices)) == users
