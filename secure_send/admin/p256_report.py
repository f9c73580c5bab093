"""Which devices have a P-256 key (issue 21), as IT checks it before switching the
policy's ``suite`` to the CRYPTREC suite: ``show --p256`` and the device lines of
``show ID``.

A send in the CRYPTREC suite stops (``suite_unavailable``) when a recipient's active
device has no P-256 key, so the report names every active person with such a device.
Devices enrolled from issue 21 on have one; older ones add theirs at their next start.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from secure_send.core.directory.model import Entry, Kind


def report(entries: Mapping[str, Entry]) -> dict[str, Any]:
    """Counts over active people and their active devices, and who is not ready."""
    people = sorted(
        (e for e in entries.values() if e.kind is Kind.PERSON and e.active), key=lambda e: e.id
    )
    devices = [d for p in people for d in p.active_devices()]
    missing = [
        {
            "id": p.id,
            "name_ja": p.name_ja,
            "department": p.department,
            "devices": [d.id for d in p.active_devices() if not d.has_p256],
        }
        for p in people
        if any(not d.has_p256 for d in p.active_devices())
    ]
    with_key = [p for p in people if any(d.has_p256 for d in p.active_devices())]
    return {
        "active_people": len(people),
        "people_with_p256": len(with_key),  # at least one active device with a key
        "people_without_devices": sum(not p.active_devices() for p in people),
        "active_devices": len(devices),
        "devices_with_p256": sum(d.has_p256 for d in devices),
        "missing": missing,  # active people with an active device without a key
    }


def text(found: dict[str, Any]) -> str:
    """``show --p256`` for people."""
    lines = [
        f"P-256 keys (CRYPTREC suite): {found['devices_with_p256']} of "
        f"{found['active_devices']} active devices; {found['people_with_p256']} of "
        f"{found['active_people']} active people have one "
        f"({found['people_without_devices']} have no device)",
    ]
    if not found["missing"]:
        lines.append("Every active device has a P-256 key.")
        return "\n".join(lines)
    lines.append(
        f"{len(found['missing'])} active people have a device without one (it is added at"
        " the device's next start; sends to them in the CRYPTREC suite stop until then):"
    )
    for row in found["missing"]:
        lines.append(
            f"  {row['id']:<24} {row['name_ja']}  ({row['department']})  "
            f"devices: {', '.join(row['devices'])}"
        )
    return "\n".join(lines)
