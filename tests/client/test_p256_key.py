"""Existing devices get a P-256 key at their next start (issue 21), end to end: the real
server on 127.0.0.1, the real directory signer in its own process, the device's own
profile and key store. The key is kept before it is sent; only the device's verified
directory says it is published; a key it did not make is an alert, never replaced."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from secure_send.client import p256_key
from secure_send.client.api import ServerApi
from secure_send.client.errors import ConnectionLost
from secure_send.client.keystore import FileKeyStore
from secure_send.client.profile import DeviceIdentity, Profile
from secure_send.client.session import Session
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.directory.log import Action
from secure_send.core.directory.model import Device
from secure_send.core.encoding import b64u
from secure_send.org import ops
from tests.client.conftest import Enrol, open_session
from tests.client.old_device_kit import old_device, stored_keys
from tests.directory_kit import HANAKO, OPERATOR, TARO
from tests.server.conftest import Server


def _listed(session: Session, timeout: float = 30.0) -> Device:
    """This device as the session's verified directory lists it, once it has a P-256
    key (the signer process takes the request within a second or so)."""
    deadline = time.monotonic() + timeout
    while True:
        entry = session.directory().by_id()[session.me.user]
        (device,) = [d for d in entry.devices if d.id == session.me.device]
        if device.p256_key is not None or time.monotonic() > deadline:
            return device
        time.sleep(0.3)


def _home_key(server: Server, user: str, device: str) -> bytes | None:
    """The key in the organisation's own directory (the signer's)."""
    (found,) = [d for d in server.home.entries()[user].devices if d.id == device]
    return found.p256_key


def _queued(server: Server) -> int:
    (count,) = server.sql("SELECT COUNT(*) FROM key_adds")[0]
    return int(count)


def test_an_old_device_adds_its_key_at_start(
    org_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    person, old = old_device(org_server, tmp_path, TARO, "desktop", monkeypatch)
    session = open_session(person)
    try:
        made = session.keys.p256_public()
        assert made is not None  # made at open...
        assert stored_keys(person).p256_public() == made  # ...and kept before any request
        assert stored_keys(person).signing.encode() == old.signing.encode()  # same device
        device = _listed(session)
        # the verified directory (its bindings checked by session.directory) lists it
        assert device.p256_key == made
        assert session.unknown_devices == []
    finally:
        session.close()
    assert _home_key(org_server, TARO, "desktop") == made
    events = [e for e in org_server.home.events() if e.action is Action.ADD_KEY]
    assert [e.data["device"] for e in events] == ["desktop"]
    assert events[0].operator == "directory-signer"
    # a later start changes nothing: no new key, no new request
    again = open_session(person)
    try:
        assert again.keys.p256_public() == made
        again.directory()
    finally:
        again.close()
    assert len([e for e in org_server.home.events() if e.action is Action.ADD_KEY]) == 1


def test_the_cli_adds_the_key_too(
    org_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    person, _ = old_device(org_server, tmp_path, TARO, "desktop", monkeypatch)
    data = person.ok("inbox")
    assert data["unknown_own_devices"] == []
    made = stored_keys(person).p256_public()
    assert made is not None
    deadline = time.monotonic() + 30
    while _home_key(org_server, TARO, "desktop") is None and time.monotonic() < deadline:
        time.sleep(0.3)
    assert _home_key(org_server, TARO, "desktop") == made
    assert person.ok("devices")["devices"][0]["foreign_key"] is False


def test_a_crash_between_saving_and_sending_is_finished_at_the_next_start(
    org_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    person, old = old_device(org_server, tmp_path, TARO, "desktop", monkeypatch)
    profile = Profile(person.home)
    me = DeviceIdentity(TARO, "desktop")
    # the first start got as far as keeping the key, then died
    kept = p256_key.ensure_key(profile, FileKeyStore(profile), me, old)
    assert stored_keys(person).p256_public() == kept.p256_public() is not None
    assert _queued(org_server) == 0  # nothing was sent
    session = open_session(person)
    try:
        assert session.keys.p256_public() == kept.p256_public()  # not a second key
        assert _listed(session).p256_key == kept.p256_public()
    finally:
        session.close()


def test_a_server_that_cannot_be_reached_costs_a_log_line_and_the_next_start_sends_it(
    org_server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    person, _ = old_device(org_server, tmp_path, TARO, "desktop", monkeypatch)

    def lost(self: ServerApi, request: object) -> None:
        raise ConnectionLost

    with monkeypatch.context() as patch:
        patch.setattr(ServerApi, "key_add", lost)
        session = open_session(person)
        try:
            with caplog.at_level(logging.WARNING, "secure_send.p256_key"):
                session.directory()  # the start goes on
        finally:
            session.close()
    lines = [r for r in caplog.records if r.name == "secure_send.p256_key"]
    assert len(lines) == 1
    assert "next start" in lines[0].getMessage()
    assert _queued(org_server) == 0
    made = stored_keys(person).p256_public()
    session = open_session(person)
    try:
        assert _listed(session).p256_key == made
    finally:
        session.close()


def test_a_key_this_device_did_not_make_is_an_alert(
    org_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone holding the desktop's signing key adds their own P-256 key first: the
    desktop's client makes its own, sees another listed, sends nothing and alerts."""
    person, old = old_device(org_server, tmp_path, TARO, "desktop", monkeypatch)
    thief = DeviceKeys(old.signing, old.encryption, DeviceKeys.generate().p256)
    binding = thief.p256_binding(TARO, "desktop")
    assert binding is not None
    data = {
        "user": TARO,
        "device": "desktop",
        "p256_key": b64u(binding[0]),
        "p256_key_sig": b64u(binding[1]),
    }
    ops.change(org_server.home, "mallory", Action.ADD_KEY, data)
    org_server.push()
    session = open_session(person)
    try:
        session.directory()
        (alert,) = session.unknown_devices or []
        assert (alert.device, alert.this_device, alert.foreign_key) == ("desktop", True, True)
        assert alert.unknown
        assert session.keys.p256_public() != binding[0]
    finally:
        session.close()
    assert _queued(org_server) == 0  # no request: a key is never replaced
    code, out, err = person.run_human("devices")
    assert code == 0, err
    assert "P-256 KEY THIS PC DID NOT MAKE" in out


def test_another_known_device_adding_its_key_is_no_alert(
    enrol: Enrol, org_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    laptop = enrol(HANAKO, "laptop")  # enrolled now: it has a P-256 key from the start
    desktop, _ = old_device(org_server, tmp_path, HANAKO, "desktop", monkeypatch)
    laptop.ok("devices", "ack", "desktop")  # Hanako confirms her old desktop
    assert laptop.ok("inbox")["unknown_own_devices"] == []
    desktop.ok("devices", "ack", "laptop")  # and her new laptop on the desktop
    session = open_session(desktop)
    try:
        assert _listed(session).p256_key == session.keys.p256_public()  # the desktop adds it
        assert session.unknown_devices == []  # its own key: no alert on the desktop
    finally:
        session.close()
    assert _home_key(org_server, HANAKO, "desktop") is not None
    assert laptop.ok("inbox")["unknown_own_devices"] == []  # nor on the laptop


def test_enrolment_and_re_enrolment_make_a_p256_key(
    enrol: Enrol, org_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = enrol(TARO, "desktop")
    key = stored_keys(first).p256_public()
    assert key is not None
    assert _home_key(org_server, TARO, "desktop") == key
    # the device is lost; IT revokes it and Taro enrols this PC again (a new profile,
    # as the app's re-enrolment does)
    ops.change(org_server.home, OPERATOR, Action.REVOKE_DEVICE, {"user": TARO, "device": "desktop"})
    again = enrol(TARO, "desktop2")
    new = stored_keys(again).p256_public()
    assert new is not None
    assert new != key
    assert _home_key(org_server, TARO, "desktop2") == new
    assert again.ok("devices")["devices"][-1]["this_device"] is True
