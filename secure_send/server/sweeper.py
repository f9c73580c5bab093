"""The expiry sweeper: deletes the ciphertext of drops whose expiry has passed.

:func:`sweep` is one pass (tests call it with a chosen time); :func:`run` calls
it every ``sweep_interval_seconds`` from the app's lifespan until cancelled.
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
from secure_send.server.state import ServerState
from secure_send.server.tus import complete_stored

log = logging.getLogger("secure_send.server")


def sweep(state: ServerState, now: dt.datetime) -> list[str]:
    """Delete every expired live drop's blobs and uploads; returns their ids."""
    done = []
    for row in state.drops.expired(int(now.timestamp())):
        purge(state, row, DropState.EXPIRED)
        state.audit.append(
            action=AuditAction.EXPIRY_DELETE, actor=row.sender, drop=row.id, size=row.size
        )
        done.append(row.id)
    return done


def recover(state: ServerState) -> None:
    """Repair after a crash: finish uploads whose checked blob was already renamed into
    place, forget uploads whose data is gone, delete partial files nobody owns."""
    known = set()
    for upload in state.drops.all_uploads():
        known.add(upload.id)
        if state.blobs.partial_exists(upload.id):
            stored = state.blobs.partial_size(upload.id)
            if stored < upload.received:  # after a power loss: resume from what is there
                state.drops.set_received(upload.id, stored)
            elif upload.received == upload.length:
                complete_stored(state, upload)  # died between the last write and finishing
            continue
        renamed = state.blobs.exists(upload.id) and upload.received == upload.length
        if not (renamed and state.drops.complete(upload)):
            state.drops.delete_upload(upload.id)
    for upload_id in state.blobs.partial_ids():
        if upload_id not in known:
            state.blobs.delete_partial(upload_id)


async def run(state: ServerState) -> None:
    """Sweep forever (until cancelled); a failed pass is logged and retried later."""
    while True:
        try:
            await run_in_threadpool(sweep, state, utc_now())
        except Exception:
            log.exception("expiry sweep failed")
        await asyncio.sleep(state.config.sweep_interval_seconds)
