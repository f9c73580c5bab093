"""The directory signer's endpoints: what it reads (state, queued enrolments and key-add
requests) and what it pushes (events, the new signed snapshot, the requests' results).

Only the signer key pinned in ``server.toml`` (``[signer] public_key``) may call
them; even so, a push is stored only if its snapshot verifies against the
organisation's root keys (:meth:`.directory_store.PublishedDirectory.accept`).
The signer's key can stop the directory changing, never make clients trust a
snapshot the directory signing key did not sign.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from secure_send.core.audit import AuditAction
from secure_send.core.directory.errors import DirectoryError
from secure_send.core.directory.model import Entry
from secure_send.core.directory.push import EnrolStatus, Push
from secure_send.core.directory.trust import body_hash
from secure_send.core.error_codes import ErrorCode
from secure_send.server.auth import ApiError, unauthorized
from secure_send.server.directory_store import PushRefused
from secure_send.server.drop_access import now_ts
from secure_send.server.enrol_queue import Finished, Queued
from secure_send.server.enrol_routes import SIGNER_QUEUE, audit_anonymous, ticket_key
from secure_send.server.key_add_routes import audit as audit_key_add
from secure_send.server.routes import DIGITS, client_ip, signer_caller
from secure_send.server.state import ServerState, server_state

router = APIRouter(prefix="/v1/signer")
State = Annotated[ServerState, Depends(server_state)]
SignerDigest = Annotated[bytes, Depends(signer_caller)]
MAX_POLL_SECONDS = 25.0
RECHECK_SECONDS = 1.0


@router.get("/state")
def signer_state(_: SignerDigest, state: State) -> dict[str, Any]:
    """The snapshot the server holds (what the next push must continue)."""
    try:
        header = state.directory.header()
    except (DirectoryError, OSError):
        raise ApiError(503, ErrorCode.DIRECTORY_UNAVAILABLE, "no directory is held") from None
    return {
        "epoch": header.epoch,
        "log_size": header.log_size,
        "header_hash": body_hash(header.body()),
        "issued": header.issued,
        "expires": header.expires,
    }


@router.get("/queue")
async def signer_queue(
    _: SignerDigest, state: State, wait: Annotated[float, Query(ge=0, le=3600)] = 0
) -> dict[str, Any]:
    """Queued enrolment and key-add requests, oldest first; waits up to ``min(wait, 25)`` s
    for one."""
    deadline = time.monotonic() + min(wait, MAX_POLL_SECONDS)
    while True:
        seen = state.notifier.version(SIGNER_QUEUE)
        queued = await run_in_threadpool(state.enrolments.queued)
        key_adds = await run_in_threadpool(state.key_adds.queued)
        remaining = deadline - time.monotonic()
        if queued or key_adds or remaining <= 0:
            break
        # one signer: never held back by the cap on waiting long-polls
        await state.notifier.wait(SIGNER_QUEUE, seen, min(remaining, RECHECK_SECONDS), capped=False)
    return {
        "requests": _listed(queued),
        # issue 21: a signer from before it ignores this key (the requests then wait)
        "key_adds": _listed(key_adds),
    }


def _listed(queued: list[Queued]) -> list[dict[str, Any]]:
    return [{"ticket": q.ticket, "request": q.request, "received": q.received} for q in queued]


async def _read_body(request: Request, state: ServerState, signed_sha256: bytes) -> bytes:
    limit = state.config.max_push_bytes
    declared = request.headers.get("content-length")
    if declared is not None and (DIGITS.fullmatch(declared) is None or int(declared) > limit):
        raise ApiError(413, ErrorCode.TOO_LARGE, f"a push may hold at most {limit} bytes")
    parts, size, digest = [], 0, hashlib.sha256()
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, ErrorCode.TOO_LARGE, f"a push may hold at most {limit} bytes")
        digest.update(chunk)
        parts.append(chunk)
    if not hmac.compare_digest(digest.digest(), signed_sha256):
        raise unauthorized(ErrorCode.BAD_SIGNATURE, "Content-Digest does not match the body")
    return b"".join(parts)


def _accept(state: ServerState, data: bytes, ip: str) -> dict[str, Any]:
    try:
        push = Push.from_bytes(data)
        header = state.directory.accept(push)
    except PushRefused as err:
        _audit(state, len(data), ip, ErrorCode.STALE_PUSH if err.stale else ErrorCode.PUSH_REFUSED)
        code = ErrorCode.STALE_PUSH if err.stale else ErrorCode.PUSH_REFUSED
        raise ApiError(409, code, str(err)) from None
    except DirectoryError as err:
        _audit(state, len(data), ip, ErrorCode.PUSH_REFUSED)
        raise ApiError(
            422, ErrorCode.PUSH_REFUSED, f"the pushed directory does not verify: {err}"
        ) from None
    _audit(state, len(data), ip, "ok")
    now = now_ts()
    finished = state.enrolments.finish(push.results, now)
    entries = state.directory.held().by_id
    settled = state.enrolments.settle_listed(entries, now)
    for done in finished:
        _audit_result(state, done, entries)
    answered = state.key_adds.finish(push.results, now)
    answered += state.key_adds.settle_listed(entries, now)
    for key_add in answered:
        outcome = key_add.reason.value if key_add.reason else "ok"
        audit_key_add(state, key_add.user, key_add.device, outcome)
    state.enrolments.purge(now)
    state.key_adds.purge(now)
    tickets = sorted({r.ticket for r in push.results} | set(settled))
    return {"epoch": header.epoch, "log_size": header.log_size, "tickets": tickets}


def _audit(state: ServerState, size: int, ip: str, outcome: str) -> None:
    state.audit.append(action=AuditAction.DIRECTORY_PUSH, size=size, outcome=outcome, ip=ip)


def _audit_result(state: ServerState, done: Finished, entries: Mapping[str, Entry]) -> None:
    """The audit record of one answered request: ids only if the directory lists them
    (the device id was the anonymous caller's own text until the signer enrolled it);
    a refusal counts against the requester's address *and the person it named*, never
    the bare address (:mod:`.anonymous`)."""
    outcome = done.reason.value if done.reason else done.status.value
    entry = entries.get(done.user)
    user = done.user if entry is not None else ""
    listed = entry is not None and any(d.id == done.device for d in entry.devices)
    device = done.device if listed else ""
    if done.status is EnrolStatus.ENROLLED:
        state.audit.append(
            action=AuditAction.ENROL, actor=user, device=device, outcome="ok", ip=done.ip
        )
        return
    if done.reason is not None and done.ip:
        state.anonymous.enrolment_refused(done.ip, done.user, listed=entry is not None)
    audit_anonymous(state, done.ip, outcome, user=user, device=device)


@router.post("/push")
async def signer_push(request: Request, digest: SignerDigest, state: State) -> dict[str, Any]:
    """Store a push (see :mod:`secure_send.core.directory.push`); 409 ``stale_push`` when
    it does not start at the held log size, 422 ``push_refused`` when it does not verify."""
    data = await _read_body(request, state, digest)
    answer = await run_in_threadpool(_accept, state, data, client_ip(request))
    state.notifier.notify(frozenset(ticket_key(t) for t in answer["tickets"]))
    return {"epoch": answer["epoch"], "log_size": answer["log_size"]}
