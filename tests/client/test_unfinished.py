"""Unfinished sends as the app shows them (issue 16, item 2): what each is (names
decrypted in memory from the own metadata copy, never in clear on disk), a damaged
resume file reported, and discarding that fails closed while the server is away."""

from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path

import pytest

from secure_send.client import send as sending
from secure_send.client import unfinished
from secure_send.client.errors import Cancelled, ConnectionLost
from secure_send.client.session import Session
from tests.client.conftest import Enrol, open_session
from tests.client.test_interrupted import Proxy, _point_at
from tests.directory_kit import HANAKO, TARO
from tests.server.conftest import Server

NAME = "令和7年度_人事異動案.bin"


def _prepared(session: Session, folder: Path) -> sending.PendingSend:
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / NAME
    data.write_bytes(os.urandom(300 * 1024))
    return sending.prepare(
        session,
        session.directory(),
        sending.collect([data]),
        [TARO],
        expires=dt.timedelta(days=2),
        message="内密に",
    )


def _created_then_cut(session: Session, pending: sending.PendingSend) -> None:
    stop = threading.Event()
    with pytest.raises(Cancelled):
        sending.finish(session, pending, lambda *_: stop.set(), stop)
    assert pending.created


def test_an_unfinished_send_is_described_without_names_on_disk(
    enrol: Enrol, org_server: Server, tmp_path: Path
) -> None:
    hanako = enrol(HANAKO, "laptop")
    enrol(TARO, "desktop")
    session = open_session(hanako)
    try:
        pending = _prepared(session, tmp_path / "out")
        broken = hanako.home / "resume" / "ffffffffffffffffffffffffffffffff.json"
        broken.write_text('{"drop_id": 1}')
        warnings: list[str] = []
        (item,) = unfinished.unfinished_sends(session.profile, session.keys, warnings.append)
        assert len(warnings) == 1
        assert not broken.exists()
        assert item.drop_id == pending.drop_id
        assert item.recipients == (TARO,)
        assert item.files == ((NAME, 300 * 1024),)
        assert item.size > 300 * 1024  # the ciphertext of the file and the metadata
        assert item.created
        # read from the encrypted metadata: the message is nowhere in clear, the name only
        # as the path of the sender's own file (to re-read it), not by describing it
        for path in hanako.home.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert "内密に".encode() not in data, path
                if path.parent.name != "resume":
                    assert NAME.encode() not in data, path
        record = pending.blobs["f1"]
        assert record["source"] == str((tmp_path / "out" / NAME).resolve())
    finally:
        session.close()


def test_discard_deletes_the_drop_on_the_server_and_fails_closed_offline(
    enrol: Enrol, org_server: Server, tmp_path: Path
) -> None:
    hanako = enrol(HANAKO, "laptop")
    enrol(TARO, "desktop")
    proxy = Proxy(org_server.url)
    _point_at(hanako, proxy.url)
    session = open_session(hanako)
    try:
        created = _prepared(session, tmp_path / "one")
        _created_then_cut(session, created)
        local = _prepared(session, tmp_path / "two")  # never told to the server
        proxy.die()
        with pytest.raises(ConnectionLost):  # it may have been committed: ask the server
            unfinished.discard(session, created)
        assert unfinished.still_unfinished(session.profile, created.drop_id)
        unfinished.discard(session, local)  # cannot have reached anyone: forgotten
        assert not unfinished.still_unfinished(session.profile, local.drop_id)
        assert not (hanako.home / "outbox" / local.drop_id).exists()
    finally:
        proxy.die()
        session.close()
    _point_at(hanako, org_server.url)
    session = open_session(hanako)
    try:
        unfinished.discard(session, created)
        assert not unfinished.still_unfinished(session.profile, created.drop_id)
        states = {d["drop_id"]: d["state"] for d in session.api.sent()}
        assert states == {created.drop_id: "recalled"}  # its uploads deleted on the server
    finally:
        session.close()
