"""Key-add requests through the real server and the real directory signer (issue 21):
the server only queues what its caller's own device signed; the signer decides against
its own directory and appends ``add-key``; answers are readable by the device only."""

from __future__ import annotations

import json
from typing import Any

import httpx
import nacl.public
import nacl.signing
import pytest

from secure_send.core import httpsig
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.directory.enrol import make_request as make_enrolment
from secure_send.core.directory.key_add import KeyAddRequest, make_request
from secure_send.core.directory.log import Action
from secure_send.core.directory.verify import verify_directory
from secure_send.core.encoding import utc_now
from secure_send.org import ops
from secure_send.server import key_add_queue
from tests.directory_kit import OPERATOR, TARO
from tests.server.conftest import Server

DESKTOP = "desktop"


def _old_device(server: Server, user: str = TARO, device: str = DESKTOP) -> DeviceKeys:
    """A device enrolled before issue 21 (no P-256 key), pushed to the server."""
    keys = DeviceKeys(nacl.signing.SigningKey.generate(), nacl.public.PrivateKey.generate())
    code = ops.issue_code(server.home, user)
    assert ops.accept_enrolment(
        server.home, make_enrolment(keys, user, device, "古い端末", code, utc_now()), OPERATOR
    )
    server.push()
    return keys


def _with_p256(keys: DeviceKeys) -> DeviceKeys:
    return DeviceKeys(keys.signing, keys.encryption, DeviceKeys.generate().p256)


def _post(
    server: Server, keys: DeviceKeys, body: dict[str, Any], device: str = DESKTOP
) -> httpx.Response:
    data = json.dumps(body).encode()
    headers = server.signed_headers(
        "POST", "/v1/key-add", data, keys=keys, key_id=httpsig.key_id(TARO, device)
    )
    return httpx.post(server.url + "/v1/key-add", content=data, headers=headers, timeout=10)


def _status(server: Server, keys: DeviceKeys, ticket: str, device: str = DESKTOP) -> Any:
    path = f"/v1/key-add/{ticket}"
    return server.signed_get(path, keys=keys, key_id=httpsig.key_id(TARO, device))


def _listed_key(server: Server, keys: DeviceKeys, device: str = DESKTOP) -> bytes | None:
    """Taro's device's P-256 key in the directory the server serves, verified."""
    data = server.signed_get(
        "/v1/directory", keys=keys, key_id=httpsig.key_id(TARO, device)
    ).content
    verified = verify_directory(data, server.home.anchor(), now=utc_now())
    entry = verified.by_id()[TARO]
    verified.require_bindings([entry])  # every binding, the P-256 one too, verifies
    (found,) = [d for d in entry.devices if d.id == device]
    return found.p256_key


def _add_key_events(server: Server) -> int:
    return sum(e.action is Action.ADD_KEY for e in server.home.events())


def test_an_old_device_adds_its_key(server: Server) -> None:
    old = _old_device(server)
    keys = _with_p256(old)
    answer = _post(server, keys, make_request(keys, TARO, DESKTOP, utc_now()).to_json())
    assert answer.status_code == 202, answer.text
    ticket = answer.json()["ticket"]
    assert answer.json()["status"] == "queued"
    assert _status(server, keys, ticket).json() == {"status": "queued", "reason": ""}
    assert _listed_key(server, keys) is None  # the server decides nothing
    server.push()  # the real signer takes it
    assert _status(server, keys, ticket).json() == {"status": "done", "reason": ""}
    assert _listed_key(server, keys) == keys.p256_public()
    assert _add_key_events(server) == 1
    # a retry once it is listed: "done" at once, nothing queued, no second event
    again = _post(server, keys, make_request(keys, TARO, DESKTOP, utc_now()).to_json())
    assert (again.status_code, again.json()) == (200, {"status": "done"})
    server.push()
    assert _add_key_events(server) == 1
    audit = server.audit_text()
    assert '"action":"key_add"' in audit
    assert '"outcome":"queued"' in audit


def test_a_different_key_after_one_was_added_is_a_conflict(server: Server) -> None:
    old = _old_device(server)
    keys = _with_p256(old)
    assert _post(server, keys, make_request(keys, TARO, DESKTOP, utc_now()).to_json()).is_success
    server.push()
    other = _with_p256(old)  # the same device's signing key, another P-256 key
    answer = _post(server, other, make_request(other, TARO, DESKTOP, utc_now()).to_json())
    assert (answer.status_code, answer.json()["code"]) == (409, "conflict")
    assert _listed_key(server, keys) == keys.p256_public()


def test_a_forged_request_is_refused_by_the_server(server: Server) -> None:
    old = _old_device(server)
    thief = _with_p256(DeviceKeys.generate())  # not the device's signing key
    forged = make_request(thief, TARO, DESKTOP, utc_now()).to_json()
    answer = _post(server, old, forged)  # the HTTP request itself is the device's
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_request")
    assert server.sql("SELECT COUNT(*) FROM key_adds") == [(0,)]


def test_a_request_naming_another_device_is_refused(server: Server) -> None:
    old = _old_device(server)
    _old_device(server, device="laptop2")
    keys = _with_p256(old)
    other = make_request(keys, TARO, "laptop2", utc_now()).to_json()
    answer = _post(server, keys, other)  # signed as desktop, naming laptop2
    assert answer.status_code == 400


@pytest.mark.parametrize("body", [b"", b"{}", b"[1]", b'{"body": {}, "signature": ""}'])
def test_malformed_bodies(server: Server, body: bytes) -> None:
    old = _old_device(server)
    headers = server.signed_headers(
        "POST", "/v1/key-add", body, keys=old, key_id=httpsig.key_id(TARO, DESKTOP)
    )
    answer = httpx.post(server.url + "/v1/key-add", content=body, headers=headers, timeout=10)
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_request")


def _queue_behind_the_servers_back(server: Server, request: KeyAddRequest, ticket: str) -> None:
    """A hostile drop server queues whatever it likes: the signer must check for itself."""
    raw = json.dumps(request.to_json())
    server.sql(
        "INSERT INTO key_adds VALUES (?, ?, ?, ?, ?, 'queued', '')",
        (ticket, request.user, request.device_id, raw, 1),
    )


def test_the_signer_refuses_a_forged_request_a_hostile_server_queued(server: Server) -> None:
    old = _old_device(server)
    thief = _with_p256(DeviceKeys.generate())
    ticket = "F" * 22
    _queue_behind_the_servers_back(server, make_request(thief, TARO, DESKTOP, utc_now()), ticket)
    server.push()
    assert _status(server, old, ticket).json() == {"status": "refused", "reason": "bad_key_add"}
    assert _add_key_events(server) == 0
    assert _listed_key(server, old) is None


def test_the_signer_refuses_a_revoked_device(server: Server) -> None:
    """Revoked in the organisation's own directory, not yet on the server: the server
    still queues it (its copy says active); the signer's own directory refuses it."""
    old = _old_device(server)
    keys = _with_p256(old)
    ops.change(server.home, OPERATOR, Action.REVOKE_DEVICE, {"user": TARO, "device": DESKTOP})
    answer = _post(server, keys, make_request(keys, TARO, DESKTOP, utc_now()).to_json())
    assert answer.status_code == 202, answer.text
    ticket = answer.json()["ticket"]
    server.push()
    assert _add_key_events(server) == 0
    # the device can no longer ask (it is revoked on the server now): the row says so
    rows = server.sql("SELECT status, reason FROM key_adds WHERE ticket = ?", (ticket,))
    assert rows == [("refused", "conflict")]


def test_two_requests_for_one_key_make_one_event(server: Server) -> None:
    """A replay (or a retry the server let through twice): one add-key, both done."""
    old = _old_device(server)
    keys = _with_p256(old)
    request = make_request(keys, TARO, DESKTOP, utc_now())
    _queue_behind_the_servers_back(server, request, "A" * 22)
    _queue_behind_the_servers_back(server, request, "B" * 22)
    server.push()
    assert _add_key_events(server) == 1
    assert _status(server, keys, "A" * 22).json()["status"] == "done"
    assert _status(server, keys, "B" * 22).json()["status"] == "done"


def test_a_ticket_is_only_its_own_devices(server: Server) -> None:
    old = _old_device(server)
    other = _old_device(server, device="laptop2")
    keys = _with_p256(old)
    ticket = _post(server, keys, make_request(keys, TARO, DESKTOP, utc_now()).to_json()).json()[
        "ticket"
    ]
    assert _status(server, other, ticket, "laptop2").status_code == 404
    assert _status(server, keys, "not-a-ticket").status_code == 404


def test_a_retry_replaces_the_waiting_request_and_the_device_is_limited(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _old_device(server)
    keys = _with_p256(old)
    for _ in range(3):
        assert _post(
            server, keys, make_request(keys, TARO, DESKTOP, utc_now()).to_json()
        ).is_success
    assert server.sql("SELECT COUNT(*) FROM key_adds WHERE status = 'queued'") == [(1,)]
    server.sql("UPDATE key_adds SET status = 'refused', reason = 'conflict'")
    monkeypatch.setattr(key_add_queue, "MAX_KEPT_PER_DEVICE", 2)
    assert _post(server, keys, make_request(keys, TARO, DESKTOP, utc_now()).to_json()).is_success
    server.sql("UPDATE key_adds SET status = 'refused', reason = 'conflict'")
    answer = _post(server, keys, make_request(keys, TARO, DESKTOP, utc_now()).to_json())
    assert (answer.status_code, answer.json()["code"]) == (429, "rate_limited")


def test_the_signer_queue_lists_key_adds(server: Server) -> None:
    old = _old_device(server)
    keys = _with_p256(old)
    ticket = _post(server, keys, make_request(keys, TARO, DESKTOP, utc_now()).to_json()).json()[
        "ticket"
    ]
    from secure_send.org.signer import DirectorySigner

    signer = DirectorySigner(server.home, server.url, batch_window=0)
    try:
        queued = signer._api.signer_queue(0)
    finally:
        signer.close()
    assert [q["ticket"] for q in queued["key_adds"]] == [ticket]
    assert queued["requests"] == []
