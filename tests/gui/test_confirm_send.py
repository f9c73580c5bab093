"""The confirm sheet repeats the picker's warnings: a look-alike name with both ids and
departments in full, and a role mailbox's members who have no device."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QAbstractButton, QLabel, QLayout
from pytestqt.qtbot import QtBot

from secure_send.client.send import collect
from secure_send.core.envelope.manifest import Classification
from secure_send.gui.dialogs.confirm_send import ConfirmSendDialog
from secure_send.gui.model import AppModel, SendRequest
from tests.directory_kit import TARO
from tests.gui.lookalike_kit import (
    DESK,
    ICHIRO,
    ICHIRO_V,
    SAITO,
    SAITO_V,
    lookalike_org,  # noqa: F401 - a fixture
)

pytestmark = pytest.mark.usefixtures("lookalike_org")


def _dialog(qtbot: QtBot, model: AppModel, folder: Path, *to: str) -> ConfirmSendDialog:
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "年末調整.xlsx"
    data.write_bytes(os.urandom(2000))
    request = SendRequest(tuple(collect([data])), to, dt.timedelta(days=7), "", Classification.C2)
    dialog = ConfirmSendDialog(model, request)
    qtbot.addWidget(dialog)
    return dialog


def _warnings(dialog: ConfirmSendDialog) -> list[str]:
    lines = [dialog.recipients.item(i).text().strip() for i in range(dialog.recipients.count())]
    return [line for line in lines if "similar name" in line or "似た名前" in line]


def test_the_confirm_sheet_repeats_the_lookalike_warning(
    qtbot: QtBot, model: AppModel, tmp_path: Path
) -> None:
    dialog = _dialog(qtbot, model, tmp_path / "out", ICHIRO_V, TARO, SAITO)
    assert _warnings(dialog) == [
        f"⚠ 髙橋 一郎 ({ICHIRO_V}, 人事課) has a colleague with a similar name, "
        f"高橋 一郎 ({ICHIRO}, 財務課). Check that the recipient is right.",
        f"⚠ 斎藤 和也 ({SAITO}, 会計課) has a colleague with a similar name, "
        f"斉藤 和也 ({SAITO_V}, 広報課). Check that the recipient is right.",
    ]
    dialog.show()
    recipients = dialog.recipients
    for row in range(recipients.count()):  # every warning whole, not cut off at the edge
        rect = recipients.visualItemRect(recipients.item(row))
        assert rect.right() <= recipients.viewport().width()


def test_the_confirm_sheet_in_japanese(
    qtbot: QtBot, model: AppModel, tmp_path: Path, japanese: None
) -> None:
    dialog = _dialog(qtbot, model, tmp_path / "out", ICHIRO_V)
    assert _warnings(dialog) == [
        f"⚠ 髙橋 一郎（{ICHIRO_V}、人事課）には似た名前の 高橋 一郎（{ICHIRO}、財務課）がいます。"
        "宛先が正しいか確認してください。"
    ]


def test_the_confirm_sheet_names_role_members_without_devices(
    qtbot: QtBot, model: AppModel, tmp_path: Path
) -> None:
    dialog = _dialog(qtbot, model, tmp_path / "out", DESK)
    lines = [dialog.recipients.item(i).text().strip() for i in range(dialog.recipients.count())]
    assert "⚠ 2 of 3 members have no registered device and will not receive the files." in lines
    assert _warnings(dialog) == []  # no look-alike


def _laid_out(layout: QLayout | None) -> set[int]:
    """Every widget a layout (and its nested layouts) places."""
    found: set[int] = set()
    if layout is None:
        return found
    for i in range(layout.count()):
        item = layout.itemAt(i)
        if item is None:
            continue
        widget = item.widget()
        if widget is not None:
            found.add(id(widget))
            found |= _laid_out(widget.layout())
        found |= _laid_out(item.layout())
    return found


def test_every_label_the_sheet_shows_is_laid_out(
    qtbot: QtBot, model: AppModel, tmp_path: Path
) -> None:
    """A label made but left out of every layout is painted at the sheet's top left, over
    its first line (the suite label of an age send did, issue 21)."""
    dialog = _dialog(qtbot, model, tmp_path / "out", TARO)
    dialog.show()
    placed = _laid_out(dialog.layout())
    stray = [
        label.text()
        for label in dialog.findChildren(QLabel)
        if label.isVisibleTo(dialog)
        and id(label) not in placed
        and not isinstance(label.parentWidget(), QAbstractButton)
    ]
    assert stray == []
