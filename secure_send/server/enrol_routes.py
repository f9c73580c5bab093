"""Enrolment, as the drop server sees it: a queue, not a decision.

``POST /v1/enrol`` (anonymous) checks only what costs the server nothing to
check — the request's shape, its possession proof, that the person is active in
the signed directory — and queues it; the directory signer on IT's side checks
the one-time code, appends the event and signs the new snapshot. The device
follows its request with ``GET /v1/enrol/{ticket}`` (a long-poll), and trusts
only what its own verified directory then shows.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from secure_send.core.audit import AuditAction
from secure_send.core.directory.enrol import EnrolmentError, EnrolmentRequest
from secure_send.core.directory.model import Kind
from secure_send.core.directory.push import TICKET, EnrolStatus
from secure_send.core.error_codes import ErrorCode
from secure_send.core.json_input import loads_untrusted
from secure_send.server.auth import ApiError
from secure_send.server.drop_access import now_ts
from secure_send.server.drops import directory as held_entries
from secure_send.server.enrol_queue import QueueFull
from secure_send.server.routes import client_ip
from secure_send.server.state import ServerState, server_state

router = APIRouter(prefix="/v1")
State = Annotated[ServerState, Depends(server_state)]
MAX_POLL_SECONDS = 25.0
RECHECK_SECONDS = 1.0
SIGNER_QUEUE = "\x00signer-queue"  # a notifier key no user id can be


def ticket_key(ticket: str) -> str:
    """The notifier key of one ticket (no user id can start with NUL)."""
    return "\x00enrol-" + ticket


def _queue(state: ServerState, raw: bytes, ip: str) -> str:
    if not state.auth.limiter.allowed(ip):
        raise ApiError(429, ErrorCode.RATE_LIMITED, "too many failed attempts; wait a minute")
    try:
        request = EnrolmentRequest.from_json(loads_untrusted(raw))
        request.verify_possession()
    except (ValueError, EnrolmentError):  # JSON, UTF-8, depth, number range
        state.auth.limiter.failed(ip)
        raise ApiError(400, ErrorCode.INVALID_REQUEST, "not a valid enrolment request") from None
    entry = held_entries(state).get(request.user)
    if entry is None or entry.kind is not Kind.PERSON or not entry.active:
        state.auth.limiter.failed(ip)
        # who an anonymous caller claims to be is unproven: a name that is not in the
        # directory (any id-shaped text the caller chose) is not written to the log
        known = entry is not None
        _audit(
            state,
            request.user if known else "",
            request.device_id if known else "",
            ip,
            "bad_enrolment",
        )
        raise ApiError(403, ErrorCode.BAD_ENROLMENT, "enrolment is only for active people")
    canonical = json.dumps(request.to_json(), separators=(",", ":"), ensure_ascii=False)
    try:
        ticket = state.enrolments.add(request, canonical, ip, now_ts())
    except QueueFull:
        raise ApiError(
            429, ErrorCode.RATE_LIMITED, "too many enrolments are waiting for this person"
        ) from None
    _audit(state, request.user, request.device_id, ip, "queued")
    return ticket


def _audit(state: ServerState, user: str, device: str, ip: str, outcome: str) -> None:
    state.audit.append(action=AuditAction.ENROL, actor=user, device=device, outcome=outcome, ip=ip)


@router.post("/enrol", status_code=202)
async def enrol(request: Request, state: State) -> JSONResponse:
    """Queue an enrolment request for the signer: 202 ``{"status": "queued", "ticket"}``."""
    ip = client_ip(request)
    ticket = await run_in_threadpool(_queue, state, await request.body(), ip)
    state.notifier.notify(frozenset({SIGNER_QUEUE}))
    return JSONResponse({"status": EnrolStatus.QUEUED.value, "ticket": ticket}, status_code=202)


@router.get("/enrol/{ticket}")
async def enrol_status(
    ticket: str, state: State, wait: Annotated[float, Query(ge=0, le=3600)] = 0
) -> dict[str, Any]:
    """Where a request stands: ``queued``, ``pending`` (IT approves), ``enrolled`` or
    ``refused`` with a ``reason``; waits up to ``min(wait, 25)`` s while it is queued."""
    if not TICKET.fullmatch(ticket):
        raise ApiError(404, ErrorCode.NOT_FOUND, "no such enrolment request")
    key = ticket_key(ticket)
    deadline = time.monotonic() + min(wait, MAX_POLL_SECONDS)
    while True:
        seen = state.notifier.version(key)
        found = await run_in_threadpool(state.enrolments.status, ticket)
        if found is None:
            raise ApiError(404, ErrorCode.NOT_FOUND, "no such enrolment request")
        status, reason = found
        remaining = deadline - time.monotonic()
        if status is not EnrolStatus.QUEUED or remaining <= 0:
            break
        await state.notifier.wait(key, seen, min(remaining, RECHECK_SECONDS))
    return {"status": status.value, "reason": reason.value if reason else ""}
