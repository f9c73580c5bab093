"""A superior's decision (上長承認) on a drop, signed by the approver's device.

A drop whose signed manifest carries ``approval_required`` (:class:`.ApprovalRequired`)
is withheld by the server from everyone but its sender and approvers until one
approver's device posts an :class:`Approval` — ``approved``, or ``rejected`` with a
reason. The server cannot skip this: every recipient's client accepts such a drop
only with an ``approved`` decision that verifies here (and recomputes, from its own
policy and directory, whether one was needed: client/approval.py).

Guarantees of :meth:`Approval.verify`: the decision names this drop and the SHA-256
of this exact manifest (an approval of another manifest, even of the same drop id,
does not count); it was made by an active device of a person the manifest lists as an
approver and who, in the verifier's directory, is still the sender's approver (the
person the sender's entry names, or an active member of the role mailbox it names);
and that device's Ed25519 signature holds. Not guaranteed: that the approver opened
the files (the app offers them first; the signature says only that they decided).

The reason of a rejection is text the server stores and shows the sender: the app
asks approvers not to write personal data in it (docs/security.md).
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import nacl.signing

from secure_send.core.directory.model import Entry, Kind, check_id
from secure_send.core.encoding import b64u, parse_time, unb64u
from secure_send.core.envelope.manifest import (
    DROP_ID,
    MANIFEST_TYPE,
    EnvelopeError,
    Manifest,
    SignedLogHead,
    active_device,
    log_size,
    verify_signature,
)
from secure_send.core.errors import SecureSendError
from secure_send.core.signing import signed_message

APPROVAL_TYPE = "secure-send/approval/v1"
MAX_REASON = 500  # characters: a sentence or two for the sender, not a document
_FIELDS = frozenset(
    {
        "type",
        "drop_id",
        "manifest",
        "approver",
        "device",
        "decision",
        "time",
        "log_size",
        "log_root",
    }
)


class Decision(enum.StrEnum):
    """What the approver decided."""

    APPROVED = "approved"
    REJECTED = "rejected"


def manifest_digest(manifest: Manifest) -> bytes:
    """SHA-256 of the exact bytes the sender signed: what a decision is about."""
    return hashlib.sha256(signed_message(MANIFEST_TYPE, manifest.body())).digest()


@dataclass(frozen=True)
class Approval(SignedLogHead):
    """{drop id, manifest digest, approver and device, decision, reason, time, log head},
    signed by the approver's device (``reason`` only, and always, for a rejection)."""

    drop_id: str
    manifest: bytes
    approver: str
    device: str
    decision: Decision
    time: str
    reason: str = ""
    log_size: int | None = None
    log_root: bytes | None = None
    signature: bytes = field(default=b"", compare=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.log_head is None:  # an approval is new: it always carries its head
            raise EnvelopeError("an approval needs its signer's directory log head")
        check_reason(self.decision, self.reason)

    def body(self) -> dict[str, Any]:
        """The signed JSON object."""
        body: dict[str, Any] = {
            "type": APPROVAL_TYPE,
            "drop_id": self.drop_id,
            "manifest": b64u(self.manifest),
            "approver": self.approver,
            "device": self.device,
            "decision": self.decision.value,
            "time": self.time,
            "log_size": self.log_size,
            "log_root": b64u(self.log_root or b""),
        }
        if self.decision is Decision.REJECTED:
            body["reason"] = self.reason
        return body

    def signed_by(self, key: nacl.signing.SigningKey) -> Approval:
        """A copy signed by the approver's device."""
        sig = key.sign(signed_message(APPROVAL_TYPE, self.body())).signature
        return Approval(**{**self.__dict__, "signature": sig})

    def to_json(self) -> dict[str, Any]:
        """For sending to the server (and as the server hands it on)."""
        return {"body": self.body(), "sig": b64u(self.signature)}

    @classmethod
    def from_json(cls, obj: Any) -> Approval:
        """Strictly parse; raises :class:`EnvelopeError`."""
        try:
            body = obj["body"]
            rejected = body.get("decision") == Decision.REJECTED
            fields = _FIELDS | {"reason"} if rejected else _FIELDS
            if body["type"] != APPROVAL_TYPE or set(body) != fields:
                raise EnvelopeError("not a version 1 approval")
            if not isinstance(body["drop_id"], str) or not DROP_ID.fullmatch(body["drop_id"]):
                raise EnvelopeError("invalid drop id")
            parse_time(body["time"])
            return cls(
                drop_id=body["drop_id"],
                manifest=unb64u(body["manifest"], 32),
                approver=check_id(body["approver"]),
                device=check_id(body["device"], "device id"),
                decision=Decision(body["decision"]),
                time=body["time"],
                reason=body.get("reason", ""),
                log_size=log_size(body["log_size"]),
                log_root=unb64u(body["log_root"], 32),
                signature=unb64u(obj["sig"], 64),
            )
        except EnvelopeError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, SecureSendError) as err:
            name = type(err).__name__ if isinstance(err, (KeyError, TypeError)) else err
            raise EnvelopeError(f"malformed approval ({name})") from None

    def verify(self, manifest: Manifest, directory: Mapping[str, Entry]) -> None:
        """Check this decision against the drop's verified manifest and the verified
        directory (see the module docstring).

        Raises:
            EnvelopeError: another drop or manifest, an approver the manifest does not
                list or who no longer approves for the sender, or a bad signature.
        """
        required = manifest.approval
        if required is None:
            raise EnvelopeError("this drop asks for no approval")
        if self.drop_id != manifest.drop_id:
            raise EnvelopeError("the approval is for another drop")
        if self.manifest != manifest_digest(manifest):
            raise EnvelopeError("the approval is for another manifest")
        if self.approver not in required.approvers:
            raise EnvelopeError("the approval is by someone the sender did not ask")
        by, approvers = approvers_for(directory, manifest.sender)
        if by != required.by or self.approver not in approvers:
            raise EnvelopeError("the approver no longer approves for the sender")
        device = active_device(directory.get(self.approver), self.device, "approver")
        verify_signature(
            device.sign_key, signed_message(APPROVAL_TYPE, self.body()), self.signature, "approval"
        )


def check_reason(decision: Decision, reason: str) -> str:
    """A rejection's reason: 1 to :data:`MAX_REASON` characters, no control characters
    but line breaks; an approval has none. Raises :class:`EnvelopeError`."""
    if decision is Decision.APPROVED:
        if reason:
            raise EnvelopeError("an approval carries no reason")
        return reason
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        raise EnvelopeError(f"a rejection needs a reason of 1 to {MAX_REASON} characters")
    if any((ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F for c in reason):
        raise EnvelopeError("the reason contains control characters")
    return reason


class ApproverError(SecureSendError):
    """The sender has no approver who could approve now; ``approver`` is the id the
    directory names ("" when it names none)."""

    def __init__(self, message: str, approver: str = "") -> None:
        super().__init__(message)
        self.approver = approver


def approvers_for(directory: Mapping[str, Entry], sender: str) -> tuple[str, tuple[str, ...]]:
    """``(by, persons)``: the sender's approver as their entry names it, and the active
    persons that stands for now — the person, or the role mailbox's active members other
    than the sender. Devices are not required here (a verifier checks the signing
    device itself; :func:`reachable_approvers` is the sender's stricter question).

    Raises:
        ApproverError: no approver named, or it is unknown or has left, or a role with
            no active member but the sender.
    """
    entry = directory.get(sender)
    by = entry.approver if entry is not None else None
    if by is None:
        raise ApproverError("no approver (上長) is set for you in the directory")
    target = directory.get(check_id(by))
    if target is None or not target.active:
        why = "has left" if target is not None else "is not in the directory"
        raise ApproverError(f"your approver {by} {why}", by)
    candidates = (by,) if target.kind is Kind.PERSON else target.members
    people = tuple(
        p
        for p in candidates
        if p != sender
        and (e := directory.get(p)) is not None
        and e.active
        and e.kind is Kind.PERSON
    )
    if not people:
        raise ApproverError(f"your approver {by} has no active member who could approve", by)
    return by, people


def reachable_approvers(directory: Mapping[str, Entry], sender: str) -> tuple[str, list[Entry]]:
    """The sender's approver and the persons of :func:`approvers_for` who have an active
    device (they must be able to open the drop to judge it).

    Raises:
        ApproverError: as :func:`approvers_for`, or none of them has set up the app.
    """
    by, people = approvers_for(directory, sender)
    reachable = [directory[p] for p in people if directory[p].active_devices()]
    if not reachable:
        raise ApproverError(f"your approver {by} has not set up Secure Send yet", by)
    return by, reachable
