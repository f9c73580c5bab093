"""Unfinished sends, as a person sees them: what each is, and discarding one.

An earlier run (the app or ``secure-send send``) may have left sends prepared but not
committed (:func:`~secure_send.client.send.pending_sends`). To offer "finish" or
"discard" for each, the app needs to say what it is: when it was made, to whom, which
files. The file names are only in the sender's own copy of the metadata blob in the
outbox, encrypted to this device among others: it is decrypted here, in memory, and the
names never go to disk in clear. Finishing is
:func:`~secure_send.client.retry.finish_retrying`; discarding is :func:`discard`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from secure_send.client import send as sending
from secure_send.client.errors import ConnectionLost, ServerError
from secure_send.client.suite_crypto import decrypt_small
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.envelope.manifest import SignedManifest
from secure_send.core.error_codes import ErrorCode
from secure_send.core.errors import SecureSendError

if TYPE_CHECKING:
    from secure_send.client.profile import Profile
    from secure_send.client.session import Session

# the metadata blob of one send is small (names, sizes, a message); a bigger file in the
# outbox is not ours to decrypt into memory
MAX_METADATA = 4 * 1024 * 1024
# what the server may answer a recall of a drop it no longer holds as live
GONE = frozenset({ErrorCode.RECALLED, ErrorCode.EXPIRED, ErrorCode.NOT_FOUND})


@dataclass(frozen=True)
class UnfinishedSend:
    """One unfinished send: its drop id, when it was made (RFC 3339), the recipient ids
    (persons, as the manifest names them), the files (name, size) if this device could
    read its own metadata (else empty), the total ciphertext size, and the pending send
    itself (to finish or discard)."""

    drop_id: str
    created: str
    recipients: tuple[str, ...]
    files: tuple[tuple[str, int], ...]
    size: int
    pending: sending.PendingSend


def unfinished_sends(
    profile: Profile, keys: DeviceKeys, broken: Callable[[str], None] | None = None
) -> list[UnfinishedSend]:
    """Every send an earlier run left unfinished, oldest first. A resume file that cannot
    be read is set aside (``send.pending_sends``) and reported to ``broken``."""
    return [describe(p, keys) for p in sending.pending_sends(profile, broken)]


def describe(pending: sending.PendingSend, keys: DeviceKeys) -> UnfinishedSend:
    """What ``pending`` is, for a person (its manifest parsed when the resume file was)."""
    manifest = SignedManifest.from_json(pending.manifest).manifest
    return UnfinishedSend(
        pending.drop_id,
        manifest.created,
        tuple(r.user for r in manifest.recipients),
        _files(pending, manifest.suite, keys),
        sum(b.size for b in manifest.blobs),
        pending,
    )


def _files(
    pending: sending.PendingSend, suite: str, keys: DeviceKeys
) -> tuple[tuple[str, int], ...]:
    """The names and sizes from this device's own copy of the metadata (in memory only);
    empty if it cannot be read: the send can still be finished or discarded."""
    record = pending.blobs.get(sending.METADATA_BLOB, {})
    try:
        path = Path(str(record["file"]))
        if path.stat().st_size > MAX_METADATA:
            return ()
        plain = decrypt_small(suite, path.read_bytes(), keys)  # the drop's suite
        listing = json.loads(plain.decode("utf-8"))["files"]
        return tuple((str(f["name"]), int(f["size"])) for f in listing)
    except (KeyError, TypeError, ValueError, OSError, SecureSendError):
        return ()


def discard(session: Session, pending: sending.PendingSend) -> None:
    """Give an unfinished send up: the server deletes what it holds of the drop (a recall
    of the uncommitted drop: its uploads and blobs go at once), then the resume file and
    outbox go here.

    Fails closed: a drop the server was told about may have been committed by a run whose
    answer was lost, so it is forgotten here only once the server confirmed it is gone —
    with the server unreachable, :class:`ConnectionLost` is raised and nothing changes.
    A drop never created on the server (``created`` false) cannot have been committed:
    it is forgotten even offline."""
    try:
        session.api.recall(pending.drop_id)
    except ServerError as err:
        if err.code not in GONE:
            raise
    except ConnectionLost:
        if pending.created:
            raise
    sending.forget(session.profile, pending)


def still_unfinished(profile: Profile, drop_id: str) -> bool:
    """Whether ``drop_id``'s resume file is still there (a send that ended in an error
    and was not forgotten can be finished later, and must not be sent again)."""
    return (profile.resume_dir / f"{drop_id}.json").is_file()
