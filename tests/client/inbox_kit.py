"""Committed drops in volume for inbox tests and the inbox benchmark: real manifests,
signed in-process by the sender's own device over its verified directory (exactly what
``send`` signs, so the recipient's listing verifies them), stored through the server's
``DropStore`` without uploading ciphertext (a listing never reads it)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Sequence

from secure_send.client.session import Session
from secure_send.core.encoding import format_time, utc_now
from secure_send.core.envelope.manifest import (
    Blob,
    Classification,
    Manifest,
    RecipientRef,
    SignedManifest,
    new_drop_id,
)
from secure_send.server.drop_store import DropStore
from tests.server.drop_kit import plant_drops


def signed_manifests(
    sender: Session, to: Sequence[str], count: int, *, expires: dt.timedelta = dt.timedelta(days=3)
) -> list[SignedManifest]:
    """``count`` manifests from ``sender``'s device to every active device of ``to``."""
    directory = sender.directory()
    entries = directory.by_id()
    checkpoint = directory.verified.checkpoint
    recipients = tuple(
        RecipientRef(user, tuple(d.id for d in entries[user].active_devices())) for user in to
    )
    now = utc_now()
    out = []
    for _ in range(count):
        blob = os.urandom(32)
        manifest = Manifest(
            drop_id=new_drop_id(),
            sender=sender.me.user,
            sender_device=sender.me.device,
            recipients=recipients,
            blobs=(Blob("f1", "file", hashlib.sha256(blob).digest(), 200 * 1024),),
            created=format_time(now),
            expires=format_time(now + expires),
            classification=Classification.C2,
            suite="age-x25519-v1",
            directory_epoch=checkpoint.epoch,
            directory_header=checkpoint.header_hash,
            log_size=checkpoint.log_size,
            log_root=checkpoint.log_root,
        )
        out.append(manifest.sign(sender.keys.signing))
    return out


def planted(drops: DropStore, sender: Session, to: Sequence[str], count: int) -> list[str]:
    """``count`` committed drops from ``sender`` to ``to``; their ids in commit order."""
    return plant_drops(drops, signed_manifests(sender, to, count))
