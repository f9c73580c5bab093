"""Receiving: verify → download → check hashes → decrypt atomically → signed receipt.

Guarantees: nothing is decrypted before the manifest verified against the
verified directory (the sending device was active and made the signature) and
names this device, and before the sender's signed directory log head proved
consistent with this device's own (:mod:`.split_view`: a split view, or a head
that could not be checked, makes the drop dangerous); every blob's SHA-256
must equal the manifest's before it is decrypted; each blob is opened in the suite
the signed manifest names (age v1 or CMS, :mod:`.suite_crypto`: both are accepted
whatever this machine's own policy sends in); each file is decrypted into a
hidden temporary file beside its target and renamed only when complete and
authenticated (a CMS message's single tag comes at its end, so until then its
plaintext is unauthenticated and stays in that hidden file; never overwriting:
``a.txt`` becomes ``a (1).txt``); names from
the (encrypted, sender-written) metadata are sanitised, so no path can leave
the chosen folder. The receipt is signed by this device over the exact blob
hashes and this device's directory log head; it is recorded in the profile before
it is posted, so a server gone at that moment gets it later (:mod:`.receipts`) and a
retried receive does not save the files twice. Where IT's policy asks for it, every
decrypted file is virus-scanned in its hidden temporary file before any name appears
(:mod:`.antivirus`): a threat saves nothing of the drop and is reported to the server's
audit (the drop and the scanner, never a file name).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from secure_send.client import antivirus, approval, leftovers, receipts
from secure_send.client.api import ServerApi
from secure_send.client.approval import ApprovalStatus
from secure_send.client.approval_rules import ApprovalRules
from secure_send.client.directory_sync import Directory
from secure_send.client.errors import ClientError, DangerousDrop, ServerError
from secure_send.client.profile import DeviceIdentity
from secure_send.client.send import METADATA_BLOB, METADATA_TYPE, Progress
from secure_send.client.split_view import SplitViewCheck, drop_problem
from secure_send.client.suite_crypto import decrypt_small, decrypt_stream
from secure_send.client.transfer import StreamingDownload, check_blob, fetch_small
from secure_send.core.atomic import AtomicOutput, OutputExistsError
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.directory.errors import DirectoryError
from secure_send.core.display import unsafe
from secure_send.core.encoding import format_time, parse_time, utc_now
from secure_send.core.envelope.manifest import (
    DROP_ID,
    Blob,
    EnvelopeError,
    Manifest,
    SignedManifest,
)
from secure_send.core.envelope.receipt import Receipt
from secure_send.core.error_codes import ErrorCode

if TYPE_CHECKING:  # the session is built on this module's neighbours; only the type here
    from secure_send.client.session import Session
from secure_send.core.errors import SecureSendError

log = logging.getLogger(__name__)
MAX_METADATA = 4 * 1024 * 1024
# Windows' reserved device names: also with superscript digits (COM¹) and with spaces
# before the extension ("CON .txt"), which Windows trims and still opens the device.
_RESERVED = re.compile(r"(?i)^(con|prn|aux|nul|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³]) *(\..*)?$")


@dataclass(frozen=True)
class Received:
    """What was saved."""

    drop_id: str
    sender: str
    message: str
    files: list[Path]
    receipt_pending: bool = False  # saved, but the server could not be told yet
    already_saved: bool = False  # saved by an earlier run: nothing was saved again
    # policy "warn" and the virus scanner could not scan: saved unscanned, and why
    not_scanned: str | None = None

    @property
    def programs(self) -> list[Path]:
        """The saved files that run when opened (to be flagged: see :func:`is_program`)."""
        return [f for f in self.files if is_program(f.name)]


# Files that run code when double-clicked (Windows, macOS, Linux desktops), shortcuts
# that point elsewhere, and disk images that mount such files: a clerk expects
# documents, so each is flagged on save. Office files with macros are not listed (the
# 年末調整 workbooks are .xlsm); Office's own macro warning applies to them.
_PROGRAMS = """
    exe com scr pif bat cmd vbs vbe js jse wsf wsh ws msi msp mst ps1 psm1 psd1 hta cpl
    jar lnk url scf reg dll sys inf appx msix appref-ms application gadget chm iso img
    vhd vhdx app command tool pkg dmg sh desktop run appimage
"""
PROGRAM_SUFFIXES = frozenset(_PROGRAMS.split())


def is_program(name: str) -> bool:
    """Whether a (saved, sanitised) file name is one that runs when opened; the last
    suffix decides, so ``report.pdf.exe`` is one."""
    suffix = name.rsplit(".", 1)[-1].casefold() if "." in name else ""
    return suffix in PROGRAM_SUFFIXES


def safe_part(name: str) -> str:
    """One path component made safe: no separators, ``..``, control characters (C0 and
    C1), invisible format characters (bidi overrides and isolates, zero-width ones: they
    disguise ``invoice\u202efdp.exe`` as "invoiceexe.pdf") or Windows reserved names;
    never empty. Each character removed becomes a visible ``_``."""
    name = unicodedata.normalize("NFC", name)
    name = "".join("_" if _unsafe(c) else c for c in name)
    name = name.strip().rstrip(".")
    if name in {"", ".", ".."}:
        name = "_"
    if _RESERVED.match(name):
        name = "_" + name
    return name[:200]


def _unsafe(c: str) -> bool:
    # path characters, and what a screen would obey or not show (core.display: controls,
    # bidi and zero-width format characters, separators), which change how a name reads
    return c in '\\/:*?"<>|' or unsafe(c)


def safe_relative(name: str) -> Path:
    """A sender-written relative path, each part sanitised (folders kept)."""
    parts = [safe_part(p) for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("/",)]
    return Path(*parts) if parts else Path("_")


def verify_drop(
    directory: Directory,
    me: DeviceIdentity,
    drop_id: str,
    signed: Any,
    views: SplitViewCheck,
    *,
    rules: ApprovalRules,
    server_approval: Any = None,
    requests: approval.FindRequest | None = None,
) -> tuple[Manifest, ApprovalStatus]:
    """The drop's signed manifest, verified, naming this device, and signed over a
    directory history consistent with this device's (checked by ``views``, made for
    ``directory``'s checkpoint), with its approval (上長承認) judged under ``rules`` from
    the server's ``server_approval`` (:func:`.approval.judge`; a submission's file request
    looked up with ``requests``); else :class:`DangerousDrop`."""
    try:
        entries = directory.by_id()
        manifest = SignedManifest.from_json(signed).verify(entries)
    except (EnvelopeError, DirectoryError, KeyError, TypeError) as err:  # incl. a forged binding
        raise DangerousDrop(
            ErrorCode.UNVERIFIED_DROP, f"this drop failed verification: {err}"
        ) from None
    if manifest.drop_id != drop_id:
        raise DangerousDrop(ErrorCode.UNVERIFIED_DROP, "the server mixed up drops")
    if parse_time(manifest.expires) <= utc_now():  # the server should have stopped serving it
        raise DangerousDrop(ErrorCode.EXPIRED, "the sender's time limit for this drop has passed")
    mine = manifest.sender == me.user  # sent to our own devices too, to reopen it later
    if not mine and not any(
        r.user == me.user and me.device in r.devices for r in manifest.recipients
    ):
        raise DangerousDrop(
            ErrorCode.NOT_FOR_THIS_DEVICE, "this drop was not encrypted for this device"
        )
    # the signature above authenticates the sender's log head this compares
    problem = drop_problem(views.verdict(manifest.log_head))
    if problem is not None:
        raise DangerousDrop(*problem)
    return manifest, approval.judge(manifest, server_approval, entries, rules, me.user, requests)


def fetch_verified(
    session: Session, directory: Directory, drop_id: str
) -> tuple[Manifest, ApprovalStatus]:
    """Fetch one drop's manifest (and, when it asks for one, its approval) and verify
    both (:func:`verify_drop`); split-view checks are remembered in the profile."""
    api = session.api
    try:
        signed = api.drop(drop_id)
    except ServerError as err:
        if err.code in (ErrorCode.RECALLED, ErrorCode.EXPIRED):
            raise ClientError(
                err.code, f"the sender {err.code} this drop; nothing to save"
            ) from None
        raise
    views = SplitViewCheck(api, directory.verified.checkpoint, session.profile)
    verified = verify_drop(
        directory,
        session.me,
        drop_id,
        signed,
        views,
        rules=session.it_policy.approval,
        server_approval=approval.server_approval(session, signed),
        requests=approval.request_finder(session, directory),
    )
    views.save()
    return verified


def receive(
    session: Session,
    directory: Directory,
    drop_id: str,
    target: Path,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> Received:
    """Receive one drop into ``target`` with the ``directory`` given (the session's
    latest, or the one the caller showed the drop with); see the module docstring.
    Verified split-view checks are remembered in the session's profile."""
    api, me, keys, profile = session.api, session.me, session.keys, session.profile
    done = receipts.saved(profile, drop_id) if DROP_ID.fullmatch(drop_id) else None
    if done is not None:  # saved by an earlier run that could not tell the server
        receipts.post(profile, api, done)
        return Received(drop_id, done.sender, done.message, done.files, already_saved=True)
    manifest, _ = fetch_verified(session, directory, drop_id)
    fetch = _Fetcher(api, drop_id, keys, progress, cancel, session.it_policy.antivirus)
    leftovers.sweep_partials(profile)  # what a killed receive left, maybe in this folder
    journal = leftovers.PartialJournal(profile)
    try:
        metadata = fetch.metadata(manifest)
        saved = fetch.files(manifest, metadata, target, journal.record)
    except ServerError as err:
        if err.code == ErrorCode.BLOB_LOST:
            raise ClientError(
                ErrorCode.BLOB_LOST,
                "the drop server lost this file (its stored copy is missing); nothing was"
                " saved; tell IT",
            ) from None
        raise
    finally:
        journal.close()
    message = str(metadata.get("message", ""))
    if manifest.sender == me.user:  # receipts are for recipients
        return Received(drop_id, manifest.sender, message, saved, not_scanned=fetch.not_scanned)
    # recorded first: a server gone now must not make the next receive save it again
    owed = receipts.Owed(
        drop_id, _receipt(me, keys, manifest, directory), manifest.sender, message, saved
    )
    receipts.owe(profile, owed)
    sent = receipts.post(profile, api, owed)
    return Received(
        drop_id,
        manifest.sender,
        message,
        saved,
        receipt_pending=not sent,
        not_scanned=fetch.not_scanned,
    )


def fetch_metadata(
    api: ServerApi,
    manifest: Manifest,
    keys: DeviceKeys,
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    """The decrypted metadata blob of a verified drop, its hash checked against the
    manifest first (the Inbox and Sent details: :mod:`.drop_details`)."""
    return _Fetcher(api, manifest.drop_id, keys, None, cancel).metadata(manifest)


@dataclass
class _Fetcher:
    """Downloads and decrypts the blobs of one verified drop."""

    api: ServerApi
    drop_id: str
    keys: DeviceKeys  # this device's: X25519 for age blobs, P-256 for CMS ones
    progress: Progress | None
    cancel: threading.Event | None
    scan_mode: str = "off"  # IT's policy for the virus scan (client/antivirus.py)
    scanner: Callable[[], antivirus.Scanner] = antivirus.platform_scanner
    not_scanned: str | None = field(default=None, init=False)  # set by files() under "warn"

    def _moved(self, blob: Blob) -> Callable[[int], None]:
        def report(done: int) -> None:
            if self.progress is not None:
                self.progress(blob.id, done, blob.size)

        return report

    def metadata(self, manifest: Manifest) -> dict[str, Any]:
        """The decrypted metadata blob (names, message), hash-checked first."""
        blob = next((b for b in manifest.blobs if b.id == METADATA_BLOB), None)
        if blob is None or blob.size > MAX_METADATA:
            raise DangerousDrop(
                ErrorCode.UNVERIFIED_DROP, "the drop's metadata blob is missing or too large"
            )
        path = self.api.blob_path(self.drop_id, blob.id)
        fetched = fetch_small(
            self.api, path, blob.size, blob.sha256, self._moved(blob), self.cancel
        )
        return _metadata(fetched, manifest.suite, self.keys)

    def files(
        self,
        manifest: Manifest,
        metadata: dict[str, Any],
        target: Path,
        record: Callable[[Path], None],
    ) -> list[Path]:
        """Every file, decrypted into hidden temporary files (each recorded by ``record``
        before it is made), virus-scanned there as policy says, then all placed together;
        on any failure none is placed and folders made for them are removed again."""
        blobs = {b.id: b for b in manifest.blobs}
        target.mkdir(parents=True, exist_ok=True)
        outputs: list[AtomicOutput] = []
        made: list[Path] = []
        taken: set[str] = set()  # names this drop already claimed (case-folded)
        placed: list[Path] = []
        try:
            for item in metadata["files"]:
                blob = blobs.get(str(item.get("blob")))
                if blob is None or blob.id == METADATA_BLOB:
                    raise DangerousDrop(
                        ErrorCode.UNVERIFIED_DROP,
                        "the metadata names a file that is not in the drop",
                    )
                destination = target / safe_relative(str(item["name"]))
                made += _make_folders(target, destination.parent)
                outputs.append(_new_output(destination, taken, record))
                path = self.api.blob_path(self.drop_id, blob.id)
                opener = _Opener(manifest.suite, self.keys)
                moved = self._moved(blob)
                _save_blob(self.api, path, blob, opener, outputs[-1], moved, self.cancel)
            # scanned sealed and hidden: a threat is deleted before any name appears
            temps = [out.temp_path for out in outputs]
            self.not_scanned = antivirus.check(temps, self.scan_mode, self.scanner)
            for out in outputs:  # every file checked out: only now do names appear
                out.commit()
                placed.append(out.target)
        except BaseException as err:
            for out in outputs:
                out.discard()
            for done in placed:  # a name taken meanwhile by another program: all or none
                with contextlib.suppress(OSError):
                    done.unlink()
            for folder in reversed(made):
                with contextlib.suppress(OSError):
                    folder.rmdir()
            if isinstance(err, antivirus.MalwareFound):  # told once nothing is left
                self._report(err)
            raise
        return [o.target for o in outputs]

    def _report(self, found: antivirus.MalwareFound) -> None:
        """Tell the server's audit of the threat (the drop and the scanner: no file name).
        A server that cannot be told must not hide the threat from the person: the
        caller raises it either way."""
        try:
            self.api.report_malware(self.drop_id, found.scanner)
        except ClientError as err:
            log.warning("the drop server could not be told of the threat: %s", err)


def _make_folders(root: Path, folder: Path) -> list[Path]:
    """Create ``folder`` (inside ``root``); returns the folders that were new, outermost first."""
    new = [p for p in [folder, *folder.parents] if p.is_relative_to(root) and not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    return list(reversed(new))


def _new_output(destination: Path, taken: set[str], record: Callable[[Path], None]) -> AtomicOutput:
    """A hidden temporary file for ``destination``, or ``name (n).ext`` if it exists or
    another file of this drop claimed it (``taken``, case-folded: one name on Windows
    and macOS). Every name is reserved before any file is placed, so a drop naming a
    file twice saves both instead of failing half-way."""
    stem, suffix = destination.stem, destination.suffix
    for n in range(1000):
        candidate = destination if n == 0 else destination.with_name(f"{stem} ({n}){suffix}")
        key = str(candidate).casefold()
        if key in taken:
            continue
        try:
            output = AtomicOutput(candidate, before_create=record)
        except OutputExistsError:
            continue
        taken.add(key)
        return output
    raise ClientError(ErrorCode.NAME_TAKEN, f"{destination.name}: too many files with this name")


@dataclass(frozen=True)
class _Opener:
    """How this device opens the blobs of a drop in ``suite``."""

    suite: str
    keys: DeviceKeys


def _save_blob(
    api: ServerApi,
    path: str,
    blob: Blob,
    opener: _Opener,
    out: AtomicOutput,
    progress: Callable[[int], None],
    cancel: threading.Event | None,
) -> None:
    """Decrypt one blob into ``out`` (sealed, not yet placed) straight from the
    network, checking its hash; cuts are resumed by the download itself.

    Four things overlap: the download (a reader thread), hashing what it read (a
    thread of its own, each byte once), decryption (workers) and writing (here). The
    plaintext goes only to ``out``'s hidden temporary file, at most the manifest's size
    of ciphertext is read, and the caller places the file only after the check."""
    download = StreamingDownload(api, path, progress, cancel, limit=blob.size)
    digest = hashlib.sha256()

    def check() -> None:
        check_blob(download.have, digest.digest(), blob.size, blob.sha256)

    try:
        _decrypt_checked(download, out, opener, check, digest.update)
    finally:
        download.close()
    out.seal()


def _decrypt_checked(
    src: Any,
    out: AtomicOutput,
    opener: _Opener,
    check: Callable[[], None],
    observe: Callable[[memoryview], object],
) -> None:
    try:
        decrypt_stream(opener.suite, src, out.file, opener.keys, observe)
        check()
    except ClientError:
        raise
    except SecureSendError:  # not the age file (CMS message) the sender's manifest names
        raise ClientError(
            ErrorCode.BLOB_TAMPERED,
            "a downloaded file does not match the sender's signed manifest; nothing was saved",
        ) from None


def _metadata(ciphertext: bytes, suite: str, keys: DeviceKeys) -> dict[str, Any]:
    try:
        metadata = json.loads(decrypt_small(suite, ciphertext, keys))
    except ClientError:  # suite_unavailable: this device has no P-256 key yet
        raise
    except (SecureSendError, ValueError) as err:
        raise DangerousDrop(
            ErrorCode.UNVERIFIED_DROP, f"the drop's metadata cannot be opened: {err}"
        ) from None
    if not isinstance(metadata, dict) or metadata.get("type") != METADATA_TYPE:
        raise DangerousDrop(ErrorCode.UNVERIFIED_DROP, "the drop's metadata is not understood")
    if not isinstance(metadata.get("files"), list):
        raise DangerousDrop(ErrorCode.UNVERIFIED_DROP, "the drop's metadata lists no files")
    return metadata


def _receipt(
    me: DeviceIdentity, keys: DeviceKeys, manifest: Manifest, directory: Directory
) -> dict[str, Any]:
    """This device's signed receipt for ``manifest``'s exact blobs."""
    checkpoint = directory.verified.checkpoint  # the sender checks it against its own
    receipt = Receipt(
        drop_id=manifest.drop_id,
        user=me.user,
        device=me.device,
        blob_hashes=tuple(b.sha256 for b in manifest.blobs),
        time=format_time(utc_now()),
        log_size=checkpoint.log_size,
        log_root=checkpoint.log_root,
    ).signed_by(keys.signing)
    return receipt.to_json()
