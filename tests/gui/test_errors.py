"""Errors a clerk can act on, in Japanese, from real failures against the real server:
the sentence fits the action (sending ≠ saving), has no English or exception names,
names an unenrolled recipient, and "Copy contact information" copies the helpdesk block
(code, drop id, time, version) — never the drop's English problem text."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

import secure_send
from secure_send.client.send import collect
from secure_send.core.envelope.manifest import Classification
from secure_send.core.error_actions import Action
from secure_send.gui import errors
from secure_send.gui.dialogs.error_dialog import build_error_box, copy_button
from secure_send.gui.model import AppModel, SendRequest
from secure_send.gui.views.inbox_page import InboxPage
from secure_send.gui.views.send_page import RESULT, SendPage
from tests.client.conftest import Enrol, Person
from tests.directory_kit import HANAKO, JIRO, TARO
from tests.gui.conftest import SessionOf, loaded_model
from tests.gui.restartable import RestartableServer, org_server, restartable  # noqa: F401
from tests.gui.test_inbox_page import _edit_manifest
from tests.server.conftest import Server

WAIT = 15_000
LATIN = re.compile(r"[A-Za-z]")


def _no_english(text: str, *ids: str) -> bool:
    """No ASCII letter in ``text`` once the ids it may name are taken out."""
    for known in ids:
        text = text.replace(known, "")
    return text.strip() != "" and not LATIN.search(text)


def _file(folder: Path, size: int = 40_000) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "報告書.bin"
    path.write_bytes(os.urandom(size))
    return path


def _request(path: Path, *to: str) -> SendRequest:
    return SendRequest(tuple(collect([path])), to, dt.timedelta(days=3), "", Classification.C2)


@pytest.fixture
def people(enrol: Enrol) -> tuple[Person, Person]:
    """Hanako (sender) and Taro (recipient)."""
    return enrol(HANAKO, "laptop"), enrol(TARO, "desktop")


def _send_page(qtbot: QtBot, model: AppModel) -> SendPage:
    page = SendPage(model)
    qtbot.addWidget(page)
    return page


@pytest.mark.usefixtures("japanese")
def test_a_lost_connection_reads_differently_while_sending_and_while_saving(
    qtbot: QtBot,
    people: tuple[Person, Person],
    session_of: SessionOf,
    restartable: RestartableServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    hanako, taro = people
    drop_id = hanako.ok("send", str(_file(tmp_path / "out")), "--to", TARO)["drop_id"]
    hanako_model = loaded_model(qtbot, session_of(hanako))
    taro_model = loaded_model(qtbot, session_of(taro))
    inbox = InboxPage(taro_model, downloads=lambda: tmp_path / "downloads")
    qtbot.addWidget(inbox)
    reported: list[BaseException] = []
    inbox.report_error = lambda _parent, err: reported.append(err)
    with qtbot.waitSignal(taro_model.inbox_changed, timeout=WAIT):
        taro_model.refresh_inbox()
    assert inbox.select(drop_id)
    send_page = _send_page(qtbot, hanako_model)

    # sending: the server goes away in the middle of the upload
    send_page._start(_request(_file(tmp_path / "big", 64 * 1024 * 1024), TARO))
    assert send_page.task is not None

    def stop_midway(label: str, done: int, total: int) -> None:
        if label in ("m", "f1") and done < total and restartable.running:
            restartable.stop()  # the drop is prepared: the upload is under way

    send_page.task.progressed.connect(stop_midway)
    # a lost connection while sending is retried by itself (issue 16, item 2), in Japanese
    retry = send_page.progress_view.connection_label
    qtbot.waitUntil(lambda: "再試行" in retry.text(), timeout=60_000)
    assert not restartable.running
    assert _no_english(retry.text())
    # stopped by the clerk: the unfinished drop, with the helpdesk block to copy
    send_page.cancel_button.click()
    qtbot.waitUntil(lambda: send_page.task is None, timeout=60_000)
    assert send_page.stack.currentIndex() == RESULT
    assert send_page.resume_button.isVisibleTo(send_page)
    assert _no_english(send_page.result_label.text())
    assert send_page.copy_button.isVisibleTo(send_page)
    QApplication.clipboard().clear()
    send_page.copy_button.click()
    copied = QApplication.clipboard().text()
    assert copied
    assert copied in send_page.detail_label.text()
    assert secure_send.__version__ in copied
    held = send_page.unfinished
    assert held is not None
    assert held.drop_id in copied

    # saving, with the server still away
    assert inbox.save_to(tmp_path / "downloads") is not None
    qtbot.waitUntil(lambda: bool(reported), timeout=WAIT)
    saving = inbox.status_label.text()
    assert saving == "保存中に接続が切れました。もう一度保存すると続きから再開します。"
    box = build_error_box(inbox, reported[0], inbox._error_context())
    qtbot.addWidget(box)
    assert box.text() == saving
    QApplication.clipboard().clear()
    copy_button(box).click()
    copied = QApplication.clipboard().text()
    assert copied == box.detailedText()
    assert "connection_lost" in copied
    assert drop_id in copied
    assert secure_send.__version__ in copied
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", copied)  # local ISO time
    assert "報告書" not in copied  # never a file name

    # the same lost connection, had it stopped a send: the sentence says sending
    sending = errors.describe(reported[0], errors.Context(Action.SEND))[0]
    assert sending.startswith("送信中に受け渡しサーバーとの接続が切れました。")
    assert sending != saving
    assert _no_english(saving)
    assert _no_english(sending)
    assert "ConnectionLost" not in sending + copied
    hanako_model.stop()
    taro_model.stop()


@pytest.mark.usefixtures("japanese")
def test_an_unenrolled_recipient_is_named_with_what_to_do(
    qtbot: QtBot, model: AppModel, tmp_path: Path
) -> None:
    """Jiro is in the directory but has no device: the send says who, in Japanese."""
    page = _send_page(qtbot, model)
    page._start(_request(_file(tmp_path / "out"), JIRO))
    qtbot.waitUntil(lambda: page.task is None, timeout=WAIT)
    text = page.result_label.text()
    assert JIRO in text
    assert "セキュア送信の登録をしていない" in text
    assert "宛先を外す" in text  # what to do
    assert _no_english(text, JIRO)
    assert "RecipientError" not in text + page.detail_label.text()
    assert "recipient_not_enrolled" in page.detail_label.text()


@pytest.mark.usefixtures("japanese")
def test_a_tampered_drop_gives_the_codes_sentence_not_the_english_problem(
    qtbot: QtBot,
    people: tuple[Person, Person],
    session_of: SessionOf,
    org_server: Server,  # noqa: F811
    tmp_path: Path,
) -> None:
    hanako, taro = people
    bad_id = hanako.ok("send", str(_file(tmp_path / "a")), "--to", TARO)["drop_id"]
    _edit_manifest(org_server, bad_id)
    model = loaded_model(qtbot, session_of(taro))
    page = InboxPage(model, downloads=lambda: tmp_path / "downloads")
    qtbot.addWidget(page)
    with qtbot.waitSignal(model.inbox_changed, timeout=WAIT):
        model.refresh_inbox()
    assert page.select(bad_id)
    (item,) = model.inbox
    assert item.problem  # the English detail exists (the CLI shows it to IT) …
    reason = page.reason_label.text()
    assert reason.startswith("この送付は検証に失敗しており")
    assert _no_english(reason)
    assert item.problem not in reason  # … but never in the window
    tips = [
        cell.toolTip() for c in range(page.table.columnCount()) if (cell := page.table.item(0, c))
    ]
    assert not any(item.problem in tip for tip in tips)
    model.stop()
