"""Enrolment through the queue: the server only queues, the real directory signer
(on IT's side, with the organisation home) decides, signs and pushes.

Codes right, wrong, reused and expired; the signer down, then up; two requests
racing for one code; the audit records of each outcome.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from secure_send.core.directory.enrol import DeviceKeys, make_request
from secure_send.core.directory.verify import verify_directory
from secure_send.core.encoding import utc_now
from secure_send.org import ops
from secure_send.org.signer import DirectorySigner, embedded_signer
from secure_send.server.enrol_queue import EnrolQueue, QueueFull
from secure_send.server.storage import SqliteMetadataStore
from tests.directory_kit import TARO
from tests.server.conftest import Server

WRONG = "ABCD-EFGH-JKLM-NPQR-STUV-WXYZ"


def _queue(server: Server, code: str | None, device: str = "desktop") -> tuple[DeviceKeys, str]:
    keys = DeviceKeys.generate()
    request = make_request(keys, TARO, device, "人事課", code, utc_now())
    response = httpx.post(server.url + "/v1/enrol", json=request.to_json(), timeout=30)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["status"] == "queued"
    return keys, str(answer["ticket"])


def _status(server: Server, ticket: str, wait: float = 0) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/v1/enrol/{ticket}?wait={wait}", timeout=40)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _signer_round(server: Server) -> None:
    signer = DirectorySigner(server.home, server.url, batch_window=0)
    try:
        signer.run_once()
    finally:
        signer.close()


def _taro_devices(server: Server) -> list[str]:
    data = server.signed_get("/v1/directory").content
    verified = verify_directory(data, server.home.anchor(), now=utc_now())
    return [d.id for d in verified.by_id()[TARO].devices]


def _enrol_records(server: Server) -> list[tuple[str, str, str]]:
    log = server.audit()
    return [(r.actor, r.device, r.outcome) for r in log.records() if r.action == "enrol"]


def test_the_server_only_queues_until_the_signer_decides(server: Server) -> None:
    code = ops.issue_code(server.home, TARO)
    _, ticket = _queue(server, code)
    assert _status(server, ticket) == {"status": "queued", "reason": ""}
    assert _taro_devices(server) == []  # nothing changes without the signer
    _signer_round(server)
    assert _status(server, ticket) == {"status": "enrolled", "reason": ""}
    assert _taro_devices(server) == ["desktop"]


def test_wrong_reused_and_expired_codes_are_refused(server: Server) -> None:
    ops.issue_code(server.home, TARO)
    _, wrong = _queue(server, WRONG, "pc1")
    good_code = ops.issue_code(server.home, TARO)
    _, good = _queue(server, good_code, "pc2")
    _signer_round(server)
    _, reused = _queue(server, good_code, "pc3")  # spent by pc2
    expired_code = ops.issue_code(server.home, TARO, dt.timedelta(seconds=-1))
    _, expired = _queue(server, expired_code, "pc4")
    _signer_round(server)
    assert _status(server, wrong) == {"status": "refused", "reason": "bad_enrolment"}
    assert _status(server, good)["status"] == "enrolled"
    assert _status(server, reused) == {"status": "refused", "reason": "bad_enrolment"}
    assert _status(server, expired) == {"status": "refused", "reason": "bad_enrolment"}
    assert _taro_devices(server) == ["pc2"]
    answers = sorted(r for r in _enrol_records(server) if r[2] != "queued")
    # a refused device id is the caller's own text, never in the directory: not logged
    assert answers == [(TARO, "", "bad_enrolment")] * 3 + [(TARO, "pc2", "ok")]


def test_the_wrong_code_is_never_echoed(server: Server) -> None:
    _, ticket = _queue(server, WRONG)
    _signer_round(server)
    response = httpx.get(f"{server.url}/v1/enrol/{ticket}", timeout=10)
    assert "ABCD" not in response.text
    assert WRONG not in server.audit_text()


def test_without_a_code_it_waits_for_approval(server: Server) -> None:
    _, ticket = _queue(server, None)
    _signer_round(server)
    assert _status(server, ticket) == {"status": "pending", "reason": ""}
    assert [r.device_id for r in ops.pending(server.home)] == ["desktop"]
    ops.approve(server.home, TARO, "desktop", "it-admin")
    _signer_round(server)  # pushes the approved device; the server settles the ticket
    assert _status(server, ticket) == {"status": "enrolled", "reason": ""}


def test_signer_down_then_up(server: Server) -> None:
    code = ops.issue_code(server.home, TARO)
    _, ticket = _queue(server, code)
    started = time.monotonic()
    assert _status(server, ticket, wait=1.0)["status"] == "queued"  # nobody answers
    assert time.monotonic() - started >= 0.9
    answers: list[dict[str, Any]] = []
    waiting = threading.Thread(target=lambda: answers.append(_status(server, ticket, wait=20)))
    waiting.start()
    time.sleep(0.3)
    with embedded_signer(server.home, server.url, poll=0.5):
        waiting.join(timeout=15)
    assert answers == [{"status": "enrolled", "reason": ""}]
    assert _taro_devices(server) == ["desktop"]


def test_two_requests_racing_for_one_code(server: Server) -> None:
    code = ops.issue_code(server.home, TARO)
    tickets: list[str] = []
    lock = threading.Lock()

    def queue(device: str) -> None:
        _, ticket = _queue(server, code, device)
        with lock:
            tickets.append(ticket)

    racers = [threading.Thread(target=queue, args=(d,)) for d in ("pc-a", "pc-b")]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    _signer_round(server)
    statuses = sorted(_status(server, t)["status"] for t in tickets)
    assert statuses == ["enrolled", "refused"]  # one code, one device
    assert len(_taro_devices(server)) == 1


def test_a_device_id_taken_is_a_conflict(server: Server) -> None:
    _, first = _queue(server, ops.issue_code(server.home, TARO))
    _signer_round(server)
    _, second = _queue(server, ops.issue_code(server.home, TARO))  # same id "desktop"
    _signer_round(server)
    assert _status(server, first)["status"] == "enrolled"
    assert _status(server, second) == {"status": "refused", "reason": "conflict"}


def test_queue_is_bounded_per_person(server: Server) -> None:
    for device in ("a1", "a2", "a3"):
        _queue(server, None, device)
    request = make_request(DeviceKeys.generate(), TARO, "a4", "x", None, utc_now())
    response = httpx.post(server.url + "/v1/enrol", json=request.to_json(), timeout=10)
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"


def test_unknown_people_and_tickets(server: Server) -> None:
    request = make_request(DeviceKeys.generate(), "nobody", "pc", "x", WRONG, utc_now())
    response = httpx.post(server.url + "/v1/enrol", json=request.to_json(), timeout=10)
    assert response.status_code == 403
    assert response.json()["code"] == "bad_enrolment"
    for ticket in ("A" * 22, "../etc/passwd", "x"):
        assert httpx.get(f"{server.url}/v1/enrol/{ticket}", timeout=10).status_code == 404


def test_a_batch_of_requests_becomes_one_snapshot(server: Server) -> None:
    before = server.signed_get("/v1/directory").content
    epoch = verify_directory(before, server.home.anchor(), now=utc_now()).checkpoint.epoch
    tickets = [_queue(server, ops.issue_code(server.home, TARO), f"pc{i}")[1] for i in range(3)]
    _signer_round(server)
    assert {_status(server, t)["status"] for t in tickets} == {"enrolled"}
    after = verify_directory(
        server.signed_get("/v1/directory").content, server.home.anchor(), now=utc_now()
    )
    assert after.checkpoint.epoch == epoch + 1  # three enrolments, one republish
    assert len(after.by_id()[TARO].devices) == 3


def test_failures_of_others_on_the_signers_address_do_not_lock_it_out(server: Server) -> None:
    _, ticket = _queue(server, ops.issue_code(server.home, TARO))
    for _ in range(server.config.auth_failures_burst + 2):
        server.get("/v1/whoami")  # unsigned: a failed login from 127.0.0.1
    assert server.get("/v1/whoami").status_code == 429
    _signer_round(server)  # same address, its own budget
    assert _status(server, ticket)["status"] == "enrolled"


def test_one_address_cannot_take_a_persons_codeless_slots(tmp_path: Path) -> None:
    """Issue 14, item 11: three code-less requests naming Taro from one address fill
    only that address's slots; Taro's own request from his PC still waits."""
    queue = EnrolQueue(SqliteMetadataStore(tmp_path / "meta.sqlite"))

    def add(device: str, ip: str) -> str:
        request = make_request(DeviceKeys.generate(), TARO, device, "PC", None, utc_now())
        return queue.add(request, "{}", ip, 0)

    for i in range(3):
        add(f"spam{i}", "192.0.2.66")
    with pytest.raises(QueueFull):
        add("spam9", "192.0.2.66")
    assert add("desktop", "192.0.2.10")
