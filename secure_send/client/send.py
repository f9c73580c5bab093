"""Sending: verified recipients → encrypt → signed manifest → upload → commit.

Guarantees: recipients come only from the verified directory, by id (roles are
expanded to their active members; a departed, unknown or keyless id is an error
listing close matches, never a send); each file and the metadata blob (names,
sizes, message, classification) is encrypted as age v1 to every active device of
every recipient and to the sender's own active devices; plaintext is streamed,
never copied (only ciphertext goes to the profile's outbox); the manifest is
signed by this device; the drop becomes visible only at commit. Every step is
recorded in a resume file first, so a send cut off (connection, crash, kill) is
finished by :func:`resume_pending` in a later run, with the same drop id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secure_send.client.api import ClientError, ServerApi, ServerError
from secure_send.client.directory_sync import Directory
from secure_send.client.profile import Identity, Profile
from secure_send.client.transfer import create_upload, send_blob
from secure_send.core.age.api import encrypt
from secure_send.core.age.x25519 import X25519Recipient
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.directory.model import Entry, Kind
from secure_send.core.directory.search import SearchIndex
from secure_send.core.encoding import format_time, utc_now
from secure_send.core.envelope.manifest import (
    Blob,
    Classification,
    Manifest,
    RecipientRef,
    SignedManifest,
    new_drop_id,
)

METADATA_BLOB = "m"
METADATA_TYPE = "secure-send/metadata/v1"
Progress = Callable[[str, int, int], None]  # (blob id, bytes done, bytes total)


class RecipientError(ClientError):
    """A ``--to`` id that cannot receive; the message lists close matches."""


@dataclass(frozen=True)
class FileToSend:
    """A plaintext file and the relative name it is sent under (``a/b.txt``)."""

    path: Path
    name: str


def collect(paths: Sequence[Path]) -> list[FileToSend]:
    """Files as given; a folder is sent as its files, names relative to its parent."""
    found: list[FileToSend] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                found.append(FileToSend(child, child.relative_to(path.parent).as_posix()))
        elif path.is_file():
            found.append(FileToSend(path, path.name))
        else:
            raise ClientError("no_such_file", f"{path}: no such file or folder")
    if not found:
        raise ClientError("nothing_to_send", "no files to send")
    return found


def resolve_recipients(directory: Directory, ids: Sequence[str], sender: str) -> list[Entry]:
    """The persons ``ids`` name (roles expanded), each active with an active device."""
    entries = directory.by_id()
    people: dict[str, Entry] = {}
    for wanted in ids:
        entry = entries.get(wanted)
        if entry is None or not entry.active:
            raise RecipientError(
                "unknown_recipient", _not_found(directory, wanted, entry is not None)
            )
        members = [entries.get(m) for m in entry.members] if entry.kind is Kind.ROLE else [entry]
        for person in members:
            if person is None or not person.active or not person.active_devices():
                continue  # a role member without keys cannot open anything
            if person.id != sender:
                people[person.id] = person
        if entry.kind is Kind.PERSON and not entry.active_devices():
            raise RecipientError(
                "recipient_not_enrolled",
                f"{wanted} has no enrolled device yet and cannot receive files",
            )
    if not people:
        raise RecipientError("no_recipient", "nobody to send to")
    return list(people.values())


def _not_found(directory: Directory, wanted: str, departed: bool) -> str:
    why = "has left (not active)" if departed else "is not in the verified directory"
    close = [m.entry.id for m in SearchIndex(directory.verified.entries).search(wanted, limit=5)]
    hint = f"; did you mean: {', '.join(close)}" if close else ""
    return f"{wanted} {why}{hint}"


class _HashingFile:
    """A file that hashes what is written to it."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("wb")
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | memoryview) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self._file.write(data)

    def close(self) -> None:
        self._file.flush()
        self._file.close()


@dataclass
class PendingSend:
    """A send's resume file: everything needed to finish it in another run."""

    drop_id: str
    manifest: dict[str, Any]
    blobs: dict[str, dict[str, Any]]  # blob id -> {"file": outbox path, "upload": path|None}
    created: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "drop_id": self.drop_id,
            "manifest": self.manifest,
            "blobs": self.blobs,
            "created": self.created,
        }

    @classmethod
    def from_json(cls, obj: Any) -> PendingSend:
        return cls(obj["drop_id"], obj["manifest"], obj["blobs"], bool(obj["created"]))


def prepare(
    profile: Profile,
    directory: Directory,
    me: Identity,
    keys: DeviceKeys,
    files: Sequence[FileToSend],
    to: Sequence[str],
    *,
    expires: dt.timedelta,
    message: str = "",
    classification: Classification = Classification.C2,
) -> PendingSend:
    """Encrypt everything into the outbox and write the resume file (no network)."""
    if not directory.fresh:
        raise ClientError(
            "directory_stale", "the directory could not be refreshed from the server; try again"
        )
    people = resolve_recipients(directory, to, me.user)
    own = directory.by_id().get(me.user)
    if own is None or not any(d.id == me.device for d in own.active_devices()):
        raise ClientError("device_revoked", "this device is no longer active in the directory")
    keyholders = [*people, own]
    recipients = [X25519Recipient(d.enc_key) for p in keyholders for d in p.active_devices()]
    drop_id = new_drop_id()
    outbox = profile.outbox_dir / drop_id
    outbox.mkdir(parents=True, mode=0o700)
    blobs: list[Blob] = []
    listing = []
    for i, item in enumerate(files, 1):
        blob_id = f"f{i}"
        out = _HashingFile(outbox / blob_id)
        try:
            with item.path.open("rb") as src:
                encrypt(src, out, recipients)
        finally:
            out.close()
        blobs.append(Blob(blob_id, "file", out.sha256.digest(), out.size))
        listing.append({"blob": blob_id, "name": item.name, "size": item.path.stat().st_size})
    metadata = {
        "type": METADATA_TYPE,
        "files": listing,
        "message": message,
        "classification": classification.value,
    }
    meta_out = _HashingFile(outbox / METADATA_BLOB)
    try:
        encrypt(io.BytesIO(json.dumps(metadata, ensure_ascii=False).encode()), meta_out, recipients)
    finally:
        meta_out.close()
    blobs.insert(0, Blob(METADATA_BLOB, "metadata", meta_out.sha256.digest(), meta_out.size))
    now = utc_now()
    checkpoint = directory.verified.checkpoint
    signed = Manifest(
        drop_id=drop_id,
        sender=me.user,
        sender_device=me.device,
        recipients=tuple(
            RecipientRef(p.id, tuple(d.id for d in p.active_devices())) for p in people
        ),
        blobs=tuple(blobs),
        created=format_time(now),
        expires=format_time(now + expires),
        classification=classification,
        suite="age-x25519-v1",
        directory_epoch=checkpoint.epoch,
        directory_header=checkpoint.header_hash,
    ).sign(keys.signing)
    pending = PendingSend(
        drop_id,
        signed.to_json(),
        {b.id: {"file": str(outbox / b.id), "upload": None} for b in blobs},
    )
    profile.write_json(profile.resume_dir / f"{drop_id}.json", pending.to_json())
    return pending


def finish(
    profile: Profile,
    api: ServerApi,
    pending: PendingSend,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> str:
    """Create the drop (once), upload what the server lacks, commit; clean up."""
    resume_file = profile.resume_dir / f"{pending.drop_id}.json"
    signed = SignedManifest.from_json(pending.manifest)
    if not pending.created:
        try:
            api.json("POST", "/v1/drops", pending.manifest)
        except ServerError as err:
            if err.code != "drop_exists":  # created by a run that died before recording it
                raise
        pending.created = True
        profile.write_json(resume_file, pending.to_json())
    for blob in signed.manifest.blobs:
        _upload_one(profile, api, pending, blob, resume_file, progress, cancel)
    api.json("POST", f"/v1/drops/{pending.drop_id}/commit")  # idempotent
    resume_file.unlink(missing_ok=True)
    shutil.rmtree(profile.outbox_dir / pending.drop_id, ignore_errors=True)
    return pending.drop_id


def _upload_one(
    profile: Profile,
    api: ServerApi,
    pending: PendingSend,
    blob: Blob,
    resume_file: Path,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> None:
    record = pending.blobs[blob.id]
    if record.get("done"):
        return
    if record["upload"] is None:
        record["upload"] = create_upload_if_needed(api, pending, blob)
        profile.write_json(resume_file, pending.to_json())

    def moved(done: int) -> None:
        if progress is not None:
            progress(blob.id, done, blob.size)

    source = Path(record["file"])
    while record["upload"] is not None:
        try:
            send_blob(api, record["upload"], source, blob.size, blob.sha256, moved, cancel)
            break
        except ServerError as err:
            if err.status != 404:
                raise
            # the server forgets finished uploads (and replaced ones): ask again
            record["upload"] = create_upload_if_needed(api, pending, blob)
    record["done"] = True
    profile.write_json(resume_file, pending.to_json())


def create_upload_if_needed(api: ServerApi, pending: PendingSend, blob: Blob) -> str | None:
    """A new upload for ``blob`` unless the server already holds it (or the drop is
    committed already)."""
    try:
        return create_upload(api, pending.drop_id, blob.id, blob.size)
    except ServerError as err:
        if err.code in ("already_complete", "not_uploading"):
            return None
        raise


def pending_sends(profile: Profile) -> list[PendingSend]:
    """Sends an earlier run did not finish (oldest first)."""
    if not profile.resume_dir.exists():
        return []
    files = sorted(profile.resume_dir.glob("*.json"), key=lambda p: p.stat().st_mtime)
    return [PendingSend.from_json(profile.read_json(f)) for f in files]
