"""The Sent page against the real server: verified receipts, time left, and a recall
behind a confirmation whose default is No."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from secure_send.gui import threads
from secure_send.gui.model import AppModel
from secure_send.gui.views.sent_page import SentPage
from tests.client.conftest import Enrol, Person
from tests.directory_kit import HANAKO, TARO
from tests.gui.conftest import SessionOf, loaded_model

WAIT = 10_000


def _send(hanako: Person, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "budget.xlsx"
    data.write_bytes(os.urandom(20_000))
    return str(hanako.ok("send", str(data), "--to", TARO)["drop_id"])


def _loaded_page(qtbot: QtBot, model: AppModel) -> SentPage:
    page = SentPage(model)
    qtbot.addWidget(page)
    with qtbot.waitSignal(model.sent_changed, timeout=WAIT):
        page.refresh_button.click()
    return page


def test_receipt_shows_downloaded_at_and_time_left(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf, tmp_path: Path
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    drop_id = _send(hanako, tmp_path / "out")
    model = loaded_model(qtbot, session_of(hanako))
    page = _loaded_page(qtbot, model)
    assert page.select(drop_id)
    text = page.item_text()
    assert "鈴木 太郎 | 人事課" in text
    assert "Not yet downloaded" in text
    assert " left" in text  # e.g. "6 days 23 hours left"
    taro.ok("receive", drop_id, "-o", str(tmp_path / "in"))
    model.refresh_sent()
    qtbot.waitUntil(lambda: "Downloaded at" in page.item_text(), timeout=WAIT)
    assert "1 of 1 downloaded" in page.item_text()


def test_time_left_wording(qtbot: QtBot, model: AppModel) -> None:
    page = SentPage(model)
    qtbot.addWidget(page)
    now = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)
    assert page.time_left_text("2026-01-04T13:00:00Z", now) == "3 days 4 hours left"
    assert page.time_left_text("2026-01-02T10:00:00Z", now) == "1 day 1 hour left"
    assert page.time_left_text("2026-01-01T11:00:00Z", now) == "2 hours left"
    assert page.time_left_text("2026-01-01T09:30:00Z", now) == "30 minutes left"
    assert page.time_left_text("2025-12-31T09:00:00Z", now) == "Expired"


def test_recall_after_confirmation(
    qtbot: QtBot,
    enrol: Enrol,
    session_of: SessionOf,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    drop_id = _send(hanako, tmp_path / "out")
    model = loaded_model(qtbot, session_of(hanako))
    page = _loaded_page(qtbot, model)
    assert page.select(drop_id)
    assert page.recall_button.isEnabled()
    asked: list[Any] = []

    def answer(*args: Any) -> QMessageBox.StandardButton:
        asked.append(args)
        return QMessageBox.StandardButton.No if len(asked) == 1 else QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    page.recall_button.click()  # the real prompt, answered No: nothing happens
    assert len(asked) == 1
    assert asked[0][-1] == QMessageBox.StandardButton.No  # the default button
    selected = page.selected()
    assert selected is not None
    assert selected.state == "committed"
    with qtbot.waitSignal(page.recalled, timeout=WAIT):
        page.recall_button.click()  # answered Yes
    assert "Recalled" in page.item_text().splitlines()[0]
    assert not page.recall_button.isEnabled()
    with qtbot.waitSignal(model.sent_changed, timeout=WAIT):
        model.refresh_sent()
    assert [i.state for i in model.sent if i.drop_id == drop_id] == ["recalled"]
    assert "Recalled" in page.item_text().splitlines()[0]
    taro_model = loaded_model(qtbot, session_of(taro))
    task = taro_model.receive(drop_id, tmp_path / "in")
    with qtbot.waitSignal(task.failed, timeout=WAIT) as failed:
        threads.start(task)
    assert getattr(failed.args[0], "code", "") == "recalled"


def test_controls_have_accessible_names(qtbot: QtBot, model: AppModel) -> None:
    page = SentPage(model)
    qtbot.addWidget(page)
    for control in (page.tree, page.recall_button, page.refresh_button):
        assert control.accessibleName()
    assert page.recall_button.toolTip()
    assert not page.recall_button.isEnabled()  # nothing selected
