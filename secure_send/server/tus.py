"""tus 1.0 resumable uploads (core, creation, creation-with-upload, termination,
expiration, checksum) of the blobs a drop's manifest announced.

Guarantees: only the drop's sender can create, inspect, append to or terminate
an upload; a PATCH must start at the current offset (else 409). A PATCH body is
streamed to the partial file as it arrives (any size up to the blob's length) and
hashed once on the way (:mod:`secure_send.server.upload_sink`); when it is
complete it must match the signed ``Content-Digest`` (else 401, nothing kept) and,
with ``Upload-Checksum``, that too (else 460, nothing kept). A body cut off
mid-way keeps what arrived, unless it carried ``Upload-Checksum``. One PATCH at a
time per upload (else 423). Partial data lives in ``server/partial/`` and is
fsynced and renamed into the blob folder only once complete and its SHA-256
equals the manifest's (else it is deleted: 400 ``hash_mismatch``).

Durability: offsets are recorded after the bytes reached the OS, so a killed
server process loses nothing it acknowledged. Partial data is not fsynced before
completion (that made every PATCH wait for the disk): after a power loss a
recorded offset may cover bytes the disk never got, which the manifest hash then
rejects at completion (400 ``hash_mismatch``; the client sends the blob again).
A finished blob is always fsynced before it can become visible.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
from dataclasses import replace
from email.utils import formatdate
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from secure_send.core.audit import AuditAction
from secure_send.core.drop_state import DropState
from secure_send.core.envelope.manifest import BLOB_ID, DROP_ID
from secure_send.core.error_codes import ErrorCode
from secure_send.server.auth import ApiError, Caller, unauthorized
from secure_send.server.disk_full import insufficient_storage, storage_full
from secure_send.server.drop_access import record, require_live
from secure_send.server.drop_store import UploadRow
from secure_send.server.routes import DIGITS, Authenticated, StreamAuthenticated, client_ip
from secure_send.server.state import ServerState, server_state
from secure_send.server.storage import OPAQUE_ID, StorageError
from secure_send.server.upload_sink import UploadSink, pump

log = logging.getLogger("secure_send.server")
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
        raise ApiError(412, ErrorCode.TUS_VERSION, f"Tus-Resumable: {TUS_VERSION} is required")


def _number(value: str | None, name: str) -> int:
    if value is None or DIGITS.fullmatch(value) is None:
        raise ApiError(400, ErrorCode.INVALID_REQUEST, f"{name} must be a non-negative integer")
    return int(value)


def _metadata(header: str | None) -> dict[str, str]:
    pairs: dict[str, str] = {}
    try:
        for item in (header or "").split(","):
            key, _, value = item.strip().partition(" ")
            pairs[key] = base64.b64decode(value, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError(400, ErrorCode.BAD_METADATA, "Upload-Metadata is malformed") from None
    return pairs


def _checksum(header: str | None) -> bytes | None:
    """The SHA-256 an ``Upload-Checksum`` header names, or None without one."""
    if header is None:
        return None
    algorithm, _, value = header.strip().partition(" ")
    if algorithm != "sha256":
        raise ApiError(400, ErrorCode.BAD_CHECKSUM_ALGORITHM, "only sha256 checksums are supported")
    try:
        expected = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ApiError(400, ErrorCode.INVALID_REQUEST, "Upload-Checksum is malformed") from None
    if len(expected) != hashlib.sha256().digest_size:
        raise ApiError(400, ErrorCode.INVALID_REQUEST, "Upload-Checksum is not a SHA-256 value")
    return expected


def _own_upload(state: ServerState, upload_id: str, who: Caller) -> UploadRow:
    upload = state.drops.upload(upload_id) if OPAQUE_ID.fullmatch(upload_id) else None
    drop = state.drops.get(upload.drop_id) if upload else None
    if upload is None or drop is None or drop.sender != who.user.id:
        raise ApiError(404, ErrorCode.NOT_FOUND, "no such upload")
    return upload


def complete_stored(
    state: ServerState, upload: UploadRow, digest: bytes | None = None, ip: str = ""
) -> str | None:
    """Finish an upload whose every byte is stored: check the whole blob's SHA-256
    (``digest``, or read back when not known) against the manifest, move it into
    place, mark the blob complete and audit it.

    A store that cannot read an unfinished upload (S3) finishes it first and hashes the
    finished blob; on a mismatch that blob is deleted, never marked complete.
    Also run at start-up for uploads a crash interrupted between the last write and
    this step. Returns ``None``, or the error code when the upload was discarded.
    """
    blob = state.drops.blob(upload.drop_id, upload.blob_id)
    finished = False
    if digest is None and blob is not None:
        hasher = state.blobs.hash_partial(upload.id)
        if hasher is None:
            state.blobs.finish_partial(upload.id, upload.id, upload.length)
            finished = True
            digest = state.blobs.hash_blob(upload.id)
        else:
            digest = hasher.digest()
    if blob is None or digest is None or not hmac.compare_digest(digest, blob.sha256):
        if finished:
            state.blobs.delete(upload.id)
        state.blobs.delete_partial(upload.id)
        state.drops.delete_upload(upload.id)
        return "hash_mismatch"
    if not finished:
        state.blobs.finish_partial(upload.id, upload.id, upload.length)
    if not state.drops.complete(upload):  # recalled or replaced meanwhile
        again = state.drops.blob(upload.drop_id, upload.blob_id)
        if again is None or again.store_id != upload.id:  # not another server finishing it
            state.blobs.delete(upload.id)
        return "not_found"
    drop = state.drops.get(upload.drop_id)
    state.audit.append(
        action=AuditAction.UPLOAD_COMPLETE,
        actor=drop.sender if drop else "",
        drop=upload.drop_id,
        size=upload.length,
        ip=ip,
        specific_personal_info=drop.specific_personal_info if drop else None,
    )
    return None


def _open_sink(
    state: ServerState, who: Caller, upload_id: str, offset: int, length: int, keep_cut: bool
) -> tuple[UploadRow, UploadSink]:
    """Check a PATCH against the upload and open its sink (the upload's lock is held)."""
    upload = _own_upload(state, upload_id, who)
    if offset != upload.received:
        raise ApiError(409, ErrorCode.OFFSET_MISMATCH, f"the upload is at offset {upload.received}")
    if offset + length > upload.length:
        raise ApiError(400, ErrorCode.TOO_LONG, "the body goes beyond Upload-Length")

    def checkpoint(end: int) -> None:
        state.drops.set_received(upload.id, end)

    # Without Upload-Checksum a long PATCH records its progress as it goes, so a crash
    # or a cut loses little; the manifest's SHA-256 still guards the finished blob.
    try:
        sink = UploadSink(
            state.blobs, state.hashes, upload.id, offset, checkpoint if keep_cut else None
        )
    except StorageError:
        # The store lost what the database says it holds (S3: a restore from a bucket
        # copy, which has no multipart uploads in progress; a lifecycle rule aborting
        # them). Forget the upload: a 404 has the client start the blob again in a new
        # upload, where a 500 would have it retry this one for ever.
        log.warning("upload %s lost its stored data; forgotten", upload.id)
        state.blobs.delete_partial(upload.id)
        state.drops.delete_upload(upload.id)
        raise ApiError(404, ErrorCode.NOT_FOUND, "no such upload (its data is gone)") from None
    return upload, sink


def _abandon(state: ServerState, upload: UploadRow, sink: UploadSink) -> None:
    sink.discard()
    state.drops.set_received(upload.id, sink.start)


def _cut(state: ServerState, upload: UploadRow, sink: UploadSink, keep: bool) -> None:
    """The client went away mid-body: keep what arrived (tus core), unless the PATCH
    carried an Upload-Checksum, which a partial body cannot match (tus checksum)."""
    if not keep:
        _abandon(state, upload, sink)
        return
    sink.keep(durable=False)
    if not state.drops.set_received(upload.id, sink.end):
        state.blobs.delete_partial(upload.id)


def _conclude(
    state: ServerState,
    who: Caller,
    upload: UploadRow,
    sink: UploadSink,
    checksum: bytes | None,
    ip: str,
) -> UploadRow:
    """The whole body is in: check it against the signed digest and the checksum,
    record the new offset, and finish the upload when it is complete."""
    body = sink.body_sha256()
    if not hmac.compare_digest(body, who.body_sha256):
        _abandon(state, upload, sink)
        state.auth.limiter.failed(ip)
        record(state, AuditAction.AUTH_FAILURE, who, upload.drop_id, 0, ip, "bad_signature")
        raise unauthorized(ErrorCode.BAD_SIGNATURE, "Content-Digest does not match the body")
    if checksum is not None and not hmac.compare_digest(body, checksum):
        _abandon(state, upload, sink)
        raise ApiError(460, ErrorCode.CHECKSUM_MISMATCH, "the body does not match Upload-Checksum")
    complete = sink.end == upload.length
    sink.keep(durable=complete)  # fsync once, before the blob can become visible
    if not state.drops.set_received(upload.id, sink.end):
        state.blobs.delete_partial(upload.id)
        raise ApiError(404, ErrorCode.NOT_FOUND, "no such upload")
    done = replace(upload, received=sink.end)
    if complete:
        failure = complete_stored(state, done, sink.blob_sha256(), ip)
        if failure == "hash_mismatch":
            raise ApiError(
                400, ErrorCode.HASH_MISMATCH, "the blob's SHA-256 differs from the manifest's"
            )
        if failure is not None:
            raise ApiError(404, ErrorCode.NOT_FOUND, "no such upload")
    return done


def _create(state: ServerState, who: Caller, request: Request, body: bytes) -> UploadRow:
    length = _number(request.headers.get("upload-length"), "Upload-Length")
    meta = _metadata(request.headers.get("upload-metadata"))
    checksum = _checksum(request.headers.get("upload-checksum"))
    drop_id, blob_id = meta.get("drop", ""), meta.get("blob", "")
    drop = state.drops.get(drop_id) if DROP_ID.fullmatch(drop_id) else None
    if drop is None or drop.sender != who.user.id:
        raise ApiError(404, ErrorCode.NOT_FOUND, "no such drop")
    require_live(drop)
    if drop.state != DropState.UPLOADING:
        raise ApiError(409, ErrorCode.NOT_UPLOADING, "this drop is already committed")
    blob = state.drops.blob(drop.id, blob_id) if BLOB_ID.fullmatch(blob_id) else None
    if blob is None:
        raise ApiError(400, ErrorCode.UNKNOWN_BLOB, "the manifest has no such blob")
    if blob.store_id is not None:
        raise ApiError(409, ErrorCode.ALREADY_COMPLETE, "this blob is already uploaded")
    if length != blob.size:
        raise ApiError(400, ErrorCode.BAD_LENGTH, "Upload-Length differs from the manifest's size")
    upload = UploadRow(secrets.token_urlsafe(16), drop.id, blob.blob_id, length, 0, drop.expires)
    for old in state.drops.add_upload(upload):
        state.blobs.delete_partial(old)
    if not (body or length == 0):
        state.blobs.open_partial(upload.id, 0).close()
        return upload
    # creation-with-upload: the (small, already authenticated) body is the first PATCH
    if not state.busy.claim(upload.id):
        raise ApiError(423, ErrorCode.LOCKED, "another request is writing this upload")
    try:
        upload, sink = _open_sink(state, who, upload.id, 0, len(body), keep_cut=False)
        sink.write([body])
        return _conclude(state, who, upload, sink, checksum, client_ip(request))
    finally:
        state.busy.release(upload.id)


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
        raise ApiError(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, f"Content-Type must be {OFFSET_TYPE}")


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
async def patch(
    upload_id: str, request: Request, who: StreamAuthenticated, state: State
) -> Response:
    """Append the body at ``Upload-Offset``, streamed to disk as it arrives."""
    _require_version(request)
    _require_offset_type(request)
    offset = _number(request.headers.get("upload-offset"), "Upload-Offset")
    length = _number(request.headers.get("content-length"), "Content-Length")
    checksum = _checksum(request.headers.get("upload-checksum"))
    ip = client_ip(request)
    # a thread: with several servers the claim is a database round trip
    if not await run_in_threadpool(state.busy.claim, upload_id):
        raise ApiError(423, ErrorCode.LOCKED, "another request is writing this upload")
    try:
        upload, sink = await run_in_threadpool(
            _open_sink, state, who, upload_id, offset, length, checksum is None
        )
        try:
            await pump(request.stream(), sink)
        except ClientDisconnect:
            await run_in_threadpool(_cut, state, upload, sink, checksum is None)
            raise
        except OSError as err:
            await run_in_threadpool(_abandon, state, upload, sink)
            if storage_full(err):
                raise insufficient_storage() from None
            log.exception("storing an upload failed")
            raise ApiError(
                507, ErrorCode.STORAGE_FAILED, "the server could not store the data"
            ) from None
        done = await run_in_threadpool(_conclude, state, who, upload, sink, checksum, ip)
    finally:
        # at once, even when the request was cancelled (closing the lock's connection
        # is a local socket close, no round trip)
        state.busy.release(upload_id)
    return Response(status_code=204, headers=_headers(done))


@router.delete("/uploads/{upload_id}", status_code=204)
def terminate(upload_id: str, request: Request, who: Authenticated, state: State) -> Response:
    """Termination: forget the upload and delete its partial data."""
    _require_version(request)
    if not state.busy.claim(upload_id):
        raise ApiError(423, ErrorCode.LOCKED, "another request is writing this upload")
    try:
        upload = _own_upload(state, upload_id, who)
        state.drops.delete_upload(upload.id)
        state.blobs.delete_partial(upload.id)
    finally:
        state.busy.release(upload_id)
    return Response(status_code=204, headers=_headers())
