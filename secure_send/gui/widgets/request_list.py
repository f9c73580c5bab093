"""The 依頼 page's list of open file requests: one row per request, files dropped on a row.

A row says the request's title, who asks (the mailbox's Japanese name from the verified
directory), its due day and my state: 未提出, 提出済み, 期限超過 (the due day passed) or
催促あり (the desk reminded me). A request that failed verification is one ⚠ row that
accepts no files. A drag is accepted only over a row that can be answered.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QPoint, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from secure_send.client.file_requests import RequestView
from secure_send.core.display import shown
from secure_send.gui.dates import short_day
from secure_send.gui.requests_model import Listed, is_overdue, request_id_of
from secure_send.gui.widgets.drop_zone import local_paths

ID_ROLE = Qt.ItemDataRole.UserRole
TITLE, FROM, DUE, STATE = range(4)


def _t(text: str) -> str:
    return QCoreApplication.translate("RequestList", text)


def state_text(view: RequestView) -> str:
    """My state for a request I was asked (or that my desk collects)."""
    if not view.addressed:
        return QCoreApplication.translate("RequestList", "Your desk")
    if view.submitted:
        return QCoreApplication.translate("RequestList", "Submitted")
    if is_overdue(view):
        return QCoreApplication.translate("RequestList", "Overdue")
    if view.reminded is not None:
        return QCoreApplication.translate("RequestList", "Reminded")
    return QCoreApplication.translate("RequestList", "Not submitted")


def due_text(view: RequestView) -> str:
    due = view.request.due
    return (
        short_day(dt.date.fromisoformat(due))
        if due
        else QCoreApplication.translate("RequestList", "No due date")
    )


class RequestList(QTableWidget):
    """See the module docstring."""

    files_dropped = Signal(str, list)  # request id, list[Path]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 4, parent)
        self.setHorizontalHeaderLabels(
            [
                QCoreApplication.translate("RequestList", "Title"),
                QCoreApplication.translate("RequestList", "Requested by"),
                QCoreApplication.translate("RequestList", "Due"),
                QCoreApplication.translate("RequestList", "State"),
            ]
        )
        self.setAccessibleName(QCoreApplication.translate("RequestList", "File requests"))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.verticalHeader().hide()
        header = self.horizontalHeader()
        header.setSectionResizeMode(TITLE, QHeaderView.ResizeMode.Stretch)
        for column in (FROM, DUE, STATE):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.answerable: set[str] = set()  # ids of rows that accept files

    def show_requests(self, items: list[Listed], mailbox_name: dict[str, str]) -> None:
        """Fill the rows (``mailbox_name``: id → the name to show)."""
        selected = self.selected_id()
        self.setRowCount(0)
        self.answerable = set()
        for listed in items:
            row = self.rowCount()
            self.insertRow(row)
            request_id = request_id_of(listed)
            if isinstance(listed, RequestView):
                title = (
                    listed.title
                    if listed.title is not None
                    else QCoreApplication.translate("RequestList", "(title not readable here)")
                )
                mailbox = listed.request.mailbox
                cells = [shown(title), mailbox_name.get(mailbox, mailbox)]
                cells += [due_text(listed), state_text(listed)]
                if listed.addressed:  # submitted too: a re-submission is kept, and marked
                    self.answerable.add(request_id)
            else:
                cells = [
                    QCoreApplication.translate("RequestList", "⚠ Dangerous request: do not submit"),
                    "",
                    "",
                    QCoreApplication.translate("RequestList", "Dangerous"),
                ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(ID_ROLE, request_id)
                self.setItem(row, column, item)
            if request_id == selected:
                self.selectRow(row)

    def row_id(self, row: int) -> str | None:
        item = self.item(row, TITLE)
        return str(item.data(ID_ROLE)) if item is not None else None

    def selected_id(self) -> str | None:
        rows = self.selectionModel().selectedRows() if self.selectionModel() else []
        return self.row_id(rows[0].row()) if rows else None

    def select_id(self, request_id: str) -> None:
        for row in range(self.rowCount()):
            if self.row_id(row) == request_id:
                self.selectRow(row)

    def _target(self, pos: QPoint) -> str | None:
        """The answerable request under ``pos`` (viewport coordinates)."""
        index = self.indexAt(pos)
        request_id = self.row_id(index.row()) if index.isValid() else None
        return request_id if request_id in self.answerable else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # Qt override
        if local_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # Qt override
        target = self._target(event.position().toPoint())
        if target is not None and local_paths(event):
            self.select_id(target)
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # Qt override
        target = self._target(event.position().toPoint())
        paths: list[Path] = local_paths(event)
        if target is None or not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.select_id(target)
        self.files_dropped.emit(target, paths)
