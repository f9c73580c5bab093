"""The main window: composes the pages and wires signals; no business logic here."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QMainWindow, QVBoxLayout, QWidget

from secure_send.client import listing
from secure_send.client.listing import InboxItem
from secure_send.client.own_devices import OwnDevice
from secure_send.gui.dialogs.about_dialog import AboutDialog
from secure_send.gui.dialogs.diagnostics import DiagnosticsDialog
from secure_send.gui.model import AppModel, DirectoryState
from secure_send.gui.screen_fit import fit_to_screen
from secure_send.gui.views.approvals_page import ApprovalsPage
from secure_send.gui.views.inbox_page import InboxPage
from secure_send.gui.views.requests_page import RequestsPage
from secure_send.gui.views.send_page import SendPage
from secure_send.gui.views.sent_page import SentPage
from secure_send.gui.widgets.buttons import plain_label
from secure_send.gui.widgets.device_alert import UnknownDeviceBanner
from secure_send.gui.widgets.directory_banner import DirectoryBanner, verified_text
from secure_send.gui.widgets.keystore_banner import KeystoreWarningBanner
from secure_send.gui.widgets.page_tabs import PageTabs


class MainWindow(QMainWindow):
    """Send, Inbox, Sent, Requests and Approvals (承認待ち) as tabs; directory state in the
    status bar; above them, a red banner while the person's own entry lists a device this
    PC did not enrol, and an amber one while the device keys are in the plain-file test
    key store."""

    settings_requested = Signal()
    devices_requested = Signal()  # Settings, on the list of the account's devices
    quit_requested = Signal()
    unfinished_requested = Signal()  # File → Unfinished sends

    def __init__(self, model: AppModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.keep_in_tray = False  # set by the app from the settings
        self.setWindowTitle(self.tr("Secure Send"))
        self.setAccessibleName(self.tr("Secure Send main window"))
        self.tabs = PageTabs(self)  # pages scroll on a small, scaled screen (issue 16, item 6)
        self.tabs.setAccessibleName(self.tr("Pages"))
        self.send_page = SendPage(model, self)
        self.inbox_page = InboxPage(model, self)
        self.sent_page = SentPage(model, self)
        self.requests_page = RequestsPage(model, self)  # file requests (issue 17)
        self.approvals_page = ApprovalsPage(model, self)  # 上長承認 (issue 20)
        self.tabs.addTab(self.send_page, self.tr("&Send"))
        self.tabs.addTab(self.inbox_page, self.tr("&Inbox"))
        self.tabs.addTab(self.sent_page, self.tr("Se&nt"))
        self.tabs.addTab(self.requests_page, self.tr("Re&quests"))
        self.tabs.addTab(self.approvals_page, self.tr("Awaitin&g approval"))
        self.banner = UnknownDeviceBanner(self)
        self.banner.review_requested.connect(self.devices_requested)
        self.test_keystore_banner = KeystoreWarningBanner(model.session.test_keystore, self)
        # the one place that says why sending is blocked (the status bar only says when
        # the directory was last verified), for every page
        self.directory_banner = DirectoryBanner(self)
        self.directory_banner.retry_requested.connect(model.refresh_directory)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.test_keystore_banner)
        layout.addWidget(self.banner)
        layout.addWidget(self.directory_banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.directory_label = plain_label(self)
        self.directory_label.setAccessibleName(self.tr("Directory status"))
        self.statusBar().addPermanentWidget(self.directory_label)
        self._menus()
        model.directory_changed.connect(self._on_model_directory_changed)
        model.inbox_changed.connect(self._on_model_inbox_changed)
        model.own_devices_changed.connect(self._on_model_own_devices_changed)
        self._on_model_own_devices_changed(model.own_devices)
        # never larger than the screen: 1280x720 at 150 % leaves 853x480
        fit_to_screen(self, QSize(980, 680))
        self._on_model_directory_changed(model.state)

    def _menus(self) -> None:
        menu = self.menuBar().addMenu(self.tr("&File"))
        settings = QAction(self.tr("&Settings…"), self)
        settings.setShortcut(QKeySequence.StandardKey.Preferences)
        settings.triggered.connect(self.settings_requested)
        menu.addAction(settings)
        # sends an earlier run left unfinished, again after the start-up dialog was closed
        self.unfinished_action = QAction(self.tr("&Unfinished sends…"), self)
        self.unfinished_action.triggered.connect(self.unfinished_requested)
        menu.addAction(self.unfinished_action)
        self.refresh_action = QAction(self.tr("&Refresh the directory now"), self)
        self.refresh_action.triggered.connect(self.model.refresh_directory)
        menu.addAction(self.refresh_action)
        quit_action = QAction(self.tr("&Quit"), self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.quit_requested)
        menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        self.about_action = QAction(self.tr("&About Secure Send"), self)
        self.about_action.triggered.connect(lambda: self.open_about().exec())
        help_menu.addAction(self.about_action)
        self.diagnostics_action = QAction(self.tr("&Diagnostics…"), self)
        self.diagnostics_action.triggered.connect(lambda: self.open_diagnostics().exec())
        help_menu.addAction(self.diagnostics_action)

    def open_about(self) -> AboutDialog:
        """Help → About, built now (the caller shows it)."""
        return AboutDialog(self.model, self)

    def open_diagnostics(self) -> DiagnosticsDialog:
        """Help → Diagnostics, built now (the caller shows it)."""
        return DiagnosticsDialog(self.model, self)

    def add_paths(self, paths: list[Path]) -> None:
        """Files handed to the app (command line, another launch): to the Send page."""
        self.tabs.setCurrentWidget(self.send_page)
        self.send_page.add_paths(paths)
        self.show_and_raise()

    def show_and_raise(self) -> None:
        """Bring the window to the front (e.g. from the tray)."""
        self.show()
        self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.raise_()
        self.activateWindow()

    def _on_model_directory_changed(self, state: DirectoryState) -> None:
        me = self.model.entry(self.model.session.me.user)
        if me is not None:  # whose window this is (two people share a PC in the demo)
            title = self.tr("Secure Send — %1 (%2)").replace("%1", me.name_ja)
            self.setWindowTitle(title.replace("%2", me.department))
        # when it was last verified, never why it is blocked: that is the banner's
        checked = verified_text(state.verified_at)
        if state.usable:
            text = self.tr("✓ Verified directory: %n entries", "", state.entries)
            self.directory_label.setText(text + "  " + checked)
        else:
            self.directory_label.setText(checked)
        self.directory_banner.show_state(state)

    def _on_model_own_devices_changed(self, devices: list[OwnDevice]) -> None:
        self.banner.show_devices(devices)

    def _on_model_inbox_changed(self, items: list[object]) -> None:
        unread = sum(
            1 for i in items if getattr(i, "verified", False) and not getattr(i, "saved", True)
        )
        title = self.tr("&Inbox") + (f" ({unread})" if unread else "")
        self.tabs.setTabText(self.tabs.indexOf(self.inbox_page), title)
        waiting = len(listing.awaiting_my_approval([i for i in items if isinstance(i, InboxItem)]))
        title = self.tr("Awaitin&g approval") + (f" ({waiting})" if waiting else "")
        self.tabs.setTabText(self.tabs.indexOf(self.approvals_page), title)

    def closeEvent(self, event: QCloseEvent) -> None:  # Qt override (camelCase)
        if self.keep_in_tray:
            event.ignore()
            self.hide()
        else:
            event.accept()
            self.quit_requested.emit()
