"""File requests (提出依頼) through ``secure-send`` against the real server on
127.0.0.1: create, list, submit with no recipient to choose, the desk's status,
late and repeated submissions, reminders, and what a request may not do."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from secure_send.client import file_requests
from secure_send.client.api import ServerApi
from secure_send.client.request_status import CSV_COLUMNS
from secure_send.core.directory.log import Action
from secure_send.core.envelope.request import JST
from secure_send.org import ops
from tests.client.conftest import Enrol, open_session
from tests.directory_kit import HANAKO, JIRO, OPERATOR, ROLE, TARO
from tests.server.conftest import Server

TOMORROW = (dt.datetime.now(JST) + dt.timedelta(days=1)).date().isoformat()


def _file(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_request_is_answered_to_its_mailbox_and_tracked_by_the_desk(
    enrol: Enrol, tmp_path: Path
) -> None:
    hanako, taro, jiro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop"), enrol(JIRO, "pc")
    created = hanako.ok(
        "request",
        "create",
        "--into",
        ROLE,
        "--to",
        JIRO,
        "--title",
        "年末調整書類",
        "--due",
        TOMORROW,
        "--message",
        "源泉徴収票を提出してください",
    )
    request_id = created["request_id"]
    listed = jiro.ok("requests")["requests"]
    assert [(r["request_id"], r["title"], r["from"], r["due"], r["submitted"]) for r in listed] == [
        (request_id, "年末調整書類", ROLE, TOMORROW, False)
    ]
    # taro is on the desk (a member of the mailbox) and sees nobody has submitted
    assert taro.ok("request", "status", request_id) == {
        "request_id": request_id,
        "due": TOMORROW,
        "submitted": [],
        "pending": [{"id": JIRO}],
        "late": [],
        "unknown_own_devices": [],
    }
    paper = _file(tmp_path / "jiro", "源泉徴収票.csv", "髙橋,次郎\n")
    submitted = jiro.ok("submit", request_id, str(paper))
    assert jiro.ok("requests")["requests"][0]["submitted"] is True
    status = taro.ok("request", "status", request_id, "--csv", str(tmp_path / "status.csv"))
    assert [s["id"] for s in status["submitted"]] == [JIRO]
    assert status["pending"] == []
    assert status["late"] == []
    csv_text = (tmp_path / "status.csv").read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[0] == ",".join(CSV_COLUMNS)
    assert "源泉徴収票" not in csv_text
    assert JIRO in csv_text
    # the submission is an ordinary drop to both members of the mailbox
    for desk in (hanako, taro):
        inbox = desk.ok("inbox")["drops"]
        assert [(d["drop_id"], d["request"]) for d in inbox] == [(submitted["drop_id"], request_id)]
    got = taro.ok("receive", submitted["drop_id"], "-o", str(tmp_path / "desk"))
    assert (tmp_path / "desk" / paper.name).read_bytes() == paper.read_bytes()
    assert got["sender"] == JIRO


def test_only_an_addressee_can_submit_and_only_the_desk_can_remind(
    enrol: Enrol, tmp_path: Path
) -> None:
    hanako, taro, jiro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop"), enrol(JIRO, "pc")
    request_id = hanako.ok(
        "request", "create", "--into", "me", "--to", JIRO, "--title", "出張報告"
    )["request_id"]
    paper = _file(tmp_path, "report.txt", "報告")
    assert taro.ok("requests")["requests"] == []  # neither asked nor on the desk
    assert "no open file request" in taro.fails("submit", request_id, str(paper))
    assert "only the request's mailbox can remind" in jiro.fails("request", "remind", request_id)
    assert hanako.ok("request", "remind", request_id)["reminded"] == [JIRO]
    assert jiro.ok("requests")["requests"][0]["reminded"] is not None


def test_a_session_downloads_a_request_once_and_checks_its_signer_every_time(
    enrol: Enrol, org_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    hanako, jiro = enrol(HANAKO, "laptop"), enrol(JIRO, "pc")
    request_id = hanako.ok("request", "create", "--into", "me", "--to", JIRO, "--title", "報告")[
        "request_id"
    ]
    session = open_session(jiro)
    downloads: list[str] = []
    original = ServerApi.file_request

    def counted(api: ServerApi, wanted: str, text: bool = True) -> dict[str, Any]:
        answer = original(api, wanted, text)
        assert ("text" in answer) is text
        downloads.append(wanted)
        return answer

    monkeypatch.setattr(ServerApi, "file_request", counted)
    try:
        # a submission or the desk's status needs no title: the text is not downloaded
        bare = file_requests.fetch(session, session.directory(), request_id, text=False)
        assert bare.title is None
        assert bare.addressed
        downloads.clear()
        for _ in range(3):
            (view,) = file_requests.listing(session, session.directory())
            assert view.title == "報告"
        assert downloads == [request_id]  # 0.5 MB for 5,000 addressees: once per session
        # the requester's laptop is revoked: the kept request is dangerous at once
        ops.change(
            org_server.home, OPERATOR, Action.REVOKE_DEVICE, {"user": HANAKO, "device": "laptop"}
        )
        org_server.push()
        assert file_requests.listing(session, session.directory()) == []
        with pytest.raises(file_requests.UnverifiedRequest):
            file_requests.fetch(session, session.directory(), request_id)
        assert downloads == [request_id]
    finally:
        session.close()
