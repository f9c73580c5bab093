"""Help → Diagnostics: the About facts plus the platform, Qt, the key store, the profile
folder and the unfinished sends, as plain text a clerk can copy into a ticket with one
button. Nothing secret (no key, token, file name or message) is gathered at all."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from secure_send.gui import errors, helpdesk
from secure_send.gui.model import AppModel
from secure_send.gui.widgets.buttons import plain_label


class DiagnosticsDialog(QDialog):
    """The :func:`~secure_send.gui.helpdesk.diagnostic_facts` and a Copy button."""

    def __init__(self, model: AppModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Diagnostics"))
        self.setAccessibleName(self.tr("Diagnostics"))
        intro = plain_label(
            self.tr(
                "Give this information to IT when you ask for help. "
                "It contains no keys, file names or messages."
            ),
            self,
        )
        intro.setWordWrap(True)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)  # plain text: nothing here is rendered
        self.text.setAccessibleName(self.tr("Diagnostic information"))
        self.text.setPlainText(helpdesk.as_text(helpdesk.diagnostic_facts(model)))
        self.text.setMinimumWidth(self.fontMetrics().averageCharWidth() * 70)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = QPushButton(self.tr("&Copy"), self)
        self.copy_button.setAccessibleName(self.tr("Copy the diagnostic information"))
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)

    def _on_copy_button_clicked(self) -> None:
        errors.copy_to_clipboard(self.text.toPlainText())
