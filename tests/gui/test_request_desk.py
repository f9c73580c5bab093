"""Issue 17, item 3 (the app): the desk's tracking view and the create dialog against the
real drop server — counts, search by kana, sorting, the state filter, CSV, reminders,
save all, creating a request; in English and Japanese."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from secure_send.client.policy import POLICY_FILE_ENV
from secure_send.client.request_status import CSV_COLUMNS
from secure_send.client.switches import DEFENDER_ENV
from secure_send.core.envelope.request import JST
from secure_send.gui.dialogs.create_request import CreateRequestDialog
from secure_send.gui.model import AppModel
from secure_send.gui.views.request_desk import RequestDesk
from secure_send.gui.views.requests_page import DESK, RequestsPage
from secure_send.gui.widgets.request_table import NAME, STATE, SUBMITTED, USER
from tests.client.conftest import Enrol, Person, enrol_without_p256
from tests.directory_kit import HANAKO, JIRO, ROLE
from tests.gui.conftest import SessionOf, loaded_model
from tests.gui.test_mnemonics import clashes
from tests.gui.test_requests_page import row_texts

ICHIRO, SABURO, YOKO, KENJI = "ichiro.tanaka", "saburo.ito", "yoko.watanabe", "kenji.yamamoto"
DUE_DAY = (dt.datetime.now(JST) + dt.timedelta(days=3)).date().isoformat()


@dataclass
class Desk:
    hanako: Person
    ichiro: Person
    model: AppModel
    request_id: str
    folder: Path


def _submit(person: Person, request_id: str, folder: Path, name: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"{person.user}\n", encoding="utf-8")
    return str(person.ok("submit", request_id, str(path))["drop_id"])


def _desk(qtbot: QtBot, enrol: Enrol, session_of: SessionOf, tmp_path: Path) -> Desk:
    """Hanako's mailbox 会計課 窓口 asks five people; Jiro submits twice, Kenji once."""
    hanako, jiro = enrol(HANAKO, "laptop"), enrol(JIRO, "pc")
    ichiro, kenji = enrol(ICHIRO, "pc"), enrol(KENJI, "pc")
    to = [a for user in (JIRO, ICHIRO, SABURO, YOKO, KENJI) for a in ("--to", user)]
    request_id = hanako.ok(
        "request", "create", "--into", ROLE, *to, "--title", "年末調整書類", "--due", DUE_DAY
    )["request_id"]
    files = tmp_path / "papers"
    _submit(jiro, request_id, files, "源泉徴収票_1.csv")
    _submit(kenji, request_id, files, "源泉徴収票_k.csv")
    _submit(jiro, request_id, files, "源泉徴収票_2.csv")
    model = loaded_model(qtbot, session_of(hanako))
    with qtbot.waitSignal(model.requests.changed, timeout=15_000):
        model.requests.refresh()
    return Desk(hanako, ichiro, model, request_id, files)


def _open(qtbot: QtBot, desk: Desk) -> RequestDesk:
    view = desk.model.requests.view(desk.request_id)
    assert view is not None
    assert view.desk
    widget = RequestDesk(desk.model)
    qtbot.addWidget(widget)
    widget.resize(800, 500)
    widget.show()
    with qtbot.waitSignal(widget.status_shown, timeout=15_000):
        widget.open(view)
    return widget


def _ids(widget: RequestDesk) -> list[str]:
    return widget.table_model.shown_ids()


def _click_header(widget: RequestDesk, column: int) -> None:
    header = widget.table.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))


def _cell(widget: RequestDesk, user: str, column: int) -> str:
    model = widget.table_model.view_model
    row = _ids(widget).index(user)
    return str(model.index(row, column).data())


def test_counts_search_sort_and_filter(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf, tmp_path: Path
) -> None:
    desk = _desk(qtbot, enrol, session_of, tmp_path)
    widget = _open(qtbot, desk)
    assert widget.counts_label.text() == "Submitted 2 / Not submitted 3 / Late 0"
    assert sorted(_ids(widget)) == sorted([JIRO, ICHIRO, SABURO, YOKO, KENJI])
    assert _cell(widget, JIRO, NAME) == "髙橋 次郎"
    assert _cell(widget, JIRO, STATE) == "Submitted"
    assert "(resubmitted, 2 times)" in _cell(widget, JIRO, SUBMITTED)
    assert "resubmitted" not in _cell(widget, KENJI, SUBMITTED)
    assert _cell(widget, YOKO, STATE) == "Not submitted"
    assert _cell(widget, YOKO, SUBMITTED) == ""
    # search: kana in either script, the variant kanji folded, romaji, id, department
    for query, found in (
        ("たなか", [ICHIRO]),
        ("タカハシ", [JIRO]),
        ("高橋", [JIRO]),
        ("watanabe", [YOKO]),
        ("企画課", [ICHIRO, SABURO]),
    ):
        widget.search.setText(query)
        assert sorted(_ids(widget)) == found, query
    widget.search.clear()
    assert len(_ids(widget)) == 5
    # sorting by every column, both ways (a click on the header)
    _click_header(widget, USER)
    assert _ids(widget) == [ICHIRO, JIRO, KENJI, SABURO, YOKO]
    _click_header(widget, USER)
    assert _ids(widget) == [YOKO, SABURO, KENJI, JIRO, ICHIRO]
    _click_header(widget, NAME)  # by reading: イトウ < タカハシ < タナカ < ヤマモト < ワタナベ
    assert _ids(widget) == [SABURO, JIRO, ICHIRO, KENJI, YOKO]
    _click_header(widget, SUBMITTED)
    _click_header(widget, SUBMITTED)  # newest first: Jiro re-submitted after Kenji
    assert _ids(widget)[:2] == [JIRO, KENJI]
    _click_header(widget, STATE)
    assert set(_ids(widget)[:3]) == {ICHIRO, SABURO, YOKO}
    # the state filter, with the search
    widget.state_filter.setCurrentIndex(widget.state_filter.findText("Not submitted"))
    assert sorted(_ids(widget)) == [ICHIRO, SABURO, YOKO]
    widget.search.setText("企画")
    assert sorted(_ids(widget)) == [ICHIRO, SABURO]
    widget.search.clear()
    widget.state_filter.setCurrentIndex(widget.state_filter.findText("Submitted"))
    assert sorted(_ids(widget)) == [JIRO, KENJI]
    widget.state_filter.setCurrentIndex(widget.state_filter.findText("Late"))
    assert _ids(widget) == []
    desk.model.stop()


def test_the_desk_in_japanese(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf, tmp_path: Path, japanese: None
) -> None:
    desk = _desk(qtbot, enrol, session_of, tmp_path)
    widget = _open(qtbot, desk)
    assert widget.counts_label.text() == "提出済み 2　未提出 3　期限超過 0"
    assert _cell(widget, JIRO, STATE) == "提出済み"
    assert "（再提出、計 2 回）" in _cell(widget, JIRO, SUBMITTED)
    assert _cell(widget, YOKO, STATE) == "未提出"
    assert widget.csv_button.text() == "CSV に書き出す(&X)…"
    assert widget.remind_button.text() == "未提出者に催促(&R)…"
    assert widget.save_button.text() == "すべて保存(&A)…"
    header = widget.table_model.rows.horizontalHeaderItem(SUBMITTED).text()
    assert header == "提出日時"
    assert clashes(widget) == []
    desk.model.stop()


def test_csv_export(qtbot: QtBot, enrol: Enrol, session_of: SessionOf, tmp_path: Path) -> None:
    desk = _desk(qtbot, enrol, session_of, tmp_path)
    widget = _open(qtbot, desk)
    target = tmp_path / "status.csv"
    widget.ask_csv_path = lambda: target
    widget.csv_button.click()
    qtbot.waitUntil(lambda: str(target) in widget.status_label.text(), timeout=10_000)
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS)
    rows = {line.split(",")[0]: line.split(",") for line in lines[1:]}
    assert set(rows) == {JIRO, ICHIRO, SABURO, YOKO, KENJI}
    assert rows[JIRO][1:5] == ["髙橋 次郎", "Jiro Takahashi", "総務課", "submitted"]
    assert rows[JIRO][6] == "2"
    assert rows[YOKO][4:6] == ["pending", ""]
    assert "源泉徴収票" not in data.decode("utf-8-sig")  # never a file name
    desk.model.stop()


def test_remind_those_who_have_not_submitted(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf, tmp_path: Path, japanese: None
) -> None:
    desk = _desk(qtbot, enrol, session_of, tmp_path)
    widget = _open(qtbot, desk)
    asked: list[str] = []

    def refuse(question: str) -> bool:
        asked.append(question)
        return False

    widget.confirm = refuse
    widget.remind_button.click()
    assert asked == ["未提出の 3 人に催促を送りますか？"]
    ichiro_model = loaded_model(qtbot, session_of(desk.ichiro))
    page = RequestsPage(ichiro_model)
    qtbot.addWidget(page)
    with qtbot.waitSignal(ichiro_model.requests.changed, timeout=15_000):
        ichiro_model.requests.refresh()
    assert row_texts(page)[3] == "未提出"  # nobody was reminded on "No"
    widget.confirm = lambda question: True
    widget.remind_button.click()
    qtbot.waitUntil(lambda: widget.status_label.text() == "3 人に催促しました", timeout=10_000)
    with qtbot.waitSignal(ichiro_model.requests.changed, timeout=15_000):
        ichiro_model.requests.refresh()
    assert row_texts(page)[3] == "催促あり"
    ichiro_model.stop()
    desk.model.stop()


def test_tracking_opens_from_the_requests_page(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf, tmp_path: Path
) -> None:
    desk = _desk(qtbot, enrol, session_of, tmp_path)
    page = RequestsPage(desk.model)
    qtbot.addWidget(page)
    page.show()
    assert row_texts(page)[3] == "Your desk"
    page.table.selectRow(0)
    assert page.track_button.isEnabled()
    assert not page.submit_button.isEnabled()  # the desk was not asked
    with qtbot.waitSignal(page.desk.status_shown, timeout=15_000):
        page.track_button.click()
    assert page.stack.currentIndex() == DESK
    assert page.desk.counts_label.text().startswith("Submitted 2")
    page.desk.back_button.click()
    assert page.stack.currentIndex() != DESK
    desk.model.stop()


def test_save_all_with_one_progress_bar_and_a_summary(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf, tmp_path: Path
) -> None:
    desk = _desk(qtbot, enrol, session_of, tmp_path)
    widget = _open(qtbot, desk)
    target = tmp_path / "saved"
    target.mkdir()
    told: list[str] = []
    widget.ask_folder = lambda: target
    widget.tell = told.append
    with qtbot.waitSignal(widget.saved_all, timeout=60_000):
        widget.save_button.click()
        assert widget.progress.isVisibleTo(widget)
    assert told
    assert told[0].startswith("Saved: 3\n")
    qtbot.waitUntil(lambda: not widget.progress.isVisibleTo(widget), timeout=5_000)
    folders = sorted(p.name for p in target.iterdir())
    assert folders == ["山本健二_kenji.yamamoto", "髙橋次郎_jiro.takahashi"]
    # the saves reach the inbox (receipts): the status reloads, then the button is back
    qtbot.waitUntil(widget.save_button.isEnabled, timeout=15_000)
    with qtbot.waitSignal(widget.saved_all, timeout=60_000):
        widget.save_button.click()  # again: everything is already saved
    assert told[1].startswith("Saved: 0\nAlready saved: 3\n")
    desk.model.stop()


def test_create_a_request_from_the_app(qtbot: QtBot, enrol: Enrol, session_of: SessionOf) -> None:
    hanako, jiro = enrol(HANAKO, "laptop"), enrol(JIRO, "pc")
    model = loaded_model(qtbot, session_of(hanako))
    page = RequestsPage(model)
    qtbot.addWidget(page)
    seen: list[CreateRequestDialog] = []

    def fill(dialog: CreateRequestDialog) -> bool:
        seen.append(dialog)
        boxes = [dialog.mailbox.itemText(i) for i in range(dialog.mailbox.count())]
        assert boxes == ["Me (佐藤 花子)", "会計課 窓口（会計課）"]
        assert not dialog.create_button.isEnabled()
        dialog.mailbox.setCurrentIndex(1)
        dialog.title.setText("出張報告")
        assert not dialog.create_button.isEnabled()  # nobody asked yet
        assert dialog.picker.add_entry(JIRO)
        departments = dialog.departments
        for row in range(departments.count()):
            if departments.item(row).text() == "企画課":
                departments.item(row).setCheckState(Qt.CheckState.Checked)
        assert dialog.chosen_departments() == ["企画課"]
        assert dialog.create_button.isEnabled()
        dialog.due.setDate(dialog.due.date().fromString(DUE_DAY, "yyyy-MM-dd"))
        dialog.message.setPlainText("今月分をお願いします")
        assert clashes(dialog) == []
        return True

    page.ask_create = fill
    with qtbot.waitSignal(page.created, timeout=15_000) as created:
        page.create_button.click()
    assert len(seen) == 1
    request_id = created.args[0]
    listed = jiro.ok("requests")["requests"]
    assert [(r["request_id"], r["title"], r["from"], r["due"]) for r in listed] == [
        (request_id, "出張報告", ROLE, DUE_DAY)
    ]
    status = hanako.ok("request", "status", request_id)
    assert sorted(p["id"] for p in status["pending"]) == [ICHIRO, JIRO, SABURO]
    model.stop()


def test_a_cms_request_to_a_pc_without_its_key_says_so_by_name(
    qtbot: QtBot,
    enrol: Enrol,
    session_of: SessionOf,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """IT's policy is CRYPTREC, and Jiro's PC was enrolled before P-256 keys existed:
    the request is not created, and the sentence is about a request and names him."""
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"suite": "cms"}), encoding="utf-8")
    monkeypatch.setenv(POLICY_FILE_ENV, str(policy))
    hanako = enrol(HANAKO, "laptop")
    jiro = enrol_without_p256(enrol, monkeypatch, JIRO, "old-pc")
    model = loaded_model(qtbot, session_of(hanako))
    page = RequestsPage(model)
    qtbot.addWidget(page)

    def fill(dialog: CreateRequestDialog) -> bool:
        dialog.title.setText("年末調整")
        assert dialog.picker.add_entry(JIRO)
        return True

    page.ask_create = fill
    page.create_button.click()
    qtbot.waitUntil(lambda: "CRYPTREC" in page.list_status.text(), timeout=15_000)
    assert page.list_status.text() == (
        "This file request must use the CRYPTREC cipher suite, but a PC of "
        f"髙橋 次郎 ({JIRO}) has no key for it yet, so the request was not created. Ask "
        "them to start Secure Send once (it adds the key), then create it again."
    )
    assert jiro.ok("requests")["requests"] == []
    model.stop()


def test_save_all_says_when_the_files_were_not_scanned(
    qtbot: QtBot,
    enrol: Enrol,
    session_of: SessionOf,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """IT's antivirus policy "warn" with a scanner that cannot run: the submissions are
    saved, and the summary says plainly that they were not scanned (never silently)."""
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"antivirus": "warn"}), encoding="utf-8")
    monkeypatch.setenv(POLICY_FILE_ENV, str(policy))
    monkeypatch.setenv(DEFENDER_ENV, str(tmp_path / "no-defender" / "MpCmdRun.exe"))
    desk = _desk(qtbot, enrol, session_of, tmp_path)
    widget = _open(qtbot, desk)
    target = tmp_path / "saved"
    target.mkdir()
    told: list[str] = []
    widget.ask_folder = lambda: target
    widget.tell = told.append
    with qtbot.waitSignal(widget.saved_all, timeout=60_000):
        widget.save_button.click()
    assert told[0].startswith("Saved: 3\n")
    assert "NOT scanned for viruses (MpCmdRun.exe is not installed)" in told[0]
    desk.model.stop()
