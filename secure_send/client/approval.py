"""上長承認 on the client: asking for approval, judging it on receipt, deciding.

* **Sender** (:func:`plan`): when this machine's policy (:mod:`.approval_rules`) gives a
  reason, the sender's approver from the verified directory is added as a recipient and
  the manifest signs ``approval_required``; a sender without an approver who could approve
  now (none named, departed, not set up) is refused before anything is written.
* **Every reader of a drop** (:func:`judge`, called by :func:`.receive.verify_drop`, so the
  Inbox, the details pane, a receive and "save all" all obey it): a drop that this
  machine's policy says needed approval but whose manifest asks for none, or that asks
  for one and carries no valid ``approved`` decision, is *dangerous* (``approval_missing``)
  — unless the reader is its sender or one of its approvers (listed by the manifest *and*
  the sender's approver in the reader's own directory), who see it pending. So a
  server that releases a drop early, or replays a decision about another manifest, or a
  sender's client that lists a colleague as "approver", achieves nothing but an alert. A
  submission to a file request is exempt only on the desk of a request the reader
  verified that asked the sender (:func:`request_finder`).
* **Approver** (:func:`decide`): signs the decision over the manifest's exact digest.

Qt-free.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from secure_send.client.approval_rules import ApprovalRules
from secure_send.client.errors import Cancelled, ClientError, ConnectionLost, DangerousDrop
from secure_send.client.mynumber import designated
from secure_send.core.directory.model import Entry
from secure_send.core.encoding import format_time, utc_now
from secure_send.core.envelope.approval import (
    Approval,
    ApproverError,
    Decision,
    approvers_for,
    manifest_digest,
    reachable_approvers,
)
from secure_send.core.envelope.manifest import (
    ApprovalRequired,
    Classification,
    EnvelopeError,
    Manifest,
)
from secure_send.core.envelope.request import FileRequest, desk_of
from secure_send.core.error_codes import ErrorCode

if TYPE_CHECKING:  # the session is built on this module's neighbours; only the type here
    from secure_send.client.directory_sync import Directory
    from secure_send.client.session import Session

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
# the verified file request of an id, or None (see request_finder)
FindRequest = Callable[[str], FileRequest | None]


@dataclass(frozen=True)
class ApprovalStatus:
    """A drop's approval as verified by this client. ``state``: "" (none needed),
    ``pending``, ``approved`` or ``rejected``; the decider, time and reason come from a
    decision whose signature verified, never from the server's word."""

    state: str = ""
    by: str = ""  # the approver the manifest names (a person or a role mailbox)
    reasons: tuple[str, ...] = ()
    decided_by: str = ""
    time: str = ""
    reason: str = ""  # a rejection's reason
    approving: bool = False  # the reader is one of the drop's approvers


NONE = ApprovalStatus()


@dataclass(frozen=True)
class ApprovalPlan:
    """What a send that needs approval adds: the signed requirement, and the approvers
    (persons with an active device) to encrypt to."""

    requirement: ApprovalRequired
    approvers: list[Entry]


def plan(
    entries: Mapping[str, Entry],
    rules: ApprovalRules,
    sender: str,
    people: Sequence[Entry],
    classification: Classification,
    holds_mynumbers: bool,
) -> ApprovalPlan | None:
    """The approval a send to ``people`` needs under ``rules``, or None.

    Raises:
        ClientError: ``no_approver`` (the directory names none for the sender),
            ``approver_unavailable`` (departed, unknown, or nobody of it set up the app) or,
            for files holding My Numbers, ``approver_not_designated`` (an approver who is
            not designated 個人番号取扱 would read them: issue 19's rule holds for them too).
    """
    reasons = rules.reasons(classification, holds_mynumbers, entries.get(sender), people)
    if not reasons:
        return None
    try:
        by, approvers = reachable_approvers(entries, sender)
    except ApproverError as err:
        code = ErrorCode.APPROVER_UNAVAILABLE if err.approver else ErrorCode.NO_APPROVER
        why = ", ".join(reasons)
        raise ClientError(code, f"this send needs approval ({why}), but {err}") from None
    if holds_mynumbers:  # they would read the numbers: only a designated handler may
        barred = [a.id for a in approvers if not designated(entries, a.id)]
        if barred:
            raise ClientError(
                ErrorCode.APPROVER_NOT_DESIGNATED,
                f"the files hold My Numbers and your approver {by} may not read them:"
                f" not designated 個人番号取扱: {', '.join(barred)}",
            )
    ids = tuple(a.id for a in approvers)
    return ApprovalPlan(ApprovalRequired(by, ids, reasons), approvers)


def judge(
    manifest: Manifest,
    server_approval: Any,
    entries: Mapping[str, Entry],
    rules: ApprovalRules,
    me: str,
    requests: FindRequest | None = None,
) -> ApprovalStatus:
    """A verified manifest's approval, as this reader (``me``) may treat it (see the
    module docstring); ``server_approval`` is the server's ``{"state", "decision"}`` for
    the drop (or None); ``requests`` finds the verified file request a submission
    names (:func:`request_finder`). Raises :class:`.DangerousDrop` (``approval_missing``)."""
    required = manifest.approval
    if required is None and _submission_to_my_desk(manifest, entries, me, requests):
        # a submission to a file request (提出依頼) needs none: the desk's signed request
        # fixed its recipients. The manifest's word is not enough — a modified client
        # could name any id — so only a request this reader verified counts
        return NONE
    if required is None:
        others = [entries.get(r.user) for r in manifest.recipients if r.user != manifest.sender]
        reasons = rules.reasons(
            manifest.classification,
            manifest.contains_specific_personal_info,
            entries.get(manifest.sender),
            others,
        )
        if reasons and me != manifest.sender:
            raise DangerousDrop(
                ErrorCode.APPROVAL_MISSING,
                f"policy asks for a superior's approval of this drop ({', '.join(reasons)}),"
                " but it was sent without asking for one",
            )
        return NONE
    # listed by the sender's (maybe modified) client: an approver only if the reader's
    # own directory makes them the sender's approver, as a decision of theirs needs
    listed = me in required.approvers
    approving = listed and _approves_for(entries, manifest.sender, required.by, me)
    privileged = me == manifest.sender or approving
    status = ApprovalStatus(PENDING, required.by, required.reasons, approving=approving)
    decision = server_approval.get("decision") if isinstance(server_approval, dict) else None
    if decision is not None:
        try:
            approval = Approval.from_json(decision)
            approval.verify(manifest, entries)
        except EnvelopeError as err:
            raise DangerousDrop(
                ErrorCode.APPROVAL_MISSING, f"the drop's approval does not verify: {err}"
            ) from None
        status = ApprovalStatus(
            approval.decision.value,
            required.by,
            required.reasons,
            approval.approver,
            approval.time,
            approval.reason,
            approving,
        )
    if status.state == APPROVED or privileged:
        return status
    if listed:
        raise DangerousDrop(
            ErrorCode.APPROVAL_MISSING,
            "this drop names you as its approver, but you are not the sender's approver"
            " in the directory, and it was not approved",
        )
    raise DangerousDrop(
        ErrorCode.APPROVAL_MISSING,
        "this drop needs a superior's approval and the server delivered it without one",
    )


def _approves_for(entries: Mapping[str, Entry], sender: str, by: str, me: str) -> bool:
    """Whether ``me`` stands, in this verified directory, for the sender's approver
    ``by`` as the manifest names it (:func:`.approvers_for`)."""
    try:
        named, people = approvers_for(entries, sender)
    except ApproverError:
        return False
    return named == by and me in people


def _submission_to_my_desk(
    manifest: Manifest, entries: Mapping[str, Entry], me: str, requests: FindRequest | None
) -> bool:
    """Whether the drop answers a verified file request that asked its sender and
    collects into the reader's mailbox (the reader is on its desk)."""
    if manifest.request is None or requests is None:
        return False
    request = requests(manifest.request)
    if request is None or request.request_id != manifest.request:
        return False
    return me in desk_of(entries, request.mailbox) and request.is_addressee(manifest.sender)


def request_finder(session: Session, directory: Directory) -> FindRequest:
    """Looks up (once per id) the file request a submission names, verified as
    :func:`.file_requests.fetch` does; None for one that is unknown, closed or does not
    verify (the drop is then judged as an ordinary send). A lost connection is raised."""
    from secure_send.client import file_requests  # built on send, which builds on this

    found: dict[str, FileRequest | None] = {}

    def find(request_id: str) -> FileRequest | None:
        if request_id not in found:
            try:
                view = file_requests.fetch(session, directory, request_id, text=False)
                found[request_id] = view.request
            except (ConnectionLost, Cancelled):
                raise
            except ClientError:
                found[request_id] = None
        return found[request_id]

    return find


def server_approval(session: Session, signed: Any) -> Any:
    """The server's approval object for a drop whose (unverified) manifest asks for one;
    None for every other drop (no request: they are most)."""
    body = signed.get("body") if isinstance(signed, dict) else None
    if not isinstance(body, dict) or "approval_required" not in body:
        return None
    return session.api.approval(str(body.get("drop_id", "")))


def decide(
    session: Session, directory: Directory, drop_id: str, approve: bool, reason: str = ""
) -> str:
    """Sign and post this device's decision on a drop it was asked to approve; returns
    the server's new state (``approved`` or ``rejected``).

    Raises:
        ClientError: ``no_approval_needed``, ``not_approver``, a dangerous drop, an
            invalid reason (``invalid_request``), or the server's refusal.
    """
    from secure_send.client.receive import fetch_verified  # receive builds on this module

    manifest, status = fetch_verified(session, directory, drop_id)
    me = session.me
    if manifest.approval is None:
        raise ClientError(ErrorCode.NO_APPROVAL_NEEDED, "this drop does not need approval")
    if me.user not in manifest.approval.approvers:
        raise ClientError(ErrorCode.NOT_APPROVER, "you are not an approver of this drop")
    if status.state != PENDING:
        raise ClientError(ErrorCode.ALREADY_DECIDED, f"this drop is already {status.state}")
    checkpoint = directory.verified.checkpoint
    try:
        approval = Approval(
            drop_id=manifest.drop_id,
            manifest=manifest_digest(manifest),
            approver=me.user,
            device=me.device,
            decision=Decision.APPROVED if approve else Decision.REJECTED,
            time=format_time(utc_now()),
            reason="" if approve else reason,
            log_size=checkpoint.log_size,
            log_root=checkpoint.log_root,
        )
    except EnvelopeError as err:
        raise ClientError(ErrorCode.INVALID_REQUEST, str(err)) from None
    return session.api.post_approval(drop_id, approval.signed_by(session.keys.signing).to_json())
