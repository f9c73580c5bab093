"""Start-up while this PC's enrolment still waits for IT (queued for the directory
signer, or waiting for IT's approval): a small dialog that keeps waiting.

It runs :func:`secure_send.client.enrolment.resume` in short rounds on a worker
thread and accepts once the verified directory lists this device; the app then
opens its main window. The person can close it and come back later: the request
stays with IT. A refusal (wrong code, conflict) has already been cleaned up by the
client library; ``refusal`` then holds it, so the app can explain and run the
wizard again.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from secure_send.client import enrolment
from secure_send.client.api import key_fingerprint
from secure_send.client.errors import Cancelled
from secure_send.client.keystore import KeyStore
from secure_send.client.profile import Profile
from secure_send.core.error_actions import Action
from secure_send.gui import threads
from secure_send.gui.errors import sentence_for
from secure_send.gui.text import fill
from secure_send.gui.widgets.buttons import plain_label

ROUND_SECONDS = 8.0  # one resume round: a cancelled round ends within a few seconds
RETRY_MS = 10_000  # after "pending" (IT approves by hand) or a network problem
REFUSALS = frozenset({"bad_enrolment", "conflict"})


def _label(parent: QWidget, name: str) -> QLabel:
    label = plain_label(parent)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAccessibleName(name)
    return label


class EnrolWaitingDialog(QDialog):
    """Waits for IT; ``accept()`` once enrolled; Close leaves the request with IT."""

    def __init__(
        self,
        profile: Profile,
        store: KeyStore,
        status: str = "queued",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.profile, self.store = profile, store
        self.refusal: BaseException | None = None
        self._task: threads.Task | None = None
        self._closed = False  # a round still ending after Close changes nothing
        self.setWindowTitle(self.tr("Setting up Secure Send"))
        self.setAccessibleName(self.tr("Setting up Secure Send"))
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 70)
        self.heading = _label(self, self.tr("Enrolment status"))
        font = QFont(self.heading.font())
        font.setBold(True)
        self.heading.setFont(font)
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)  # indeterminate: IT gives no progress
        self.busy.setAccessibleName(self.tr("Waiting for IT"))
        self.explanation = _label(self, self.tr("What happens next"))
        self.explanation.setText(
            self.tr(
                "Secure Send finishes setting up by itself and opens once IT has processed "
                "this PC's request. You can close this window and start Secure Send again "
                "later: the request stays with IT."
            )
        )
        self.identity_code = _label(self, self.tr("This device's identity code"))
        self.identity_code.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.problem = _label(self, self.tr("Connection problem"))
        self._layout()
        self.show_status(status)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start(0)

    def _layout(self) -> None:
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.buttons.rejected.connect(self.reject)
        close = self.buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName(self.tr("Close and wait later"))
        layout = QVBoxLayout(self)
        for widget in (self.heading, self.busy, self.explanation, self.identity_code):
            layout.addWidget(widget)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

    def show_status(self, status: str) -> None:
        """The heading for ``queued`` (the signer) or ``pending`` (IT approves by hand)."""
        if status == "pending":
            text = self.tr("Waiting for IT to approve this PC…")
        else:
            text = self.tr("Waiting for IT to confirm this PC…")
        self.heading.setText(text)
        self.setAccessibleDescription(text)

    def _on_timer_timeout(self) -> None:
        profile, store = self.profile, self.store

        def work(task: threads.Task) -> tuple[str, str]:
            me, status = enrolment.resume(profile, store, wait=ROUND_SECONDS, cancel=task.cancel)
            keys = store.load(me)
            return status, key_fingerprint(bytes(keys.signing.verify_key))

        self._task = threads.Task(work)
        self._task.succeeded.connect(self._on_task_succeeded)
        self._task.failed.connect(self._on_task_failed)
        threads.start(self._task)

    def _on_task_succeeded(self, result: tuple[str, str]) -> None:
        status, fingerprint = result
        self._task = None
        if self._closed:
            return
        self.problem.clear()
        code = fill(self.tr("This device's identity code: %1"), fingerprint)
        self.identity_code.setText(code)
        if status == "enrolled":
            self.accept()
            return
        self.show_status(status)
        self._timer.start(RETRY_MS if status == "pending" else 0)

    def _on_task_failed(self, err: BaseException) -> None:
        self._task = None
        if getattr(err, "code", "") in REFUSALS and not self._closed:
            self.refusal = err  # the client library removed the request: start over
            self.reject()
            return
        if self._closed or isinstance(err, Cancelled):
            return
        self.problem.setText(sentence_for(err, Action.ENROL))
        self._timer.start(RETRY_MS)

    def done(self, result: int) -> None:
        """Closing stops waiting here (the running round is cancelled)."""
        self._closed = True
        self._timer.stop()
        if self._task is not None:
            self._task.cancel.set()
        super().done(result)
