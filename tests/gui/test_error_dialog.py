"""The error box: the translated sentence up front, the technical detail behind "Details"."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from secure_send.client.errors import ClientError
from secure_send.core.error_codes import ErrorCode
from secure_send.gui.dialogs.error_dialog import build_error_box
from secure_send.gui.errors import describe


def test_known_error_shows_its_sentence_and_detail(qtbot: QtBot) -> None:
    err = ClientError(ErrorCode.CONNECTION_LOST, "POST /v1/drops: connection reset by peer")
    box = build_error_box(None, err)
    qtbot.addWidget(box)
    assert box.icon() is QMessageBox.Icon.Warning
    assert box.text() == describe(err)[0]
    assert box.text().startswith("The drop server cannot be reached.")
    assert "connection reset by peer" in box.detailedText()
    assert "ClientError" in box.detailedText()
    assert box.accessibleName()


def test_unknown_error_gets_the_fallback_sentence(qtbot: QtBot) -> None:
    box = build_error_box(None, RuntimeError("internal state 0x1f"))
    qtbot.addWidget(box)
    assert box.text().startswith("Something went wrong.")
    assert box.detailedText() == "RuntimeError"
