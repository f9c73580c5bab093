"""A file request (提出依頼): "send your files for this to our mailbox".

Field by field: docs/formats.md, "File request".

A request names the mailbox that collects (a role mailbox the creator is a
member of, or the creator themself), its addressees (person ids, fixed at
creation), an optional due date and the SHA-256 of its encrypted text (title
and message, encrypted to the addressees' and the mailbox's devices in the cipher
suite the request names — age unless the creator's IT policy chose CRYPTREC's CMS,
issue 21: the server learns ids, counts and dates, never the words). The creator's device
signs it like a manifest, and every addressee and desk member verifies it
against the verified directory before showing it: a request the server or any
other member of staff made up is dangerous, never a place to send files.

A submission is an ordinary drop to the request's mailbox whose signed manifest
names the request (``Manifest.request``); it is late when its signed ``created``
time is after the end of the due day in Asia/Tokyo.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import hmac
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import nacl.signing

from secure_send.core.directory.model import Entry, Kind, check_id
from secure_send.core.encoding import EncodingError, b64u, parse_time, unb64u
from secure_send.core.envelope.manifest import (
    AGE_SUITE,
    DROP_ID,
    SUITES,
    EnvelopeError,
    SignedLogHead,
    active_device,
    log_size,
    new_drop_id,
    verify_signature,
)
from secure_send.core.errors import SecureSendError
from secure_send.core.signing import signed_message

REQUEST_TYPE = "secure-send/request/v1"
TEXT_TYPE = "secure-send/request-text/v1"  # the decrypted title and message
MAX_ADDRESSEES = 100_000
MAX_TITLE = 200
MAX_MESSAGE = 4_000
MAX_TEXT_BYTES = 16 * 1024 * 1024  # the encrypted text: ~100 bytes per device it is for
DUE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Due dates are days in Japan: the end of the due day is midnight in Asia/Tokyo, which
# has had no daylight saving since 1951, so a fixed offset is exact (and needs no tzdata,
# which Windows lacks).
JST = dt.timezone(dt.timedelta(hours=9), "JST")

new_request_id = new_drop_id  # the same 128-bit random ids, never starting with '-'


def due_deadline(due: str) -> dt.datetime:
    """The first instant after the due day (00:00 of the next day, Asia/Tokyo)."""
    if not DUE.fullmatch(due):
        raise EnvelopeError("a due date is YYYY-MM-DD")
    try:
        day = dt.date.fromisoformat(due)
    except ValueError:
        raise EnvelopeError("a due date is YYYY-MM-DD") from None
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), JST)


def is_late(created: str, due: str | None) -> bool:
    """Whether a submission signed as made at ``created`` missed the due day."""
    return due is not None and parse_time(created) >= due_deadline(due)


@dataclass(frozen=True)
class FileRequest(SignedLogHead):
    """What the creating device signs."""

    request_id: str
    creator: str
    creator_device: str
    mailbox: str  # where submissions go: a role the creator is a member of, or the creator
    addressees: tuple[str, ...]  # sorted, unique person ids
    due: str | None  # YYYY-MM-DD in Asia/Tokyo, or None (no due date)
    created: str
    expires: str  # after this the request is closed and the server forgets it
    text_sha256: bytes  # SHA-256 of the encrypted title and message
    directory_epoch: int
    directory_header: str
    log_size: int | None = None
    log_root: bytes | None = None
    suite: str = AGE_SUITE  # what the text is encrypted in (issue 21)

    def body(self) -> dict[str, Any]:
        """The signed JSON object (``suite`` only when it is not age: a request made
        before issue 21 keeps its exact bytes, so its signature still verifies)."""
        directory: dict[str, Any] = {"epoch": self.directory_epoch, "header": self.directory_header}
        if self.log_size is not None and self.log_root is not None:
            directory |= {"log_size": self.log_size, "log_root": b64u(self.log_root)}
        body: dict[str, Any] = {
            "type": REQUEST_TYPE,
            "request_id": self.request_id,
            "creator": {"user": self.creator, "device": self.creator_device},
            "mailbox": self.mailbox,
            "addressees": list(self.addressees),
            "due": self.due,
            "created": self.created,
            "expires": self.expires,
            "text_sha256": b64u(self.text_sha256),
            "directory": directory,
        }
        if self.suite != AGE_SUITE:
            body["suite"] = self.suite
        return body

    def sign(self, key: nacl.signing.SigningKey) -> SignedRequest:
        """Sign with the creating device's key."""
        return SignedRequest(self, key.sign(signed_message(REQUEST_TYPE, self.body())).signature)

    def is_addressee(self, user: str) -> bool:
        """Whether ``user`` was asked (binary search: addressees are sorted)."""
        at = bisect.bisect_left(self.addressees, user)
        return at < len(self.addressees) and self.addressees[at] == user

    def late(self, created: str) -> bool:
        """Whether a submission signed at ``created`` is late."""
        return is_late(created, self.due)


@dataclass(frozen=True)
class SignedRequest:
    """A file request with the creating device's signature."""

    request: FileRequest
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {"body": self.request.body(), "sig": b64u(self.signature)}

    @classmethod
    def from_json(cls, obj: Any) -> SignedRequest:
        """Strictly parse; raises :class:`EnvelopeError`."""
        try:
            return cls(_parse(obj["body"]), unb64u(obj["sig"], 64))
        except (KeyError, TypeError, ValueError, EncodingError, SecureSendError) as err:
            if isinstance(err, EnvelopeError):
                raise
            raise EnvelopeError(f"malformed file request ({err})") from None

    def verify(self, directory: Mapping[str, Entry]) -> FileRequest:
        """The request, if a device of an active member of its mailbox signed it.

        Checks: the creator is an active person whose named device is active and made
        the signature; the mailbox is the creator, or an active role mailbox the
        creator is a member of. Addressees who left since are not an error: they are
        simply no longer asked (the desk's lists leave them out).

        Raises:
            EnvelopeError: any check fails (the request must be shown as dangerous).
        """
        r = self.request
        device = active_device(directory.get(r.creator), r.creator_device, "requester")
        verify_signature(
            device.sign_key, signed_message(REQUEST_TYPE, r.body()), self.signature, "request"
        )
        if r.mailbox != r.creator:
            role = directory.get(r.mailbox)
            if role is None or role.kind is not Kind.ROLE or not role.active:
                raise EnvelopeError("the request's mailbox is not an active role mailbox")
            if r.creator not in role.members:
                raise EnvelopeError("the requester is not a member of the request's mailbox")
        return r

    def text_matches(self, ciphertext: bytes) -> bool:
        """Whether ``ciphertext`` is the encrypted text this request signed."""
        return hmac.compare_digest(hashlib.sha256(ciphertext).digest(), self.request.text_sha256)


def text_document(request_id: str, title: str, message: str) -> dict[str, Any]:
    """The plaintext of a request's encrypted text (checked: lengths, a title)."""
    if not title.strip() or len(title) > MAX_TITLE:
        raise EnvelopeError(f"a request needs a title of at most {MAX_TITLE} characters")
    if len(message) > MAX_MESSAGE:
        raise EnvelopeError(f"a request's message is at most {MAX_MESSAGE} characters")
    return {"type": TEXT_TYPE, "request_id": request_id, "title": title, "message": message}


def parse_text(obj: Any, request_id: str) -> tuple[str, str]:
    """(title, message) of a decrypted text that belongs to ``request_id``."""
    if (
        not isinstance(obj, dict)
        or obj.get("type") != TEXT_TYPE
        or obj.get("request_id") != request_id
        or not isinstance(obj.get("title"), str)
        or not isinstance(obj.get("message"), str)
        or len(obj["title"]) > MAX_TITLE
        or len(obj["message"]) > MAX_MESSAGE
    ):
        raise EnvelopeError("the request's text is malformed or belongs to another request")
    return obj["title"], obj["message"]


_FIELDS = frozenset(
    {
        "type",
        "request_id",
        "creator",
        "mailbox",
        "addressees",
        "due",
        "created",
        "expires",
        "text_sha256",
        "directory",
    }
)


def _parse(body: Any) -> FileRequest:
    if not isinstance(body, dict) or set(body) - {"suite"} != _FIELDS:
        raise EnvelopeError("not a version 1 file request")
    if body["type"] != REQUEST_TYPE:
        raise EnvelopeError("not a version 1 file request")
    # absent: age (every request before issue 21); present: never age itself, so one
    # request has one signed form
    suite = body.get("suite", AGE_SUITE)
    if suite not in SUITES or ("suite" in body and suite == AGE_SUITE):
        raise EnvelopeError(f"unknown cipher suite {suite!r} for a request's text")
    request_id = body["request_id"]
    # never a leading "-": request ids are typed after commands (``secure-send submit ID``)
    if not isinstance(request_id, str) or not DROP_ID.fullmatch(request_id):
        raise EnvelopeError("invalid request id")
    if not request_id[0].isalnum():
        raise EnvelopeError("invalid request id")
    addressees = body["addressees"]
    if not isinstance(addressees, list) or not 0 < len(addressees) <= MAX_ADDRESSEES:
        raise EnvelopeError("a request names between 1 and 100,000 addressees")
    ids = tuple(check_id(a) for a in addressees)
    if any(a >= b for a, b in itertools.pairwise(ids)):  # sorted and unique
        raise EnvelopeError("a request's addressees must be sorted and unique")
    due = body["due"]
    if due is not None:
        due_deadline(due)  # checks the form
    if parse_time(body["expires"]) <= parse_time(body["created"]):
        raise EnvelopeError("a request expires before it was created")
    directory = body["directory"]
    if not isinstance(directory, dict) or set(directory) != {
        "epoch",
        "header",
        "log_size",
        "log_root",
    }:
        raise EnvelopeError("invalid directory reference")
    creator = body["creator"]
    if not isinstance(creator, dict) or set(creator) != {"user", "device"}:
        raise EnvelopeError("invalid requester")
    return FileRequest(
        request_id=body["request_id"],
        creator=check_id(body["creator"]["user"]),
        creator_device=check_id(body["creator"]["device"], "device id"),
        mailbox=check_id(body["mailbox"]),
        addressees=ids,
        due=due,
        created=body["created"],
        expires=body["expires"],
        text_sha256=unb64u(body["text_sha256"], 32),
        directory_epoch=int(directory["epoch"]),
        directory_header=str(directory["header"]),
        log_size=log_size(directory["log_size"]),
        log_root=unb64u(directory["log_root"], 32),
        suite=suite,
    )


def desk_of(entries: Mapping[str, Entry], mailbox: str) -> tuple[str, ...]:
    """Who reads what a request's ``mailbox`` collects (its desk): a role mailbox's
    members, else the mailbox itself (the person who asked)."""
    box = entries.get(mailbox)
    return box.members if box is not None and box.kind is Kind.ROLE else (mailbox,)
