"""Key-add requests (issue 21), as the drop server sees them: a queue, not a decision.

``POST /v1/key-add`` (an enrolled device, signing its HTTP request as every device
route) checks what costs nothing — the request's shape, that it names the calling
device, that it verifies with that device's signing key in the held signed
directory — and queues it for the directory signer (:mod:`.key_add_queue`), which
appends the ``add-key`` event. ``GET /v1/key-add/{ticket}`` tells the device where
its request stands: ``queued``, ``done`` or ``refused`` with a ``reason``. The
device believes only its own verified directory; these answers are for its log.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from secure_send.core.audit import AuditAction
from secure_send.core.directory.key_add import KeyAddError, KeyAddRequest
from secure_send.core.directory.push import TICKET, EnrolStatus, RefusalReason
from secure_send.core.error_codes import ErrorCode
from secure_send.core.json_input import loads_untrusted
from secure_send.server.auth import ApiError, Caller
from secure_send.server.drop_access import now_ts
from secure_send.server.enrol_routes import SIGNER_QUEUE
from secure_send.server.key_add_queue import QueueFull
from secure_send.server.routes import Authenticated, client_ip
from secure_send.server.state import ServerState, server_state

router = APIRouter(prefix="/v1")
State = Annotated[ServerState, Depends(server_state)]


def audit(state: ServerState, user: str, device: str, outcome: str, ip: str = "") -> None:
    """One ``key_add`` audit record (ids of an enrolled device only: the route checked
    them against the caller, the signer's answers against the held directory)."""
    state.audit.append(
        action=AuditAction.KEY_ADD, actor=user, device=device, outcome=outcome, ip=ip
    )


def _queue(state: ServerState, who: Caller, body: bytes, ip: str) -> tuple[int, dict[str, Any]]:
    user, device = who.user.id, who.device.id
    try:
        request = KeyAddRequest.from_json(loads_untrusted(body))
        request.verify(user, who.device)  # the caller's own device, as the directory lists it
    except (ValueError, KeyAddError):  # JSON, UTF-8, depth; shape, another device, signature
        audit(state, user, device, RefusalReason.BAD_KEY_ADD.value, ip)
        raise ApiError(
            400, ErrorCode.INVALID_REQUEST, "not a valid key-add request of this device"
        ) from None
    if who.device.p256_key == request.p256_key:  # a retry after the signer added it
        return 200, {"status": EnrolStatus.DONE.value}
    if who.device.p256_key is not None:  # a key is never replaced (re-enrolment does that)
        audit(state, user, device, RefusalReason.CONFLICT.value, ip)
        raise ApiError(409, ErrorCode.CONFLICT, "this device already has another P-256 key")
    raw = json.dumps(request.to_json(), separators=(",", ":"))
    try:
        ticket = state.key_adds.add(request, raw, now_ts())
    except QueueFull:
        raise ApiError(
            429, ErrorCode.RATE_LIMITED, "too many key-add requests from this device; wait"
        ) from None
    audit(state, user, device, EnrolStatus.QUEUED.value, ip)
    return 202, {"status": EnrolStatus.QUEUED.value, "ticket": ticket}


@router.post("/key-add")
async def key_add(request: Request, state: State, who: Authenticated) -> JSONResponse:
    """Queue the calling device's key-add request: 202 ``{"status": "queued", "ticket"}``
    (200 ``{"status": "done"}`` when the held directory already lists this very key)."""
    status, answer = await run_in_threadpool(
        _queue, state, who, await request.body(), client_ip(request)
    )
    if status == 202:
        state.notifier.notify(frozenset({SIGNER_QUEUE}))
    return JSONResponse(answer, status_code=status)


@router.get("/key-add/{ticket}")
async def key_add_status(ticket: str, state: State, who: Authenticated) -> dict[str, Any]:
    """Where one of this device's requests stands: ``queued``, ``done`` or ``refused``
    with a ``reason`` (``bad_key_add``, ``conflict``)."""
    found = None
    if TICKET.fullmatch(ticket):
        found = await run_in_threadpool(state.key_adds.status, ticket, who.user.id, who.device.id)
    if found is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, "no such key-add request of this device")
    status, reason = found
    return {"status": status.value, "reason": reason.value if reason else ""}
