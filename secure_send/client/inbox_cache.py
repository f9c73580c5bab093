"""The verified inbox, kept in the profile so that each manifest is verified once.

The server pages the inbox by a *change* cursor (``GET /v1/inbox?after=``): a commit,
a recall and an expiry each give the drop a new sequence number. This module keeps
what the pages said — the cursor and one record per live drop — in
``inbox-cache.json`` in the profile, and :mod:`.listing` reads only the pages after
the cursor.

Rules (what may be trusted from the file, and when):

* The file is written through :class:`.Profile` (atomically, owner-only 0600) and
  carries a format version and the user and device it belongs to. A file that cannot
  be read, is of another format or device, or has one field of the wrong shape is
  discarded whole and the inbox is rebuilt from cursor 0: it is never trusted
  half-read.
* A record is ``verified`` only after its manifest verified (:func:`.receive.verify_drop`:
  the directory, this device among the recipients, the sender's directory history
  consistent with ours) — once, the first time the drop is seen. The record keeps the
  SHA-256 of the exact manifest JSON it verified; when the server later sends
  *different* manifest JSON for that drop id, it is verified again, and shown
  dangerous if that fails.
* A verified record is still re-judged, cheaply, on every listing against the
  directory the listing is given: **the sender must still be an active person and
  the sender's device still one of their active devices in the verified snapshot
  (``directory.verified.by_id()``: no key is used, so no binding is checked again)**.
  If not (the device was revoked, the person departed), the item is shown dangerous,
  as a fresh verification would show it. Past its signed expiry it is removed (the
  server's expiry change would, but the server forgets ended drops' rows 30 days
  after their expiry: a client that did not ask meanwhile is never told).
* A drop that failed verification is kept with the server's manifest, *not* as
  verified, and verified again on every listing (as every drop was before this
  cache), so a freshly synced directory can clear it (``listing.inbox_rechecked``).
* A recall or expiry after the cursor removes the record.
* ``saved``: this device posted a receipt (the page says so), or saved the drop since
  (:func:`mark_saved`, called when the receipt is first owed: a receipt posted later
  changes no sequence number, so the page would not say it again).

Manifests hold ids, sizes and hashes only (file names and the message are inside the
encrypted blobs), so nothing in this file is a received file's name or text.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from secure_send.client.approval import ApprovalStatus
from secure_send.client.profile import Profile, ProfileError
from secure_send.core.drop_state import DropState
from secure_send.core.encoding import parse_time
from secure_send.core.envelope.manifest import DROP_ID, Manifest
from secure_send.core.errors import SecureSendError

log = logging.getLogger(__name__)

CACHE_FILE = "inbox-cache.json"  # in the profile folder
CACHE_FORMAT = "secure-send/inbox-cache/v1"
_KEYS = {"format", "user", "device", "cursor", "fields", "drops"}
_ENDED = (DropState.RECALLED, DropState.EXPIRED)
SAVED_DIR = "inbox-saved"  # one empty file per drop this device saved (see mark_saved)

# verify(drop_id, signed manifest JSON, the server's approval object or None) -> the
# verified manifest and its judged approval (上長承認); raises SecureSendError (or
# KeyError) when it does not verify
Verify = Callable[[str, Any, Any], tuple[Manifest, ApprovalStatus]]


@dataclass
class Record:
    """One live drop as the inbox pages gave it."""

    drop_id: str
    seq: int
    state: str
    verified: bool
    manifest_sha256: str  # of the exact manifest JSON (canonical text) last seen
    sender: str = ""
    sender_device: str = ""
    created: str = ""
    expires: str = ""
    expires_at: int = 0  # ``expires`` as unix time, to compare without parsing
    request: str = ""  # the file request the drop answers ("" for an ordinary send)
    saved: bool = False  # a receipt of this device was on the page
    # 上長承認 as verified (client/approval.py): "" none needed, pending, approved, rejected
    approval: str = ""
    approving: bool = False  # this person is one of its approvers
    reasons: str = ""  # why approval was asked (comma-separated, as the manifest signs them)
    decided_by: str = ""  # the approver whose verified decision it carries
    manifest: Any = None  # the server's manifest JSON, kept only while not verified
    server_approval: Any = None  # the server's approval object, kept only while not verified

    @classmethod
    def from_row(cls, row: Any) -> Record:
        """Strict: one value per field, in order, each of its type (else ``ValueError``)."""
        if not isinstance(row, list) or len(row) != len(_TYPES):
            raise ValueError("not an inbox record")
        for value, kind in zip(row, _TYPES, strict=True):
            if kind is not None and type(value) is not kind:
                raise ValueError("inbox record: a field of the wrong type")
        record = cls(*row)
        # only a verified manifest's id is a drop id; a dangerous one is shown, never used
        kept = record.manifest or record.server_approval
        if record.verified and (not DROP_ID.fullmatch(record.drop_id) or kept):
            raise ValueError("inbox record: id")
        return record

    def to_row(self) -> list[Any]:
        """The fields in order (a list per record: 5,000 of them load in milliseconds)."""
        return [getattr(self, name) for name in _FIELDS]


_FIELDS = tuple(f.name for f in fields(Record))
_UNVERIFIED = ("manifest", "server_approval")
# each field's type as stored; None: the server's manifest JSON, verified before any use
_TYPES = tuple(
    None if f.name in _UNVERIFIED else {"str": str, "int": int, "bool": bool}[str(f.type)]
    for f in fields(Record)
)


def manifest_hash(signed: Any, server_approval: Any = None) -> str:
    """The SHA-256 of the manifest JSON as one canonical text (what "the same
    manifest" means: any change in any field gives another hash), and of the server's
    approval object with it when there is one (a decision arriving is a change too)."""
    obj = signed if server_approval is None else [signed, server_approval]
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class InboxCache:
    """The cursor and the records of one device's inbox (see the module docstring)."""

    def __init__(self, user: str, device: str) -> None:
        self.user, self.device = user, device
        self.cursor = 0
        self.records: dict[str, Record] = {}  # in sequence order
        self.changed = False  # differs from the file

    # ------------------------------------------------------------------ the file
    @classmethod
    def load(cls, profile: Profile, user: str, device: str) -> InboxCache:
        """The profile's cache for this device; an empty one (cursor 0) if there is none
        or it is damaged (then it is rebuilt from the first page)."""
        cache = cls(user, device)
        path = profile.path / CACHE_FILE
        try:
            obj = profile.read_json(path)
            if obj is None:
                return cache
            if not isinstance(obj, dict) or set(obj) != _KEYS:
                raise ValueError("not an inbox cache")
            if obj["format"] != CACHE_FORMAT or (obj["user"], obj["device"]) != (user, device):
                raise ValueError("another format or device")
            if type(obj["cursor"]) is not int or obj["cursor"] < 0:
                raise ValueError("cursor")
            if obj["fields"] != list(_FIELDS):
                raise ValueError("other fields")
            records = [Record.from_row(r) for r in obj["drops"]]
        except (ProfileError, ValueError, TypeError, KeyError):
            # no excerpt: the file may hold ids of people; the server has everything again
            log.warning("the saved inbox was damaged and is rebuilt from the server")
            cache.changed = True
            return cache
        cache.cursor = obj["cursor"]
        cache.records = {r.drop_id: r for r in sorted(records, key=lambda r: r.seq)}
        return cache

    def save(self, profile: Profile) -> None:
        """Write the cache if it changed (atomic, 0600)."""
        if not self.changed:
            return
        obj = {
            "format": CACHE_FORMAT,
            "user": self.user,
            "device": self.device,
            "cursor": self.cursor,
            "fields": list(_FIELDS),
            "drops": [r.to_row() for r in self.records.values()],
        }
        profile.ensure()
        data = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        profile.write_bytes(profile.path / CACHE_FILE, data)
        self.changed = False

    # ------------------------------------------------------------------ pages
    def apply(self, answer: dict[str, Any], verify: Verify) -> list[str]:
        """Take one page: ended drops are removed, new ones (and ones whose manifest JSON
        changed) verified, the rest updated; returns the ids of the ended drops."""
        ended = []
        for drop in answer.get("drops", []):
            drop_id, seq = str(drop.get("drop_id", "")), int(drop.get("seq", 0))
            if drop.get("state") in _ENDED:
                if self.records.pop(drop_id, None) is not None:
                    ended.append(drop_id)
                continue
            # anything else the server lists is judged by its manifest: an id that is not
            # one, or a missing state, fails verification and is shown as dangerous
            saved = any(r.get("device") == self.device for r in drop.get("receipts", []))
            signed, server_approval = drop.get("manifest"), drop.get("approval")
            digest = manifest_hash(signed, server_approval)
            known = self.records.pop(drop_id, None)  # re-added: keeps sequence order
            if known is not None and known.verified and known.manifest_sha256 == digest:
                known.seq, known.saved = seq, known.saved or saved
                self.records[drop_id] = known
            else:
                self.records[drop_id] = judge(
                    drop_id, seq, (signed, server_approval), digest, saved, verify
                )
        cursor = max(self.cursor, int(answer.get("cursor", self.cursor)))
        if answer.get("drops") or cursor != self.cursor:  # an idle page changes nothing
            self.cursor, self.changed = cursor, True
        return ended

    def reverify(self, record: Record, verify: Verify) -> Record:
        """A record that failed verification, verified again (the directory may be newer)."""
        server = (record.manifest, record.server_approval)
        again = judge(record.drop_id, record.seq, server, "", record.saved, verify)
        again.manifest_sha256 = record.manifest_sha256
        if again.verified:
            self.records[record.drop_id] = again
            self.changed = True
        return again

    def forget(self, drop_id: str) -> None:
        """Remove a drop past its signed expiry."""
        if self.records.pop(drop_id, None) is not None:
            self.changed = True

    def has_after(self, after: int) -> bool:
        """Whether a drop changed after the caller's cursor ``after`` is held."""
        return any(r.seq > after for r in self.records.values())


def judge(
    drop_id: str, seq: int, server: tuple[Any, Any], digest: str, saved: bool, verify: Verify
) -> Record:
    """A record for the server's (manifest, approval): verified (its fields kept), or not
    (both kept, to verify again)."""
    signed, server_approval = server
    try:
        m, status = verify(drop_id, signed, server_approval)
    except (SecureSendError, KeyError, TypeError, ValueError):  # fail closed: dangerous
        return Record(
            drop_id,
            seq,
            DropState.COMMITTED,
            False,
            digest,
            saved=saved,
            manifest=signed,
            server_approval=server_approval,
        )
    expires_at = int(parse_time(m.expires).timestamp())
    return Record(
        drop_id,
        seq,
        DropState.COMMITTED,
        True,
        digest,
        m.sender,
        m.sender_device,
        m.created,
        m.expires,
        expires_at,
        m.request or "",
        saved,
        status.state,
        status.approving,
        ",".join(status.reasons),
        status.decided_by,
    )


# ---------------------------------------------------------------------- saved marks
def _saved_dir(profile: Profile) -> Path:
    return profile.path / SAVED_DIR


def mark_saved(profile: Profile, drop_id: str) -> None:
    """Remember that this device saved ``drop_id`` (listed as saved from now on)."""
    if not DROP_ID.fullmatch(drop_id):  # a verified manifest's id; never a path
        raise ValueError("not a drop id")
    profile.write_bytes(_saved_dir(profile) / drop_id, b"")


def saved_marks(profile: Profile) -> set[str]:
    """The drops :func:`mark_saved` recorded."""
    try:
        return {name for name in os.listdir(_saved_dir(profile)) if DROP_ID.fullmatch(name)}
    except FileNotFoundError:
        return set()


def forget_marks(profile: Profile, drop_ids: Iterable[str]) -> None:
    """Drop the marks of drops that ended (their records are gone)."""
    for drop_id in drop_ids:
        if DROP_ID.fullmatch(drop_id):
            (_saved_dir(profile) / drop_id).unlink(missing_ok=True)
