"""The 差し戻し reason box: required, at most 500 characters (what the signed decision
accepts), control characters turned into spaces as they arrive, Cancel the default."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from secure_send.core.envelope.approval import MAX_REASON, Decision, check_reason
from secure_send.gui.dialogs.reject_reason import RejectReasonDialog


def test_the_reason_is_required_and_limited_to_what_a_decision_accepts(qtbot: QtBot) -> None:
    dialog = RejectReasonDialog("佐藤 花子 (会計課)")
    qtbot.addWidget(dialog)
    assert dialog.cancel_button.isDefault()
    assert not dialog.return_button.isEnabled()
    dialog.reason.setPlainText("   \n ")
    assert not dialog.return_button.isEnabled()  # blank is no reason
    dialog.reason.setPlainText("あ" * MAX_REASON)
    assert dialog.return_button.isEnabled()
    assert dialog.counter.text() == "0 character(s) left"
    dialog.reason.setPlainText("あ" * (MAX_REASON + 1))
    assert not dialog.return_button.isEnabled()
    assert dialog.counter.text() == "1 character(s) too many"


def test_a_pasted_tab_or_control_character_becomes_a_space(qtbot: QtBot) -> None:
    dialog = RejectReasonDialog("佐藤 花子 (会計課)")
    qtbot.addWidget(dialog)
    dialog.reason.setPlainText("宛先が\t違います\x07。\n会計課へ")
    assert dialog.text() == "宛先が 違います 。\n会計課へ"
    assert check_reason(Decision.REJECTED, dialog.text()) == dialog.text()  # signable
