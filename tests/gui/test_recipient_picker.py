"""The recipient picker: verified directory entries only, found however the name is typed;
every row says who exactly (id, department), which names look alike and who cannot
receive (departed, no device)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QListView
from pytestqt.qtbot import QtBot

from secure_send.core.directory.log import Action
from secure_send.gui.model import AppModel
from secure_send.gui.widgets.recipient_picker import RecipientPicker
from secure_send.gui.widgets.recipient_rows import Row
from secure_send.org import ops
from tests.directory_kit import HANAKO, JIRO, OPERATOR, ROLE, TARO
from tests.gui.lookalike_kit import (
    DESK,
    ICHIRO,
    ICHIRO_V,
    SAITO,
    SAITO_V,
    lookalike_org,  # noqa: F401 - a fixture
    reload,
)
from tests.server.conftest import Server


def _picker(qtbot: QtBot, model: AppModel) -> RecipientPicker:
    picker = RecipientPicker(model)
    qtbot.addWidget(picker)
    picker.resize(560, 700)
    picker.show()
    return picker


def _search(qtbot: QtBot, picker: RecipientPicker, text: str) -> list[str]:
    picker.search.clear()
    picker.search.insert(text)  # QTest key clicks are Latin-1 only: type kanji as an IME does
    qtbot.waitUntil(lambda: not picker.search_pending())
    return picker.result_ids()


def _row(picker: RecipientPicker, entry_id: str) -> Row:
    (row,) = [r for r in picker.result_rows.rows if r.entry_id == entry_id]
    return row


def test_search_by_kanji_kana_romaji_department_email(qtbot: QtBot, model: AppModel) -> None:
    picker = _picker(qtbot, model)
    assert HANAKO in _search(qtbot, picker, "佐藤")
    assert TARO in _search(qtbot, picker, "すずき")
    assert JIRO in _search(qtbot, picker, "takahashi")
    assert _search(qtbot, picker, "人事課") == [TARO]
    assert _search(qtbot, picker, f"{JIRO}@example.go.jp") == [JIRO]


def test_every_result_shows_id_and_department(qtbot: QtBot, model: AppModel) -> None:
    picker = _picker(qtbot, model)
    ids = _search(qtbot, picker, "会計課")
    assert {HANAKO, ROLE} <= set(ids)
    role, hanako = _row(picker, ROLE), _row(picker, HANAKO)
    assert role.lines[0].text.startswith("[Role mailbox] ✓ 会計課 窓口")
    assert role.lines[1].text == f"{ROLE} · 会計課 · 2 members"  # always a line of its own
    assert hanako.lines[0].text == "✓ 佐藤 花子  (Hanako Sato)"
    assert hanako.lines[1].text == f"{HANAKO} · 会計課 · 主任"
    # the rows are painted by a delegate over a model: no widget per row, nothing cut off
    assert isinstance(picker.results, QListView)
    assert picker.results.indexWidget(picker.result_rows.index(0)) is None
    height = picker.results.sizeHintForRow(ids.index(HANAKO))
    assert height >= 2 * picker.results.fontMetrics().lineSpacing()
    assert not picker.results.grab().isNull()


@pytest.mark.usefixtures("lookalike_org")
def test_lookalikes_are_marked_and_named_in_full(
    qtbot: QtBot, model: AppModel, org_server: Server
) -> None:
    picker = _picker(qtbot, model)
    assert set(_search(qtbot, picker, "高橋 一郎")) == {ICHIRO_V, ICHIRO}
    variant = _row(picker, ICHIRO_V)
    assert variant.lines[0].text.startswith("⚠ ✓ 髙橋 一郎")
    assert variant.lines[0].marks == ((4, 1),)  # 髙 (after "⚠ ✓ "), drawn bold
    assert variant.lines[1].text == f"{ICHIRO_V} · 人事課 · 主任"
    warning = variant.lines[2]
    assert warning.text == f"⚠ Similar name: 高橋 一郎 ({ICHIRO}, 財務課)"
    assert warning.marks == ((len("⚠ Similar name: "), 1),)  # its 高
    assert _row(picker, ICHIRO).lines[2].text == f"⚠ Similar name: 髙橋 一郎 ({ICHIRO_V}, 人事課)"
    assert set(_search(qtbot, picker, "斉藤")) == {SAITO, SAITO_V}
    assert f"斉藤 和也 ({SAITO_V}, 広報課)" in _row(picker, SAITO).text
    assert _row(picker, SAITO).lines[0].marks == ((4, 1),)
    assert not picker.results.grab().isNull()  # the delegate paints the marks
    # a chosen recipient keeps the warning
    assert picker.add_entry(ICHIRO)
    (chosen,) = picker.chosen_rows.rows
    assert f"髙橋 一郎 ({ICHIRO_V}, 人事課)" in chosen.text


@pytest.mark.usefixtures("lookalike_org")
def test_unenrolled_and_departed_are_labelled_and_refused(
    qtbot: QtBot, model: AppModel, org_server: Server
) -> None:
    picker = _picker(qtbot, model)
    assert _search(qtbot, picker, "takahashi jiro") == [JIRO]  # in the directory, no device
    row = _row(picker, JIRO)
    assert row.lines[0].text.endswith("[Not enrolled]")
    assert "No registered device" in row.text
    picker.results.setFocus()
    picker.results.setCurrentIndex(picker.result_rows.index(0))
    assert not picker.add_button.isEnabled()
    assert picker.status_label.isVisible()
    assert picker.status_label.text() == row.refusal
    QTest.keyClick(picker.results, Qt.Key.Key_Return)
    QTest.mouseDClick(
        picker.results.viewport(),
        Qt.MouseButton.LeftButton,
        pos=picker.results.visualRect(picker.result_rows.index(0)).center(),
    )
    assert not picker.add_entry(JIRO)
    assert picker.chosen_ids() == []
    ops.change(org_server.home, OPERATOR, Action.DEPART, {"user": TARO})
    reload(qtbot, model, org_server)
    assert _search(qtbot, picker, "すずき たろう") == [TARO]
    departed = _row(picker, TARO)
    assert departed.lines[0].text.endswith("[Departed]")
    assert departed.refusal == "Has left the organisation, so it cannot be sent to."
    assert not picker.add_entry(TARO)


@pytest.mark.usefixtures("lookalike_org")
def test_reasons_in_japanese(
    qtbot: QtBot, model: AppModel, org_server: Server, japanese: None
) -> None:
    picker = _picker(qtbot, model)
    _search(qtbot, picker, "takahashi jiro")
    row = _row(picker, JIRO)
    assert row.lines[0].text.endswith("【未登録】")
    assert row.refusal == "端末が未登録のため送れません。本人に登録を依頼してください。"
    _search(qtbot, picker, "高橋 一郎")
    assert f"似た名前：高橋 一郎（{ICHIRO}、財務課）" in _row(picker, ICHIRO_V).text
    ops.change(org_server.home, OPERATOR, Action.DEPART, {"user": TARO})
    reload(qtbot, model, org_server)
    _search(qtbot, picker, "すずき たろう")
    assert _row(picker, TARO).lines[0].text.endswith("【退職】")
    assert _row(picker, TARO).refusal == "退職済みのため送れません。"


@pytest.mark.usefixtures("lookalike_org")
def test_role_mailboxes_without_devices(qtbot: QtBot, model: AppModel, org_server: Server) -> None:
    picker = _picker(qtbot, model)
    _search(qtbot, picker, "年末調整")
    desk = _row(picker, DESK)  # Taro has a device, Jiro and Tanaka have none
    assert desk.addable
    assert "2 of 3 members have no registered device" in desk.text
    assert picker.add_entry(DESK)
    _search(qtbot, picker, "窓口")
    accounts = _row(picker, ROLE)  # Hanako (the sender) and Taro: Taro can receive
    assert accounts.addable
    ops.change(org_server.home, OPERATOR, Action.REVOKE_DEVICE, {"user": TARO, "device": "pc"})
    reload(qtbot, model, org_server)
    _search(qtbot, picker, "窓口")
    accounts = _row(picker, ROLE)  # nobody but the sender herself could open it
    assert not accounts.addable
    assert accounts.lines[0].text.endswith("[Not enrolled]")
    assert not picker.add_entry(ROLE)
    assert picker.chosen_ids() == []  # the desk lost its last reachable member: dropped


@pytest.mark.usefixtures("lookalike_org")
def test_enter_adds_the_top_match(qtbot: QtBot, model: AppModel, org_server: Server) -> None:
    picker = _picker(qtbot, model)
    picker.search.setFocus()
    with qtbot.waitSignal(picker.changed):
        QTest.keyClicks(picker.search, "suzuki")
        QTest.keyClick(picker.search, Qt.Key.Key_Return)
    assert picker.chosen_ids() == [TARO]
    # a top match with a look-alike is selected, not added: a second Enter chooses it
    _search(qtbot, picker, "高橋 一郎")
    QTest.keyClick(picker.search, Qt.Key.Key_Return)
    assert picker.chosen_ids() == [TARO]
    assert picker.results.hasFocus()
    top = picker.result_ids()[0]
    QTest.keyClick(picker.results, Qt.Key.Key_Return)
    assert picker.chosen_ids() == [TARO, top]
    # only refused matches: nothing added, the reason shown
    _search(qtbot, picker, "takahashi jiro")
    picker.search.setFocus()
    QTest.keyClick(picker.search, Qt.Key.Key_Return)
    assert picker.chosen_ids() == [TARO, top]
    assert "No registered device" in picker.status_label.text()


@pytest.mark.parametrize(
    ("language", "outside", "none"),
    [
        ("en", "No match — addresses outside the organisation cannot be used", "No match"),
        ("ja", "該当なし — 庁外のアドレスには送れません", "該当なし"),
    ],
)
def test_an_outside_address_says_why(
    qtbot: QtBot, model: AppModel, request: pytest.FixtureRequest, language: str,
    outside: str, none: str,
) -> None:  # fmt: skip
    if language == "ja":
        request.getfixturevalue("japanese")
    picker = _picker(qtbot, model)
    for text in ("taro@gmail.com", f"{TARO}@example.go.jq", "@"):
        assert _search(qtbot, picker, text) == []
        assert picker.status_label.isVisible()
        assert picker.status_label.text() == outside
        QTest.keyClick(picker.search, Qt.Key.Key_Return)
    assert _search(qtbot, picker, "zzzz") == []
    assert picker.status_label.text() == none
    assert _search(qtbot, picker, "すずき") == [TARO]
    assert not picker.status_label.isVisible()
    assert picker.chosen_ids() == []


@pytest.mark.usefixtures("lookalike_org")
def test_choosing_and_removing(qtbot: QtBot, model: AppModel, org_server: Server) -> None:
    picker = _picker(qtbot, model)
    _search(qtbot, picker, "すずき")
    with qtbot.waitSignal(picker.changed):
        QTest.keyClick(picker.search, Qt.Key.Key_Down)
        QTest.keyClick(picker.results, Qt.Key.Key_Return)
    assert picker.chosen_ids() == [TARO]
    _search(qtbot, picker, "kaikei")
    picker.results.setCurrentIndex(picker.result_rows.index(0))
    QTest.mouseClick(picker.add_button, Qt.MouseButton.LeftButton)
    assert picker.chosen_ids() == [TARO, ROLE]
    picker.chosen_list.setCurrentIndex(picker.chosen_rows.index(0))
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
    assert picker.chosen_ids() == []  # Taro has no device yet: refused, not added
    assert not picker.add_entry("someone")  # not a directory entry


@pytest.mark.usefixtures("lookalike_org")
def test_departed_person_is_dropped(qtbot: QtBot, model: AppModel, org_server: Server) -> None:
    picker = _picker(qtbot, model)
    assert picker.add_entry(TARO)
    ops.change(org_server.home, OPERATOR, Action.DEPART, {"user": TARO})
    reload(qtbot, model, org_server)
    assert picker.chosen_ids() == []  # dropped from the chosen list
    assert not picker.add_entry(TARO)


def test_accessible_names(qtbot: QtBot, model: AppModel) -> None:
    picker = _picker(qtbot, model)
    for widget in (
        picker.search,
        picker.results,
        picker.chosen_list,
        picker.add_button,
        picker.remove_button,
        picker.status_label,
    ):
        assert widget.accessibleName()
