"""Senders are told when a recipient's devices changed (key transparency's other half).

The file key of a drop is wrapped to every active device of every recipient. A
device added to a colleague's entry — by the colleague, or by a compromised
signer — is therefore a new reader. Before a send this module names, per
recipient person:

* every active device that was not among that person's devices the last time
  this profile sent to them, and
* every active device enrolled in the last :data:`RECENT` (a change the sender
  may never have seen, e.g. on a first send).

It does not block the send: the directory is verified, and a new device is
usually the colleague's new PC. It makes the change visible where the sender
decides (the confirm sheet; ``recipient_key_changes`` in ``send --json``), so a
device nobody expected is noticed by a second person. State lives in the
profile (``sent-devices.json``): per recipient, the key hashes of the devices
last sent to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from secure_send.client.own_devices import key_hash
from secure_send.client.profile import Profile
from secure_send.core.directory.model import Entry
from secure_send.core.display import shown
from secure_send.core.encoding import EncodingError, parse_time, utc_now

RECENT = dt.timedelta(days=7)


@dataclass(frozen=True)
class KeyChange:
    """A device of a recipient the sender should know about."""

    user: str
    device: str
    enrolled: str
    name: str

    def to_json(self) -> dict[str, Any]:
        """For ``send --json``: ``{user, device, enrolled, name}``."""
        return asdict(self)


def _file(profile: Profile) -> Path:
    return profile.path / "sent-devices.json"


def _last_sent(profile: Profile) -> dict[str, list[str]]:
    raw = profile.read_json(_file(profile))
    if not isinstance(raw, dict):
        return {}
    return {str(k): [str(h) for h in v] for k, v in raw.items() if isinstance(v, list)}


def recipient_key_changes(
    profile: Profile, people: Sequence[Entry], now: dt.datetime | None = None
) -> list[KeyChange]:
    """The notable devices of ``people`` (the resolved recipient persons)."""
    now = now or utc_now()
    last = _last_sent(profile)
    changes = []
    for person in people:
        known = last.get(person.id)
        for device in person.active_devices():
            new = known is not None and key_hash(device) not in known
            if new or _recent(device.enrolled, now):
                changes.append(KeyChange(person.id, device.id, device.enrolled, shown(device.name)))
    return changes


def _recent(enrolled: str, now: dt.datetime) -> bool:
    try:
        return parse_time(enrolled) > now - RECENT
    except EncodingError:
        return True  # an unreadable date is worth a look


def key_hashes(people: Sequence[Entry]) -> dict[str, list[str]]:
    """Per person, the key hashes of the active devices (what a send wraps to)."""
    return {p.id: sorted(key_hash(d) for d in p.active_devices()) for p in people}


def remember_sent(profile: Profile, sent_to: dict[str, list[str]]) -> None:
    """After a send: these are the devices each person's files were wrapped to."""
    if sent_to:
        profile.write_json(_file(profile), {**_last_sent(profile), **sent_to})
