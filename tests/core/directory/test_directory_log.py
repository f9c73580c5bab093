"""The event log: replay rules, the snapshot as the log's replay, and its Merkle commitments."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from secure_send.core.directory import merkle
from secure_send.core.directory.bundle import Bundle
from secure_send.core.directory.enrol import DeviceKeys, make_request
from secure_send.core.directory.log import Action, Event, LogError, replay
from secure_send.core.directory.model import Entry, Kind, Status
from secure_send.core.encoding import b64u, parse_time
from secure_send.org import ops
from secure_send.org.home import OrgHome
from secure_send.org.importing import ImportRow
from tests.directory_kit import (
    HANAKO,
    JIRO,
    OPERATOR,
    ROLE,
    TARO,
    bundle_bytes,
    enrol_device,
    header_of,
    new_org,
    person_row,
    refresh,
    verify,
)

T0 = "2026-04-01T09:00:00Z"


def _person(user: str, **changes: Any) -> dict[str, Any]:
    entry = Entry(user, Kind.PERSON, "佐藤 花子", "", "", f"{user}@example.go.jp", "会計課")
    return entry.with_changes(**changes).to_json()


def _role(role: str, members: tuple[str, ...] = ()) -> dict[str, Any]:
    entry = Entry(role, Kind.ROLE, "窓口", "", "", f"{role}@example.go.jp", "会計課")
    return entry.with_changes(members=members).to_json()


def _device(user: str, device_id: str, time: str = T0) -> dict[str, Any]:
    request = make_request(DeviceKeys.generate(), user, device_id, "端末", None, parse_time(time))
    return request.device(time).to_json()


def _events(*changes: tuple[Action, dict[str, Any]], time: str = T0) -> list[Event]:
    return [Event(i, time, OPERATOR, action, data) for i, (action, data) in enumerate(changes)]


def _update(entry: dict[str, Any]) -> tuple[Action, dict[str, Any]]:
    return Action.UPDATE, {"entry": entry}


def _enrol(user: str, device_id: str) -> tuple[Action, dict[str, Any]]:
    return Action.ENROL, {"user": user, "device": _device(user, device_id)}


_OLD = {"a": DeviceKeys.generate()}  # a device's keys, as enrolled before P-256 (issue 21)


def _old_enrol(user: str, device_id: str) -> tuple[Action, dict[str, Any]]:
    keys = _OLD[user]
    old = DeviceKeys(keys.signing, keys.encryption)  # no P-256 key
    request = make_request(old, user, device_id, "端末", None, parse_time(T0))
    return Action.ENROL, {"user": user, "device": request.device(T0).to_json()}


def _add_key(
    user: str, device_id: str, keys: DeviceKeys | None = None, **changes: str
) -> tuple[Action, dict[str, Any]]:
    binding = (keys or _OLD[user]).p256_binding(user, device_id)
    assert binding is not None
    data = {"user": user, "device": device_id, "p256_key": b64u(binding[0])}
    return Action.ADD_KEY, {**data, "p256_key_sig": b64u(binding[1]), **changes}


# ---------------------------------------------------------------- replay rules


def test_replay_builds_entries_from_a_valid_log() -> None:
    entries = replay(
        _events(
            _update(_person("a")),
            _update(_person("b")),
            _enrol("a", "pc"),
            _update(_role("desk", ("a",))),
            (Action.MEMBERS, {"role": "desk", "members": ["a", "b"]}),
            (Action.REVOKE_DEVICE, {"user": "a", "device": "pc"}),
            (Action.DEPART, {"user": "b"}),
        )
    )
    assert entries["desk"].members == ("a", "b")
    assert entries["a"].devices[0].revoked == T0
    assert entries["b"].status is Status.DEPARTED


@pytest.mark.parametrize("seqs", [[0, 2], [1], [0, 0], [0, 1, 1]])
def test_seq_gaps_and_repeats_are_refused(seqs: list[int]) -> None:
    events = [
        Event(s, T0, OPERATOR, Action.UPDATE, {"entry": _person(f"p{i}")})
        for i, s in enumerate(seqs)
    ]
    with pytest.raises(LogError, match="missing"):
        replay(events)


def _bad_logs() -> dict[str, list[tuple[Action, dict[str, Any]]]]:
    a = _person("a")
    return {
        "unknown-kind": [_update({**a, "kind": "group"})],
        "unknown-status": [_update({**a, "status": "retired"})],
        "extra-field": [_update({**a, "admin": True})],
        "new-entry-with-devices": [_update({**a, "devices": [_device("a", "pc")]})],
        "new-entry-departed": [_update({**a, "status": "departed"})],
        "enrol-departed": [_update(a), (Action.DEPART, {"user": "a"}), _enrol("a", "pc")],
        "enrol-unknown": [_enrol("a", "pc")],
        "enrol-role": [_update(_role("desk")), _enrol("desk", "pc")],
        "enrol-twice": [_update(a), _enrol("a", "pc"), _enrol("a", "pc")],
        "enrol-wrong-time": [
            _update(a),
            (Action.ENROL, {"user": "a", "device": _device("a", "pc", "2026-04-01T08:00:00Z")}),
        ],
        "enrol-bad-binding": [
            _update(a),
            (
                Action.ENROL,
                {"user": "a", "device": {**_device("a", "pc"), "enc_key": b64u(bytes(32))}},
            ),
        ],
        "enrol-for-another-user": [
            _update(a),
            _update(_person("b")),
            (Action.ENROL, {"user": "b", "device": _device("a", "pc")}),
        ],
        "revoke-unknown-device": [
            _update(a),
            (Action.REVOKE_DEVICE, {"user": "a", "device": "pc"}),
        ],
        "revoke-twice": [
            _update(a),
            _enrol("a", "pc"),
            (Action.REVOKE_DEVICE, {"user": "a", "device": "pc"}),
            (Action.REVOKE_DEVICE, {"user": "a", "device": "pc"}),
        ],
        "depart-twice": [
            _update(a),
            (Action.DEPART, {"user": "a"}),
            (Action.DEPART, {"user": "a"}),
        ],
        "depart-unknown": [(Action.DEPART, {"user": "a"})],
        "member-is-a-role": [
            _update(_role("desk")),
            _update(_role("desk2")),
            (Action.MEMBERS, {"role": "desk", "members": ["desk2"]}),
        ],
        "member-unknown": [
            _update(_role("desk")),
            (Action.MEMBERS, {"role": "desk", "members": ["x"]}),
        ],
        "members-of-a-person": [
            _update(a),
            _update(_person("b")),
            (Action.MEMBERS, {"role": "a", "members": ["b"]}),
        ],
        "person-with-members": [_update({**a, "members": ["a"]})],
        # issue 21: a P-256 key is added once, to an active device, signed by that device
        "enrol-bad-p256-binding": [
            _update(a),
            (
                Action.ENROL,
                {
                    "user": "a",
                    "device": {
                        **_device("a", "pc"),
                        "p256_key": _add_key("a", "pc")[1]["p256_key"],
                    },
                },
            ),
        ],
        "add-key-signed-by-another-device": [
            _update(a),
            _old_enrol("a", "pc"),
            _add_key("a", "pc", DeviceKeys.generate()),
        ],
        "add-key-to-a-device-that-has-one": [_update(a), _enrol("a", "pc"), _add_key("a", "pc")],
        "add-key-twice": [
            _update(a),
            _old_enrol("a", "pc"),
            _add_key("a", "pc"),
            _add_key("a", "pc"),
        ],
        "add-key-unknown-device": [_update(a), _old_enrol("a", "pc"), _add_key("a", "pc2")],
        "add-key-revoked-device": [
            _update(a),
            _old_enrol("a", "pc"),
            (Action.REVOKE_DEVICE, {"user": "a", "device": "pc"}),
            _add_key("a", "pc"),
        ],
        "add-key-departed": [
            _update(a),
            _old_enrol("a", "pc"),
            (Action.DEPART, {"user": "a"}),
            _add_key("a", "pc"),
        ],
        "add-key-not-a-point": [
            _update(a),
            _old_enrol("a", "pc"),
            _add_key("a", "pc", p256_key=b64u(b"\x02" + bytes(64))),
        ],
        "add-key-extra-field": [_update(a), _old_enrol("a", "pc"), _add_key("a", "pc", revoked=T0)],
        "missing-data": [(Action.DEPART, {})],
    }


@pytest.mark.parametrize("case", sorted(_bad_logs()))
def test_events_that_do_not_apply_are_refused(case: str) -> None:
    changes = _bad_logs()[case]
    replay(_events(*changes[:-1]))  # everything before the last event is fine
    with pytest.raises(LogError):
        replay(_events(*changes))


def test_add_key_gives_an_old_device_its_p256_key_and_nothing_else() -> None:
    before = replay(_events(_update(_person("a")), _old_enrol("a", "pc")))
    assert not before["a"].devices[0].has_p256
    after = replay(_events(_update(_person("a")), _old_enrol("a", "pc"), _add_key("a", "pc")))
    device = after["a"].devices[0]
    assert device.p256_key == _OLD["a"].p256_public()
    device.verify_key_binding("a")  # both bindings
    unchanged = {k: v for k, v in device.__dict__.items() if not k.startswith("p256")}
    assert unchanged == {
        k: v for k, v in before["a"].devices[0].__dict__.items() if not k.startswith("p256")
    }
    # the entry's bytes change only by the two new device fields
    assert set(device.to_json()) - set(before["a"].devices[0].to_json()) == {
        "p256_key",
        "p256_key_sig",
    }


def test_update_cannot_change_devices_or_status() -> None:
    a = _person("a")
    entries = replay(
        _events(
            _update(a),
            _enrol("a", "pc"),
            (Action.DEPART, {"user": "a"}),
            _update({**a, "name_ja": "佐藤 華子", "devices": [], "status": "active"}),
        )
    )
    assert entries["a"].name_ja == "佐藤 華子"
    assert entries["a"].status is Status.DEPARTED
    assert [d.id for d in entries["a"].devices] == ["pc"]
    assert entries["a"].devices[0].revoked == T0


def test_non_canonical_event_bytes_are_refused() -> None:
    event = _events(_update(_person("a")))[0]
    text = event.canonical_bytes()
    assert Event.from_bytes(text) == event
    for bad in (
        text + b" ",
        json.dumps(event.to_json()).encode(),
        text.replace(b'"seq":0', b'"seq":0.0'),
    ):
        with pytest.raises(LogError):
            Event.from_bytes(bad)


def test_home_refuses_an_event_that_does_not_apply_and_keeps_the_log(tmp_path: Path) -> None:
    home = new_org(tmp_path / "org", devices=False)
    before = home.log_file.read_bytes()
    with pytest.raises(LogError):
        home.append(OPERATOR, Action.DEPART, {"user": "nobody"})
    with pytest.raises(LogError):  # a batch is all or nothing
        home.append_all(
            OPERATOR, [(Action.DEPART, {"user": JIRO}), (Action.DEPART, {"user": JIRO})]
        )
    with pytest.raises(LogError):
        ops.change(home, OPERATOR, Action.MEMBERS, {"role": ROLE, "members": [ROLE]})
    assert home.log_file.read_bytes() == before


# ---------------------------------------------------------------- the home's log and snapshots


def _snapshot_is_replay(home: OrgHome) -> None:
    data = bundle_bytes(home)
    lines = home.log_file.read_bytes().splitlines()
    events = [Event.from_bytes(line) for line in lines]
    expected = sorted(replay(events).values(), key=lambda e: e.id)
    header = header_of(data)
    assert list(Bundle.from_bytes(data).entries) == [e.canonical_bytes().decode() for e in expected]
    assert header.entry_count == len(expected)
    assert header.log_size == len(lines)
    assert header.log_root == merkle.root(lines)
    assert header.entries_root == merkle.root(e.canonical_bytes() for e in expected)


def test_snapshot_is_the_replay_of_the_log_after_every_operation(tmp_path: Path) -> None:
    home = new_org(tmp_path / "org", devices=False)
    steps: list[Callable[[], object]] = [
        lambda: enrol_device(home, HANAKO, "laptop"),
        lambda: enrol_device(home, HANAKO, "phone"),
        lambda: ops.change(
            home, OPERATOR, Action.REVOKE_DEVICE, {"user": HANAKO, "device": "phone"}
        ),
        lambda: ops.change(home, OPERATOR, Action.MEMBERS, {"role": ROLE, "members": [JIRO]}),
        lambda: ops.import_rows(
            home, [person_row(2, TARO, "鈴木 太郎", "", "Taro Suzuki", "総務課")], OPERATOR
        ),
        lambda: ops.change(home, OPERATOR, Action.DEPART, {"user": TARO}),
        lambda: ops.rotate_signing_key(home, OPERATOR),
    ]
    _snapshot_is_replay(home)
    for step in steps:
        step()
        _snapshot_is_replay(home)
    entries = home.entries()
    assert [d.active for d in entries[HANAKO].devices] == [True, False]
    assert entries[TARO].department == "総務課"
    assert entries[TARO].status is Status.DEPARTED
    assert entries[ROLE].members == (JIRO,)
    assert [e.action for e in home.events()][-1] is Action.ROTATE_SIGNING_KEY


def test_reimporting_unchanged_rows_appends_nothing(tmp_path: Path) -> None:
    home = new_org(tmp_path / "org")
    before = home.log_file.read_bytes()
    rows = [person_row(2, HANAKO, "佐藤 花子", "サトウ ハナコ", "Hanako Sato", "会計課")]
    assert ops.import_rows(home, rows, OPERATOR) == (0, 0)
    assert home.log_file.read_bytes() == before
    assert home.entries()[HANAKO].devices  # enrolled devices survive a re-import
    changed = [
        ImportRow(2, HANAKO, "person", "佐藤 花子", email="h@example.go.jp", department="会計課")
    ]
    assert ops.import_rows(home, changed, OPERATOR) == (0, 1)
    assert home.entries()[HANAKO].devices


def test_consistency_proofs_hold_between_every_pair_of_publishes(tmp_path: Path) -> None:
    home = new_org(tmp_path / "org", devices=False)
    heads = [(header_of(bundle_bytes(home)).log_size, header_of(bundle_bytes(home)).log_root)]
    for device in ("a", "b", "c", "d", "e"):
        enrol_device(home, JIRO, device)
        header = header_of(bundle_bytes(home))
        for size, root in heads:
            merkle.verify_consistency(
                size, header.log_size, root, header.log_root, home.consistency_proof(size)
            )
            if size:  # the proof is tied to the old head: another root fails
                with pytest.raises(merkle.ProofError):
                    merkle.verify_consistency(
                        size,
                        header.log_size,
                        bytes(32),
                        header.log_root,
                        home.consistency_proof(size),
                    )
        heads.append((header.log_size, header.log_root))
    assert [size for size, _ in heads] == sorted({size for size, _ in heads})


def test_client_follows_every_publish_with_the_homes_proofs(tmp_path: Path) -> None:
    home = new_org(tmp_path / "org", devices=False)
    state = verify(home).checkpoint
    for device in ("a", "b", "c"):
        enrol_device(home, JIRO, device)
        result = refresh(home, state)
        assert result.checkpoint.epoch == state.epoch + 1
        state = result.checkpoint
    assert [d.id for d in result.by_id()[JIRO].devices] == ["a", "b", "c"]
