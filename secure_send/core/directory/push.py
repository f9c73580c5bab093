"""What the directory signer pushes to the drop server (docs/formats.md, "Line documents").

The signer runs on IT's side with the organisation home and the online signing
key; the drop server holds neither. After each batch the signer sends one
:class:`Push`: the log events the server does not have yet, the new signed
directory (a full bundle, or a delta of the entries that changed since the
server's snapshot) and the outcome of each enrolment request it took from the
server's queue. The server checks the push against its pinned trust anchor and
its own copy of the log before it serves anything from it, but nothing depends
on the server's honesty: clients verify every snapshot themselves.

Wire form: one JSON head line (format, ``log_from``, number of event lines,
results, which kind of directory follows), the event lines (canonical JSON, one
per line), then the directory document's bytes, if any.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from typing import Any

from secure_send.core.directory.errors import MalformedDirectoryError
from secure_send.core.json_input import loads_untrusted

PUSH_FORMAT = "secure-send/directory-push/v1"
TICKET = re.compile(r"[A-Za-z0-9_-]{22,64}")


class EnrolStatus(enum.Enum):
    """Where an enrolment request stands."""

    QUEUED = "queued"  # waiting for the signer
    ENROLLED = "enrolled"  # in the signed directory
    PENDING = "pending"  # no code: waiting for an operator's approval
    REFUSED = "refused"  # see the reason
    DONE = "done"  # a key-add request: the device's P-256 key is in the signed directory


class RefusalReason(enum.Enum):
    """Why the signer refused a request (stable codes the client shows)."""

    BAD_ENROLMENT = "bad_enrolment"  # wrong, used or expired code, or a bad proof
    CONFLICT = "conflict"  # the device already exists, or the person cannot enrol
    # a key-add request that does not verify with the device's listed signing key
    BAD_KEY_ADD = "bad_key_add"


class DirectoryKind(enum.Enum):
    """What follows the events in a push."""

    NONE = "none"
    BUNDLE = "bundle"
    DELTA = "delta"


@dataclass(frozen=True)
class EnrolResult:
    """The signer's answer to one queued enrolment (or key-add) request."""

    ticket: str
    status: EnrolStatus
    reason: RefusalReason | None = None

    def to_json(self) -> dict[str, Any]:
        """For the push head line."""
        return {
            "ticket": self.ticket,
            "status": self.status.value,
            "reason": self.reason.value if self.reason else "",
        }

    @classmethod
    def from_json(cls, obj: Any) -> EnrolResult:
        """Strictly parse; raises :class:`MalformedDirectoryError`."""
        try:
            ticket = str(obj["ticket"])
            if not TICKET.fullmatch(ticket):
                raise ValueError("bad ticket")
            status = EnrolStatus(obj["status"])
            reason = RefusalReason(obj["reason"]) if obj["reason"] else None
        except (KeyError, TypeError, ValueError):
            raise MalformedDirectoryError("malformed enrolment result") from None
        if status is EnrolStatus.QUEUED or (status is EnrolStatus.REFUSED) != (reason is not None):
            raise MalformedDirectoryError("an enrolment result names a final status")
        return cls(ticket, status, reason)


@dataclass(frozen=True)
class Push:
    """One batch from the signer; see the module docstring."""

    log_from: int
    events: tuple[bytes, ...]
    kind: DirectoryKind
    directory: bytes
    results: tuple[EnrolResult, ...] = ()

    def to_bytes(self) -> bytes:
        """The wire form."""
        head = {
            "format": PUSH_FORMAT,
            "log_from": self.log_from,
            "events": len(self.events),
            "directory": self.kind.value,
            "results": [r.to_json() for r in self.results],
        }
        lines = [json.dumps(head, separators=(",", ":")).encode("ascii"), *self.events]
        return b"\n".join(lines) + b"\n" + self.directory

    @classmethod
    def from_bytes(cls, data: bytes) -> Push:
        """Parse; raises :class:`MalformedDirectoryError`. Events and the directory
        are only split here: the receiver verifies them."""
        try:
            end = data.index(b"\n")
            head = loads_untrusted(data[:end])
            if head["format"] != PUSH_FORMAT:
                raise ValueError("format")
            log_from, count = head["log_from"], head["events"]
            if not all(isinstance(n, int) and n >= 0 for n in (log_from, count)):
                raise ValueError("counts")
            kind = DirectoryKind(head["directory"])
            results = tuple(EnrolResult.from_json(r) for r in head["results"])
        except (ValueError, KeyError, TypeError):
            raise MalformedDirectoryError("not a directory push") from None
        events = []
        pos = end + 1
        for _ in range(count):
            nl = data.find(b"\n", pos)
            if nl < 0:
                raise MalformedDirectoryError("directory push is truncated")
            events.append(data[pos:nl])
            pos = nl + 1
        directory = data[pos:]
        if (kind is DirectoryKind.NONE) != (not directory):
            raise MalformedDirectoryError("directory push: document and kind disagree")
        return cls(log_from, tuple(events), kind, directory, results)
