"""What the Inbox and Sent views show, verified: the CLI, the demo and the app use it.

Guarantees: an inbox item is ``verified`` only if its manifest verified against
the verified directory, names this device and carries a directory log head
consistent with this device's (:mod:`.split_view`) — once, kept in the profile
(:mod:`.inbox_cache`) — and the sender's device is still active in the directory
the listing is given; else it carries the reason and must be shown as dangerous.
A sent item shows "downloaded at" for a recipient only on a receipt that verifies
under that recipient's device key for this drop's exact blob hashes *and* whose
signed log head is consistent with this device's — the server's word alone is
never shown. A receipt whose head is
inconsistent or could not be checked puts a ``problem`` on that recipient.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from secure_send.client import approval, receipts
from secure_send.client.approval import NONE, ApprovalStatus
from secure_send.client.directory_sync import Directory
from secure_send.client.errors import ClientError, DangerousDrop
from secure_send.client.inbox_cache import InboxCache, Record, forget_marks, saved_marks
from secure_send.client.receive import verify_drop
from secure_send.client.session import Session
from secure_send.client.split_view import SplitViewCheck, receipt_problem
from secure_send.core.directory.model import Entry
from secure_send.core.drop_state import DropState
from secure_send.core.envelope.manifest import (
    EnvelopeError,
    Manifest,
    SignedManifest,
    active_device,
)
from secure_send.core.envelope.receipt import Receipt
from secure_send.core.error_codes import ErrorCode
from secure_send.core.errors import SecureSendError


@dataclass(frozen=True)
class InboxItem:
    """One drop for me."""

    drop_id: str
    seq: int
    verified: bool
    problem: str = ""  # why it is dangerous, when not verified
    sender: str = ""
    sender_name_ja: str = ""
    sender_name_en: str = ""
    department: str = ""
    created: str = ""
    expires: str = ""
    saved: bool = False  # this device posted a receipt (or saved it and owes one)
    problem_code: ErrorCode | None = None  # the problem's stable code, for the app
    request: str = ""  # the file request this drop answers (its signed manifest says)
    # 上長承認 as verified: "" none needed, pending (only its sender and approvers see
    # one), approved; ``approving``: this person decides it; ``reasons`` as signed
    approval: str = ""
    approving: bool = False
    reasons: tuple[str, ...] = ()
    decided_by: str = ""


@dataclass(frozen=True)
class RecipientStatus:
    """One recipient of a sent drop; ``downloaded`` is a verified receipt's time.

    ``problem`` (with its ``problem_code``) says why a receipt of theirs is not
    trusted (their directory differs from ours, or could not be checked); then
    ``downloaded`` is None whatever other receipts say."""

    user: str
    name_ja: str
    department: str
    downloaded: str | None
    problem: str = ""
    problem_code: ErrorCode | None = None


@dataclass(frozen=True)
class SentItem:
    """One drop I sent."""

    drop_id: str
    state: DropState  # as the server says; DAMAGED: the server's record is unreadable
    created: str
    expires: str
    recipients: tuple[RecipientStatus, ...]
    unverified_receipts: int = 0  # receipts that did not verify (maybe a newer device)
    # 上長承認: the state, and who decided and why, from a decision that verified
    approval: ApprovalStatus = NONE
    approval_problem: str = ""  # the server showed a decision that does not verify


def inbox(
    session: Session, directory: Directory, *, wait: float = 0, after: int = 0
) -> tuple[list[InboxItem], int]:
    """My drops (waiting up to ``wait`` s when none changed after ``after``) and the next
    cursor. Reads every page after the profile's cursor into the verified inbox kept
    there (:mod:`.inbox_cache`: each manifest verified once; ended drops removed) and
    returns the whole current list from it. Receipts an earlier receive could not post
    are posted first; a drop whose receipt is still owed shows as saved (:mod:`.receipts`)."""
    receipts.post_owed(session.profile, session.api)
    profile, me = session.profile, session.me
    cache = InboxCache.load(profile, me.user, me.device)
    verifier = _Verifier(session, directory)
    # wait only when the caller has seen everything held (else answer with it now)
    first_wait = 0.0 if cache.has_after(after) else wait
    while True:
        answer = session.api.inbox(first_wait, cache.cursor)
        forget_marks(profile, cache.apply(answer, verifier))
        if not answer.get("more"):
            break
        first_wait = 0.0
    # Re-judging kept items needs names and "is the device still active", no key: the
    # verified snapshot's plain mapping, without a device key binding check per sender
    # (0.36 s at 5,000 senders). New manifests were verified above with checked entries.
    entries = directory.verified.by_id()
    saved = receipts.owed_ids(profile) | saved_marks(profile)
    now = int(time.time())
    items = []
    senders: dict[tuple[str, str], Entry | str] = {}  # judged sender devices: entry or problem
    for record in list(cache.records.values()):
        if record.expires_at and record.expires_at <= now:
            # past its signed expiry; the server says so at its next sweep, unless it
            # already forgot the drop's rows (30 days after expiry) before we asked
            cache.forget(record.drop_id)
            continue
        if not record.verified and record.drop_id not in verifier.errors:
            record = cache.reverify(record, verifier)  # failed before: the directory may be newer
        items.append(_inbox_item(record, entries, verifier.errors, saved, senders))
    verifier.save()
    cache.save(profile)
    return items, cache.cursor


def awaiting_my_approval(items: list[InboxItem]) -> list[InboxItem]:
    """The verified drops waiting for this person's decision (上長承認), oldest first."""
    return [i for i in items if i.verified and i.approving and i.approval == "pending"]


def inbox_rechecked(
    session: Session,
    directory: Directory,
    rechecked: set[str],
    *,
    wait: float = 0,
    after: int = 0,
) -> tuple[list[InboxItem], int]:
    """:func:`inbox`, and once for each drop that newly fails, again against a freshly
    synced directory: a colleague who enrolled after ``directory`` was verified signs
    with a device it does not know, and their first drop would show as dangerous until
    the next refresh. ``rechecked`` (the caller's, kept between polls) holds the drops
    already given that second chance, so a really forged drop costs one sync, once."""
    items, cursor = inbox(session, directory, wait=wait, after=after)
    failing = {i.drop_id for i in items if not i.verified} - rechecked
    if not failing:
        return items, cursor
    rechecked.update(failing)
    return inbox(session, session.directory(), after=after)


class _Verifier:
    """Verifies manifests for one listing (:func:`.receive.verify_drop`), remembering why
    each failed; the split-view check is made only if a manifest is verified at all."""

    def __init__(self, session: Session, directory: Directory) -> None:
        self.session, self.directory = session, directory
        self.errors: dict[str, tuple[ErrorCode, str]] = {}
        self._views: SplitViewCheck | None = None
        # a file request is verified once per listing, however many submissions name it
        self._requests = approval.request_finder(session, directory)

    def __call__(
        self, drop_id: str, signed: Any, server_approval: Any
    ) -> tuple[Manifest, ApprovalStatus]:
        if self._views is None:
            checkpoint = self.directory.verified.checkpoint
            self._views = SplitViewCheck(self.session.api, checkpoint, self.session.profile)
        try:
            verified = verify_drop(
                self.directory,
                self.session.me,
                drop_id,
                signed,
                self._views,
                rules=self.session.it_policy.approval,
                server_approval=server_approval,
                requests=self._requests,
            )
        except (SecureSendError, KeyError, TypeError, ValueError) as err:
            code = err.code if isinstance(err, ClientError) else ErrorCode.UNVERIFIED_DROP
            self.errors[drop_id] = (code, str(err))
            raise
        self.errors.pop(drop_id, None)
        return verified

    def save(self) -> None:
        if self._views is not None:
            self._views.save()


def _inbox_item(
    record: Record,
    entries: Mapping[str, Entry],
    errors: dict[str, tuple[ErrorCode, str]],
    saved: set[str],
    senders: dict[tuple[str, str], Entry | str],
) -> InboxItem:
    drop_id, seq = record.drop_id, record.seq
    if not record.verified:
        code, problem = errors.get(drop_id, (ErrorCode.UNVERIFIED_DROP, "unverified"))
        return InboxItem(drop_id, seq, False, problem, problem_code=code)
    key = (record.sender, record.sender_device)
    if key not in senders:  # one directory look-up per sender device, not per drop
        try:
            # the cached verification holds only while the device that signed is active
            entry = entries.get(record.sender)
            active_device(entry, record.sender_device, "sender")
            senders[key] = entries[record.sender]  # there: active_device refuses None
        except EnvelopeError as err:
            senders[key] = f"this drop failed verification: {err}"
    sender = senders[key]
    if not isinstance(sender, Entry):
        return InboxItem(drop_id, seq, False, sender, problem_code=ErrorCode.UNVERIFIED_DROP)
    return InboxItem(
        drop_id,
        seq,
        True,
        "",
        sender.id,
        sender.name_ja,
        sender.name_en,
        sender.department,
        record.created,
        record.expires,
        record.saved or drop_id in saved,
        request=record.request,
        approval=record.approval,
        approving=record.approving,
        reasons=tuple(r for r in record.reasons.split(",") if r),
        decided_by=record.decided_by,
    )


def sent(session: Session, directory: Directory) -> list[SentItem]:
    """My drops with verified per-recipient receipts."""
    entries = directory.by_id()
    views = SplitViewCheck(session.api, directory.verified.checkpoint, session.profile)
    items = []
    for drop in session.api.sent():
        try:
            # the server cannot show us recipients or times we did not sign
            own = entries.get(session.me.user)
            manifest = SignedManifest.from_json(drop["manifest"]).verify_sent_by(own)
            state = DropState(drop["state"])
        except (SecureSendError, KeyError, TypeError, ValueError):
            # the server's copy of our own manifest (or its state) does not parse or is not
            # signed by one of our devices: say so, show none of it, keep the rest
            items.append(SentItem(str(drop.get("drop_id", "")), DropState.DAMAGED, "", "", ()))
            continue
        raw = session.api.receipts(manifest.drop_id)
        receipts = _Receipts.judge(raw, manifest, entries, views)
        status, problem = _approval(session, manifest, drop.get("approval"), entries)
        items.append(
            SentItem(
                manifest.drop_id,
                state,
                manifest.created,
                manifest.expires,
                tuple(
                    receipts.status(ref.user, entries.get(ref.user)) for ref in manifest.recipients
                ),
                receipts.unverified,
                status,
                problem,
            )
        )
    views.save()
    return items


def _approval(
    session: Session, manifest: Manifest, server: Any, entries: Mapping[str, Entry]
) -> tuple[ApprovalStatus, str]:
    """A sent drop's approval as its sender may show it: a decision the server shows
    counts only if it verifies (else the problem, and the drop still shows pending)."""
    rules = session.it_policy.approval
    try:
        return approval.judge(manifest, server, entries, rules, session.me.user), ""
    except DangerousDrop as err:
        return approval.judge(manifest, None, entries, rules, session.me.user), str(err)


@dataclass
class _Receipts:
    """One drop's receipts, judged: the earliest trusted time and any problem per user."""

    opened: dict[str, str] = field(default_factory=dict)
    problems: dict[str, tuple[ErrorCode, str]] = field(default_factory=dict)  # user -> code, text
    unverified: int = 0  # receipts that did not verify (maybe a newer device)

    @classmethod
    def judge(
        cls,
        raw: list[Any],
        manifest: Manifest,
        entries: Mapping[str, Entry],
        views: SplitViewCheck,
    ) -> _Receipts:
        judged = cls()
        for obj in raw:
            try:
                receipt = Receipt.from_json(obj)
                receipt.verify(manifest, entries)
            except SecureSendError:  # unverifiable: not shown as downloaded
                judged.unverified += 1
                continue
            # a verified receipt from a device whose history differs from ours (or
            # cannot be compared) is not shown as a download: it may be a split view
            problem = receipt_problem(views.verdict(receipt.log_head))
            if problem is not None:
                judged.problems[receipt.user] = problem
            elif receipt.user not in judged.opened or receipt.time < judged.opened[receipt.user]:
                judged.opened[receipt.user] = receipt.time
        return judged

    def status(self, user: str, entry: Entry | None) -> RecipientStatus:
        """What to show for one recipient (a problem hides any download time)."""
        code, problem = self.problems.get(user, (None, ""))
        return RecipientStatus(
            user,
            entry.name_ja if entry else user,
            entry.department if entry else "",
            None if problem else self.opened.get(user),
            problem,
            code,
        )
