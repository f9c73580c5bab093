"""The Send page: choose files and verified recipients, confirm, watch progress, see the result.

One send, whatever happens: once a send is prepared it is *unfinished* until it is
committed or discarded. A lost connection is retried by itself (the progress view shows
it); when it stops otherwise (an error a retry cannot fix, or 中止), the result view
offers only 再開 (the same drop id) and 破棄 — never the way back to the form, which
would send the same files a second time.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from secure_send.client.send import METADATA_BLOB, PendingSend, collect
from secure_send.core.envelope.manifest import Classification
from secure_send.core.error_actions import Action
from secure_send.core.error_codes import ErrorCode
from secure_send.core.errors import SecureSendError
from secure_send.gui import errors, threads
from secure_send.gui.dialogs.confirm_send import ConfirmSendDialog, classification_label
from secure_send.gui.dialogs.unfinished_sends import confirm_discard
from secure_send.gui.model import AppModel, DirectoryState, SendRequest
from secure_send.gui.send_tasks import SendPrepared
from secure_send.gui.views.mynumber_gate import CheckCancelled, checked_request
from secure_send.gui.views.send_progress import SendProgress
from secure_send.gui.widgets.buttons import plain_label
from secure_send.gui.widgets.drop_zone import DropZone
from secure_send.gui.widgets.file_list import FileList
from secure_send.gui.widgets.recipient_picker import RecipientPicker

COMPOSE, PROGRESS, RESULT = range(3)


# The expiry offered until the server's policy has arrived (the server's own defaults;
# the policy then sets both, and IT policy may shorten the longest).
UNTIL_POLICY_MAX_DAYS = 30
UNTIL_POLICY_DEFAULT_DAYS = 7


class SendPage(QWidget):
    """Compose → confirm → progress → result, on one stacked page."""

    sent = Signal(str)  # drop id, after a successful send

    def __init__(self, model: AppModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.task: threads.Task | None = None
        # the prepared send this page holds until it is committed or discarded
        self.unfinished: PendingSend | None = None
        self._queued: list[Path] = []  # paths handed over while the form was not shown
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self._build_compose())
        self.stack.addWidget(self._build_progress())
        self.stack.addWidget(self._build_result())
        QVBoxLayout(self).addWidget(self.stack)
        model.directory_changed.connect(self._on_model_directory_changed)
        self._on_model_directory_changed(model.state)

    # ---------------------------------------------------------------- building
    def _build_compose(self) -> QWidget:
        page = QWidget(self)
        self.drop_zone = DropZone(page)
        self.drop_zone.paths_dropped.connect(self.add_paths)
        self.file_list = FileList(page)
        self.file_list.changed.connect(self._update_send_button)
        self.picker = RecipientPicker(self.model, page)
        self.picker.changed.connect(self._update_send_button)
        self.send_button = QPushButton(self.tr("S&end…"), page)
        self.send_button.setAccessibleName(self.tr("Send"))
        self.send_button.setToolTip(self.tr("Check the details, then send"))
        self.send_button.clicked.connect(self._on_send_button_clicked)
        self.compose_error = plain_label(page)
        self.compose_error.setWordWrap(True)
        self.compose_error.setAccessibleName(self.tr("Problem"))
        self.compose_error.hide()
        left = QVBoxLayout()
        left.addWidget(self.drop_zone)
        left.addWidget(self.file_list, 1)
        right = QVBoxLayout()
        right.addWidget(self.picker, 1)
        right.addLayout(self._build_options(page))
        columns = QHBoxLayout()
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.compose_error, 1)
        bottom.addWidget(self.send_button)
        # why sending is blocked is said once, by the window's directory banner
        layout = QVBoxLayout(page)
        layout.addLayout(columns, 1)
        layout.addLayout(bottom)
        return page

    def _build_options(self, page: QWidget) -> QFormLayout:
        self.expiry = QSpinBox(page)
        self.expiry.setSuffix(self.tr(" days"))
        self.expiry.setAccessibleName(self.tr("Days until the files expire"))
        self.classification = QComboBox(page)
        self.classification.setAccessibleName(self.tr("Classification"))
        for value in Classification:
            self.classification.addItem(classification_label(value), value)
        self.message = QPlainTextEdit(page)
        self.message.setAccessibleName(self.tr("Message to the recipients"))
        self.message.setPlaceholderText(self.tr("Optional message"))
        self.message.setTabChangesFocus(True)
        self.message.setMaximumHeight(self.fontMetrics().lineSpacing() * 5)
        self._reset_options()
        form = QFormLayout()
        form.addRow(self.tr("E&xpires after:"), self.expiry)
        form.addRow(self.tr("C&lassification:"), self.classification)
        form.addRow(self.tr("&Message:"), self.message)
        return form

    def _build_progress(self) -> QWidget:
        self.progress_view = SendProgress(self)
        self.progress_title = self.progress_view.title
        self.cancel_button = self.progress_view.cancel_button
        return self.progress_view

    @property
    def bars(self) -> dict[str, QProgressBar]:
        """The progress bars by label (blob id, or ``"prepare"``)."""
        return self.progress_view.bars

    def _build_result(self) -> QWidget:
        page = QWidget(self)
        self.result_label = plain_label(page)
        self.result_label.setWordWrap(True)
        self.result_label.setAccessibleName(self.tr("Result"))
        self.detail_label = plain_label(page)
        self.detail_label.setWordWrap(True)
        self.detail_label.setAccessibleName(self.tr("Details"))
        small = self.detail_label.font()
        small.setPointSizeF(small.pointSizeF() * 0.85)  # relative, never a fixed size
        self.detail_label.setFont(small)
        self.more_button = QPushButton(self.tr("Send &more"), page)
        self.more_button.setAccessibleName(self.tr("Send more files"))
        self.more_button.clicked.connect(self.reset)
        self.back_button = QPushButton(self.tr("&Back"), page)
        self.back_button.setAccessibleName(self.tr("Back to the send form"))
        self.back_button.clicked.connect(self._on_back_button_clicked)
        self.resume_button = QPushButton(self.tr("C&ontinue sending"), page)
        self.resume_button.setAccessibleName(self.tr("Continue this drop"))
        self.resume_button.setToolTip(self.tr("Send the rest of this drop (the same drop)"))
        self.resume_button.clicked.connect(self._on_resume_button_clicked)
        self.discard_button = QPushButton(self.tr("&Discard"), page)
        self.discard_button.setAccessibleName(self.tr("Discard this drop"))
        self.discard_button.setToolTip(self.tr("Delete this drop: nothing is delivered"))
        self.discard_button.clicked.connect(self._on_discard_button_clicked)
        self._details = ""  # the helpdesk block of the last failure
        self.copy_button = QPushButton(errors.copy_label(), page)
        self.copy_button.setAccessibleName(self.tr("Copy contact information for IT"))
        self.copy_button.clicked.connect(lambda: errors.copy_to_clipboard(self._details))
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addStretch()
        buttons.addWidget(self.discard_button)
        buttons.addWidget(self.resume_button)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.more_button)
        layout = QVBoxLayout(page)
        layout.addWidget(self.result_label)
        layout.addWidget(self.detail_label)
        # the buttons right under the sentence: the page is as tall as the form (a stacked
        # widget), so at the bottom they were below the fold of a small or scaled screen
        layout.addLayout(buttons)
        layout.addStretch()
        return page

    # ---------------------------------------------------------------- public
    def add_paths(self, paths: list[Path]) -> None:
        """Add files or folders to the list (drops, file chooser, command line). While a
        send runs or is unfinished the page stays where it is (the form must not come
        back under it); the paths wait for the next form."""
        if self.stack.currentIndex() == RESULT and self.unfinished is None:
            self.reset()
        elif self.stack.currentIndex() != COMPOSE:
            self._queued += list(paths)
        self.file_list.add_paths(list(paths))

    def reset(self) -> None:
        """Empty the form for the next send (only once nothing is unfinished)."""
        if self.unfinished is not None:
            return
        self.file_list.clear()
        self.file_list.add_paths(self._queued)
        self._queued = []
        self.picker.clear()
        self.message.clear()
        self._reset_options()
        self.compose_error.hide()
        self.stack.setCurrentIndex(COMPOSE)

    def request(self) -> SendRequest:
        """What the form says now."""
        return SendRequest(
            files=tuple(collect(self.file_list.paths())),  # the one walk of the files
            to=tuple(self.picker.chosen_ids()),
            expires=dt.timedelta(days=self.expiry.value()),
            message=self.message.toPlainText(),
            classification=self.classification.currentData(),
        )

    def confirm(self, dialog: ConfirmSendDialog) -> bool:
        """Show the confirm dialog modally; True if the user chose Send."""
        return dialog.exec() == QDialog.DialogCode.Accepted

    # ---------------------------------------------------------------- compose
    def _reset_options(self) -> None:
        policy = self.model.policy
        longest, usual = (
            (policy.max_expiry_days, policy.default_expiry_days)
            if policy is not None
            else (UNTIL_POLICY_MAX_DAYS, UNTIL_POLICY_DEFAULT_DAYS)
        )
        self.expiry.setRange(1, longest)  # never 0: a drop must outlive its sending
        self.expiry.setValue(usual)
        self.classification.setCurrentIndex(self.classification.findData(Classification.C2))

    def _on_model_directory_changed(self, state: DirectoryState) -> None:
        if state.usable:
            policy = self.model.policy
            if policy is not None:
                untouched = self.expiry.value() == UNTIL_POLICY_DEFAULT_DAYS
                self.expiry.setMaximum(policy.max_expiry_days)
                if untouched:  # the page was built before the server's policy arrived
                    self.expiry.setValue(min(policy.default_expiry_days, policy.max_expiry_days))
        self._update_send_button()

    def _update_send_button(self) -> None:
        ready = bool(self.file_list.paths() and self.picker.chosen_ids())
        # never a second drop while this page holds one that is not finished
        self.send_button.setEnabled(self.model.state.usable and ready and not self.unfinished)

    def _on_send_button_clicked(self) -> None:
        if not self.send_button.isEnabled() or self.unfinished is not None:
            return
        try:
            # the files are checked for My Numbers before the confirm sheet shows them
            request = checked_request(self.model, self.request(), self)
            dialog = ConfirmSendDialog(self.model, request, self)
        except CheckCancelled:
            return
        except (SecureSendError, OSError) as err:  # a file vanished since it was added
            self._show_compose_error(err)
            return
        confirmed = self.confirm(dialog)
        dialog.deleteLater()
        if confirmed:
            self._start(request)

    def _show_compose_error(self, err: BaseException) -> None:
        self.compose_error.setText(errors.sentence_for(err, Action.SEND))
        self.compose_error.show()

    # ---------------------------------------------------------------- progress
    def make_bars(self, request: SendRequest) -> None:
        """One progress bar per step of ``request``: encrypting, the details, each file."""
        labels = [("prepare", self.tr("Encrypting…")), (METADATA_BLOB, self.tr("Details"))]
        self.progress_view.make_bars(labels + [(f.blob_id, f.name) for f in request.files])

    def _start(self, request: SendRequest) -> None:
        self.make_bars(request)
        self.compose_error.hide()
        self._request = request
        self._run(self.model.send(request), uploading=False)

    def _run(self, task: threads.Task, *, uploading: bool) -> None:
        """Show the progress view following ``task`` (a new send, or a resumed one)."""
        self.progress_view.watch(task, uploading=uploading)
        self.stack.setCurrentIndex(PROGRESS)
        task.noted.connect(self._on_task_noted)
        task.succeeded.connect(self._on_task_succeeded)
        task.failed.connect(self._on_task_failed)
        self.task = threads.start(task)

    def _on_task_noted(self, note: object) -> None:
        if isinstance(note, SendPrepared):
            self.unfinished = note.pending
            self.progress_view.uploading_started()

    # ---------------------------------------------------------------- result
    def _on_task_succeeded(self, drop_id: str) -> None:
        self.task = None
        self.unfinished = None
        self.progress_view.complete()
        names = [self._display_name(i) for i in self._request.to]
        count = len(self._request.files)
        text = self.tr("Sent to %1: %n file(s)", "", count).replace("%1", "、".join(names))
        self._show_result(text, self.tr("Drop ID: %1").replace("%1", drop_id))
        self.sent.emit(drop_id)

    def _on_task_failed(self, err: BaseException) -> None:
        self.task = None
        server = errors.host_of(self.model.session.org.server_url)
        held = self.unfinished
        # the drop id once the drop was prepared (the model attaches it), else the held one's
        drop_id = str(getattr(err, "drop_id", "") or (held.drop_id if held else ""))
        sentence, self._details = errors.describe(err, errors.Context(Action.SEND, drop_id, server))
        cancelled = getattr(err, "code", "") == ErrorCode.CANCELLED
        if held is not None and self.model.sends.is_unfinished(held.drop_id):
            if cancelled:
                sentence = self.tr("Sending was stopped. Nothing has been delivered yet.")
            self._show_unfinished(sentence, self._details)  # the drop id for the helpdesk
            return
        self.unfinished = None  # finished elsewhere, or forgotten: it can never finish
        if cancelled:
            sentence = self.tr("Sending was cancelled. Nothing was delivered.")
        self._show_result(sentence, "" if cancelled else self._details, back=True)

    def _show_result(self, text: str, details: str, *, back: bool = False) -> None:
        self.result_label.setText(text)
        self.detail_label.setText(details)
        # the helpdesk block (code, drop id, time, version) is copied as shown
        self.copy_button.setVisible(bool(details) and details == self._details)
        self.resume_button.hide()
        self.discard_button.hide()
        self.back_button.setVisible(back)
        self.more_button.show()
        self.stack.setCurrentIndex(RESULT)
        self._update_send_button()

    def _show_unfinished(self, sentence: str, details: str) -> None:
        """An unfinished drop: only 再開 or 破棄, never the form (a second drop)."""
        what = self.tr("This drop is not finished: continue it, or discard it.")
        self.result_label.setText(sentence + "\n" + what)
        drop_id = self.unfinished.drop_id if self.unfinished is not None else ""
        drop = self.tr("Drop ID: %1").replace("%1", drop_id)
        # the helpdesk block names the drop itself
        if drop_id and drop_id in details:
            self.detail_label.setText(details)
        else:
            self.detail_label.setText(drop + "\n" + details if details else drop)
        self.copy_button.setVisible(bool(details))
        self.back_button.hide()
        self.more_button.hide()
        self.resume_button.show()
        self.discard_button.show()
        self.resume_button.setEnabled(True)
        self.discard_button.setEnabled(True)
        self.stack.setCurrentIndex(RESULT)
        self._update_send_button()

    def _on_resume_button_clicked(self) -> None:
        if self.unfinished is None or self.task is not None:
            return
        self._run(self.model.sends.finish_send(self.unfinished), uploading=True)

    def _on_discard_button_clicked(self) -> None:
        held = self.unfinished
        if held is None or self.task is not None or not confirm_discard(self):
            return
        self.resume_button.setEnabled(False)
        self.discard_button.setEnabled(False)
        task = self.model.sends.discard_send(held)
        task.succeeded.connect(self._on_discarded)
        task.failed.connect(self._on_discard_failed)
        self.task = threads.start(task)

    def _on_discarded(self, drop_id: str) -> None:
        self.task = None
        self.unfinished = None
        self._show_result(self.tr("The drop was discarded. Nothing was delivered."), "", back=True)

    def _on_discard_failed(self, err: BaseException) -> None:
        self.task = None
        held = self.unfinished
        server = errors.host_of(self.model.session.org.server_url)
        context = errors.Context(Action.SEND, held.drop_id if held else "", server)
        sentence, self._details = errors.describe(err, context)
        self._show_unfinished(
            self.tr("The drop could not be discarded.") + " " + sentence, self._details
        )

    def _on_back_button_clicked(self) -> None:
        if self.unfinished is None:  # never back to the form under an unfinished drop
            self._queued = []
            self.stack.setCurrentIndex(COMPOSE)
            self._update_send_button()

    def _display_name(self, entry_id: str) -> str:
        entry = self.model.entry(entry_id)
        return entry.name_ja if entry is not None else entry_id
