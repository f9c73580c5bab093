"""The Inbox page: drops for me, who sent them (verified or not), and saving them.

A drop that failed verification is shown as dangerous (a ⚠ sign and the reason in
words, never colour alone) and cannot be saved. A detail pane follows the
selection (message, files, 機密性, recipients, deadline: fetched by the model and
kept in memory only); a search box and filters narrow the list, which says when
it is empty. A drop whose sender saw another
directory history than this PC (a split view), or whose history could not be
checked against ours, says so in its own translated sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QListWidget,
    QProgressBar,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from secure_send.client import listing
from secure_send.client.drop_details import DropDetails
from secure_send.client.receive import Received
from secure_send.client.split_view import SPLIT_VIEW, SPLIT_VIEW_UNCHECKED
from secure_send.core.encoding import parse_time
from secure_send.core.error_actions import Action
from secure_send.core.error_codes import ErrorCode
from secure_send.core.errors import SecureSendError
from secure_send.gui import errors, settings, threads
from secure_send.gui.dialogs import error_dialog
from secure_send.gui.model import AppModel
from secure_send.gui.widgets.buttons import button, plain_label, plain_tip
from secure_send.gui.widgets.drop_details_pane import DropDetailsPane
from secure_send.gui.widgets.inbox_filter import InboxFilter
from secure_send.gui.widgets.tables import row_table

ErrorReporter = Callable[[QWidget | None, BaseException], None]
COLUMNS = 6  # status, from, department, received, expires, saved


def local_time(stamp: str) -> str:
    """An RFC 3339 UTC time as local "YYYY-MM-DD HH:MM" ("" when missing or invalid)."""
    try:
        return parse_time(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except SecureSendError:
        return ""


class InboxPage(QWidget):
    """The inbox table with Save to Downloads, Save to…, Cancel and Open folder."""

    saved = Signal(str, list)  # drop id, the saved files (list[Path])

    def __init__(
        self,
        model: AppModel,
        parent: QWidget | None = None,
        downloads: Callable[[], Path] | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self._downloads = downloads or (lambda: settings.load(model.session.profile).downloads())
        self._all: list[listing.InboxItem] = []  # as the model listed them
        self._items: list[listing.InboxItem] = []  # the rows shown (filtered)
        self._saved_here: set[str] = set()  # saved in this run, before the server says so
        self._task: threads.Task | None = None
        self._folder: Path | None = None
        self._saving = ""  # the drop id being saved (named in an error's details)
        self.report_error: ErrorReporter = self._show_error  # replaceable (tests)
        self._build()
        model.inbox_changed.connect(self._on_model_inbox_changed)
        model.details.ready.connect(self._on_details_ready)
        self._on_model_inbox_changed(model.inbox)

    # ---------------------------------------------------------------- layout
    def _build(self) -> None:
        self._build_table()
        self.filter = InboxFilter(self.model, self)
        self.filter.changed.connect(self._on_filter_changed)
        self.empty_label = plain_label(self)
        self.empty_label.setAccessibleName(self.tr("Inbox list status"))
        self.details = DropDetailsPane(self.model, self)
        self.reason_label = plain_label(self)
        self.reason_label.setWordWrap(True)
        self.reason_label.setAccessibleName(self.tr("Why this drop cannot be saved"))
        self.save_button = button(
            self,
            self.tr("Save to &Downloads"),
            self.tr("Save the selected drop to the download folder"),
            self._on_save_button_clicked,
        )
        self.save_as_button = button(
            self,
            self.tr("Save &to…"),
            self.tr("Choose a folder and save the selected drop there"),
            self._on_save_as_button_clicked,
        )
        self.cancel_button = button(
            self, self.tr("&Cancel"), self.tr("Stop saving"), self._on_cancel_button_clicked
        )
        self.open_button = button(
            self,
            self.tr("&Open folder"),
            self.tr("Open the folder the files were saved in"),
            self._on_open_button_clicked,
        )
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName(self.tr("Saving progress"))
        self.status_label = plain_label(self)
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label.setAccessibleName(self.tr("Saving status"))
        self.files_list = QListWidget(self)
        self.files_list.setAccessibleName(self.tr("Saved files"))
        self.files_list.hide()  # until a save lists what it wrote: room for the list above
        self._lay_out()
        self._set_busy(False)

    def _build_table(self) -> None:
        labels = [
            self.tr("Verification"),
            self.tr("From"),
            self.tr("Department"),
            self.tr("Received"),
            self.tr("Expires"),
            self.tr("Saved"),
        ]
        self.table = row_table(self, labels, self.tr("Received drops"), single=True)
        header = self.table.horizontalHeader()
        # every cell whole but the status: the sender's name is never squeezed to "…" (a
        # narrow window scrolls sideways, the expiry and saved columns last); a danger
        # sentence is long, so it is elided in its cell (whole in the tooltip and under
        # the table)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.setWordWrap(False)  # elided on its line, not broken after the ⚠
        self.table.setColumnWidth(0, self.fontMetrics().horizontalAdvance("M") * 9)
        self.table.itemSelectionChanged.connect(self._on_table_item_selection_changed)

    def _lay_out(self) -> None:
        buttons = QHBoxLayout()
        for widget in (self.save_button, self.save_as_button, self.cancel_button):
            buttons.addWidget(widget)
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.open_button)
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
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(split, 3)
        layout.addWidget(self.reason_label)
        layout.addLayout(buttons)
        layout.addWidget(self.status_label)
        layout.addWidget(self.files_list, 1)
        self.setTabOrder(self.filter.dangerous, self.table)
        self.setTabOrder(self.table, self.save_button)
        self.setTabOrder(self.save_button, self.save_as_button)
        self.setTabOrder(self.save_as_button, self.cancel_button)
        self.setTabOrder(self.cancel_button, self.open_button)
        self.setTabOrder(self.open_button, self.files_list)

    # ---------------------------------------------------------------- table
    def row_count(self) -> int:
        """How many drops are listed."""
        return self.table.rowCount()

    def cell_text(self, row: int, column: int) -> str:
        """The text shown in one cell ("" when empty)."""
        cell = self.table.item(row, column)
        return cell.text() if cell is not None else ""

    def listed(self) -> list[listing.InboxItem]:
        """The drops the table shows (the search and filters applied), in order."""
        return list(self._items)

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

    def is_saved(self, item: listing.InboxItem) -> bool:
        """Saved by this device (the server's receipt, or a save in this run)."""
        return item.saved or item.drop_id in self._saved_here

    def _on_model_inbox_changed(self, items: list[listing.InboxItem]) -> None:
        self._all = list(items)
        self.filter.set_senders(self._all)
        # file names and messages for the search, fetched once per drop in the background
        self.model.details.prefetch([i.drop_id for i in self._all if i.verified])
        self._show_rows()

    def _on_filter_changed(self) -> None:
        self._show_rows()

    def _show_rows(self) -> None:
        """Fill the table with the drops the search and filters let through."""
        current = self.selected()
        self._items = [
            i
            for i in self._all
            if self.filter.accepts(i, self.model.details.cached(i.drop_id), self.is_saved(i))
        ]
        self.table.blockSignals(True)  # one selection update below, not one per row
        self.table.clearSelection()
        self.table.setRowCount(len(self._items))
        for row, item in enumerate(self._items):
            for column, text in enumerate(self._cells(item)):
                cell = QTableWidgetItem(text)
                cell.setToolTip(plain_tip(text))  # never item.problem: English, technical
                self.table.setItem(row, column, cell)
        if current is not None:
            self.select(current.drop_id)
        self.table.blockSignals(False)
        if not self._all:
            self.empty_label.setText(self.tr("No drops received"))
        elif not self._items:
            self.empty_label.setText(self.tr("No drops match the filters"))
        else:
            self.empty_label.clear()
        self.empty_label.setVisible(bool(self.empty_label.text()))
        self._on_table_item_selection_changed()

    def _danger(self, item: listing.InboxItem) -> tuple[str, str]:
        """(status cell, reason sentence) of a dangerous drop, in the UI language."""
        if item.problem_code == SPLIT_VIEW:
            return self.tr("⚠ Dangerous: directories do not match, do not open"), self.tr(
                "The sender's staff directory differs from yours (a possible split view), "
                "so this drop may be forged and cannot be saved. "
                "Do not open it; tell IT security."
            )
        if item.problem_code == SPLIT_VIEW_UNCHECKED:
            return self.tr("⚠ Dangerous: could not be checked, do not open"), self.tr(
                "The sender's staff directory could not be checked against yours, "
                "so this drop cannot be saved. Do not open it; tell IT security."
            )
        if item.problem_code == ErrorCode.APPROVAL_MISSING:
            return self.tr("⚠ Dangerous: not approved, do not open"), self.tr(
                "This drop needed a superior's approval and carries no valid one (the server"
                " may have released it early), so it cannot be saved. Do not open it;"
                " tell IT security."
            )
        # the code's sentence, never ``item.problem`` (English, for IT: the CLI shows it)
        code = item.problem_code or ErrorCode.UNVERIFIED_DROP
        reason = errors.code_sentence(code, Action.SAVE)
        return self.tr("⚠ Dangerous: failed verification, do not open"), reason

    def _cells(self, item: listing.InboxItem) -> list[str]:
        if not item.verified:
            # the reason (technical, English) is in the tooltip and the status line
            status = self._danger(item)[0]
            sender = self.tr("(unverified sender)")
        else:
            status = self.tr("✓ Verified")
            if item in listing.awaiting_my_approval([item]):  # 上長承認: mine to decide
                status = self.tr("✓ Verified, awaiting your approval")
            sender = item.sender_name_ja
            if item.sender_name_en:
                sender += f" ({item.sender_name_en})"
        saved = self.tr("Saved") if self.is_saved(item) else self.tr("Not saved")
        return [
            status,
            sender,
            item.department,
            local_time(item.created),
            local_time(item.expires),
            saved,
        ]

    def _on_table_item_selection_changed(self) -> None:
        self._update_actions()
        self._show_details()

    def _show_details(self) -> None:
        """The pane follows the selection (a dangerous drop: only why)."""
        item = self.selected()
        danger = self._danger(item)[1] if item is not None and not item.verified else ""
        self.details.follow(item.drop_id if item is not None else None, danger=danger)

    def _on_details_ready(self, _drop_id: str, _details: DropDetails) -> None:
        if self.filter.search.text().strip():  # its names and message may match now
            self._show_rows()

    def _update_actions(self) -> None:
        item = self.selected()
        busy = self._task is not None
        usable = item is not None and item.verified and not busy
        self.save_button.setEnabled(usable)
        self.save_as_button.setEnabled(usable)
        if item is not None and not item.verified:
            self.reason_label.setText(self._danger(item)[1])
        else:
            self.reason_label.clear()
        self.reason_label.setVisible(bool(self.reason_label.text()))

    # ---------------------------------------------------------------- saving
    def save_to(self, folder: Path) -> threads.Task | None:
        """Save the selected drop into ``folder``; the started task (None if nothing to save)."""
        item = self.selected()
        if item is None or not item.verified or self._task is not None:
            return None
        self._folder = folder
        self.files_list.clear()
        self.files_list.hide()
        self.status_label.setText(self.tr("Saving…"))
        self._saving = item.drop_id
        task = self.model.receive(item.drop_id, folder)
        task.progressed.connect(self._on_task_progressed)
        task.succeeded.connect(self._on_task_succeeded)
        task.failed.connect(self._on_task_failed)
        task.ended.connect(self._on_task_ended)
        self._task = task
        self._set_busy(True)
        return threads.start(task)

    def _on_save_button_clicked(self) -> None:
        self.save_to(self._downloads())

    def _on_save_as_button_clicked(self) -> None:
        start = str(self._downloads())
        chosen = QFileDialog.getExistingDirectory(self, self.tr("Save to folder"), start)
        if chosen:
            self.save_to(Path(chosen))

    def _on_cancel_button_clicked(self) -> None:
        if self._task is not None:
            self._task.cancel.set()
            self.status_label.setText(self.tr("Cancelling…"))

    def _on_open_button_clicked(self) -> None:
        if self._folder is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._folder)))

    def _on_task_progressed(self, label: str, done: int, total: int) -> None:
        # byte counts can exceed an int32 progress bar: show per mille
        self.progress.setRange(0, 1000)
        self.progress.setValue(int(1000 * done / total) if total else 0)

    def _on_task_succeeded(self, result: Received) -> None:
        self._saved_here.add(result.drop_id)
        programs = set(result.programs)
        for path in result.files:
            # a program among documents is how a disguised attachment gets opened
            text = self.tr("⚠ Program: %1").replace("%1", str(path)) if path in programs else ""
            self.files_list.addItem(text or str(path))
        self.files_list.setVisible(self.files_list.count() > 0)
        status = self.tr("Saved %n file(s) to %1.", "", len(result.files)).replace(
            "%1", str(self._folder)
        )
        if programs:
            status += " " + self.tr(
                "Programs that run when opened: %1. Do not open them unless you expected "
                "a program from this sender."
            ).replace("%1", str(len(programs)))
        if result.not_scanned is not None:  # IT's policy "warn": saved, but say it plainly
            status += " " + self.tr(
                "⚠ These files were NOT scanned for viruses (%1). Tell IT before you open them."
            ).replace("%1", result.not_scanned)
        self.status_label.setText(status)
        self.open_button.setEnabled(True)
        self._show_rows()
        self.saved.emit(result.drop_id, list(result.files))

    def _on_task_failed(self, err: BaseException) -> None:
        context = self._error_context()
        self.status_label.setText(errors.status_text(err, context))
        if getattr(err, "code", "") != "cancelled":  # the user asked for that: no box
            self.report_error(self, err)

    def _error_context(self) -> errors.Context:
        """Saving, the drop being saved, the server: what the helpdesk block names."""
        server = errors.host_of(self.model.session.org.server_url)
        return errors.Context(Action.SAVE, self._saving, server)

    def _show_error(self, parent: QWidget | None, err: BaseException) -> None:
        error_dialog.show_error(parent, err, self._error_context())

    def _on_task_ended(self) -> None:
        self._task = None
        self._set_busy(False)
        self._update_actions()

    def _set_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        self.progress.setVisible(busy)
        if busy:
            self.progress.setRange(0, 0)  # until the first progress report
            self.open_button.setEnabled(False)
        else:
            self.open_button.setEnabled(self._folder is not None and bool(self.files_list.count()))
        self._update_actions()
