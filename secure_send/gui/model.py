"""The app's state and the operations the views ask for, as Qt signals.

``AppModel`` owns the :class:`secure_send.client.session.Session` and runs every
network or disk operation as a :mod:`secure_send.gui.threads` task. Views only
read its properties and connect to its signals; they never call the client
library themselves.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from secure_send.client import listing
from secure_send.client import own_devices as owned
from secure_send.client import receive as receiving
from secure_send.client import send as sending
from secure_send.client.directory_sync import Directory, DirectoryUnverified
from secure_send.client.errors import ClientError, ConnectionLost
from secure_send.client.key_changes import KeyChange, recipient_key_changes
from secure_send.client.mynumber import MyNumberCheck
from secure_send.client.own_devices import OwnDevice
from secure_send.client.server_policy import ServerPolicy
from secure_send.client.session import Session
from secure_send.core.directory.errors import DirectoryError
from secure_send.core.directory.model import Entry
from secure_send.core.directory.search import SearchIndex
from secure_send.core.encoding import parse_time
from secure_send.core.envelope.manifest import Classification
from secure_send.core.error_codes import ErrorCode
from secure_send.gui import threads
from secure_send.gui.approval_tasks import ApprovalTasks
from secure_send.gui.details_loader import DetailsLoader
from secure_send.gui.directory_state import (
    DIRECTORY_RETRY,
    Backoff,
    failure_code,
    last_verified,
)
from secure_send.gui.directory_state import DirectoryState as DirectoryState  # re-exported
from secure_send.gui.requests_model import RequestsModel
from secure_send.gui.send_tasks import SendTasks

log = logging.getLogger(__name__)
POLL_SECONDS = 20.0  # one inbox long-poll; a new drop ends it at once
EARLY_ANSWER_PAUSE_MS = 5_000  # before asking again after a long-poll answered at once
DIRECTORY_REFRESH_MS = 5 * 60 * 1000


# what a directory refresh hands to the main thread
Loaded = tuple[Directory, SearchIndex, ServerPolicy | None, list[OwnDevice]]


@dataclass(frozen=True)
class SendRequest:
    """What the Send page collected."""

    files: tuple[sending.FileToSend, ...]  # collected once, when the user chose Send
    to: tuple[str, ...]
    expires: dt.timedelta
    message: str
    classification: Classification
    # the My Number check the confirm sheet showed (None until checked): the send obeys
    # exactly what the sender saw (gui/views/mynumber_gate.py)
    mynumber: MyNumberCheck | None = None


class AppModel(QObject):
    """See the module docstring."""

    directory_changed = Signal(object)  # DirectoryState
    inbox_changed = Signal(list)  # list[listing.InboxItem]
    new_drops_arrived = Signal(list)  # the items that were not there before
    sent_changed = Signal(list)  # list[listing.SentItem]
    receipts_arrived = Signal(list)  # [(SentItem, RecipientStatus)] newly downloaded
    failed = Signal(object)  # an exception from background work nobody else handles
    # list[OwnDevice]: every device in this person's own entry, after each directory refresh
    own_devices_changed = Signal(list)

    def __init__(
        self,
        session: Session,
        parent: QObject | None = None,
        *,
        max_expiry_days: int | None = None,
        directory_retry: tuple[float, float] = DIRECTORY_RETRY,
    ) -> None:
        """``max_expiry_days``: IT policy's cap on the server's longest expiry;
        ``directory_retry``: the (first, longest) :class:`Backoff` after a network failure."""
        super().__init__(parent)
        self.session = session
        self._max_expiry_days = max_expiry_days
        self.directory: Directory | None = None
        self.index: SearchIndex | None = None
        self.state = DirectoryState(False, ErrorCode.DIRECTORY_UNAVAILABLE, "", 0)
        self.policy: ServerPolicy | None = None  # the server's, capped by IT policy
        self.inbox: list[listing.InboxItem] = []
        self.own_devices: list[OwnDevice] = []  # as the last refresh judged them
        self.sent: list[listing.SentItem] = []
        self._cursor = 0
        self._loaded = False  # the first inbox answer came in (later drops are "new")
        self._polling = False
        self._poll_wait, self._poll_started = 0.0, 0.0  # the running long-poll's
        self._stopped = False
        self._seen_receipts: set[tuple[str, str]] | None = None
        self._rechecked: set[str] = set()  # failing drops checked again with a fresh sync
        # finishing, retrying, discarding and finding unfinished sends (gui/send_tasks.py)
        self.sends = SendTasks(self.session, self)
        # drop details (names, sizes, message), fetched on worker threads, kept in memory
        self.details = DetailsLoader(self)
        # file requests (提出依頼): the list, submitting, the desk (gui/requests_model.py)
        self.requests = RequestsModel(self)
        # 上長承認: the approval a send asks for, an approver's decision (gui/approval_tasks.py)
        self.approvals = ApprovalTasks(self)
        self._sent_timer = QTimer(self)
        self._sent_timer.setInterval(15_000)
        self._sent_timer.timeout.connect(self.refresh_sent)
        self._directory_timer = QTimer(self)  # new colleagues, revoked devices, expiry
        self._directory_timer.setInterval(DIRECTORY_REFRESH_MS)
        self._directory_timer.timeout.connect(self.refresh_directory)
        self._retry = Backoff(self.refresh_directory, *directory_retry, parent=self)
        self._refreshing: threads.Task | None = None

    # ---------------------------------------------------------------- directory
    def refresh_directory(self) -> threads.Task:
        """Fetch and verify the directory (and the server's policy); one at a time."""
        if self._refreshing is not None:
            return self._refreshing
        self._retry.cancel()
        previous_policy = self.policy

        def work(task: threads.Task) -> Loaded:
            directory = self.session.directory()  # by the log: usually a 304
            # one index per verified directory (a 304 keeps it), offline too (search works)
            index, policy = directory.search_index(), previous_policy
            index.prepare_lookalikes()  # the picker asks per result: ready before it does
            if directory.fresh:
                try:
                    policy = self.session.policy().capped(self._max_expiry_days)
                except ConnectionLost:  # gone since the sync: the copy is not current
                    directory = Directory(directory.verified, fresh=False)
            return directory, index, policy, self._judge_own(directory)

        task = threads.Task(work)
        task.succeeded.connect(self._on_directory)
        task.failed.connect(self._on_directory_failed)
        self._refreshing = task
        return threads.start(task)

    def _server_answered(self) -> None:
        """Another request got through: if the directory is blocked only because the
        server was away, verify it now instead of waiting for the next retry."""
        if self.state.offline and not self._stopped:
            self.refresh_directory()

    def _judge_own(self, directory: Directory) -> list[OwnDevice]:
        """This person's own devices, judged by the client library (worker thread)."""
        session = self.session
        return owned.own_devices(session.profile, session.me, session.keys, directory)

    @property
    def unknown_devices(self) -> list[OwnDevice]:
        """Active devices in my own entry this PC did not enrol and nobody acknowledged."""
        return [d for d in self.own_devices if d.unknown]

    def _on_directory(self, result: Loaded) -> None:
        self._refreshing = None  # here, not on ``ended``: that may come after a new ask
        self.directory, self.index, self.policy, devices = result
        self._set_own_devices(devices)
        entries = len(self.directory.verified.entries)
        if self.directory.fresh:
            now = dt.datetime.now().astimezone()
            self.state = DirectoryState(True, entries=entries, verified_at=now)
            self._retry.reset()
        else:  # the last verified copy: searchable, but sending waits for a fresh one
            when = last_verified(self.state, self.session.profile.checkpoint_file)
            self.state = DirectoryState(False, ErrorCode.DIRECTORY_STALE, "offline", entries, when)
            self._retry.schedule()
        self.directory_changed.emit(self.state)

    def _set_own_devices(self, devices: list[OwnDevice]) -> None:
        self.own_devices = devices
        self.own_devices_changed.emit(devices)

    def acknowledge_device(self, device_id: str) -> threads.Task:
        """A task recording that the person enrolled ``device_id`` themselves; when it
        succeeds, ``own_devices_changed`` reports the new judgement."""

        def work(task: threads.Task) -> list[OwnDevice]:
            directory = self.directory or self.session.directory()
            session = self.session
            owned.acknowledge(session.profile, session.me, session.keys, directory, device_id)
            return self._judge_own(directory)

        task = threads.Task(work)
        task.succeeded.connect(self._set_own_devices)
        return task

    def key_changes(self, request_to: tuple[str, ...]) -> dict[str, list[tuple[Entry, KeyChange]]]:
        """Per chosen recipient id: the devices of the person(s) it reaches that the sender
        should know about (new since the last send to them, or enrolled this week)."""
        if self.directory is None:
            return {}
        found: dict[str, list[tuple[Entry, KeyChange]]] = {}
        for entry_id in request_to:
            try:
                people = sending.resolve_recipients(
                    self.directory, [entry_id], self.session.me.user
                )
            except (ClientError, DirectoryError):  # not sendable: the send will say why
                continue
            by_id = {p.id: p for p in people}
            changes = recipient_key_changes(self.session.profile, people)
            found[entry_id] = [(by_id[c.user], c) for c in changes]
        return found

    def _on_directory_failed(self, err: BaseException) -> None:
        self._refreshing = None
        code = failure_code(err)
        # the index of the last verified copy stays: search keeps working, sending waits
        entries = len(self.directory.verified.entries) if self.directory else 0
        when = last_verified(self.state, self.session.profile.checkpoint_file)
        self.state = DirectoryState(False, code, str(err), entries, when)
        if self.state.offline:  # the server or network was away: try again soon
            self._retry.schedule()
        self.directory_changed.emit(self.state)

    def entry(self, entry_id: str) -> Entry | None:
        """A verified entry by id, for display (bisection: no dictionary of 100,000; the
        client checks device bindings itself before any key is used)."""
        return owned.own_entry(self.directory, entry_id) if self.directory else None

    # ---------------------------------------------------------------- inbox
    def start(self) -> None:
        """Load everything and keep the inbox and receipts current."""
        self.refresh_directory()
        self.refresh_sent()
        self._sent_timer.start()
        self._directory_timer.start()
        self.requests.start()
        self._poll()

    def stop(self) -> None:
        """Stop polling (the running long-poll ends by itself)."""
        self._stopped = True
        self._sent_timer.stop()
        self._directory_timer.stop()
        self.requests.stop()
        self._retry.stop()

    def _poll(self) -> None:
        if self._polling or self._stopped:
            return
        self._polling = True
        wait = POLL_SECONDS if self._loaded else 0.0
        self._poll_wait, self._poll_started = wait, time.monotonic()
        task = self._inbox_task(wait, self._cursor)
        task.succeeded.connect(self._on_polled)
        task.failed.connect(self._on_poll_failed)
        threads.start(task)

    def _inbox_task(self, wait: float, after: int) -> threads.Task:
        def work(task: threads.Task) -> tuple[list[listing.InboxItem], int]:
            directory = self.directory or self.session.directory()
            rechecked = self._rechecked  # polls run one at a time
            return listing.inbox_rechecked(
                self.session, directory, rechecked, wait=wait, after=after
            )

        task = threads.Task(work)
        task.read_only = True
        return task

    def refresh_inbox(self) -> None:
        """Reload the inbox now (e.g. after saving); the long-poll loop runs on."""
        task = self._inbox_task(0.0, 0)
        task.succeeded.connect(self._on_inbox)
        threads.start(task)

    def _on_polled(self, result: tuple[list[listing.InboxItem], int]) -> None:
        self._polling = False
        self._server_answered()
        # a long-poll answered at once with nothing new: the server is shedding long-polls
        # (its cap on waiting connections is reached); asking again at once would make
        # every client a busy loop against it, so wait a little first
        early = (
            self._poll_wait > 0
            and result[1] <= self._cursor
            and time.monotonic() - self._poll_started < self._poll_wait / 2
        )
        self._on_inbox(result)
        QTimer.singleShot(EARLY_ANSWER_PAUSE_MS if early else 0, self._poll)

    def _on_inbox(self, result: tuple[list[listing.InboxItem], int]) -> None:
        items, cursor = result
        known = {i.drop_id for i in self.inbox}
        fresh = [i for i in items if i.drop_id not in known]
        self.inbox = items
        if fresh and self._loaded:
            self.new_drops_arrived.emit(fresh)
        self._loaded = True
        self._cursor = max(self._cursor, cursor)
        self.inbox_changed.emit(items)

    def _on_poll_failed(self, err: BaseException) -> None:
        self._polling = False
        log.info("inbox poll failed: %s", type(err).__name__)
        QTimer.singleShot(5_000, self._poll)  # the server may be back soon

    # ---------------------------------------------------------------- sent
    def refresh_sent(self) -> None:
        """Reload Sent (with verified receipts)."""

        def work(task: threads.Task) -> tuple[list[listing.SentItem], Any]:
            directory = self.directory or self.session.directory()
            items = listing.sent(self.session, directory)
            if not any(i.unverified_receipts for i in items):
                return items, None
            # a receipt from a device our copy of the directory does not know yet (just
            # enrolled): fetch and verify the directory again, then judge once more
            directory = self.session.directory()
            index = directory.search_index()  # built here, not in the UI
            loaded = (directory, index, self.policy, self._judge_own(directory))
            return listing.sent(self.session, directory), loaded

        task = threads.Task(work)
        task.succeeded.connect(self._on_sent_loaded)
        task.failed.connect(lambda err: log.info("sent refresh failed: %s", type(err).__name__))
        threads.start(task)

    def _on_sent_loaded(self, result: tuple[list[listing.SentItem], Any]) -> None:
        items, refreshed = result
        self._server_answered()
        if refreshed is not None:
            self._on_directory(refreshed)
        self._on_sent(items)

    def _on_sent(self, items: list[listing.SentItem]) -> None:
        seen = {(i.drop_id, r.user) for i in items for r in i.recipients if r.downloaded}
        if self._seen_receipts is not None:
            new = [
                (i, r)
                for i in items
                for r in i.recipients
                if r.downloaded and (i.drop_id, r.user) not in self._seen_receipts
            ]
            if new:
                self.receipts_arrived.emit(new)
        self._seen_receipts = seen
        self.sent = items
        self.sent_changed.emit(items)

    # ---------------------------------------------------------------- actions
    def send(self, request: SendRequest) -> threads.Task:
        """A task that prepares and uploads one drop; progress labels are blob ids
        (``"prepare"`` while measuring); notes: ``SendPrepared`` once the drop is
        prepared, then a ``Retrying`` before each wait for the server (the connection
        lost: it goes on by itself, same drop id); its result is the drop id. A failure
        after the first note leaves the send unfinished (``sends.is_unfinished``)."""

        def work(task: threads.Task) -> str:
            if self.directory is None or not self.state.usable:
                raise DirectoryUnverified(
                    self.state.problem_code or ErrorCode.DIRECTORY_UNAVAILABLE, self.state.problem
                )
            task.progress("prepare", 0, 1)
            # the latest verified directory, not the one the picker was filled from: a
            # colleague may have enrolled since, or a device been revoked
            directory = self.session.directory()
            pending = sending.prepare(
                self.session,
                directory,
                request.files,
                list(request.to),
                expires=request.expires,
                message=request.message,
                classification=request.classification,
                mynumber=request.mynumber,
            )
            return self.sends.deliver(task, pending)

        task = threads.Task(work)
        task.succeeded.connect(lambda _: self.refresh_sent())
        return task

    def check_mynumber(self, request: SendRequest) -> threads.Task:
        """A task that scans ``request``'s files for My Numbers and judges its recipients
        against the latest verified directory; result: :class:`.mynumber.MyNumberCheck`.
        Progress is (``"check"``, files done, files total); ``task.cancel`` stops it."""

        def work(task: threads.Task) -> MyNumberCheck:
            return sending.check_mynumber(
                self.session,
                self.session.directory(),
                request.files,
                request.to,
                cancelled=task.cancel.is_set,
                progress=lambda done, total: task.progress("check", done, total),
            )

        return threads.Task(work)

    def receive(self, drop_id: str, folder: Path) -> threads.Task:
        """A task that saves one drop into ``folder``; result: :class:`receiving.Received`."""

        def work(task: threads.Task) -> receiving.Received:
            directory = self.directory or self.session.directory()
            return receiving.receive(
                self.session, directory, drop_id, folder, task.progress, task.cancel
            )

        task = threads.Task(work)
        task.succeeded.connect(lambda _: self.refresh_inbox())
        return task

    def recall(self, drop_id: str) -> threads.Task:
        """A task that recalls one of my drops."""

        def work(task: threads.Task) -> str:
            self.session.api.recall(drop_id)
            return drop_id

        task = threads.Task(work)
        task.succeeded.connect(lambda _: self.refresh_sent())
        return task


def time_left(expires: str, now: dt.datetime | None = None) -> dt.timedelta:
    """How long until ``expires`` (RFC 3339), never negative."""
    left = parse_time(expires) - (now or dt.datetime.now(dt.UTC))
    return max(left, dt.timedelta(0))
