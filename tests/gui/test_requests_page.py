"""Issue 17, item 2 (the app): the 依頼 page against the real drop server — open requests
for me, a one-action submission with no recipient to choose, a dangerous request, the
tray's notifications for a new request and a reminder; in English and Japanese."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from secure_send.core.envelope.request import JST
from secure_send.gui.dates import short_day
from secure_send.gui.dialogs.confirm_submit import ConfirmSubmitDialog
from secure_send.gui.model import AppModel
from secure_send.gui.settings import Settings
from secure_send.gui.tray import Tray
from secure_send.gui.views.requests_page import LIST, RESULT, RequestsPage
from secure_send.gui.widgets.recipient_picker import RecipientPicker
from secure_send.gui.widgets.request_list import DUE, FROM, STATE, TITLE
from tests.client.conftest import Enrol, Person
from tests.directory_kit import HANAKO, JIRO, ROLE
from tests.gui.conftest import SessionOf, loaded_model
from tests.gui.test_mnemonics import clashes
from tests.server.conftest import Server

DUE_DAY = (dt.datetime.now(JST) + dt.timedelta(days=3)).date()


def _ask(hanako: Person, title: str = "年末調整書類") -> str:
    """Hanako (a member of the 会計課 窓口 mailbox) asks Jiro through the CLI."""
    created = hanako.ok(
        "request", "create", "--into", ROLE, "--to", JIRO, "--title", title,
        "--due", DUE_DAY.isoformat(), "--message", "源泉徴収票を提出してください",
    )  # fmt: skip
    return str(created["request_id"])


def _model(qtbot: QtBot, session_of: SessionOf, person: Person) -> AppModel:
    model = loaded_model(qtbot, session_of(person))
    return model


def _refresh(qtbot: QtBot, model: AppModel) -> None:
    with qtbot.waitSignal(model.requests.changed, timeout=15_000):
        model.requests.refresh()


def _page(qtbot: QtBot, model: AppModel) -> RequestsPage:
    page = RequestsPage(model)
    qtbot.addWidget(page)
    page.resize(800, 500)
    page.show()
    return page


def row_texts(page: RequestsPage, row: int = 0) -> list[str]:
    """The texts of one row of the request list ("" for a missing cell)."""
    cells = [page.table.item(row, c) for c in (TITLE, FROM, DUE, STATE)]
    return [c.text() if c is not None else "" for c in cells]


def _drop_on_row(page: RequestsPage, paths: list[Path], row: int = 0) -> QDropEvent:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    item = page.table.item(row, TITLE)
    assert item is not None
    where = page.table.visualItemRect(item).center()
    action, button = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton
    none = Qt.KeyboardModifier.NoModifier
    viewport = page.table.viewport()
    QApplication.sendEvent(viewport, QDragEnterEvent(where, action, mime, button, none))
    QApplication.sendEvent(viewport, QDragMoveEvent(where, action, mime, button, none))
    drop = QDropEvent(QPointF(where), action, mime, button, none)
    QApplication.sendEvent(viewport, drop)
    return drop


def test_the_list_shows_a_request_made_through_the_cli(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf
) -> None:
    hanako, jiro = enrol(HANAKO, "laptop"), enrol(JIRO, "pc")
    model = _model(qtbot, session_of, jiro)
    _ask(hanako)
    page = _page(qtbot, model)
    _refresh(qtbot, model)
    assert page.table.rowCount() == 1
    assert row_texts(page) == ["年末調整書類", "会計課 窓口", short_day(DUE_DAY), "Not submitted"]
    page.table.selectRow(0)
    assert page.submit_button.isEnabled()
    assert not page.track_button.isEnabled()  # Jiro is asked, not on the desk
    model.stop()


def test_the_list_in_japanese(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf, japanese: None
) -> None:
    hanako, jiro = enrol(HANAKO, "laptop"), enrol(JIRO, "pc")
    model = _model(qtbot, session_of, jiro)
    _ask(hanako)
    page = _page(qtbot, model)
    _refresh(qtbot, model)
    due = f"{DUE_DAY.month}月{DUE_DAY.day}日"
    if DUE_DAY.year != dt.date.today().year:
        due = f"{DUE_DAY.year}年{due}"
    assert row_texts(page) == ["年末調整書類", "会計課 窓口", due, "未提出"]
    assert page.submit_button.text() == "提出(&U)…"
    model.stop()


def test_dropping_files_on_a_request_submits_them_to_its_mailbox(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf, tmp_path: Path
) -> None:
    hanako, jiro = enrol(HANAKO, "laptop"), enrol(JIRO, "pc")
    model = _model(qtbot, session_of, jiro)
    request_id = _ask(hanako)
    page = _page(qtbot, model)
    _refresh(qtbot, model)
    paper = tmp_path / "源泉徴収票.csv"
    paper.write_text("髙橋,次郎\n", encoding="utf-8")
    seen: list[ConfirmSubmitDialog] = []

    def confirm(dialog: ConfirmSubmitDialog) -> bool:
        seen.append(dialog)
        assert dialog.title_label.text() == "年末調整書類"
        assert dialog.mailbox_label.text() == "会計課 窓口（会計課）"
        assert [dialog.files.item(i).text() for i in range(dialog.files.count())] == [paper.name]
        assert dialog.cancel_button.isDefault()
        assert dialog.findChildren(RecipientPicker) == []
        return True

    page.confirm = confirm
    with qtbot.waitSignal(page.submitted, timeout=30_000) as done:
        drop = _drop_on_row(page, [paper])
    assert drop.isAccepted()
    assert len(seen) == 1
    assert page.stack.currentIndex() == RESULT
    assert "1 file" in page.result_label.text()
    assert done.args[0] in page.detail_label.text()
    assert page.findChildren(RecipientPicker) == []  # no recipient anywhere in this flow
    status = hanako.ok("request", "status", request_id)
    assert [s["id"] for s in status["submitted"]] == [JIRO]
    # the list says so once refreshed (the page asked the model after the submission)
    qtbot.waitUntil(lambda: row_texts(page)[3] == "Submitted", timeout=15_000)
    page.back_button.click()
    assert page.stack.currentIndex() == LIST
    model.stop()


def test_a_cancelled_confirmation_submits_nothing(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf, tmp_path: Path
) -> None:
    hanako, jiro = enrol(HANAKO, "laptop"), enrol(JIRO, "pc")
    model = _model(qtbot, session_of, jiro)
    request_id = _ask(hanako)
    page = _page(qtbot, model)
    _refresh(qtbot, model)
    paper = tmp_path / "a.txt"
    paper.write_text("x", encoding="utf-8")
    page.confirm = lambda dialog: False
    page.ask_files = lambda: [paper]
    page.table.selectRow(0)
    page.submit_button.click()
    assert page.stack.currentIndex() == LIST
    assert hanako.ok("request", "status", request_id)["submitted"] == []
    model.stop()


def test_a_forged_request_is_dangerous_and_takes_no_files(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf, org_server: Server, tmp_path: Path
) -> None:
    hanako, jiro = enrol(HANAKO, "laptop"), enrol(JIRO, "pc")
    model = _model(qtbot, session_of, jiro)
    request_id = _ask(hanako)
    # the untrusted server swaps the request's text for other words
    with sqlite3.connect(org_server.config.state_dir / "meta.sqlite") as db:
        db.execute("UPDATE requests SET text = ? WHERE id = ?", (b"forged", request_id))
    page = _page(qtbot, model)
    _refresh(qtbot, model)
    assert row_texts(page)[0].startswith("⚠")
    page.table.selectRow(0)
    assert not page.submit_button.isEnabled()
    assert page.reason_label.isVisibleTo(page)
    assert "verif" in page.reason_label.text()
    page.confirm = lambda dialog: (_ for _ in ()).throw(AssertionError("never asked"))
    paper = tmp_path / "a.txt"
    paper.write_text("x", encoding="utf-8")
    assert not _drop_on_row(page, [paper]).isAccepted()
    assert page.task is None
    assert hanako.ok("inbox")["drops"] == []  # nothing was sent to the desk
    model.stop()


def test_the_tray_tells_of_a_new_request_and_of_a_reminder(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf, japanese: None
) -> None:
    hanako, jiro = enrol(HANAKO, "laptop"), enrol(JIRO, "pc")
    model = _model(qtbot, session_of, jiro)
    window = QWidget()
    qtbot.addWidget(window)
    tray = Tray(model, window, Settings())
    page = _page(qtbot, model)
    _refresh(qtbot, model)  # the first load announces nothing
    request_id = _ask(hanako)
    with qtbot.waitSignal(tray.notified, timeout=15_000) as told:
        model.requests.refresh()
    assert told.args == ["新しい提出依頼", "会計課 窓口から提出の依頼があります"]
    assert hanako.ok("request", "remind", request_id)["reminded"] == [JIRO]
    with qtbot.waitSignal(tray.notified, timeout=15_000) as told:
        model.requests.refresh()
    assert told.args == ["提出の催促", "会計課 窓口から提出の催促があります"]
    qtbot.waitUntil(lambda: row_texts(page)[3] == "催促あり", timeout=5_000)
    model.stop()


def test_the_list_follows_the_inbox_wake_up(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf
) -> None:
    """Started, the list is fetched again after every inbox long-poll answer (the
    server wakes an addressee's long-poll when a request is made)."""
    hanako, jiro = enrol(HANAKO, "laptop"), enrol(JIRO, "pc")
    model = _model(qtbot, session_of, jiro)
    page = _page(qtbot, model)
    model.start()
    qtbot.waitUntil(lambda: model.requests._loaded, timeout=15_000)
    _ask(hanako)
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=30_000)
    model.stop()


def test_the_page_and_its_dialog_have_unique_mnemonics(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf, japanese: None
) -> None:
    hanako, jiro = enrol(HANAKO, "laptop"), enrol(JIRO, "pc")
    model = _model(qtbot, session_of, jiro)
    _ask(hanako)
    page = _page(qtbot, model)
    _refresh(qtbot, model)
    view = model.requests.view(model.requests.items[0].request_id)
    assert view is not None
    dialog = ConfirmSubmitDialog(view, model.entry(ROLE), ["a.txt"])
    qtbot.addWidget(dialog)
    assert clashes(dialog) == []
    assert clashes(page) == []
    assert dialog.submit_button.text() == "提出(&S)"
    model.stop()


def test_drop_outside_a_row_is_refused(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf, tmp_path: Path
) -> None:
    hanako, jiro = enrol(HANAKO, "laptop"), enrol(JIRO, "pc")
    model = _model(qtbot, session_of, jiro)
    _ask(hanako)
    page = _page(qtbot, model)
    _refresh(qtbot, model)
    paper = tmp_path / "a.txt"
    paper.write_text("x", encoding="utf-8")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(paper))])
    below = QPoint(5, page.table.viewport().height() - 3)
    drop = QDropEvent(
        QPointF(below), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(page.table.viewport(), drop)
    assert not drop.isAccepted()
    model.stop()
