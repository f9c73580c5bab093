"""Help → About: which version this is, which server and directory it uses, who and
which device it is — what a helpdesk asks first. Plain text only, nothing secret."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QVBoxLayout, QWidget

from secure_send.gui import helpdesk
from secure_send.gui.model import AppModel
from secure_send.gui.widgets.buttons import plain_label


class AboutDialog(QDialog):
    """The :func:`~secure_send.gui.helpdesk.about_facts`, one row each."""

    def __init__(self, model: AppModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("About Secure Send"))
        self.setAccessibleName(self.tr("About Secure Send"))
        self.facts = helpdesk.about_facts(model)
        title = plain_label(self.tr("Secure Send"), self)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)  # relative, never a fixed size
        font.setBold(True)
        title.setFont(font)
        form = QFormLayout()
        self.values: dict[str, str] = {}
        for label, value in self.facts:
            shown = plain_label(value, self)
            shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            shown.setAccessibleName(label)
            form.addRow(plain_label(label, self), shown)
            self.values[label] = value
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def shown_text(self) -> str:
        """Every label and value shown (for tests and screen readers)."""
        return helpdesk.as_text(self.facts)
