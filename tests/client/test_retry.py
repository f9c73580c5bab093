"""Retrying a send (issue 16, item 2): the backoff schedule, which errors are retried,
and ``finish_retrying`` against a real server that is gone (the same pending send, each
wait announced, cancel ends a wait at once, an error a retry cannot fix is not retried)."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from pathlib import Path

import pytest

from secure_send.client import send as sending
from secure_send.client.errors import Cancelled, ClientError, ConnectionLost, ServerError
from secure_send.client.retry import Backoff, Retrying, finish_retrying, retryable
from secure_send.client.session import Session
from secure_send.core.error_codes import ErrorCode
from tests.client.conftest import Enrol, open_session
from tests.client.test_interrupted import Proxy, _point_at
from tests.directory_kit import HANAKO, TARO
from tests.server.conftest import Server

QUICK = Backoff(first=0.05, factor=2.0, cap=0.2, jitter=0.0)


def test_the_backoff_doubles_from_two_seconds_up_to_a_minute() -> None:
    middle = [Backoff().delay(n, rand=lambda: 0.5) for n in range(1, 9)]
    assert middle == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    # jitter spreads each wait by ±20 %, never beyond the cap
    assert Backoff().delay(2, rand=lambda: 0.0) == pytest.approx(3.2)
    assert Backoff().delay(2, rand=lambda: 1.0) == pytest.approx(4.8)
    assert Backoff().delay(6, rand=lambda: 1.0) == 60.0


def test_only_what_a_later_attempt_can_get_past_is_retried() -> None:
    assert retryable(ConnectionLost())
    for code in (ErrorCode.LOCKED, ErrorCode.RATE_LIMITED, ErrorCode.INTERNAL):
        assert retryable(ServerError(500, code, "x"))
    assert retryable(ServerError(503, ErrorCode.HTTP_ERROR, "a gateway's page"))
    assert not retryable(ServerError(404, ErrorCode.HTTP_ERROR, "another server"))
    for code in (
        ErrorCode.FILE_CHANGED,  # the person must send again
        ErrorCode.INSUFFICIENT_STORAGE,  # IT must act
        ErrorCode.SERVER_DIRECTORY_DAMAGED,
        ErrorCode.QUOTA,
        ErrorCode.UPLOAD_REWOUND,
        ErrorCode.RECALLED,
    ):
        assert not retryable(ClientError(code, "x"))
    assert not retryable(Cancelled())
    assert not retryable(OSError("disk"))


def _prepared(session: Session, folder: Path) -> sending.PendingSend:
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "名簿.bin"
    data.write_bytes(os.urandom(256 * 1024))
    return sending.prepare(
        session, session.directory(), sending.collect([data]), [TARO], expires=dt.timedelta(1)
    )


def test_a_dead_server_is_retried_on_the_same_send_until_cancelled(
    enrol: Enrol, org_server: Server, tmp_path: Path
) -> None:
    hanako = enrol(HANAKO, "laptop")
    enrol(TARO, "desktop")
    proxy = Proxy(org_server.url)
    _point_at(hanako, proxy.url)
    session = open_session(hanako)
    try:
        pending = _prepared(session, tmp_path / "out")
        proxy.die()  # the server goes away after the send was prepared
        cancel = threading.Event()
        notes: list[Retrying] = []

        def noted(note: Retrying) -> None:
            notes.append(note)
            if note.attempt == 3:
                cancel.set()  # the person presses 中止 during the third wait

        started = time.monotonic()
        with pytest.raises(Cancelled):
            finish_retrying(session, pending, None, cancel, noted, QUICK)
        assert time.monotonic() - started < 5
        assert [n.attempt for n in notes] == [1, 2, 3]
        assert [n.delay for n in notes] == [0.05, 0.1, 0.2]
        assert {n.code for n in notes} == {ErrorCode.CONNECTION_LOST}
        # still unfinished: the same drop can be finished later, never sent again
        assert (hanako.home / "resume" / f"{pending.drop_id}.json").is_file()
        _point_at(hanako, org_server.url)
        again = open_session(hanako)
        assert finish_retrying(again, pending, backoff=QUICK) == pending.drop_id
        again.close()
    finally:
        proxy.die()
        session.close()


def test_an_error_a_retry_cannot_fix_stops_at_once(
    enrol: Enrol, org_server: Server, tmp_path: Path
) -> None:
    hanako = enrol(HANAKO, "laptop")
    enrol(TARO, "desktop")
    session = open_session(hanako)
    try:
        pending = _prepared(session, tmp_path / "out")
        (tmp_path / "out" / "名簿.bin").write_bytes(b"changed since it was prepared")
        notes: list[Retrying] = []
        with pytest.raises(ClientError) as caught:
            finish_retrying(session, pending, notify=notes.append, backoff=QUICK)
        assert caught.value.code == ErrorCode.FILE_CHANGED
        assert notes == []
        assert not (hanako.home / "resume" / f"{pending.drop_id}.json").exists()  # hopeless
    finally:
        session.close()
