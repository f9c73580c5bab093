"""The desk's view of one file request: who submitted, who has not, who was late.

Guarantees: built only from signed, verified things — the request (its
addressees and due date) and the verified inbox items whose signed manifests
name it; the server's counts are never used. A submission from someone the
request did not ask is not counted (it is listed in ``strays``). Addressees who
have left the organisation appear in no list. Late is judged by each
submission's signed ``created`` time against the end of the due day in
Asia/Tokyo; a person is late when none of their submissions was on time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from secure_send.client import file_requests, listing
from secure_send.client.directory_sync import Directory
from secure_send.client.errors import ClientError
from secure_send.client.listing import InboxItem
from secure_send.client.session import Session
from secure_send.core.directory.model import Entry, Kind
from secure_send.core.encoding import parse_time
from secure_send.core.envelope.request import FileRequest, due_deadline
from secure_send.core.error_codes import ErrorCode


@dataclass(frozen=True)
class Submission:
    """One submission (a drop) of one addressee."""

    drop_id: str
    created: str
    late: bool
    saved: bool


@dataclass(frozen=True)
class AddresseeStatus:
    """One active addressee and their submissions, oldest first."""

    user: str
    name_ja: str
    name_en: str
    kana: str
    department: str
    submissions: tuple[Submission, ...]

    @property
    def submitted(self) -> bool:
        return bool(self.submissions)

    @property
    def submitted_at(self) -> str | None:
        """The newest submission's signed time (the one the desk should use)."""
        return self.submissions[-1].created if self.submissions else None

    @property
    def late(self) -> bool:
        """Submitted, but never on time."""
        return bool(self.submissions) and all(s.late for s in self.submissions)


@dataclass(frozen=True)
class RequestStatus:
    """Every active addressee of a request, with their submissions."""

    request: FileRequest
    people: tuple[AddresseeStatus, ...]  # sorted by department, then kana, then id
    strays: tuple[str, ...] = ()  # drop ids naming the request from someone not asked
    # every inbox drop that failed verification: which request it names cannot be
    # trusted, so none is counted, and the desk is told of all of them
    dangerous: tuple[InboxItem, ...] = ()

    @property
    def submitted(self) -> list[AddresseeStatus]:
        return [p for p in self.people if p.submitted]

    @property
    def pending(self) -> list[AddresseeStatus]:
        return [p for p in self.people if not p.submitted]

    @property
    def late(self) -> list[AddresseeStatus]:
        return [p for p in self.people if p.late]

    def to_json(self) -> dict[str, Any]:
        """``secure-send request status --json``: ``late`` is a subset of ``submitted``."""
        return {
            "request_id": self.request.request_id,
            "due": self.request.due,
            "submitted": [
                {"id": p.user, "submitted_at": p.submitted_at, "late": p.late}
                for p in self.submitted
            ],
            "pending": [{"id": p.user} for p in self.pending],
            "late": [p.user for p in self.late],
        }


def status(
    request: FileRequest, items: Iterable[InboxItem], entries: Mapping[str, Entry]
) -> RequestStatus:
    """The request's status from verified inbox ``items`` (see the module docstring).

    ``entries`` only names people (names, department, active or left): the verified
    directory's plain mapping (``directory.verified.by_id()``) serves, without each of
    thousands of addressees' device key bindings checked, as no key is used here."""
    by_sender: dict[str, list[Submission]] = {}
    strays = []
    # the end of the due day, once (is_late per item parsed it 5,000 times)
    deadline = due_deadline(request.due) if request.due is not None else None
    dangerous = []
    for item in items:
        if not item.verified:
            dangerous.append(item)
            continue
        if item.request != request.request_id:
            continue
        if not request.is_addressee(item.sender):
            strays.append(item.drop_id)
            continue
        late = deadline is not None and parse_time(item.created) >= deadline
        submission = Submission(item.drop_id, item.created, late, item.saved)
        by_sender.setdefault(item.sender, []).append(submission)
    people = []
    for user in request.addressees:
        entry = entries.get(user)
        if entry is None or entry.kind is not Kind.PERSON or not entry.active:
            continue  # left the organisation: no longer asked
        mine = sorted(by_sender.get(user, ()), key=lambda s: (s.created, s.drop_id))
        people.append(
            AddresseeStatus(
                user,
                entry.name_ja,
                entry.name_en,
                entry.name_kana,
                entry.department,
                tuple(mine),
            )
        )
    people.sort(key=lambda p: (p.department, p.kana, p.user))
    return RequestStatus(request, tuple(people), tuple(strays), tuple(dangerous))


def for_desk(session: Session, directory: Directory, request_id: str) -> RequestStatus:
    """The status a member of the request's desk sees: the signed request (fetched
    without its text: no title is needed), this person on its desk, the verified
    inbox, then :func:`status` over the snapshot's entries. What the CLI, the app,
    save all and the demo show.

    Raises:
        ClientError: the request does not verify (``unverified_request``), this person
            is not on its desk (``not_request_desk``), the inbox cannot be listed.
    """
    view = file_requests.fetch(session, directory, request_id, text=False)
    if not view.desk:
        raise ClientError(ErrorCode.NOT_REQUEST_DESK, "you are not on this request's desk")
    items, _ = listing.inbox(session, directory)
    return status(view.request, items, directory.verified.by_id())


CSV_COLUMNS = ("id", "name_ja", "name_en", "department", "status", "submitted_at", "submissions")


def to_csv(status: RequestStatus) -> str:
    """The status as CSV (ids, names, departments, submitted time — never a file name):
    ``status`` is ``submitted``, ``late`` or ``pending``. Text that a spreadsheet would
    run as a formula (``=``, ``+``, ``-``, ``@`` first) is quoted with a leading ``'``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for p in status.people:
        state = "late" if p.late else "submitted" if p.submitted else "pending"
        row = (p.user, p.name_ja, p.name_en, p.department, state, p.submitted_at or "")
        writer.writerow([_cell(v) for v in row] + [len(p.submissions)])
    return out.getvalue()


def _cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
