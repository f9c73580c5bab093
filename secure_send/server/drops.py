"""Drop endpoints: create, commit, read, inbox (long-poll), sent, receipts, recall.

Guarantees: a drop is stored only if its manifest verifies against the current
verified directory, was signed by the calling device, names only active
recipients and devices, expires within policy and fits the sender's quota;
recipients see it only after commit (every blob complete and hash-checked);
non-parties get the same 404 as for an unknown id (see :mod:`.drop_access`).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from secure_send.core.audit import AuditAction
from secure_send.core.directory.model import Entry
from secure_send.core.drop_state import DropState
from secure_send.core.encoding import parse_time, utc_now
from secure_send.core.envelope.approval import ApproverError, approvers_for
from secure_send.core.envelope.manifest import (
    EnvelopeError,
    Manifest,
    SignedManifest,
    active_device,
)
from secure_send.core.envelope.receipt import Receipt
from secure_send.core.error_codes import ErrorCode
from secure_send.core.errors import SecureSendError
from secure_send.core.json_input import loads_untrusted
from secure_send.server import file_requests
from secure_send.server.auth import ApiError, Caller
from secure_send.server.drop_access import (
    directory,
    now_ts,
    purge,
    record,
    require_live,
    sent_drop,
    stored_manifest,
    visible_drop,
)
from secure_send.server.drop_store import DropRow, InboxPage, InboxRow, manifest_spi
from secure_send.server.routes import Authenticated, client_ip
from secure_send.server.state import ServerState, server_state

router = APIRouter(prefix="/v1")
State = Annotated[ServerState, Depends(server_state)]
RECHECK_SECONDS = 2.0  # inbox long-polls look at the database at least this often
MAX_POLL_SECONDS = 25.0
INBOX_LIMIT = 500  # drops per inbox page unless the client asks for fewer (or more)
INBOX_MAX_LIMIT = 1000


def _parse_manifest(body: bytes) -> SignedManifest:
    try:
        return SignedManifest.from_json(loads_untrusted(body))
    except (ValueError, EnvelopeError):  # JSON, UTF-8, depth, number range
        raise ApiError(400, ErrorCode.BAD_MANIFEST, "not a valid signed manifest") from None


def _check_parties(m: Manifest, who: Caller, entries: Mapping[str, Entry]) -> None:
    if m.sender != who.user.id or m.sender_device != who.device.id:
        raise ApiError(
            403, ErrorCode.NOT_SENDER, "the manifest must be signed by the calling device"
        )
    try:
        if not m.recipients:
            raise EnvelopeError("no recipient")
        for ref in m.recipients:
            if not ref.devices:
                raise EnvelopeError("no device")
            for device in ref.devices:
                active_device(entries.get(ref.user), device, "recipient")
    except EnvelopeError:
        raise ApiError(
            400, ErrorCode.BAD_RECIPIENT, "a recipient or device is not active"
        ) from None


def _check_policy(state: ServerState, m: Manifest) -> None:
    cfg = state.config
    now = utc_now()
    latest = now + dt.timedelta(days=cfg.max_expiry_days) + cfg.clock_window
    if not now < parse_time(m.expires) <= latest:
        raise ApiError(
            400, ErrorCode.BAD_EXPIRY, f"expiry must be within {cfg.max_expiry_days} days"
        )
    ids = [b.id for b in m.blobs]
    if not ids or len(set(ids)) != len(ids):
        raise ApiError(400, ErrorCode.BAD_MANIFEST, "blob ids must be present and unique")
    if any(b.size > cfg.max_file_bytes for b in m.blobs):
        raise ApiError(413, ErrorCode.TOO_LARGE, f"a blob is over {cfg.max_file_bytes} bytes")


def _check_approvers(m: Manifest, entries: Mapping[str, Entry]) -> None:
    """The manifest's approval requirement names the sender's approver as the server's
    directory does, and only persons that approver stands for (clients check this too:
    this stops a drop nobody could ever approve before its upload)."""
    if m.approval is None:
        return
    try:
        by, persons = approvers_for(entries, m.sender)
    except ApproverError:
        raise ApiError(400, ErrorCode.BAD_MANIFEST, "the sender has no approver") from None
    if m.approval.by != by or not set(m.approval.approvers) <= set(persons):
        raise ApiError(400, ErrorCode.BAD_MANIFEST, "the approvers are not the sender's")


def _create(state: ServerState, who: Caller, body: bytes, ip: str) -> str:
    signed = _parse_manifest(body)
    m = signed.manifest
    entries = directory(state)
    _check_parties(m, who, entries)
    try:
        signed.verify(entries)
    except EnvelopeError:
        raise ApiError(400, ErrorCode.BAD_MANIFEST, "the manifest does not verify") from None
    _check_policy(state, m)
    _check_approvers(m, entries)
    if m.request is not None:  # a submission to a file request
        file_requests.check_submission(state, m, entries)
    expires = int(parse_time(m.expires).timestamp())
    outcome = state.drops.create(m, json.dumps(signed.to_json()), expires, state.config.quota_bytes)
    if outcome == "exists":
        raise ApiError(409, ErrorCode.DROP_EXISTS, "this drop id is already used")
    if outcome == "quota":
        raise ApiError(413, ErrorCode.QUOTA, "this drop would exceed your storage quota")
    size = sum(b.size for b in m.blobs)
    record(state, AuditAction.DROP_CREATE, who, m.drop_id, size, ip, spi=manifest_spi(m))
    return m.drop_id


@router.post("/drops", status_code=201)
async def create_drop(request: Request, who: Authenticated, state: State) -> dict[str, str]:
    """Store a new drop from its signed manifest (state ``uploading``)."""
    body = await request.body()
    drop_id = await run_in_threadpool(_create, state, who, body, client_ip(request))
    return {"drop_id": drop_id}


@router.post("/drops/{drop_id}/commit")
async def commit_drop(
    drop_id: str, request: Request, who: Authenticated, state: State
) -> dict[str, str]:
    """Make the drop visible to its recipients once every blob is complete."""
    row = await run_in_threadpool(sent_drop, state, drop_id, who)
    if row.state != DropState.COMMITTED:
        require_live(row)
        if not await run_in_threadpool(state.drops.commit, row.id):
            raise ApiError(409, ErrorCode.INCOMPLETE, "not every blob is uploaded yet")
        state.notifier.notify(row.released)  # held recipients: nothing to see yet
        if row.request_id is not None:  # "who submitted when", for the desk and the PPC
            await run_in_threadpool(
                record,
                state,
                AuditAction.REQUEST_SUBMIT,
                who,
                row.request_id,
                row.size,
                client_ip(request),
                spi=row.specific_personal_info,
            )
    return {"drop_id": row.id, "state": DropState.COMMITTED}


def drop_json(state: ServerState, row: DropRow, viewer: str | None) -> dict[str, Any]:
    """A drop as listed: manifest, state, and which devices posted receipts."""
    receipts = [
        {"user": user, "device": device}
        for user, device, _ in state.drops.receipts(row.id)
        if viewer is None or user == viewer
    ]
    manifest = json.loads(row.manifest)
    listed = {
        "drop_id": row.id,
        "state": row.state,
        "seq": row.seq,
        "manifest": manifest,
        "receipts": receipts,
    }
    if row.approval_state is not None:  # other drops' entries stay as they were
        listed["approval"] = approval_json(row.approval_state, row.approval)
    return listed


def approval_json(approval_state: str, decision: str | None) -> dict[str, Any]:
    """A drop's 上長承認 as listed: its state and the approver's signed decision."""
    return {"state": approval_state, "decision": json.loads(decision) if decision else None}


def _approval_text(row: InboxRow) -> str:
    """:func:`approval_json` as the inbox's text (the decision is JSON the server wrote
    itself from the parsed decision), or "" for a drop that needs no approval."""
    if row.approval_state is None:
        return ""
    decision = row.approval or "null"
    return (
        ',"approval":{"state":' + json.dumps(row.approval_state) + ',"decision":' + decision + "}"
    )


def _inbox_body(page: InboxPage, user: str) -> bytes:
    """The page as JSON: each entry has :func:`drop_json`'s shape, built as text around the
    stored manifest (JSON the server wrote itself at create), not parsed and re-encoded —
    a page of 1,000 manifests is then a join of strings."""
    entries = [
        '{"drop_id":'
        + json.dumps(row.id)
        + ',"state":'
        + json.dumps(str(row.state))
        + f',"seq":{int(row.seq)},"manifest":'
        + row.manifest
        + ',"receipts":'
        + json.dumps([{"user": user, "device": d} for d in page.receipts.get(row.id, [])])
        + _approval_text(row)
        + "}"
        for row in page.drops
    ]
    more = "true" if page.more else "false"
    tail = f',"cursor":{int(page.cursor)},"more":{more}}}'
    return ('{"drops":[' + ",".join(entries) + "]" + tail).encode("utf-8")


@router.get("/inbox")
async def inbox(
    who: Authenticated,
    state: State,
    wait: Annotated[float, Query(ge=0, le=3600)] = 0,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=INBOX_MAX_LIMIT)] = INBOX_LIMIT,
) -> Response:
    """The changes to the caller's drops after cursor ``after``, in ``seq`` order, at most
    ``limit``: committed, live drops, and (after a cursor) recalled or expired ones. With
    nothing after the cursor, waits up to ``min(wait, 25)`` s for a change."""
    user = who.user.id
    deadline = time.monotonic() + min(wait, MAX_POLL_SECONDS)
    headers: dict[str, str] = {}
    while True:
        seen = state.notifier.version(user)
        # nothing new (the usual poll) is found on the event loop, without a thread's hop
        page = state.drops.idle_page(user, after)
        if page is None:
            page = await run_in_threadpool(state.drops.inbox_page, user, after, limit, now_ts())
        remaining = deadline - time.monotonic()
        # rows read but not shown moved the cursor: answer, so the client keeps it
        if page.drops or page.cursor != after or remaining <= 0:
            break
        # a commit in this process wakes us at once; one made by another server process
        # over the same database is seen at the next re-check. Too many waiting already
        # (file descriptors, see fd_limit.py): answer now, the client asks again.
        if not await state.notifier.wait(user, seen, min(remaining, RECHECK_SECONDS)):
            state.fds.capped()
            # and close the connection: its descriptor is what is short
            headers["Connection"] = "close"
            break
    # an idle answer is a few bytes: built here rather than handed to a thread
    if page.drops:
        body = await run_in_threadpool(_inbox_body, page, user)
    else:
        body = _inbox_body(page, user)
    return Response(body, media_type="application/json", headers=headers)


@router.get("/sent")
def sent(who: Authenticated, state: State) -> dict[str, Any]:
    """Every drop the caller sent, newest first, with receipt states."""
    return {"drops": [drop_json(state, r, None) for r in state.drops.sent(who.user.id)]}


@router.get("/drops/{drop_id}")
def get_drop(drop_id: str, who: Authenticated, state: State) -> dict[str, Any]:
    """The drop's signed manifest (for its sender and, once committed, its recipients)."""
    row, _ = visible_drop(state, drop_id, who)
    return dict(json.loads(row.manifest))


@router.delete("/drops/{drop_id}", status_code=204)
async def recall(drop_id: str, request: Request, who: Authenticated, state: State) -> Response:
    """Recall: delete every blob and partial upload now; recipients then get 410, and
    their waiting inbox long-polls answer at once with the drop marked recalled."""
    row = await run_in_threadpool(sent_drop, state, drop_id, who)
    require_live(row)
    await run_in_threadpool(purge, state, row, DropState.RECALLED)
    await run_in_threadpool(
        record,
        state,
        AuditAction.RECALL,
        who,
        row.id,
        row.size,
        client_ip(request),
        spi=row.specific_personal_info,
    )
    # the event loop's: the notifier is not thread-safe. Held recipients never had it.
    state.notifier.notify(row.released)
    return Response(status_code=204)


def _receipt(state: ServerState, drop_id: str, who: Caller, body: bytes, ip: str) -> None:
    row, _ = visible_drop(state, drop_id, who)
    if who.user.id not in row.recipients:
        raise ApiError(403, ErrorCode.NOT_RECIPIENT, "only a recipient device can post a receipt")
    manifest = stored_manifest(row)
    try:
        receipt = Receipt.from_json(loads_untrusted(body))
        if (receipt.user, receipt.device) != (who.user.id, who.device.id):
            raise EnvelopeError("receipt of another device")
        receipt.verify(manifest, directory(state))
    except (ValueError, SecureSendError):  # JSON, encoding, envelope, id errors
        raise ApiError(400, ErrorCode.BAD_RECEIPT, "the receipt does not verify") from None
    state.drops.add_receipt(row.id, receipt.user, receipt.device, json.dumps(receipt.to_json()))
    record(state, AuditAction.RECEIPT, who, row.id, 0, ip, spi=row.specific_personal_info)


@router.post("/drops/{drop_id}/receipts", status_code=201)
async def post_receipt(
    drop_id: str, request: Request, who: Authenticated, state: State
) -> JSONResponse:
    """Store a recipient device's signed receipt (verified first)."""
    body = await request.body()
    await run_in_threadpool(_receipt, state, drop_id, who, body, client_ip(request))
    return JSONResponse({"status": "stored"}, status_code=201)


@router.get("/drops/{drop_id}/receipts")
def get_receipts(drop_id: str, who: Authenticated, state: State) -> dict[str, Any]:
    """The stored signed receipts, for the sender to verify itself."""
    row = sent_drop(state, drop_id, who)
    return {"receipts": [json.loads(text) for _, _, text in state.drops.receipts(row.id)]}
