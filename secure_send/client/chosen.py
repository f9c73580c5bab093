"""Whom the sender chose: role mailboxes with their members, and persons.

The signed manifest lists only the persons a drop was encrypted to (a role is
expanded to its members who have a device), so without this record Sent would
show "1 of 1" and the role mailbox would vanish. The record travels inside the
encrypted metadata blob (``"to"``, docs/formats.md): its hash is in the signed
manifest, so it is the sender's authenticated statement, and the server never
learns it. A reader believes it only when it covers every person the manifest
names (:func:`parse_chosen`); otherwise the manifest's persons are shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from secure_send.core.directory.model import Entry, Kind

PERSON, ROLE = "person", "role"
MAX_CHOSEN = 1000  # ids per list read back: a sender cannot make a reader loop for long


@dataclass(frozen=True)
class Chosen:
    """One id the sender picked; for a role, the members it reached (``members``) and
    the active members left out because they had no active device (``no_device``)."""

    id: str
    kind: str  # PERSON or ROLE
    members: tuple[str, ...] = ()
    no_device: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The metadata's form of this choice."""
        if self.kind == PERSON:
            return {"id": self.id, "kind": PERSON}
        return {
            "id": self.id,
            "kind": ROLE,
            "members": list(self.members),
            "no_device": list(self.no_device),
        }


def chosen_for(
    entries: Mapping[str, Entry], ids: Sequence[str], reached: set[str], sender: str
) -> list[Chosen]:
    """What to record for the ids the sender chose; ``reached`` are the persons the
    drop is encrypted to (the send resolved them already). The sender is left out of
    a role's lists: their own devices get every drop anyway."""
    chosen: list[Chosen] = []
    for wanted in dict.fromkeys(ids):  # each once, in the order chosen
        entry = entries.get(wanted)
        if entry is None or entry.kind is not Kind.ROLE:
            chosen.append(Chosen(wanted, PERSON))
            continue
        members = [m for m in entry.members if m != sender]
        got = tuple(m for m in members if m in reached)
        missing = tuple(m for m in members if m not in reached and _active(entries.get(m)))
        chosen.append(Chosen(wanted, ROLE, got, missing))
    return chosen


def _active(person: Entry | None) -> bool:
    # a departed member is no longer part of the mailbox; an active one without a
    # device is, and the sender should know they did not get it
    return person is not None and person.active


def parse_chosen(value: Any, persons: Sequence[str]) -> tuple[Chosen, ...] | None:
    """The metadata's ``"to"``, or None when absent, malformed, or not covering every
    person the signed manifest names (then the caller shows the manifest's persons)."""
    if not isinstance(value, list) or not value or len(value) > MAX_CHOSEN:
        return None
    chosen: list[Chosen] = []
    for item in value:
        parsed = _one(item)
        if parsed is None:
            return None
        chosen.append(parsed)
    covered = {c.id for c in chosen if c.kind == PERSON}
    covered |= {m for c in chosen for m in c.members}
    if not set(persons) <= covered:
        return None
    return tuple(chosen)


def _one(item: Any) -> Chosen | None:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        return None
    if item.get("kind") == PERSON:
        return Chosen(item["id"], PERSON)
    members, no_device = _ids(item.get("members")), _ids(item.get("no_device"))
    if item.get("kind") != ROLE or members is None or no_device is None:
        return None
    return Chosen(item["id"], ROLE, members, no_device)


def _ids(value: Any) -> tuple[str, ...] | None:
    if not isinstance(value, list) or len(value) > MAX_CHOSEN:
        return None
    if not all(isinstance(v, str) for v in value):
        return None
    return tuple(value)
