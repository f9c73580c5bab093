"""File requests (提出依頼) for the app: the list, submitting, the desk's work.

Part of :class:`~secure_send.gui.model.AppModel` (``model.requests``): every call to
the client library (``client/file_requests.py``, ``client/request_status.py`` and the
desk's ``client/save_all.py``) runs here as a :mod:`secure_send.gui.threads` task; the
views (``views/requests_page.py``, ``views/request_desk.py``, the create and confirm
dialogs) only read these properties, connect to the signals and start the tasks.

The list is fetched again every :data:`POLL_MS` and after each inbox long-poll answer
(the server wakes an addressee's long-poll when a request is created or a reminder
sent), one refresh at a time. A request that was not there before, or a reminder newer
than the last one seen, is announced (``arrived``, ``reminded``) for the tray — never
on the first load, which only shows what was already there.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from secure_send.client import file_requests, request_status
from secure_send.client.directory_sync import Directory, DirectoryUnverified
from secure_send.client.file_requests import RequestView, UnverifiedRequest
from secure_send.client.request_status import RequestStatus
from secure_send.client.save_all import SaveProgress, SaveSummary, save_all
from secure_send.core.directory.model import Entry, Kind
from secure_send.core.error_codes import ErrorCode
from secure_send.gui import threads

if TYPE_CHECKING:
    from secure_send.gui.model import AppModel

log = logging.getLogger(__name__)
POLL_MS = 60_000

Listed = RequestView | UnverifiedRequest


@dataclass(frozen=True)
class NewRequest:
    """What the create dialog collected (``into``: a role id, or ``file_requests.ME``)."""

    into: str
    to: tuple[str, ...]
    departments: tuple[str, ...]
    everyone: bool
    title: str
    due: str | None  # YYYY-MM-DD (Asia/Tokyo)
    message: str


def request_id_of(listed: Listed) -> str:
    """The id of a listed request, verified or not."""
    return listed.request_id


class RequestsModel(QObject):
    """See the module docstring."""

    changed = Signal(list)  # list[RequestView | UnverifiedRequest]
    arrived = Signal(list)  # list[RequestView]: new since the last refresh
    reminded = Signal(list)  # list[RequestView]: a reminder newer than the last seen
    refresh_failed = Signal(object)

    def __init__(self, owner: AppModel) -> None:
        super().__init__(owner)
        self.owner = owner
        self.items: list[Listed] = []
        self._loaded = False
        self._refreshing: threads.Task | None = None
        self._again = False  # asked while a refresh ran: one more when it ends
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.refresh)
        owner.inbox_changed.connect(self._on_owner_inbox_changed)

    # ---------------------------------------------------------------- the list
    def start(self) -> None:
        """Load the list now and keep it current."""
        self._timer.start()
        self.refresh()

    def stop(self) -> None:
        self._timer.stop()

    def _directory(self) -> Directory:
        return self.owner.directory or self.owner.session.directory()

    def refresh(self) -> threads.Task:
        """Fetch and verify the open requests for me; one refresh at a time."""
        if self._refreshing is not None:
            self._again = True
            return self._refreshing
        session = self.owner.session

        def work(task: threads.Task) -> list[Listed]:
            return file_requests.listing_with_problems(session, self._directory())

        task = threads.Task(work)
        task.read_only = True
        task.succeeded.connect(self._on_listed)
        task.failed.connect(self._on_list_failed)
        task.ended.connect(self._on_refresh_ended)
        self._refreshing = task
        return threads.start(task)

    def _on_owner_inbox_changed(self, _items: object) -> None:
        if self._timer.isActive():  # started: a long-poll answered (maybe woken for us)
            self.refresh()

    def _on_refresh_ended(self) -> None:
        self._refreshing = None
        if self._again:
            self._again = False
            self.refresh()

    def _on_list_failed(self, err: BaseException) -> None:
        log.info("request list failed: %s", type(err).__name__)
        self.refresh_failed.emit(err)

    def _on_listed(self, items: list[Listed]) -> None:
        before = {v.request_id: v for v in self.items if isinstance(v, RequestView)}
        self.items = items
        if self._loaded:
            views = [v for v in items if isinstance(v, RequestView)]
            new = [v for v in views if v.request_id not in before and v.addressed]
            nudged = [
                v
                for v in views
                if v.request_id in before
                and v.reminded is not None
                and v.reminded != before[v.request_id].reminded
                and not v.submitted
            ]
            if new:
                self.arrived.emit(new)
            if nudged:
                self.reminded.emit(nudged)
        self._loaded = True
        self.changed.emit(items)

    def view(self, request_id: str) -> RequestView | None:
        """A verified listed request by id."""
        for v in self.items:
            if isinstance(v, RequestView) and v.request_id == request_id:
                return v
        return None

    # ---------------------------------------------------------------- directory reads
    def entry(self, entry_id: str) -> Entry | None:
        """A verified directory entry (a mailbox's name and department)."""
        return self.owner.entry(entry_id)

    def mailboxes(self) -> list[Entry]:
        """Where I may collect: my own entry first, then each active role I am a member of."""
        directory = self.owner.directory
        me = self.owner.session.me.user
        if directory is None:
            return []
        entries = directory.verified.entries
        own = [e for e in entries if e.id == me]
        roles = [e for e in entries if e.kind is Kind.ROLE and e.active and me in e.members]
        return own + sorted(roles, key=lambda e: e.name_kana)

    def departments(self) -> list[str]:
        """Every department that has an active person, sorted."""
        directory = self.owner.directory
        if directory is None:
            return []
        return sorted(
            {
                e.department
                for e in directory.verified.entries
                if e.kind is Kind.PERSON and e.active and e.department
            }
        )

    # ---------------------------------------------------------------- actions
    def _usable(self) -> None:
        state = self.owner.state
        if self.owner.directory is None or not state.usable:
            raise DirectoryUnverified(
                state.problem_code or ErrorCode.DIRECTORY_UNAVAILABLE, state.problem
            )

    def submit(self, request_id: str, paths: list[Path]) -> threads.Task:
        """A task that submits ``paths`` to a request: a send to the request's mailbox
        (no recipient chosen), finished like any send (``SendTasks.finish_in``: retries
        with the same drop id; notes and progress as for a send). Result: the drop id."""
        owner = self.owner

        def work(task: threads.Task) -> str:
            self._usable()
            task.progress("prepare", 0, 1)
            session = owner.session
            pending = file_requests.submit(session, session.directory(), request_id, paths)
            return owner.sends.deliver(task, pending)

        task = threads.Task(work)
        task.succeeded.connect(lambda _: self.refresh())
        return task

    def create(self, new: NewRequest) -> threads.Task:
        """A task that signs and stores a new request; result: its id."""
        session = self.owner.session

        def work(task: threads.Task) -> str:
            self._usable()
            return file_requests.create(
                session,
                session.directory(),
                into=new.into,
                to=new.to,
                departments=new.departments,
                everyone=new.everyone,
                title=new.title,
                due=new.due,
                message=new.message,
            )

        task = threads.Task(work)
        task.succeeded.connect(lambda _: self.refresh())
        return task

    def status(self, request_id: str) -> threads.Task:
        """A task for the desk: the request's status from the verified inbox; result:
        :class:`RequestStatus`."""
        session = self.owner.session

        def work(task: threads.Task) -> RequestStatus:
            return request_status.for_desk(session, self._directory(), request_id)

        task = threads.Task(work)
        task.read_only = True
        return task

    def remind(self, request_id: str) -> threads.Task:
        """A task reminding everyone who has not submitted; result: the ids reminded."""
        session = self.owner.session

        def work(task: threads.Task) -> list[str]:
            return file_requests.remind(session, request_id)

        return threads.Task(work)

    def export_csv(self, state: RequestStatus, path: Path) -> threads.Task:
        """A task writing the status as CSV (UTF-8 with a BOM, for Excel; no file names)."""

        def work(task: threads.Task) -> Path:
            path.write_text("\ufeff" + request_status.to_csv(state), encoding="utf-8")
            return path

        return threads.Task(work)

    def save_all(self, request_id: str, target: Path) -> threads.Task:
        """A task saving every submission of a request into ``target`` (one folder per
        submitter, resumable: ``client/save_all.py``); one progress label; result: its
        summary."""
        session = self.owner.session

        def work(task: threads.Task) -> SaveSummary:
            def moved(p: SaveProgress) -> None:  # one bar: bytes over every submission
                task.progress("all", p.bytes_done, p.bytes_total)

            return save_all(session, self._directory(), request_id, target, moved, task.cancel)

        task = threads.Task(work)
        task.succeeded.connect(lambda _: self.owner.refresh_inbox())
        return task


def is_overdue(view: RequestView, now: dt.datetime | None = None) -> bool:
    """Whether the due day of ``view`` has passed (Asia/Tokyo)."""
    from secure_send.core.envelope.request import due_deadline

    due = view.request.due
    return due is not None and (now or dt.datetime.now(dt.UTC)) >= due_deadline(due)
