"""Drops end to end against the real server: send, long-poll, download, receipt, recall, expiry."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from secure_send.core.age import X25519Identity, decrypt
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.encoding import format_time, utc_now
from secure_send.core.envelope.manifest import RecipientRef, SignedManifest
from secure_send.core.envelope.receipt import Receipt
from secure_send.server import drops
from tests.directory_kit import JIRO, TARO, enrol_device
from tests.server.conftest import Server
from tests.server.drop_kit import (
    Device,
    age_blob,
    create_drop,
    hanako,
    manifest,
    new_upload,
    patch,
    sent_drop,
    taro_device,
)

PLAIN = b"secret report " * 3000


def _code(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["code"])


def _wait_until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.005)


def _upload_in_two_patches(sender: Device, drop_id: str, cipher: bytes) -> int:
    path = new_upload(sender, drop_id, "reportblob", len(cipher))
    half = len(cipher) // 2
    assert patch(sender, path, 0, cipher[:half]).status_code == 204
    head = sender.request("HEAD", path, headers={"Tus-Resumable": "1.0.0"})
    assert head.headers["upload-offset"] == str(half)
    assert "upload-expires" in head.headers
    assert patch(sender, path, half, cipher[half:]).status_code == 204
    return half


def _commit_while_polling(
    server: Server, sender: Device, recipient: Device, drop_id: str
) -> list[Any]:
    """Commit while the recipient's long-poll waits on the server: the commit must wake it
    at once, not at the next database re-check (which the test has put 10 s away)."""
    assert server.app_state is not None
    notifier = server.app_state.notifier
    answered: list[tuple[httpx.Response, float]] = []

    def poll() -> None:
        response = recipient.request("GET", "/v1/inbox?wait=20")
        answered.append((response, time.monotonic()))

    poller = threading.Thread(target=poll)
    poller.start()
    _wait_until(lambda: notifier.waiting(recipient.user) == 1)  # it is waiting now
    started = time.monotonic()
    assert sender.request("POST", f"/v1/drops/{drop_id}/commit").status_code == 200
    poller.join(timeout=30)
    assert answered, "the long-poll did not answer"
    response, at = answered[0]
    assert at - started < drops.RECHECK_SECONDS / 4, at - started
    return list(response.json()["drops"])


def _download_in_two_ranges(recipient: Device, drop_id: str, size: int, half: int) -> bytes:
    blob_path = f"/v1/drops/{drop_id}/blobs/reportblob"
    first = recipient.request("GET", blob_path, headers={"Range": f"bytes=0-{half - 1}"})
    assert first.status_code == 206
    assert first.headers["content-range"] == f"bytes 0-{half - 1}/{size}"
    second = recipient.request("GET", blob_path, headers={"Range": f"bytes={half}-"})
    assert second.status_code == 206
    return first.content + second.content


def _receipt_round_trip(
    sender: Device, recipient: Device, signed: SignedManifest, keys: DeviceKeys
) -> None:
    drop_id = signed.manifest.drop_id
    hashes = (signed.manifest.blobs[0].sha256,)
    receipt = Receipt(drop_id, TARO, "desktop", hashes, format_time(utc_now()))
    body = json.dumps(receipt.signed_by(keys.signing).to_json()).encode()
    assert recipient.request("POST", f"/v1/drops/{drop_id}/receipts", body).status_code == 201
    stored = sender.request("GET", f"/v1/drops/{drop_id}/receipts").json()["receipts"]
    assert [Receipt.from_json(r).device for r in stored] == ["desktop"]
    sent = sender.request("GET", "/v1/sent").json()["drops"]
    assert sent[0]["receipts"] == [{"user": TARO, "device": "desktop"}]


def test_happy_path(server: Server, taro: DeviceKeys, monkeypatch: pytest.MonkeyPatch) -> None:
    # only a notification can end the inbox long-poll early (issue 14, item 30)
    monkeypatch.setattr(drops, "RECHECK_SECONDS", 10.0)
    sender, recipient = hanako(server), taro_device(server, taro)
    cipher = age_blob(taro, PLAIN)
    signed = manifest(sender, {"reportblob": cipher})
    assert create_drop(sender, signed).status_code == 201
    drop_id = signed.manifest.drop_id
    half = _upload_in_two_patches(sender, drop_id, cipher)
    listed = _commit_while_polling(server, sender, recipient, drop_id)
    assert [d["drop_id"] for d in listed] == [drop_id]
    assert listed[0]["manifest"] == signed.to_json()
    data = _download_in_two_ranges(recipient, drop_id, len(cipher), half)
    assert data == cipher
    out = io.BytesIO()
    decrypt(io.BytesIO(data), out, [X25519Identity(bytes(taro.encryption))])
    assert out.getvalue() == PLAIN
    _receipt_round_trip(sender, recipient, signed, taro)
    actions = {r.action for r in server.audit().records()}
    assert {"drop_create", "upload_complete", "download", "receipt"} <= actions
    assert "reportblob" not in server.audit_text()


def test_uncommitted_drop_invisible(server: Server, taro: DeviceKeys) -> None:
    sender, recipient = hanako(server), taro_device(server, taro)
    cipher = age_blob(taro, b"x")
    signed = manifest(sender, {"f1": cipher})
    create_drop(sender, signed)
    drop_id = signed.manifest.drop_id
    assert recipient.request("GET", "/v1/inbox").json()["drops"] == []
    assert _code(recipient.request("GET", f"/v1/drops/{drop_id}"), 404) == "not_found"
    assert _code(sender.request("POST", f"/v1/drops/{drop_id}/commit"), 409) == "incomplete"
    assert recipient.request("GET", "/v1/inbox").json()["drops"] == []


def test_bystander_gets_the_same_404(server: Server, taro: DeviceKeys, jiro: DeviceKeys) -> None:
    drop_id = sent_drop(hanako(server), {"f1": b"ciphertext"})
    bystander = Device(server, JIRO, "tablet", jiro)
    for suffix in ("", "/blobs/f1", "/receipts"):
        theirs = bystander.request("GET", f"/v1/drops/{drop_id}{suffix}")
        unknown = bystander.request("GET", f"/v1/drops/{'A' * 22}{suffix}")
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.content == unknown.content
    assert bystander.request("DELETE", f"/v1/drops/{drop_id}").content == unknown.content
    assert bystander.request("GET", "/v1/inbox").json()["drops"] == []


@pytest.mark.folder_store
def test_recall_deletes_blobs(server: Server, taro: DeviceKeys) -> None:
    sender, recipient = hanako(server), taro_device(server, taro)
    drop_id = sent_drop(sender, {"f1": b"one", "f2": b"two"})
    blob_dir = server.config.state_dir / "blobs"
    assert len([p for p in blob_dir.rglob("*") if p.is_file()]) == 2
    assert sender.request("DELETE", f"/v1/drops/{drop_id}").status_code == 204
    assert [p for p in blob_dir.rglob("*") if p.is_file()] == []
    assert _code(recipient.request("GET", f"/v1/drops/{drop_id}"), 410) == "recalled"
    assert _code(recipient.request("GET", f"/v1/drops/{drop_id}/blobs/f1"), 410) == "recalled"
    assert recipient.request("GET", "/v1/inbox").json()["drops"] == []
    actions = [r.action for r in server.audit().records()]
    assert "recall" in actions


def test_sweep_deletes_expired(server: Server, taro: DeviceKeys) -> None:
    from secure_send.server.sweeper import sweep

    sender = hanako(server)
    drop_id = sent_drop(sender, {"f1": b"old"})
    state = server.app_state
    assert state is not None
    assert sweep(state, utc_now()) == []
    assert sweep(state, utc_now() + dt.timedelta(days=2)) == [drop_id]
    blob_dir = server.config.state_dir / "blobs"
    assert [p for p in blob_dir.rglob("*") if p.is_file()] == []
    recipient = taro_device(server, taro)
    assert _code(recipient.request("GET", f"/v1/drops/{drop_id}"), 410) == "expired"
    actions = [r.action for r in server.audit().records()]
    assert "expiry_delete" in actions


@pytest.mark.folder_store
def test_a_drop_past_its_expiry_is_gone_before_the_sweeper_runs(
    server: Server, taro: DeviceKeys
) -> None:
    """Issue 14, item 23: expiry is the drop's own time, not the sweeper's next round
    (every minute, or never while it is failing): once it has passed, the recipient gets
    410 ``expired`` for the manifest and the blobs although nothing was deleted yet."""
    sender, recipient = hanako(server), taro_device(server, taro)
    drop_id = sent_drop(sender, {"f1": b"old"})
    assert recipient.request("GET", f"/v1/drops/{drop_id}").status_code == 200
    # the clock moves past the expiry: the row now says it expired a second ago
    server.sql("UPDATE drops SET expires = ? WHERE id = ?", (int(time.time()) - 1, drop_id))
    assert _code(recipient.request("GET", f"/v1/drops/{drop_id}"), 410) == "expired"
    assert _code(recipient.request("GET", f"/v1/drops/{drop_id}/blobs/f1"), 410) == "expired"
    # the sweeper has indeed not run: the drop is still committed and its blob on disk
    ((state,),) = server.sql("SELECT state FROM drops WHERE id = ?", (drop_id,))
    assert state == "committed"
    blob_dir = server.config.state_dir / "blobs"
    assert len([p for p in blob_dir.rglob("*") if p.is_file()]) == 1


def test_quota_and_policy(server: Server, taro: DeviceKeys) -> None:
    sender = hanako(server)
    half = server.config.quota_bytes // 2 + 1
    assert (
        create_drop(sender, manifest(sender, {"f1": b"x"}, sizes={"f1": half})).status_code == 201
    )
    second = manifest(sender, {"f1": b"x"}, sizes={"f1": half})
    assert _code(create_drop(sender, second), 413) == "quota"
    late = manifest(sender, {"f1": b"x"}, expires=dt.timedelta(days=400))
    assert _code(create_drop(sender, late), 400) == "bad_expiry"
    stranger = manifest(sender, {"f1": b"x"}, recipients=(RecipientRef(JIRO, ("tablet",)),))
    assert _code(create_drop(sender, stranger), 400) == "bad_recipient"
    ok = manifest(sender, {"f1": b"x"})
    assert create_drop(sender, ok).status_code == 201
    assert _code(create_drop(sender, ok), 409) == "drop_exists"
    recipient = taro_device(server, taro)
    assert _code(create_drop(recipient, ok), 403) == "not_sender"


@pytest.mark.folder_store
def test_recall_deletes_partial_uploads(server: Server, taro: DeviceKeys) -> None:
    sender = hanako(server)
    signed = manifest(sender, {"f1": b"0123456789"})
    create_drop(sender, signed)
    drop_id = signed.manifest.drop_id
    path = new_upload(sender, drop_id, "f1", 10)
    assert patch(sender, path, 0, b"01234").status_code == 204
    partial = server.config.state_dir / "partial"
    assert len(list(partial.iterdir())) == 1
    assert sender.request("DELETE", f"/v1/drops/{drop_id}").status_code == 204
    assert list(partial.iterdir()) == []
    assert sender.request("HEAD", path, headers={"Tus-Resumable": "1.0.0"}).status_code == 404
    again = sender.request("DELETE", f"/v1/drops/{drop_id}")
    assert _code(again, 410) == "recalled"


def test_inbox_cursor_returns_at_once_only_for_new(server: Server, taro: DeviceKeys) -> None:
    drop_id = sent_drop(hanako(server), {"f1": b"abc"})
    recipient = taro_device(server, taro)
    first = recipient.request("GET", "/v1/inbox?wait=10").json()
    assert [d["drop_id"] for d in first["drops"]] == [drop_id]
    started = time.monotonic()
    again = recipient.request("GET", f"/v1/inbox?wait=1&after={first['cursor']}").json()
    assert time.monotonic() - started >= 0.9
    assert again["cursor"] == first["cursor"]


def test_strict_ids_and_signatures(server: Server, taro: DeviceKeys) -> None:
    sender = hanako(server)
    drop_id = sent_drop(sender, {"f1": b"abc"})
    for path in (
        f"/v1/drops/{drop_id}/blobs/..%2F..%2Fmeta.sqlite",
        f"/v1/drops/{drop_id}/blobs/F1",
        "/v1/drops/short",
        "/v1/uploads/..%2F..%2Fmeta.sqlite",
    ):
        method = "HEAD" if "uploads" in path else "GET"
        headers = {"Tus-Resumable": "1.0.0"}
        assert sender.request(method, path, headers=headers).status_code == 404
    assert server.get("/v1/inbox").status_code == 401
    assert httpx.options(server.url + "/v1/uploads").status_code == 401


def test_bad_receipts(server: Server, taro: DeviceKeys) -> None:
    sender, recipient = hanako(server), taro_device(server, taro)
    signed = manifest(sender, {"f1": b"abc"})
    create_drop(sender, signed)
    drop_id = signed.manifest.drop_id
    sent = sent_drop(sender, {"f1": b"abc"})
    forged = Receipt(sent, TARO, "desktop", (b"\0" * 32,), format_time(utc_now()))
    body = json.dumps(forged.signed_by(taro.signing).to_json()).encode()
    answer = recipient.request("POST", f"/v1/drops/{sent}/receipts", body)
    assert _code(answer, 400) == "bad_receipt"
    garbage = recipient.request("POST", f"/v1/drops/{sent}/receipts", b"{}")
    assert _code(garbage, 400) == "bad_receipt"
    own = sender.request("POST", f"/v1/drops/{sent}/receipts", body)
    assert _code(own, 403) == "not_recipient"
    early = recipient.request("POST", f"/v1/drops/{drop_id}/receipts", body)
    assert _code(early, 404) == "not_found"
    assert _code(recipient.request("GET", f"/v1/drops/{sent}/receipts"), 404) == "not_found"


@pytest.mark.parametrize("poster", ["same-user-other-device", "another-recipient"])
def test_a_receipt_for_another_device_is_refused(
    server: Server, taro: DeviceKeys, jiro: DeviceKeys, poster: str
) -> None:
    """Issue 14, item 28: a receipt genuinely signed by Taro's desktop, posted by another
    device (Taro's own laptop, or Jiro, also a recipient) is refused: a device speaks
    only for itself, and the audit log must not say the laptop or Jiro opened it."""
    laptop_keys = enrol_device(server.home, TARO, "laptop")
    server.push()
    sender = hanako(server)
    recipients = (RecipientRef(TARO, ("desktop", "laptop")), RecipientRef(JIRO, ("tablet",)))
    drop_id = sent_drop(sender, {"f1": b"abc"}, recipients=recipients)
    hashes = (hashlib.sha256(b"abc").digest(),)
    receipt = Receipt(drop_id, TARO, "desktop", hashes, format_time(utc_now()))
    body = json.dumps(receipt.signed_by(taro.signing).to_json()).encode()
    if poster == "same-user-other-device":
        other = Device(server, TARO, "laptop", laptop_keys)
    else:
        other = Device(server, JIRO, "tablet", jiro)
    answer = other.request("POST", f"/v1/drops/{drop_id}/receipts", body)
    assert _code(answer, 400) == "bad_receipt"
    assert sender.request("GET", f"/v1/drops/{drop_id}/receipts").json()["receipts"] == []
    # control: the desktop itself may post it
    desktop = taro_device(server, taro)
    assert desktop.request("POST", f"/v1/drops/{drop_id}/receipts", body).status_code == 201
