"""Incremental sync by log events: the result equals a full verification, and a snapshot
whose entries do not follow from its log is refused (every change justified)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import nacl.public
import pytest

from secure_send.core.directory import canonical, merkle
from secure_send.core.directory.bundle import Bundle
from secure_send.core.directory.errors import EntriesMismatchError, ForkError
from secure_send.core.directory.log import Action, Event
from secure_send.core.directory.sync_delta import SyncDelta, apply_sync
from secure_send.core.directory.trust import body_hash
from secure_send.core.directory.verify import VerifiedDirectory
from secure_send.core.encoding import b64u, format_time, utc_now
from secure_send.org import ops
from secure_send.org.home import OrgHome
from secure_send.org.replay_cache import log_lines
from tests.directory_kit import (
    HANAKO,
    JIRO,
    OPERATOR,
    TARO,
    new_org,
    request_for,
    resign,
    verify,
)


def _client(home: OrgHome) -> tuple[VerifiedDirectory, merkle.CompactRange]:
    """What a client holds after a full load: the directory and its log range."""
    verified = verify(home)
    log = merkle.CompactRange()
    log.extend(merkle.leaf_hash(line) for line in log_lines(home.log_file))
    return verified, log


def _delta(home: OrgHome, since: int, data: bytes | None = None) -> bytes:
    bundle = Bundle.from_bytes(data or home.bundle_file.read_bytes())
    lines = log_lines(home.log_file)[since : bundle.header.log_size]
    return SyncDelta(bundle.roots, bundle.header, tuple(lines)).to_bytes()


def _apply(
    base: VerifiedDirectory, log: merkle.CompactRange, home: OrgHome, delta: bytes
) -> VerifiedDirectory:
    return apply_sync(base, log, delta, home.anchor(), now=utc_now())[0]


@pytest.fixture
def home(tmp_path: Path) -> OrgHome:
    return new_org(tmp_path / "org")


def test_replaying_the_events_gives_the_published_directory(home: OrgHome) -> None:
    base, log = _client(home)
    ops.change(home, OPERATOR, Action.DEPART, {"user": JIRO})
    ops.change(home, OPERATOR, Action.REVOKE_DEVICE, {"user": HANAKO, "device": "laptop"})
    code = ops.issue_code(home, TARO)
    ops.accept_enrolment(home, request_for(TARO, "tablet", code)[1], OPERATOR)
    verified, extended = apply_sync(base, log, _delta(home, log.size), home.anchor(), now=utc_now())
    full = verify(home)
    assert verified.texts == full.texts
    assert verified.checkpoint == full.checkpoint
    assert extended.root() == full.checkpoint.log_root


def test_a_header_only_delta_after_a_re_signing(home: OrgHome) -> None:
    base, log = _client(home)
    home.publish()  # a new epoch, no event
    verified = _apply(base, log, home, _delta(home, log.size))
    assert verified.checkpoint.epoch == base.checkpoint.epoch + 1
    assert verified.texts == base.texts


def _forge(
    home: OrgHome, entries: list[str], events: tuple[bytes, ...] = ()
) -> tuple[bytes, bytes]:
    """What a thief of the signing key can publish: ``entries`` under a new epoch that
    chains to the published one, its log extended by ``events``. Returns the bundle and
    the sync delta a client at the published log size would get."""
    data = home.bundle_file.read_bytes()
    header = Bundle.peek_header(data)
    log = merkle.CompactRange()
    log.extend(merkle.leaf_hash(line) for line in log_lines(home.log_file))
    log.extend(merkle.leaf_hash(line) for line in events)
    forged = resign(
        data,
        home.signing_key(),
        entries=entries,
        epoch=header.epoch + 1,
        previous=body_hash(header.body()),
        log_size=log.size,
        log_root=log.root(),
    )
    bundle = Bundle.from_bytes(forged)
    return forged, SyncDelta(bundle.roots, bundle.header, events).to_bytes()


def _with_device(data: bytes, user: str, device: dict[str, object]) -> list[str]:
    texts = list(Bundle.from_bytes(data).entries)
    i = next(n for n, t in enumerate(texts) if json.loads(t)["id"] == user)
    obj = json.loads(texts[i])
    obj["devices"] = [*obj["devices"], device]
    texts[i] = canonical.dumps(obj).decode("utf-8")
    return texts


def test_a_device_no_event_put_there_is_refused(home: OrgHome) -> None:
    """A stolen signing key signs a snapshot whose entries gained a device, with the log
    unchanged: clients that sync by the log refuse it."""
    base, log = _client(home)
    _, request = request_for(TARO, "evil", None)
    device = request.device(format_time(utc_now())).to_json()
    _, delta = _forge(home, _with_device(home.bundle_file.read_bytes(), TARO, device))
    with pytest.raises(EntriesMismatchError, match="do not follow from its log"):
        _apply(base, log, home, delta)


def test_an_event_that_does_not_apply_is_refused(home: OrgHome) -> None:
    """The thief also logs an enrolment for the device, but one whose key binding is
    forged (the encryption key is not the one the device's key signed): the replay
    checks every binding, whatever the entries say."""
    base, log = _client(home)
    _, request = request_for(TARO, "evil", None)
    time = format_time(utc_now())
    device = request.device(time).to_json()
    device["enc_key"] = b64u(bytes(nacl.public.PrivateKey.generate().public_key))
    event = Event(log.size, time, "mallory", Action.ENROL, {"user": TARO, "device": device})
    data = home.bundle_file.read_bytes()
    _, delta = _forge(home, _with_device(data, TARO, device), (event.canonical_bytes(),))
    with pytest.raises(EntriesMismatchError, match="does not replay"):
        _apply(base, log, home, delta)


def test_a_justified_forgery_still_needs_the_event(home: OrgHome) -> None:
    """The same enrolment with an honest binding replays (a compromised signer can add
    a device *with* an event: self-monitoring and key-change notices catch that)."""
    base, log = _client(home)
    _, request = request_for(TARO, "evil", None)
    time = format_time(utc_now())
    device = request.device(time).to_json()
    event = Event(log.size, time, "mallory", Action.ENROL, {"user": TARO, "device": device})
    data = home.bundle_file.read_bytes()
    _, delta = _forge(home, _with_device(data, TARO, device), (event.canonical_bytes(),))
    verified = _apply(base, log, home, delta)
    assert [d.id for d in verified.by_id()[TARO].devices] == ["desktop", "evil"]


def test_events_that_are_not_the_signed_log_are_refused(home: OrgHome) -> None:
    base, log = _client(home)
    ops.change(home, OPERATOR, Action.DEPART, {"user": JIRO})
    ops.change(home, OPERATOR, Action.DEPART, {"user": TARO})
    good = SyncDelta.from_bytes(_delta(home, log.size))
    missing = dataclasses.replace(good, events=good.events[:1])
    with pytest.raises(ForkError, match="every event"):
        _apply(base, log, home, missing.to_bytes())
    swapped = dataclasses.replace(good, events=good.events[::-1])
    with pytest.raises(ForkError, match="not the log"):
        _apply(base, log, home, swapped.to_bytes())
    with pytest.raises(ForkError, match="log record"):  # the client's own range is wrong
        apply_sync(base, merkle.CompactRange(), good.to_bytes(), home.anchor(), now=utc_now())
