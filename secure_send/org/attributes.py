"""IT sets attributes of one directory entry (``secure-send-admin set``).

Today the only one is 個人番号取扱 (``mynumber_handler``, issue 19): the person or
role mailbox may receive specific personal information. The change is an ``update``
event carrying the whole entry, like an import's, so the log replays it, the
directory signer signs it and clients verify it as they do every other change.
:class:`Changes` is where later attributes (issue 20: an approver) go.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from secure_send.core.directory.log import Action
from secure_send.core.directory.model import Entry, Status, check_id
from secure_send.org.home import HomeError, OrgHome


@dataclass(frozen=True)
class Changes:
    """What to set; ``None`` leaves an attribute as it is."""

    mynumber_handler: bool | None = None

    def empty(self) -> bool:
        """Nothing to set (the CLI asks for at least one option)."""
        return all(getattr(self, f.name) is None for f in dataclasses.fields(self))


@dataclass(frozen=True)
class Outcome:
    """The entry as it is now, and whether this call changed it."""

    entry: Entry
    changed: bool


def set_attributes(home: OrgHome, entry_id: str, changes: Changes, operator: str) -> Outcome:
    """Apply ``changes`` to one entry: one signed event and a republish, or nothing at
    all when the entry already is so (no event that changes nothing).

    Raises:
        HomeError: nothing to set, no such entry, or designating a departed entry
            (withdrawing a departed entry's designation is allowed: it only narrows).
        EntryError: ``entry_id`` is not a valid id.
    """
    if changes.empty():
        raise HomeError("nothing to set: give --mynumber-handler yes|no")
    home.require()
    with home.locked():
        old = home.entries().get(check_id(entry_id))
        if old is None:
            raise HomeError(f"no entry {entry_id!r} in the directory")
        new = old
        if changes.mynumber_handler is not None:
            if changes.mynumber_handler and not old.active:
                raise HomeError(f"{entry_id} has departed: cannot be designated 個人番号取扱")
            new = new.with_changes(mynumber_handler=changes.mynumber_handler)
        if new == old:
            return Outcome(old, changed=False)
        # As an import writes it: devices and status change only through their own
        # events, and replay keeps the current ones (core/directory/log.py).
        data = new.with_changes(devices=(), status=Status.ACTIVE).to_json()
        home.append(operator, Action.UPDATE, {"entry": data})
        home.publish()
        return Outcome(new, changed=True)
