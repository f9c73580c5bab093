"""The one place that says why sending is blocked: a banner above the pages.

It shows the directory state's reason in one translated sentence (worded for loading the
directory: "…tries again by itself") with a "Retry now" button, and hides the moment the
directory verifies again. Nothing else in the window words the reason, so the banner
and the status bar (which only says when the directory was last verified) cannot disagree.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QWidget

from secure_send.core.error_actions import Action
from secure_send.core.error_codes import ErrorCode
from secure_send.gui import errors
from secure_send.gui.directory_state import DirectoryState
from secure_send.gui.widgets.buttons import plain_label

# amber: a state to wait out or fix, not an alarm (the unknown-device banner is red)
STYLE = """
QFrame#directoryBanner { background: #fff4ce; border: 1px solid #c19c00; }
QFrame#directoryBanner QLabel { color: #3b2f00; }
"""


def verified_text(when: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """ "Directory checked: 10:42" (the date too when not today), for the status bar."""
    if when is None:
        return QCoreApplication.translate("DirectoryBanner", "Directory not checked yet")
    now = now or dt.datetime.now().astimezone()
    stamp = when.strftime("%H:%M" if when.date() == now.date() else "%Y-%m-%d %H:%M")
    return QCoreApplication.translate("DirectoryBanner", "Directory checked: %1").replace(
        "%1", stamp
    )


class DirectoryBanner(QFrame):
    """Hidden while the directory is usable; ``retry_requested`` asks for a refresh."""

    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("directoryBanner")
        self.setStyleSheet(STYLE)
        self.setAccessibleName(self.tr("Why sending is blocked"))
        self.text = plain_label(self)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setAccessibleName(self.tr("Directory problem"))
        self.retry_button = QPushButton(self.tr("Retr&y now"), self)
        self.retry_button.setAccessibleName(self.tr("Retry loading the directory"))
        self.retry_button.clicked.connect(self._on_retry_button_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.setVisible(False)

    def show_state(self, state: DirectoryState) -> None:
        """Word ``state``'s reason (hidden when the directory is usable)."""
        self.retry_button.setEnabled(True)  # an answer came: another try is possible
        if state.usable:
            self.text.clear()
            self.setVisible(False)
            return
        code = state.problem_code or ErrorCode.DIRECTORY_UNAVAILABLE
        sentence = errors.code_sentence(code, Action.DIRECTORY)
        self.text.setText(sentence)
        self.setAccessibleDescription(sentence)
        self.setVisible(True)

    def _on_retry_button_clicked(self) -> None:
        self.retry_button.setEnabled(False)  # until the directory answers
        self.retry_requested.emit()
