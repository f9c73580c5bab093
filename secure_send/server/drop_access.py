"""Who may see a drop, and deleting a drop's ciphertext (recall and expiry).

Guarantees: :func:`visible_drop` answers a caller who is neither the sender nor
a listed recipient exactly as it answers an unknown or malformed drop id (404
``not_found``, same body), and so it answers a recipient the drop is *held* from
(上長承認 pending or rejected: every recipient but the approvers); recipients never
see a drop before it is committed, and get 410 once it is recalled, expired or
rejected by its approver. :func:`purge` deletes every stored
blob and partial upload of a drop before marking it recalled or expired.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from secure_send.core.audit import AuditAction
from secure_send.core.directory.errors import DirectoryError
from secure_send.core.directory.model import Entry
from secure_send.core.drop_state import DropState
from secure_send.core.encoding import utc_now
from secure_send.core.envelope.manifest import DROP_ID, Manifest, SignedManifest
from secure_send.core.error_codes import ErrorCode
from secure_send.server.auth import ApiError, Caller
from secure_send.server.drop_store import DropRow
from secure_send.server.state import ServerState


def not_found() -> ApiError:
    """The one answer for unknown, malformed and not-yours."""
    return ApiError(404, ErrorCode.NOT_FOUND, "no such drop")


def now_ts() -> int:
    """The current unix time."""
    return int(utc_now().timestamp())


def record(
    state: ServerState,
    action: AuditAction,
    who: Caller | None,
    drop: str,
    size: int,
    ip: str,
    outcome: str = "ok",
    spi: tuple[int, int] | None = None,
) -> None:
    """Append one audit record (ids, sizes and, for a drop whose signed manifest says it
    holds My Numbers, ``spi``: its counts (files, numbers), never a number)."""
    state.audit.append(
        action=action,
        actor=who.user.id if who else "",
        device=who.device.id if who else "",
        drop=drop,
        size=size,
        outcome=outcome,
        ip=ip,
        specific_personal_info=spi,
    )


def require_live(row: DropRow) -> None:
    """410 for a recalled, expired or rejected drop (rejected first: a rejected drop is
    purged as a recall is, but its parties should hear why)."""
    if row.approval_state == "rejected":
        raise ApiError(410, ErrorCode.APPROVAL_REJECTED, "the approver rejected this drop")
    if row.state == DropState.RECALLED:
        raise ApiError(410, ErrorCode.RECALLED, "the sender recalled this drop")
    if row.state == DropState.EXPIRED or row.expires <= now_ts():
        raise ApiError(410, ErrorCode.EXPIRED, "this drop has expired")


def party_drop(state: ServerState, drop_id: str, who: Caller) -> tuple[DropRow, bool]:
    """The drop and whether the caller sent it, live or ended; 404 unless its sender or
    a recipient it is not held from, and to recipients while it is uploading."""
    row = state.drops.get(drop_id) if DROP_ID.fullmatch(drop_id) else None
    if row is None:
        raise not_found()
    if row.sender == who.user.id:
        return row, True
    if who.user.id not in row.released or row.state == DropState.UPLOADING:
        raise not_found()
    return row, False


def visible_drop(state: ServerState, drop_id: str, who: Caller) -> tuple[DropRow, bool]:
    """The drop and whether the caller sent it; 404 unless sender or a recipient it is
    not held from (:func:`party_drop`), 410 to recipients once it has ended."""
    row, is_sender = party_drop(state, drop_id, who)
    if not is_sender:
        require_live(row)
    return row, is_sender


def sent_drop(state: ServerState, drop_id: str, who: Caller) -> DropRow:
    """A drop the caller sent; 404 otherwise (recipients included)."""
    row, is_sender = visible_drop(state, drop_id, who)
    if not is_sender:
        raise not_found()
    return row


def purge(state: ServerState, row: DropRow, new_state: DropState) -> None:
    """Delete every blob and partial upload of the drop, then mark it."""
    for upload_id in state.drops.uploads_of(row.id):
        state.blobs.delete_partial(upload_id)
    for blob in state.drops.blobs(row.id):
        if blob.store_id is not None:
            state.blobs.delete(blob.store_id)
    state.drops.set_state(row.id, new_state)


def directory(state: ServerState) -> Mapping[str, Entry]:
    """The verified directory, or 503."""
    try:
        return state.auth.directory.entries()
    except (DirectoryError, OSError):
        raise ApiError(
            503, ErrorCode.DIRECTORY_UNAVAILABLE, "the published directory does not verify"
        ) from None


def stored_manifest(row: DropRow) -> Manifest:
    """The drop's manifest, parsed from the JSON the server verified and wrote at create."""
    return SignedManifest.from_json(json.loads(row.manifest)).manifest
