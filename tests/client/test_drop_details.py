"""Drop details against the real server: a drop sent to a role mailbox with a member
who has no device; the recipient and the sender both read its details (names, sizes,
message, classification, the role and who was left out); a tampered metadata blob
gives no details; older drops without the sender's record fall back to the
manifest's persons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from secure_send.client import send as sending
from secure_send.client.chosen import PERSON, ROLE, Chosen, parse_chosen
from secure_send.client.drop_details import DetailsCache, details_of, fetch_details
from secure_send.client.errors import ClientError
from secure_send.client.profile import Profile
from secure_send.client.session import Session
from secure_send.core.envelope.manifest import Classification, SignedManifest
from secure_send.core.error_codes import ErrorCode
from tests.client.conftest import Enrol, Person, blob_files
from tests.directory_kit import HANAKO, JIRO, TARO
from tests.directory_kit import ROLE as KAIKEI
from tests.server.conftest import Server

MESSAGE = "年末調整の書類です。\n<b>x</b> をご確認ください。"


@pytest.fixture
def opened() -> Iterator[list[Session]]:
    sessions: list[Session] = []
    yield sessions
    for session in sessions:
        session.close()


def _open(person: Person, sessions: list[Session]) -> Session:
    person.monkeypatch.setenv("SECURE_SEND_TEST_KEYSTORE", "1")
    session = Session.open(Profile(person.home))
    sessions.append(session)
    return session


def _send_to_role(session: Session, folder: Path) -> str:
    """Jiro sends two files to the 会計課 窓口 role (Hanako, Taro; only Taro enrolled)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "源泉徴収票.pdf").write_bytes(b"a" * 1234)
    (folder / "control\x1b[2J.txt").write_bytes(b"b" * 10)
    files = sending.collect([folder / "源泉徴収票.pdf", folder / "control\x1b[2J.txt"])
    pending = sending.prepare(
        session,
        session.directory(),
        files,
        [KAIKEI],
        expires=dt.timedelta(days=3),
        message=MESSAGE,
        classification=Classification.C3,
    )
    return sending.finish(session, pending)


def test_recipient_and_sender_read_the_details_of_a_role_drop(
    enrol: Enrol, opened: list[Session], tmp_path: Path
) -> None:
    jiro, taro = _open(enrol(JIRO, "pc"), opened), _open(enrol(TARO, "desktop"), opened)
    drop_id = _send_to_role(jiro, tmp_path / "out")
    role = Chosen(KAIKEI, ROLE, members=(TARO,), no_device=(HANAKO,))
    for session in (taro, jiro):  # the sender encrypted the metadata to itself too
        details = fetch_details(session, session.directory(), drop_id)
        assert details.drop_id == drop_id
        assert details.sender == JIRO
        assert details.message == MESSAGE  # as written: the app shows it as plain text
        assert {(f.name, f.size) for f in details.files} == {
            ("源泉徴収票.pdf", 1234),
            ("control\x1b[2J.txt", 10),
        }
        assert details.total == 1244
        assert details.classification is Classification.C3
        assert details.to == (role,)
        assert details.to_recorded
        assert details.expires > details.created
    assert details.roles_of(TARO) == [role]
    assert details.roles_of(HANAKO) == []  # she did not get it
    # a drop made before the record existed: the manifest's persons
    signed = SignedManifest.from_json(taro.api.drop(drop_id))
    older = details_of(signed.verify(taro.directory().by_id()), {"files": [], "message": ""})
    assert older.to == (Chosen(TARO, PERSON),)
    assert not older.to_recorded


def test_the_cache_fetches_once_and_keeps_only_the_newest(
    enrol: Enrol, opened: list[Session], org_server: Server, tmp_path: Path
) -> None:
    jiro, taro = _open(enrol(JIRO, "pc"), opened), _open(enrol(TARO, "desktop"), opened)
    first = _send_to_role(jiro, tmp_path / "a")
    second = _send_to_role(jiro, tmp_path / "b")
    directory = taro.directory()
    cache = DetailsCache(size=1)
    got = cache.fetch(taro, directory, first)
    for blob in blob_files(org_server):  # the server lost everything: the memory answers
        blob.unlink()
    assert cache.fetch(taro, directory, first) is got
    assert cache.get(first) is got
    with pytest.raises(ClientError):  # not fetched before: needs the server's blob
        cache.fetch(taro, directory, second)
    assert len(cache) == 1


def test_a_tampered_metadata_blob_gives_no_details(
    enrol: Enrol, opened: list[Session], org_server: Server, tmp_path: Path
) -> None:
    jiro, taro = _open(enrol(JIRO, "pc"), opened), _open(enrol(TARO, "desktop"), opened)
    drop_id = _send_to_role(jiro, tmp_path / "out")
    manifest = taro.api.drop(drop_id)["body"]
    (meta,) = [b for b in manifest["blobs"] if b["id"] == sending.METADATA_BLOB]
    (stored,) = [p for p in blob_files(org_server) if p.stat().st_size == meta["size"]]
    data = bytearray(stored.read_bytes())
    data[-1] ^= 1
    stored.write_bytes(bytes(data))
    cache = DetailsCache()
    with pytest.raises(ClientError) as caught:
        cache.fetch(taro, taro.directory(), drop_id)
    assert caught.value.code == ErrorCode.BLOB_TAMPERED
    assert cache.get(drop_id) is None


def test_the_record_is_believed_only_when_it_covers_the_manifest() -> None:
    record = [
        {"id": KAIKEI, "kind": "role", "members": [TARO], "no_device": [HANAKO]},
        {"id": JIRO, "kind": "person"},
    ]
    assert parse_chosen(record, [TARO, JIRO]) == (
        Chosen(KAIKEI, ROLE, (TARO,), (HANAKO,)),
        Chosen(JIRO, PERSON),
    )
    assert parse_chosen(record, [TARO, JIRO, "someone.else"]) is None  # hides a recipient
    assert parse_chosen(None, [TARO]) is None  # an older drop: no record
    assert parse_chosen([{"id": KAIKEI, "kind": "role", "members": "x"}], [TARO]) is None
    assert parse_chosen([{"id": 3, "kind": "person"}], [TARO]) is None
