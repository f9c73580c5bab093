"""A file request's title and message in the creator's cipher suite (issue 21), through
the real CLI and the real server on 127.0.0.1: under a CRYPTREC policy the stored text
is CMS and every addressee and desk member reads it; an age request keeps the form it
always had; a device without a P-256 key stops a CMS request before anything is stored;
the suite is signed, so a hostile server cannot swap it; a reader without a P-256 key
sees the title as unreadable; a submission follows the submitter's own policy."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from secure_send.client import file_requests
from secure_send.core.cms import authenveloped as cms
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.envelope.manifest import AGE_SUITE, CMS_SUITE, SignedManifest
from tests.client.conftest import Enrol, Person, enrol_without_p256, open_session
from tests.client.test_suite_crypto import Policies, _policy
from tests.directory_kit import HANAKO, JIRO, ROLE, TARO
from tests.server.conftest import Server


@pytest.fixture
def policies(monkeypatch: pytest.MonkeyPatch) -> Policies:
    return Policies(monkeypatch)


def _db(server: Server) -> sqlite3.Connection:
    return sqlite3.connect(server.config.state_dir / "meta.sqlite")


def _stored(server: Server, request_id: str) -> tuple[dict[str, Any], bytes]:
    """The signed document and the encrypted text as the server holds them."""
    with _db(server) as db:
        document, text = db.execute(
            "SELECT document, text FROM requests WHERE id = ?", (request_id,)
        ).fetchone()
    return json.loads(document), bytes(text)


def _create(person: Person, title: str, *to: str) -> str:
    argv = [arg for user in to for arg in ("--to", user)]
    made = person.ok("request", "create", "--into", ROLE, *argv, "--title", title)
    return str(made["request_id"])


def _title(person: Person, request_id: str) -> Any:
    listed = {r["request_id"]: r for r in person.ok("requests")["requests"]}
    return listed[request_id].get("title", listed[request_id])


def _submit(person: Person, request_id: str, tmp_path: Path) -> str:
    tmp_path.mkdir(parents=True, exist_ok=True)
    paper = tmp_path / f"{person.user}.txt"
    paper.write_text("源泉徴収票 髙橋", encoding="utf-8")
    return str(person.ok("submit", request_id, str(paper))["drop_id"])


def _suite_of_drop(person: Person, drop_id: str) -> str:
    session = open_session(person)
    try:
        return SignedManifest.from_json(session.api.drop(drop_id)).manifest.suite
    finally:
        session.close()


def test_a_cms_request_is_stored_in_cms_and_read_by_everyone_it_names(
    org_server: Server, enrol: Enrol, tmp_path: Path, policies: Policies
) -> None:
    hanako, taro, jiro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop"), enrol(JIRO, "pc")
    policies.by_user[HANAKO] = _policy(tmp_path, "hanako", "cms")
    request_id = _create(policies.as_(hanako), "年末調整（マイナンバー記載）", JIRO)
    document, text = _stored(org_server, request_id)
    assert document["body"]["suite"] == CMS_SUITE  # signed
    assert text[:2] == b"\x30\x80"  # AuthEnvelopedData, streamed BER
    assert b"age-encryption.org" not in text
    # Jiro's P-256 key opens it directly (CMS, not age under another name)
    keys = open_session(jiro).keys
    assert keys.p256 is not None
    point = keys.p256_public()
    assert point is not None
    plain = io.BytesIO()
    cms.decrypt(io.BytesIO(text), plain, keys.p256, cms.subject_key_id(point))
    assert json.loads(plain.getvalue())["title"] == "年末調整（マイナンバー記載）"
    # the addressee, the other desk member and the creator read it (none has a policy
    # but Hanako: a reader opens either suite)
    for reader in (jiro, taro, hanako):
        assert _title(policies.as_(reader), request_id) == "年末調整（マイナンバー記載）"
    # a submission is a drop: it follows the submitter's policy, not the request's
    age_drop = _submit(policies.as_(jiro), request_id, tmp_path / "a")
    assert _suite_of_drop(jiro, age_drop) == AGE_SUITE
    policies.by_user[JIRO] = _policy(tmp_path, "jiro", "cms")
    cms_drop = _submit(policies.as_(jiro), request_id, tmp_path / "c")
    assert _suite_of_drop(jiro, cms_drop) == CMS_SUITE
    for drop_id in (age_drop, cms_drop):
        got = policies.as_(taro).ok("receive", drop_id, "-o", str(tmp_path / drop_id))
        assert Path(got["files"][0]).read_text(encoding="utf-8") == "源泉徴収票 髙橋"


def test_an_age_request_keeps_the_form_it_had_before_the_suite(
    org_server: Server, enrol: Enrol, tmp_path: Path, policies: Policies
) -> None:
    hanako, jiro = enrol(HANAKO, "laptop"), enrol(JIRO, "pc")
    # CRYPTREC only for 機密性3: a request has no classification, so the default (age)
    policies.by_user[HANAKO] = _policy(tmp_path, "hanako", {"c3": "cms"})
    request_id = _create(policies.as_(hanako), "出張報告", JIRO)
    document, text = _stored(org_server, request_id)
    assert "suite" not in document["body"]
    before = "type request_id creator mailbox addressees due created expires text_sha256 directory"
    assert sorted(document["body"]) == sorted(before.split())
    assert text.startswith(b"age-encryption.org/v1\n")
    assert _title(jiro, request_id) == "出張報告"
    # the policy's default is what counts: CMS by default makes a CMS request
    policies.by_user[HANAKO] = _policy(tmp_path, "hanako2", {"default": "cms", "c1": "age"})
    again = _create(policies.as_(hanako), "出張報告 2", JIRO)
    assert _stored(org_server, again)[0]["body"]["suite"] == CMS_SUITE


def test_an_addressee_device_without_a_p256_key_stops_a_cms_request(
    org_server: Server,
    enrol: Enrol,
    tmp_path: Path,
    policies: Policies,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    jiro = enrol_without_p256(
        enrol, monkeypatch, JIRO, "old-pc"
    )  # Jiro's PC was enrolled before P-256 keys existed
    policies.by_user[HANAKO] = _policy(tmp_path, "hanako", "cms")
    code, _, err = policies.as_(hanako).run(
        "request", "create", "--into", ROLE, "--to", JIRO, "--to", TARO, "--title", "年末調整"
    )
    assert code == 1
    assert "file request must use the CRYPTREC suite" in err
    assert f"鈴木 太郎 ({TARO})" not in err  # Taro's PC has its key: only Jiro is named
    assert f"({JIRO})" in err
    assert "nothing was created" in err
    with _db(org_server) as db:  # nothing on the server
        assert db.execute("SELECT count(*) FROM requests").fetchone() == (0,)
    assert policies.as_(hanako).ok("requests")["requests"] == []
    # the same request in age goes: only the suite was missing
    policies.by_user.pop(HANAKO)
    request_id = _create(policies.as_(hanako), "年末調整", JIRO, TARO)
    assert _title(jiro, request_id) == "年末調整"
    assert _title(taro, request_id) == "年末調整"


def test_a_hostile_server_cannot_change_the_suite_of_a_request(
    org_server: Server, enrol: Enrol, tmp_path: Path, policies: Policies
) -> None:
    hanako, jiro = enrol(HANAKO, "laptop"), enrol(JIRO, "pc")
    policies.by_user[HANAKO] = _policy(tmp_path, "hanako", "cms")
    cms_request = _create(policies.as_(hanako), "年末調整", JIRO)
    policies.by_user.pop(HANAKO)
    age_request = _create(policies.as_(hanako), "出張報告", JIRO)
    with _db(org_server) as db:  # claim age for the CMS one, CMS for the age one
        for request_id, flip in ((cms_request, None), (age_request, CMS_SUITE)):
            (document,) = db.execute(
                "SELECT document FROM requests WHERE id = ?", (request_id,)
            ).fetchone()
            signed = json.loads(document)
            signed["body"].pop("suite", None)
            if flip is not None:
                signed["body"]["suite"] = flip
            db.execute(
                "UPDATE requests SET document = ? WHERE id = ?", (json.dumps(signed), request_id)
            )
    listed = {r["request_id"]: r for r in jiro.ok("requests")["requests"]}
    for request_id in (cms_request, age_request):
        assert listed[request_id]["verified"] is False
        assert "signature" in listed[request_id]["problem"]
    paper = tmp_path / "paper.txt"
    paper.write_text("x", encoding="utf-8")
    assert "failed verification" in jiro.fails("submit", cms_request, str(paper))
    assert jiro.ok("sent")["drops"] == []


def test_a_reader_without_a_p256_key_sees_the_title_as_unreadable(
    org_server: Server, enrol: Enrol, tmp_path: Path, policies: Policies
) -> None:
    hanako, jiro = enrol(HANAKO, "laptop"), enrol(JIRO, "pc")
    policies.by_user[HANAKO] = _policy(tmp_path, "hanako", "cms")
    request_id = _create(policies.as_(hanako), "年末調整", JIRO)
    session = open_session(jiro)
    try:
        # this PC's key store lost its P-256 scalar (an old 64-byte record)
        session.keys = DeviceKeys(session.keys.signing, session.keys.encryption)
        view = file_requests.fetch(session, session.directory(), request_id)
        assert view.title is None
        assert view.message == ""
        assert view.addressed  # still verified and listed: it can be submitted to
    finally:
        session.close()
    assert _title(jiro, request_id) == "年末調整"  # with its key, it reads


def test_a_text_too_big_for_the_server_stops_the_request_before_upload(
    org_server: Server,
    enrol: Enrol,
    tmp_path: Path,
    policies: Policies,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """About 90,000 devices fill the server's 16 MiB in CMS; the client's limit is
    lowered here (the server keeps its own) so that three devices are too many in CMS,
    not in age."""
    hanako, _, jiro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop"), enrol(JIRO, "pc")
    monkeypatch.setattr(file_requests, "MAX_TEXT_BYTES", 700)
    policies.by_user[HANAKO] = _policy(tmp_path, "hanako", "cms")
    code, _, err = policies.as_(hanako).run(
        "request", "create", "--into", ROLE, "--to", JIRO, "--title", "t"
    )
    assert code == 1
    assert "ask fewer people at once" in err
    with _db(org_server) as db:
        assert db.execute("SELECT count(*) FROM requests").fetchone() == (0,)
    policies.by_user.pop(HANAKO)  # age: ~100 bytes a device, it fits
    assert _title(jiro, _create(policies.as_(hanako), "t", JIRO)) == "t"
