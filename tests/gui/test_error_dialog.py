"""The error box: the translated sentence up front, the helpdesk block behind "Details"
(code, drop id, time, version, server — never the exception's class or message), and
"Copy contact information", which copies exactly that block and leaves the box open."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

import secure_send
from secure_send.client.errors import ClientError
from secure_send.core.error_actions import Action
from secure_send.core.error_codes import ErrorCode
from secure_send.gui.dialogs.error_dialog import build_error_box, copy_button
from secure_send.gui.errors import Context, describe


def test_known_error_shows_its_sentence_and_the_helpdesk_block(qtbot: QtBot) -> None:
    err = ClientError(ErrorCode.CONNECTION_LOST, "POST /v1/drops: connection reset by peer")
    box = build_error_box(None, err)
    qtbot.addWidget(box)
    assert box.icon() is QMessageBox.Icon.Warning
    assert box.text() == describe(err)[0]
    assert box.text().startswith("The drop server cannot be reached.")
    details = box.detailedText()
    assert "Error code: connection_lost" in details
    assert f"Version: {secure_send.__version__}" in details
    assert "Time: " in details
    # the English message and the class name are for logs, not for people
    assert "connection reset by peer" not in details
    assert "ClientError" not in details
    assert box.accessibleName()


def test_the_copy_button_copies_exactly_the_details_and_keeps_the_box_open(
    qtbot: QtBot,
) -> None:
    err = ClientError(ErrorCode.CONNECTION_LOST, "x")
    context = Context(Action.SAVE, "DROP0123456789abcdef", "drop.example.go.jp")
    box = build_error_box(None, err, context)
    qtbot.addWidget(box)
    box.show()
    QApplication.clipboard().clear()
    copy_button(box).click()
    assert QApplication.clipboard().text() == box.detailedText()
    assert "Drop ID: DROP0123456789abcdef" in box.detailedText()
    assert "Server: drop.example.go.jp" in box.detailedText()
    assert box.text().startswith("The connection was lost while saving.")
    assert box.isVisible()


def test_unknown_error_gets_the_fallback_sentence(qtbot: QtBot) -> None:
    box = build_error_box(None, RuntimeError("internal state 0x1f"))
    qtbot.addWidget(box)
    assert box.text().startswith("Something went wrong.")
    assert "Error code: none" in box.detailedText()
    assert "RuntimeError" not in box.detailedText()
    assert "0x1f" not in box.detailedText()
