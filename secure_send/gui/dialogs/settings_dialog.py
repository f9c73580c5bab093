"""The settings dialog: edits a copy of :class:`Settings`; the caller saves it.

Items can be locked (IT policy, issue 7): a locked item is shown but disabled,
with a note saying who decided it. Given the app's model, a second tab lists the
devices of the person's account (:class:`OwnDeviceList`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from secure_send.gui.model import AppModel
from secure_send.gui.settings import LANGUAGES, Settings
from secure_send.gui.widgets.buttons import plain_label, plain_tip
from secure_send.gui.widgets.own_device_list import OwnDeviceList

# field names of Settings that can be locked
LOCKABLE = frozenset(f.name for f in dataclasses.fields(Settings))


class SettingsDialog(QDialog):
    """Language, tray, download folder and notifications; OK keeps, Cancel discards."""

    def __init__(
        self,
        settings: Settings,
        parent: QWidget | None = None,
        locked: Iterable[str] = (),
        model: AppModel | None = None,  # None: no Devices tab
    ) -> None:
        super().__init__(parent)
        self._original = dataclasses.replace(settings)
        self._folder = settings.download_folder
        self.locked = frozenset(locked) & LOCKABLE
        self.setWindowTitle(self.tr("Settings"))
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 90)  # room for a folder path
        self.setAccessibleName(self.tr("Settings"))
        general = self._general_page(settings, in_tab=model is not None)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        self.tabs: QTabWidget | None = None
        self.devices: OwnDeviceList | None = None
        if model is None:
            layout.addWidget(general)
        else:  # the app: General and the account's Devices
            self.tabs = QTabWidget(self)
            self.tabs.setAccessibleName(self.tr("Settings pages"))
            self.tabs.addTab(general, self.tr("&General"))
            self.devices = OwnDeviceList(model, self)
            self.tabs.addTab(self.devices, self.tr("&Devices"))
            layout.addWidget(self.tabs)
        layout.addWidget(self.buttons)
        self._apply_locks()

    def _general_page(self, settings: Settings, in_tab: bool) -> QWidget:
        form = QFormLayout()
        self._language_row(form, settings)
        self._tray_row(form, settings)
        self._folder_row(form)
        self._notify_row(form, settings)
        self.lock_note = plain_label(
            self.tr(
                "🔒 Greyed-out settings are set by your IT department and cannot be changed here."
            )
        )
        self.lock_note.setWordWrap(True)
        self.lock_note.setVisible(bool(self.locked))
        general = QWidget(self)
        layout = QVBoxLayout(general)
        if not in_tab:  # the dialog's own margins suffice
            layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.lock_note)
        layout.addStretch(1)
        return general

    def show_devices(self) -> None:
        """Open on the Devices tab with the first unknown device selected."""
        if self.devices is None or self.tabs is None:
            return
        self.tabs.setCurrentWidget(self.devices)
        unknown = self.devices.model.unknown_devices
        if unknown:
            self.devices.select(unknown[0].device)
        self.devices.table.setFocus()

    def _language_row(self, form: QFormLayout, settings: Settings) -> None:
        self.language = QComboBox(self)
        names = {"system": self.tr("System default"), "ja": "日本語", "en": "English"}
        for code in LANGUAGES:
            self.language.addItem(names[code], code)
        self.language.setCurrentIndex(max(0, self.language.findData(settings.language)))
        self.language.setAccessibleName(self.tr("Language"))
        self.language.setToolTip(self.tr("The language of the app's windows"))
        label = plain_label(self.tr("&Language:"), self)
        label.setBuddy(self.language)
        form.addRow(label, self.language)
        note = plain_label(self.tr("A language change applies after restarting the app."), self)
        note.setWordWrap(True)
        form.addRow("", note)

    def _tray_row(self, form: QFormLayout, settings: Settings) -> None:
        self.close_to_tray = QCheckBox(
            self.tr("&Keep running in the tray when the window is closed"), self
        )
        self.close_to_tray.setChecked(settings.close_to_tray)
        self.close_to_tray.setAccessibleName(
            self.tr("Keep running in the tray when the window is closed")
        )
        form.addRow(self.close_to_tray)

    def _folder_row(self, form: QFormLayout) -> None:
        self.folder = QLineEdit(self)
        self.folder.setReadOnly(True)
        self.folder.setAccessibleName(self.tr("Download folder"))
        self.choose_folder = QPushButton(self.tr("&Choose…"), self)
        self.choose_folder.setAccessibleName(self.tr("Choose download folder"))
        self.choose_folder.setToolTip(self.tr("Choose where received files are saved"))
        self.choose_folder.clicked.connect(self._on_choose_folder_clicked)
        self.default_folder = QPushButton(self.tr("Use Do&wnloads"), self)
        self.default_folder.setAccessibleName(self.tr("Use the Downloads folder"))
        self.default_folder.clicked.connect(lambda: self.set_download_folder(""))
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(self.choose_folder)
        row.addWidget(self.default_folder)
        label = plain_label(self.tr("Download &folder:"), self)
        label.setBuddy(self.choose_folder)
        form.addRow(label, row)
        self._show_folder()

    def _notify_row(self, form: QFormLayout, settings: Settings) -> None:
        self.notify = QCheckBox(
            self.tr("Show &notifications for new files, receipts and failures"), self
        )
        self.notify.setChecked(settings.notify)
        self.notify.setAccessibleName(self.tr("Notifications"))
        form.addRow(self.notify)

    def _widgets(self) -> dict[str, list[QWidget]]:
        return {
            "language": [self.language],
            "close_to_tray": [self.close_to_tray],
            "download_folder": [self.choose_folder, self.default_folder],
            "notify": [self.notify],
        }

    def _apply_locks(self) -> None:
        for name, widgets in self._widgets().items():
            if name not in self.locked:
                continue
            for widget in widgets:
                widget.setEnabled(False)
                widget.setToolTip(self.tr("Locked by your IT department"))
                widget.setAccessibleDescription(self.tr("Locked by your IT department"))

    def _effective(self) -> str:
        return str(dataclasses.replace(self._original, download_folder=self._folder).downloads())

    def _show_folder(self) -> None:
        effective = self._effective()
        if self._folder:
            self.folder.setText(effective)
        else:
            self.folder.setText(self.tr("Downloads (%1)").replace("%1", effective))
        self.folder.setToolTip(plain_tip(effective))
        # wide enough for the whole path (up to a limit): a clipped path says nothing
        width = self.folder.fontMetrics().horizontalAdvance(self.folder.text()) + 16
        self.folder.setMinimumWidth(min(width, self.fontMetrics().averageCharWidth() * 80))

    def set_download_folder(self, path: str) -> None:
        """Use ``path`` for received files ("" = the Downloads folder)."""
        if "download_folder" in self.locked:
            return
        self._folder = path
        self._show_folder()

    def _on_choose_folder_clicked(self) -> None:
        title = self.tr("Choose download folder")
        path = QFileDialog.getExistingDirectory(self, title, self._effective())
        if path:
            self.set_download_folder(path)

    def settings(self) -> Settings:
        """The edited settings after OK; the original ones otherwise."""
        if self.result() != QDialog.DialogCode.Accepted:
            return dataclasses.replace(self._original)
        return Settings(
            language=str(self.language.currentData()),
            close_to_tray=self.close_to_tray.isChecked(),
            download_folder=self._folder,
            notify=self.notify.isChecked(),
        )
