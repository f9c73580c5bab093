"""The Sent page: my drops, their state and time left, verified per-recipient receipts,
and recalling a drop (after a confirmation whose default answer is No).

A receipt signed over another directory history than this PC's (a split view), or
one that could not be checked against it, is never shown as a download: the
recipient's row says so with a ⚠ sign, in words."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from secure_send.client import listing
from secure_send.client.split_view import SPLIT_VIEW
from secure_send.core.drop_state import DropState
from secure_send.core.error_actions import Action
from secure_send.gui import errors, threads
from secure_send.gui.dialogs import error_dialog
from secure_send.gui.model import AppModel, time_left
from secure_send.gui.views.inbox_page import ErrorReporter, local_time
from secure_send.gui.widgets.buttons import button, plain_label, plain_tip

DROP_ROLE = Qt.ItemDataRole.UserRole


class SentPage(QWidget):
    """A tree: one row per drop, one child row per recipient."""

    recalled = Signal(str)  # drop id

    def __init__(self, model: AppModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.confirm: Callable[[str], bool] = self._ask  # replaceable (tests, policy)
        self._items: list[listing.SentItem] = []
        self._recalled_here: set[str] = set()  # until the next refresh says so too
        self._task: threads.Task | None = None
        self._recalling = ""  # the drop id being recalled (named in an error's details)
        self.report_error: ErrorReporter = self._show_error  # replaceable (tests)
        self._build()
        model.sent_changed.connect(self._on_model_sent_changed)
        self._on_model_sent_changed(model.sent)

    def _build(self) -> None:
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(
            [self.tr("Sent / recipient"), self.tr("State"), self.tr("Expiry"), self.tr("Download")]
        )
        self.tree.setAccessibleName(self.tr("Sent drops and their recipients"))
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemSelectionChanged.connect(self._on_tree_item_selection_changed)
        self.recall_button = button(
            self,
            self.tr("&Recall…"),
            self.tr("Withdraw the selected drop so that nobody can download it any more"),
            self._on_recall_button_clicked,
        )
        self.refresh_button = button(
            self,
            self.tr("Refres&h"),
            self.tr("Reload the sent drops and receipts"),
            self._on_refresh_button_clicked,
        )
        self.status_label = plain_label(self)
        self.status_label.setWordWrap(True)
        self.status_label.setAccessibleName(self.tr("Sent status"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.recall_button)
        buttons.addWidget(self.refresh_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status_label)
        self.setTabOrder(self.tree, self.recall_button)
        self.setTabOrder(self.recall_button, self.refresh_button)
        self._update_actions()

    # ---------------------------------------------------------------- tree
    def state_of(self, item: listing.SentItem) -> DropState:
        """The drop's state, counting a recall made in this run."""
        return DropState.RECALLED if item.drop_id in self._recalled_here else item.state

    def state_labels(self) -> dict[DropState, str]:
        """Every state in words (tests hold the keys to exactly :class:`DropState`)."""
        return {
            DropState.UPLOADING: self.tr("Uploading"),
            DropState.COMMITTED: self.tr("Sent"),
            DropState.RECALLED: self.tr("Recalled"),
            DropState.EXPIRED: self.tr("Expired"),
            DropState.DAMAGED: self.tr("⚠ Unreadable on the server (tell IT)"),
        }

    def state_text(self, state: DropState) -> str:
        """A state in words."""
        return self.state_labels()[state]

    def time_left_text(self, expires: str, now: dt.datetime | None = None) -> str:
        """E.g. "3 days 4 hours left"; "Expired" at the end."""
        left = time_left(expires, now)
        days, hours, minutes = left.days, left.seconds // 3600, left.seconds % 3600 // 60
        if left <= dt.timedelta(0):
            return self.tr("Expired")
        if days:
            one_day = self.tr("1 day")
            span = one_day if days == 1 else self.tr("%1 days").replace("%1", str(days))
            span += " " + self._hours(hours)
        elif hours:
            span = self._hours(hours)
        else:
            span = self.tr("%1 minutes").replace("%1", str(max(minutes, 1)))
        return self.tr("%1 left").replace("%1", span)

    def _hours(self, hours: int) -> str:
        return self.tr("1 hour") if hours == 1 else self.tr("%1 hours").replace("%1", str(hours))

    def item_text(self) -> str:
        """Everything the tree shows, one line per row (for screen readers' tests and logs)."""
        lines = []
        for top in self._tops():
            lines.append(" | ".join(top.text(c) for c in range(4)))
            children = (top.child(j) for j in range(top.childCount()))
            for child in children:
                if child is not None:
                    lines.append("  " + " | ".join(child.text(c) for c in range(4)))
        return "\n".join(lines)

    def _tops(self) -> list[QTreeWidgetItem]:
        items = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [item for item in items if item is not None]

    def _on_model_sent_changed(self, items: list[listing.SentItem]) -> None:
        current = self.selected()
        self._recalled_here -= {i.drop_id for i in items if i.state == DropState.RECALLED}
        self._items = list(items)
        self.tree.clear()
        for item in self._items:
            self.tree.addTopLevelItem(self._row(item))
        self.tree.expandAll()
        if current is not None:
            self.select(current.drop_id)
        self._update_actions()

    def _row(self, item: listing.SentItem) -> QTreeWidgetItem:
        state = self.state_of(item)
        expiry = self.time_left_text(item.expires) if state == DropState.COMMITTED else ""
        done = sum(1 for r in item.recipients if r.downloaded)
        summary = self.tr("%1 of %2 downloaded").replace("%1", str(done))
        summary = summary.replace("%2", str(len(item.recipients)))
        title = self.tr("Sent %1").replace("%1", local_time(item.created))
        top = QTreeWidgetItem([title, self.state_text(state), expiry, summary])
        top.setData(0, DROP_ROLE, item.drop_id)
        top.setToolTip(2, self.tr("Expires %1").replace("%1", local_time(item.expires)))
        for recipient in item.recipients:
            child = QTreeWidgetItem(
                [recipient.name_ja, recipient.department, "", self.download_text(recipient)]
            )
            child.setToolTip(0, plain_tip(recipient.user))
            if recipient.problem:  # the technical reason, for IT
                child.setToolTip(3, plain_tip(recipient.problem))
            top.addChild(child)
        return top

    def download_text(self, recipient: listing.RecipientStatus) -> str:
        """One recipient's download state in words; an untrusted receipt says why."""
        if recipient.problem_code == SPLIT_VIEW:
            return self.tr(
                "⚠ Receipt not trusted: your staff directories do not match "
                "(split view?). Tell IT security."
            )
        if recipient.problem:
            return self.tr(
                "⚠ Receipt could not be checked against your staff directory. Tell IT security."
            )
        if recipient.downloaded:
            return self.tr("✓ Downloaded at %1").replace("%1", local_time(recipient.downloaded))
        return self.tr("Not yet downloaded")

    def select(self, drop_id: str) -> bool:
        """Select a drop's row; False when it is not listed."""
        for top in self._tops():
            if top.data(0, DROP_ROLE) == drop_id:
                self.tree.setCurrentItem(top)
                return True
        return False

    def selected(self) -> listing.SentItem | None:
        """The selected drop (a recipient row selects its drop)."""
        current = self.tree.currentItem()
        while current is not None and current.parent() is not None:
            current = current.parent()
        drop_id = current.data(0, DROP_ROLE) if current is not None else None
        return next((i for i in self._items if i.drop_id == drop_id), None)

    def _on_tree_item_selection_changed(self) -> None:
        self._update_actions()

    def _update_actions(self) -> None:
        item = self.selected()
        can = item is not None and self.state_of(item) == DropState.COMMITTED and self._task is None
        self.recall_button.setEnabled(can)

    # ---------------------------------------------------------------- recall
    def _ask(self, question: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Recall drop"), "", parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)  # may name files: not markup
        box.setText(question)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)  # the safe answer is the default
        return bool(box.exec() == QMessageBox.StandardButton.Yes.value)

    def recall_selected(self) -> threads.Task | None:
        """Ask, then recall the selected drop; the started task (None if not recalled)."""
        item = self.selected()
        if item is None or self.state_of(item) != DropState.COMMITTED or self._task is not None:
            return None
        question = self.tr(
            "Recall the drop sent %1? Recipients who have not downloaded it yet will not "
            "be able to. Files already downloaded cannot be taken back."
        ).replace("%1", local_time(item.created))
        if not self.confirm(question):
            return None
        self._recalling = item.drop_id
        task = self.model.recall(item.drop_id)
        task.succeeded.connect(self._on_task_succeeded)
        task.failed.connect(self._on_task_failed)
        task.ended.connect(self._on_task_ended)
        self._task = task
        self.status_label.setText(self.tr("Recalling…"))
        self._update_actions()
        return threads.start(task)

    def _on_recall_button_clicked(self) -> None:
        self.recall_selected()

    def _on_refresh_button_clicked(self) -> None:
        self.status_label.clear()
        self.model.refresh_sent()

    def _on_task_succeeded(self, drop_id: str) -> None:
        self._recalled_here.add(drop_id)
        self.status_label.setText(self.tr("The drop was recalled."))
        self._on_model_sent_changed(self._items)
        self.recalled.emit(drop_id)

    def _on_task_failed(self, err: BaseException) -> None:
        self.status_label.setText(errors.status_text(err, self._error_context()))
        if getattr(err, "code", "") != "cancelled":  # the user asked for that: no box
            self.report_error(self, err)

    def _error_context(self) -> errors.Context:
        """Recalling, the drop, the server: what the helpdesk block names."""
        server = errors.host_of(self.model.session.org.server_url)
        return errors.Context(Action.RECALL, self._recalling, server)

    def _show_error(self, parent: QWidget | None, err: BaseException) -> None:
        error_dialog.show_error(parent, err, self._error_context())

    def _on_task_ended(self) -> None:
        self._task = None
        self._update_actions()
