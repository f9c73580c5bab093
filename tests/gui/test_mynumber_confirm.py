"""The Send page checks the files for My Numbers before its confirm sheet (issue 19): a
send to someone not designated shows why and offers no Send button; to a designated role
it goes, marked 機密性3 with the shorter expiry. Real widgets, the real server."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from secure_send.core.envelope.manifest import Classification, SignedManifest
from secure_send.gui.dialogs.confirm_send import ConfirmSendDialog
from secure_send.gui.model import AppModel
from secure_send.gui.views import mynumber_gate
from secure_send.gui.views.send_page import RESULT, SendPage
from tests.client.conftest import Enrol
from tests.client.test_mynumber_send import designate, nenmatsu_csv, numbers
from tests.directory_kit import ROLE, TARO
from tests.server.conftest import Server


def _page(qtbot: QtBot, model: AppModel, table: Path, *to: str) -> SendPage:
    page = SendPage(model)
    qtbot.addWidget(page)
    page.add_paths([table])
    for entry_id in to:
        assert page.picker.add_entry(entry_id)
    return page


def _press_send(page: SendPage, *, accept: bool) -> list[ConfirmSendDialog]:
    """Press Send; the confirm sheet, once shown, is looked at, then sent or closed."""
    seen: list[ConfirmSendDialog] = []

    def look() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ConfirmSendDialog):  # the check still running
            QTimer.singleShot(20, look)
            return
        seen.append(dialog)
        (dialog.send_button if accept else dialog.cancel_button).click()

    QTimer.singleShot(0, look)
    QTest.mouseClick(page.send_button, Qt.MouseButton.LeftButton)
    return seen


def test_a_list_of_my_numbers_to_a_colleague_not_designated_is_stopped_on_the_sheet(
    qtbot: QtBot, model: AppModel, enrol: Enrol, org_server: Server, tmp_path: Path
) -> None:
    enrol(TARO, "desktop")
    with qtbot.waitSignal(model.directory_changed, timeout=10_000):
        model.refresh_directory()
    table = nenmatsu_csv(tmp_path / "年末調整.csv", numbers(11, 25))
    page = _page(qtbot, model, table, TARO)
    seen = _press_send(page, accept=False)
    assert len(seen) == 1
    dialog = seen[0]
    notes = dialog.mynumber
    assert notes is not None
    assert notes.blocked
    text = notes.text()
    assert "This send cannot go" in text
    places = "row 2, column 2; row 3, column 2; row 4, column 2"
    assert f"年末調整.csv: 25 My Number(s) ({places})" in text
    assert "Not designated: 鈴木 太郎 (人事課)" in text
    assert dialog.send_button.isHidden()
    assert not dialog.send_button.isEnabled()
    assert page.stack.currentIndex() != RESULT  # nothing started
    assert model.session.api.sent() == []


def test_to_a_designated_role_it_goes_at_c3(
    qtbot: QtBot,
    model: AppModel,
    enrol: Enrol,
    org_server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Through the threaded check (as for a large workbook): the sheet waits for it."""
    monkeypatch.setattr(mynumber_gate, "CHECK_HERE_BYTES", 0)
    enrol(TARO, "desktop")
    designate(org_server, ROLE)
    with qtbot.waitSignal(model.directory_changed, timeout=10_000):
        model.refresh_directory()
    table = nenmatsu_csv(tmp_path / "年末調整.csv", numbers(12, 8))
    page = _page(qtbot, model, table, ROLE)
    page.expiry.setValue(7)
    seen = _press_send(page, accept=True)
    assert len(seen) == 1
    notes = seen[0].mynumber
    assert notes is not None
    assert not notes.blocked
    assert "Confidentiality 3" in notes.text()
    assert "(required for files with My Numbers)" in seen[0].class_label.text()
    assert seen[0].expiry_label.text().startswith("3 day(s)")
    qtbot.waitUntil(lambda: page.stack.currentIndex() == RESULT, timeout=20_000)
    drop = model.session.api.sent()[0]
    manifest = SignedManifest.from_json(model.session.api.drop(drop["drop_id"])).manifest
    assert manifest.classification is Classification.C3
    assert manifest.mynumber_count == 8
