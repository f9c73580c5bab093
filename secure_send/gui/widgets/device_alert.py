"""The red banner at the top of the main window while this person's own entry lists a
device this PC did not enrol (and nobody acknowledged): possibly an attacker's.

It only shows what :mod:`secure_send.client.own_devices` judged; it decides nothing.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QWidget

from secure_send.client.own_devices import OwnDevice
from secure_send.gui.dates import short_date
from secure_send.gui.text import fill
from secure_send.gui.widgets.buttons import plain_label

# high contrast (white on dark red, 7:1), readable for colour-blind people thanks to the ⚠
STYLE = """
QFrame#unknownDeviceBanner { background: #a4000f; }
QFrame#unknownDeviceBanner QLabel { color: white; font-weight: bold; }
"""


class UnknownDeviceBanner(QFrame):
    """Hidden while every device is known; ``review_requested`` opens the device list."""

    review_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("unknownDeviceBanner")
        self.setStyleSheet(STYLE)
        self.setAccessibleName(self.tr("Security warning: unknown device"))
        self.text = plain_label(self)
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)  # device names are not markup
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setAccessibleName(self.tr("Unknown device warning"))
        self.review_button = QPushButton(self.tr("Revie&w devices…"), self)
        self.review_button.setAccessibleName(self.tr("Review the devices of your account"))
        self.review_button.setToolTip(self.tr("Opens the list of your account's devices"))
        self.review_button.clicked.connect(self.review_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.review_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.setVisible(False)

    def show_devices(self, devices: list[OwnDevice]) -> None:
        """Show the banner for the unknown ones among ``devices`` (hide it if none)."""
        unknown = [d for d in devices if d.unknown]
        self.setVisible(bool(unknown))
        if not unknown:
            self.text.clear()
            return
        foreign = [d for d in unknown if d.foreign_key]
        if foreign:  # this PC itself, listed with a CRYPTREC key it never made (issue 21)
            text = self.tr(
                "⚠ An encryption key this PC did not make was added to this PC in the "
                "directory (“%1”, %2). Files sent to you in the CRYPTREC suite could be "
                "opened by whoever holds it. Report it to IT security at once."
            )
            text = fill(text, foreign[0].name, foreign[0].device)
            self.text.setText(text)
            self.setAccessibleDescription(text)
            return
        if len(unknown) == 1:
            (device,) = unknown
            text = self.tr(
                "⚠ A device this PC did not enrol was added to your account: “%1” (%2), "
                "on %3. If it is not yours, report it to IT security at once: "
                "files sent to you can be opened on it."
            )
            text = fill(text, device.name, device.device, short_date(device.enrolled))
        else:
            items = [self._item(d) for d in unknown]
            text = self.tr(
                "⚠ Devices this PC did not enrol were added to your account: %1. "
                "If they are not yours, report them to IT security at once: "
                "files sent to you can be opened on them."
            )
            text = fill(text, self.tr(", ").join(items))
        self.text.setText(text)
        self.setAccessibleDescription(text)

    def _item(self, device: OwnDevice) -> str:
        item = self.tr("“%1” (%2, %3)")
        return fill(item, device.name, device.device, short_date(device.enrolled))
