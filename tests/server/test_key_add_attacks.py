"""Red team (issue 21): attacks on key-add through the real server and the real signer.

The drop server and every other member of staff are untrusted. A hostile server is
played by writing rows into its own ``key_adds`` table behind the app's back (what a
compromised server can do); another staff member is a real enrolled device signing
its own HTTP requests. In every case the organisation's own directory must list no
P-256 key its device did not make, and the signer must say why it refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from typing import Any

import httpx
import nacl.public
import nacl.signing
import pytest

from secure_send.core import httpsig
from secure_send.core.directory import canonical
from secure_send.core.directory.enrol import REQUEST_TYPE as ENROL_TYPE
from secure_send.core.directory.enrol import DeviceKeys, code_mac_key
from secure_send.core.directory.enrol import make_request as make_enrolment
from secure_send.core.directory.key_add import KeyAddRequest, make_request
from secure_send.core.directory.log import Action
from secure_send.core.directory.model import device_p256_message
from secure_send.core.encoding import utc_now
from secure_send.core.signing import signed_message
from secure_send.org import ops
from secure_send.org.home import HomeError
from secure_send.server import key_add_queue
from tests.directory_kit import HANAKO, OPERATOR, TARO, request_for
from tests.server.conftest import Server

DESKTOP = "desktop"


def _old_device(server: Server, user: str = TARO, device: str = DESKTOP) -> DeviceKeys:
    """A device enrolled before issue 21 (no P-256 key), pushed to the server."""
    keys = DeviceKeys(nacl.signing.SigningKey.generate(), nacl.public.PrivateKey.generate())
    _, request = request_for(user, device, ops.issue_code(server.home, user), "古い端末", keys)
    assert ops.accept_enrolment(server.home, request, OPERATOR)
    server.push()
    return keys


def _with_p256(keys: DeviceKeys) -> DeviceKeys:
    return DeviceKeys(keys.signing, keys.encryption, DeviceKeys.generate().p256)


def _post(
    server: Server, keys: DeviceKeys, body: bytes | dict[str, Any], user: str, device: str
) -> httpx.Response:
    """POST /v1/key-add signed as ``user``'s ``device`` (with ``keys``)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = server.signed_headers(
        "POST", "/v1/key-add", data, keys=keys, key_id=httpsig.key_id(user, device)
    )
    return httpx.post(server.url + "/v1/key-add", content=data, headers=headers, timeout=30)


def _queue_behind_the_servers_back(server: Server, request: KeyAddRequest, ticket: str) -> None:
    server.sql(
        "INSERT INTO key_adds VALUES (?, ?, ?, ?, ?, 'queued', '')",
        (ticket, request.user, request.device_id, json.dumps(request.to_json()), 1),
    )


def _answer(server: Server, ticket: str) -> tuple[str, str]:
    rows = server.sql("SELECT status, reason FROM key_adds WHERE ticket = ?", (ticket,))
    assert len(rows) == 1
    return rows[0][0], rows[0][1]


def _home_device(server: Server, user: str, device: str) -> Any:
    (found,) = [d for d in server.home.entries()[user].devices if d.id == device]
    return found


def _add_key_events(server: Server) -> int:
    return sum(e.action is Action.ADD_KEY for e in server.home.events())


def _resigned(keys: DeviceKeys, request: KeyAddRequest, **changes: Any) -> KeyAddRequest:
    """``request`` with ``changes``, signed again with ``keys`` (a device that holds its
    own signing key can sign any body it likes)."""
    fields = {**request.__dict__, **changes, "signature": b""}
    unsigned = KeyAddRequest(**fields)
    signature = keys.signing.sign(signed_message("secure-send/key-add/v1", unsigned.body()))
    return KeyAddRequest(**{**fields, "signature": signature.signature})


# ------------------------------------------------------------- other people


def test_another_staff_members_device_cannot_add_a_key_to_mine(server: Server) -> None:
    """Hanako's device (enrolled, authenticated) makes a key-add for Taro's desktop with
    its own keys: the server refuses it (it names another device), and queued behind
    the server's back the signer refuses it (not signed by Taro's desktop)."""
    _old_device(server)
    hanako = _with_p256(_old_device(server, HANAKO, "tablet"))
    forged = make_request(hanako, TARO, DESKTOP, utc_now())
    answer = _post(server, hanako, forged.to_json(), HANAKO, "tablet")
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_request")
    # her own device's identity on the HTTP request, Taro's ids in the body: same answer
    assert _post(server, hanako, forged.to_json(), HANAKO, "tablet").status_code == 400
    _queue_behind_the_servers_back(server, forged, "H" * 22)
    server.push()
    assert _answer(server, "H" * 22) == ("refused", "bad_key_add")
    assert _home_device(server, TARO, DESKTOP).p256_key is None
    assert _add_key_events(server) == 0


@pytest.mark.parametrize("over", ["other-user", "other-device"])
def test_a_binding_over_another_user_or_device_is_refused(server: Server, over: str) -> None:
    """Taro's desktop signs a correct request whose P-256 binding was made for another
    (user, device): e.g. one lifted from Hanako's entry, or one of Taro's other device.
    The request signature verifies; the binding does not, for the device it names."""
    keys = _with_p256(_old_device(server))
    _old_device(server, device="laptop2")
    user, device = (HANAKO, DESKTOP) if over == "other-user" else (TARO, "laptop2")
    point = keys.p256_public()
    assert point is not None
    wrong = keys.signing.sign(device_p256_message(user, device, point)).signature
    request = _resigned(keys, make_request(keys, TARO, DESKTOP, utc_now()), p256_key_sig=wrong)
    answer = _post(server, keys, request.to_json(), TARO, DESKTOP)
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_request")
    _queue_behind_the_servers_back(server, request, "W" * 22)
    server.push()
    assert _answer(server, "W" * 22) == ("refused", "bad_key_add")
    assert _home_device(server, TARO, DESKTOP).p256_key is None


def test_a_key_copied_from_another_device_adds_nothing_the_copier_can_read(
    server: Server,
) -> None:
    """Hanako's tablet lists a P-256 key; Taro's desktop (an insider) asks to list that
    very public key as its own, binding it with its own signing key. The directory may
    list it (the binding is Taro's own statement), but no one gains: Taro has no private
    half, so files sent to Taro's desktop open only on Hanako's tablet, whose holder
    Taro could have forwarded them to anyway. Recorded here so a change of rule is seen."""
    tablet = _with_p256(_old_device(server, HANAKO, "tablet"))
    request = make_request(tablet, HANAKO, "tablet", utc_now())
    assert _post(server, tablet, request.to_json(), HANAKO, "tablet").status_code == 202
    server.push()
    taro = _old_device(server)
    copier = DeviceKeys(taro.signing, taro.encryption, tablet.p256)
    copied = make_request(copier, TARO, DESKTOP, utc_now())
    assert _post(server, copier, copied.to_json(), TARO, DESKTOP).status_code == 202
    server.push()
    assert _home_device(server, TARO, DESKTOP).p256_key == tablet.p256_public()


# ------------------------------------------------------------- replays and races


def test_an_old_request_replayed_after_revocation_and_re_enrolment(server: Server) -> None:
    """The request of a lost desktop, captured before it was revoked. The person
    re-enrols: the log never gives a revoked device's id again, and the old request
    neither applies to the revoked device nor can be turned to the new one."""
    lost = _with_p256(_old_device(server))
    captured = make_request(lost, TARO, DESKTOP, utc_now())
    ops.change(server.home, OPERATOR, Action.REVOKE_DEVICE, {"user": TARO, "device": DESKTOP})
    server.push()
    # re-enrolment under the same device id is refused by the organisation home
    _, again = request_for(TARO, DESKTOP, ops.issue_code(server.home, TARO), "新しい端末")
    with pytest.raises(HomeError, match="cannot be enrolled"):
        ops.accept_enrolment(server.home, again, OPERATOR)
    new = _old_device(server, device="desktop2")
    _queue_behind_the_servers_back(server, captured, "R" * 22)
    # the same body naming the new device: its signature no longer verifies
    moved = KeyAddRequest(**{**captured.__dict__, "device_id": "desktop2"})
    _queue_behind_the_servers_back(server, moved, "M" * 22)
    server.push()
    assert _answer(server, "R" * 22) == ("refused", "conflict")
    assert _answer(server, "M" * 22) == ("refused", "bad_key_add")
    assert _home_device(server, TARO, "desktop2").p256_key is None
    assert _home_device(server, TARO, DESKTOP).p256_key is None
    assert _add_key_events(server) == 0
    # the lost device can no longer even reach the route
    assert _post(server, lost, captured.to_json(), TARO, DESKTOP).status_code == 401
    assert new is not None


def test_a_key_add_racing_the_enrolment_of_its_device(server: Server) -> None:
    """A new device's enrolment (with its P-256 key K1) and a key-add for the same
    device id with another key K2 reach the signer in one round. Whatever the order
    the server lists them in, the directory ends with K1 only: the key-add is judged
    against the directory after the enrolment, and a key is never replaced."""
    keys, enrolment = request_for(TARO, DESKTOP, ops.issue_code(server.home, TARO), "新端末")
    assert keys.p256 is not None
    answer = httpx.post(server.url + "/v1/enrol", json=enrolment.to_json(), timeout=30)
    assert answer.status_code == 202, answer.text
    racer = _with_p256(keys)  # the device's own signing key (a compromised device)
    _queue_behind_the_servers_back(server, make_request(racer, TARO, DESKTOP, utc_now()), "K" * 22)
    server.push()
    listed = _home_device(server, TARO, DESKTOP)
    assert listed.p256_key == keys.p256_public() != racer.p256_public()
    assert _answer(server, "K" * 22) == ("refused", "conflict")
    assert _add_key_events(server) == 0


def test_a_key_add_for_a_device_still_waiting_for_enrolment(server: Server) -> None:
    """The key-add arrives while the enrolment waits for an operator's approval (no
    code): there is no such device yet, so nothing is added and nothing is kept."""
    keys, enrolment = request_for(TARO, DESKTOP, None, "承認待ち")
    answer = httpx.post(server.url + "/v1/enrol", json=enrolment.to_json(), timeout=30)
    assert answer.status_code == 202, answer.text
    early = _with_p256(keys)
    _queue_behind_the_servers_back(server, make_request(early, TARO, DESKTOP, utc_now()), "E" * 22)
    server.push()
    assert _answer(server, "E" * 22) == ("refused", "conflict")
    assert DESKTOP not in [d.id for d in server.home.entries()[TARO].devices]


def test_a_departed_persons_device(server: Server) -> None:
    """Departed in the organisation's directory, not yet on the server: the server
    still queues (its copy says active); the signer refuses; after the push the
    device cannot reach the route at all."""
    keys = _with_p256(_old_device(server))
    ops.change(server.home, OPERATOR, Action.DEPART, {"user": TARO})
    answer = _post(
        server, keys, make_request(keys, TARO, DESKTOP, utc_now()).to_json(), TARO, DESKTOP
    )
    assert answer.status_code == 202, answer.text
    server.push()
    assert _answer(server, answer.json()["ticket"]) == ("refused", "conflict")
    assert _add_key_events(server) == 0
    again = make_request(keys, TARO, DESKTOP, utc_now()).to_json()
    assert _post(server, keys, again, TARO, DESKTOP).status_code == 401


# ------------------------------------------------------------- denial of service


def test_an_oversized_body_is_refused_before_parsing(server: Server) -> None:
    keys = _with_p256(_old_device(server))
    request = make_request(keys, TARO, DESKTOP, utc_now()).to_json()
    request["body"]["pad"] = "x" * (2 * 1024 * 1024)
    answer = _post(server, keys, request, TARO, DESKTOP)
    assert (answer.status_code, answer.json()["code"]) == (413, "too_large")
    deep = b"[" * 5_000 + b"]" * 5_000  # under the body limit, past the depth limit
    assert _post(server, keys, deep, TARO, DESKTOP).status_code == 400
    assert server.sql("SELECT COUNT(*) FROM key_adds") == [(0,)]


def test_a_flood_from_one_device_keeps_one_open_request(server: Server) -> None:
    """200 requests from one device, each with a new P-256 key: one row waits (the
    latest), and the signer adds exactly one key."""
    old = _old_device(server)
    last = None
    for _ in range(200):
        last = _with_p256(old)
        answer = _post(
            server, last, make_request(last, TARO, DESKTOP, utc_now()).to_json(), TARO, DESKTOP
        )
        assert answer.status_code == 202, answer.text
    assert server.sql("SELECT COUNT(*) FROM key_adds") == [(1,)]
    server.push()
    assert last is not None
    assert _home_device(server, TARO, DESKTOP).p256_key == last.p256_public()
    assert _add_key_events(server) == 1


def test_the_queue_is_bounded_in_all(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many devices at once (a hostile set of insiders): past MAX_QUEUED open requests
    the next is 429, and nothing is lost of those queued."""
    monkeypatch.setattr(key_add_queue, "MAX_QUEUED", 2)
    devices = [(_with_p256(_old_device(server, device=f"pc{i}")), f"pc{i}") for i in range(3)]
    codes = []
    for keys, device in devices:
        answer = _post(
            server, keys, make_request(keys, TARO, device, utc_now()).to_json(), TARO, device
        )
        codes.append(answer.status_code)
    assert codes == [202, 202, 429]
    server.push()
    assert _add_key_events(server) == 2


# ------------------------------------------------------------- unusable keys


def _off_curve() -> bytes:
    return b"\x04" + bytes(range(1, 65))  # the uncompressed form, but no point of P-256


def test_a_point_off_the_curve_never_enters_the_directory(server: Server) -> None:
    """A device (an insider in a role mailbox, say) binds a 65-byte "key" that is no
    point of P-256. Listed, no sender could encrypt to it: every CMS send to that
    person, and to every role they are in, would fail. The server refuses the request
    and, queued behind its back, so does the signer; the directory lists nothing."""
    keys = _with_p256(_old_device(server))
    point = _off_curve()
    sig = keys.signing.sign(device_p256_message(TARO, DESKTOP, point)).signature
    request = _resigned(
        keys, make_request(keys, TARO, DESKTOP, utc_now()), p256_key=point, p256_key_sig=sig
    )
    answer = _post(server, keys, request.to_json(), TARO, DESKTOP)
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_request")
    _queue_behind_the_servers_back(server, request, "C" * 22)
    server.push()
    assert _answer(server, "C" * 22) == ("refused", "bad_key_add")
    assert _home_device(server, TARO, DESKTOP).p256_key is None
    assert _add_key_events(server) == 0


def test_an_enrolment_with_a_point_off_the_curve_is_refused(server: Server) -> None:
    """The same through enrolment: a new device with a valid one-time code whose
    request (proof, code MAC, binding all genuine) carries a point off the curve."""
    code = ops.issue_code(server.home, TARO)
    keys = DeviceKeys.generate()
    honest = make_enrolment(keys, TARO, DESKTOP, "新端末", code, utc_now())
    point = _off_curve()
    sig = keys.signing.sign(device_p256_message(TARO, DESKTOP, point)).signature
    unsigned = replace(honest, p256_key=point, p256_key_sig=sig, proof=b"", code_mac=None)
    proof = keys.signing.sign(signed_message(ENROL_TYPE, unsigned.body())).signature
    mac = hmac.new(code_mac_key(code), canonical.dumps(unsigned.body()), hashlib.sha256)
    request = replace(unsigned, proof=proof, code_mac=mac.digest())
    answer = httpx.post(server.url + "/v1/enrol", json=request.to_json(), timeout=30)
    assert answer.status_code == 400, answer.text
    server.push()
    assert DESKTOP not in [d.id for d in server.home.entries()[TARO].devices]
