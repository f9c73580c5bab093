"""The error box: one translated sentence that fits the action, the helpdesk block under
"Show Details…", and "Copy contact information", which copies exactly that block.

The block comes from :func:`secure_send.gui.errors.details`: the error code, drop id,
time, version and server host — never a secret, a file name or a message — so it is
safe to show and to paste into a ticket.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from secure_send.gui import errors
from secure_send.gui.errors import Context

COPY_BUTTON = "copy_contact_information"


def build_error_box(
    parent: QWidget | None, err: BaseException, context: Context | None = None
) -> QMessageBox:
    """A warning box for ``err`` (not shown: call ``exec()`` or use :func:`show_error`)."""
    text, detail = errors.describe(err, context)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setTextFormat(Qt.TextFormat.PlainText)  # never rendered as rich text
    box.setWindowTitle(QCoreApplication.translate("ErrorDialog", "Secure Send"))
    box.setText(text)
    box.setDetailedText(detail)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setDefaultButton(QMessageBox.StandardButton.Ok)
    copy = QPushButton(errors.copy_label(), box)
    copy.setObjectName(COPY_BUTTON)
    copy.setAccessibleName(QCoreApplication.translate("ErrorDialog", "Copy contact information"))
    box.addButton(copy, QMessageBox.ButtonRole.ActionRole)
    # a button in the box closes it; copying should not, so the box's own connection
    # is cut and the button only copies
    copy.clicked.disconnect()
    copy.clicked.connect(lambda: errors.copy_to_clipboard(detail))
    box.setAccessibleName(QCoreApplication.translate("ErrorDialog", "Error"))
    box.setAccessibleDescription(text)
    return box


def copy_button(box: QMessageBox) -> QPushButton:
    """The box's "Copy contact information" button ("Show Details…" has the same role)."""
    button = box.findChild(QPushButton, COPY_BUTTON)
    if button is None:
        raise LookupError("no copy button")
    return button


def show_error(parent: QWidget | None, err: BaseException, context: Context | None = None) -> None:
    """Tell the user about ``err`` in a modal warning box and wait until it is closed."""
    build_error_box(parent, err, context).exec()
