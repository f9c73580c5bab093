"""What a file request cannot be made to do, by a hostile drop server or another member
of staff. The real server on 127.0.0.1 plays the attacker by editing its database
(``meta.sqlite``) between the steps, or a client calls the API with a crafted
document; each time the request is refused or shown as dangerous, and nothing is
submitted to it."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import sqlite3
from pathlib import Path

import pytest

from secure_send.client import send as sending
from secure_send.client.errors import ClientError, ServerError
from secure_send.core.age.api import encrypt as age_encrypt
from secure_send.core.age.x25519 import X25519Recipient
from secure_send.core.encoding import format_time, utc_now
from secure_send.core.envelope.request import FileRequest, new_request_id, text_document
from secure_send.core.error_codes import ErrorCode
from tests.client.conftest import EXTRA, Enrol, open_session
from tests.directory_kit import HANAKO, JIRO, ROLE, TARO
from tests.server.conftest import Server

ICHIRO = EXTRA[0][0]


def _db(server: Server) -> sqlite3.Connection:
    return sqlite3.connect(server.config.state_dir / "meta.sqlite")


def _paper(tmp_path: Path) -> Path:
    path = tmp_path / "源泉徴収票.txt"
    path.write_text("髙橋 次郎", encoding="utf-8")
    return path


def _forged(creator_session: object, mailbox: str, addressees: tuple[str, ...]) -> FileRequest:
    session = creator_session
    now = utc_now()
    checkpoint = session.directory().verified.checkpoint  # type: ignore[attr-defined]
    return FileRequest(
        request_id=new_request_id(),
        creator=session.me.user,  # type: ignore[attr-defined]
        creator_device=session.me.device,  # type: ignore[attr-defined]
        mailbox=mailbox,
        addressees=addressees,
        due=None,
        created=format_time(now),
        expires=format_time(now + dt.timedelta(days=30)),
        text_sha256=hashlib.sha256(b"t").digest(),
        directory_epoch=checkpoint.epoch,
        directory_header=checkpoint.header_hash,
        log_size=checkpoint.log_size,
        log_root=checkpoint.log_root,
    )


def test_a_request_in_a_mailbox_one_is_not_a_member_of_is_refused_and_shown_dangerous(
    enrol: Enrol, org_server: Server, tmp_path: Path
) -> None:
    hanako, taro, jiro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop"), enrol(JIRO, "pc")
    # a real member's request whose text is not the one it signed is refused too
    session = open_session(hanako)
    try:
        honest = _forged(session, ROLE, (TARO,)).sign(session.keys.signing).to_json()
        with pytest.raises(ServerError) as refused:
            session.api.create_request(honest, b"other text")
        assert refused.value.code == ErrorCode.BAD_FILE_REQUEST
        session.api.create_request(honest, b"t")  # the signed one is taken
    finally:
        session.close()
    # Jiro is not on the accounts desk: the server refuses his request "from" it …
    session = open_session(jiro)
    try:
        forged = _forged(session, ROLE, (TARO,))
        signed = forged.sign(session.keys.signing).to_json()
        with pytest.raises(ServerError) as refused:
            session.api.create_request(signed, b"t")
        assert refused.value.code == ErrorCode.BAD_FILE_REQUEST
    finally:
        session.close()
    # … and a hostile server that stores it anyway cannot make Taro trust it
    with _db(org_server) as db:
        db.execute(
            "INSERT INTO requests VALUES (?, ?, ?, ?, ?, NULL, 0, ?)",
            (forged.request_id, JIRO, ROLE, json.dumps(signed), b"t", 2**40),
        )
        db.execute("INSERT INTO request_addressees VALUES (?, ?, NULL)", (forged.request_id, TARO))
    listed = [r for r in taro.ok("requests")["requests"] if r["request_id"] == forged.request_id]
    assert listed == [
        {"request_id": forged.request_id, "verified": False, "problem": listed[0]["problem"]}
    ]
    assert "not a member" in listed[0]["problem"]
    assert "DANGER" in taro.run_human("requests")[1]
    err = taro.fails("submit", forged.request_id, str(_paper(tmp_path)))
    assert "could not be verified" in err or "failed verification" in err
    assert taro.ok("sent")["drops"] == []  # nothing was submitted


def test_the_server_cannot_swap_the_text_or_add_an_addressee(
    enrol: Enrol, org_server: Server, tmp_path: Path
) -> None:
    hanako, jiro = enrol(HANAKO, "laptop"), enrol(JIRO, "pc")
    ichiro = enrol(ICHIRO, "pc")
    first = hanako.ok("request", "create", "--into", ROLE, "--to", JIRO, "--title", "年末調整")
    second = hanako.ok("request", "create", "--into", ROLE, "--to", JIRO, "--title", "出張報告")
    with _db(org_server) as db:  # the second request's text under the first's document
        (text,) = db.execute(
            "SELECT text FROM requests WHERE id = ?", (second["request_id"],)
        ).fetchone()
        db.execute("UPDATE requests SET text = ? WHERE id = ?", (text, first["request_id"]))
        # and Ichiro, never asked, listed as an addressee of the second
        db.execute(
            "INSERT INTO request_addressees VALUES (?, ?, NULL)", (second["request_id"], ICHIRO)
        )
    listed = {r["request_id"]: r for r in jiro.ok("requests")["requests"]}
    assert listed[first["request_id"]]["verified"] is False
    assert "text" in listed[first["request_id"]]["problem"]
    # the server knows every device's public key: it writes its own title for the
    # first request, encrypted to Jiro with the right request id; the signed hash differs
    session = open_session(jiro)
    try:
        key = session.directory().by_id()[JIRO].active_devices()[0].enc_key
    finally:
        session.close()
    fake = text_document(first["request_id"], "提出先が変わりました", "外部アドレスへ")
    ciphertext = io.BytesIO()
    age_encrypt(io.BytesIO(json.dumps(fake).encode()), ciphertext, [X25519Recipient(key)])
    with _db(org_server) as db:
        db.execute(
            "UPDATE requests SET text = ? WHERE id = ?",
            (ciphertext.getvalue(), first["request_id"]),
        )
    listed = {r["request_id"]: r for r in jiro.ok("requests")["requests"]}
    assert listed[first["request_id"]]["verified"] is False
    assert "not the one the requester signed" in listed[first["request_id"]]["problem"]
    assert "提出先" not in jiro.run_human("requests")[1]
    assert listed[second["request_id"]]["title"] == "出張報告"
    (shown,) = ichiro.ok("requests")["requests"]
    assert shown["verified"] is False
    assert "does not name you" in shown["problem"]
    assert "failed verification" in ichiro.fails(
        "submit", second["request_id"], str(_paper(tmp_path))
    )


def test_only_an_addressee_can_submit_and_only_to_the_mailbox(enrol: Enrol, tmp_path: Path) -> None:
    hanako, taro, jiro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop"), enrol(JIRO, "pc")
    ichiro = enrol(ICHIRO, "pc")
    request_id = hanako.ok("request", "create", "--into", ROLE, "--to", JIRO, "--title", "提出")[
        "request_id"
    ]
    paper = _paper(tmp_path)
    # Ichiro (not asked) signs a manifest naming the request, bypassing the client's check
    session = open_session(ichiro)
    try:
        directory = session.directory()
        files = sending.collect([paper])
        pending = sending.prepare(
            session, directory, files, [ROLE], expires=dt.timedelta(days=1), request=request_id
        )
        with pytest.raises(ClientError) as refused:
            sending.finish(session, pending)
        assert refused.value.code == ErrorCode.NOT_ADDRESSEE
    finally:
        session.close()
    # Jiro (asked) tries to send his submission to himself and Ichiro instead of the desk
    session = open_session(jiro)
    try:
        directory = session.directory()
        pending = sending.prepare(
            session,
            directory,
            sending.collect([paper]),
            [ICHIRO],
            expires=dt.timedelta(days=1),
            request=request_id,
        )
        with pytest.raises(ClientError) as refused:
            sending.finish(session, pending)
        assert refused.value.code == ErrorCode.BAD_RECIPIENT
    finally:
        session.close()
    assert ichiro.ok("inbox")["drops"] == []
    assert taro.ok("inbox")["drops"] == []
    # the honest way works: to the mailbox, nobody chosen
    jiro.ok("submit", request_id, str(paper))
    assert [d["request"] for d in taro.ok("inbox")["drops"]] == [request_id]


def test_the_audit_log_says_who_submitted_when_and_never_a_title(
    enrol: Enrol, org_server: Server, tmp_path: Path
) -> None:
    hanako, _, jiro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop"), enrol(JIRO, "pc")
    title = "年末調整（源泉徴収票）"
    request_id = hanako.ok(
        "request", "create", "--into", ROLE, "--to", JIRO, "--to", ICHIRO, "--title", title
    )["request_id"]
    drop_id = jiro.ok("submit", request_id, str(_paper(tmp_path)))["drop_id"]
    hanako.ok("request", "remind", request_id)
    log = (org_server.config.state_dir / "audit.jsonl").read_text(encoding="utf-8")
    records = [json.loads(line) for line in log.splitlines()]
    mine = [
        (r["action"], r["actor"], r["drop"], r["size"]) for r in records if "request" in r["action"]
    ]
    assert mine[0] == ("request_create", HANAKO, request_id, 2)
    assert mine[1][:3] == ("request_submit", JIRO, request_id)
    assert mine[1][3] > 0
    assert mine[2] == ("request_remind", HANAKO, request_id, 1)  # Ichiro only
    assert any(r["action"] == "drop_create" and r["drop"] == drop_id for r in records)
    for secret in (title, "源泉徴収票", "髙橋"):
        assert secret not in log
