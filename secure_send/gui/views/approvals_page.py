"""The 承認待ち page: the sends waiting for this person's approval (上長承認).

The rows are the Inbox's own items (the same poll: ``listing.awaiting_my_approval``
filters them), so a drop appears here as soon as it is verified, and leaves once a
decision is in (this one's or another approver's). Each row names the sender, when it
was sent, why it needs approval and its 機密性; the Inbox's detail pane shows the
files, the message and the recipients. 「ファイルを確認」 saves the files to the download
folder and opens it (an approver is a recipient: the Inbox's save path). 「承認」 asks
once more, naming who will receive the files; 「差し戻し」 asks for the reason
(:mod:`..dialogs.reject_reason`). Either is signed and posted on a worker thread
(:mod:`..approval_tasks`); errors go to the app's error box. Both wait until the
drop's details are loaded: nobody approves what they could not see.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from secure_send.client import listing
from secure_send.client.drop_details import DropDetails
from secure_send.client.receive import Received
from secure_send.core.display import shown
from secure_send.core.error_actions import Action
from secure_send.gui import errors, settings, threads
from secure_send.gui.approval_words import reasons_text
from secure_send.gui.dialogs import error_dialog
from secure_send.gui.dialogs.confirm_send import classification_label
from secure_send.gui.dialogs.reject_reason import RejectReasonDialog
from secure_send.gui.model import AppModel
from secure_send.gui.text import fill
from secure_send.gui.views.inbox_page import ErrorReporter, local_time
from secure_send.gui.widgets.buttons import button, plain_label, plain_tip
from secure_send.gui.widgets.drop_details_pane import DropDetailsPane
from secure_send.gui.widgets.tables import row_table

COLUMNS = 5  # from, department, sent, reasons, classification


class ApprovalsPage(QWidget):
    """The list, the detail pane, 「ファイルを確認」「承認」「差し戻し」."""

    decided = Signal(str, str)  # drop id, the server's new state

    def __init__(
        self,
        model: AppModel,
        parent: QWidget | None = None,
        downloads: Callable[[], Path] | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self._downloads = downloads or (lambda: settings.load(model.session.profile).downloads())
        self._items: list[listing.InboxItem] = []
        self._task: threads.Task | None = None
        self._doing = ""  # the drop id being decided or saved (named in an error's details)
        self._folder: Path | None = None
        # replaceable (tests, policy): the question before approving, the reason box,
        # opening the folder the files were saved in, the error box
        self.confirm: Callable[[str], bool] = self._ask
        self.ask_reason: Callable[[str], str | None] = self._ask_reason
        self.open_folder: Callable[[Path], None] = self._open_folder
        self.report_error: ErrorReporter = self._show_error
        self._build()
        model.inbox_changed.connect(self._on_model_inbox_changed)
        model.details.ready.connect(self._on_details_ready)
        self._on_model_inbox_changed(model.inbox)

    def _build(self) -> None:
        labels = [
            self.tr("From"),
            self.tr("Department"),
            self.tr("Sent at"),
            self.tr("Why approval"),
            self.tr("Confidentiality"),
        ]
        name = self.tr("Sends waiting for your approval")
        self.table = row_table(self, labels, name, single=True)
        header = self.table.horizontalHeader()
        # every cell whole (the list scrolls sideways in a narrow window): a reason or a
        # 機密性 cut to "Confidentiality 3, sent outsi…" is what an approver must not guess
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_table_item_selection_changed)
        self.empty_label = plain_label(self)
        self.empty_label.setAccessibleName(self.tr("Approval list status"))
        self.details = DropDetailsPane(self.model, self)
        self.check_button = button(
            self,
            self.tr("&Check the files"),
            self.tr("Save the files to the download folder and open it"),
            self._on_check_button_clicked,
        )
        self.approve_button = button(
            self,
            self.tr("&Approve…"),
            self.tr("Approve this send: its recipients receive the files"),
            self._on_approve_button_clicked,
        )
        self.reject_button = button(
            self,
            self.tr("&Return…"),
            self.tr("Return this send to its sender with a reason: nobody receives it"),
            self._on_reject_button_clicked,
        )
        self.status_label = plain_label(self)
        self.status_label.setWordWrap(True)
        self.status_label.setAccessibleName(self.tr("Approval status"))
        listed = QWidget(self)
        left = QVBoxLayout(listed)
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(self.table, 1)
        left.addWidget(self.empty_label)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(listed)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        buttons = QHBoxLayout()
        buttons.addWidget(self.check_button)
        buttons.addStretch(1)
        buttons.addWidget(self.reject_button)
        buttons.addWidget(self.approve_button)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status_label)
        self.setTabOrder(self.table, self.check_button)
        self.setTabOrder(self.check_button, self.reject_button)
        self.setTabOrder(self.reject_button, self.approve_button)

    # ---------------------------------------------------------------- list
    def listed(self) -> list[listing.InboxItem]:
        """The drops waiting for my decision, in the table's order."""
        return list(self._items)

    def cell_text(self, row: int, column: int) -> str:
        """The text shown in one cell ("" when empty)."""
        cell = self.table.item(row, column)
        return cell.text() if cell is not None else ""

    def select(self, drop_id: str) -> bool:
        """Select a drop's row; False when it is not listed."""
        for row, item in enumerate(self._items):
            if item.drop_id == drop_id:
                self.table.selectRow(row)
                return True
        return False

    def selected(self) -> listing.InboxItem | None:
        """The selected drop, if any."""
        rows = self.table.selectionModel().selectedRows()
        return self._items[rows[0].row()] if rows else None

    def _on_model_inbox_changed(self, items: list[listing.InboxItem]) -> None:
        current = self.selected()  # of the rows shown until now
        self._items = listing.awaiting_my_approval(items)
        self.model.details.prefetch([i.drop_id for i in self._items])
        self._show_rows(current)

    def _on_details_ready(self, drop_id: str, _details: DropDetails) -> None:
        if any(i.drop_id == drop_id for i in self._items):
            self._show_rows()  # its 機密性 is known now, and it may be decided

    def _show_rows(self, current: listing.InboxItem | None = None) -> None:
        current = current or self.selected()
        self.table.blockSignals(True)  # one selection update below, not one per row
        self.table.clearSelection()
        self.table.setRowCount(len(self._items))
        for row, item in enumerate(self._items):
            for column, text in enumerate(self._cells(item)):
                cell = QTableWidgetItem(text)
                cell.setToolTip(plain_tip(text))
                self.table.setItem(row, column, cell)
        if current is not None:
            self.select(current.drop_id)
        elif self._items:
            self.table.selectRow(0)  # the oldest: what to decide first
        self.table.blockSignals(False)
        self.empty_label.setText("" if self._items else self.tr("Nothing waits for your approval"))
        self.empty_label.setVisible(not self._items)
        self._on_table_item_selection_changed()

    def _cells(self, item: listing.InboxItem) -> list[str]:
        details = self.model.details.cached(item.drop_id)
        level = classification_label(details.classification) if details is not None else ""
        sender = shown(item.sender_name_ja) or item.sender
        return [
            sender,
            shown(item.department),
            local_time(item.created),
            reasons_text(item.reasons),
            level,
        ]

    def _on_table_item_selection_changed(self) -> None:
        item = self.selected()
        self.details.follow(item.drop_id if item is not None else None)
        self._update_actions()

    def _update_actions(self) -> None:
        item = self.selected()
        free = item is not None and self._task is None
        seen = free and item is not None and self.model.details.cached(item.drop_id) is not None
        self.check_button.setEnabled(free)
        self.approve_button.setEnabled(seen)
        self.reject_button.setEnabled(seen)

    # ---------------------------------------------------------------- deciding
    def approve_question(self, item: listing.InboxItem) -> str:
        """「承認しますか？」 naming the files and everyone who will receive them."""
        details = self.model.details.cached(item.drop_id)
        me = self.model.session.me.user
        lines = [fill(self.tr("Approve this send from %1?"), self.details.person_text(item.sender))]
        if details is not None:
            lines += ["", self.tr("Files:")]
            lines += [f"  {shown(f.name)}" for f in details.files]
            lines += ["", self.tr("Recipients who will receive it:")]
            lines += ["  " + self.details.chosen_text(c, None) for c in details.to if c.id != me]
        lines += ["", self.tr("Once approved, it cannot be taken back by you.")]
        return "\n".join(lines)

    def approve_selected(self) -> threads.Task | None:
        """Ask, then approve the selected drop; the started task (None if not)."""
        item = self.selected()
        if item is None or not self.approve_button.isEnabled():
            return None
        if not self.confirm(self.approve_question(item)):
            return None
        return self._decide(item, True, "")

    def reject_selected(self) -> threads.Task | None:
        """Ask for the reason, then return the selected drop; the started task."""
        item = self.selected()
        if item is None or not self.reject_button.isEnabled():
            return None
        reason = self.ask_reason(self.details.person_text(item.sender))
        if reason is None:
            return None
        return self._decide(item, False, reason)

    def _decide(self, item: listing.InboxItem, approve: bool, reason: str) -> threads.Task:
        self._doing = item.drop_id
        task = self.model.approvals.decide(item.drop_id, approve, reason)
        task.succeeded.connect(lambda state: self._on_decided(item.drop_id, state))
        self._watch(task, self.tr("Approving…") if approve else self.tr("Returning…"))
        return threads.start(task)

    def _on_decided(self, drop_id: str, state: str) -> None:
        if state == "approved":
            self.status_label.setText(self.tr("Approved: the recipients can now receive it."))
        else:
            self.status_label.setText(self.tr("Returned to the sender: nobody receives it."))
        self.decided.emit(drop_id, state)

    # ---------------------------------------------------------------- files
    def check_files(self) -> threads.Task | None:
        """Save the selected drop's files to the download folder, then open it."""
        item = self.selected()
        if item is None or self._task is not None:
            return None
        self._doing = item.drop_id
        self._folder = self._downloads()
        task = self.model.receive(item.drop_id, self._folder)
        task.succeeded.connect(self._on_saved)
        self._watch(task, self.tr("Saving…"))
        return threads.start(task)

    def _on_saved(self, result: Received) -> None:
        status = self.tr("Saved %n file(s) to %1.", "", len(result.files))
        self.status_label.setText(fill(status, str(self._folder)))
        if self._folder is not None:
            self.open_folder(self._folder)

    def _watch(self, task: threads.Task, doing: str) -> None:
        task.failed.connect(self._on_task_failed)
        task.ended.connect(self._on_task_ended)
        self._task = task
        self.status_label.setText(doing)
        self._update_actions()

    def _on_task_failed(self, err: BaseException) -> None:
        self.status_label.setText(errors.status_text(err, self._error_context()))
        self.report_error(self, err)

    def _on_task_ended(self) -> None:
        self._task = None
        self._update_actions()

    def _error_context(self) -> errors.Context:
        server = errors.host_of(self.model.session.org.server_url)
        return errors.Context(Action.GENERAL, self._doing, server)

    def _show_error(self, parent: QWidget | None, err: BaseException) -> None:
        error_dialog.show_error(parent, err, self._error_context())

    # ---------------------------------------------------------------- dialogs
    def approve_box(self, question: str) -> QMessageBox:
        """The approve question as a box (not shown: ``_ask`` runs it); No is the default."""
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Approve"), "", parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)  # names files: never markup
        box.setText(question)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        return box

    def _ask(self, question: str) -> bool:
        return bool(self.approve_box(question).exec() == QMessageBox.StandardButton.Yes.value)

    def _ask_reason(self, sender: str) -> str | None:
        dialog = RejectReasonDialog(sender, self)
        return dialog.text() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def _open_folder(self, folder: Path) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def _on_check_button_clicked(self) -> None:
        self.check_files()

    def _on_approve_button_clicked(self) -> None:
        self.approve_selected()

    def _on_reject_button_clicked(self) -> None:
        self.reject_selected()
