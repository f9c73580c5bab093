"""差し戻し: the approver writes why a send goes back to its sender.

The reason is required and at most :data:`MAX_REASON` characters (what the signed
decision accepts: ``core.envelope.approval.check_reason``); 差し戻す stays disabled
until it fits, and a counter says how much is left. The hint says where the text
goes: to the sender, and stored by the server, so no personal data. Tabs and other
control characters (which the decision refuses) are turned into spaces as they are
typed or pasted: the approver never meets an error about characters they cannot see.
Cancel is the default button.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from secure_send.core.envelope.approval import MAX_REASON
from secure_send.gui.text import fill
from secure_send.gui.widgets.buttons import plain_label


def cleaned(text: str) -> str:
    """``text`` with every control character but a line break as a space."""
    return "".join(
        " " if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F else c for c in text
    )


class RejectReasonDialog(QDialog):
    """A reason box, its hint and counter; 差し戻す or Cancel (the default)."""

    def __init__(self, sender: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Return to the sender"))
        self.setMinimumWidth(480)
        intro = fill(self.tr("Return this send to %1. It will not be delivered."), sender)
        self.intro = plain_label(intro, self)
        self.intro.setWordWrap(True)
        self.reason = QPlainTextEdit(self)
        self.reason.setAccessibleName(self.tr("Reason for returning"))
        self.reason.setTabChangesFocus(True)
        self.reason.textChanged.connect(self._on_reason_text_changed)
        self.hint = plain_label(
            self.tr(
                "The reason goes to the sender and is stored on the server. "
                "Do not write personal information."
            ),
            self,
        )
        self.hint.setWordWrap(True)
        self.counter = plain_label(self)
        self.counter.setAccessibleName(self.tr("Characters left"))
        self.buttons = QDialogButtonBox(self)
        self.return_button = self.buttons.addButton(
            self.tr("&Return"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.return_button.setAccessibleName(self.tr("Return to the sender now"))
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.return_button.setAutoDefault(False)
        self.cancel_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(plain_label(self.tr("Reason:"), self))
        layout.addWidget(self.reason, 1)
        layout.addWidget(self.hint)
        layout.addWidget(self.counter)
        layout.addWidget(self.buttons)
        self._on_reason_text_changed()
        self.reason.setFocus()

    def text(self) -> str:
        """The reason as it will be signed."""
        return self.reason.toPlainText()

    def _on_reason_text_changed(self) -> None:
        text = self.text()
        if cleaned(text) != text:  # a pasted tab: replaced where it is
            position = self.reason.textCursor().position()
            self.reason.setPlainText(cleaned(text))
            cursor = self.reason.textCursor()
            cursor.setPosition(min(position, len(cleaned(text))))
            self.reason.setTextCursor(cursor)
            return  # setPlainText came back here
        left = MAX_REASON - len(text)
        if left >= 0:
            self.counter.setText(self.tr("%n character(s) left", "", left))
        else:
            self.counter.setText(self.tr("%n character(s) too many", "", -left))
        self.return_button.setEnabled(bool(text.strip()) and left >= 0)
