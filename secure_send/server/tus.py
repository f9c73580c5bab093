"""tus 1.0 resumable uploads (core, creation, creation-with-upload, termination,
expiration, checksum) of the blobs a drop's manifest announced.

Guarantees: only the drop's sender can create, inspect, append to or terminate
an upload; a PATCH must start at the current offset (else 409) and, with
``Upload-Checksum``, match it (else 460, nothing kept); bytes are written and
fsynced *before* the new offset is recorded in SQLite, so after a crash the
recorded offset never exceeds the durable bytes (bytes beyond it are cut by the
next PATCH). One PATCH at a time per upload (else 423). Partial data lives in
``server/partial/`` and is renamed into the blob folder only once complete and
its SHA-256 equals the manifest's (else it is deleted: 400 ``hash_mismatch``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from email.utils import formatdate
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from secure_send.core.audit import AuditAction
from secure_send.core.envelope.manifest import BLOB_ID, DROP_ID
from secure_send.server.auth import ApiError, Caller
from secure_send.server.drop_access import client_ip, record, require_live
from secure_send.server.drop_store import UploadRow
from secure_send.server.routes import Authenticated
from secure_send.server.state import ServerState, server_state
from secure_send.server.storage import BLOB_ID as UPLOAD_ID

router = APIRouter(prefix="/v1")
State = Annotated[ServerState, Depends(server_state)]
TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum"
OFFSET_TYPE = "application/offset+octet-stream"


def _headers(upload: UploadRow | None = None, offset: int | None = None) -> dict[str, str]:
    headers = {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store"}
    if upload is not None:
        headers["Upload-Offset"] = str(upload.received if offset is None else offset)
        headers["Upload-Length"] = str(upload.length)
        headers["Upload-Expires"] = formatdate(upload.expires, usegmt=True)
    return headers


def _require_version(request: Request) -> None:
    if request.headers.get("tus-resumable") != TUS_VERSION:
        raise ApiError(412, "tus_version", f"Tus-Resumable: {TUS_VERSION} is required")


def _number(value: str | None, name: str) -> int:
    if value is None or not value.isdigit() or len(value) > 19:
        raise ApiError(400, "invalid_request", f"{name} must be a non-negative integer")
    return int(value)


def _metadata(header: str | None) -> dict[str, str]:
    pairs: dict[str, str] = {}
    try:
        for item in (header or "").split(","):
            key, _, value = item.strip().partition(" ")
            pairs[key] = base64.b64decode(value, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "bad_metadata", "Upload-Metadata is malformed") from None
    return pairs


def _checksum(header: str | None, body: bytes) -> None:
    if header is None:
        return
    algorithm, _, value = header.strip().partition(" ")
    if algorithm != "sha256":
        raise ApiError(400, "bad_checksum_algorithm", "only sha256 checksums are supported")
    try:
        expected = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ApiError(400, "invalid_request", "Upload-Checksum is malformed") from None
    if hashlib.sha256(body).digest() != expected:
        raise ApiError(460, "checksum_mismatch", "the body does not match Upload-Checksum")


def _own_upload(state: ServerState, upload_id: str, who: Caller) -> UploadRow:
    upload = state.drops.upload(upload_id) if UPLOAD_ID.fullmatch(upload_id) else None
    drop = state.drops.get(upload.drop_id) if upload else None
    if upload is None or drop is None or drop.sender != who.user.id:
        raise ApiError(404, "not_found", "no such upload")
    return upload


def complete_stored(state: ServerState, upload: UploadRow) -> str | None:
    """Finish an upload whose every byte is stored: check the whole blob's SHA-256
    against the manifest, move it into place, mark the blob complete.

    Also run at start-up for uploads a crash interrupted between the last write and
    this step. Returns ``None``, or the error code when the upload was discarded.
    """
    blob = state.drops.blob(upload.drop_id, upload.blob_id)
    if blob is None or state.blobs.partial_sha256(upload.id) != blob.sha256:
        state.blobs.delete_partial(upload.id)
        state.drops.delete_upload(upload.id)
        return "hash_mismatch"
    state.blobs.finish_partial(upload.id, upload.id)
    if not state.drops.complete(upload):  # recalled or replaced meanwhile
        state.blobs.delete(upload.id)
        return "not_found"
    return None


def _finish(state: ServerState, who: Caller, upload: UploadRow, ip: str) -> None:
    failure = complete_stored(state, upload)
    if failure == "hash_mismatch":
        raise ApiError(400, "hash_mismatch", "the blob's SHA-256 differs from the manifest's")
    if failure is not None:
        raise ApiError(404, "not_found", "no such upload")
    record(state, AuditAction.UPLOAD_COMPLETE, who, upload.drop_id, upload.length, ip)


def _append(
    state: ServerState,
    who: Caller,
    upload_id: str,
    offset: int,
    body: bytes,
    checksum: str | None,
    ip: str,
) -> UploadRow:
    if not state.busy.claim(upload_id):
        raise ApiError(423, "locked", "another request is writing this upload")
    try:
        upload = _own_upload(state, upload_id, who)
        if offset != upload.received:
            raise ApiError(409, "offset_mismatch", f"the upload is at offset {upload.received}")
        if offset + len(body) > upload.length:
            raise ApiError(400, "too_long", "the body goes beyond Upload-Length")
        _checksum(checksum, body)
        state.blobs.append_partial(upload.id, offset, body)  # durable first …
        if not state.drops.set_received(upload.id, offset + len(body)):  # … then the offset
            state.blobs.delete_partial(upload.id)
            raise ApiError(404, "not_found", "no such upload")
        done = UploadRow(**{**upload.__dict__, "received": offset + len(body)})
        if done.received == done.length:
            _finish(state, who, done, ip)
        return done
    finally:
        state.busy.release(upload_id)


def _create(state: ServerState, who: Caller, request: Request, body: bytes) -> UploadRow:
    length = _number(request.headers.get("upload-length"), "Upload-Length")
    meta = _metadata(request.headers.get("upload-metadata"))
    drop_id, blob_id = meta.get("drop", ""), meta.get("blob", "")
    drop = state.drops.get(drop_id) if DROP_ID.fullmatch(drop_id) else None
    if drop is None or drop.sender != who.user.id:
        raise ApiError(404, "not_found", "no such drop")
    require_live(drop)
    if drop.state != "uploading":
        raise ApiError(409, "not_uploading", "this drop is already committed")
    blob = state.drops.blob(drop.id, blob_id) if BLOB_ID.fullmatch(blob_id) else None
    if blob is None:
        raise ApiError(400, "unknown_blob", "the manifest has no such blob")
    if blob.store_id is not None:
        raise ApiError(409, "already_complete", "this blob is already uploaded")
    if length != blob.size:
        raise ApiError(400, "bad_length", "Upload-Length differs from the manifest's size")
    upload = UploadRow(secrets.token_urlsafe(16), drop.id, blob.blob_id, length, 0, drop.expires)
    for old in state.drops.add_upload(upload):
        state.blobs.delete_partial(old)
    state.blobs.append_partial(upload.id, 0, b"")
    checksum = request.headers.get("upload-checksum")
    if body or length == 0:
        return _append(state, who, upload.id, 0, body, checksum, client_ip(request))
    return upload


@router.options("/uploads")
def options(who: Authenticated, state: State) -> Response:
    """What this tus server supports."""
    headers = _headers() | {
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": EXTENSIONS,
        "Tus-Checksum-Algorithm": "sha256",
        "Tus-Max-Size": str(state.config.max_file_bytes),
    }
    return Response(status_code=204, headers=headers)


def _require_offset_type(request: Request) -> None:
    if request.headers.get("content-type") != OFFSET_TYPE:
        raise ApiError(415, "unsupported_media_type", f"Content-Type must be {OFFSET_TYPE}")


@router.post("/uploads", status_code=201)
async def create(request: Request, who: Authenticated, state: State) -> Response:
    """Create an upload for one blob of an ``uploading`` drop (optionally with data)."""
    _require_version(request)
    body = await request.body()
    if body:
        _require_offset_type(request)
    upload = await run_in_threadpool(_create, state, who, request, body)
    headers = _headers(upload) | {"Location": f"/v1/uploads/{upload.id}"}
    return Response(status_code=201, headers=headers)


@router.head("/uploads/{upload_id}")
def head(upload_id: str, request: Request, who: Authenticated, state: State) -> Response:
    """The upload's current offset, length and expiry."""
    _require_version(request)
    return Response(status_code=200, headers=_headers(_own_upload(state, upload_id, who)))


@router.patch("/uploads/{upload_id}")
async def patch(upload_id: str, request: Request, who: Authenticated, state: State) -> Response:
    """Append the body at ``Upload-Offset``."""
    _require_version(request)
    _require_offset_type(request)
    offset = _number(request.headers.get("upload-offset"), "Upload-Offset")
    body = await request.body()
    checksum = request.headers.get("upload-checksum")
    ip = client_ip(request)
    upload = await run_in_threadpool(_append, state, who, upload_id, offset, body, checksum, ip)
    return Response(status_code=204, headers=_headers(upload))


@router.delete("/uploads/{upload_id}", status_code=204)
def terminate(upload_id: str, request: Request, who: Authenticated, state: State) -> Response:
    """Termination: forget the upload and delete its partial data."""
    _require_version(request)
    if not state.busy.claim(upload_id):
        raise ApiError(423, "locked", "another request is writing this upload")
    try:
        upload = _own_upload(state, upload_id, who)
        state.drops.delete_upload(upload.id)
        state.blobs.delete_partial(upload.id)
    finally:
        state.busy.release(upload_id)
    return Response(status_code=204, headers=_headers())
