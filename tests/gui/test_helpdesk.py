"""Help → About and Help → Diagnostics, in Japanese and English: what a helpdesk asks for
(version, server host, directory epoch and last verification, user and device ids; then
platform, Qt, key store, profile folder, unfinished sends), copied as plain text, with
nothing secret in it."""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

import secure_send
from secure_send.gui.errors import host_of
from secure_send.gui.main_window import MainWindow
from secure_send.gui.model import AppModel


@pytest.fixture
def window(qtbot: QtBot, model: AppModel) -> MainWindow:
    window = MainWindow(model)
    qtbot.addWidget(window)
    return window


def _secrets(model: AppModel) -> list[str]:
    """The private key material in the profile's test key store (must never be shown)."""
    stored = json.loads(model.session.profile.key_file.read_text(encoding="utf-8"))
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and len(value) >= 32:
            found.append(value)

    walk(stored)
    assert found
    return found


def _menu_titles(window: MainWindow) -> list[str]:
    return [a.text() for a in window.menuBar().actions()]


def _expected(model: AppModel) -> list[str]:
    directory = model.directory
    assert directory is not None
    return [
        secure_send.__version__,
        host_of(model.session.org.server_url),
        str(directory.verified.checkpoint.epoch),
        model.session.me.user,
        model.session.me.device,
    ]


def test_about_and_diagnostics_in_english(qtbot: QtBot, window: MainWindow) -> None:
    model = window.model
    assert "&Help" in _menu_titles(window)
    assert window.about_action.text() == "&About Secure Send"
    about = window.open_about()
    qtbot.addWidget(about)
    text = about.shown_text()
    for value in _expected(model):
        assert value in text
    assert "Directory last verified: " in text
    assert model.state.verified_at is not None
    assert model.state.verified_at.isoformat(timespec="seconds") in text

    dialog = window.open_diagnostics()
    qtbot.addWidget(dialog)
    shown = dialog.text.toPlainText()
    for value in _expected(model):
        assert value in shown
    assert f"Profile folder: {model.session.profile.path}" in shown
    assert "Unfinished sends: 0" in shown
    assert "Key store: test file store (not protected)" in shown
    assert "Qt " in shown
    assert "Python " in shown
    assert not any(secret in shown for secret in _secrets(model))
    QApplication.clipboard().clear()
    dialog.copy_button.click()
    assert QApplication.clipboard().text() == shown
    assert dialog.result() == 0


@pytest.mark.usefixtures("japanese")
def test_about_and_diagnostics_in_japanese(qtbot: QtBot, window: MainWindow) -> None:
    model = window.model
    assert "ヘルプ(&H)" in _menu_titles(window)
    assert window.about_action.text() == "セキュア送信について(&A)"
    assert window.diagnostics_action.text() == "診断情報(&D)…"
    about = window.open_about()
    qtbot.addWidget(about)
    assert about.windowTitle() == "セキュア送信について"
    text = about.shown_text()
    for value in _expected(model):
        assert value in text
    for label in ("バージョン：", "端末ID：", "名簿の版番号：", "受け渡しサーバー："):
        assert label in text
    dialog = window.open_diagnostics()
    qtbot.addWidget(dialog)
    shown = dialog.text.toPlainText()
    assert "未完了の送信：0" in shown
    assert "鍵の保管場所：テスト用のファイル（保護されていません）" in shown
    assert f"プロファイルフォルダー：{model.session.profile.path}" in shown
    assert not any(secret in shown for secret in _secrets(model))
    QApplication.clipboard().clear()
    dialog.copy_button.click()
    assert QApplication.clipboard().text() == shown
