"""The endpoints of this slice: public directory documents, policy, enrolment, whoami.

Anonymous endpoints are only health, the public directory documents, the policy
and enrolment (whose request proves possession of the device key and carries
the one-time code's MAC itself). Everything else depends on :func:`caller`.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from secure_send.admin import ops
from secure_send.admin.home import HomeError
from secure_send.core.audit import AuditAction
from secure_send.core.directory import merkle
from secure_send.core.directory.bundle import Bundle
from secure_send.core.directory.enrol import EnrolmentError, EnrolmentRequest
from secure_send.core.directory.log import LogError
from secure_send.core.encoding import b64u
from secure_send.server.auth import ApiError, Caller, unauthorized
from secure_send.server.state import ServerState, server_state

router = APIRouter(prefix="/v1")
State = Annotated[ServerState, Depends(server_state)]
DIRECTORY_MEDIA_TYPE = "application/vnd.secure-send.directory"
SIGNED_HEADERS = ("signature", "signature-input", "content-digest")
ENROL_OPERATOR = "server-enrolment"


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


async def _authenticate(request: Request, state: ServerState, body: bytes | None) -> Caller:
    if any(len(request.headers.getlist(name)) > 1 for name in SIGNED_HEADERS):
        raise unauthorized("bad_signature", "signature headers must not be repeated")
    ip = client_ip(request)
    headers = dict(request.headers.items())
    url = target_uri(request, state)
    try:
        return await run_in_threadpool(
            state.auth.authenticate, request.method, url, headers, body, ip
        )
    except ApiError as err:
        if err.status == 401:  # who tried is unproven: only where from and why it failed
            await run_in_threadpool(
                state.audit.append, action=AuditAction.AUTH_FAILURE, outcome=err.code, ip=ip
            )
        raise


async def caller(request: Request, state: State) -> Caller:
    """Authenticate the request, body included (a dependency); see
    :mod:`secure_send.server.auth`."""
    return await _authenticate(request, state, await request.body())


async def streaming_caller(request: Request, state: State) -> Caller:
    """Authenticate the request's headers only, leaving the body unread: the route
    streams it and must check it against ``Caller.body_sha256`` before keeping it."""
    return await _authenticate(request, state, None)


Authenticated = Annotated[Caller, Depends(caller)]
StreamAuthenticated = Annotated[Caller, Depends(streaming_caller)]


def _published(state: ServerState) -> Bundle:
    bundle = state.home.published()
    if bundle is None:
        raise ApiError(503, "directory_unavailable", "nothing published yet")
    return bundle


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness: no authentication, no state."""
    return {"status": "ok"}


@router.get("/directory")
def directory(state: State) -> Response:
    """The published bundle, byte for byte (clients verify it themselves)."""
    try:
        data = state.home.bundle_file.read_bytes()
    except FileNotFoundError:
        raise ApiError(503, "directory_unavailable", "nothing published yet") from None
    return Response(data, media_type=DIRECTORY_MEDIA_TYPE)


@router.get("/directory/delta")
def directory_delta(state: State, from_log_size: Annotated[int, Query(ge=0)]) -> Response:
    """Entries changed since the snapshot whose log had ``from_log_size`` events."""
    with state.home.locked():
        if from_log_size > _published(state).header.log_size:
            raise ApiError(400, "invalid_request", "from_log_size is beyond the published log")
        data = state.home.delta_since(from_log_size).to_bytes()
    return Response(data, media_type=DIRECTORY_MEDIA_TYPE)


@router.get("/directory/consistency")
def directory_consistency(
    state: State, old_size: Annotated[int, Query(alias="from", ge=0)]
) -> dict[str, Any]:
    """Proof that the published log extends its first ``from`` events (base64url hashes)."""
    with state.home.locked():
        size = _published(state).header.log_size
        if old_size > size:
            raise ApiError(400, "invalid_request", "from is beyond the published log")
        hashes = [merkle.leaf_hash(e.canonical_bytes()) for e in state.home.events()[:size]]
    proof = merkle.consistency_proof(hashes, old_size, size)
    return {"from": old_size, "to": size, "proof": [b64u(h) for h in proof]}


@router.get("/policy")
def policy(state: State) -> dict[str, int]:
    """The limits clients must respect, read before sending."""
    return state.config.policy()


def _enrol(state: ServerState, raw: bytes, ip: str) -> bool:
    if not state.auth.limiter.allowed(ip):
        raise ApiError(429, "rate_limited", "too many failed attempts; wait a minute")
    try:
        request = EnrolmentRequest.from_json(json.loads(raw))
    except (json.JSONDecodeError, UnicodeDecodeError, EnrolmentError):
        raise ApiError(400, "invalid_request", "not an enrolment request") from None
    try:
        enrolled = ops.accept_enrolment(state.home, request, ENROL_OPERATOR)
    except EnrolmentError:
        state.auth.limiter.failed(ip)  # a wrong code counts like a failed login
        _audit_enrol(state, request, ip, "bad_enrolment")
        raise ApiError(
            403, "bad_enrolment", "enrolment refused: wrong, used or expired code"
        ) from None
    except (LogError, HomeError):
        _audit_enrol(state, request, ip, "conflict")
        raise ApiError(
            409, "conflict", "this device cannot be enrolled (already enrolled?)"
        ) from None
    _audit_enrol(state, request, ip, "ok" if enrolled else "pending")
    return enrolled


def _audit_enrol(state: ServerState, request: EnrolmentRequest, ip: str, outcome: str) -> None:
    state.audit.append(
        action=AuditAction.ENROL,
        actor=request.user,
        device=request.device_id,
        outcome=outcome,
        ip=ip,
    )


@router.post("/enrol", status_code=201)
async def enrol(request: Request, state: State) -> JSONResponse:
    """Enrol a device: 201 enrolled (valid code), 202 pending approval (no code)."""
    ip = client_ip(request)
    enrolled = await run_in_threadpool(_enrol, state, await request.body(), ip)
    if enrolled:
        return JSONResponse({"status": "enrolled"}, status_code=201)
    return JSONResponse({"status": "pending"}, status_code=202)


@router.get("/whoami")
def whoami(who: Authenticated) -> dict[str, str]:
    """The authenticated user and device."""
    return {
        "user": who.user.id,
        "name_ja": who.user.name_ja,
        "name_en": who.user.name_en,
        "device": who.device.id,
        "device_name": who.device.name,
    }
