"""The directory signer's decision on key-add requests (issue 21): ``add-key`` events.

A key-add request is decided automatically — no code, no operator — because it is
signed by an enrolled, active device's own signing key (see
:mod:`secure_send.core.directory.key_add`). Everything is checked against the
organisation home's *own* directory, never what the drop server said: the person
exists, is a person and is active; the device is listed and active; the request
and the P-256 key binding verify with the ``sign_key`` listed for that device.

Idempotent: a request for a device that already lists this very key is ``DONE``
again (a retry, a replay); one for a device that lists another key is a
``CONFLICT`` (a key is never replaced: re-enrolment does that). All the batch's
additions make one log append and one new snapshot.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from secure_send.core.directory.key_add import KeyAddError, KeyAddRequest
from secure_send.core.directory.log import Action, Event, LogError, apply
from secure_send.core.directory.model import Entry, Kind
from secure_send.core.encoding import format_time, utc_now
from secure_send.org.home import OrgHome


class KeyAddOutcome(enum.Enum):
    """What became of one key-add request."""

    ADDED = "added"  # appended now
    DONE = "done"  # the device already lists this very key
    BAD = "bad_key_add"  # does not verify with the device's listed signing key
    CONFLICT = "conflict"  # no such active person or device, or another key is listed


def add_key_batch(
    home: OrgHome, requests: Sequence[KeyAddRequest], operator: str
) -> list[tuple[KeyAddOutcome, str]]:
    """Decide a batch under the home's lock; each outcome with a sentence for the log."""
    home.require()
    with home.locked():
        entries = home.entries()
        now = utc_now()
        time = format_time(now)
        outcomes: list[tuple[KeyAddOutcome, str]] = []
        changes: list[tuple[Action, dict[str, Any]]] = []
        for request in requests:
            outcome, why = _decide(entries, request, time)
            outcomes.append((outcome, why))
            if outcome is KeyAddOutcome.ADDED:
                changes.append((Action.ADD_KEY, request.event_data()))
        if changes:
            home.append_all(operator, changes, time)
            home.publish(now)
        return outcomes


def _decide(
    entries: dict[str, Entry], request: KeyAddRequest, time: str
) -> tuple[KeyAddOutcome, str]:
    """One request against the working copy ``entries`` (updated in place when added)."""
    entry = entries.get(request.user)
    if entry is None or entry.kind is not Kind.PERSON or not entry.active:
        return KeyAddOutcome.CONFLICT, "not an active person in the directory"
    device = next((d for d in entry.devices if d.id == request.device_id), None)
    if device is None or not device.active:
        return KeyAddOutcome.CONFLICT, "no such active device"
    try:
        request.verify(entry.id, device)
    except KeyAddError as err:
        return KeyAddOutcome.BAD, str(err)
    if device.p256_key == request.p256_key:
        return KeyAddOutcome.DONE, "the device already has this key"
    if device.p256_key is not None:
        return KeyAddOutcome.CONFLICT, "the device already has another P-256 key"
    try:  # the log's own rule, on the working copy: the batch's later requests see it
        apply(entries, Event(0, time, "check", Action.ADD_KEY, request.event_data()))
    except LogError as err:
        return KeyAddOutcome.CONFLICT, str(err)
    return KeyAddOutcome.ADDED, "added"
