"""The sweeper's retention of ended drops' rows (issue 15, item 9), against the real server.

Expired and recalled drops used to keep every row (drop, recipients, blobs, receipts)
for ever: 25.6 MB after a 10-minute soak, and every sweep and sent list grew with them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from pathlib import Path

from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.encoding import format_time, utc_now
from secure_send.core.envelope.receipt import Receipt
from secure_send.server import sweeper
from secure_send.server.request_store import RequestRow
from tests.directory_kit import TARO, enrol_device
from tests.server.conftest import Server, make_home, running_server, server_config
from tests.server.drop_kit import Device, hanako, manifest, sent_drop, taro_device

DAY = dt.timedelta(days=1)
RETENTION = dt.timedelta(seconds=30 * 86400)  # the default [retention] drop_rows_seconds
TABLES = ("drops", "drop_recipients", "drop_blobs", "uploads", "receipts")


def rows_of(server: Server, drop_id: str) -> dict[str, int]:
    """How many rows each drop table holds for the drop (read from the database itself)."""
    counts = {}
    for table in TABLES:
        column = "id" if table == "drops" else "drop_id"
        sql = f"SELECT COUNT(*) FROM {table} WHERE {column} = ?"  # noqa: S608 - constants
        counts[table] = int(server.sql(sql, (drop_id,))[0][0])
    return counts


def receipt_for(recipient: Device, keys: DeviceKeys, drop_id: str, *blobs: bytes) -> None:
    """Taro's desktop posts its signed receipt for the drop (its blobs, in order)."""
    hashes = tuple(hashlib.sha256(blob).digest() for blob in blobs)
    receipt = Receipt(drop_id, TARO, "desktop", hashes, format_time(utc_now()))
    body = json.dumps(receipt.signed_by(keys.signing).to_json()).encode()
    assert recipient.request("POST", f"/v1/drops/{drop_id}/receipts", body).status_code == 201


def test_rows_of_ended_drops_are_deleted_after_the_retention(
    server: Server, taro: DeviceKeys
) -> None:
    sender, recipient = hanako(server), taro_device(server, taro)
    expired_old = sent_drop(sender, {"f1": b"one"}, expires=DAY)
    receipt_for(recipient, taro, expired_old, b"one")
    recalled_old = sent_drop(sender, {"f1": b"two", "f2": b"three"}, expires=DAY)
    receipt_for(recipient, taro, recalled_old, b"two", b"three")
    assert sender.request("DELETE", f"/v1/drops/{recalled_old}").status_code == 204
    # an upload in progress when it expired: its uploads row must go too
    unfinished = manifest(sender, {"f1": b"four"}, expires=DAY)
    body = json.dumps(unfinished.to_json()).encode()
    assert sender.request("POST", "/v1/drops", body).status_code == 201
    expired_young = sent_drop(sender, {"f1": b"five"}, expires=10 * DAY)
    old = (expired_old, recalled_old, unfinished.manifest.drop_id)
    assert all(rows_of(server, d)["drops"] == 1 for d in old)
    state = server.app_state
    assert state is not None
    now = utc_now()

    # within the retention: expired, but every row is kept (the sender's sent list, 410s)
    expired = sweeper.sweep(state, now + DAY + RETENTION - dt.timedelta(hours=1))
    assert set(expired) == {expired_old, unfinished.manifest.drop_id, expired_young}
    assert all(rows_of(server, d)["drops"] == 1 for d in old)
    assert rows_of(server, recalled_old)["receipts"] == 1

    # past it: the drops that ended more than the retention ago are gone, table by table
    assert sweeper.sweep(state, now + DAY + RETENTION + dt.timedelta(hours=1)) == []
    for drop_id in old:
        assert rows_of(server, drop_id) == dict.fromkeys(TABLES, 0), drop_id
    assert rows_of(server, expired_young)["drops"] == 1
    assert rows_of(server, expired_young)["drop_blobs"] == 1
    sent = [d["drop_id"] for d in sender.request("GET", "/v1/sent").json()["drops"]]
    assert sent == [expired_young]

    # the audit log does not need the rows: it still verifies and holds their history
    log = server.audit()
    log.verify()
    history = {(r.action, r.drop) for r in log.records()}
    assert {("drop_create", expired_old), ("receipt", expired_old)} <= history
    assert {("expiry_delete", expired_old), ("recall", recalled_old)} <= history


def test_the_running_sweeper_applies_the_retention(tmp_path: Path) -> None:
    """The lifespan's sweeper, not only a test's call, deletes ended drops' rows."""
    home, keys = make_home(tmp_path / "org")
    config = server_config(home, port=0, sweep_interval_seconds=1, retention_drop_rows_seconds=1)
    with running_server(home, keys, config) as server:
        enrol_device(server.home, TARO, "desktop", "人事課のデスクトップ")
        server.push()
        sender = hanako(server)
        short = sent_drop(sender, {"f1": b"short"}, expires=dt.timedelta(seconds=2))
        kept = sent_drop(sender, {"f1": b"kept"}, expires=DAY)
        deadline = time.monotonic() + 20
        while rows_of(server, short)["drops"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert rows_of(server, short) == dict.fromkeys(TABLES, 0)
        assert rows_of(server, kept)["drops"] == 1


def test_closed_file_requests_are_forgotten_after_the_retention(server: Server) -> None:
    state = server.app_state
    assert state is not None
    now = int(utc_now().timestamp())
    for request_id, expires in (
        ("closedaaaaaaaaaaaaaaaa", now),
        ("openaaaaaaaaaaaaaaaaaa", now + 86400 * 90),
    ):
        row = RequestRow(request_id, "hanako.sato", "kaikei", "{}", b"t", None, now, expires)
        assert state.requests.create(row, ("taro.suzuki",))
    sweeper.sweep(state, utc_now() + RETENTION - dt.timedelta(hours=1))
    assert state.requests.get("closedaaaaaaaaaaaaaaaa") is not None  # closed, but kept a while
    sweeper.sweep(state, utc_now() + RETENTION + DAY)
    assert state.requests.get("closedaaaaaaaaaaaaaaaa") is None
    assert not state.requests.is_addressee("closedaaaaaaaaaaaaaaaa", "taro.suzuki")
    assert state.requests.get("openaaaaaaaaaaaaaaaaaa") is not None
