"""上長承認 end to end, through the real CLI and the real server on 127.0.0.1.

Hanako (会計課) sends to Taro (人事課); policy asks for approval of sends outside the
sender's department; her approver is Jiro (総務課). The send waits for Jiro, who can
read it, and reaches Taro only after Jiro's device signs an approval. A server that
releases it anyway, or attaches a decision about another drop, gets nothing but a
dangerous drop on every recipient's side; a sender without a usable approver is
stopped before anything is uploaded.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from secure_send.client.policy import POLICY_FILE_ENV
from secure_send.core.directory.log import Action
from secure_send.core.envelope.manifest import SignedManifest
from secure_send.org import ops
from tests.client.conftest import Enrol, Person, blob_files, open_session
from tests.client.test_file_requests import TOMORROW
from tests.client.test_mynumber_send import leftovers
from tests.directory_kit import HANAKO, JIRO, OPERATOR, TARO
from tests.server.conftest import Server

ICHIRO = "ichiro.tanaka"  # 企画課: a second recipient outside Hanako's department


def set_approver(server: Server, user: str, approver: str | None) -> None:
    """IT names ``user``'s approver: one signed update event, pushed to the server."""
    entry = server.home.entries()[user].with_changes(approver=approver)
    ops.change(server.home, OPERATOR, Action.UPDATE, {"entry": entry.to_json()})
    server.push()


@pytest.fixture
def policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This machine's IT policy: approval for sends outside the sender's department."""
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"approval_for": ["outside_department"]}), encoding="utf-8")
    monkeypatch.setenv(POLICY_FILE_ENV, str(path))
    return path


def _db(server: Server) -> sqlite3.Connection:
    return sqlite3.connect(server.config.state_dir / "meta.sqlite", isolation_level=None)


def _send(hanako: Person, tmp_path: Path, *to: str) -> str:
    report = tmp_path / "給与明細.txt"
    report.write_text("令和8年12月 給与明細\n", encoding="utf-8")
    argv = [arg for user in to for arg in ("--to", user)]
    return str(hanako.ok("send", str(report), *argv)["drop_id"])


def _manifest(person: Person, drop_id: str) -> SignedManifest:
    session = open_session(person)
    try:
        return SignedManifest.from_json(session.api.drop(drop_id))
    finally:
        session.close()


def test_a_send_waits_for_the_approver_who_reads_and_approves_it(
    org_server: Server, enrol: Enrol, tmp_path: Path, policy: Path
) -> None:
    hanako, taro, jiro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop"), enrol(JIRO, "pc")
    set_approver(org_server, HANAKO, JIRO)
    drop_id = _send(hanako, tmp_path, TARO)
    required = _manifest(hanako, drop_id).manifest.approval
    assert required is not None
    assert (required.by, required.approvers, required.reasons) == (
        JIRO,
        (JIRO,),
        ("outside_department",),
    )
    assert taro.ok("inbox")["drops"] == []  # withheld
    assert "no such drop" in taro.fails("receive", drop_id, "-o", str(tmp_path / "taro"))
    waiting = jiro.ok("approvals")["approvals"]
    assert [(w["drop_id"], w["reasons"]) for w in waiting] == [(drop_id, ["outside_department"])]
    code, text, _ = jiro.run_human("inbox")
    assert code == 0
    assert "[awaiting your approval]" in text
    saved = jiro.ok("receive", drop_id, "-o", str(tmp_path / "jiro"))  # reads it first
    assert [Path(f).name for f in saved["files"]] == ["給与明細.txt"]
    sent = hanako.ok("sent")["drops"][0]
    assert sent["approval"]["state"] == "pending"
    assert jiro.ok("approve", drop_id)["state"] == "approved"
    assert jiro.ok("approvals")["approvals"] == []
    [item] = taro.ok("inbox")["drops"]
    assert (item["drop_id"], item["verified"], item["approval"], item["decided_by"]) == (
        drop_id,
        True,
        "approved",
        JIRO,
    )
    got = taro.ok("receive", drop_id, "-o", str(tmp_path / "taro"))
    assert (tmp_path / "taro" / "給与明細.txt").read_text(encoding="utf-8").startswith("令和8年")
    assert got["sender"] == HANAKO
    approval = hanako.ok("sent")["drops"][0]["approval"]
    assert (approval["state"], approval["decided_by"]) == ("approved", JIRO)
    # a second decision is refused
    assert "already" in jiro.fails("reject", drop_id, "--reason", "やはり差し戻し")


def test_a_rejection_with_a_reason_goes_back_to_the_sender_only(
    org_server: Server, enrol: Enrol, tmp_path: Path, policy: Path
) -> None:
    hanako, taro, jiro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop"), enrol(JIRO, "pc")
    set_approver(org_server, HANAKO, JIRO)
    drop_id = _send(hanako, tmp_path, TARO)
    assert "no such drop" in taro.fails("reject", drop_id, "--reason", "x")  # held from him
    answer = jiro.ok("reject", drop_id, "--reason", "宛先が違います。人事課ではなく会計課へ")
    assert answer["state"] == "rejected"
    approval = hanako.ok("sent")["drops"][0]["approval"]
    assert (approval["state"], approval["decided_by"], approval["reason"]) == (
        "rejected",
        JIRO,
        "宛先が違います。人事課ではなく会計課へ",
    )
    code, text, _ = hanako.run_human("sent")
    assert code == 0
    assert "returned by jiro.takahashi" in text
    assert taro.ok("inbox")["drops"] == []  # never delivered
    assert blob_files(org_server) == []  # and its ciphertext is gone
    audit = (org_server.config.state_dir / "audit.jsonl").read_text(encoding="utf-8")
    assert '"rejection"' in audit
    assert "宛先が違います" not in audit  # the reason is never audited


def test_a_sender_without_a_usable_approver_is_stopped_before_anything_leaves(
    org_server: Server, enrol: Enrol, tmp_path: Path, policy: Path
) -> None:
    hanako, _taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    report = tmp_path / "a.txt"
    report.write_text("a", encoding="utf-8")
    code, _, err = hanako.run("send", str(report), "--to", TARO)
    assert code == 1
    assert "no approver" in err
    set_approver(org_server, HANAKO, JIRO)  # Jiro never set the app up
    err = hanako.fails("send", str(report), "--to", TARO)
    assert "not set up Secure Send" in err
    ops.change(org_server.home, OPERATOR, Action.DEPART, {"user": JIRO})
    org_server.push()
    err = hanako.fails("send", str(report), "--to", TARO)
    assert "approver jiro.takahashi has left" in err
    assert blob_files(org_server) == []
    assert leftovers(hanako) == []
    assert hanako.ok("sent")["drops"] == []
    # where IT's policy asks for nothing, the same send goes as before
    policy.write_text("{}", encoding="utf-8")
    assert hanako.ok("send", str(report), "--to", TARO)["drop_id"]


def test_a_server_that_releases_a_drop_without_approval_gets_an_alert_from_everyone(
    org_server: Server, enrol: Enrol, tmp_path: Path, policy: Path
) -> None:
    hanako, taro, ichiro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop"), enrol(ICHIRO, "pc")
    enrol(JIRO, "pc")
    set_approver(org_server, HANAKO, JIRO)
    drop_id = _send(hanako, tmp_path, TARO, ICHIRO)
    with _db(org_server) as db:  # the hostile server: un-hold and announce it
        seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM drops").fetchone()[0]
        db.execute("UPDATE drop_recipients SET held = 0, seq = ? WHERE drop_id = ?", (seq, drop_id))
        db.execute("UPDATE drops SET seq = ? WHERE id = ?", (seq, drop_id))
    for person in (taro, ichiro):
        [item] = person.ok("inbox")["drops"]
        assert (item["verified"], item["problem_code"]) == (False, "approval_missing")
        code, text, _ = person.run_human("inbox")
        assert "DANGER, do not open" in text
        out = tmp_path / person.user
        code, _, err = person.run("receive", drop_id, "-o", str(out))
        assert code == 1
        assert "approval" in err
        assert not out.exists() or list(out.iterdir()) == []


def test_a_decision_about_another_drop_does_not_release_this_one(
    org_server: Server, enrol: Enrol, tmp_path: Path, policy: Path
) -> None:
    hanako, taro, jiro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop"), enrol(JIRO, "pc")
    set_approver(org_server, HANAKO, JIRO)
    approved = _send(hanako, tmp_path, TARO)
    withheld = _send(hanako, tmp_path, TARO)
    jiro.ok("approve", approved)
    with _db(org_server) as db:  # replay the real decision onto the other drop
        decision = db.execute("SELECT approval FROM drops WHERE id = ?", (approved,)).fetchone()[0]
        seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM drops").fetchone()[0]
        db.execute(
            "UPDATE drops SET approval = ?, approval_state = 'approved', seq = ? WHERE id = ?",
            (decision, seq, withheld),
        )
        db.execute(
            "UPDATE drop_recipients SET held = 0, seq = ? WHERE drop_id = ?", (seq, withheld)
        )
    items = {i["drop_id"]: i for i in taro.ok("inbox")["drops"]}
    assert items[approved]["verified"] is True
    assert (items[withheld]["verified"], items[withheld]["problem_code"]) == (
        False,
        "approval_missing",
    )
    assert "another drop" in items[withheld]["problem"]


def test_a_sender_whose_client_skips_the_approval_is_caught_by_the_recipient(
    org_server: Server,
    enrol: Enrol,
    tmp_path: Path,
    policy: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    set_approver(org_server, HANAKO, JIRO)
    monkeypatch.setenv(POLICY_FILE_ENV, str(tmp_path / "none.json"))  # hers asks nothing
    drop_id = _send(hanako, tmp_path, TARO)
    assert _manifest(hanako, drop_id).manifest.approval is None
    monkeypatch.setenv(POLICY_FILE_ENV, str(policy))  # Taro's machine has IT's policy
    [item] = taro.ok("inbox")["drops"]
    assert (item["verified"], item["problem_code"]) == (False, "approval_missing")
    assert "sent without asking for one" in item["problem"]


def test_a_submission_to_a_file_request_needs_no_approval(
    org_server: Server, enrol: Enrol, tmp_path: Path, policy: Path
) -> None:
    """The desk's signed request fixed where a submission goes: nobody chose a recipient,
    so nothing waits for a superior (who would otherwise read every employee's papers)."""
    hanako, taro, jiro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop"), enrol(JIRO, "pc")
    set_approver(org_server, JIRO, TARO)  # Jiro (総務課) → the desk 会計課 窓口: outside
    argv = ("request", "create", "--into", "kaikei", "--to", JIRO, "--title", "年末調整書類")
    request_id = hanako.ok(*argv, "--due", TOMORROW)["request_id"]
    paper = tmp_path / "源泉徴収票.csv"
    paper.write_text("髙橋,次郎\n", encoding="utf-8")
    drop_id = jiro.ok("submit", request_id, str(paper))["drop_id"]
    assert _manifest(jiro, drop_id).manifest.approval is None
    for desk in (hanako, taro):
        [item] = desk.ok("inbox")["drops"]
        assert (item["drop_id"], item["verified"], item["approval"]) == (drop_id, True, "")
        # a receive judges it again, with the request it names looked up and verified
        got = desk.ok("receive", drop_id, "-o", str(tmp_path / desk.user))
        assert [Path(f).name for f in got["files"]] == ["源泉徴収票.csv"]
