"""The tray: notifications for new drops, receipts and failures (observed through
``notified``, since the offscreen platform has no tray), and the menu actions."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QSystemTrayIcon, QWidget
from pytestqt.qtbot import QtBot

from secure_send.client.errors import ClientError
from secure_send.core.error_codes import ErrorCode
from secure_send.gui.model import AppModel
from secure_send.gui.settings import Settings
from secure_send.gui.tray import Tray, app_icon
from tests.client.conftest import Enrol, Person
from tests.directory_kit import HANAKO, TARO
from tests.gui.conftest import SessionOf, loaded_model

WAIT = 10_000


class Window(QWidget):
    """The part of the main window the tray uses."""

    quit_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.raised = 0

    def show_and_raise(self) -> None:
        self.raised += 1


def _tray(qtbot: QtBot, model: AppModel, notify: bool = True) -> tuple[Tray, Window]:
    window = Window()
    qtbot.addWidget(window)
    tray = Tray(model, window, Settings(notify=notify))
    return tray, window


def _send(hanako: Person, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"memo-{len(list(folder.iterdir()))}.txt"
    data.write_bytes(os.urandom(1000))
    return str(hanako.ok("send", str(data), "--to", TARO)["drop_id"])


def test_new_drop_and_receipt_are_notified(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf, tmp_path: Path
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    first = _send(hanako, tmp_path / "out")
    taro_model = loaded_model(qtbot, session_of(taro))
    taro_tray, _ = _tray(qtbot, taro_model)
    with qtbot.waitSignal(taro_model.inbox_changed, timeout=WAIT):
        taro_model.start()  # the first drop is already there: no notification for it
    with qtbot.waitSignal(taro_tray.notified, timeout=WAIT) as new:
        _send(hanako, tmp_path / "out")
    assert new.args == ["New files", "New files from 佐藤 花子"]
    taro_model.stop()

    hanako_model = loaded_model(qtbot, session_of(hanako))
    hanako_tray, _ = _tray(qtbot, hanako_model)
    with qtbot.waitSignal(hanako_model.sent_changed, timeout=WAIT):
        hanako_model.refresh_sent()  # what was downloaded before is not news
    taro.ok("receive", first, "-o", str(tmp_path / "in"))
    with qtbot.waitSignal(hanako_tray.notified, timeout=WAIT) as receipt:
        hanako_model.refresh_sent()
    assert receipt.args == ["Files downloaded", "鈴木 太郎 downloaded your files"]


def test_failure_is_notified_and_notify_off_is_quiet(qtbot: QtBot, model: AppModel) -> None:
    tray, _ = _tray(qtbot, model)
    with qtbot.waitSignal(tray.notified, timeout=1000) as failed:
        model.failed.emit(ClientError(ErrorCode.CONNECTION_LOST, "x"))
    title, message = failed.args
    assert title == "Secure Send problem"
    assert message.startswith("The drop server cannot be reached.")
    tray.settings = Settings(notify=False)
    with qtbot.assertNotEmitted(tray.notified):
        model.failed.emit(ClientError(ErrorCode.CONNECTION_LOST, "x"))
    quiet, _ = _tray(qtbot, model, notify=False)
    with qtbot.assertNotEmitted(quiet.notified):
        model.failed.emit(ClientError(ErrorCode.CONNECTION_LOST, "x"))


def test_menu_click_and_icon(qtbot: QtBot, model: AppModel) -> None:
    tray, window = _tray(qtbot, model)
    assert tray.available == QSystemTrayIcon.isSystemTrayAvailable()
    assert not app_icon().isNull()
    assert [a.text() for a in tray.menu.actions() if a.text()] == ["&Open Secure Send", "&Quit"]
    tray.open_action.trigger()
    tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Context)  # the menu, not a click
    assert window.raised == 2
    with qtbot.waitSignal(window.quit_requested, timeout=1000):
        tray.quit_action.trigger()
    tray.hide()
    assert not tray.icon.isVisible()
