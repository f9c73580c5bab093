"""The devices of this person's account (Settings → Devices): which one is this PC,
which the person confirmed, which are unknown (⚠) or revoked; and "I enrolled this
device", which records the person's word through the model after a clear question.

The judgement (this PC / acknowledged / unknown) is the client library's
(:mod:`secure_send.client.own_devices`); this widget only shows it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from secure_send.client.own_devices import OwnDevice
from secure_send.gui import threads
from secure_send.gui.dates import short_date
from secure_send.gui.errors import describe
from secure_send.gui.model import AppModel
from secure_send.gui.text import fill
from secure_send.gui.widgets.buttons import plain_label

WARNING = QColor("#a4000f")  # the banner's red
DEVICE_ROLE = Qt.ItemDataRole.UserRole


class OwnDeviceList(QWidget):
    """The account's devices as a table, and the acknowledge button."""

    def __init__(self, model: AppModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._task: threads.Task | None = None
        intro = plain_label(
            self.tr(
                "Files sent to you can be opened on every active device below. "
                "If you see one you do not know, report it to IT security."
            ),
            self,
        )
        intro.setWordWrap(True)
        self.table = QTreeWidget(self)
        self.table.setAccessibleName(self.tr("Devices of your account"))
        self.table.setRootIsDecorated(False)
        self.table.setHeaderLabels(
            [self.tr("Device name"), self.tr("ID"), self.tr("Enrolled on"), self.tr("Status")]
        )
        self.table.currentItemChanged.connect(self._on_table_current_item_changed)
        self.acknowledge_button = QPushButton(self.tr("&I enrolled this device"), self)
        self.acknowledge_button.setAccessibleName(self.tr("I enrolled this device myself"))
        self.acknowledge_button.setToolTip(
            self.tr("Only for a device you set up yourself, e.g. your second PC")
        )
        self.acknowledge_button.clicked.connect(self._on_acknowledge_button_clicked)
        self.error = plain_label(self)
        self.error.setWordWrap(True)
        self.error.setAccessibleName(self.tr("Device problem"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.acknowledge_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.error)
        model.own_devices_changed.connect(self._on_model_own_devices_changed)
        self._on_model_own_devices_changed(model.own_devices)

    def status_text(self, device: OwnDevice) -> str:
        """The status column: this PC, confirmed, ⚠ unknown or revoked."""
        if device.revoked is not None:
            return fill(self.tr("Revoked (%1)"), short_date(device.revoked))
        if device.this_device:
            return self.tr("This PC")
        if device.acknowledged:
            return self.tr("Confirmed by you")
        return self.tr("⚠ Unknown: report to IT security if not yours")

    def _on_model_own_devices_changed(self, devices: list[OwnDevice]) -> None:
        current = self.selected()
        self.table.clear()
        for device in devices:
            row = [device.name, device.device, short_date(device.enrolled)]
            item = QTreeWidgetItem([*row, self.status_text(device)])
            item.setData(0, DEVICE_ROLE, device)
            if device.unknown:
                for column in range(4):
                    item.setForeground(column, QBrush(WARNING))
            self.table.addTopLevelItem(item)
            if current is not None and device.device == current.device:
                self.table.setCurrentItem(item)
        for column in range(4):
            self.table.resizeColumnToContents(column)
        self._on_table_current_item_changed()

    def selected(self) -> OwnDevice | None:
        """The device of the selected row."""
        item = self.table.currentItem()
        data = item.data(0, DEVICE_ROLE) if item is not None else None
        return data if isinstance(data, OwnDevice) else None

    def select(self, device_id: str) -> None:
        """Select a device's row (e.g. the first unknown one, from the banner)."""
        for i in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(i)
            data = item.data(0, DEVICE_ROLE) if item is not None else None
            if item is not None and isinstance(data, OwnDevice) and data.device == device_id:
                self.table.setCurrentItem(item)

    def _on_table_current_item_changed(self, *_: object) -> None:
        device = self.selected()
        busy = self._task is not None
        self.acknowledge_button.setEnabled(device is not None and device.unknown and not busy)

    def confirmation(self, device: OwnDevice) -> QMessageBox:
        """The question asked before acknowledging (No is the default)."""
        box = QMessageBox(QMessageBox.Icon.Warning, self.tr("Confirm your device"), "", parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        text = self.tr("Did you enrol “%1” (%2, %3) yourself?")
        box.setText(fill(text, device.name, device.device, short_date(device.enrolled)))
        box.setInformativeText(
            self.tr(
                "Confirm only if you set up Secure Send on that device yourself. Files sent "
                "to you will go on being encrypted to it, and the warning goes away. "
                "If you are not sure, choose No and report it to IT security."
            )
        )
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.button(QMessageBox.StandardButton.Yes).setText(self.tr("Yes, I enrolled it"))
        return box

    def confirm(self, device: OwnDevice) -> bool:
        """Ask (modally); True if the person said they enrolled it."""
        return self.confirmation(device).exec() == QMessageBox.StandardButton.Yes

    def _on_acknowledge_button_clicked(self) -> None:
        device = self.selected()
        if device is None or not device.unknown or not self.confirm(device):
            return
        self.error.clear()
        self._task = self.model.acknowledge_device(device.device)
        self._task.failed.connect(self._on_task_failed)
        self._task.ended.connect(self._on_task_ended)
        threads.start(self._task)
        self._on_table_current_item_changed()

    def _on_task_failed(self, err: BaseException) -> None:
        self.error.setText(describe(err)[0])

    def _on_task_ended(self) -> None:
        self._task = None
        self._on_table_current_item_changed()
