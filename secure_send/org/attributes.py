"""IT sets attributes of one directory entry (``secure-send-admin set``).

Two so far: 個人番号取扱 (``mynumber_handler``, issue 19): the person or role mailbox
may receive specific personal information; and a person's approver (上長, ``approver``,
issue 20): whose approval their sends need where policy asks. The change is an
``update`` event carrying the whole entry, like an import's, so the log replays it,
the directory signer signs it and clients verify it as they do every other change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from secure_send.core.directory.log import Action
from secure_send.core.directory.model import Entry, Kind, Status, check_id
from secure_send.org.home import HomeError, OrgHome


@dataclass(frozen=True)
class Changes:
    """What to set; ``None`` leaves an attribute as it is."""

    mynumber_handler: bool | None = None
    approver: str | None = None  # an id, or "" to name none

    def empty(self) -> bool:
        """Nothing to set (the CLI asks for at least one option)."""
        return all(getattr(self, f.name) is None for f in dataclasses.fields(self))


OPTIONS = "--mynumber-handler yes|no and/or --approver ID|none"


def _approver(entries: Mapping[str, Entry], entry: Entry, approver: str) -> str | None:
    """The approver to set on ``entry`` (None clears), checked against the directory."""
    if not approver:
        return None
    check_id(approver, "approver id")
    if entry.kind is Kind.ROLE:
        raise HomeError(f"{entry.id} is a role mailbox: only a person has an approver")
    if approver == entry.id:
        raise HomeError(f"{entry.id} cannot be their own approver")
    if not entry.active and approver != entry.approver:
        raise HomeError(f"{entry.id} has departed: cannot be given an approver")
    target = entries.get(approver)
    if target is None:
        raise HomeError(f"no entry {approver!r} in the directory to be the approver")
    if not target.active and approver != entry.approver:
        raise HomeError(f"{approver} has departed: cannot be named approver")
    return approver


@dataclass(frozen=True)
class Outcome:
    """The entry as it is now, and whether this call changed it."""

    entry: Entry
    changed: bool


def set_attributes(home: OrgHome, entry_id: str, changes: Changes, operator: str) -> Outcome:
    """Apply ``changes`` to one entry: one signed event and a republish, or nothing at
    all when the entry already is so (no event that changes nothing).

    Raises:
        HomeError: nothing to set, no such entry, designating a departed entry
            (withdrawing a departed entry's designation is allowed: it only narrows),
            or an approver that is unknown, departed, the entry itself, or set on a
            role mailbox or a departed person (clearing one is allowed).
        EntryError: ``entry_id`` or the approver is not a valid id.
    """
    if changes.empty():
        raise HomeError(f"nothing to set: give {OPTIONS}")
    home.require()
    with home.locked():
        entries = home.entries()
        old = entries.get(check_id(entry_id))
        if old is None:
            raise HomeError(f"no entry {entry_id!r} in the directory")
        new = old
        if changes.mynumber_handler is not None:
            if changes.mynumber_handler and not old.active:
                raise HomeError(f"{entry_id} has departed: cannot be designated 個人番号取扱")
            new = new.with_changes(mynumber_handler=changes.mynumber_handler)
        if changes.approver is not None:
            new = new.with_changes(approver=_approver(entries, old, changes.approver))
        if new == old:
            return Outcome(old, changed=False)
        # As an import writes it: devices and status change only through their own
        # events, and replay keeps the current ones (core/directory/log.py).
        data = new.with_changes(devices=(), status=Status.ACTIVE).to_json()
        home.append(operator, Action.UPDATE, {"entry": data})
        home.publish()
        return Outcome(new, changed=True)
