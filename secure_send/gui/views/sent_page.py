"""The Sent page: my drops, their state and time left, verified per-recipient receipts,
and recalling a drop (after a confirmation whose default answer is No).

A receipt signed over another directory history than this PC's (a split view), or
one that could not be checked against it, is never shown as a download: the
recipient's row says so with a ⚠ sign, in words.

A detail pane follows the selection (files, message, 機密性, recipients). Once a
drop's details are known, a role mailbox the sender chose is one row with its
members under it — those the drop reached, with their receipts, and those it could
not reach because they had no registered device — and the recall question names
the files and recipients.

A drop that asked for a superior's approval (上長承認) says under it how that stands:
承認待ち (and who decides), 承認済み (who, when) or 差し戻し (who, and their reason as
plain text); a decision the server shows that does not verify is a warning."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from secure_send.client import listing
from secure_send.client.approval import PENDING, REJECTED
from secure_send.client.chosen import ROLE
from secure_send.client.split_view import SPLIT_VIEW
from secure_send.core.display import shown
from secure_send.core.drop_state import DropState
from secure_send.core.error_actions import Action
from secure_send.gui import approval_words, errors, threads
from secure_send.gui.dialogs import error_dialog
from secure_send.gui.model import AppModel, time_left
from secure_send.gui.text import fill
from secure_send.gui.views.inbox_page import ErrorReporter, local_time
from secure_send.gui.widgets.buttons import button, plain_label, plain_tip
from secure_send.gui.widgets.drop_details_pane import DropDetailsPane
from secure_send.gui.widgets.file_list import human_size

DROP_ROLE = Qt.ItemDataRole.UserRole
APPROVAL_ROLE = Qt.ItemDataRole.UserRole + 1  # the row saying how its approval stands


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
        self._rebuild = QTimer(self)  # details arriving one by one: one rebuild for all
        self._rebuild.setSingleShot(True)
        self._rebuild.timeout.connect(lambda: self._on_model_sent_changed(self._items))
        self._build()
        model.sent_changed.connect(self._on_model_sent_changed)
        model.details.ready.connect(self._on_details_ready)
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
        # shown second (logical index unchanged): who has downloaded is what the sender
        # looks for, and as the last column it was cut off beside the detail pane
        self.tree.header().moveSection(3, 1)
        self.tree.itemSelectionChanged.connect(self._on_tree_item_selection_changed)
        self.recall_button = button(
            self,
            self.tr("&Recall…"),
            self.tr("Withdraw the selected drop so that nobody can download it any more"),
            self._on_recall_button_clicked,
        )
        self.refresh_button = button(
            self,
            self.tr("R&efresh"),
            self.tr("Reload the sent drops and receipts"),
            self._on_refresh_button_clicked,
        )
        self.status_label = plain_label(self)
        self.status_label.setWordWrap(True)
        self.status_label.setAccessibleName(self.tr("Sent status"))
        # the selected drop's approval in full: a returned drop's reason is a sentence or
        # two, cut off in its row of the tree
        self.approval_label = plain_label(self)
        self.approval_label.setWordWrap(True)
        self.approval_label.setAccessibleName(self.tr("Approval of the selected drop"))
        self.details = DropDetailsPane(self.model, self, show_sender=False)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.tree)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        buttons = QHBoxLayout()
        buttons.addWidget(self.recall_button)
        buttons.addWidget(self.refresh_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addWidget(self.approval_label)
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
        lines: list[str] = []

        def add(row: QTreeWidgetItem, depth: int) -> None:
            lines.append("  " * depth + " | ".join(row.text(c) for c in range(4)))
            for child in (row.child(j) for j in range(row.childCount())):
                if child is not None:
                    add(child, depth + 1)

        for top in self._tops():
            add(top, 0)
        return "\n".join(lines)

    def _tops(self) -> list[QTreeWidgetItem]:
        items = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [item for item in items if item is not None]

    def _on_model_sent_changed(self, items: list[listing.SentItem]) -> None:
        current = self.selected()
        self._recalled_here -= {i.drop_id for i in items if i.state == DropState.RECALLED}
        self._items = list(items)
        self.tree.blockSignals(True)  # one selection update below, not a clear and a set
        self.tree.clear()
        for item in self._items:
            top = self._row(item)
            self.tree.addTopLevelItem(top)
            for child in (top.child(j) for j in range(top.childCount())):
                if child is not None and child.data(0, APPROVAL_ROLE):
                    child.setFirstColumnSpanned(True)  # a sentence, not a recipient
        self.tree.expandAll()
        if current is not None:
            self.select(current.drop_id)
        self.tree.blockSignals(False)
        self._on_tree_item_selection_changed()
        committed = [i.drop_id for i in self._items if i.state == DropState.COMMITTED]
        self.model.details.prefetch(committed)  # roles and file names without a click

    def _on_details_ready(self, drop_id: str, _details: object) -> None:
        if any(i.drop_id == drop_id for i in self._items):
            self._rebuild.start(0)

    def _row(self, item: listing.SentItem) -> QTreeWidgetItem:
        state = self.state_of(item)
        expiry = self.time_left_text(item.expires) if state == DropState.COMMITTED else ""
        done = sum(1 for r in item.recipients if r.downloaded)
        summary = self.tr("%1 of %2 downloaded").replace("%1", str(done))
        summary = summary.replace("%2", str(len(item.recipients)))
        title = self.tr("Sent %1").replace("%1", local_time(item.created))
        shown_state = self.state_text(state)
        # the server ends a returned drop as recalled: "Returned" says who ended it
        pending = state == DropState.COMMITTED and item.approval.state == PENDING
        if pending or (state != DropState.DAMAGED and item.approval.state == REJECTED):
            shown_state = self.approval_states()[item.approval.state]
        top = QTreeWidgetItem([title, shown_state, expiry, summary])
        top.setData(0, DROP_ROLE, item.drop_id)
        for line in self.approval_lines(item):  # 上長承認, first: it decides the rest
            row = QTreeWidgetItem([line, "", "", ""])
            row.setData(0, APPROVAL_ROLE, True)
            row.setToolTip(0, plain_tip(line))
            top.addChild(row)
        top.setToolTip(2, self.tr("Expires %1").replace("%1", local_time(item.expires)))
        details = self.model.details.cached(item.drop_id)
        if details is None or not details.to_recorded:  # the manifest's persons
            top.addChildren([self._person_row(r) for r in item.recipients])
            return top
        by_user = {r.user: r for r in item.recipients}
        for chosen in details.to:
            if chosen.kind != ROLE:
                top.addChildren(
                    [self._person_row(by_user[chosen.id])] if chosen.id in by_user else []
                )
                continue
            count = self.details.role_count(chosen, item.recipients)
            role = QTreeWidgetItem([self.details.role_name(chosen.id), "", "", count])
            role.setToolTip(0, plain_tip(chosen.id))
            role.addChildren([self._person_row(by_user[m]) for m in chosen.members if m in by_user])
            role.addChildren([self._no_device_row(m) for m in chosen.no_device])
            top.addChild(role)
        return top

    def approval_states(self) -> dict[str, str]:
        """The State column of a drop waiting for, or returned by, its approver."""
        return {PENDING: self.tr("Awaiting approval"), REJECTED: self.tr("Returned")}

    def approval_lines(self, item: listing.SentItem) -> list[str]:
        """The drop's approval in words, and a decision that did not verify (a warning)."""
        lines = []
        status = approval_words.status_text(item.approval, self.model.entry, local_time)
        if status:
            lines.append(fill(self.tr("Approval: %1"), status))
        if item.approval_problem:
            lines.append(approval_words.problem_text())
        return lines

    def _person_row(self, recipient: listing.RecipientStatus) -> QTreeWidgetItem:
        row = QTreeWidgetItem(
            [recipient.name_ja, recipient.department, "", self.download_text(recipient)]
        )
        row.setToolTip(0, plain_tip(recipient.user))
        if recipient.problem:  # the technical reason, for IT
            row.setToolTip(3, plain_tip(recipient.problem))
        return row

    def _no_device_row(self, user: str) -> QTreeWidgetItem:
        """A role member the drop could not reach: no registered device at the time."""
        entry = self.model.entry(user)
        name, department = (entry.name_ja, entry.department) if entry else (user, "")
        row = QTreeWidgetItem([name, department, "", self.tr("No registered device: not sent")])
        row.setToolTip(0, plain_tip(user))
        return row

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
        item = self.selected()
        self.approval_label.setText("\n".join(self.approval_lines(item)) if item else "")
        self.approval_label.setVisible(bool(self.approval_label.text()))
        if item is None:
            self.details.follow(None)
            return
        damaged = self.state_text(DropState.DAMAGED) if item.state == DropState.DAMAGED else ""
        self.details.follow(item.drop_id, danger=damaged, receipts=item.recipients)

    def _update_actions(self) -> None:
        item = self.selected()
        can = item is not None and self.state_of(item) == DropState.COMMITTED and self._task is None
        self.recall_button.setEnabled(can)

    # ---------------------------------------------------------------- recall
    def recall_box(self, question: str) -> QMessageBox:
        """The recall question as a box (not shown: ``_ask`` runs it)."""
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Recall drop"), "", parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)  # may name files: not markup
        box.setText(question)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)  # the safe answer is the default
        return box

    def _ask(self, question: str) -> bool:
        return bool(self.recall_box(question).exec() == QMessageBox.StandardButton.Yes.value)

    def recall_selected(self) -> threads.Task | None:
        """Ask, then recall the selected drop; the started task (None if not recalled)."""
        item = self.selected()
        if item is None or self.state_of(item) != DropState.COMMITTED or self._task is not None:
            return None
        if not self.confirm(self.recall_question(item)):
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

    def recall_question(self, item: listing.SentItem) -> str:
        """「次の送付を取り消しますか?」 with the files, the recipients and the time sent."""
        details = self.model.details.cached(item.drop_id)
        lines = [self.tr("Recall this drop?"), "", self.tr("Files:")]
        if details is not None:
            lines += [f"  {shown(f.name)}  {human_size(f.size)}" for f in details.files]
            lines += ["", self.tr("Recipients:")]
            lines += ["  " + self.details.chosen_text(c, None) for c in details.to]
        else:  # not fetched (the server did not answer): say so, name the persons
            lines.append("  " + self.tr("(the file names could not be loaded)"))
            lines += ["", self.tr("Recipients:")]
            lines += ["  " + self.details.person_text(r.user) for r in item.recipients]
        lines += ["", fill(self.tr("Sent: %1"), local_time(item.created)), ""]
        lines.append(
            self.tr(
                "Recipients who have not downloaded it yet will no longer be able to. "
                "Files already downloaded cannot be taken back."
            )
        )
        return "\n".join(lines)

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
