"""Self-monitoring: this person watches the devices listed in their own entry.

A compromised directory signer (or a stolen signing key) could add a device to
someone's entry, or swap a device's keys, so that senders encrypt to it. Clients
verify that every snapshot was signed, not that each change was wanted; the one
person who can tell is the owner of the entry. So on every directory sync this
profile compares its own entry with what it knows:

* this device, listed with exactly this profile's keys — expected;
* a device the person acknowledged (``secure-send devices ack``), with the very
  keys that were acknowledged — expected;
* anything else that is active — an **unknown device**: an alert that stays until
  the person acknowledges it or IT revokes it;
* this device listed with a P-256 key (issue 21) other than the one in its key store
  — a **foreign key**: someone holding this device's signing key added it (only that
  key can sign the binding). An alert that no acknowledgement silences: IT must
  revoke the device. An ``add-key`` of *this* key, or of another known device (its
  own signing key vouches for it), changes nothing here.

Guarantees and limits: the check runs only over a verified directory (the
server cannot fake or hide an entry without failing verification), so an alert
is about the signed directory itself. It cannot stop a send that happened
before this profile synced; it tells the person, who tells IT security. State
lives in the profile (``own-devices.json``): acknowledgements keyed by device id
*and* a hash of its keys, so a device whose keys are later swapped alerts again.
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from secure_send.client.directory_sync import Directory
from secure_send.client.errors import ClientError
from secure_send.client.profile import DeviceIdentity, Profile
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.directory.model import Device, Entry
from secure_send.core.display import shown
from secure_send.core.encoding import b64u, format_time, utc_now
from secure_send.core.error_codes import ErrorCode


@dataclass(frozen=True)
class OwnDevice:
    """One device listed in this person's entry, as this profile judges it."""

    device: str
    name: str
    enrolled: str
    revoked: str | None
    this_device: bool
    acknowledged: bool
    foreign_key: bool = False  # this device, listed with a P-256 key it did not make

    @property
    def unknown(self) -> bool:
        """Active, and not this device nor acknowledged with these keys, or this device
        with a P-256 key it did not make: an alert."""
        if self.revoked is not None:
            return False
        return self.foreign_key or (not self.this_device and not self.acknowledged)

    def to_json(self) -> dict[str, Any]:
        """For ``--json`` answers."""
        return {**asdict(self), "unknown": self.unknown}


def own_entry(directory: Directory, user: str) -> Entry | None:
    """The person's entry, found by bisection (entries are sorted by id): a sync of a
    100,000-entry directory must not pay for a dictionary of it."""
    entries = directory.verified.entries
    i = bisect.bisect_left(entries, user, key=lambda e: e.id)
    return entries[i] if i < len(entries) and entries[i].id == user else None


def key_hash(device: Device) -> str:
    """What an acknowledgement binds to: the device's two public keys."""
    return b64u(hashlib.sha256(device.sign_key + device.enc_key).digest())


def _state_file(profile: Profile) -> Path:
    return profile.path / "own-devices.json"


def _acks(profile: Profile) -> dict[str, str]:
    raw = profile.read_json(_state_file(profile)) or {}
    acks = raw.get("acknowledged", {}) if isinstance(raw, dict) else {}
    return {str(k): str(v.get("keys", "")) for k, v in acks.items() if isinstance(v, dict)}


def own_devices(
    profile: Profile, me: DeviceIdentity, keys: DeviceKeys, directory: Directory
) -> list[OwnDevice]:
    """Every device of this person's entry, judged (see the module docstring)."""
    entry = own_entry(directory, me.user)
    if entry is None:
        return []
    acks = _acks(profile)
    this = this_listed(entry, me, keys)
    # no P-256 key listed yet is fine (its key-add may still wait); any other than
    # the key store's is not: only this device's signing key can have vouched for it
    mine = keys.p256_public()
    return [
        OwnDevice(
            device=d.id,
            name=shown(d.name),  # chosen by whoever enrolled it: shown, never obeyed
            enrolled=d.enrolled,
            revoked=d.revoked,
            this_device=d is this,
            acknowledged=acks.get(d.id) == key_hash(d),
            foreign_key=d is this and d.p256_key is not None and d.p256_key != mine,
        )
        for d in entry.devices
    ]


def this_listed(entry: Entry | None, me: DeviceIdentity, keys: DeviceKeys) -> Device | None:
    """This device as ``entry`` lists it: its id with exactly this profile's signing and
    encryption keys (None if it is not so listed)."""
    sign_key, enc_key = bytes(keys.signing.verify_key), bytes(keys.encryption.public_key)
    for d in entry.devices if entry is not None else ():
        if d.id == me.device and d.sign_key == sign_key and d.enc_key == enc_key:
            return d
    return None


def check(
    profile: Profile, me: DeviceIdentity, keys: DeviceKeys, directory: Directory
) -> list[OwnDevice]:
    """The unknown devices now, remembered for commands that do not sync."""
    unknown = [d for d in own_devices(profile, me, keys, directory) if d.unknown]
    raw = profile.read_json(_state_file(profile))
    state = raw if isinstance(raw, dict) else {}
    alerts = [d.to_json() for d in unknown]
    if state.get("alerts") != alerts:
        profile.write_json(_state_file(profile), {**state, "alerts": alerts})
    return unknown


def stored_alerts(profile: Profile) -> list[OwnDevice]:
    """The unknown devices found at the last sync (without syncing)."""
    raw = profile.read_json(_state_file(profile))
    alerts = raw.get("alerts", []) if isinstance(raw, dict) else []
    fields = OwnDevice.__dataclass_fields__
    return [OwnDevice(**{k: v for k, v in a.items() if k in fields}) for a in alerts]


def acknowledge(
    profile: Profile, me: DeviceIdentity, keys: DeviceKeys, directory: Directory, device_id: str
) -> list[OwnDevice]:
    """Record that the person enrolled ``device_id`` themselves (with its current keys);
    returns the unknown devices that remain.

    Raises:
        ClientError: ``unknown_device`` — the entry lists no such active device.
    """
    entry = own_entry(directory, me.user)
    found = next((d for d in (entry.devices if entry else ()) if d.id == device_id), None)
    if found is None or not found.active:
        raise ClientError(
            ErrorCode.UNKNOWN_DEVICE, f"your entry lists no active device {device_id!r}"
        )
    raw = profile.read_json(_state_file(profile))
    state = raw if isinstance(raw, dict) else {}
    acks = dict(state.get("acknowledged", {}))
    acks[device_id] = {"keys": key_hash(found), "at": format_time(utc_now())}
    profile.write_json(_state_file(profile), {**state, "acknowledged": acks})
    return check(profile, me, keys, directory)  # the stored alerts follow at once
