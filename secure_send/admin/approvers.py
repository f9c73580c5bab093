"""Who approves whose sends (上長承認, issue 20), as IT audits it: ``show --approvers`` and
the approver line of ``show ID``.

An approver is marked when a send needing approval would be refused now: the entry
named has departed (or is unknown), or nobody it stands for has an enrolled device (a
person without one, a role mailbox without an active member who has one). The test
is the sender's own (:func:`reachable_approvers`), so the mark and the app agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from secure_send.core.directory.model import Entry, Kind
from secure_send.core.envelope.approval import ApproverError, reachable_approvers

MARK = "⚠"


def problem(entries: Mapping[str, Entry], person: Entry) -> str:
    """Why ``person``'s approver could not approve now ("" when they could, or when the
    person names none)."""
    if person.approver is None:
        return ""
    target = entries.get(person.approver)
    if target is None:
        return "not in the directory"
    if not target.active:
        return "has departed"
    try:
        reachable_approvers(entries, person.id)
    except ApproverError:
        if target.kind is Kind.PERSON:
            return "has no enrolled device"
        return "no active member has an enrolled device"
    return ""


def named(entries: Mapping[str, Entry], entry_id: str) -> str:
    """``id (name, department)``, or just the id of an entry not in the directory."""
    entry = entries.get(entry_id)
    return f"{entry_id} ({entry.name_ja}, {entry.department})" if entry else entry_id


def describe(entries: Mapping[str, Entry], person: Entry) -> str:
    """The approver line of ``show ID`` (persons only: a role mailbox has none)."""
    if person.approver is None:
        return "  approver (上長): none"
    why = problem(entries, person)
    mark = f"  {MARK} {why}: sends needing approval would be refused" if why else ""
    return f"  approver (上長): {named(entries, person.approver)}{mark}"


def rows(entries: Mapping[str, Entry]) -> list[dict[str, Any]]:
    """Every active person and their approver, by id (``show --approvers --json``)."""
    people = sorted(
        (e for e in entries.values() if e.kind is Kind.PERSON and e.active), key=lambda e: e.id
    )
    out = []
    for person in people:
        approver = entries.get(person.approver) if person.approver else None
        out.append(
            {
                "id": person.id,
                "name_ja": person.name_ja,
                "department": person.department,
                "approver": person.approver,
                "approver_name_ja": approver.name_ja if approver else None,
                "problem": problem(entries, person) or None,
            }
        )
    return out


def text(entries: Mapping[str, Entry], listed: list[dict[str, Any]]) -> str:
    """``show --approvers`` for people: one line each, marked ones flagged."""
    marked = sum(r["problem"] is not None for r in listed)
    without = sum(r["approver"] is None for r in listed)
    lines = [
        f"Approvers (上長承認): {len(listed)} active people, {without} without an approver, "
        f"{marked} marked {MARK} (their sends needing approval would be refused)"
    ]
    for r in listed:
        who = f"  {r['id']:<24} {r['name_ja']}  ({r['department']})"
        if r["approver"] is None:
            lines.append(f"{who}  → none")
            continue
        flag = f"  {MARK} {r['problem']}" if r["problem"] else ""
        lines.append(f"{who}  → {named(entries, r['approver'])}{flag}")
    return "\n".join(lines)
