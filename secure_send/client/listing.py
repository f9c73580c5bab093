"""What the Inbox and Sent views show, verified: the CLI, the demo and the app use it.

Guarantees: an inbox item is ``verified`` only if its manifest verified against
the verified directory and names this device (else it carries the reason and
must be shown as dangerous); a sent item shows "downloaded at" for a recipient
only on a receipt that verifies under that recipient's device key for this
drop's exact blob hashes — the server's word alone is never shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from secure_send.client.directory_sync import Directory
from secure_send.client.receive import verify_drop
from secure_send.client.session import Session
from secure_send.core.envelope.manifest import SignedManifest
from secure_send.core.envelope.receipt import Receipt
from secure_send.core.errors import SecureSendError


@dataclass(frozen=True)
class InboxItem:
    """One drop for me."""

    drop_id: str
    seq: int
    verified: bool
    problem: str = ""  # why it is dangerous, when not verified
    sender: str = ""
    sender_name_ja: str = ""
    sender_name_en: str = ""
    department: str = ""
    created: str = ""
    expires: str = ""
    saved: bool = False  # this device posted a receipt


@dataclass(frozen=True)
class RecipientStatus:
    """One recipient of a sent drop; ``downloaded`` is a verified receipt's time."""

    user: str
    name_ja: str
    department: str
    downloaded: str | None


@dataclass(frozen=True)
class SentItem:
    """One drop I sent."""

    drop_id: str
    state: str  # uploading, committed, recalled, expired; "damaged": unreadable on the server
    created: str
    expires: str
    recipients: tuple[RecipientStatus, ...]
    unverified_receipts: int = 0  # receipts that did not verify (maybe a newer device)


def inbox(
    session: Session, directory: Directory, *, wait: float = 0, after: int = 0
) -> tuple[list[InboxItem], int]:
    """My drops (waiting up to ``wait`` s for one after ``after``) and the next cursor."""
    answer = session.api.json("GET", f"/v1/inbox?wait={wait:g}&after={after}")
    entries = directory.by_id()
    items = []
    for drop in answer["drops"]:
        drop_id, seq = str(drop.get("drop_id", "")), int(drop.get("seq", 0))
        try:
            manifest = verify_drop(directory, session.me, drop_id, drop["manifest"])
        except (SecureSendError, KeyError) as err:
            items.append(InboxItem(drop_id, seq, False, str(err)))
            continue
        sender = entries[manifest.sender]
        saved = any(r.get("device") == session.me.device for r in drop.get("receipts", []))
        items.append(
            InboxItem(
                drop_id,
                seq,
                True,
                "",
                sender.id,
                sender.name_ja,
                sender.name_en,
                sender.department,
                manifest.created,
                manifest.expires,
                saved,
            )
        )
    return items, int(answer.get("cursor", after))


def sent(session: Session, directory: Directory) -> list[SentItem]:
    """My drops with verified per-recipient receipts."""
    entries = directory.by_id()
    items = []
    for drop in session.api.json("GET", "/v1/sent")["drops"]:
        try:
            manifest = SignedManifest.from_json(drop["manifest"]).manifest
        except (SecureSendError, KeyError, TypeError):
            # the server's copy of our own manifest does not parse: say so, keep the rest
            items.append(SentItem(str(drop.get("drop_id", "")), "damaged", "", "", ()))
            continue
        raw = session.api.json("GET", f"/v1/drops/{manifest.drop_id}/receipts")["receipts"]
        opened: dict[str, str] = {}
        unverified = 0
        for obj in raw:
            try:
                receipt = Receipt.from_json(obj)
                receipt.verify(manifest, entries)
            except SecureSendError:  # unverifiable: not shown as downloaded
                unverified += 1
                continue
            if receipt.user not in opened or receipt.time < opened[receipt.user]:
                opened[receipt.user] = receipt.time
        recipients = []
        for ref in manifest.recipients:
            entry = entries.get(ref.user)
            recipients.append(
                RecipientStatus(
                    ref.user,
                    entry.name_ja if entry else ref.user,
                    entry.department if entry else "",
                    opened.get(ref.user),
                )
            )
        items.append(
            SentItem(
                manifest.drop_id,
                str(drop["state"]),
                manifest.created,
                manifest.expires,
                tuple(recipients),
                unverified,
            )
        )
    return items
