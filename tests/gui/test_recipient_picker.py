"""The recipient picker: verified directory entries only, found however the name is typed."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from secure_send.core.directory.log import Action
from secure_send.gui.model import AppModel
from secure_send.gui.widgets.recipient_picker import ID_ROLE, RecipientPicker
from secure_send.org import ops
from tests.directory_kit import HANAKO, JIRO, OPERATOR, ROLE, TARO
from tests.server.conftest import Server


def _picker(qtbot: QtBot, model: AppModel) -> RecipientPicker:
    picker = RecipientPicker(model)
    qtbot.addWidget(picker)
    return picker


def _search(qtbot: QtBot, picker: RecipientPicker, text: str) -> list[str]:
    picker.search.clear()
    picker.search.insert(text)  # QTest key clicks are Latin-1 only: type kanji as an IME does
    qtbot.waitUntil(lambda: not picker.search_pending())
    return [str(picker.results.item(i).data(ID_ROLE)) for i in range(picker.results.count())]


def test_search_by_kanji_kana_romaji_department_email(qtbot: QtBot, model: AppModel) -> None:
    picker = _picker(qtbot, model)
    assert HANAKO in _search(qtbot, picker, "佐藤")
    assert TARO in _search(qtbot, picker, "すずき")
    assert JIRO in _search(qtbot, picker, "takahashi")
    assert _search(qtbot, picker, "人事課") == [TARO]
    assert _search(qtbot, picker, f"{JIRO}@example.go.jp") == [JIRO]


def test_results_show_names_badge_and_role(qtbot: QtBot, model: AppModel) -> None:
    picker = _picker(qtbot, model)
    ids = _search(qtbot, picker, "会計課")
    texts = {i: picker.results.item(n).text() for n, i in enumerate(ids)}
    assert "[Role mailbox]" in texts[ROLE]
    assert "2 members" in texts[ROLE]
    assert "[Role mailbox]" not in texts[HANAKO]
    assert texts[HANAKO].startswith("✓ 佐藤 花子")
    assert "Hanako Sato" in texts[HANAKO]
    assert "主任" in texts[HANAKO]


def test_choosing_a_result_adds_its_id(qtbot: QtBot, model: AppModel) -> None:
    picker = _picker(qtbot, model)
    _search(qtbot, picker, "すずき")
    with qtbot.waitSignal(picker.changed):
        QTest.keyClick(picker.search, Qt.Key.Key_Down)
        QTest.keyClick(picker.results, Qt.Key.Key_Return)
    assert picker.chosen_ids() == [TARO]
    _search(qtbot, picker, "kaikei")
    picker.results.setCurrentRow(0)
    QTest.mouseClick(picker.add_button, Qt.MouseButton.LeftButton)
    assert picker.chosen_ids() == [TARO, ROLE]
    picker.chosen_list.setCurrentRow(0)
    QTest.mouseClick(picker.remove_button, Qt.MouseButton.LeftButton)
    assert picker.chosen_ids() == [ROLE]


def test_free_text_adds_nothing(qtbot: QtBot, model: AppModel) -> None:
    picker = _picker(qtbot, model)
    for text in ("someone@evil.example", f"{TARO}@example.go.jp", "鈴木"):
        picker.search.clear()
        if text.isascii():
            QTest.keyClicks(picker.search, text)
            QTest.keyClick(picker.search, Qt.Key.Key_Return)
        picker.search.clear()
        picker.search.insert(text)  # as if pasted
        QTest.keyClick(picker.search, Qt.Key.Key_Return)
    assert picker.chosen_ids() == []
    assert not picker.add_entry("someone")  # not a directory entry


def test_departed_person_is_not_offered(qtbot: QtBot, model: AppModel, org_server: Server) -> None:
    picker = _picker(qtbot, model)
    assert _search(qtbot, picker, "takahashi") == [JIRO]
    assert picker.add_entry(JIRO)
    ops.change(org_server.home, OPERATOR, Action.DEPART, {"user": JIRO})
    org_server.push()
    with qtbot.waitSignal(model.directory_changed, timeout=10_000):
        model.refresh_directory()
    assert _search(qtbot, picker, "takahashi") == []
    assert picker.chosen_ids() == []  # dropped from the chosen list too
    assert not picker.add_entry(JIRO)


def test_lookalike_warning_shows_department_and_email(qtbot: QtBot, model: AppModel) -> None:
    from secure_send.core.directory.model import Entry, Kind
    from secure_send.core.directory.search import Field, Match, Rank
    from secure_send.gui.widgets.recipient_picker import describe_entry

    entry = model.entry(TARO)
    assert isinstance(entry, Entry)
    assert entry.kind is Kind.PERSON
    text = describe_entry(entry, lookalike=True)
    assert "Similar name" in text
    assert entry.email in text
    assert entry.department in text
    assert Match(entry, Rank.EXACT, Field.NAME_JA, True).lookalike


def test_accessible_names(qtbot: QtBot, model: AppModel) -> None:
    picker = _picker(qtbot, model)
    for widget in (
        picker.search,
        picker.results,
        picker.chosen_list,
        picker.add_button,
        picker.remove_button,
    ):
        assert widget.accessibleName()
