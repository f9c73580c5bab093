"""The error box: one translated sentence, the technical detail under "Show Details…".

The detail comes from :func:`secure_send.gui.errors.describe`, which never includes
secrets (codes, keys, file contents), so it is safe to show and to copy into a ticket.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from secure_send.gui.errors import describe


def build_error_box(parent: QWidget | None, err: BaseException) -> QMessageBox:
    """A warning box for ``err`` (not shown: call ``exec()`` or use :func:`show_error`)."""
    text, detail = describe(err)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setTextFormat(Qt.TextFormat.PlainText)  # the sentence may quote a server or a sender
    box.setWindowTitle(QCoreApplication.translate("ErrorDialog", "Secure Send"))
    box.setText(text)
    box.setDetailedText(detail)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setDefaultButton(QMessageBox.StandardButton.Ok)
    box.setAccessibleName(QCoreApplication.translate("ErrorDialog", "Error"))
    box.setAccessibleDescription(text)
    return box


def show_error(parent: QWidget | None, err: BaseException) -> None:
    """Tell the user about ``err`` in a modal warning box and wait until it is closed."""
    build_error_box(parent, err).exec()
