"""The last look before sending: who gets what, for how long, at which classification.

Cancel is the default button, so pressing Enter by habit does not send.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from secure_send.client.send import collect
from secure_send.core.directory.model import Kind
from secure_send.core.envelope.manifest import Classification
from secure_send.gui.model import AppModel, SendRequest
from secure_send.gui.widgets.file_list import human_size

# Labels of the Japanese government standard (translated in the catalogue).
CLASSIFICATION_LABELS = {
    Classification.C1: QT_TRANSLATE_NOOP("Classification", "Confidentiality 1 (public)"),
    Classification.C2: QT_TRANSLATE_NOOP("Classification", "Confidentiality 2 (internal)"),
    Classification.C3: QT_TRANSLATE_NOOP("Classification", "Confidentiality 3 (secret)"),
}


def classification_label(value: Classification) -> str:
    """The human label for a classification, in the UI language."""
    return QCoreApplication.translate("Classification", str(CLASSIFICATION_LABELS[value]))


class ConfirmSendDialog(QDialog):
    """Lists each recipient (with department), every file with its size, and the options."""

    def __init__(self, model: AppModel, request: SendRequest, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Confirm sending"))
        self.setAccessibleName(self.tr("Confirm sending"))
        self.recipients = QListWidget(self)
        self.recipients.setAccessibleName(self.tr("Recipients"))
        for entry_id in request.to:
            self.recipients.addItem(self._recipient_text(model, entry_id))
        self.files = QListWidget(self)
        self.files.setAccessibleName(self.tr("Files"))
        files = collect(list(request.files))
        total = 0
        for item in files:
            size = item.path.stat().st_size
            total += size
            self.files.addItem(f"{item.name}  —  {human_size(size)}")
        self.total_label = QLabel(human_size(total), self)
        self.total_label.setAccessibleName(self.tr("Total size"))
        days = request.expires.days
        self.expiry_label = QLabel(self.tr("%n day(s)", "", days), self)
        self.class_label = QLabel(classification_label(request.classification), self)
        form = QFormLayout()
        form.addRow(self.tr("Recipients:"), self.recipients)
        form.addRow(self.tr("Files (%n):", "", len(files)), self.files)
        form.addRow(self.tr("Total size:"), self.total_label)
        form.addRow(self.tr("Available for:"), self.expiry_label)
        form.addRow(self.tr("Classification:"), self.class_label)
        if request.message:
            message = QLabel(request.message, self)
            message.setWordWrap(True)
            form.addRow(self.tr("Message:"), message)
        self.buttons = QDialogButtonBox(self)
        self.send_button = self.buttons.addButton(
            self.tr("&Send"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.send_button.setAccessibleName(self.tr("Send now"))
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAccessibleName(self.tr("Cancel"))
        self.send_button.setAutoDefault(False)
        self.cancel_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("Please check before sending:"), self))
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.cancel_button.setFocus()

    def _recipient_text(self, model: AppModel, entry_id: str) -> str:
        entry = model.entry(entry_id)
        if entry is None:
            return entry_id
        text = f"✓ {entry.name_ja} ({entry.name_en}) — {entry.department}"
        if entry.kind is Kind.ROLE:
            members = self.tr("role mailbox, %n member(s)", "", len(entry.members))
            text += f" [{members}]"
        return text
