"""The signed manifest of a drop, and recipients' signed download receipts.

Field by field: docs/formats.md, "Manifest, metadata and receipt".

A manifest says who sent what to whom: drop id, sender and sending device,
every recipient with the device keys the file key was wrapped to, each blob's
ciphertext SHA-256 and size, times, classification, the cipher suite, and the
directory snapshot the sender relied on, with that snapshot's event-log size and
Merkle root (so a recipient can catch a split view: see
:mod:`secure_send.client.split_view`). It is signed by the sending device's
Ed25519 key and verified against the verified directory *before* anything is
decrypted. It carries no file name, no message and no plaintext size: those
travel only inside the encrypted metadata blob.

A receipt is signed by a recipient device over {drop id, blob hashes, time}; the
sender shows a receipt only after verifying it: the server's word is never proof.
"""

from __future__ import annotations

import enum
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import nacl.signing

from secure_send.core.directory.model import Device, Entry, Kind, check_id
from secure_send.core.encoding import EncodingError, b64u, parse_time, unb64u
from secure_send.core.errors import SecureSendError
from secure_send.core.signing import signature_valid, signed_message

MANIFEST_TYPE = "secure-send/manifest/v1"
RECEIPT_TYPE = "secure-send/receipt/v1"
AGE_SUITE = "age-x25519-v1"  # age v1: X25519, ChaCha20-Poly1305 (core/age)
CMS_SUITE = "cms-p256-aes256gcm-v1"  # CRYPTREC: CMS, ECDH P-256, AES-256-GCM (core/cms)
SUITES = frozenset({AGE_SUITE, CMS_SUITE})  # one per drop: every blob in it
DROP_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
MAX_LOG_SIZE = 2**63 - 1  # log sizes are counts of events; anything larger is malformed
BLOB_ID = re.compile(r"[a-z0-9]{1,16}")
SPI_FIELD = "specific_personal_info"  # the manifest's My Number counts (issue 19)
# below 10**9: a count can never spell a 12-digit individual number (nor its hash)
MAX_MYNUMBER_COUNT = 999_999_999
APPROVAL_FIELD = "approval_required"  # 上長承認 (issue 20): see ApprovalRequired
# why a send needs approval: a classification's value, My Number content, or a
# recipient outside the sender's department (policy key approval_for)
APPROVAL_REASONS = frozenset({"c1", "c2", "c3", "mynumber", "outside_department"})
MAX_APPROVERS = 100


class EnvelopeError(SecureSendError):
    """A manifest or receipt is malformed or does not verify; nothing may be decrypted."""


class Classification(enum.Enum):
    """Confidentiality levels of the Japanese government standard (機密性1, 2, 3)."""

    C1 = "c1"
    C2 = "c2"
    C3 = "c3"


def new_drop_id() -> str:
    """A random, unguessable drop id (128 bits) that starts with a letter or digit:
    an id starting with ``-`` would be read as an option on command lines."""
    while True:
        drop_id = secrets.token_urlsafe(16)
        if drop_id[0].isalnum():
            return drop_id


@dataclass(frozen=True)
class Blob:
    """One uploaded ciphertext: a file, or the encrypted metadata (``kind="metadata"``)."""

    id: str
    kind: str  # "file" or "metadata"
    sha256: bytes
    size: int

    def to_json(self) -> dict[str, Any]:
        """Canonical JSON object."""
        return {"id": self.id, "kind": self.kind, "sha256": b64u(self.sha256), "size": self.size}


@dataclass(frozen=True)
class ApprovalRequired:
    """A send that waits for a superior's approval (上長承認): ``by`` is the sender's
    approver as the directory names it (a person, or a role mailbox of approvers),
    ``approvers`` the persons it stood for when sent — each also a recipient, so they
    can read what they approve — and ``reasons`` why policy asked (sorted)."""

    by: str
    approvers: tuple[str, ...]
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """Canonical JSON object."""
        return {"approvers": list(self.approvers), "by": self.by, "reasons": list(self.reasons)}

    @classmethod
    def from_json(cls, obj: Any) -> ApprovalRequired:
        """Strictly parse; raises :class:`EnvelopeError`."""
        if not isinstance(obj, dict) or set(obj) != {"approvers", "by", "reasons"}:
            raise EnvelopeError("invalid approval requirement")
        approvers, reasons = obj["approvers"], obj["reasons"]
        if not isinstance(approvers, list) or not isinstance(reasons, list):
            raise EnvelopeError("invalid approval requirement")
        if not 1 <= len(approvers) <= MAX_APPROVERS or len(set(approvers)) != len(approvers):
            raise EnvelopeError("invalid approvers")
        # sorted and once each, so that the parsed requirement signs as the same bytes
        if not reasons or reasons != sorted(set(reasons)) or not set(reasons) <= APPROVAL_REASONS:
            raise EnvelopeError("invalid approval reasons")
        try:
            return cls(
                by=check_id(obj["by"], "approver"),
                approvers=tuple(check_id(a, "approver") for a in approvers),
                reasons=tuple(reasons),
            )
        except SecureSendError:
            raise EnvelopeError("invalid approver id") from None


@dataclass(frozen=True)
class RecipientRef:
    """A recipient person and the device ids the file key was wrapped to."""

    user: str
    devices: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """Canonical JSON object."""
        return {"user": self.user, "devices": list(self.devices)}


class SignedLogHead:
    """A signed document's log head (``log_size``, ``log_root`` fields of the dataclass
    that mixes this in): both or neither (neither only in documents of older clients)."""

    log_size: int | None
    log_root: bytes | None

    def __post_init__(self) -> None:
        if (self.log_size is None) != (self.log_root is None):
            raise EnvelopeError("a log head needs both its size and its root")

    @property
    def log_head(self) -> tuple[int, bytes] | None:
        """The signer's (log size, log root), or None (an older client's document)."""
        if self.log_size is None or self.log_root is None:
            return None
        return self.log_size, self.log_root


@dataclass(frozen=True)
class Manifest(SignedLogHead):
    """What the sending device signs."""

    drop_id: str
    sender: str
    sender_device: str
    recipients: tuple[RecipientRef, ...]
    blobs: tuple[Blob, ...]
    created: str
    expires: str
    classification: Classification
    suite: str
    directory_epoch: int
    directory_header: str  # body hash of the snapshot header the sender verified
    # The sender's verified log head (size, Merkle root). None only in manifests made
    # before split views were checked: recipients show those as dangerous (uncheckable).
    log_size: int | None = None
    log_root: bytes | None = None
    # The file request (提出依頼) this drop answers, or None for an ordinary send. Signed,
    # so neither the server nor another submitter can move a submission to another request.
    request: str | None = None
    # Specific personal information (個人番号, issue 19): how many files held likely My
    # Numbers and how many, as the sender's check counted them — never a number. Signed, so
    # the server's audit log records it as the sender said it and cannot drop or add it;
    # absent (0, 0) from every other drop, whose bytes are unchanged.
    mynumber_files: int = 0
    mynumber_count: int = 0
    # 上長承認 (issue 20): present when policy asked for a superior's approval. Signed, so
    # the server can neither drop the requirement nor name another approver; recipients
    # also recompute it from their own directory and policy (client/approval.py)
    approval: ApprovalRequired | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        files, count = self.mynumber_files, self.mynumber_count
        if (files == 0) != (count == 0) or not 0 <= files <= count <= MAX_MYNUMBER_COUNT:
            raise EnvelopeError("invalid specific personal information counts")

    @property
    def contains_specific_personal_info(self) -> bool:
        """The sender's check found My Numbers in this drop's files."""
        return self.mynumber_count > 0

    def body(self) -> dict[str, Any]:
        """The signed JSON object."""
        directory: dict[str, Any] = {"epoch": self.directory_epoch, "header": self.directory_header}
        if self.log_size is not None and self.log_root is not None:
            directory |= {"log_size": self.log_size, "log_root": b64u(self.log_root)}
        body: dict[str, Any] = {
            "type": MANIFEST_TYPE,
            "drop_id": self.drop_id,
            "sender": {"user": self.sender, "device": self.sender_device},
            "recipients": [r.to_json() for r in self.recipients],
            "blobs": [b.to_json() for b in self.blobs],
            "created": self.created,
            "expires": self.expires,
            "classification": self.classification.value,
            "suite": self.suite,
            "directory": directory,
        }
        if self.request is not None:  # absent from ordinary sends: their bytes are unchanged
            body["request"] = self.request
        if self.contains_specific_personal_info:
            body[SPI_FIELD] = {"files": self.mynumber_files, "numbers": self.mynumber_count}
        if self.approval is not None:
            body[APPROVAL_FIELD] = self.approval.to_json()
        return body

    def sign(self, key: nacl.signing.SigningKey) -> SignedManifest:
        """Sign with the sending device's key."""
        return SignedManifest(self, key.sign(signed_message(MANIFEST_TYPE, self.body())).signature)


def verify_signature(key: bytes, message: bytes, sig: bytes, what: str) -> None:
    if not signature_valid(key, message, sig):
        raise EnvelopeError(f"{what} signature does not verify")


@dataclass(frozen=True)
class SignedManifest:
    """A manifest with the sending device's signature."""

    manifest: Manifest
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        """For sending to the server."""
        return {"body": self.manifest.body(), "sig": b64u(self.signature)}

    @classmethod
    def from_json(cls, obj: Any) -> SignedManifest:
        """Strictly parse; raises :class:`EnvelopeError`."""
        try:
            return cls(_parse_manifest(obj["body"]), unb64u(obj["sig"], 64))
        except (KeyError, TypeError, ValueError, EncodingError, SecureSendError) as err:
            if isinstance(err, EnvelopeError):
                raise
            raise EnvelopeError(f"malformed manifest ({err})") from None

    def verify(self, directory: Mapping[str, Entry]) -> Manifest:
        """Check the manifest against a *verified* directory; return it if it holds.

        Checks: known suite; the sender is an active person whose named device is
        active and made the signature; every recipient is an active person and
        every listed device is one of their active devices; expiry after creation.

        Raises:
            EnvelopeError: any check fails (the drop must be shown as dangerous).
        """
        m = self.manifest
        sender = directory.get(m.sender)
        device = active_device(sender, m.sender_device, "sender")
        verify_signature(
            device.sign_key, signed_message(MANIFEST_TYPE, m.body()), self.signature, "manifest"
        )
        if not m.recipients:
            raise EnvelopeError("the manifest names no recipient")
        for ref in m.recipients:
            person = directory.get(ref.user)
            if not ref.devices:  # nobody could open it: a person without keys is no recipient
                raise EnvelopeError(f"recipient {ref.user!r} lists no device")
            for device_id in ref.devices:
                active_device(person, device_id, "recipient")
        if parse_time(m.expires) <= parse_time(m.created):
            raise EnvelopeError("manifest expires before it was created")
        if m.approval is not None:  # an approver reads what they approve: a recipient
            listed = {r.user for r in m.recipients}
            if m.sender in m.approval.approvers or not set(m.approval.approvers) <= listed:
                raise EnvelopeError("an approver is the sender or not a recipient")
        return m

    def verify_sent_by(self, me: Entry | None) -> Manifest:
        """The manifest, if ``me`` sent it: one of their devices (a revoked one too —
        it was theirs when they sent) made the signature. For the sender's own list of
        sends, where the drop server hands back its copy.

        Raises:
            EnvelopeError: another sender, an unknown device, or a bad signature.
        """
        m = self.manifest
        devices = [d for d in me.devices if d.id == m.sender_device] if me is not None else []
        if me is None or m.sender != me.id or not devices:
            raise EnvelopeError("the manifest was not sent by this person")
        verify_signature(
            devices[0].sign_key, signed_message(MANIFEST_TYPE, m.body()), self.signature, "manifest"
        )
        return m


def active_device(entry: Entry | None, device_id: str, who: str) -> Device:
    if entry is None or entry.kind is not Kind.PERSON or not entry.active:
        raise EnvelopeError(f"the {who} is not an active person in the verified directory")
    for device in entry.active_devices():
        if device.id == device_id:
            return device
    raise EnvelopeError(f"the {who}'s device {device_id!r} is not active in the directory")


def _parse_manifest(body: Any) -> Manifest:
    request = body.get("request")
    optional = (request is not None) + (SPI_FIELD in body) + (APPROVAL_FIELD in body)
    if body["type"] != MANIFEST_TYPE or len(body) != 10 + optional:
        raise EnvelopeError("not a version 1 manifest")
    if request is not None and not (isinstance(request, str) and DROP_ID.fullmatch(request)):
        raise EnvelopeError("invalid request id")
    if body["suite"] not in SUITES:
        raise EnvelopeError(f"unknown cipher suite {body['suite']!r}")
    if not DROP_ID.fullmatch(body["drop_id"]):
        raise EnvelopeError("invalid drop id")
    parse_time(body["created"])
    parse_time(body["expires"])
    return Manifest(
        drop_id=body["drop_id"],
        sender=check_id(body["sender"]["user"]),
        sender_device=check_id(body["sender"]["device"], "device id"),
        recipients=tuple(
            RecipientRef(check_id(r["user"]), tuple(check_id(d, "device id") for d in r["devices"]))
            for r in body["recipients"]
        ),
        blobs=tuple(_parse_blob(b) for b in body["blobs"]),
        created=body["created"],
        expires=body["expires"],
        classification=Classification(body["classification"]),
        suite=body["suite"],
        request=request,
        **_parse_directory(body["directory"]),
        **_parse_spi(body.get(SPI_FIELD)),
        approval=(
            ApprovalRequired.from_json(body[APPROVAL_FIELD]) if APPROVAL_FIELD in body else None
        ),
    )


def _parse_spi(obj: Any) -> dict[str, Any]:
    """The counts of specific personal information: absent, or two positive integers
    (at least one file holding at least one number; zero is written by leaving it out)."""
    if obj is None:
        return {}
    if not isinstance(obj, dict) or set(obj) != {"files", "numbers"}:
        raise EnvelopeError("invalid specific personal information counts")
    files, numbers = obj["files"], obj["numbers"]
    for value in (files, numbers):
        if type(value) is not int or not 1 <= value <= MAX_MYNUMBER_COUNT:
            raise EnvelopeError("invalid specific personal information counts")
    if files > numbers:
        raise EnvelopeError("invalid specific personal information counts")
    return {"mynumber_files": files, "mynumber_count": numbers}


_OLD_DIRECTORY_FIELDS = frozenset({"epoch", "header"})
_DIRECTORY_FIELDS = _OLD_DIRECTORY_FIELDS | {"log_size", "log_root"}


def _parse_directory(obj: Any) -> dict[str, Any]:
    """The sender's directory reference: exactly the older two fields, or all four.

    The older form (no log head) still parses, so that the server keeps drops made
    by clients before this change; recipients then cannot check for a split view
    and show the drop as dangerous (see docs/security.md)."""
    if not isinstance(obj, dict) or set(obj) not in (_OLD_DIRECTORY_FIELDS, _DIRECTORY_FIELDS):
        raise EnvelopeError("invalid directory reference")
    parsed: dict[str, Any] = {
        "directory_epoch": int(obj["epoch"]),
        "directory_header": str(obj["header"]),
    }
    if "log_size" in obj:
        parsed |= {"log_size": log_size(obj["log_size"]), "log_root": unb64u(obj["log_root"], 32)}
    return parsed


def log_size(value: Any) -> int:
    """A log size as signed: a non-negative JSON integer (never a bool or a string)."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_LOG_SIZE:
        raise EnvelopeError("invalid log size")
    return value


def _parse_blob(obj: Any) -> Blob:
    if not BLOB_ID.fullmatch(obj["id"]) or obj["kind"] not in ("file", "metadata"):
        raise EnvelopeError("invalid blob entry")
    size = obj["size"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise EnvelopeError("invalid blob size")
    return Blob(obj["id"], obj["kind"], unb64u(obj["sha256"], 32), size)
