"""上長承認 for the views: the approval a send will ask for, and an approver's decision.

:meth:`ApprovalTasks.plan` is what the confirm sheet shows; it asks
:func:`.send.approval_plan` exactly what :func:`.send.prepare` will sign (the persons
the recipients resolve to, the classification and My Number verdict the sheet shows),
on the main thread: the directory mapping it reads is built once per verified
directory and the sheet already resolves recipients there (no nested event loop may
run before the sheet opens). :meth:`ApprovalTasks.decide` signs and posts a decision
on a worker thread (:func:`.approval.decide`); once it is in, the inbox (whose
承認待ち list is filtered from it) and Sent are reloaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from secure_send.client import approval
from secure_send.client import send as sending
from secure_send.client.approval import ApprovalPlan
from secure_send.client.errors import ClientError
from secure_send.core.directory.errors import DirectoryError
from secure_send.gui import threads

if TYPE_CHECKING:  # the model owns these tasks
    from secure_send.gui.model import AppModel, SendRequest


class ApprovalTasks(QObject):
    """See the module docstring."""

    def __init__(self, model: AppModel) -> None:
        super().__init__(model)
        self._model = model

    def plan(self, request: SendRequest) -> ApprovalPlan | None:
        """The approval a send of ``request`` needs under this machine's policy, or None
        (also None when its recipients do not resolve: the send itself says why then).

        Raises:
            ClientError: ``no_approver`` or ``approver_unavailable``: it cannot go.
        """
        model = self._model
        if model.directory is None:
            return None
        me = model.session.me.user
        try:
            people = sending.resolve_recipients(model.directory, list(request.to), me)
        except (ClientError, DirectoryError):
            return None
        holds = request.mynumber.contains if request.mynumber is not None else False
        return sending.approval_plan(
            model.session, model.directory, people, request.classification, holds
        )

    def decide(self, drop_id: str, approve: bool, reason: str = "") -> threads.Task:
        """A task (not started) that signs and posts this person's decision on
        ``drop_id``; result: the server's new state (``approved`` or ``rejected``)."""
        model = self._model

        def work(task: threads.Task) -> str:
            # the latest verified directory: the decision signs its log head
            directory = model.session.directory()
            return approval.decide(model.session, directory, drop_id, approve, reason)

        task = threads.Task(work)
        task.succeeded.connect(lambda _state: self._decided())
        return task

    def _decided(self) -> None:
        self._model.refresh_inbox()
        self._model.refresh_sent()
