"""The 依頼 page: open file requests for me, answered in one action, and my desk's work.

Answering is one action with no recipient to choose: drop files on a request (or
select it and choose 提出…), check the confirmation — the request's title, the mailbox
the files go to (its verified name and department) and the files — and 提出. The
submission is a send to the request's mailbox (``model.requests.submit``), finished like
any send (retries under the same drop id), with the Send page's progress view. A
dangerous (unverified) request says why and accepts nothing.

For a request my mailbox collects, 提出状況… opens the desk's tracking view
(``views/request_desk.py``) on the same page; 依頼を作成… opens the create dialog.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from secure_send.client.file_requests import RequestView
from secure_send.client.send import METADATA_BLOB
from secure_send.core.error_actions import Action
from secure_send.core.error_codes import ErrorCode
from secure_send.gui import errors, threads
from secure_send.gui.dialogs.confirm_submit import ConfirmSubmitDialog
from secure_send.gui.dialogs.create_request import CreateRequestDialog
from secure_send.gui.model import AppModel
from secure_send.gui.requests_model import Listed
from secure_send.gui.send_tasks import SendPrepared
from secure_send.gui.views.request_desk import RequestDesk
from secure_send.gui.views.send_progress import SendProgress
from secure_send.gui.widgets.buttons import button, plain_label
from secure_send.gui.widgets.request_list import RequestList

LIST, PROGRESS, RESULT, DESK = range(4)


def _accepted(dialog: QDialog) -> bool:
    return dialog.exec() == QDialog.DialogCode.Accepted


class RequestsPage(QWidget):
    """See the module docstring."""

    submitted = Signal(str)  # drop id
    created = Signal(str)  # request id

    def __init__(self, model: AppModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setAccessibleName(self.tr("File requests"))
        # replaceable (tests): the confirmation, the file chooser, the create dialog
        self.confirm: Callable[[ConfirmSubmitDialog], bool] = _accepted
        self.ask_files: Callable[[], list[Path]] = self._ask_files
        self.ask_create: Callable[[CreateRequestDialog], bool] = _accepted
        self.task: threads.Task | None = None
        self._names: dict[str, str] = {}  # blob label → what its bar says
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self._build_list())
        self.progress_view = SendProgress(self)
        self.stack.addWidget(self.progress_view)
        self.stack.addWidget(self._build_result())
        self.desk = RequestDesk(model, self)
        self.desk.back_requested.connect(lambda: self.stack.setCurrentIndex(LIST))
        self.stack.addWidget(self.desk)
        QVBoxLayout(self).addWidget(self.stack)
        model.requests.changed.connect(self.show_requests)
        model.directory_changed.connect(lambda _state: self._update_buttons())
        self.show_requests(model.requests.items)

    # ---------------------------------------------------------------- building
    def _build_list(self) -> QWidget:
        page = QWidget(self)
        hint = plain_label(
            self.tr("Drop files on a request to submit them. No recipient to choose."), page
        )
        hint.setWordWrap(True)
        self.table = RequestList(page)
        self.table.files_dropped.connect(self.submit_to)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.reason_label = plain_label(page)
        self.reason_label.setWordWrap(True)
        self.reason_label.setAccessibleName(self.tr("Why this request is dangerous"))
        self.reason_label.hide()
        self.submit_button = button(
            page, self.tr("S&ubmit files…"), self.tr("Choose files to submit to this request"),
            self._on_submit_button_clicked,
        )  # fmt: skip
        self.track_button = button(
            page, self.tr("&Track submissions…"), self.tr("Who has submitted, who has not"),
            self._on_track_button_clicked,
        )  # fmt: skip
        self.create_button = button(
            page, self.tr("&Create a request…"), self.tr("Ask people to submit files to you"),
            self._on_create_button_clicked,
        )  # fmt: skip
        self.list_status = plain_label(page)
        self.list_status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.submit_button)
        buttons.addWidget(self.track_button)
        buttons.addStretch()
        buttons.addWidget(self.create_button)
        layout = QVBoxLayout(page)
        layout.addWidget(hint)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.reason_label)
        layout.addWidget(self.list_status)
        layout.addLayout(buttons)
        return page

    def _build_result(self) -> QWidget:
        page = QWidget(self)
        self.result_label = plain_label(page)
        self.result_label.setWordWrap(True)
        self.result_label.setAccessibleName(self.tr("Result"))
        self.detail_label = plain_label(page)
        self.detail_label.setWordWrap(True)
        self.detail_label.setAccessibleName(self.tr("Details"))
        self.back_button = QPushButton(self.tr("&Back to the requests"), page)
        self.back_button.clicked.connect(lambda: self.stack.setCurrentIndex(LIST))
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(self.back_button)
        layout = QVBoxLayout(page)
        layout.addWidget(self.result_label)
        layout.addWidget(self.detail_label)
        layout.addStretch()
        layout.addLayout(buttons)
        return page

    # ---------------------------------------------------------------- the list
    def show_requests(self, items: list[Listed]) -> None:
        """The model's list, shown."""
        self._items = items
        names = {}
        for listed in items:
            if isinstance(listed, RequestView):
                entry = self.model.requests.entry(listed.request.mailbox)
                names[listed.request.mailbox] = entry.name_ja if entry else listed.request.mailbox
        self.table.show_requests(items, names)
        self._update_buttons()

    def _selected(self) -> Listed | None:
        request_id = self.table.selected_id()
        for listed in self._items:
            if request_id is not None and getattr(listed, "request_id", None) == request_id:
                return listed
        return None

    def _update_buttons(self) -> None:
        listed = self._selected()
        view = listed if isinstance(listed, RequestView) else None
        self.submit_button.setEnabled(view is not None and view.addressed)
        self.track_button.setEnabled(view is not None and view.desk)
        self.create_button.setEnabled(self.model.state.usable)
        if listed is not None and view is None:
            self.reason_label.setText(errors.code_sentence(ErrorCode.UNVERIFIED_REQUEST))
            self.reason_label.show()
        else:
            self.reason_label.hide()

    # ---------------------------------------------------------------- submitting
    def _ask_files(self) -> list[Path]:
        names, _ = QFileDialog.getOpenFileNames(self, self.tr("Choose files to submit"))
        return [Path(n) for n in names]

    def _on_submit_button_clicked(self) -> None:
        listed = self._selected()
        if isinstance(listed, RequestView):
            paths = self.ask_files()
            if paths:
                self.submit_to(listed.request_id, paths)

    def submit_to(self, request_id: str, paths: list[Path]) -> None:
        """Confirm, then submit ``paths`` to the request (a dangerous one: never)."""
        view = self.model.requests.view(request_id)
        if view is None or not view.addressed or self.task is not None:
            return
        mailbox = self.model.requests.entry(view.request.mailbox)
        dialog = ConfirmSubmitDialog(view, mailbox, [p.name for p in paths], self)
        confirmed = self.confirm(dialog)
        dialog.deleteLater()
        if not confirmed:
            return
        self._names = {"prepare": self.tr("Encrypting…"), METADATA_BLOB: self.tr("Details")}
        if all(p.is_file() for p in paths):  # blob ids follow the files' order
            self._names |= {f"f{i}": p.name for i, p in enumerate(paths, 1)}
        self.progress_view.make_bars([("prepare", self._names["prepare"])])
        self._count = len(paths)
        task = self.model.requests.submit(request_id, paths)
        self.progress_view.watch(task, uploading=False)
        task.progressed.connect(self._on_task_progressed)
        task.noted.connect(self._on_task_noted)
        task.succeeded.connect(self._on_task_succeeded)
        task.failed.connect(self._on_task_failed)
        self.stack.setCurrentIndex(PROGRESS)
        self.task = threads.start(task)

    def _on_task_progressed(self, label: str, done: int, total: int) -> None:
        if label not in self.progress_view.bars:
            text = self._names.get(label) or self.tr("File %1").replace("%1", label.lstrip("f"))
            self.progress_view.ensure_bar(label, text).setValue(
                100 if total <= 0 else min(100, done * 100 // total)
            )

    def _on_task_noted(self, note: object) -> None:
        if isinstance(note, SendPrepared):
            self.progress_view.uploading_started()

    def _on_task_succeeded(self, drop_id: str) -> None:
        self.task = None
        self.progress_view.complete()
        text = self.tr("Submitted: %n file(s)", "", self._count)
        self._show_result(text, self.tr("Drop ID: %1").replace("%1", drop_id))
        self.submitted.emit(drop_id)

    def _on_task_failed(self, err: BaseException) -> None:
        self.task = None
        server = errors.host_of(self.model.session.org.server_url)
        drop_id = str(getattr(err, "drop_id", ""))
        sentence, details = errors.describe(err, errors.Context(Action.SEND, drop_id, server))
        if drop_id and self.model.sends.is_unfinished(drop_id):
            sentence += "\n" + self.tr(
                "The submission is kept: finish it with File → Unfinished sends."
            )
        self._show_result(sentence, details)

    def _show_result(self, text: str, details: str) -> None:
        self.result_label.setText(text)
        self.detail_label.setText(details)
        self.stack.setCurrentIndex(RESULT)

    # ---------------------------------------------------------------- the desk
    def _on_track_button_clicked(self) -> None:
        listed = self._selected()
        if isinstance(listed, RequestView) and listed.desk:
            self.track(listed)

    def track(self, view: RequestView) -> threads.Task:
        """The desk's tracking view of ``view``."""
        self.stack.setCurrentIndex(DESK)
        return self.desk.open(view)

    def _on_create_button_clicked(self) -> None:
        dialog = CreateRequestDialog(self.model, self)
        confirmed = self.ask_create(dialog)
        new = dialog.request()
        dialog.deleteLater()
        if not confirmed:
            return
        task = self.model.requests.create(new)
        task.succeeded.connect(self._on_created)
        task.failed.connect(self._on_create_failed)
        threads.start(task)

    def _on_created(self, request_id: str) -> None:
        self.list_status.setText(self.tr("The file request was created."))
        self.created.emit(request_id)

    def _on_create_failed(self, err: BaseException) -> None:
        self.list_status.setText(errors.status_text(err, errors.Context(Action.REQUEST)))
