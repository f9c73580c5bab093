"""Two app instances with two profiles against one real server: Hanako sends from her
window, Taro's window shows it without any action, he saves it, and Hanako's Sent page
shows his signed receipt. Also: the window stays responsive during a large send, and
every control can be named and reached by keyboard."""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from secure_send.gui.main_window import MainWindow
from secure_send.gui.model import AppModel
from tests.client.conftest import Enrol
from tests.directory_kit import HANAKO, TARO
from tests.gui.conftest import SessionOf, loaded_model


def _window(qtbot: QtBot, model: AppModel) -> MainWindow:
    window = MainWindow(model)
    qtbot.addWidget(window)
    window.show()
    model.start()
    return window


def _send_from_page(qtbot: QtBot, window: MainWindow, files: list[Path], to: str) -> str:
    page = window.send_page
    page.add_paths(files)
    assert page.picker.add_entry(to)
    page.confirm = lambda _dialog: True  # type: ignore[method-assign,assignment]  # tested apart
    qtbot.waitUntil(page.send_button.isEnabled, timeout=10_000)
    with qtbot.waitSignal(page.sent, timeout=60_000, raising=False) as sent:
        page.send_button.click()
    assert sent.signal_triggered, (page.result_label.text(), page.detail_label.text())
    assert sent.args is not None
    return str(sent.args[0])


def test_send_in_one_app_receive_in_another_receipt_back(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf, tmp_path: Path
) -> None:
    hanako = _window(qtbot, loaded_model(qtbot, session_of(enrol(HANAKO, "laptop"))))
    taro = _window(qtbot, loaded_model(qtbot, session_of(enrol(TARO, "desktop"))))
    with qtbot.waitSignal(hanako.model.directory_changed, timeout=10_000):
        hanako.model.refresh_directory()  # Taro's new device: now he can be chosen
    data = tmp_path / "年末調整.csv"
    data.write_bytes(os.urandom(300_000))
    drop_id = _send_from_page(qtbot, hanako, [data], TARO)
    inbox = taro.inbox_page
    qtbot.waitUntil(lambda: inbox.select(drop_id), timeout=10_000)  # no user action needed
    folder = tmp_path / "taro"
    with qtbot.waitSignal(inbox.saved, timeout=30_000):
        inbox.save_to(folder)
    assert (folder / data.name).read_bytes() == data.read_bytes()
    hanako.model.refresh_sent()
    sent = hanako.sent_page

    def receipt_shown() -> bool:
        return (
            any(
                r.downloaded
                for i in hanako.model.sent
                if i.drop_id == drop_id
                for r in i.recipients
            )
            and "✓" in sent.item_text()
        )

    try:
        qtbot.waitUntil(receipt_shown, timeout=20_000)
    except Exception:
        print("SENT", hanako.model.sent, "\nTEXT", sent.item_text())
        raise
    hanako.model.stop()
    taro.model.stop()


def test_the_window_stays_responsive_during_a_large_send(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf, tmp_path: Path
) -> None:
    enrol(TARO, "desktop")
    window = _window(qtbot, loaded_model(qtbot, session_of(enrol(HANAKO, "laptop"))))
    big = tmp_path / "big.bin"
    with big.open("wb") as f:
        for _ in range(150):
            f.write(os.urandom(1 << 20))
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    _send_from_page(qtbot, window, [big], TARO)
    timer.stop()
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) > 20
    assert max(gaps) < 0.25, f"the event loop stalled for {max(gaps):.2f} s"
    window.model.stop()


def _inside_a_field(widget: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, (QLineEdit, QAbstractSpinBox, QComboBox)):
            return True
        parent = parent.parentWidget()
    return False


def test_every_control_is_named_and_reachable_by_keyboard(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf
) -> None:
    window = _window(qtbot, loaded_model(qtbot, session_of(enrol(HANAKO, "laptop"))))
    kinds = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QAbstractItemView)
    unnamed, unfocusable = [], []
    for page in (window.send_page, window.inbox_page, window.sent_page):
        for widget in page.findChildren(QWidget):
            if not isinstance(widget, (*kinds, QPlainTextEdit)) or isinstance(widget, QHeaderView):
                continue  # (a table's header is part of the named table)
            if _inside_a_field(widget):
                continue  # a field's own sub-controls (a clear button, a combo's popup)
            if type(widget).__name__.startswith("Q") and widget.objectName().startswith("qt_"):
                continue  # Qt's own internals (scroll bars' buttons, spin box editors)
            name = widget.accessibleName() or (
                widget.text() if isinstance(widget, QAbstractButton) else ""
            )
            if not name.strip():
                unnamed.append(
                    f"{type(widget).__name__} {widget.objectName()} in {type(page).__name__}"
                )
            if widget.focusPolicy().value == 0:  # Qt.FocusPolicy.NoFocus
                unfocusable.append(f"{type(widget).__name__} in {type(page).__name__}")
    assert unnamed == []
    assert unfocusable == []
    window.model.stop()
