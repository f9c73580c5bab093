"""The audit record schema and the chain check (see :mod:`secure_send.core.audit`).

The schema is closed: exactly :data:`FIELDS` (plus, on a record about a drop whose
signed manifest carries My Number counts, all three of :data:`SPI_FIELDS`), each value
in one strict form, so that no file name, message text or detected number (or its
hash) can ever be recorded: the only places for numbers are integers and a ``true``.
"""

from __future__ import annotations

import enum
import hashlib
import ipaddress
import re
from dataclasses import asdict, dataclass
from typing import Any

from secure_send.core.directory import canonical
from secure_send.core.directory.model import EntryError, check_id
from secure_send.core.encoding import b64u
from secure_send.core.envelope.manifest import MAX_MYNUMBER_COUNT
from secure_send.core.errors import SecureSendError

FIELDS = ("seq", "time", "action", "actor", "device", "drop", "size", "outcome", "ip", "prev")
# Specific personal information (個人番号, issue 19): ``true`` and the sender's counts
# (files, numbers) from the drop's signed manifest — never a number or a hash of one.
# All three or none: absent from every other record, so logs written before keep their
# bytes (and their hash chains) exactly.
SPI_FIELDS = ("contains_specific_personal_info", "mynumber_files", "mynumber_count")
ALL_FIELDS = FIELDS + SPI_FIELDS
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_DROP = re.compile(r"[A-Za-z0-9_-]{16,64}")
_OUTCOME = re.compile(r"[a-z_]{1,32}")
_HASH = re.compile(r"[A-Za-z0-9_-]{43}")
_MAX_SIZE = 2**53 - 1


class AuditRecordError(SecureSendError):
    """A record field is missing, unknown, or not in its one allowed form."""


class AuditChainError(SecureSendError):
    """The log is broken; ``seq`` is the first record that cannot be trusted."""

    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(f"audit log broken at seq {seq}: {reason}")
        self.seq = seq
        self.reason = reason


class AuditAction(enum.StrEnum):
    """What happened."""

    ENROL = "enrol"
    DROP_CREATE = "drop_create"
    UPLOAD_COMPLETE = "upload_complete"
    DOWNLOAD = "download"
    RECEIPT = "receipt"
    RECALL = "recall"
    EXPIRY_DELETE = "expiry_delete"
    AUTH_FAILURE = "auth_failure"
    ADMIN = "admin"
    DIRECTORY_PUSH = "directory_push"  # the signer pushed a snapshot (or was refused)
    # the log itself was repaired: a torn final line cut off, or a lost tail accepted
    AUDIT_REPAIR = "audit_repair"
    # file requests (提出依頼): ``drop`` holds the request id, ``size`` a count (addressees
    # asked or reminded) or, for a submission, its ciphertext bytes; never a title
    REQUEST_CREATE = "request_create"
    REQUEST_REMIND = "request_remind"
    REQUEST_SUBMIT = "request_submit"
    # 上長承認 (issue 20): an approver's signed decision on a drop
    APPROVAL = "approval"
    REJECTION = "rejection"
    # a recipient's virus scanner found a threat after decryption: never a file name
    MALWARE_DETECTED = "malware_detected"
    # issue 21: an enrolled device's request to add its P-256 key (queued, then the
    # directory signer's answer: ``ok`` or the refusal's reason)
    KEY_ADD = "key_add"


_ACTIONS = frozenset(a.value for a in AuditAction)
# the actions whose record is about one drop, the only ones that may carry SPI_FIELDS
# (request_submit: ``drop`` names the request, but the record is about the submitted drop)
_DROP_ACTIONS = frozenset(
    {
        AuditAction.DROP_CREATE,
        AuditAction.UPLOAD_COMPLETE,
        AuditAction.DOWNLOAD,
        AuditAction.RECEIPT,
        AuditAction.RECALL,
        AuditAction.EXPIRY_DELETE,
        AuditAction.REQUEST_SUBMIT,
        AuditAction.APPROVAL,
        AuditAction.REJECTION,
        AuditAction.MALWARE_DETECTED,
    }
)


@dataclass(frozen=True)
class AuditRecord:
    """One validated record; construct with :meth:`from_json` or via the log."""

    seq: int
    time: str
    action: str
    actor: str
    device: str
    drop: str
    size: int
    outcome: str
    ip: str
    prev: str
    # SPI_FIELDS: None on every record but those about a drop holding My Numbers
    contains_specific_personal_info: bool | None = None
    mynumber_files: int | None = None
    mynumber_count: int | None = None

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def specific_personal_info(self) -> tuple[int, int] | None:
        """``(files, numbers)`` when the record is about a drop holding My Numbers."""
        if self.mynumber_files is None or self.mynumber_count is None:
            return None
        return self.mynumber_files, self.mynumber_count

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON object (the SPI fields only when present)."""
        obj = asdict(self)
        if self.contains_specific_personal_info is None:
            for name in SPI_FIELDS:
                del obj[name]
        return obj

    def line(self) -> bytes:
        """The canonical bytes of the record (without the newline)."""
        return canonical.dumps(self.to_json())

    def digest(self) -> str:
        """Base64url SHA-256 of :meth:`line`: the next record's ``prev``."""
        return b64u(hashlib.sha256(self.line()).digest())

    @classmethod
    def from_json(cls, obj: object) -> AuditRecord:
        """Validate a parsed record; unknown or missing fields are refused."""
        if not isinstance(obj, dict) or set(obj) not in (_PLAIN, _WITH_SPI):
            raise AuditRecordError(
                f"a record has exactly the fields {', '.join(FIELDS)}"
                f" (and, about a drop with My Numbers, all of {', '.join(SPI_FIELDS)})"
            )
        return cls(**obj)


_PLAIN, _WITH_SPI = frozenset(FIELDS), frozenset(ALL_FIELDS)


def _validate(r: AuditRecord) -> None:
    _validate_plain(r)
    _validate_spi(r)


def _validate_spi(r: AuditRecord) -> None:
    """All three SPI fields or none; exactly ``true``; counts as the manifest allows them
    (1 <= files <= numbers): the fields can hold nothing but these, never a number."""
    flag, files, count = r.contains_specific_personal_info, r.mynumber_files, r.mynumber_count
    if flag is None and files is None and count is None:
        return
    if flag is not True:  # ``is``: never False, 1 or "true"
        raise AuditRecordError("contains_specific_personal_info must be true (or absent)")
    if type(files) is not int or type(count) is not int:
        raise AuditRecordError("mynumber_files and mynumber_count must be integers with it")
    if not 1 <= files <= count <= MAX_MYNUMBER_COUNT:
        raise AuditRecordError("mynumber_files and mynumber_count must be 1 <= files <= count")
    if r.action not in _DROP_ACTIONS or not r.drop:
        raise AuditRecordError("only a record about a drop may say it holds My Numbers")


def _validate_plain(r: AuditRecord) -> None:
    for name in FIELDS:
        value = getattr(r, name)
        wanted = int if name in ("seq", "size") else str
        if type(value) is not wanted:
            raise AuditRecordError(f"{name} must be {wanted.__name__}")
    if not 0 <= r.seq <= _MAX_SIZE or not 0 <= r.size <= _MAX_SIZE:
        raise AuditRecordError("seq and size must be non-negative integers")
    if not _TIME.fullmatch(r.time):
        raise AuditRecordError("time must look like 2026-01-31T09:00:00Z")
    if r.action not in _ACTIONS:
        raise AuditRecordError("action is not a known audit action")
    try:
        for name in ("actor", "device"):
            if getattr(r, name):
                check_id(getattr(r, name), name)
    except EntryError as err:
        raise AuditRecordError(str(err)) from None
    if r.drop and not _DROP.fullmatch(r.drop):
        raise AuditRecordError("drop must be 16-64 characters of A-Z, a-z, 0-9, '_', '-'")
    if not _OUTCOME.fullmatch(r.outcome):
        raise AuditRecordError("outcome must be 'ok' or an error code of a-z and '_'")
    if r.ip and (len(r.ip) > 45 or str(_ip(r.ip)) != r.ip):
        raise AuditRecordError("ip must be an IP address in its normal form, or empty")
    if (r.seq == 0) != (r.prev == "") or (r.prev and not _HASH.fullmatch(r.prev)):
        raise AuditRecordError("prev must be a SHA-256 hash, empty only for seq 0")


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise AuditRecordError("ip is not an IP address") from None


@dataclass(frozen=True)
class VerifyReport:
    """What a successful :meth:`AuditLog.verify` saw. ``head_seq`` is -1 when empty."""

    records: int
    head_seq: int
    head_hash: str
    first_time: str
    last_time: str


def parse_line(pos: int, raw: bytes) -> AuditRecord:
    """Parse one line (without its newline) that must be a canonical, valid record.

    Raises:
        AuditChainError: naming ``pos``, the seq expected at that line.
    """
    try:
        return AuditRecord.from_json(canonical.loads(raw))
    except canonical.CanonicalError as err:
        raise AuditChainError(pos, f"not a canonical JSON record ({err})") from None
    except AuditRecordError as err:
        raise AuditChainError(pos, f"invalid record ({err})") from None


class ChainCheck:
    """Streaming chain check with one record of look-ahead to blame the right record."""

    def __init__(self, head_seq: int) -> None:
        self.count, self.digest, self.first, self.last = 0, "", "", ""
        self.pending = -1  # a record whose prev did not match, awaiting its successor
        self.head_seq, self.head_digest = head_seq, ""

    def feed(self, record: AuditRecord, raw: bytes) -> None:
        """Check the next record (``raw`` its exact line bytes)."""
        pos = self.count
        if self.pending >= 0:  # did the successor accept the suspect record as it is?
            bad = self.pending if record.prev != self.digest else self.pending - 1
            self.pending = -1
            raise AuditChainError(bad, f"record changed (hash chain broken at seq {bad})")
        if record.seq != pos:
            why = "a record is missing" if record.seq > pos else "duplicate or reordered"
            raise AuditChainError(pos, f"found seq {record.seq} where {pos} belongs ({why})")
        if record.prev != self.digest:
            self.pending = pos
        self.digest = b64u(hashlib.sha256(raw).digest())
        if pos == self.head_seq:
            self.head_digest = self.digest
        self.first, self.last = self.first or record.time, record.time
        self.count += 1

    def finish(self) -> None:
        """At the end (or on a later error): report a mismatch still awaiting look-ahead."""
        if self.pending >= 0:
            n = self.pending
            raise AuditChainError(n, f"prev does not match seq {n - 1} (one of them changed)")

    def check_head(self, seq: int, digest: str) -> None:
        """Compare with a head recorded earlier; catches removal of the tail."""
        if seq < 0:  # the head of an empty log: nothing to compare
            return
        if seq >= self.count:
            raise AuditChainError(self.count, f"log ends before the recorded head seq {seq}")
        if self.head_digest != digest:
            raise AuditChainError(seq, "record differs from the recorded head")

    def report(self) -> VerifyReport:
        """What was seen, once everything checked out."""
        return VerifyReport(self.count, self.count - 1, self.digest, self.first, self.last)
