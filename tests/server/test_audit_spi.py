"""The real server's audit log says which drops hold specific personal information
(issue 19): every record about a drop whose signed manifest carries My Number counts —
create, upload, download, receipt, recall, expiry, a file request's submission — has
``contains_specific_personal_info: true`` and the counts; no other record has them; a
manifest with malformed counts is refused at create and leaves nothing behind."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from secure_send.core.audit import FIELDS, SPI_FIELDS
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.encoding import b64u, format_time, utc_now
from secure_send.core.envelope.manifest import MANIFEST_TYPE, SPI_FIELD
from secure_send.core.envelope.receipt import Receipt
from secure_send.core.signing import signed_message
from secure_send.server import sweeper
from secure_send.server.drop_store import DropStore
from secure_send.server.request_store import RequestRow
from secure_send.server.storage import MIGRATIONS, SqliteMetadataStore
from tests.directory_kit import HANAKO, TARO
from tests.server.conftest import Server
from tests.server.drop_kit import (
    Device,
    create_drop,
    hanako,
    json_bytes,
    manifest,
    sent_drop,
    taro_device,
)

SPI = (2, 37)  # two files, 37 likely My Numbers, as the sender's check counted them
BLOBS = {"f1": b"ciphertext one", "f2": b"ciphertext two"}


def _records(server: Server, drop_id: str) -> list[dict[str, Any]]:
    """The audit records about ``drop_id``, as the lines hold them."""
    return [r.to_json() for r in server.audit().records() if r.drop == drop_id]


def _spi(record: dict[str, Any]) -> tuple[Any, ...] | None:
    if not set(SPI_FIELDS) & set(record):
        return None
    return tuple(record[name] for name in SPI_FIELDS)


def _receipt(recipient: Device, keys: DeviceKeys, drop_id: str) -> None:
    hashes = tuple(hashlib.sha256(b).digest() for b in BLOBS.values())
    receipt = Receipt(drop_id, TARO, "desktop", hashes, format_time(utc_now()))
    body = json.dumps(receipt.signed_by(keys.signing).to_json()).encode()
    assert recipient.request("POST", f"/v1/drops/{drop_id}/receipts", body).status_code == 201


def _handle(server: Server, taro: DeviceKeys, spi: tuple[int, int] | None) -> str:
    """Send, download one blob, post a receipt, recall: every step that is audited."""
    sender, recipient = hanako(server), taro_device(server, taro)
    drop_id = sent_drop(sender, BLOBS, spi=spi)
    got = recipient.request("GET", f"/v1/drops/{drop_id}/blobs/f1")
    assert got.status_code == 200
    assert got.content == BLOBS["f1"]
    _receipt(recipient, taro, drop_id)
    assert sender.request("DELETE", f"/v1/drops/{drop_id}").status_code == 204
    return drop_id


ACTIONS = ["drop_create", "upload_complete", "upload_complete", "download", "receipt", "recall"]


def test_every_record_about_a_drop_with_my_numbers_says_so(
    server: Server, taro: DeviceKeys
) -> None:
    drop_id = _handle(server, taro, SPI)
    records = _records(server, drop_id)
    assert [r["action"] for r in records] == ACTIONS
    assert [_spi(r) for r in records] == [(True, *SPI)] * len(ACTIONS)
    # who handled it: the recipient's download and receipt name Taro's desktop
    assert [(r["actor"], r["device"]) for r in records[3:5]] == [(TARO, "desktop")] * 2
    assert server.audit().verify().records == len(list(server.audit().records()))


def test_records_about_other_drops_have_none_of_the_fields(
    server: Server, taro: DeviceKeys
) -> None:
    drop_id = _handle(server, taro, None)
    records = _records(server, drop_id)
    assert [r["action"] for r in records] == ACTIONS
    assert all(set(r) == set(FIELDS) for r in records)
    assert "specific_personal_info" not in server.audit_text()


def test_expiry_of_a_drop_with_my_numbers_says_so(server: Server, taro: DeviceKeys) -> None:
    sender = hanako(server)
    with_spi = sent_drop(sender, BLOBS, spi=(1, 1), expires=dt.timedelta(days=1))
    without = sent_drop(sender, BLOBS, expires=dt.timedelta(days=1))
    assert server.app_state is not None
    expired = sweeper.sweep(server.app_state, utc_now() + dt.timedelta(days=2))
    assert set(expired) == {with_spi, without}
    (record,) = [r for r in _records(server, with_spi) if r["action"] == "expiry_delete"]
    assert (_spi(record), record["actor"]) == ((True, 1, 1), HANAKO)
    (record,) = [r for r in _records(server, without) if r["action"] == "expiry_delete"]
    assert _spi(record) is None


def test_a_submission_with_my_numbers_says_so(server: Server, taro: DeviceKeys) -> None:
    """年末調整: a file request's submission holding My Numbers; its request_submit record
    (``drop`` names the request) says so as well as the drop's own records."""
    state = server.app_state
    assert state is not None
    now = int(utc_now().timestamp())
    request_id = "nenmatsuaaaaaaaaaaaaaa"
    row = RequestRow(request_id, TARO, TARO, "{}", b"t", None, now, now + 86400 * 30)
    assert state.requests.create(row, (HANAKO,))
    drop_id = sent_drop(hanako(server), BLOBS, spi=SPI, request=request_id)
    (submit,) = _records(server, request_id)
    assert (submit["action"], _spi(submit)) == ("request_submit", (True, *SPI))
    assert [_spi(r) for r in _records(server, drop_id)] == [(True, *SPI)] * 3


MALFORMED: dict[str, Any] = {
    "zero files": {"files": 0, "numbers": 3},
    "zero numbers": {"files": 1, "numbers": 0},
    "more files than numbers": {"files": 4, "numbers": 3},
    "a count as a string": {"files": "1", "numbers": 3},
    "a count as a bool": {"files": True, "numbers": 3},
    "a lone count": {"files": 1},
    "an extra field": {"files": 1, "numbers": 3, "sha256": "x"},
    "true instead of counts": True,
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_counts_are_refused_at_create(
    server: Server, taro: DeviceKeys, case: str
) -> None:
    sender = hanako(server)
    good = manifest(sender, BLOBS)
    body = good.manifest.body() | {SPI_FIELD: MALFORMED[case]}  # signed: only its form is bad
    sig = sender.keys.signing.sign(signed_message(MANIFEST_TYPE, body)).signature
    response = sender.request("POST", "/v1/drops", json_bytes({"body": body, "sig": b64u(sig)}))
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "bad_manifest"
    drop_id = good.manifest.drop_id
    assert sender.request("GET", f"/v1/drops/{drop_id}").status_code == 404
    assert _records(server, drop_id) == []
    # nothing half-made: the same drop id is still free for a well-formed manifest
    assert create_drop(sender, good).status_code == 201


def _old_database(path: Path, manifests: dict[str, str]) -> None:
    """A database at schema 6 (before the counts had columns) holding ``manifests``."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version (version INTEGER)")
    for version, sql in enumerate(MIGRATIONS[:6], start=1):
        for statement in (s for s in sql.split(";") if s.strip()):
            db.execute(statement)
        db.execute("INSERT INTO schema_version VALUES (?)", (version,))
    db.executemany(
        "INSERT INTO drops (id, sender, sender_device, manifest, expires, size, state)"
        " VALUES (?, 'a', 'x', ?, 9999999999, 1, 'committed')",
        list(manifests.items()),
    )
    db.commit()
    db.close()


def test_migration_7_takes_the_counts_of_drops_stored_before_it(
    server: Server, tmp_path: Path
) -> None:
    """A server that already accepted the manifest field stored such drops without the
    columns: migrating reads their counts from the stored manifest."""
    sender = hanako(server)
    with_spi, without = manifest(sender, BLOBS, spi=SPI), manifest(sender, BLOBS)
    path = tmp_path / "meta.sqlite"
    texts = {"with": json.dumps(with_spi.to_json()), "without": json.dumps(without.to_json())}
    _old_database(path, texts | {"not-json": "{not json", "empty": "{}"})
    store = DropStore(SqliteMetadataStore(path))
    rows = {d: store.get(d) for d in ("with", "without", "not-json", "empty")}
    got = {d: row.specific_personal_info if row else "missing" for d, row in rows.items()}
    assert got == {"with": SPI, "without": None, "not-json": None, "empty": None}
