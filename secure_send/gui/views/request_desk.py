"""The desk's tracking view of one file request (for a request whose mailbox I am on).

Counts (提出済み / 未提出 / 期限超過), the addressees' table (``widgets/request_table.py``:
search by name, kana, id or department; sort by any column; filter by state), and the
desk's three actions: the status as CSV (UTF-8 with a BOM, never a file name), a
reminder to everyone who has not submitted (after a question that names the count), and
saving every submission into one folder per submitter with one progress bar and a
summary (saved / already saved / failed). Every action is a task of ``model.requests``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from secure_send.client.file_requests import RequestView
from secure_send.client.request_status import RequestStatus
from secure_send.client.save_all import SaveSummary
from secure_send.core.display import shown
from secure_send.core.error_actions import Action
from secure_send.gui import errors, threads
from secure_send.gui.model import AppModel
from secure_send.gui.text import fill
from secure_send.gui.widgets.buttons import button, plain_label
from secure_send.gui.widgets.request_list import due_text
from secure_send.gui.widgets.request_table import ALL, LATE, PENDING, SUBMITTED_STATE, RequestTable


def summary_counts(summary: SaveSummary) -> tuple[int, int, int]:
    """(saved, already saved, failed) of a ``save_all`` summary."""
    return len(summary.saved), len(summary.skipped), len(summary.failed) + len(summary.remaining)


class RequestDesk(QWidget):
    """See the module docstring."""

    back_requested = Signal()
    status_shown = Signal(object)  # RequestStatus, once the table is filled
    saved_all = Signal(object)  # the save_all summary

    def __init__(self, model: AppModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.view: RequestView | None = None
        self.status: RequestStatus | None = None
        # replaceable (tests): the file and folder choices, the questions, the summary box
        self.ask_csv_path: Callable[[], Path | None] = self._ask_csv_path
        self.ask_folder: Callable[[], Path | None] = self._ask_folder
        self.confirm: Callable[[str], bool] = self._confirm
        self.tell: Callable[[str], None] = self._tell
        self.table_model = RequestTable()
        self.title_label = plain_label(self)
        self.title_label.setWordWrap(True)
        self.counts_label = plain_label(self)
        self.counts_label.setAccessibleName(self.tr("Counts"))
        self.search = QLineEdit(self)
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText(self.tr("Name, reading, ID or department"))
        self.search.setAccessibleName(self.tr("Search addressees"))
        self.search.textChanged.connect(self.table_model.search)
        search_label = plain_label(self.tr("Fin&d:"), self)
        search_label.setBuddy(self.search)
        self.state_filter = QComboBox(self)
        self.state_filter.setAccessibleName(self.tr("Show"))
        for text, pattern in (
            (self.tr("Everyone"), ALL),
            (self.tr("Submitted"), SUBMITTED_STATE),
            (self.tr("Not submitted"), PENDING),
            (self.tr("Late"), LATE),
        ):
            self.state_filter.addItem(text, pattern)
        self.state_filter.currentIndexChanged.connect(self._on_state_filter_changed)
        state_label = plain_label(self.tr("Sta&te:"), self)
        state_label.setBuddy(self.state_filter)
        self.table = QTableView(self)
        self.table.setModel(self.table_model.view_model)
        self.table.setAccessibleName(self.tr("Addressees"))
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the status's own order
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setMinimumHeight(120)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.csv_button = button(
            self, self.tr("E&xport CSV…"), self.tr("IDs, names, departments and times"),
            self._on_csv_button_clicked,
        )  # fmt: skip
        self.remind_button = button(
            self, self.tr("&Remind those not submitted…"),
            self.tr("Send a reminder to everyone who has not submitted"),
            self._on_remind_button_clicked,
        )  # fmt: skip
        self.save_button = button(
            self, self.tr("Save &all…"), self.tr("Save every submission, one folder per person"),
            self._on_save_button_clicked,
        )  # fmt: skip
        self.back_button = QPushButton(self.tr("&Back"), self)
        self.back_button.clicked.connect(self.back_requested)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName(self.tr("Saving all"))
        self.progress.hide()
        self.status_label = plain_label(self)
        self.status_label.setWordWrap(True)
        filters = QHBoxLayout()
        filters.addWidget(search_label)
        filters.addWidget(self.search, 1)
        filters.addWidget(state_label)
        filters.addWidget(self.state_filter)
        actions = QHBoxLayout()
        for widget in (self.csv_button, self.remind_button, self.save_button):
            actions.addWidget(widget)
        actions.addStretch()
        actions.addWidget(self.back_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title_label)
        layout.addWidget(self.counts_label)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        layout.addLayout(actions)
        self._update_buttons()

    # ---------------------------------------------------------------- loading
    def open(self, view: RequestView) -> threads.Task:
        """Show ``view``'s status (loaded on a worker thread)."""
        self.view = view
        self.status = None
        title = view.title if view.title is not None else self.tr("(title not readable here)")
        # the due day beside the title: "late" in the table is judged against it
        due = fill(self.tr("%1 (due %2)"), shown(title), due_text(view))
        self.title_label.setText(due)
        self.counts_label.setText(self.tr("Loading…"))
        self.status_label.clear()
        self.table_model.fill(RequestStatus(view.request, ()))
        self._update_buttons()
        task = self.model.requests.status(view.request_id)
        task.succeeded.connect(self._on_status)
        task.failed.connect(lambda err: self._failed(err, Action.GENERAL))
        return threads.start(task)

    def reload(self) -> threads.Task | None:
        return self.open(self.view) if self.view is not None else None

    def _on_status(self, status: RequestStatus) -> None:
        if self.view is None or status.request.request_id != self.view.request_id:
            return  # another request was opened meanwhile
        self.status = status
        self.table_model.fill(status)
        header = self.table.horizontalHeader()
        if header.sortIndicatorSection() >= 0:  # keep the column the desk sorted by
            self.table_model.view_model.sort(
                header.sortIndicatorSection(), header.sortIndicatorOrder()
            )
        text = self.tr("Submitted %1 / Not submitted %2 / Late %3")
        self.counts_label.setText(
            fill(text, str(len(status.submitted)), str(len(status.pending)), str(len(status.late)))
        )
        self._update_buttons()
        self.status_shown.emit(status)

    def _update_buttons(self) -> None:
        loaded = self.status is not None
        self.csv_button.setEnabled(loaded)
        self.remind_button.setEnabled(loaded and bool(self.status and self.status.pending))
        self.save_button.setEnabled(loaded and not self.progress.isVisible())

    def _on_state_filter_changed(self, _index: int) -> None:
        self.table_model.show_state(str(self.state_filter.currentData()))

    def _failed(self, err: BaseException, action: Action) -> None:
        self.status_label.setText(errors.status_text(err, errors.Context(action)))

    # ---------------------------------------------------------------- CSV
    def _ask_csv_path(self) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(
            self, self.tr("Export the status as CSV"), "status.csv", self.tr("CSV (*.csv)")
        )
        return Path(name) if name else None

    def _on_csv_button_clicked(self) -> None:
        if self.status is None:
            return
        path = self.ask_csv_path()
        if path is None:
            return
        task = self.model.requests.export_csv(self.status, path)
        task.succeeded.connect(
            lambda p: self.status_label.setText(self.tr("Exported to %1").replace("%1", str(p)))
        )
        task.failed.connect(lambda err: self._failed(err, Action.SAVE))
        threads.start(task)

    # ---------------------------------------------------------------- remind
    def _confirm(self, question: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Remind"), question, parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        return box.exec() == QMessageBox.StandardButton.Yes

    def _on_remind_button_clicked(self) -> None:
        if self.status is None or self.view is None or not self.status.pending:
            return
        count = len(self.status.pending)
        question = self.tr("Send a reminder to the %1 people who have not submitted?")
        if not self.confirm(question.replace("%1", str(count))):
            return
        self.remind_button.setEnabled(False)
        task = self.model.requests.remind(self.view.request_id)
        task.succeeded.connect(self._on_reminded)
        task.failed.connect(lambda err: self._failed(err, Action.GENERAL))
        task.ended.connect(self._update_buttons)
        threads.start(task)

    def _on_reminded(self, users: list[str]) -> None:
        self.status_label.setText(self.tr("Reminded %1 people").replace("%1", str(len(users))))

    # ---------------------------------------------------------------- save all
    def _ask_folder(self) -> Path | None:
        name = QFileDialog.getExistingDirectory(self, self.tr("Save all submissions to"))
        return Path(name) if name else None

    def _tell(self, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, self.tr("Save all"), text, parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.exec()

    def _on_save_button_clicked(self) -> None:
        if self.view is None:
            return
        folder = self.ask_folder()
        if folder is None:
            return
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.show()
        self._update_buttons()
        task = self.model.requests.save_all(self.view.request_id, folder)
        task.progressed.connect(self._on_save_progressed)
        task.succeeded.connect(self._on_saved_all)
        task.failed.connect(lambda err: self._failed(err, Action.SAVE))
        task.ended.connect(self._on_save_ended)
        threads.start(task)

    def _on_save_progressed(self, _label: str, done: int, total: int) -> None:
        self.progress.setValue(100 if total <= 0 else min(100, done * 100 // total))

    def _on_saved_all(self, summary: Any) -> None:
        saved, skipped, failed = summary_counts(summary)
        text = self.tr("Saved: %1\nAlready saved: %2\nFailed: %3")
        text = fill(text, str(saved), str(skipped), str(failed))
        # IT's policy "warn" and a scanner that could not scan: saved, but never silently
        unscanned = [s.not_scanned for s in summary.saved if s.not_scanned is not None]
        if unscanned:
            warning = self.tr(
                "⚠ %1 of the saved submissions were NOT scanned for viruses (%2)."
                " Tell IT before you open them."
            )
            text += "\n" + fill(warning, str(len(unscanned)), unscanned[0])
        self.status_label.setText(text.replace("\n", "  "))
        self.saved_all.emit(summary)
        self.tell(text)

    def _on_save_ended(self) -> None:
        self.progress.hide()
        self._update_buttons()
        self.reload()
