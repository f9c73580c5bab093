"""The Sent page against the real server: verified receipts, time left, and a recall
behind a confirmation whose default is No."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from secure_send.client.keystore import FileKeyStore
from secure_send.client.profile import DeviceIdentity, Profile
from secure_send.core.drop_state import STORED, DropState
from secure_send.core.encoding import utc_now
from secure_send.gui import threads
from secure_send.gui.model import AppModel
from secure_send.gui.views.inbox_page import InboxPage
from secure_send.gui.views.sent_page import SentPage
from secure_send.server.sweeper import sweep
from tests.client.conftest import Enrol, Person
from tests.directory_kit import HANAKO, JIRO, ROLE, TARO
from tests.gui.conftest import SessionOf, loaded_model
from tests.server.conftest import Server
from tests.server.drop_kit import Device, create_drop, manifest

WAIT = 10_000


def _send(hanako: Person, folder: Path, *options: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "budget.xlsx"
    data.write_bytes(os.urandom(20_000))
    return str(hanako.ok("send", str(data), "--to", TARO, *options)["drop_id"])


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
    asked: list[QMessageBox] = []

    def answer(box: QMessageBox) -> int:
        asked.append(box)
        no, yes = QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes
        return (no if len(asked) == 1 else yes).value

    monkeypatch.setattr(QMessageBox, "exec", answer)
    page.recall_button.click()  # the real prompt, answered No: nothing happens
    assert len(asked) == 1
    box = asked[0]
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.No)  # safe default
    assert box.textFormat() == Qt.TextFormat.PlainText  # names files: not markup
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


def test_every_drop_state_comes_through_with_a_label(
    qtbot: QtBot, enrol: Enrol, org_server: Server, session_of: SessionOf, tmp_path: Path
) -> None:
    """One drop in each state: the server stores and lists exactly DropState's stored
    states, the listing adds DAMAGED, and the Sent page has words for every one."""
    hanako, _ = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    _send(hanako, tmp_path / "committed")
    hanako.ok("recall", _send(hanako, tmp_path / "recalled"))
    _send(hanako, tmp_path / "expired", "--expires", "1h")
    damaged = _send(hanako, tmp_path / "damaged")
    keys = FileKeyStore(Profile(hanako.home)).load(DeviceIdentity(HANAKO, "laptop"))
    device = Device(org_server, HANAKO, "laptop", keys)
    assert create_drop(device, manifest(device, {"f1": b"x"})).status_code == 201  # uploading
    state = org_server.app_state
    assert state is not None
    assert len(sweep(state, utc_now() + dt.timedelta(hours=2))) == 1
    # the server's copy of one manifest no longer parses (the listing says DAMAGED)
    state.drops.db.query("UPDATE drops SET manifest = '{}' WHERE id = ?", (damaged,))

    rows = state.drops.sent(HANAKO)
    assert all(isinstance(row.state, DropState) for row in rows)
    assert {row.state for row in rows} == STORED
    listed = device.request("GET", "/v1/sent").json()["drops"]
    assert {d["state"] for d in listed} == {s.value for s in STORED}  # the wire: strings

    model = loaded_model(qtbot, session_of(hanako))
    page = _loaded_page(qtbot, model)
    assert all(isinstance(item.state, DropState) for item in model.sent)
    assert {page.state_of(item) for item in model.sent} == set(DropState)
    labels = page.state_labels()
    assert set(labels) == set(DropState)
    assert len(set(labels.values())) == len(DropState)  # English, one for each
    shown = {line.split(" | ")[1] for line in page.item_text().splitlines() if " | " in line}
    assert set(labels.values()) <= shown


def test_every_state_has_words_in_english_and_japanese(
    qtbot: QtBot, model: AppModel, japanese: None
) -> None:
    page = SentPage(model)
    qtbot.addWidget(page)
    labels = page.state_labels()
    assert set(labels) == set(DropState)
    assert len(set(labels.values())) == len(DropState)
    assert all(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text) for text in labels.values())


def test_the_recall_question_names_the_files_and_recipients(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf, tmp_path: Path
) -> None:
    hanako, _taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    drop_id = _send(hanako, tmp_path / "out", "--message", "<b>x</b> 予算案です")
    model = loaded_model(qtbot, session_of(hanako))
    page = _loaded_page(qtbot, model)
    assert page.select(drop_id)
    qtbot.waitUntil(lambda: page.details.files.rowCount() == 1, timeout=WAIT)
    # the same details pane as the Inbox: the message as typed, plain text
    assert page.details.message.toPlainText() == "<b>x</b> 予算案です"
    name = page.details.files.item(0, 0)
    assert name is not None
    assert name.text() == "budget.xlsx"
    assert page.details.to_label.text() == "鈴木 太郎 (人事課)"
    asked: list[str] = []

    def answer_no(question: str) -> bool:
        asked.append(question)
        return False

    page.confirm = answer_no
    page.recall_button.click()
    (question,) = asked
    assert question.startswith("Recall this drop?")
    assert "budget.xlsx  20.0 kB" in question
    assert "鈴木 太郎 (人事課)" in question
    assert "Sent: " in question
    assert [i.state for i in model.sent if i.drop_id == drop_id] == ["committed"]  # answered No


def test_a_role_mailbox_shows_its_members_and_who_had_no_device(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf, tmp_path: Path, japanese: None
) -> None:
    """Jiro sends to 会計課 窓口 (Hanako and Taro); only Taro has a device. Sent keeps the
    role with both members — one not yet downloaded, one without a device — and Taro's
    Inbox says the drop came through the role mailbox."""
    jiro, taro = enrol(JIRO, "pc"), enrol(TARO, "desktop")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "年末調整.xlsx").write_bytes(b"x" * 100)
    drop_id = jiro.ok("send", str(folder / "年末調整.xlsx"), "--to", ROLE)["drop_id"]
    model = loaded_model(qtbot, session_of(jiro))
    page = _loaded_page(qtbot, model)
    qtbot.waitUntil(lambda: "会計課 窓口（共用窓口）" in page.item_text(), timeout=WAIT)
    lines = page.item_text().splitlines()
    assert (
        lines[1]
        == "  会計課 窓口（共用窓口） |  |  | 2 名中 0 名がダウンロード済み、1 名は端末未登録"
    )
    assert lines[2].startswith("    鈴木 太郎 | 人事課 |  | ")
    assert lines[3] == "    佐藤 花子 | 会計課 |  | 端末未登録のため届いていません"
    taro.ok("receive", drop_id, "-o", str(tmp_path / "in"))
    with qtbot.waitSignal(model.sent_changed, timeout=WAIT):
        model.refresh_sent()
    assert "2 名中 1 名がダウンロード済み、1 名は端末未登録" in page.item_text()
    assert page.select(drop_id)
    assert page.details.to_label.text() == (
        "会計課 窓口（共用窓口）：2 名中 1 名がダウンロード済み、1 名は端末未登録"
    )
    taro_model = loaded_model(qtbot, session_of(taro))
    inbox = InboxPage(taro_model, downloads=lambda: tmp_path / "dl")
    qtbot.addWidget(inbox)
    taro_model.refresh_inbox()
    qtbot.waitUntil(lambda: inbox.row_count() == 1, timeout=WAIT)
    assert inbox.select(drop_id)
    qtbot.waitUntil(
        lambda: inbox.details.to_label.text() == "会計課 窓口（共用窓口）", timeout=WAIT
    )
