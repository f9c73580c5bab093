"""The second half of a send: create the drop, upload what the server lacks, commit —
from a resume file, so that a send cut off (connection, crash, kill) is finished in a
later run with the same drop id (:func:`pending_sends` lists them, :func:`finish`
completes one; ``secure-send resume`` does both).

:mod:`.send` writes the resume file (``prepare``) and re-exports these names, so callers
keep saying ``send.finish``. The plaintext of a file is encrypted again while it is
uploaded, identically (:mod:`.blob_source`): a file changed since it was measured stops
the send before any changed byte leaves (``file_changed``).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secure_send.client.api import ServerApi
from secure_send.client.blob_source import BlobSource, EncryptingSource, FileSource, Measured
from secure_send.client.errors import ClientError, ServerError
from secure_send.client.key_changes import remember_sent
from secure_send.client.profile import Profile, ProfileError
from secure_send.client.suite_crypto import cipher_from_record
from secure_send.client.transfer import create_upload, send_blob
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.envelope.manifest import Blob, SignedManifest, new_drop_id
from secure_send.core.error_codes import ErrorCode
from secure_send.core.errors import SecureSendError

if TYPE_CHECKING:  # session.py builds on this module's neighbours; only the type here
    from secure_send.client.session import Session

Progress = Callable[[str, int, int], None]  # (blob id, bytes done, bytes total)


@dataclass
class PendingSend:
    """A send's resume file: everything needed to finish it in another run."""

    drop_id: str
    manifest: dict[str, Any]
    blobs: dict[str, dict[str, Any]]  # blob id -> {"file": outbox path, "upload": path|None}
    created: bool = False
    # per recipient person, the key hashes of the devices the files are wrapped to
    # (remembered once the send is done: the next send names what changed)
    recipient_keys: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "drop_id": self.drop_id,
            "manifest": self.manifest,
            "blobs": self.blobs,
            "created": self.created,
            "recipient_keys": self.recipient_keys,
        }

    @classmethod
    def from_json(cls, obj: Any) -> PendingSend:
        """Parse a resume file's content; raises :class:`BrokenResumeFile` for anything
        this version could not finish (a field missing or of the wrong type, a manifest
        that does not parse or names another drop, a blob without its record, a
        metadata blob whose outbox file is gone)."""
        try:
            pending = cls(
                obj["drop_id"],
                obj["manifest"],
                obj["blobs"],
                obj["created"],
                obj.get("recipient_keys", {}),  # absent in resume files of older versions
            )
            manifest = SignedManifest.from_json(pending.manifest).manifest
        except (KeyError, TypeError, AttributeError, SecureSendError) as err:
            raise BrokenResumeFile(f"unreadable ({type(err).__name__})") from None
        if manifest.drop_id != pending.drop_id or not isinstance(pending.created, bool):
            raise BrokenResumeFile("its drop id or state is wrong")
        if not isinstance(pending.blobs, dict) or not isinstance(pending.recipient_keys, dict):
            raise BrokenResumeFile("its blob records are missing")
        for blob in manifest.blobs:
            record = pending.blobs.get(blob.id)
            if not isinstance(record, dict):
                raise BrokenResumeFile(f"blob {blob.id} has no record")
            if "file" in record and not Path(str(record["file"])).is_file():
                raise BrokenResumeFile("its outbox folder was deleted")
        return pending


class BrokenResumeFile(ClientError):
    """A resume file (or the outbox it names) is damaged: the send cannot be finished."""

    def __init__(self, why: str) -> None:
        super().__init__(
            ErrorCode.RESUME_BROKEN,
            f"an unfinished send cannot be resumed ({why}); it was set aside; send it again",
        )


def finish(
    session: Session,
    pending: PendingSend,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    *,
    retrying: Callable[[float], None] | None = None,
) -> str:
    """Create the drop (once), upload what the server lacks, commit; clean up.

    A send that can never finish (a file changed since it was prepared, the drop
    recalled or expired meanwhile) is forgotten before the error is raised, so it
    does not stand in the way of every later run. ``retrying`` is told the seconds of
    each quick wait inside an upload after a cut connection (``client/retry.py``
    shows them and retries whole calls of this function)."""
    profile = session.profile
    try:
        _finish(profile, session.api, pending, session.keys, progress, cancel, retrying)
    except BrokenResumeFile:
        set_aside(profile, profile.resume_dir / f"{pending.drop_id}.json")
        raise
    except ClientError as err:
        if err.code in HOPELESS:
            forget(profile, pending)
        raise
    forget(profile, pending)
    remember_sent(profile, pending.recipient_keys)
    return pending.drop_id


MAX_FRESH_UPLOADS = 3
HOPELESS = frozenset({ErrorCode.FILE_CHANGED, ErrorCode.RECALLED, ErrorCode.EXPIRED})


def set_aside(profile: Profile, resume_file: Path) -> Path:
    """Move a broken resume file to ``resume/broken/`` (kept for IT, never read again)
    and delete its outbox folder; returns where it went."""
    broken = profile.resume_dir / "broken"
    broken.mkdir(mode=0o700, parents=True, exist_ok=True)
    moved = broken / f"{resume_file.stem}.{new_drop_id()[:8]}.json"  # never over another
    with contextlib.suppress(FileNotFoundError):  # set aside by another run meanwhile
        resume_file.rename(moved)
    shutil.rmtree(profile.outbox_dir / resume_file.stem, ignore_errors=True)
    return moved


def forget(profile: Profile, pending: PendingSend) -> None:
    """Remove a send's resume file and outbox folder."""
    (profile.resume_dir / f"{pending.drop_id}.json").unlink(missing_ok=True)
    shutil.rmtree(profile.outbox_dir / pending.drop_id, ignore_errors=True)


def _finish(
    profile: Profile,
    api: ServerApi,
    pending: PendingSend,
    keys: DeviceKeys,
    progress: Progress | None,
    cancel: threading.Event | None,
    retrying: Callable[[float], None] | None = None,
) -> None:
    resume_file = profile.resume_dir / f"{pending.drop_id}.json"
    signed = SignedManifest.from_json(pending.manifest)
    if not pending.created:
        try:
            api.create_drop(pending.manifest)
        except ServerError as err:
            if err.code != ErrorCode.DROP_EXISTS:  # created by a run that died before recording it
                raise
        pending.created = True
        profile.write_json(resume_file, pending.to_json())
    for blob in signed.manifest.blobs:
        source = _source(pending.blobs[blob.id], blob, keys)
        _upload_one(profile, api, pending, blob, source, resume_file, progress, cancel, retrying)
    api.commit_drop(pending.drop_id)  # idempotent


def _upload_one(
    profile: Profile,
    api: ServerApi,
    pending: PendingSend,
    blob: Blob,
    source: BlobSource,
    resume_file: Path,
    progress: Progress | None,
    cancel: threading.Event | None,
    retrying: Callable[[float], None] | None = None,
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

    fresh_uploads = 0  # uploads the server forgot and we made again, in this run
    while record["upload"] is not None:
        try:
            send_blob(
                api, record["upload"], source, blob.size, blob.sha256, moved, cancel, retrying
            )
            break
        except ServerError as err:
            if err.code == ErrorCode.HASH_MISMATCH:
                raise ClientError(
                    ErrorCode.FILE_CHANGED,
                    "a file changed while it was being sent; nothing was delivered; send it again",
                ) from None
            if err.status != 404:
                raise
            # the server forgets finished uploads (and replaced ones): ask again — a few
            # times; a server that keeps forgetting would have us upload forever
            fresh_uploads += 1
            if fresh_uploads > MAX_FRESH_UPLOADS:
                raise ClientError(
                    ErrorCode.UPLOAD_REWOUND,
                    f"the server lost the upload of {blob.id} {fresh_uploads} times; "
                    "the send stopped",
                ) from None
            record["upload"] = create_upload_if_needed(api, pending, blob)
    record["done"] = True
    profile.write_json(resume_file, pending.to_json())


def _source(record: dict[str, Any], blob: Blob, keys: DeviceKeys) -> BlobSource:
    """Where a blob's bytes come from (the plaintext must be as it was when measured);
    raises :class:`BrokenResumeFile` if the record cannot say."""
    try:
        return _record_source(record, blob, keys)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise BrokenResumeFile(f"unreadable ({type(err).__name__})") from None
    except ClientError:
        raise
    except SecureSendError:  # the file key, sealed to this device, does not open
        raise BrokenResumeFile("its file key does not open with this device's key") from None


def _record_source(record: dict[str, Any], blob: Blob, keys: DeviceKeys) -> BlobSource:
    if "file" in record:
        if not Path(record["file"]).is_file():
            raise BrokenResumeFile("its outbox folder was deleted")
        return FileSource(Path(record["file"]))
    path = Path(record["source"])
    try:
        stat = path.stat()
    except OSError:
        stat = None
    if stat is None or (stat.st_size, stat.st_mtime_ns) != (
        record["source_size"],
        record["source_mtime_ns"],
    ):
        raise ClientError(
            ErrorCode.FILE_CHANGED,
            f"{path.name} was changed or moved after it was prepared; send it again",
        )
    try:  # a send prepared by a version that recorded no chunk tags starts again
        tags = Path(record["tags"]).read_bytes()
    except (KeyError, OSError):
        raise ClientError(
            ErrorCode.FILE_CHANGED, f"{path.name}: this send cannot be resumed; send it again"
        ) from None
    measured = Measured(blob.sha256, blob.size, tags)
    return EncryptingSource(cipher_from_record(record, keys), path, measured)


def create_upload_if_needed(api: ServerApi, pending: PendingSend, blob: Blob) -> str | None:
    """A new upload for ``blob`` unless the server already holds it (or the drop is
    committed already)."""
    try:
        return create_upload(api, pending.drop_id, blob.id, blob.size)
    except ServerError as err:
        if err.code in (ErrorCode.ALREADY_COMPLETE, ErrorCode.NOT_UPLOADING):
            return None
        raise


def pending_sends(profile: Profile, warn: Callable[[str], None] | None = None) -> list[PendingSend]:
    """Sends an earlier run did not finish (oldest first). A resume file that cannot
    be read is set aside (:func:`set_aside`) with a one-line warning (to ``warn``,
    else logged), so that a damaged one never stands in the way of a new send."""
    warn = warn or logging.getLogger(__name__).warning
    if not profile.resume_dir.exists():
        return []
    found = []
    for path in sorted(profile.resume_dir.glob("*.json"), key=_mtime):
        try:
            obj = profile.read_json(path)
            if obj is None:
                continue  # finished by another run meanwhile
            found.append(PendingSend.from_json(obj))
        except ProfileError:  # not JSON
            set_aside(profile, path)
            warn(str(BrokenResumeFile("not valid JSON")))
        except BrokenResumeFile as err:
            set_aside(profile, path)
            warn(str(err))
    return found


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # gone meanwhile (finished by another run): sorted last, then skipped
        return float("inf")
