"""上長承認 on the real server (issue 20): a drop whose signed manifest asks for approval
is withheld from every recipient but its approvers until an approver's device posts a
signed decision; approving releases it, rejecting deletes its ciphertext unseen.

Hanako sends; Jiro (tablet) is her approver and also a recipient; Taro (desktop) is the
recipient the drop is held from. Runs on both backends (SQLite + folder, PostgreSQL + S3).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import nacl.signing
import pytest

from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.directory.log import Action
from secure_send.core.directory.model import Status
from secure_send.core.drop_state import DropState
from secure_send.core.encoding import format_time, utc_now
from secure_send.core.envelope.approval import Approval, Decision, manifest_digest
from secure_send.core.envelope.manifest import (
    ApprovalRequired,
    Classification,
    Manifest,
    RecipientRef,
    SignedManifest,
)
from secure_send.server import drops as drops_module
from secure_send.server.approval_store import Outcome, decide
from secure_send.server.drop_store import DropStore
from secure_send.server.migrations import MIGRATIONS
from secure_send.server.storage import SqliteMetadataStore, StorageError
from secure_send.server.sweeper import sweep
from tests.directory_kit import HANAKO, JIRO, OPERATOR, ROLE, TARO
from tests.server.conftest import Server
from tests.server.drop_kit import (
    Device,
    age_blob,
    create_drop,
    hanako,
    json_bytes,
    manifest,
    sent_drop,
    taro_device,
    upload_all,
)

REASON = "予算超過のため差し戻し REASON-7f3a"  # must never reach the audit log
PLAIN = b"approval test payload"


def _set_entry(server: Server, entry_id: str, **changes: Any) -> None:
    """IT changes one directory entry (as ``secure-send-admin set`` does) and the real
    directory signer carries it to the server."""
    old = server.home.entries()[entry_id]
    data = old.with_changes(**changes).with_changes(devices=(), status=Status.ACTIVE).to_json()
    server.home.append(OPERATOR, Action.UPDATE, {"entry": data})
    server.home.publish()
    server.push()


def _jiro(server: Server, keys: DeviceKeys) -> Device:
    return Device(server, JIRO, "tablet", keys)


@pytest.fixture
def parties(server: Server, taro: DeviceKeys, jiro: DeviceKeys) -> tuple[Device, Device, Device]:
    """(sender Hanako, held recipient Taro, approver Jiro), Jiro named Hanako's approver."""
    _set_entry(server, HANAKO, approver=JIRO)
    return hanako(server), taro_device(server, taro), _jiro(server, jiro)


def _refs(*users: tuple[str, str]) -> tuple[RecipientRef, ...]:
    return tuple(RecipientRef(user, (device,)) for user, device in users)


RECIPIENTS = _refs((TARO, "desktop"), (JIRO, "tablet"))


def _pending_manifest(
    sender: Device,
    blobs: dict[str, bytes],
    by: str = JIRO,
    approvers: tuple[str, ...] = (JIRO,),
    recipients: tuple[RecipientRef, ...] = RECIPIENTS,
) -> SignedManifest:
    plain = manifest(sender, blobs, recipients=recipients).manifest
    asked = ApprovalRequired(by=by, approvers=approvers, reasons=("c2",))
    return replace(plain, approval=asked).sign(sender.keys.signing)


def _pending_drop(sender: Device, keys: DeviceKeys, **kw: Any) -> tuple[Manifest, dict[str, bytes]]:
    """A committed drop waiting for approval; its manifest and blobs."""
    blobs = {"f1": age_blob(keys, PLAIN)}
    signed = _pending_manifest(sender, blobs, **kw)
    response = create_drop(sender, signed)
    assert response.status_code == 201, response.text
    upload_all(sender, signed.manifest.drop_id, blobs)
    commit = sender.request("POST", f"/v1/drops/{signed.manifest.drop_id}/commit")
    assert commit.status_code == 200, commit.text
    return signed.manifest, blobs


def _decision(
    m: Manifest,
    approver: Device,
    decision: Decision = Decision.APPROVED,
    *,
    key: nacl.signing.SigningKey | None = None,
    digest_of: Manifest | None = None,
) -> Approval:
    return Approval(
        drop_id=m.drop_id,
        manifest=manifest_digest(digest_of or m),
        approver=approver.user,
        device=approver.device,
        decision=decision,
        time=format_time(utc_now()),
        reason=REASON if decision is Decision.REJECTED else "",
        log_size=1,
        log_root=b"\1" * 32,
    ).signed_by(key or approver.keys.signing)


def _post(device: Device, drop_id: str, approval: Approval | dict[str, Any]) -> httpx.Response:
    body = approval.to_json() if isinstance(approval, Approval) else approval
    return device.request("POST", f"/v1/drops/{drop_id}/approval", json_bytes(body))


def _inbox(device: Device, after: int = 0) -> dict[str, Any]:
    response = device.request("GET", f"/v1/inbox?after={after}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _entry(listing: dict[str, Any], drop_id: str) -> dict[str, Any] | None:
    return next((d for d in listing["drops"] if d["drop_id"] == drop_id), None)


def _recipient_rows(server: Server, drop_id: str) -> dict[str, tuple[Any, int]]:
    rows = server.sql("SELECT user, seq, held FROM drop_recipients WHERE drop_id = ?", (drop_id,))
    return {user: (seq, held) for user, seq, held in rows}


def _records(server: Server, drop_id: str) -> list[Any]:
    return [r for r in server.audit().records() if r.drop == drop_id]


def test_held_recipient_sees_nothing_the_approver_does(
    server: Server, parties: tuple[Device, Device, Device]
) -> None:
    sender, taro, jiro = parties
    m, _ = _pending_drop(sender, taro.keys)
    base = f"/v1/drops/{m.drop_id}"
    unknown = "/v1/drops/dRoP_0123456789abcdefXYZ"
    # the held recipient: the same 404 as an id that does not exist, everywhere
    assert _inbox(taro) == {"drops": [], "cursor": 0, "more": False}
    for path in ("", "/blobs/f1", "/approval"):
        mine, none = taro.request("GET", base + path), taro.request("GET", unknown + path)
        assert (mine.status_code, mine.content) == (404, none.content), path
    receipt = taro.request("POST", base + "/receipts", b"{}")
    assert (receipt.status_code, receipt.json()["code"]) == (404, "not_found")
    assert _recipient_rows(server, m.drop_id) == {TARO: (None, 1), JIRO: (1, 0)}
    # the approver reads what they approve; the sender sees it pending
    listed = _entry(_inbox(jiro), m.drop_id)
    assert listed is not None
    assert listed["approval"] == {"state": "pending", "decision": None}
    assert jiro.request("GET", base + "/blobs/f1").status_code == 200
    assert jiro.request("GET", base + "/approval").json() == {"state": "pending", "decision": None}
    sent = _entry(sender.request("GET", "/v1/sent").json(), m.drop_id)
    assert sent is not None
    assert sent["approval"]["state"] == "pending"
    mine = sender.request("GET", base + "/approval").json()
    assert mine == {"state": "pending", "decision": None}


def test_a_drop_still_uploading_cannot_be_decided(
    server: Server, parties: tuple[Device, Device, Device]
) -> None:
    sender, taro, jiro = parties
    signed = _pending_manifest(sender, {"f1": age_blob(taro.keys, PLAIN)})
    assert create_drop(sender, signed).status_code == 201
    m = signed.manifest
    hidden = _post(jiro, m.drop_id, _decision(m, jiro))  # recipients see nothing yet
    assert (hidden.status_code, hidden.json()["code"]) == (404, "not_found")
    early = _post(sender, m.drop_id, _decision(m, sender))
    assert (early.status_code, early.json()["code"]) == (409, "incomplete")


def test_approval_releases_the_drop_and_wakes_the_long_poll(
    server: Server, parties: tuple[Device, Device, Device], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drops_module, "RECHECK_SECONDS", 10.0)  # only a notify can wake it
    sender, taro, jiro = parties
    m, blobs = _pending_drop(sender, taro.keys)
    assert server.app_state is not None
    notifier = server.app_state.notifier
    answered: list[tuple[httpx.Response, float]] = []

    def poll() -> None:
        response = taro.request("GET", "/v1/inbox?wait=20")
        answered.append((response, time.monotonic()))

    poller = threading.Thread(target=poll)
    poller.start()
    deadline = time.monotonic() + 10
    while notifier.waiting(TARO) != 1:
        assert time.monotonic() < deadline, "the long-poll never waited"
        time.sleep(0.01)
    approval = _decision(m, jiro)
    started = time.monotonic()
    response = _post(jiro, m.drop_id, approval)
    assert (response.status_code, response.json()) == (201, {"state": "approved"})
    poller.join(timeout=30)
    assert answered, "the long-poll did not answer"
    polled, at = answered[0]
    assert at - started < 2.5, at - started
    listed = _entry(polled.json(), m.drop_id)
    assert listed is not None
    assert listed["approval"] == {"state": "approved", "decision": approval.to_json()}
    got = taro.request("GET", f"/v1/drops/{m.drop_id}/blobs/f1")
    assert (got.status_code, got.content) == (200, blobs["f1"])
    state = taro.request("GET", f"/v1/drops/{m.drop_id}/approval").json()
    assert state == {"state": "approved", "decision": approval.to_json()}
    sent = _entry(sender.request("GET", "/v1/sent").json(), m.drop_id)
    assert sent is not None
    assert sent["approval"]["decision"] == approval.to_json()
    (record,) = [r for r in _records(server, m.drop_id) if r.action == "approval"]
    assert (record.actor, record.device, record.size) == (JIRO, "tablet", 0)


def test_rejection_deletes_the_ciphertext_unseen(
    server: Server, parties: tuple[Device, Device, Device]
) -> None:
    sender, taro, jiro = parties
    m, _ = _pending_drop(sender, taro.keys)
    assert server.app_state is not None
    stored = [b.store_id for b in server.app_state.drops.blobs(m.drop_id)]
    approval = _decision(m, jiro, Decision.REJECTED)
    response = _post(jiro, m.drop_id, approval)
    assert (response.status_code, response.json()) == (201, {"state": "rejected"})
    for store_id in stored:
        assert store_id is not None
        with pytest.raises(StorageError):
            server.app_state.blobs.open(store_id)
    # Taro never learns of it: no row with a seq, nothing on any page, 404
    assert _recipient_rows(server, m.drop_id)[TARO] == (None, 1)
    assert _inbox(taro)["drops"] == []
    assert _inbox(taro, after=1)["drops"] == []
    assert taro.request("GET", f"/v1/drops/{m.drop_id}").status_code == 404
    # the sender and the approver see it ended, and why
    sent = _entry(sender.request("GET", "/v1/sent").json(), m.drop_id)
    assert sent is not None
    assert sent["state"] == DropState.RECALLED
    assert sent["approval"] == {"state": "rejected", "decision": approval.to_json()}
    ended = _entry(_inbox(jiro, after=1), m.drop_id)
    assert ended is not None
    assert ended["state"] == DropState.RECALLED
    assert ended["approval"]["state"] == "rejected"
    gone = jiro.request("GET", f"/v1/drops/{m.drop_id}/blobs/f1")
    assert (gone.status_code, gone.json()["code"]) == (410, "approval_rejected")
    again = _post(jiro, m.drop_id, _decision(m, jiro))
    assert (again.status_code, again.json()["code"]) == (409, "already_decided")
    # audited as a rejection by the approver, size 0, and the reason is nowhere in it
    (record,) = [r for r in _records(server, m.drop_id) if r.action == "rejection"]
    assert (record.actor, record.size) == (JIRO, 0)
    assert "REASON-7f3a" not in server.audit_text()
    assert "REASON-7f3a" not in response.text


def test_only_a_listed_approver_decides(
    server: Server, parties: tuple[Device, Device, Device]
) -> None:
    sender, taro, jiro = parties
    m, _ = _pending_drop(sender, taro.keys)
    refused = _post(sender, m.drop_id, _decision(m, sender))
    assert (refused.status_code, refused.json()["code"]) == (403, "not_approver")
    # a recipient the drop is held from cannot even find it
    assert _post(taro, m.drop_id, _decision(m, taro)).status_code == 404
    plain = sent_drop(sender, {"f1": age_blob(taro.keys, PLAIN)}, recipients=RECIPIENTS)
    none = _post(jiro, plain, _decision(m, jiro))
    assert (none.status_code, none.json()["code"]) == (400, "no_approval_needed")
    got = jiro.request("GET", f"/v1/drops/{plain}/approval").json()
    assert got == {"state": "not_required", "decision": None}
    # drops without a requirement are listed exactly as before: no approval key
    listed = _entry(_inbox(jiro), plain)
    assert listed is not None
    assert "approval" not in listed
    sent = _entry(sender.request("GET", "/v1/sent").json(), plain)
    assert sent is not None
    assert "approval" not in sent
    assert _post(jiro, m.drop_id, _decision(m, jiro)).status_code == 201


def test_a_decision_that_does_not_verify_is_refused(
    server: Server, parties: tuple[Device, Device, Device]
) -> None:
    sender, taro, jiro = parties
    m, _ = _pending_drop(sender, taro.keys)
    other = replace(m, classification=Classification.C3)  # same drop id, another body
    forged = nacl.signing.SigningKey.generate()
    body = _decision(m, jiro).to_json()
    cases = {
        "another manifest": _decision(m, jiro, digest_of=other).to_json(),
        "forged signature": _decision(m, jiro, key=forged).to_json(),
        "another device": _decision(m, replace(jiro, device="phone")).to_json(),
        "not json": {"body": "x"},
        "edited after signing": {"body": body["body"] | {"time": "2020-01-01T00:00:00Z"}}
        | {"sig": body["sig"]},
    }
    for case, bad in cases.items():
        response = _post(jiro, m.drop_id, bad)
        assert (response.status_code, response.json()["code"]) == (400, "bad_approval"), case
    rejected = _decision(m, jiro, Decision.REJECTED, key=forged)
    response = _post(jiro, m.drop_id, rejected)
    assert response.status_code == 400
    assert "REASON-7f3a" not in response.text
    assert jiro.request("GET", f"/v1/drops/{m.drop_id}/approval").json()["state"] == "pending"
    first = _post(jiro, m.drop_id, _decision(m, jiro))
    assert first.status_code == 201
    second = _post(jiro, m.drop_id, _decision(m, jiro))
    assert (second.status_code, second.json()["code"]) == (409, "already_decided")


def test_create_checks_the_approvers_against_the_directory(
    server: Server, parties: tuple[Device, Device, Device]
) -> None:
    sender, taro, _ = parties
    blobs = {"f1": age_blob(taro.keys, PLAIN)}
    wrong = {
        "not her approver": _pending_manifest(sender, blobs, by=TARO, approvers=(TARO,)),
        "another approver listed": _pending_manifest(sender, blobs, approvers=(TARO,)),
    }
    for case, signed in wrong.items():
        response = create_drop(sender, signed)
        assert (response.status_code, response.json()["code"]) == (400, "bad_manifest"), case
        assert sender.request("GET", f"/v1/drops/{signed.manifest.drop_id}").status_code == 404
    _set_entry(server, HANAKO, approver=None)  # IT removed her approver meanwhile
    response = create_drop(sender, _pending_manifest(sender, blobs))
    assert (response.status_code, response.json()["code"]) == (400, "bad_manifest")


@pytest.fixture
def desk(server: Server, taro: DeviceKeys, jiro: DeviceKeys) -> tuple[Device, Device, Device]:
    """(Hanako, Taro, Jiro) where Hanako's approver is the accounts desk, of which Taro
    and Jiro are members: either may decide."""
    _set_entry(server, ROLE, members=(HANAKO, TARO, JIRO))
    _set_entry(server, HANAKO, approver=ROLE)
    return hanako(server), taro_device(server, taro), _jiro(server, jiro)


def test_a_decision_counts_only_from_its_own_device(
    server: Server, desk: tuple[Device, Device, Device]
) -> None:
    sender, t, j = desk
    m, _ = _pending_drop(sender, t.keys, by=ROLE, approvers=(TARO, JIRO))
    relayed = _post(t, m.drop_id, _decision(m, j))  # Jiro's genuine decision, sent by Taro
    assert (relayed.status_code, relayed.json()["code"]) == (400, "bad_approval")
    assert _post(j, m.drop_id, _decision(m, j)).status_code == 201


def test_concurrent_decisions_exactly_one_wins(
    server: Server, desk: tuple[Device, Device, Device]
) -> None:
    sender, t, j = desk
    taro = t.keys
    for _ in range(4):
        m, _blobs = _pending_drop(sender, taro, by=ROLE, approvers=(TARO, JIRO))
        decisions = [(t, _decision(m, t)), (j, _decision(m, j, Decision.REJECTED))]
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda d, i=m.drop_id: _post(d[0], i, d[1]), decisions))
        codes = sorted(a.status_code for a in answers)
        assert codes == [201, 409], [a.text for a in answers]
        kinds = {r.action for r in _records(server, m.drop_id)}
        assert len(kinds & {"approval", "rejection"}) == 1


def test_decide_is_guarded_in_the_store(
    server: Server, parties: tuple[Device, Device, Device]
) -> None:
    """The store's decide itself, from many threads at once: one changes the row."""
    sender, taro, _ = parties
    assert server.app_state is not None
    store = server.app_state.drops
    m, _ = _pending_drop(sender, taro.keys)
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(
            pool.map(lambda i: decide(store, m.drop_id, "approved", f'"{i}"'), range(8))
        )
    assert sorted(outcomes) == sorted([Outcome.DECIDED] + [Outcome.ALREADY] * 7)
    row = store.get(m.drop_id)
    assert row is not None
    assert row.approval_state == "approved"
    assert row.held == frozenset()
    # a drop recalled between the checks and the decision is not released
    ended, _ = _pending_drop(sender, taro.keys)
    assert sender.request("DELETE", f"/v1/drops/{ended.drop_id}").status_code == 204
    assert decide(store, ended.drop_id, "approved", '"x"') is Outcome.ENDED
    assert _recipient_rows(server, ended.drop_id)[TARO] == (None, 1)
    gone = store.get(ended.drop_id)
    assert gone is not None
    assert (gone.approval_state, gone.approval) == ("pending", None)


def test_a_pending_drop_expires_or_is_recalled_unseen(
    server: Server, parties: tuple[Device, Device, Device]
) -> None:
    sender, taro, jiro = parties
    assert server.app_state is not None
    expiring, _ = _pending_drop(sender, taro.keys)
    recalled, _ = _pending_drop(sender, taro.keys)
    just_now = int(utc_now().timestamp()) - 1  # expired, not yet past the rows' retention
    server.sql("UPDATE drops SET expires = ? WHERE id = ?", (just_now, expiring.drop_id))
    assert sweep(server.app_state, utc_now()) == [expiring.drop_id]
    assert sender.request("DELETE", f"/v1/drops/{recalled.drop_id}").status_code == 204
    for m in (expiring, recalled):
        assert _recipient_rows(server, m.drop_id)[TARO] == (None, 1)
        assert _entry(_inbox(jiro, after=1), m.drop_id) is not None  # the approver: ended
        late = _post(jiro, m.drop_id, _decision(m, jiro))
        assert late.status_code == 410
    assert _inbox(taro) == {"drops": [], "cursor": 0, "more": False}
    assert _inbox(taro, after=1)["drops"] == []
    # and the retention then forgets the rows, held ones included
    server.sql(
        "UPDATE drops SET expires = 1 WHERE id IN (?, ?)", (expiring.drop_id, recalled.drop_id)
    )
    sweep(server.app_state, utc_now())
    for m in (expiring, recalled):
        assert server.sql("SELECT 1 FROM drop_recipients WHERE drop_id = ?", (m.drop_id,)) == []


def _v7_database(path: Path, signed: SignedManifest) -> None:
    """A database at schema 7 (before approvals) holding one committed drop to Taro."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version (version INTEGER)")
    for version, sql in enumerate(MIGRATIONS[:7], start=1):
        for statement in (s for s in sql.split(";") if s.strip()):
            db.execute(statement)
        db.execute("INSERT INTO schema_version VALUES (?)", (version,))
    text = json.dumps(signed.to_json())
    db.execute(
        "INSERT INTO drops (id, sender, sender_device, manifest, expires, size, state, seq)"
        " VALUES (?, ?, 'laptop', ?, 9999999999, 1, 'committed', 1)",
        (signed.manifest.drop_id, HANAKO, text),
    )
    db.execute("INSERT INTO drop_recipients VALUES (?, ?, 1)", (signed.manifest.drop_id, TARO))
    db.commit()
    db.close()


@pytest.mark.embedded_only
def test_migration_8_keeps_old_drops_visible(
    server: Server, taro: DeviceKeys, tmp_path: Path
) -> None:
    sender = hanako(server)
    signed = manifest(sender, {"f1": b"x"})
    path = tmp_path / "meta.sqlite"
    _v7_database(path, signed)
    meta = SqliteMetadataStore(path)
    assert meta.schema_version() == len(MIGRATIONS) >= 8  # 9: key_adds (issue 21)
    store = DropStore(meta)
    row = store.get(signed.manifest.drop_id)
    assert row is not None
    assert (row.held, row.approval_state, row.approval) == (frozenset(), None, None)
    assert row.released == {TARO}
    page = store.inbox_page(TARO, 0, 10, 0)
    assert [(d.id, d.approval_state) for d in page.drops] == [(signed.manifest.drop_id, None)]
    assert store.idle_page(TARO, 0) is None  # the probe still finds it
