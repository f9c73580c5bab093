"""Create a file request (依頼を作成): where submissions go, whom to ask, title, due day,
message.

Where: my own mailbox (自分) or a role mailbox I am a member of — nothing else, and
never a typed address. Whom: people and roles from the verified directory through the
Send page's recipient picker, whole departments (a checked list of the directory's
departments) or everyone (全職員). The model signs and stores it
(``model.requests.create``).
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from secure_send.client.file_requests import ME
from secure_send.core.envelope.request import JST, MAX_MESSAGE, MAX_TITLE
from secure_send.gui.dialogs.confirm_submit import mailbox_text
from secure_send.gui.model import AppModel
from secure_send.gui.requests_model import NewRequest
from secure_send.gui.widgets.buttons import plain_label
from secure_send.gui.widgets.recipient_picker import RecipientPicker


class CreateRequestDialog(QDialog):
    """See the module docstring; :meth:`request` is what was filled in."""

    def __init__(self, model: AppModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setWindowTitle(self.tr("Create a file request"))
        self.mailbox = QComboBox(self)
        self.mailbox.setAccessibleName(self.tr("Mailbox that collects"))
        me = model.session.me.user
        for entry in model.requests.mailboxes():
            mine = entry.id == me
            text = self.tr("Me (%1)").replace("%1", entry.name_ja) if mine else None
            self.mailbox.addItem(text or mailbox_text(entry, entry.id), ME if mine else entry.id)
        self.title = QLineEdit(self)
        self.title.setMaxLength(MAX_TITLE)
        self.title.setAccessibleName(self.tr("Title"))
        self.title.textChanged.connect(self._update_buttons)
        self.has_due = QCheckBox(self.tr("&Due date:"), self)
        self.has_due.setChecked(True)
        self.due = QDateEdit(self)
        self.due.setCalendarPopup(True)
        self.due.setDisplayFormat("yyyy-MM-dd")  # one unambiguous form in both languages
        self.due.setAccessibleName(self.tr("Due date"))
        today = dt.datetime.now(JST).date()
        tomorrow = today + dt.timedelta(days=1)
        self.due.setMinimumDate(QDate(tomorrow.year, tomorrow.month, tomorrow.day))
        week = today + dt.timedelta(days=14)
        self.due.setDate(QDate(week.year, week.month, week.day))
        self.has_due.toggled.connect(self.due.setEnabled)
        due_row = QHBoxLayout()
        due_row.addWidget(self.has_due)
        due_row.addWidget(self.due, 1)
        self.message = QPlainTextEdit(self)
        self.message.setAccessibleName(self.tr("Message"))
        self.message.setMaximumHeight(70)
        self.picker = RecipientPicker(model, self)
        self.picker.changed.connect(self._update_buttons)
        self.departments = QListWidget(self)
        self.departments.setAccessibleName(self.tr("Departments"))
        self.departments.setMaximumHeight(90)
        for name in model.requests.departments():
            item = QListWidgetItem(name, self.departments)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
        self.departments.itemChanged.connect(self._update_buttons)
        departments_label = plain_label(self.tr("De&partments:"), self)
        departments_label.setBuddy(self.departments)
        self.everyone = QCheckBox(self.tr("&Everyone (all staff)"), self)
        self.everyone.toggled.connect(self._update_buttons)
        form = QFormLayout()
        form.addRow(self.tr("Collect i&nto:"), self.mailbox)
        form.addRow(self.tr("Tit&le:"), self.title)
        form.addRow(due_row)
        form.addRow(self.tr("&Message:"), self.message)
        self.buttons = QDialogButtonBox(self)
        self.create_button = self.buttons.addButton(
            self.tr("C&reate"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.create_button.setAccessibleName(self.tr("Create the file request"))
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        # two columns (what is asked | whom), in a scroll area: the whole form fits a
        # 1280x720 screen at 150 % (853x480), and scrolls rather than cut off below
        what, whom = QWidget(), QWidget()
        left = QVBoxLayout(what)
        left.setContentsMargins(0, 0, 0, 0)
        left.addLayout(form)
        left.addStretch(1)
        right = QVBoxLayout(whom)
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.picker, 1)
        right.addWidget(departments_label)
        right.addWidget(self.departments)
        right.addWidget(self.everyone)
        body = QWidget()
        columns = QHBoxLayout(body)
        columns.setContentsMargins(0, 0, 0, 0)
        columns.addWidget(what, 1)
        columns.addWidget(whom, 1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.buttons)
        self.resize(760, 440)
        self._update_buttons()

    def chosen_departments(self) -> list[str]:
        """The checked departments."""
        items = (self.departments.item(i) for i in range(self.departments.count()))
        return [i.text() for i in items if i.checkState() == Qt.CheckState.Checked]

    def _update_buttons(self, *_: object) -> None:
        asked = (
            bool(self.picker.chosen_ids())
            or bool(self.chosen_departments())
            or self.everyone.isChecked()
        )
        self.create_button.setEnabled(asked and bool(self.title.text().strip()))

    def request(self) -> NewRequest:
        """What was filled in."""
        due = self.due.date().toString("yyyy-MM-dd") if self.has_due.isChecked() else None
        return NewRequest(
            into=str(self.mailbox.currentData()),
            to=tuple(self.picker.chosen_ids()),
            departments=tuple(self.chosen_departments()),
            everyone=self.everyone.isChecked(),
            title=self.title.text().strip(),
            due=due,
            message=self.message.toPlainText()[:MAX_MESSAGE],
        )
