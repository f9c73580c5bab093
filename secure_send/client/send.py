"""Sending: verified recipients → encrypt → signed manifest → upload → commit.

Guarantees: recipients come only from the verified directory, by id (roles are
expanded to their active members; a departed, unknown or keyless id — a role none of
whose other members has a device, too — is an error listing close matches, never a
send); each file and the metadata blob (names, sizes, message, classification) is
encrypted in the one suite IT's policy names for the send's classification (age v1 or
CMS with ECDH P-256 and AES-256-GCM: :mod:`.suite_crypto`) to every active device of
every recipient and to the sender's own active devices (a device without a P-256 key
stops a CMS send before anything is written); plaintext is streamed
and never copied: a file's ciphertext is hashed first and made again, identically,
while it is uploaded (:mod:`secure_send.client.blob_source`), so only the small
encrypted metadata is kept in the profile's outbox; the file keys in the resume
file are themselves encrypted (with age) to this device; the manifest is
signed by this device; the drop becomes visible only at commit. Every step is
recorded in a resume file first, so a send cut off (connection, crash, kill) is
finished in a later run, with the same drop id: :func:`pending_sends` lists it and
:func:`finish` completes it (``secure-send resume`` does both). That second half —
create, upload, commit, resume files — lives in :mod:`.send_upload`; its names are
re-exported here, so a send is ``send.prepare`` then ``send.finish``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secure_send.client import leftovers
from secure_send.client.approval import ApprovalPlan, plan
from secure_send.client.blob_source import (
    measure,
)
from secure_send.client.chosen import Chosen, chosen_for
from secure_send.client.directory_sync import Directory, unverified
from secure_send.client.errors import ClientError
from secure_send.client.key_changes import key_hashes
from secure_send.client.mynumber import MyNumberCheck
from secure_send.client.mynumber import check as mynumber_check
from secure_send.client.profile import DeviceIdentity
from secure_send.client.send_upload import (  # the second half of a send, re-exported
    HOPELESS as HOPELESS,
)
from secure_send.client.send_upload import (
    MAX_FRESH_UPLOADS as MAX_FRESH_UPLOADS,
)
from secure_send.client.send_upload import (
    BrokenResumeFile as BrokenResumeFile,
)
from secure_send.client.send_upload import (
    PendingSend as PendingSend,
)
from secure_send.client.send_upload import (
    Progress as Progress,
)
from secure_send.client.send_upload import (
    create_upload_if_needed as create_upload_if_needed,
)
from secure_send.client.send_upload import (
    finish as finish,
)
from secure_send.client.send_upload import (
    forget as forget,
)
from secure_send.client.send_upload import (
    pending_sends as pending_sends,
)
from secure_send.client.send_upload import (
    set_aside as set_aside,
)
from secure_send.client.suite_crypto import SendKeys, send_keys
from secure_send.core.age.x25519 import X25519Recipient
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.directory.errors import DirectoryError
from secure_send.core.directory.model import Entry, Kind
from secure_send.core.encoding import format_time, utc_now
from secure_send.core.envelope.manifest import (
    Blob,
    Classification,
    Manifest,
    RecipientRef,
    new_drop_id,
)
from secure_send.core.error_codes import ErrorCode

if TYPE_CHECKING:  # session.py builds on this module's neighbours; only the type here
    from secure_send.client.session import Session

METADATA_BLOB = "m"
METADATA_TYPE = "secure-send/metadata/v1"


class RecipientError(ClientError):
    """A ``--to`` id that cannot receive; the message lists close matches. ``recipient``
    is that id (the app names it in its sentence), "" when no single one is to blame."""

    def __init__(self, code: ErrorCode, message: str, recipient: str = "") -> None:
        super().__init__(code, message)
        self.recipient = recipient


@dataclass(frozen=True)
class FileToSend:
    """A plaintext file, the relative name it is sent under (``a/b.txt``), its size
    when collected, and the blob id it travels as (``f1``, ``f2``, … — progress is
    reported by blob id, so the app labels its bars with these)."""

    path: Path
    name: str
    size: int
    blob_id: str


def collect(paths: Sequence[Path]) -> list[FileToSend]:
    """Files as given, once (the confirm sheet, the progress bars and the send all use
    this list); a folder is sent as its files, names relative to its parent."""
    found: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                found.append((child, child.relative_to(path.parent).as_posix()))
        elif path.is_file():
            found.append((path, path.name))
        else:
            raise ClientError(ErrorCode.NO_SUCH_FILE, f"{path}: no such file or folder")
    if not found:
        raise ClientError(ErrorCode.NOTHING_TO_SEND, "no files to send")
    return [FileToSend(p, name, _size(p), f"f{i}") for i, (p, name) in enumerate(found, 1)]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        raise ClientError(ErrorCode.NO_SUCH_FILE, f"{path}: no such file or folder") from None


def resolve_recipients(directory: Directory, ids: Sequence[str], sender: str) -> list[Entry]:
    """The persons ``ids`` name (roles expanded), each active with an active device and
    every device key binding verified (a forged one stops the send: nobody is ever
    encrypted to an unverified key)."""
    try:
        return _resolve(directory, ids, sender)
    except DirectoryError as err:
        raise unverified(err) from None


def _resolve(directory: Directory, ids: Sequence[str], sender: str) -> list[Entry]:
    entries = directory.by_id()
    people: dict[str, Entry] = {}
    for wanted in ids:
        entry = entries.get(wanted)
        if entry is None or not entry.active:
            raise RecipientError(
                ErrorCode.UNKNOWN_RECIPIENT,
                _not_found(directory, wanted, entry is not None),
                recipient=wanted,
            )
        members = [entries.get(m) for m in entry.members] if entry.kind is Kind.ROLE else [entry]
        reachable = [
            p
            for p in members
            if p is not None and p.active and p.active_devices() and p.id != sender
        ]  # a role member without keys cannot open anything
        people.update((person.id, person) for person in reachable)
        if entry.kind is Kind.ROLE and not reachable:  # not silently skipped beside others
            raise RecipientError(
                ErrorCode.RECIPIENT_NOT_ENROLLED,
                f"no member of the role mailbox {wanted} other than you has an enrolled device",
            )
        if entry.kind is Kind.PERSON and not entry.active_devices():
            raise RecipientError(
                ErrorCode.RECIPIENT_NOT_ENROLLED,
                f"{wanted} has no enrolled device yet and cannot receive files",
                recipient=wanted,
            )
    if not people:
        raise RecipientError(ErrorCode.NO_RECIPIENT, "nobody to send to")
    return list(people.values())


def _not_found(directory: Directory, wanted: str, departed: bool) -> str:
    why = "has left (not active)" if departed else "is not in the verified directory"
    close = [m.entry.id for m in directory.search_index().search(wanted, limit=5)]
    hint = f"; did you mean: {', '.join(close)}" if close else ""
    return f"{wanted} {why}{hint}"


def _encryption_targets(
    directory: Directory, to: Sequence[str], me: DeviceIdentity
) -> tuple[list[Entry], Entry | None]:
    """The recipient persons and this person's own entry, each handed out by the
    directory only after its device key bindings verified."""
    people = resolve_recipients(directory, to, me.user)
    try:
        return people, directory.by_id().get(me.user)
    except DirectoryError as err:
        raise unverified(err) from None


def prepare(
    session: Session,
    directory: Directory,
    files: Sequence[FileToSend],
    to: Sequence[str],
    *,
    expires: dt.timedelta,
    message: str = "",
    classification: Classification = Classification.C2,
    request: str | None = None,
    mynumber: MyNumberCheck | None = None,
) -> PendingSend:
    """Measure every file under a fresh header, encrypt the metadata into the outbox,
    sign the manifest and write the resume file (no network; nothing is left behind
    if it fails).

    Files with My Numbers (:mod:`.mynumber`) go only to designated recipients, at 機密性3
    and the policy's shorter expiry: ``mynumber`` is the check the app showed on its
    confirm sheet; without one (the CLI, a submission) the files are checked here. A
    blocked send raises :class:`.mynumber.MyNumberBlocked` before anything is written."""
    profile, me, keys = session.profile, session.me, session.keys
    if not directory.fresh:
        raise ClientError(
            ErrorCode.DIRECTORY_STALE,
            "the directory could not be refreshed from the server; try again",
        )
    people, own = _encryption_targets(directory, to, me)
    verdict = mynumber or check_mynumber(session, directory, files, to)
    if verdict.blocked:
        raise verdict.refusal()
    expires, classification = verdict.forced(expires, classification)
    # 上長承認: the approvers read what they approve, so they are recipients too
    # a submission goes where the desk's signed request says: nobody chose its recipients,
    # so there is nothing for a superior to check (and the desk's recipients verify it)
    asked = (
        approval_plan(session, directory, people, classification, verdict.contains)
        if request is None
        else None
    )
    added = [a.id for a in asked.approvers if a not in people] if asked else []
    people += resolve_recipients(directory, added, me.user) if added else []
    if own is None or not any(d.id == me.device for d in own.active_devices()):
        raise ClientError(
            ErrorCode.REVOKED_DEVICE, "this device is no longer active in the directory"
        )
    # one suite per drop, chosen once the classification is final (My Numbers force 機密性3)
    suite = session.it_policy.suite.for_classification(classification)
    recipients = send_keys(suite, [*people, own])  # suite_unavailable: before any write
    drop_id = new_drop_id()
    outbox = profile.outbox_dir / drop_id
    outbox.mkdir(parents=True, mode=0o700)
    try:
        with leftovers.preparing(outbox):  # a sweep by another process leaves it be
            blobs, listing, records = _measure(files, recipients, keys, outbox)
            metadata = {
                "type": METADATA_TYPE,
                "files": listing,
                "message": message,
                "classification": classification.value,
                # whom the sender chose (roles with their members): the manifest lists
                # only persons (client/chosen.py)
                "to": [c.to_json() for c in _chosen(directory, [*to, *added], people, me.user)],
            }
            blobs.insert(0, _write_metadata(outbox / METADATA_BLOB, metadata, recipients))
            records[METADATA_BLOB] = {"file": str(outbox / METADATA_BLOB), "upload": None}
            manifest = _manifest(drop_id, me, people, blobs, directory, expires, classification)
            manifest = dataclasses.replace(manifest, suite=suite)  # signed: what every blob is
            if request is not None:  # a submission: the manifest signs which request
                manifest = dataclasses.replace(manifest, request=request)
            if asked is not None:  # signed: the server can neither skip nor redirect it
                manifest = dataclasses.replace(manifest, approval=asked.requirement)
            if verdict.contains:  # signed counts for the server's audit log, never numbers
                manifest = dataclasses.replace(
                    manifest,
                    mynumber_files=len(verdict.holding),
                    mynumber_count=verdict.numbers,
                )
            signed = manifest.sign(keys.signing)
            keys_now = key_hashes(people)
            pending = PendingSend(drop_id, signed.to_json(), records, recipient_keys=keys_now)
            profile.write_json(profile.resume_dir / f"{drop_id}.json", pending.to_json())
    except BaseException:
        shutil.rmtree(outbox, ignore_errors=True)
        raise
    return pending


def suite_for(
    session: Session,
    directory: Directory,
    to: Sequence[str],
    classification: Classification,
    approvers: Sequence[str] = (),
) -> str:
    """The suite a send to ``to`` (and ``approvers``) at the final ``classification``
    goes in under this machine's policy, as :func:`prepare` will choose it (the app's
    confirm sheet says it); raises :class:`.suite_crypto.SuiteUnavailable` where a device
    to encrypt to has no P-256 key, and what :func:`resolve_recipients` raises."""
    people, own = _encryption_targets(directory, to, session.me)
    added = [a for a in approvers if a not in {p.id for p in people}]
    people += resolve_recipients(directory, added, session.me.user) if added else []
    suite = session.it_policy.suite.for_classification(classification)
    send_keys(suite, [*people, own] if own is not None else people)
    return suite


def check_mynumber(
    session: Session,
    directory: Directory,
    files: Sequence[FileToSend],
    to: Sequence[str],
    *,
    cancelled: Callable[[], bool] = lambda: False,
    progress: Callable[[int, int], None] | None = None,
) -> MyNumberCheck:
    """``files`` checked for My Numbers and ``to`` judged against ``directory`` under this
    machine's IT policy (:func:`.mynumber.check`): what the app, the CLI and
    :func:`prepare` each call."""
    try:
        entries = directory.by_id()
    except DirectoryError as err:
        raise unverified(err) from None
    items = [(f.path, f.name) for f in files]
    rules = session.it_policy.mynumber
    return mynumber_check(items, entries, to, rules, cancelled=cancelled, progress=progress)


def approval_plan(
    session: Session,
    directory: Directory,
    people: Sequence[Entry],
    classification: Classification,
    holds_mynumbers: bool,
) -> ApprovalPlan | None:
    """The superior's approval (上長承認) a send to ``people`` needs under this machine's
    IT policy, or None (:func:`.approval.plan`): what :func:`prepare` signs, and what the
    app's confirm sheet and the CLI say before sending."""
    try:
        entries = directory.by_id()
    except DirectoryError as err:
        raise unverified(err) from None
    rules = session.it_policy.approval
    return plan(entries, rules, session.me.user, people, classification, holds_mynumbers)


def _chosen(
    directory: Directory, to: Sequence[str], people: Sequence[Entry], sender: str
) -> list[Chosen]:
    try:
        entries = directory.by_id()
    except DirectoryError as err:
        raise unverified(err) from None
    return chosen_for(entries, to, {p.id for p in people}, sender)


def _manifest(
    drop_id: str,
    me: DeviceIdentity,
    people: Sequence[Entry],
    blobs: Sequence[Blob],
    directory: Directory,
    expires: dt.timedelta,
    classification: Classification,
) -> Manifest:
    """The drop's manifest (unsigned): who, what, until when, and the directory view
    it was made with."""
    now = utc_now()
    checkpoint = directory.verified.checkpoint
    return Manifest(
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
        suite="age-x25519-v1",  # prepare() sets the policy's
        directory_epoch=checkpoint.epoch,
        directory_header=checkpoint.header_hash,
        # the log head recipients check for a split view (client/split_view.py)
        log_size=checkpoint.log_size,
        log_root=checkpoint.log_root,
    )


def _measure(
    files: Sequence[FileToSend], recipients: SendKeys, keys: DeviceKeys, outbox: Path
) -> tuple[list[Blob], list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Blobs, the metadata's file list and the resume records of the files."""
    blobs: list[Blob] = []
    listing = []
    records: dict[str, dict[str, Any]] = {}
    own_key = X25519Recipient(bytes(keys.encryption.public_key))
    for item in files:
        blob_id = item.blob_id
        stat = item.path.stat()
        cipher = recipients.prepare()
        # the ciphertext is made again while uploading (blob_source.py): only its hash now
        measured = measure(cipher, item.path)
        blobs.append(Blob(blob_id, "file", measured.sha256, measured.size))
        # the tags the upload checks before any byte leaves (chunk_tags.py, cipher_units.py)
        tags = outbox / f"{blob_id}.tags"
        tags.write_bytes(measured.tags)
        listing.append({"blob": blob_id, "name": item.name, "size": stat.st_size})
        records[blob_id] = {
            "source": str(item.path.resolve()),
            "source_size": stat.st_size,
            "source_mtime_ns": stat.st_mtime_ns,
            "tags": str(tags),
            # suite, header (nonce) and the file key, readable only with this device's
            # key (to resume after a restart)
            **cipher.record(own_key),
            "upload": None,
        }
    return blobs, listing, records


def _write_metadata(path: Path, metadata: dict[str, Any], recipients: SendKeys) -> Blob:
    # small (names, sizes, a message): encrypted in memory, then kept for the upload
    ciphertext = recipients.encrypt_small(json.dumps(metadata, ensure_ascii=False).encode())
    path.write_bytes(ciphertext)
    return Blob(METADATA_BLOB, "metadata", hashlib.sha256(ciphertext).digest(), len(ciphertext))
