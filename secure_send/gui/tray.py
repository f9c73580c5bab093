"""The tray icon and its notifications: new drops, sends waiting for this person's
approval (上長承認), receipts, failures, new file requests and reminders to submit,
and a device this PC did not enrol appearing in the person's own entry (once per
device).

Every notification is also emitted as ``notified(title, message)``, even where the
platform has no tray (the offscreen platform in tests), so it can be observed.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QGuiApplication, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon, QWidget

from secure_send.client import listing
from secure_send.client.file_requests import RequestView
from secure_send.client.own_devices import OwnDevice
from secure_send.gui import errors
from secure_send.gui.dates import short_date
from secure_send.gui.model import AppModel
from secure_send.gui.settings import Settings
from secure_send.gui.text import fill


def app_icon(size: int = 64) -> QIcon:
    """The app's icon, drawn here: an envelope with a closed padlock.

    Colours come from the palette so that the icon reads in light and dark themes.
    """
    palette = QGuiApplication.palette()
    ink, paper = palette.windowText().color(), palette.base().color()
    accent = palette.highlight().color()
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(0, 0, 0, 0))  # transparent background, not a UI colour
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(ink, max(1.0, size / 24))
    painter.setPen(pen)
    painter.setBrush(paper)
    body = QRectF(size * 0.06, size * 0.2, size * 0.76, size * 0.56)
    painter.drawRect(body)
    painter.drawLine(body.topLeft(), QPointF(body.center().x(), body.center().y()))
    painter.drawLine(body.topRight(), QPointF(body.center().x(), body.center().y()))
    lock = QRectF(size * 0.58, size * 0.56, size * 0.36, size * 0.3)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawArc(
        QRectF(lock.left() + lock.width() * 0.2, size * 0.42, lock.width() * 0.6, size * 0.28),
        0,
        180 * 16,
    )
    painter.setBrush(accent)
    painter.drawRect(lock)
    painter.end()
    return QIcon(pixmap)


class Tray(QObject):
    """The tray icon (Open, Quit; a click opens the window) and notifications."""

    notified = Signal(str, str)  # title, message

    def __init__(
        self,
        model: AppModel,
        window: QWidget,
        settings: Settings,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.window = window
        self.settings = settings
        self.available = QSystemTrayIcon.isSystemTrayAvailable()
        self._alerted: set[tuple[str, str]] = set()  # (device id, enrolled) told about
        self.icon = QSystemTrayIcon(app_icon(), self)
        self.icon.setToolTip(self.tr("Secure Send"))
        self.menu = QMenu(window)
        self.menu.setAccessibleName(self.tr("Secure Send tray menu"))
        self.open_action = QAction(self.tr("&Open Secure Send"), self)
        self.open_action.triggered.connect(self._on_open_action_triggered)
        self.quit_action = QAction(self.tr("&Quit"), self)
        self.quit_action.triggered.connect(self._on_quit_action_triggered)
        self.menu.addAction(self.open_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_icon_activated)
        model.new_drops_arrived.connect(self._on_model_new_drops_arrived)
        model.receipts_arrived.connect(self._on_model_receipts_arrived)
        model.failed.connect(self._on_model_failed)
        model.own_devices_changed.connect(self._on_model_own_devices_changed)
        model.requests.arrived.connect(self._on_requests_arrived)
        model.requests.reminded.connect(self._on_requests_reminded)
        if self.available:
            self.icon.show()

    def hide(self) -> None:
        """Remove the icon (e.g. before quitting)."""
        self.icon.hide()

    def notify(self, title: str, message: str, critical: bool = False) -> bool:
        """Show a notification if the settings allow it; whether it was shown."""
        if not self.settings.notify:
            return False
        if self.available and QSystemTrayIcon.supportsMessages():
            kind = (
                QSystemTrayIcon.MessageIcon.Critical
                if critical
                else QSystemTrayIcon.MessageIcon.Information
            )
            self.icon.showMessage(title, message, kind)
        self.notified.emit(title, message)
        return True

    # ---------------------------------------------------------------- model events
    def _on_model_new_drops_arrived(self, items: list[listing.InboxItem]) -> None:
        waiting = {i.drop_id for i in listing.awaiting_my_approval(items)}
        for item in items:
            name = item.sender_name_ja or item.sender_name_en or item.sender
            if item.drop_id in waiting:  # 上長承認: a decision is asked for, not a download
                message = fill(self.tr("%1 asks for your approval of a send"), name)
                self.notify(self.tr("Approval requested"), message)
            elif item.verified:
                message = self.tr("New files from %1").replace("%1", name)
                self.notify(self.tr("New files"), message)
            else:
                message = self.tr("A drop failed verification and may be forged. Do not open it.")
                self.notify(self.tr("Dangerous drop"), message, critical=True)

    def _on_model_receipts_arrived(
        self, pairs: list[tuple[listing.SentItem, listing.RecipientStatus]]
    ) -> None:
        for _item, recipient in pairs:
            message = self.tr("%1 downloaded your files").replace("%1", recipient.name_ja)
            self.notify(self.tr("Files downloaded"), message)

    def _on_model_own_devices_changed(self, devices: list[OwnDevice]) -> None:
        for device in devices:
            key = (device.device, device.enrolled)
            if not device.unknown or key in self._alerted:
                continue
            self._alerted.add(key)
            message = self.tr(
                "“%1” was added to your account on %2. "
                "If it is not yours, report it to IT security."
            )
            message = fill(message, device.name, short_date(device.enrolled))
            self.notify(self.tr("Unknown device on your account"), message, critical=True)

    def _on_requests_arrived(self, views: list[RequestView]) -> None:
        for view in views:
            name = self._mailbox_name(view)
            self.notify(
                self.tr("New file request"), self.tr("%1 asks you for files").replace("%1", name)
            )

    def _on_requests_reminded(self, views: list[RequestView]) -> None:
        for view in views:
            name = self._mailbox_name(view)
            message = self.tr("%1 reminds you to submit your files").replace("%1", name)
            self.notify(self.tr("File request reminder"), message)

    def _mailbox_name(self, view: RequestView) -> str:
        entry = self.model.entry(view.request.mailbox)
        return entry.name_ja if entry is not None else view.request.mailbox

    def _on_model_failed(self, err: BaseException) -> None:
        sentence, _details = errors.describe(err)
        self.notify(self.tr("Secure Send problem"), sentence, critical=True)

    # ---------------------------------------------------------------- user actions
    def _on_icon_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self._on_open_action_triggered()

    def _on_open_action_triggered(self) -> None:
        show = getattr(self.window, "show_and_raise", None)
        if show is not None:
            show()
        else:
            self.window.show()

    def _on_quit_action_triggered(self) -> None:
        quit_requested = getattr(self.window, "quit_requested", None)
        if quit_requested is not None:
            quit_requested.emit()
        else:
            QApplication.quit()
