"""The last look before submitting to a file request: which request, where the files
go, which files.

There is no recipient to choose: the files go to the request's mailbox, named here by
its verified directory entry (name and department, never an address anyone typed).
Cancel is the default button, as on the Send confirmation, so a habitual Enter does
not submit.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from secure_send.client.file_requests import RequestView
from secure_send.core.directory.model import Entry
from secure_send.core.display import shown
from secure_send.gui.widgets.buttons import plain_label


def mailbox_text(entry: Entry | None, mailbox_id: str) -> str:
    """A mailbox as people know it: its Japanese name and department (the id if the
    directory no longer lists it)."""
    if entry is None:
        return mailbox_id
    return f"{entry.name_ja}（{entry.department}）" if entry.department else entry.name_ja


class ConfirmSubmitDialog(QDialog):
    """Request title, destination mailbox, files; 提出 or Cancel (the default)."""

    def __init__(
        self,
        view: RequestView,
        mailbox: Entry | None,
        files: list[str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setMinimumWidth(480)  # the mailbox's name and department on one line
        self.setWindowTitle(self.tr("Submit files"))
        intro = plain_label(self.tr("Submit these files to the file request?"), self)
        intro.setWordWrap(True)
        title = view.title if view.title is not None else self.tr("(title not readable here)")
        self.title_label = plain_label(shown(title), self)
        self.title_label.setWordWrap(True)
        self.mailbox_label = plain_label(mailbox_text(mailbox, view.request.mailbox), self)
        self.mailbox_label.setWordWrap(True)
        self.files = QListWidget(self)
        self.files.setAccessibleName(self.tr("Files to submit"))
        self.files.addItems([shown(f) for f in files])
        form = QFormLayout()
        form.addRow(self.tr("File request:"), self.title_label)
        form.addRow(self.tr("Goes to:"), self.mailbox_label)
        form.addRow(self.tr("Files:"), self.files)
        self.buttons = QDialogButtonBox(self)
        self.submit_button = self.buttons.addButton(
            self.tr("&Submit"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.submit_button.setAccessibleName(self.tr("Submit now"))
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAccessibleName(self.tr("Cancel"))
        self.submit_button.setAutoDefault(False)
        self.cancel_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.cancel_button.setFocus()
