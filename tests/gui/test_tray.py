"""The tray: notifications for new drops, receipts and failures (observed through
``notified``, since the offscreen platform has no tray), and the menu actions.

And on a real tray (issue 16, item 9): Xvfb and a system-tray host (Debian's ``trayer``,
installed by ``scripts/system-packages.sh``), the app's tray in a subprocess on that
display (``tray_probe.py``), the Japanese text it hands to ``showMessage``."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
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


REPO = Path(__file__).resolve().parents[2]
TRAYER = ["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel"]
TRAYER += ["--width", "200", "--heighttype", "pixel", "--height", "32"]


@contextlib.contextmanager
def real_tray() -> Iterator[str]:
    """A virtual X display with a system-tray host on it; yields its DISPLAY."""
    missing = [tool for tool in ("Xvfb", "trayer") if shutil.which(tool) is None]
    if missing:  # CI installs both (scripts/system-packages.sh): skipped only by hand
        pytest.skip(f"needs {' and '.join(missing)}: apt-get install xvfb trayer")
    read, write = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    tray: subprocess.Popen[bytes] | None = None
    try:
        with os.fdopen(read, "rb") as told:  # Xvfb writes the display it chose once ready
            number = told.readline().decode().strip()
        assert number.isdigit(), "Xvfb did not start"
        display = f":{number}"
        tray = subprocess.Popen(
            TRAYER,
            env={**os.environ, "DISPLAY": display},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        yield display
    finally:
        for process in (tray, xvfb):
            if process is not None:
                process.terminate()
                process.wait(10)


class Lines:
    """JSON lines a subprocess prints, read on a thread so that waiting can time out."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.queue: queue.Queue[str] = queue.Queue()
        self.process = process
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.queue.put(line)

    def next(self, timeout: float = 60) -> Any:
        try:
            return json.loads(self.queue.get(timeout=timeout))
        except queue.Empty:
            self.process.kill()
            _out, err = self.process.communicate()
            raise AssertionError(f"the tray probe said nothing: {err[-3000:]}") from None


def test_japanese_notifications_on_a_real_tray(enrol: Enrol, tmp_path: Path) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    first = _send(hanako, tmp_path / "out")
    with real_tray() as display:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "DBUS_"))}
        env |= {"DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}  # the X tray, not a D-Bus one
        command = [sys.executable, "-m", "tests.gui.tray_probe", str(taro.home), str(hanako.home)]
        probe = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            lines = Lines(probe)
            assert lines.next() == {"available": True, "messages": True}
            assert lines.next() == {"ready": True}
            _send(hanako, tmp_path / "out")  # a new drop for Taro
            taro.ok("receive", first, "-o", str(tmp_path / "in"))  # a receipt for Hanako
            result = lines.next(timeout=90)
            assert probe.wait(30) == 0
        finally:
            if probe.poll() is None:
                probe.kill()
            probe.communicate()
    failure = result["failure_sentence"]
    assert re.search(r"[\u3040-\u30ff]", failure)
    assert not re.search(r"[A-Za-z]{2,}", failure)
    assert sorted(result["shown"]) == sorted(
        [
            ["新着ファイル", "佐藤 花子 さんからファイルが届きました", "Information"],
            ["受信確認", "鈴木 太郎 さんがファイルを受信しました", "Information"],
            ["セキュア送信のエラー", failure, "Critical"],
        ]
    )
