"""Blob downloads with single-range HTTP Range support, streamed in chunks.

Guarantees: a blob is served only to the drop's sender or (once committed, and
until recalled or expired) its recipients; the file is read ``DOWNLOAD_CHUNK``
bytes at a time, never whole; ``bytes=a-b``, ``bytes=a-`` and ``bytes=-n`` give 206 with
``Content-Range``; any other or unsatisfiable range gives 416. A committed blob whose stored file is
missing answers ``500 blob_lost`` (the server lost it), never "no such drop".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Annotated, BinaryIO

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from secure_send.core.audit import AuditAction
from secure_send.core.envelope.manifest import BLOB_ID
from secure_send.core.error_codes import ErrorCode
from secure_send.server.auth import ApiError
from secure_send.server.disk_full import storage_full
from secure_send.server.drop_access import not_found, record, require_live, visible_drop
from secure_send.server.routes import Authenticated, client_ip
from secure_send.server.state import ServerState, server_state
from secure_send.server.storage import StorageError

log = logging.getLogger("secure_send.server")
router = APIRouter(prefix="/v1")
State = Annotated[ServerState, Depends(server_state)]
# Each piece of a streamed body costs a thread hop and an event-loop turn: 1 MiB
# pieces serve a blob with ~0.5 s of CPU per GiB instead of ~0.7 s at 256 KiB
# (measured on 2 cores, where that CPU is taken from the receiver on the same
# machine), for at most a few MiB in flight per download (uvicorn's flow control).
DOWNLOAD_CHUNK = 1024 * 1024
_RANGE = re.compile(r"bytes=([0-9]{0,19})-([0-9]{0,19})")  # ASCII digits only
OCTETS = "application/octet-stream"


class BadRange(Exception):
    """The Range header cannot be satisfied."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end)`` inclusive, or None for the whole file; raises :class:`BadRange`."""
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or match[1] == match[2] == "":
        raise BadRange
    if match[1] == "":
        suffix = int(match[2])
        if suffix == 0 or size == 0:
            raise BadRange
        return max(0, size - suffix), size - 1
    start = int(match[1])
    end = int(match[2]) if match[2] else size - 1
    if start >= size or end < start:
        raise BadRange
    return start, min(end, size - 1)


def _chunks(src: BinaryIO, start: int, length: int) -> Iterator[bytes]:
    try:
        src.seek(start)
        while length > 0:
            chunk = src.read(min(DOWNLOAD_CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk
    finally:
        src.close()


@router.get("/drops/{drop_id}/blobs/{blob_id}")
def download(
    drop_id: str, blob_id: str, request: Request, who: Authenticated, state: State
) -> Response:
    """The blob's ciphertext (whole, or one range)."""
    row, _ = visible_drop(state, drop_id, who)
    require_live(row)
    blob = state.drops.blob(row.id, blob_id) if BLOB_ID.fullmatch(blob_id) else None
    if blob is None or blob.store_id is None:
        raise not_found()
    try:
        wanted = parse_range(request.headers.get("range"), blob.size)
    except BadRange:
        return JSONResponse(
            {"code": "bad_range", "message": "the range cannot be satisfied"},
            status_code=416,
            headers={"Content-Range": f"bytes */{blob.size}"},
        )
    start, end = wanted if wanted else (0, blob.size - 1)
    try:
        src = state.blobs.open(blob.store_id)
    except StorageError:
        # the database says the file is stored but it is not: the server's fault, not a
        # drop that is gone; IT must know (a restore, a disk problem)
        raise ApiError(
            500, ErrorCode.BLOB_LOST, "the server lost this file's stored copy; tell IT"
        ) from None
    length = end - start + 1
    try:
        # the row read above says whether the drop holds My Numbers: no second read
        spi = row.specific_personal_info
        record(state, AuditAction.DOWNLOAD, who, row.id, length, client_ip(request), spi=spi)
    except OSError as err:
        # a full volume stops writes, not reads: the recipient still gets the file
        # (ciphertext only), and the missing record is said in the server's log
        if not storage_full(err):
            src.close()
            raise
        log.error("a download of drop %s was not audited: the volume is full", row.id)
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(length)}
    if wanted:
        headers["Content-Range"] = f"bytes {start}-{end}/{blob.size}"
    status = 206 if wanted else 200
    return StreamingResponse(
        _chunks(src, start, length), status_code=status, headers=headers, media_type=OCTETS
    )
