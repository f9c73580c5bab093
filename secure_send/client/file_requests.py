"""File requests (提出依頼) without Qt: create one, list and read them, submit to one,
remind those who have not.

Guarantees: a request is shown only after its signature verified against the
verified directory (a device of an active member of its mailbox made it), its
text is the one it signed, and its signer's directory history is consistent with
ours; anything else is :class:`UnverifiedRequest` — dangerous, nothing can be
submitted to it. A submission needs no recipient choice: it goes to the
request's mailbox (``send.prepare`` with ``request=``), encrypted to the
mailbox's members' active devices; the manifest signs the request id.
Title and message are decrypted in memory only. They are encrypted in the cipher suite
the creator's IT policy gives (issue 21: a request carries no classification, so the
policy's default), and the signed request names it: a reader opens either suite.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secure_send.client import send as sending
from secure_send.client.directory_sync import Directory, unverified
from secure_send.client.errors import ClientError, ServerError
from secure_send.client.session import Session
from secure_send.client.split_view import SplitViewCheck, drop_problem
from secure_send.client.suite_crypto import SendKeys, SuiteUnavailable, decrypt_small, send_keys
from secure_send.core.directory.errors import DirectoryError
from secure_send.core.directory.model import Entry, Kind
from secure_send.core.encoding import format_time, parse_time, unb64u, utc_now
from secure_send.core.envelope.request import (
    MAX_TEXT_BYTES,
    FileRequest,
    SignedRequest,
    desk_of,
    due_deadline,
    new_request_id,
    parse_text,
    text_document,
)
from secure_send.core.error_codes import ErrorCode
from secure_send.core.errors import SecureSendError

ME = "me"  # ``--into me``: the creator collects the submissions themself
GRACE = dt.timedelta(days=30)  # late submissions are still taken this long after the due day
OPEN_WITHOUT_DUE = dt.timedelta(days=90)
LONGEST = dt.timedelta(days=365)


class UnverifiedRequest(ClientError):
    """The request failed verification: show it as dangerous, submit nothing to it.
    ``request_id`` names it in a listing (:func:`listing_with_problems`)."""

    def __init__(self, why: str, request_id: str = "") -> None:
        super().__init__(
            ErrorCode.UNVERIFIED_REQUEST, f"this file request failed verification: {why}"
        )
        self.request_id = request_id


@dataclass(frozen=True)
class RequestView:
    """A verified request as one person sees it."""

    request: FileRequest
    # None: not readable on this device (enrolled after the request, or a CRYPTREC
    # request and this device has no P-256 key yet)
    title: str | None
    message: str
    desk: bool  # this person is a member of the request's mailbox
    addressed: bool  # this person was asked
    submitted: bool = False  # the server says this person has submitted
    reminded: str | None = None  # when the desk last reminded this person

    @property
    def request_id(self) -> str:
        return self.request.request_id


def mailbox_of(entries: Mapping[str, Entry], into: str, me: str) -> str:
    """The mailbox ``into`` names (``me`` → the creator); the creator must be a member."""
    if into in (ME, me):
        return me
    role = entries.get(into)
    if role is None or role.kind is not Kind.ROLE or not role.active:
        raise ClientError(ErrorCode.UNKNOWN_RECIPIENT, f"{into} is not an active role mailbox")
    if me not in role.members:
        raise ClientError(
            ErrorCode.NOT_REQUEST_DESK, f"you are not a member of the role mailbox {into}"
        )
    return into


def addressees_of(
    entries: Mapping[str, Entry],
    to: Iterable[str],
    departments: Iterable[str] = (),
    *,
    everyone: bool = False,
) -> tuple[str, ...]:
    """The active persons ``to`` names (a role: its active members), everyone in
    ``departments``, or everyone (``everyone``); sorted. Persons without a device
    yet are asked too: they can submit once enrolled."""
    chosen: set[str] = set()
    for wanted in to:
        entry = entries.get(wanted)
        if entry is None or not entry.active:
            raise sending.RecipientError(
                ErrorCode.UNKNOWN_RECIPIENT,
                f"{wanted} is not an active entry of the verified directory",
                recipient=wanted,
            )
        members = entry.members if entry.kind is Kind.ROLE else (entry.id,)
        chosen.update(m for m in members if (p := entries.get(m)) is not None and p.active)
    wanted_departments = set(departments)
    if wanted_departments or everyone:
        found = {
            e.department
            for e in entries.values()
            if e.kind is Kind.PERSON and e.active and e.department in wanted_departments
        }
        if missing := wanted_departments - found:
            raise ClientError(
                ErrorCode.NO_RECIPIENT, f"no active person in {', '.join(sorted(missing))}"
            )
        chosen.update(
            e.id
            for e in entries.values()
            if e.kind is Kind.PERSON
            and e.active
            and (everyone or e.department in wanted_departments)
        )
    return tuple(sorted(chosen))


def create(
    session: Session,
    directory: Directory,
    *,
    into: str,
    to: Sequence[str] = (),
    departments: Sequence[str] = (),
    everyone: bool = False,
    title: str,
    due: str | None = None,
    message: str = "",
) -> str:
    """Make, sign and store a request; returns its id."""
    me = session.me
    try:
        entries = directory.by_id()
        mailbox = mailbox_of(entries, into, me.user)
        addressees = tuple(
            a
            for a in addressees_of(entries, to, departments, everyone=everyone)
            if a != me.user or mailbox != me.user  # nobody submits to themself
        )
        if not addressees:
            raise ClientError(ErrorCode.NO_RECIPIENT, "nobody to ask")
        # the policy's default: a request has no classification (機密性) of its own
        suite = session.it_policy.suite.default
        readers = _readers(entries, mailbox, addressees, me.user, suite)  # before any upload
    except DirectoryError as err:
        raise unverified(err) from None
    now = utc_now()
    if due is not None:
        try:
            deadline = due_deadline(due)
        except SecureSendError:
            raise ClientError(ErrorCode.USAGE, "the due date is YYYY-MM-DD") from None
        if deadline <= now:
            raise ClientError(ErrorCode.USAGE, "the due date has passed")
        expires = min(deadline + GRACE, now + LONGEST)
    else:
        expires = now + OPEN_WITHOUT_DUE
    request_id = new_request_id()
    try:
        text = json.dumps(text_document(request_id, title, message), ensure_ascii=False)
    except SecureSendError as err:
        raise ClientError(ErrorCode.USAGE, str(err)) from None
    ciphertext = readers.encrypt_small(text.encode())
    if len(ciphertext) > MAX_TEXT_BYTES:  # the server would refuse it: say why, here
        raise ClientError(
            ErrorCode.USAGE,
            f"a request's text is encrypted to every device it names, and for this many "
            f"devices it would exceed {MAX_TEXT_BYTES // 2**20} MiB: ask fewer people at once",
        )
    checkpoint = directory.verified.checkpoint
    request = FileRequest(
        request_id=request_id,
        creator=me.user,
        creator_device=me.device,
        mailbox=mailbox,
        addressees=addressees,
        due=due,
        created=format_time(now),
        expires=format_time(expires),
        text_sha256=hashlib.sha256(ciphertext).digest(),
        directory_epoch=checkpoint.epoch,
        directory_header=checkpoint.header_hash,
        log_size=checkpoint.log_size,
        log_root=checkpoint.log_root,
        suite=suite,  # signed: the server cannot make a reader try another
    )
    session.api.create_request(request.sign(session.keys.signing).to_json(), ciphertext)
    return request_id


def _readers(
    entries: Mapping[str, Entry], mailbox: str, addressees: Sequence[str], me: str, suite: str
) -> SendKeys:
    """The keys, in ``suite``, of every device that may read the title: the addressees',
    the mailbox members' and the creator's (each entry handed out only after its key
    bindings verified). Raises :class:`SuiteUnavailable` (worded for a request) when a
    CMS request would miss a device without a P-256 key."""
    ids = dict.fromkeys([*addressees, *desk_of(entries, mailbox), me])
    people = [e for i in ids if (e := entries.get(i)) is not None and e.active]
    try:
        return send_keys(suite, people)
    except SuiteUnavailable as err:
        lacking = [p for p in people if p.id in err.people]
        raise SuiteUnavailable(lacking, what="file request") from None


@dataclass(frozen=True)
class _Seen:
    """A request this session downloaded, checked (text hash, split view) and decrypted."""

    signed: SignedRequest
    title: str | None
    message: str
    has_text: bool = True  # False: fetched without its text (title None)


def fetch(
    session: Session, directory: Directory, request_id: str, *, text: bool = True
) -> RequestView:
    """One request, verified and its text decrypted (see the module's guarantees).

    A request never changes, so each session downloads and decrypts it once (its text
    is encrypted to every addressee's device: ~100 bytes each, 0.5 MB for 5,000
    people); its signature and the requester's membership are checked again against
    ``directory`` every time, so a requester who has left or a revoked device makes
    it dangerous at once. Without ``text`` (a submission, the desk's status, save all)
    the title and message are neither downloaded nor decrypted: ``title`` is None."""
    seen = session.verified_requests.get(request_id)
    if isinstance(seen, _Seen) and (seen.has_text or not text):
        try:
            request = seen.signed.verify(directory.by_id())
        except (SecureSendError, DirectoryError) as err:
            raise UnverifiedRequest(str(err)) from None
        return _view(session, directory, request, seen.title, seen.message)
    try:
        answer = session.api.file_request(request_id, text)
    except ServerError as err:
        if err.code == ErrorCode.NOT_FOUND:
            raise ClientError(ErrorCode.NOT_FOUND, f"no open file request {request_id}") from None
        raise
    return _verified(session, directory, request_id, answer, text)


def _verified(
    session: Session,
    directory: Directory,
    request_id: str,
    answer: Mapping[str, Any],
    with_text: bool,
) -> RequestView:
    try:
        signed = SignedRequest.from_json(answer["request"])
        entries = directory.by_id()
        request = signed.verify(entries)
        text = unb64u(answer["text"]) if with_text else b""
    except (SecureSendError, DirectoryError, KeyError, TypeError, ValueError) as err:
        raise UnverifiedRequest(str(err)) from None
    if request.request_id != request_id:
        raise UnverifiedRequest("the server mixed up requests")
    if with_text and not signed.text_matches(text):
        raise UnverifiedRequest("its text is not the one the requester signed")
    views = SplitViewCheck(session.api, directory.verified.checkpoint, session.profile)
    problem = drop_problem(views.verdict(request.log_head))
    views.save()
    if problem is not None:
        raise UnverifiedRequest(problem[1])
    title, message = _text(text, request.suite, request_id, session) if with_text else (None, "")
    view = _view(session, directory, request, title, message)
    session.verified_requests[request_id] = _Seen(signed, title, message, with_text)
    return view


def _view(
    session: Session,
    directory: Directory,
    request: FileRequest,
    title: str | None,
    message: str,
) -> RequestView:
    """What this person is to a verified request: on its desk, asked, or neither
    (then it is dangerous: the server listed it for us, but it does not name us)."""
    me = session.me.user
    desk = me in desk_of(directory.by_id(), request.mailbox)
    addressed = request.is_addressee(me)
    if not desk and not addressed:
        raise UnverifiedRequest("it does not name you, nor a mailbox you are a member of")
    return RequestView(request, title, message, desk, addressed)


def _text(
    ciphertext: bytes, suite: str, request_id: str, session: Session
) -> tuple[str | None, str]:
    try:
        plain = decrypt_small(suite, ciphertext, session.keys)
    except SecureSendError:  # not for this device: enrolled after the request was made,
        return None, ""  # or a CMS request and this device has no P-256 key yet
    try:
        return parse_text(json.loads(plain), request_id)
    except (ValueError, SecureSendError) as err:
        raise UnverifiedRequest(str(err)) from None


def listing(session: Session, directory: Directory) -> list[RequestView]:
    """Open requests for this person (asked, or on the desk), each verified; one that
    fails is skipped here and reported by :func:`listing_with_problems`."""
    return [v for v in listing_with_problems(session, directory) if isinstance(v, RequestView)]


def listing_with_problems(
    session: Session, directory: Directory
) -> list[RequestView | UnverifiedRequest]:
    """Open requests, each verified, or the reason it is dangerous (with its id)."""
    out: list[RequestView | UnverifiedRequest] = []
    for summary in session.api.requests():
        request_id = str(summary.get("request_id", ""))
        try:
            view = fetch(session, directory, request_id)
        except UnverifiedRequest as err:
            err.request_id = request_id
            out.append(err)
            continue
        reminded = summary.get("reminded")
        out.append(
            RequestView(
                view.request,
                view.title,
                view.message,
                view.desk,
                view.addressed,
                bool(summary.get("submitted")) and view.addressed,
                format_time(dt.datetime.fromtimestamp(int(reminded), dt.UTC))
                if isinstance(reminded, int)
                else None,
            )
        )
    return out


def submit(
    session: Session,
    directory: Directory,
    request_id: str,
    files: Sequence[Path],
) -> sending.PendingSend:
    """Prepare a submission (encrypt, sign; the caller finishes it like a send)."""
    view = fetch(session, directory, request_id, text=False)  # no title needed
    if not view.addressed:
        raise ClientError(ErrorCode.NOT_ADDRESSEE, "this file request was not sent to you")
    if parse_time(view.request.expires) <= utc_now():
        raise ClientError(ErrorCode.REQUEST_CLOSED, "this file request is closed")
    policy = session.policy()
    return sending.prepare(
        session,
        directory,
        sending.collect(files),
        [view.request.mailbox],
        expires=dt.timedelta(days=policy.max_expiry_days),
        request=request_id,
    )


def remind(session: Session, request_id: str, users: list[str] | None = None) -> list[str]:
    """Remind those who have not submitted (all, or ``users``); returns who was."""
    return session.api.remind(request_id, users)
