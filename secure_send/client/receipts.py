"""Receipts this device owes: recorded once a drop's files are placed, posted until the
server has them.

A receive places the files, then posts the signed receipt. If the server (or the
network) goes away in between, the files are saved but the server does not know: the
inbox would say "not saved" and a retry would save everything again as ``doc (1).bin``.
So the receipt is written to the profile (``receipts/<drop id>.json``, with what was
saved) *before* it is posted and removed once the server took it. Meanwhile the
inbox shows the drop as saved (:func:`owed_ids`), a retried receive answers with the
files already saved (:func:`saved`), and every inbox listing and receive posts what
is owed (:func:`post_owed`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secure_send.client import inbox_cache
from secure_send.client.api import ServerApi
from secure_send.client.errors import ClientError, ConnectionLost, ServerError
from secure_send.client.profile import Profile, ProfileError
from secure_send.core.envelope.manifest import DROP_ID

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Owed:
    """A drop saved here whose receipt the server has not taken yet."""

    drop_id: str
    receipt: dict[str, Any]
    sender: str
    message: str
    files: list[Path]


def _folder(profile: Profile) -> Path:
    return profile.path / "receipts"


def _file(profile: Profile, drop_id: str) -> Path:
    if not DROP_ID.fullmatch(drop_id):  # a verified manifest's id; never a path
        raise ValueError("not a drop id")
    return _folder(profile) / f"{drop_id}.json"


def owe(profile: Profile, owed: Owed) -> None:
    """Record a receipt before posting it (written atomically, owner-only), and that the
    drop was saved here: the inbox lists it as saved even after the receipt is posted."""
    inbox_cache.mark_saved(profile, owed.drop_id)
    profile.write_json(
        _file(profile, owed.drop_id),
        {
            "receipt": owed.receipt,
            "sender": owed.sender,
            "message": owed.message,
            "files": [str(f) for f in owed.files],
        },
    )


def _read(profile: Profile, path: Path) -> Owed | None:
    try:
        obj = profile.read_json(path)
        if obj is None:
            return None
        return Owed(
            path.stem,
            dict(obj["receipt"]),
            str(obj["sender"]),
            str(obj["message"]),
            [Path(str(f)) for f in obj["files"]],
        )
    except (ProfileError, KeyError, TypeError, ValueError):
        log.warning("a damaged record of a receipt to send was removed: %s", path.name)
        path.unlink(missing_ok=True)
        return None


def owed_ids(profile: Profile) -> set[str]:
    """The drops saved here whose receipt is still to be posted."""
    folder = _folder(profile)
    if not folder.is_dir():
        return set()
    return {p.stem for p in folder.glob("*.json") if DROP_ID.fullmatch(p.stem)}


def saved(profile: Profile, drop_id: str) -> Owed | None:
    """The record of ``drop_id`` if it was saved here, its receipt still owed, and every
    file it placed is still there (else a new receive is what the person wants)."""
    path = _file(profile, drop_id)
    owed = _read(profile, path) if path.exists() else None
    if owed is None or not all(f.is_file() for f in owed.files):
        return None
    return owed


def post(profile: Profile, api: ServerApi, owed: Owed) -> bool:
    """Post one owed receipt; True once the server has it (or can never take it: the
    drop was recalled or expired meanwhile), and then the record is removed. A server
    that cannot be reached or fails keeps it owed for the next try."""
    try:
        api.post_receipt(owed.drop_id, owed.receipt)
    except ConnectionLost:
        return False
    except ServerError as err:
        if err.status >= 500 or err.status in (408, 429):
            log.warning("the drop server did not take a receipt yet: %s", err)
            return False
        log.warning("the drop server refused a receipt (%s); not sending it again", err.code)
    except ClientError as err:
        log.warning("a receipt could not be sent yet: %s", err)
        return False
    _file(profile, owed.drop_id).unlink(missing_ok=True)
    return True


def post_owed(profile: Profile, api: ServerApi) -> None:
    """Post every owed receipt; stops at the first the server does not take (it is
    probably down: the rest wait for the next listing)."""
    for drop_id in sorted(owed_ids(profile)):
        owed = _read(profile, _file(profile, drop_id))
        if owed is not None and not post(profile, api, owed):
            return
