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
from secure_send.server.drop_access import directory as held_entries
from secure_send.server.drop_access import now_ts
from secure_send.server.enrol_queue import QueueFull
from secure_send.server.routes import Anonymous
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
    try:
        request = EnrolmentRequest.from_json(loads_untrusted(raw))
        request.verify_possession()
    except (ValueError, EnrolmentError):  # JSON, UTF-8, depth, number range
        # names nobody: no lockout (the address's anonymous budget paid for it)
        raise ApiError(400, ErrorCode.INVALID_REQUEST, "not a valid enrolment request") from None
    guard = state.anonymous
    if not guard.enrolment_allowed(ip, request.user):
        raise ApiError(
            429, ErrorCode.RATE_LIMITED, "too many refused enrolments for this person; wait"
        )
    entry = held_entries(state).get(request.user)
    if entry is None or entry.kind is not Kind.PERSON or not entry.active:
        guard.enrolment_refused(ip, request.user, listed=entry is not None)
        _audit(state, known_actor(state, request.user), ip, "bad_enrolment")
        raise ApiError(403, ErrorCode.BAD_ENROLMENT, "enrolment is only for active people")
    if request.code_mac is None and not guard.codeless_request(ip):
        raise ApiError(
            429, ErrorCode.RATE_LIMITED, "too many enrolments without a code from this address"
        )
    canonical = json.dumps(request.to_json(), separators=(",", ":"), ensure_ascii=False)
    try:
        ticket = state.enrolments.add(request, canonical, ip, now_ts())
    except QueueFull:
        raise ApiError(
            429, ErrorCode.RATE_LIMITED, "too many enrolments are waiting for this person"
        ) from None
    # the device id is the caller's own text until the signer lists it: not logged
    _audit(state, request.user, ip, "queued")
    return ticket


def known_actor(state: ServerState, user: str) -> str:
    """``user`` if the held directory lists it, else "": the audit log records only
    ids that exist, never text an anonymous caller chose (``diagnosis-hiv-positive``)."""
    try:
        return user if user in held_entries(state) else ""
    except ApiError:
        return ""


def audit_anonymous(
    state: ServerState, ip: str, outcome: str, *, user: str = "", device: str = ""
) -> None:
    """One audit record of an anonymous request, within the address's budget: a flood
    writes a few records and one ``audit_suppressed`` marker (:mod:`.anonymous`)."""
    allowed = state.anonymous.audit_record(ip)
    if allowed == "ok":
        state.audit.append(
            action=AuditAction.ENROL, actor=user, device=device, outcome=outcome, ip=ip
        )
    elif allowed == "suppressed":
        state.audit.append(action=AuditAction.ENROL, outcome="audit_suppressed", ip=ip)


def _audit(state: ServerState, user: str, ip: str, outcome: str) -> None:
    audit_anonymous(state, ip, outcome, user=user)


@router.post("/enrol", status_code=202)
async def enrol(request: Request, state: State, ip: Anonymous) -> JSONResponse:
    """Queue an enrolment request for the signer: 202 ``{"status": "queued", "ticket"}``."""
    ticket = await run_in_threadpool(_queue, state, await request.body(), ip)
    state.notifier.notify(frozenset({SIGNER_QUEUE}))
    return JSONResponse({"status": EnrolStatus.QUEUED.value, "ticket": ticket}, status_code=202)


@router.get("/enrol/{ticket}")
async def enrol_status(
    ticket: str, state: State, _: Anonymous, wait: Annotated[float, Query(ge=0, le=3600)] = 0
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
        if not await state.notifier.wait(key, seen, min(remaining, RECHECK_SECONDS)):
            break  # too many long-polls wait (fd_limit.py): answer now
    return {"status": status.value, "reason": reason.value if reason else ""}
