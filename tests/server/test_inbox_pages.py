"""Issue 17, item 4: the inbox pages by a change cursor against the real server.

``GET /v1/inbox?after=&limit=`` answers only the changes after the cursor, at most
``limit`` of them, with the next ``cursor`` and ``more``; a recall or an expiry is a
change a cursor holder is told about; nobody but a recipient ever sees a drop, and a
page costs the same two statements however many drops the desk holds.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.encoding import utc_now
from secure_send.server.drop_store import ANY_AFTER, DropStore
from secure_send.server.storage import MIGRATIONS, SqliteMetadataStore
from secure_send.server.sweeper import sweep
from tests.directory_kit import JIRO, TARO
from tests.server.conftest import Server
from tests.server.drop_kit import (
    Device,
    create_drop,
    hanako,
    manifest,
    plant_drops,
    sent_drop,
    taro_device,
)


def _page(device: Device, query: str) -> dict[str, Any]:
    response = device.request("GET", f"/v1/inbox?{query}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _ids(page: dict[str, Any]) -> list[str]:
    return [d["drop_id"] for d in page["drops"]]


def test_1200_drops_are_read_in_three_pages(server: Server, taro: DeviceKeys) -> None:
    state = server.app_state
    assert state is not None
    sender = hanako(server)
    planted = plant_drops(state.drops, [manifest(sender, {"f1": b"x"}) for _ in range(1200)])
    recipient = taro_device(server, taro)

    seen: list[str] = []
    cursor, pages = 0, []
    while True:
        page = _page(recipient, f"after={cursor}&limit=500")
        pages.append(len(page["drops"]))
        seen += _ids(page)
        assert page["cursor"] == page["drops"][-1]["seq"] > cursor
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert pages == [500, 500, 200]
    assert seen == planted  # commit order, each once
    entry = page["drops"][0]
    assert set(entry) == {"drop_id", "state", "seq", "manifest", "receipts"}  # drop_json's
    assert entry["state"] == "committed"
    assert entry["receipts"] == []

    # nothing after the cursor: an empty page that keeps it, at once without wait
    idle = _page(recipient, f"after={cursor}")
    assert idle == {"drops": [], "cursor": cursor, "more": False}
    assert len(_page(recipient, "after=0")["drops"]) == 500  # the default limit
    assert len(_page(recipient, "after=0&limit=1000")["drops"]) == 1000
    for bad in ("limit=0", "limit=1001", "after=-1"):
        assert recipient.request("GET", f"/v1/inbox?{bad}").status_code == 400


@pytest.mark.embedded_only
def test_a_page_is_two_statements_however_many_drops(server: Server, taro: DeviceKeys) -> None:
    """One join for the page and one query for the caller's receipts on it — not one
    query per drop — and an idle poll reads the recipient index only, once, on the
    event loop's own connection (no worker thread: see ``server/loop_db.py``)."""
    state = server.app_state
    assert state is not None
    sender = hanako(server)
    plant_drops(state.drops, [manifest(sender, {"f1": b"x"}) for _ in range(300)])
    recipient = taro_device(server, taro)
    recipient.request("GET", "/v1/whoami")  # the loop's connection is opened on first use
    statements: dict[str, list[str]] = {"store": [], "loop": []}

    def counter(kind: str) -> Callable[[str], None]:
        def counted(sql: str) -> None:
            if "drop" in sql or "receipts" in sql:  # not the signature nonces
                statements[kind].append(sql)

        return counted

    store = state.drops.db
    assert isinstance(store, SqliteMetadataStore)  # counts SQLite's statements
    conn = store._db  # counting what the store runs, not changing it
    loop = store.loop._db
    assert loop is not None
    conn.set_trace_callback(counter("store"))
    loop.set_trace_callback(counter("loop"))
    try:
        page = _page(recipient, "after=0&limit=1000")
        assert len(page["drops"]) == 300
        assert len(statements["store"]) == 2, statements
        assert len(statements["loop"]) == 1, statements  # the probe: something follows
        statements = {"store": [], "loop": []}
        assert _page(recipient, f"after={page['cursor']}")["drops"] == []
        assert statements["store"] == [], statements
        assert [s.split(" WHERE")[0] for s in statements["loop"]] == [ANY_AFTER.split(" WHERE")[0]]
    finally:
        conn.set_trace_callback(None)
        loop.set_trace_callback(None)
    for sql, index in (
        (
            "SELECT r.seq FROM drop_recipients r JOIN drops d"
            " ON d.id = r.drop_id WHERE r.user = 'x' AND r.seq > 1 ORDER BY r.seq LIMIT 5",
            "drop_recipients_user_seq",
        ),
        (ANY_AFTER.replace("?", "'x'", 1).replace("?", "1"), "COVERING INDEX"),
    ):
        plan = " ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
        assert index in plan, plan
        assert "TEMP B-TREE" not in plan, plan


def test_recall_and_expiry_after_the_cursor_reach_the_recipient(
    server: Server, taro: DeviceKeys
) -> None:
    state = server.app_state
    assert state is not None
    sender, recipient = hanako(server), taro_device(server, taro)
    recalled = sent_drop(sender, {"f1": b"one"})
    expiring = sent_drop(sender, {"f1": b"two"})
    first = _page(recipient, "after=0")
    assert _ids(first) == [recalled, expiring]

    # a long-poll waiting after the cursor is answered by the recall, at once
    answers: list[dict[str, Any]] = []
    poll = threading.Thread(
        target=lambda: answers.append(_page(recipient, f"after={first['cursor']}&wait=20"))
    )
    poll.start()
    deadline = time.monotonic() + 10
    while state.notifier.waiting(TARO) == 0:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    started = time.monotonic()
    assert sender.request("DELETE", f"/v1/drops/{recalled}").status_code == 204
    poll.join(15)
    assert time.monotonic() - started < 5
    [ended] = answers[0]["drops"]
    assert (ended["drop_id"], ended["state"]) == (recalled, "recalled")
    assert ended["seq"] > first["cursor"] == max(d["seq"] for d in first["drops"])

    assert sweep(state, utc_now() + dt.timedelta(days=2)) == [expiring]
    later = _page(recipient, f"after={answers[0]['cursor']}")
    assert [(d["drop_id"], d["state"]) for d in later["drops"]] == [(expiring, "expired")]
    # a first load has nothing to remove: ended drops are not listed, but read past
    fresh = _page(recipient, "after=0")
    assert fresh["drops"] == []
    assert fresh["cursor"] == later["cursor"]


def test_only_recipients_see_a_drop_or_its_end(
    server: Server, taro: DeviceKeys, jiro: DeviceKeys
) -> None:
    """A bystander's pages are empty before and after the drop ends; a drop never
    committed — even one recalled mid-upload — is no change for its recipients."""
    sender, recipient = hanako(server), taro_device(server, taro)
    bystander = Device(server, JIRO, "tablet", jiro)
    drop_id = sent_drop(sender, {"f1": b"abc"})
    unfinished = manifest(sender, {"f1": b"never uploaded"})
    assert create_drop(sender, unfinished).status_code == 201
    mine = _page(recipient, "after=0")
    assert _ids(mine) == [drop_id]
    assert _page(bystander, "after=0&limit=1") == {"drops": [], "cursor": 0, "more": False}

    for ended in (drop_id, unfinished.manifest.drop_id):
        assert sender.request("DELETE", f"/v1/drops/{ended}").status_code == 204
    told = _page(recipient, f"after={mine['cursor']}")
    assert [(d["drop_id"], d["state"]) for d in told["drops"]] == [(drop_id, "recalled")]
    for after in (0, 1, mine["cursor"]):
        page = _page(bystander, f"after={after}")
        assert page["drops"] == []
        assert page["more"] is False
    # the sender's own inbox holds nothing it sent to others
    assert _page(sender, "after=0")["drops"] == []
    assert httpx.get(server.url + "/v1/inbox?after=0", timeout=10).status_code == 401


def test_migration_6_pages_the_drops_of_an_older_database(tmp_path: Path) -> None:
    """A database made before the cursor (schema 5) keeps its drops listable: the
    migration copies each committed drop's seq onto its recipients' rows."""
    path = tmp_path / "meta.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version (version INTEGER)")
    for version, sql in enumerate(MIGRATIONS[:5], start=1):
        for statement in (s for s in sql.split(";") if s.strip()):
            db.execute(statement)
        db.execute("INSERT INTO schema_version VALUES (?)", (version,))
    row = "INSERT INTO drops (id, sender, sender_device, manifest, expires, size, state, seq)"
    db.execute(row + " VALUES ('d1', 'a', 'x', '{}', 9999999999, 1, 'committed', 7)")
    db.execute(row + " VALUES ('d2', 'a', 'x', '{}', 9999999999, 1, 'uploading', NULL)")
    db.executemany("INSERT INTO drop_recipients VALUES (?, 'b')", [("d1",), ("d2",)])
    db.commit()
    db.close()
    store = DropStore(SqliteMetadataStore(path))
    page = store.inbox_page("b", 0, 10, 0)
    assert [(d.id, d.seq) for d in page.drops] == [("d1", 7)]  # never the uncommitted one
    assert (page.cursor, page.more) == (7, False)
    assert store.inbox_page("b", 7, 10, 0).drops == []
