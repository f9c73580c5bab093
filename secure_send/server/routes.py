"""Directory documents, policy and whoami; the authentication dependencies.

Anonymous endpoints are only :data:`ANONYMOUS`: health, the directory's head (the
root chain and the signed header, without a single entry: what a device checks
before it enrols) and enrolment (:mod:`.enrol_routes`), each but health spending
the caller's address budget (:func:`anonymous`). The directory itself — names,
departments, devices, who left — and everything else depend on :func:`caller`
(an enrolled device) or :func:`signer_caller` (the directory signer).
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from secure_send.core.audit import AuditAction
from secure_send.core.directory import sync_delta
from secure_send.core.directory.errors import DirectoryError
from secure_send.core.encoding import b64u
from secure_send.core.error_codes import ErrorCode
from secure_send.server.auth import ApiError, Caller, unauthorized
from secure_send.server.loop_db import WouldBlock
from secure_send.server.state import ServerState, server_state

router = APIRouter(prefix="/v1")
State = Annotated[ServerState, Depends(server_state)]
DIRECTORY_MEDIA_TYPE = "application/vnd.secure-send.directory"
SIGNED_HEADERS = ("signature", "signature-input", "content-digest")
# Every route that answers without a signature (tests/server/test_anonymous.py checks the
# app's route table against it; docs/server.md lists the same).
ANONYMOUS = frozenset(
    {
        ("GET", "/v1/health"),
        ("GET", "/v1/directory/head"),
        ("POST", "/v1/enrol"),
        ("GET", "/v1/enrol/{ticket}"),
    }
)
# a header's non-negative integer: ASCII digits only (str.isdigit() also takes "²", the
# latin-1 byte 0xB2 of a header, which int() refuses), at most 19 of them (64 bits)
DIGITS = re.compile(r"[0-9]{1,19}")
# a signed body up to this size is hashed on the event loop (~40 us); a larger one on a
# worker thread, with the rest of the check
INLINE_BODY_BYTES = 64 * 1024


def client_ip(request: Request) -> str:
    """The client's address (behind a trusted proxy: the one it forwarded), or "" when
    it is not an IP address (e.g. a test client)."""
    host = request.client.host if request.client else ""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return ""


def target_uri(request: Request, state: ServerState) -> str:
    """The ``@target-uri`` the client signed: as received, or under ``public_url``.

    The path is taken as sent (``raw_path``, still percent-encoded): RFC 9421 signs
    the target URI as the client wrote it, not a decoded form of it.
    """
    raw = request.scope.get("raw_path") or request.url.path.encode("ascii", "replace")
    query = request.url.query
    path = raw.decode("latin-1") + (f"?{query}" if query else "")
    if state.config.public_url:
        return state.config.public_url.rstrip("/") + path
    return f"{request.url.scheme}://{request.url.netloc}{path}"


async def _authenticate(
    request: Request, state: ServerState, body: bytes | None, *, signer: bool = False
) -> Any:
    if any(len(request.headers.getlist(name)) > 1 for name in SIGNED_HEADERS):
        raise unauthorized(ErrorCode.BAD_SIGNATURE, "signature headers must not be repeated")
    ip = client_ip(request)
    headers = dict(request.headers.items())
    url = target_uri(request, state)
    check = state.auth.authenticate_signer if signer else state.auth.authenticate
    try:
        # on the event loop when nothing would wait (see loop_db): a worker thread's hop
        # cost more server CPU than the checks themselves
        if body is None or len(body) <= INLINE_BODY_BYTES:
            with contextlib.suppress(WouldBlock):
                return check(request.method, url, headers, body, ip, blocking=False)
        return await run_in_threadpool(check, request.method, url, headers, body, ip)
    except ApiError as err:
        if err.status == 401:  # who tried is unproven: only where from and why it failed
            await run_in_threadpool(
                state.audit.append, action=AuditAction.AUTH_FAILURE, outcome=err.code, ip=ip
            )
        raise


async def caller(request: Request, state: State) -> Caller:
    """Authenticate the request, body included (a dependency); see
    :mod:`secure_send.server.auth`."""
    who: Caller = await _authenticate(request, state, await request.body())
    return who


async def streaming_caller(request: Request, state: State) -> Caller:
    """Authenticate the request's headers only, leaving the body unread: the route
    streams it and must check it against ``Caller.body_sha256`` before keeping it."""
    who: Caller = await _authenticate(request, state, None)
    return who


async def signer_caller(request: Request, state: State) -> bytes:
    """Authenticate a request of the directory signer by its headers only (the body
    is read by the route, which checks it against the returned signed SHA-256)."""
    digest: bytes = await _authenticate(request, state, None, signer=True)
    return digest


async def anonymous(request: Request, state: State) -> str:
    """Spend one anonymous request of the caller's address (a dependency); returns the
    address, or answers 429 once it has sent too many (:mod:`.anonymous`)."""
    ip = client_ip(request)
    if not state.anonymous.request(ip):
        raise ApiError(429, ErrorCode.RATE_LIMITED, "too many requests from this address")
    return ip


Authenticated = Annotated[Caller, Depends(caller)]
StreamAuthenticated = Annotated[Caller, Depends(streaming_caller)]
Anonymous = Annotated[str, Depends(anonymous)]


def _held_log_size(state: ServerState) -> int:
    try:
        return state.directory.header().log_size
    except (DirectoryError, OSError):
        raise ApiError(503, ErrorCode.DIRECTORY_UNAVAILABLE, "no directory is held yet") from None


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness: no authentication, no state."""
    return {"status": "ok"}


def _etag(state: ServerState) -> str:
    try:
        return state.directory.etag()
    except (DirectoryError, OSError):
        raise ApiError(503, ErrorCode.DIRECTORY_UNAVAILABLE, "no directory is held yet") from None


def _not_modified(request: Request, etag: str) -> Response | None:
    """304 when the client already holds this very snapshot (``If-None-Match``)."""
    if etag and request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return None


@router.get("/directory/head")
def directory_head(request: Request, state: State, _: Anonymous) -> Response:
    """The held snapshot's head line: the root chain and the signed header (the
    entry count, no entry). Anonymous: an enrolling device checks its organisation
    with it (pinned root keys) before it sends its request."""
    etag = _etag(state)
    if (unchanged := _not_modified(request, etag)) is not None:
        return unchanged
    try:
        data = state.directory.head_bytes()
    except (DirectoryError, OSError):
        raise ApiError(503, ErrorCode.DIRECTORY_UNAVAILABLE, "no directory is held yet") from None
    return Response(data, media_type=DIRECTORY_MEDIA_TYPE, headers={"ETag": etag})


@router.get("/directory")
def directory(request: Request, state: State, _: Authenticated) -> Response:
    """The signed bundle the signer pushed, byte for byte (clients verify it); for
    enrolled devices only."""
    etag = _etag(state)
    if (unchanged := _not_modified(request, etag)) is not None:
        return unchanged
    try:
        data = state.directory.bundle_bytes()
    except (DirectoryError, OSError):
        raise ApiError(503, ErrorCode.DIRECTORY_UNAVAILABLE, "no directory is held yet") from None
    return Response(data, media_type=DIRECTORY_MEDIA_TYPE, headers={"ETag": etag})


@router.get("/directory/sync")
def directory_sync(
    request: Request,
    state: State,
    _: Authenticated,
    log_size: Annotated[int, Query(alias="from", ge=0)],
) -> Response:
    """What a client at log size ``from`` needs: 304 (``If-None-Match`` names the held
    snapshot), the log events since then under the new header
    (``secure-send/directory-sync/v1``), or — for a client too far behind — the whole
    bundle. Clients verify either; the format line says which."""
    etag = _etag(state)
    if (unchanged := _not_modified(request, etag)) is not None:
        return unchanged
    size = _held_log_size(state)
    if log_size > size:
        raise ApiError(400, ErrorCode.INVALID_REQUEST, "from is beyond the published log")
    if size - log_size > sync_delta.MAX_SYNC_EVENTS:
        data = state.directory.bundle_bytes()
    else:
        data = state.directory.sync_since(log_size)
    return Response(data, media_type=DIRECTORY_MEDIA_TYPE, headers={"ETag": etag})


@router.get("/directory/frontier")
def directory_frontier(
    state: State, _: Authenticated, size: Annotated[int, Query(ge=0)]
) -> dict[str, Any]:
    """The compact range of the log's first ``size`` events (base64url subtree roots):
    a client that loaded a whole bundle checks it against the signed log root and then
    extends it with the events of later syncs."""
    if size > _held_log_size(state):
        raise ApiError(400, ErrorCode.INVALID_REQUEST, "size is beyond the published log")
    return {"size": size, "hashes": [b64u(h) for h in state.directory.frontier(size)]}


@router.get("/directory/consistency")
def directory_consistency(
    state: State,
    _: Authenticated,
    old_size: Annotated[int, Query(alias="from", ge=0)],
    new_size: Annotated[int | None, Query(alias="to", ge=0)] = None,
) -> dict[str, Any]:
    """Proof that the published log's first ``to`` events (default: all) extend its first
    ``from`` events (base64url hashes). A recipient checks a sender's checkpoint with it."""
    size = _held_log_size(state)
    new = size if new_size is None else new_size
    if not old_size <= new <= size:
        raise ApiError(400, ErrorCode.INVALID_REQUEST, "need from <= to <= the published log size")
    proof = state.directory.consistency_proof(old_size, new)
    return {"from": old_size, "to": new, "proof": [b64u(h) for h in proof]}


@router.get("/policy")
def policy(state: State, _: Authenticated) -> dict[str, int]:
    """The limits clients must respect, read before sending (enrolled devices)."""
    return state.config.policy()


@router.get("/whoami")
async def whoami(who: Authenticated) -> dict[str, str]:
    """The authenticated user and device (``async``: no worker thread for a dict)."""
    return {
        "user": who.user.id,
        "name_ja": who.user.name_ja,
        "name_en": who.user.name_en,
        "device": who.device.id,
        "device_name": who.device.name,
    }
