"""The banner at the top of the main window while device keys are in the plain-file
test key store (``SECURE_SEND_TEST_KEYSTORE=1``, honoured only in a run from source).

The CLI warns on stderr every run; the app shows this instead, always visible, so a
machine where the switch was left on is noticed rather than used for real files.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QWidget

from secure_send.gui.widgets.buttons import plain_label

# black on amber (contrast above 10:1); the ⚠ carries the meaning without colour
STYLE = """
QFrame#testKeystoreBanner { background: #ffb000; }
QFrame#testKeystoreBanner QLabel { color: black; font-weight: bold; }
"""


class KeystoreWarningBanner(QFrame):
    """Shown only when ``active``; says plainly that the keys are not protected."""

    def __init__(self, active: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("testKeystoreBanner")
        self.setStyleSheet(STYLE)
        self.setAccessibleName(self.tr("Security warning: test key store"))
        self.text = plain_label(
            self.tr(
                "⚠ Test mode: this PC's device keys are kept in a plain file "
                "(SECURE_SEND_TEST_KEYSTORE=1), not in the OS key store. "
                "For tests and the demo only; do not use it for real files."
            ),
            self,
        )
        self.text.setWordWrap(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(self.text, 1)
        self.setVisible(active)
