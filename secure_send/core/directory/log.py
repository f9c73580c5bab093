"""The directory's append-only event log, and replaying it into entries.

Every change to the directory is an event naming its operator. The published
snapshot must equal the replay of the log, and the log's Merkle root is signed
in every snapshot header, so history cannot be rewritten without a fork that
clients detect through consistency proofs.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from secure_send.core.directory import canonical
from secure_send.core.directory.model import (
    P256_POINT_SIZE,
    Device,
    Entry,
    EntryError,
    Kind,
    Status,
    check_id,
    check_p256_point,
)
from secure_send.core.encoding import EncodingError, parse_time, unb64u
from secure_send.core.errors import SecureSendError

EVENT_TYPE = "secure-send/event/v1"


class LogError(SecureSendError):
    """An event is malformed or cannot apply to the directory as it stands."""


class Action(enum.Enum):
    """What an event does."""

    UPDATE = "update"  # create an entry, or change its descriptive fields
    ENROL = "enrol"  # a device proved possession of a one-time code
    APPROVE = "approve"  # an operator approved a device enrolled without a code
    REVOKE_DEVICE = "revoke-device"
    DEPART = "depart"
    MEMBERS = "members"  # a role's membership changes
    ROTATE_SIGNING_KEY = "rotate-signing-key"
    # an enrolled device adds its P-256 key (issue 21), vouched for by its own signing key
    ADD_KEY = "add-key"


@dataclass(frozen=True)
class Event:
    """One log event. ``seq`` is its position; ``data`` depends on ``action``."""

    seq: int
    time: str
    operator: str
    action: Action
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The canonical JSON object."""
        return {
            "type": EVENT_TYPE,
            "seq": self.seq,
            "time": self.time,
            "operator": self.operator,
            "action": self.action.value,
            "data": self.data,
        }

    def canonical_bytes(self) -> bytes:
        """The log leaf bytes."""
        return canonical.dumps(self.to_json())

    @classmethod
    def from_bytes(cls, data: bytes) -> Event:
        """Parse a canonical event; raises :class:`LogError`."""
        try:
            obj = canonical.loads(data)
            if obj.get("type") != EVENT_TYPE or len(obj) != 6:
                raise LogError("not a version 1 event")
            parse_time(obj["time"])
            return cls(
                seq=int(obj["seq"]),
                time=obj["time"],
                operator=check_id(obj["operator"], "operator"),
                action=Action(obj["action"]),
                data=dict(obj["data"]),
            )
        except (SecureSendError, KeyError, TypeError, ValueError) as err:
            if isinstance(err, LogError):
                raise
            raise LogError(f"malformed event ({err})") from None


def _entry(entries: dict[str, Entry], user: str) -> Entry:
    if user not in entries:
        raise LogError(f"no entry {user!r}")
    return entries[user]


def _apply_update(entries: dict[str, Entry], event: Event) -> None:
    new = Entry.from_json(event.data["entry"])
    old = entries.get(new.id)
    if old is not None:  # devices and status change only through their own events
        new = new.with_changes(devices=old.devices, status=old.status)
    elif new.devices or new.status is not Status.ACTIVE:
        raise LogError("a new entry starts active and without devices")
    entries[new.id] = new


def _apply_device(entries: dict[str, Entry], event: Event) -> None:
    person = _entry(entries, event.data["user"])
    device = Device.from_json(event.data["device"])
    if person.kind is not Kind.PERSON or not person.active:
        raise LogError(f"{person.id} is not an active person")
    if any(d.id == device.id for d in person.devices):
        raise LogError(f"device {device.id} of {person.id} already exists")
    if device.enrolled != event.time or device.revoked is not None:
        raise LogError("an enrolled device carries the event time and is not revoked")
    device.verify_key_binding(person.id)
    entries[person.id] = person.with_changes(devices=(*person.devices, device))


def _apply_add_key(entries: dict[str, Entry], event: Event) -> None:
    """``data``: ``{user, device, p256_key, p256_key_sig}`` (base64url). Only an active
    device without one may add it, once: a key is never replaced by this event (a
    stolen signing key could otherwise swap in its own; re-enrolment replaces keys)."""
    person = _entry(entries, event.data["user"])
    device_id = event.data["device"]
    if set(event.data) != {"user", "device", "p256_key", "p256_key_sig"}:
        raise LogError("add-key carries user, device, p256_key and p256_key_sig")
    found = [d for d in person.devices if d.id == device_id and d.active]
    if not found or not person.active:
        raise LogError(f"{person.id} has no active device {device_id!r}")
    if found[0].p256_key is not None:
        raise LogError(f"device {device_id} of {person.id} already has a P-256 key")
    key = check_p256_point(unb64u(event.data["p256_key"], P256_POINT_SIZE))
    sig = unb64u(event.data["p256_key_sig"], 64)
    found[0].verify_p256_binding(person.id, key, sig)
    devices = tuple(
        replace(d, p256_key=key, p256_key_sig=sig) if d.id == device_id else d
        for d in person.devices
    )
    entries[person.id] = person.with_changes(devices=devices)


def _apply_revoke(entries: dict[str, Entry], event: Event) -> None:
    person = _entry(entries, event.data["user"])
    device_id = event.data["device"]
    if not any(d.id == device_id and d.active for d in person.devices):
        raise LogError(f"{person.id} has no active device {device_id!r}")
    devices = tuple(
        Device(**{**d.__dict__, "revoked": event.time}) if d.id == device_id else d
        for d in person.devices
    )
    entries[person.id] = person.with_changes(devices=devices)


def _apply_depart(entries: dict[str, Entry], event: Event) -> None:
    person = _entry(entries, event.data["user"])
    if not person.active:
        raise LogError(f"{person.id} has already departed")
    devices = tuple(
        d if d.revoked else Device(**{**d.__dict__, "revoked": event.time}) for d in person.devices
    )
    entries[person.id] = person.with_changes(status=Status.DEPARTED, devices=devices)


def _apply_members(entries: dict[str, Entry], event: Event) -> None:
    role = _entry(entries, event.data["role"])
    members = tuple(check_id(m, "member id") for m in event.data["members"])
    if role.kind is not Kind.ROLE:
        raise LogError(f"{role.id} is not a role")
    for member in members:
        if _entry(entries, member).kind is not Kind.PERSON:
            raise LogError(f"member {member!r} is not a person")
    entries[role.id] = role.with_changes(members=members)


def _apply_nothing(entries: dict[str, Entry], event: Event) -> None:
    """Signing-key rotations are recorded for audit; entries do not change."""


_APPLY: dict[Action, Callable[[dict[str, Entry], Event], None]] = {
    Action.UPDATE: _apply_update,
    Action.ENROL: _apply_device,
    Action.APPROVE: _apply_device,
    Action.REVOKE_DEVICE: _apply_revoke,
    Action.DEPART: _apply_depart,
    Action.MEMBERS: _apply_members,
    Action.ROTATE_SIGNING_KEY: _apply_nothing,
    Action.ADD_KEY: _apply_add_key,
}


def apply(entries: dict[str, Entry], event: Event) -> None:
    """Apply one event in place.

    Raises:
        LogError: the event is malformed or does not fit the current entries.
    """
    try:
        _APPLY[event.action](entries, event)
    except (KeyError, TypeError, EntryError, EncodingError) as err:
        raise LogError(f"event {event.seq} ({event.action.value}) invalid: {err}") from None


def replay(events: Iterable[Event]) -> dict[str, Entry]:
    """The directory that a sequence of events (seq 0, 1, 2, …) produces.

    Raises:
        LogError: a gap or repeat in ``seq``, or an event that does not apply.
    """
    entries: dict[str, Entry] = {}
    for expected, event in enumerate(events):
        if event.seq != expected:
            raise LogError(f"event {expected} missing (found seq {event.seq})")
        apply(entries, event)
    return entries


def touched_entry(event: Event) -> str | None:
    """The id of the entry an event changes (None for a signing-key rotation): what a
    delta since an earlier log size must carry, without replaying the log."""
    data = event.data
    if event.action is Action.UPDATE:
        return str(data["entry"]["id"])
    if event.action is Action.MEMBERS:
        return str(data["role"])
    if event.action is Action.ROTATE_SIGNING_KEY:
        return None
    return str(data["user"])
