"""One send, whatever happens: the app's tasks for unfinished sends.

A send is *unfinished* from the moment ``prepare`` wrote its resume file until it is
committed or discarded. While it is, it is finished under its own drop id, never sent
again: :meth:`SendTasks.finish_in` keeps calling ``send.finish`` on the same pending
send after a lost connection (``client/retry.py``: backoff, each wait announced as a
task note), :meth:`SendTasks.finish_send` continues one later (the Send page's
再開, the start-up dialog's 送信を完了), :meth:`SendTasks.discard_send` gives one up,
and :meth:`SendTasks.check_unfinished` finds those an earlier run (the app's or the
CLI's) left. Part of :class:`~secure_send.gui.model.AppModel` (``model.sends``); the
views never call the client library themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from secure_send.client import retry, unfinished
from secure_send.client import send as sending
from secure_send.client.session import Session
from secure_send.core.errors import SecureSendError
from secure_send.gui import threads


@dataclass(frozen=True)
class SendPrepared:
    """A send task's note once its drop exists on disk: from now on it is unfinished
    until it is committed or discarded."""

    pending: sending.PendingSend


Found = tuple[list[unfinished.UnfinishedSend], list[str]]


class SendTasks(QObject):
    """See the module docstring."""

    # sends an earlier run left unfinished (check_unfinished): list[UnfinishedSend],
    # and list[str] of warnings about resume files set aside as broken
    unfinished_found = Signal(list, list)

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        # how long a send waits between retries; a test sets a short one (a parameter,
        # never an environment switch)
        self.backoff = retry.BACKOFF
        # drop ids this run prepared or is finishing (the start-up list leaves them out)
        self._held: set[str] = set()

    def prepared(self, task: threads.Task, pending: sending.PendingSend) -> None:
        """Record (worker thread) that ``task`` made ``pending`` and tell its watchers."""
        self._held.add(pending.drop_id)  # a set add: atomic under the GIL
        task.noted.emit(SendPrepared(pending))

    def finish_in(self, task: threads.Task, pending: sending.PendingSend) -> str:
        """Finish ``pending`` inside ``task`` (worker thread), retrying with backoff while
        the server cannot be reached; each wait is a ``retry.Retrying`` note."""
        return retry.finish_retrying(
            self.session, pending, task.progress, task.cancel, task.noted.emit, self.backoff
        )

    def deliver(self, task: threads.Task, pending: sending.PendingSend) -> str:
        """After ``pending`` was prepared inside ``task`` (worker thread): note it, end
        the ``"prepare"`` bar, finish it with :meth:`finish_in`; an error carries the
        drop id for the helpdesk block. A send and a submission both end here."""
        self.prepared(task, pending)
        task.progress("prepare", 1, 1)
        try:
            return self.finish_in(task, pending)
        except SecureSendError as err:
            err.drop_id = pending.drop_id  # type: ignore[attr-defined]  # for the helpdesk
            raise

    def finish_send(self, pending: sending.PendingSend) -> threads.Task:
        """A task that finishes an unfinished send under its own drop id; its result is
        the drop id (notes and progress as for a new send)."""

        def work(task: threads.Task) -> str:
            self._held.add(pending.drop_id)
            return self.finish_in(task, pending)

        return threads.Task(work)

    def discard_send(self, pending: sending.PendingSend) -> threads.Task:
        """A task that gives an unfinished send up (the server deletes the uncommitted
        drop; nothing is delivered); it fails, changing nothing, while the server cannot
        confirm it for a drop it was told about."""

        def work(task: threads.Task) -> str:
            unfinished.discard(self.session, pending)
            return pending.drop_id

        return threads.Task(work)

    def is_unfinished(self, drop_id: str) -> bool:
        """Whether a send is still unfinished (its resume file is kept)."""
        return unfinished.still_unfinished(self.session.profile, drop_id)

    def check_unfinished(self, *, asked: bool = False) -> threads.Task:
        """Look for sends earlier runs left unfinished; ``unfinished_found`` reports them
        (and resume files set aside as broken), if there are any — or, when the person
        ``asked`` (File → Unfinished sends), also that there are none."""

        def work(task: threads.Task) -> Found:
            broken: list[str] = []
            session = self.session
            found = unfinished.unfinished_sends(session.profile, session.keys, broken.append)
            return found, broken

        task = threads.Task(work)
        task.succeeded.connect(lambda result: self._on_found(result, asked))
        return threads.start(task)

    def _on_found(self, result: Found, asked: bool) -> None:
        found, broken = result
        earlier = [u for u in found if u.drop_id not in self._held]  # not this run's
        if earlier or broken or asked:
            self.unfinished_found.emit(earlier, broken)
