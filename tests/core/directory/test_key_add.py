"""Key-add requests (issue 21): strict parsing, and verification against the device as
the verifier's own directory lists it."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import nacl.public
import nacl.signing
import pytest

from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.directory.key_add import (
    REQUEST_TYPE,
    KeyAddError,
    KeyAddRequest,
    make_request,
)
from secure_send.core.directory.log import Action, Event, LogError, apply
from secure_send.core.directory.model import Device, Entry, Kind, device_key_message
from secure_send.core.encoding import b64u
from secure_send.core.signing import signed_message

NOW = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)
USER, DEVICE = "taro.yamada", "desktop"


def _old_keys() -> DeviceKeys:
    """A device enrolled before issue 21: no P-256 key."""
    return DeviceKeys(nacl.signing.SigningKey.generate(), nacl.public.PrivateKey.generate())


def _listed(keys: DeviceKeys, device_id: str = DEVICE) -> Device:
    enc = bytes(keys.encryption.public_key)
    sig = keys.signing.sign(device_key_message(USER, device_id, enc)).signature
    return Device(
        device_id, "端末", bytes(keys.signing.verify_key), enc, sig, "2026-01-01T00:00:00Z"
    )


def _with_p256(keys: DeviceKeys) -> DeviceKeys:
    return DeviceKeys(keys.signing, keys.encryption, DeviceKeys.generate().p256)


def test_a_request_round_trips_and_verifies() -> None:
    keys = _with_p256(_old_keys())
    request = make_request(keys, USER, DEVICE, NOW)
    again = KeyAddRequest.from_json(request.to_json())
    assert again == request
    assert set(request.to_json()["body"]) == {
        "type",
        "user",
        "device",
        "p256_key",
        "p256_key_sig",
        "time",
    }
    assert again.body()["type"] == REQUEST_TYPE
    again.verify(USER, _listed(keys))  # no exception
    assert again.p256_key == keys.p256_public()


def test_a_device_without_a_p256_key_cannot_make_one() -> None:
    with pytest.raises(KeyAddError):
        make_request(_old_keys(), USER, DEVICE, NOW)


def test_signed_by_another_key_is_refused() -> None:
    keys = _with_p256(_old_keys())
    other = _with_p256(_old_keys())
    forged = make_request(other, USER, DEVICE, NOW)  # another signing key, same ids
    with pytest.raises(KeyAddError, match="not signed by the device"):
        forged.verify(USER, _listed(keys))


def test_a_binding_by_another_key_is_refused() -> None:
    """The request signature is the device's, the P-256 binding someone else's."""
    keys = _with_p256(_old_keys())
    thief = _with_p256(_old_keys())
    binding = thief.p256_binding(USER, DEVICE)
    assert binding is not None
    unsigned = KeyAddRequest(USER, DEVICE, binding[0], binding[1], "2026-04-01T09:00:00Z", b"")
    sig = keys.signing.sign(signed_message(REQUEST_TYPE, unsigned.body())).signature
    request = KeyAddRequest(**{**unsigned.__dict__, "signature": sig})
    with pytest.raises(KeyAddError, match="P-256 key is not signed"):
        request.verify(USER, _listed(keys))


def test_a_request_of_another_device_is_refused() -> None:
    keys = _with_p256(_old_keys())
    request = make_request(keys, USER, DEVICE, NOW)
    with pytest.raises(KeyAddError, match="another device"):
        request.verify(USER, _listed(keys, "laptop"))  # same keys, other id
    with pytest.raises(KeyAddError, match="another device"):
        request.verify("hanako.sato", _listed(keys))


def _tampered(change: Any) -> dict[str, Any]:
    obj = make_request(_with_p256(_old_keys()), USER, DEVICE, NOW).to_json()
    out = copy.deepcopy(obj)
    change(out)
    return out


@pytest.mark.parametrize(
    "change",
    [
        lambda o: o["body"].update(p256_key=b64u(b"\x02" + bytes(64))),  # not uncompressed
        lambda o: o["body"].update(p256_key=b64u(b"\x04" + bytes(63))),  # short
        lambda o: o["body"].update(p256_key="not base64!"),
        lambda o: o["body"].update(p256_key_sig=b64u(bytes(10))),
        lambda o: o["body"].update(type="secure-send/enrol/v1"),
        lambda o: o["body"].update(extra=1),
        lambda o: o["body"].pop("time"),
        lambda o: o["body"].update(time="yesterday"),
        lambda o: o["body"].update(user="Not An Id"),
        lambda o: o["body"].update(device=7),
        lambda o: o.update(code_mac="x"),
        lambda o: o.pop("signature"),
        lambda o: o.update(body=[]),
    ],
)
def test_malformed_requests_are_refused_with_a_typed_error(change: Any) -> None:
    with pytest.raises(KeyAddError):
        KeyAddRequest.from_json(_tampered(change))


@pytest.mark.parametrize("obj", [None, [], "x", {"body": None, "signature": ""}])
def test_not_even_an_object(obj: Any) -> None:
    with pytest.raises(KeyAddError):
        KeyAddRequest.from_json(obj)


def test_a_tampered_body_no_longer_verifies() -> None:
    keys = _with_p256(_old_keys())
    obj = make_request(keys, USER, DEVICE, NOW).to_json()
    obj["body"]["time"] = "2026-04-02T09:00:00Z"
    with pytest.raises(KeyAddError, match="not signed by the device"):
        KeyAddRequest.from_json(obj).verify(USER, _listed(keys))


def test_a_replay_is_harmless() -> None:
    """Replayed, the request can only add the key its own device made, and the log
    takes it once: a second add-key for the device is refused."""
    keys = _with_p256(_old_keys())
    request = make_request(keys, USER, DEVICE, NOW)
    entry = Entry(USER, Kind.PERSON, "山田 太郎", "", "", "t@example.jp", "人事課")
    entries = {USER: entry.with_changes(devices=(_listed(keys),))}
    event = Event(
        5, "2026-04-01T09:00:01Z", "directory-signer", Action.ADD_KEY, request.event_data()
    )
    apply(entries, event)
    assert entries[USER].devices[0].p256_key == keys.p256_public()
    with pytest.raises(LogError, match="already has a P-256 key"):
        apply(entries, event)


def test_device_keys_repr_shows_no_private_key() -> None:
    keys = DeviceKeys.generate()
    text = repr(keys)
    assert text == f"DeviceKeys(sign_key={b64u(bytes(keys.signing.verify_key))})"
    assert b64u(bytes(keys.signing)) not in text
