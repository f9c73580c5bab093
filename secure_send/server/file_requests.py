"""File request endpoints (提出依頼): create, list, read, remind; and the check every
submission passes.

Guarantees: a request is stored only if it verifies against the current verified
directory, was signed by the calling device, collects into the caller or a role
mailbox the caller is a member of, asks only active persons, and its encrypted
text is the one it signed. Only its addressees and the mailbox's members can
read it (others get the unknown-id 404). A submission (a drop whose manifest
names the request) is stored only from an addressee, encrypted to exactly the
mailbox's reachable members. The server sees ids, counts and dates only.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from secure_send.core.audit import AuditAction
from secure_send.core.directory.model import Entry, Kind
from secure_send.core.encoding import EncodingError, b64u, parse_time, unb64u, utc_now
from secure_send.core.envelope.manifest import DROP_ID, EnvelopeError, Manifest
from secure_send.core.envelope.request import MAX_TEXT_BYTES, SignedRequest, due_deadline
from secure_send.core.error_codes import ErrorCode
from secure_send.core.json_input import loads_untrusted
from secure_send.server.auth import ApiError, Caller
from secure_send.server.drop_access import directory, not_found, now_ts, record
from secure_send.server.request_store import RequestRow, RequestSummary
from secure_send.server.routes import Authenticated, client_ip
from secure_send.server.state import ServerState, server_state

router = APIRouter(prefix="/v1")
State = Annotated[ServerState, Depends(server_state)]
MAX_REQUEST_DAYS = 366  # a request stays open at most this long


def _refused(why: str) -> ApiError:
    return ApiError(400, ErrorCode.BAD_FILE_REQUEST, why)


def _parse(body: bytes) -> tuple[SignedRequest, bytes]:
    try:
        obj = loads_untrusted(body)
        signed = SignedRequest.from_json(obj["request"])
        text = unb64u(obj["text"])
    except (ValueError, KeyError, TypeError, EncodingError, EnvelopeError):
        raise _refused("not a valid signed file request") from None
    if len(text) > MAX_TEXT_BYTES or not signed.text_matches(text):
        raise _refused("the request's text is not the one it signed")
    return signed, text


def _check_times(state: ServerState, signed: SignedRequest) -> None:
    r = signed.request
    now = utc_now()
    window = state.config.clock_window
    created, expires = parse_time(r.created), parse_time(r.expires)
    if abs(created - now) > window:
        raise _refused("the request's creation time is not now")
    if not now < expires <= now + dt.timedelta(days=MAX_REQUEST_DAYS) + window:
        raise _refused(f"a request stays open at most {MAX_REQUEST_DAYS} days")
    if r.due is not None and not now - dt.timedelta(days=1) < due_deadline(r.due) <= expires:
        raise _refused("the due date must be between today and the request's end")


def _create(state: ServerState, who: Caller, body: bytes, ip: str) -> str:
    signed, text = _parse(body)
    r = signed.request
    if (r.creator, r.creator_device) != (who.user.id, who.device.id):
        raise ApiError(
            403, ErrorCode.NOT_SENDER, "the request must be signed by the calling device"
        )
    entries = directory(state)
    try:
        signed.verify(entries)
    except EnvelopeError:
        raise _refused("the request does not verify") from None
    for user in r.addressees:
        entry = entries.get(user)
        if entry is None or entry.kind is not Kind.PERSON or not entry.active:
            raise _refused("an addressee is not an active person")
    _check_times(state, signed)
    row = RequestRow(
        r.request_id,
        r.creator,
        r.mailbox,
        _json(signed),
        text,
        r.due,
        int(parse_time(r.created).timestamp()),
        int(parse_time(r.expires).timestamp()),
    )
    if not state.requests.create(row, r.addressees):
        raise ApiError(409, ErrorCode.DROP_EXISTS, "this request id is already used")
    record(state, AuditAction.REQUEST_CREATE, who, r.request_id, len(r.addressees), ip)
    state.notifier.notify(frozenset(r.addressees))
    return r.request_id


def _json(signed: SignedRequest) -> str:
    return json.dumps(signed.to_json(), ensure_ascii=False)


@router.post("/requests", status_code=201)
async def create_request(request: Request, who: Authenticated, state: State) -> dict[str, str]:
    """Store a new file request from its signed document and encrypted text."""
    body = await request.body()
    request_id = await run_in_threadpool(_create, state, who, body, client_ip(request))
    return {"request_id": request_id}


def mailboxes_of(state: ServerState, user: str) -> list[str]:
    """The person and every active role mailbox they are a member of (503 unless a
    current verified directory is held)."""
    directory(state)
    return [user, *state.auth.directory.roles_of(user)]


def _summary(s: RequestSummary) -> dict[str, Any]:
    return {
        "request_id": s.id,
        "mailbox": s.mailbox,
        "due": s.due,
        "created": s.created,
        "expires": s.expires,
        "addressed": s.addressed,
        "submitted": s.submitted,
        "reminded": s.reminded,
        "addressees": s.addressees,
        "submitters": s.submitters,
    }


@router.get("/requests")
def list_requests(who: Authenticated, state: State) -> dict[str, Any]:
    """Open requests that ask the caller or collect into one of the caller's mailboxes."""
    mine = mailboxes_of(state, who.user.id)
    listed = state.requests.listed_for(who.user.id, mine, now_ts())
    return {"requests": [_summary(s) for s in listed]}


def readable_request(state: ServerState, request_id: str, who: Caller) -> tuple[RequestRow, bool]:
    """The open request and whether the caller is on its desk (a member of its
    mailbox); the unknown-id 404 for anyone neither asked nor on the desk."""
    row = state.requests.get(request_id) if DROP_ID.fullmatch(request_id) else None
    if row is None:
        raise not_found()
    desk = row.mailbox in mailboxes_of(state, who.user.id)
    if not desk and not state.requests.is_addressee(row.id, who.user.id):
        raise not_found()
    if row.expires <= now_ts():
        raise ApiError(410, ErrorCode.REQUEST_CLOSED, "this request is closed")
    return row, desk


@router.get("/requests/{request_id}")
def get_request(
    request_id: str, who: Authenticated, state: State, text: bool = True
) -> dict[str, Any]:
    """The signed request and (unless ``text=false``: a submission or the desk's
    status needs no title) its encrypted text; verify both before use."""
    row, _ = readable_request(state, request_id, who)
    answer = {"request": json.loads(row.document)}
    return answer | {"text": b64u(row.text)} if text else answer


def _remind(state: ServerState, request_id: str, who: Caller, body: bytes, ip: str) -> list[str]:
    row, desk = readable_request(state, request_id, who)
    if not desk:
        raise ApiError(403, ErrorCode.NOT_REQUEST_DESK, "only the request's mailbox can remind")
    try:
        obj = loads_untrusted(body) if body else {}
        users = obj.get("users")
        if users is not None and not (
            isinstance(users, list) and all(isinstance(u, str) for u in users)
        ):
            raise ValueError("users")
    except (ValueError, AttributeError):
        raise ApiError(400, ErrorCode.INVALID_REQUEST, "users must be a list of ids") from None
    wanted = state.requests.pending(row.id) if users is None else users
    reminded = state.requests.remind(row.id, wanted, now_ts())
    record(state, AuditAction.REQUEST_REMIND, who, row.id, len(reminded), ip)
    state.notifier.notify(frozenset(reminded))
    return reminded


@router.post("/requests/{request_id}/reminders")
async def remind(
    request_id: str, request: Request, who: Authenticated, state: State
) -> dict[str, Any]:
    """Remind addressees who have not submitted (all of them, or ``users``): a
    notification on their side, not a new request."""
    body = await request.body()
    reminded = await run_in_threadpool(_remind, state, request_id, who, body, client_ip(request))
    return {"reminded": reminded}


def check_submission(state: ServerState, m: Manifest, entries: Mapping[str, Entry]) -> None:
    """A drop that names a request: from an addressee, to exactly the mailbox's
    reachable members (who else could open it is fixed by the request, not chosen)."""
    row = state.requests.get(m.request) if m.request is not None else None
    if row is None:
        raise not_found()
    if row.expires <= now_ts():
        raise ApiError(410, ErrorCode.REQUEST_CLOSED, "this request is closed")
    if not state.requests.is_addressee(row.id, m.sender):
        raise ApiError(403, ErrorCode.NOT_ADDRESSEE, "you were not asked by this request")
    mailbox = entries.get(row.mailbox)
    members = mailbox.members if mailbox is not None and mailbox.kind is Kind.ROLE else ()
    wanted = {
        p.id
        for p in (entries.get(m_id) for m_id in (members or (row.mailbox,)))
        if p is not None and p.active and p.active_devices() and p.id != m.sender
    }
    if not wanted or {r.user for r in m.recipients} != wanted:
        raise ApiError(
            400, ErrorCode.BAD_RECIPIENT, "a submission goes to the request's mailbox only"
        )
