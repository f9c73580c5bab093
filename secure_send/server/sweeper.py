"""The expiry sweeper: deletes the ciphertext of drops whose expiry has passed, and
later the rows of recalled and expired drops.

:func:`sweep` is one pass (tests call it with a chosen time); :func:`run` calls
it every ``sweep_interval_seconds`` from the app's lifespan until cancelled.
Rows of ended drops are kept ``[retention] drop_rows_seconds`` after the drop's
expiry (senders still see them in their sent list, recipients get 410 rather
than 404), then deleted in batches: without that every drop would stay in the
database for ever, and every sweep and sent list would grow with it.
:func:`recover` runs once at start-up and repairs what a crash mid-upload left.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from starlette.concurrency import run_in_threadpool

from secure_send.core.audit import AuditAction
from secure_send.core.drop_state import DropState
from secure_send.core.encoding import utc_now
from secure_send.server.drop_access import purge
from secure_send.server.pg_locks import SWEEP_LOCK
from secure_send.server.pg_store import PostgresMetadataStore
from secure_send.server.state import ServerState
from secure_send.server.tus import complete_stored

log = logging.getLogger("secure_send.server")
# drops whose rows are deleted per transaction: the database lock is released between
# batches, so requests are not held up behind one long delete
FORGET_BATCH = 500


def sweep(state: ServerState, now: dt.datetime) -> list[str]:
    """Delete every expired live drop's blobs and uploads, then the rows of drops ended
    longer than the retention ago; returns the ids of the drops expired now."""
    done = []
    for row in state.drops.expired(int(now.timestamp())):
        purge(state, row, DropState.EXPIRED)
        state.audit.append(
            action=AuditAction.EXPIRY_DELETE,
            actor=row.sender,
            drop=row.id,
            size=row.size,
            specific_personal_info=row.specific_personal_info,
        )
        done.append(row.id)
    forget_ended(state, now)
    return done


def forget_ended(state: ServerState, now: dt.datetime) -> int:
    """Delete the rows of recalled and expired drops, and of closed file requests, whose
    expiry is more than ``retention_drop_rows_seconds`` before ``now``, in batches;
    returns how many drops."""
    before = int(now.timestamp()) - state.config.retention_drop_rows_seconds
    total = 0
    while True:
        batch = state.drops.forget_ended(before, FORGET_BATCH)
        total += len(batch)
        if len(batch) < FORGET_BATCH:
            break
    # closed file requests (their submissions are ordinary drops, swept as above)
    while len(state.requests.forget_expired(before, FORGET_BATCH)) == FORGET_BATCH:
        pass
    if total:
        log.info("deleted the rows of %d ended drops (retention)", total)
    return total


def recover(state: ServerState) -> None:
    """Repair after a crash: finish uploads whose checked blob was already renamed into
    place, forget uploads whose data is gone, delete partial files nobody owns.

    With a shared store (S3) other servers may be serving uploads right now: the
    database's offset is the truth there (a flush precedes every recorded offset), so
    no offset is cut back; and the partials are listed *before* the upload rows (a row
    is made before its partial), so one created meanwhile is never taken for an orphan,
    nor is a row at offset 0 whose partial is being made.
    """
    stored_ids = state.blobs.partial_ids()
    known = set()
    for upload in state.drops.all_uploads():
        known.add(upload.id)
        if state.blobs.partial_exists(upload.id):
            stored = upload.received if state.blobs.shared else state.blobs.partial_size(upload.id)
            if stored < upload.received:  # after a power loss: resume from what is there
                state.drops.set_received(upload.id, stored)
            elif upload.received == upload.length:
                complete_stored(state, upload)  # died between the last write and finishing
            continue
        if state.blobs.shared and upload.received == 0:
            continue  # just made by another server, which is making its partial now
        renamed = state.blobs.exists(upload.id) and upload.received == upload.length
        if not (renamed and state.drops.complete(upload)):
            state.drops.delete_upload(upload.id)
    for upload_id in stored_ids:
        if upload_id not in known:
            state.blobs.delete_partial(upload_id)


def sweep_once(state: ServerState, now: dt.datetime) -> bool:
    """One pass, unless another server is sweeping the same database now (several
    servers: a PostgreSQL advisory lock); returns whether this server swept."""
    if not isinstance(state.meta, PostgresMetadataStore):
        sweep(state, now)
        return True
    with state.meta.advisory(SWEEP_LOCK) as mine:
        if mine:
            sweep(state, now)
        return mine


async def run(state: ServerState) -> None:
    """Sweep forever (until cancelled); a failed pass is logged and retried later."""
    while True:
        try:
            await run_in_threadpool(sweep_once, state, utc_now())
        except Exception:
            log.exception("expiry sweep failed")
        await asyncio.sleep(state.config.sweep_interval_seconds)
