"""上長承認 endpoints: an approver's device posts its signed decision on a drop; the
drop's parties read it.

Guarantees: a decision is stored only if the caller is a listed approver of a
committed, live drop that is still pending, and the decision verifies
(:meth:`.Approval.verify`: this drop, this exact manifest, the caller's own device's
signature, an approver who still approves for the sender in the server's directory).
Exactly one decision per drop is ever stored (:mod:`.approval_store`). Approving
releases the drop to its held recipients at once (their inbox long-polls wake);
rejecting deletes its ciphertext as a recall does and the held recipients never learn
of it. A recipient the drop is held from gets the same 404 as for an unknown id. The
audit record names the approver and the drop, never the rejection's reason. The
server can withhold or delay a drop, never release one without an approval that
every recipient's client checks for itself.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from secure_send.core.audit import AuditAction
from secure_send.core.drop_state import DropState
from secure_send.core.envelope.approval import Approval, Decision
from secure_send.core.error_codes import ErrorCode
from secure_send.core.errors import SecureSendError
from secure_send.core.json_input import loads_untrusted
from secure_send.server.approval_store import Outcome, decide
from secure_send.server.auth import ApiError, Caller
from secure_send.server.drop_access import (
    directory,
    party_drop,
    purge,
    record,
    require_live,
    stored_manifest,
)
from secure_send.server.drop_store import DropRow
from secure_send.server.drops import approval_json
from secure_send.server.routes import Authenticated, client_ip
from secure_send.server.state import ServerState, server_state

router = APIRouter(prefix="/v1")
State = Annotated[ServerState, Depends(server_state)]
NOT_REQUIRED = "not_required"  # GET's state for a drop that needs no approval


def _checked(
    state: ServerState, drop_id: str, who: Caller, body: bytes
) -> tuple[DropRow, Approval]:
    """The drop and the caller's verified decision, checked in the documented order."""
    row, _ = party_drop(state, drop_id, who)
    if row.state == DropState.UPLOADING:
        raise ApiError(409, ErrorCode.INCOMPLETE, "this drop is still being uploaded")
    if row.approval_state != "rejected":  # ended by a decision: decide answers 409
        require_live(row)
    if row.approval_state is None:
        raise ApiError(400, ErrorCode.NO_APPROVAL_NEEDED, "this drop asks for no approval")
    manifest = stored_manifest(row)
    if manifest.approval is None or who.user.id not in manifest.approval.approvers:
        raise ApiError(403, ErrorCode.NOT_APPROVER, "you are not an approver of this drop")
    entries = directory(state)  # outside the try: its 503 is not the caller's fault
    try:
        approval = Approval.from_json(loads_untrusted(body))
        if (approval.approver, approval.device) != (who.user.id, who.device.id):
            raise ValueError("a decision of another device")
        approval.verify(manifest, entries)
    except (ValueError, SecureSendError):  # JSON, encoding, envelope, id errors
        # never the body or the parser's words: a rejection's reason is in it
        raise ApiError(400, ErrorCode.BAD_APPROVAL, "the decision does not verify") from None
    # whether it is still pending is asked once, inside decide's transaction
    return row, approval


def _decide(
    state: ServerState, drop_id: str, who: Caller, body: bytes, ip: str
) -> tuple[DropRow, Decision]:
    row, approval = _checked(state, drop_id, who, body)
    outcome = decide(state.drops, row.id, approval.decision.value, json.dumps(approval.to_json()))
    if outcome is Outcome.ALREADY:  # another approver's decision won the race
        raise ApiError(409, ErrorCode.ALREADY_DECIDED, "this drop was already decided")
    if outcome is Outcome.ENDED:  # recalled or expired between the checks and now
        ended = state.drops.get(row.id)
        require_live(ended or row)
        raise ApiError(410, ErrorCode.RECALLED, "this drop has ended")
    rejected = approval.decision is Decision.REJECTED
    if rejected:
        purge(state, row, DropState.RECALLED)  # its held rows stay held: never listed
    action = AuditAction.REJECTION if rejected else AuditAction.APPROVAL
    # size 0 and no reason: the record says who decided which drop, not why
    record(state, action, who, row.id, 0, ip, spi=row.specific_personal_info)
    return row, approval.decision


@router.post("/drops/{drop_id}/approval", status_code=201)
async def post_approval(
    drop_id: str, request: Request, who: Authenticated, state: State
) -> JSONResponse:
    """Store an approver device's signed decision (``Approval.to_json()``)."""
    body = await request.body()
    row, decision = await run_in_threadpool(_decide, state, drop_id, who, body, client_ip(request))
    if decision is Decision.APPROVED:
        # the event loop's (the notifier is not thread-safe): long-polls wake at once
        state.notifier.notify(row.recipients)
    else:  # the approvers' inboxes say it ended; the held recipients are not told
        state.notifier.notify(row.released)
    return JSONResponse({"state": decision.value}, status_code=201)


@router.get("/drops/{drop_id}/approval")
def get_approval(drop_id: str, who: Authenticated, state: State) -> dict[str, Any]:
    """The drop's approval state and signed decision, for its sender, its approvers and
    the recipients it was released to (also once it has ended)."""
    row, _ = party_drop(state, drop_id, who)
    if row.approval_state is None:
        return {"state": NOT_REQUIRED, "decision": None}
    return approval_json(row.approval_state, row.approval)
