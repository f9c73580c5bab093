"""The Send page against the real drop server: drop, choose, confirm, send, cancel."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from secure_send.client.directory_sync import DirectoryUnverified
from secure_send.core.error_codes import ErrorCode
from secure_send.gui.dialogs.confirm_send import ConfirmSendDialog
from secure_send.gui.model import AppModel
from secure_send.gui.views.send_page import COMPOSE, PROGRESS, RESULT, SendPage
from tests.client.conftest import Enrol, Person
from tests.directory_kit import HANAKO, ROLE, TARO
from tests.gui.conftest import SessionOf


def _page(qtbot: QtBot, model: AppModel) -> SendPage:
    page = SendPage(model)
    qtbot.addWidget(page)
    return page


def _mime(paths: list[Path]) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def _files(folder: Path) -> list[Path]:
    """Two files and a folder holding one more."""
    folder.mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"alpha\n" * 1000)
    (folder / "b.bin").write_bytes(bytes(range(256)) * 4000)
    (folder / "docs").mkdir()
    (folder / "docs" / "c.txt").write_text("予算案\n", encoding="utf-8")
    return [folder / "a.txt", folder / "b.bin", folder / "docs"]


def _choose(page: SendPage, *ids: str) -> None:
    for entry_id in ids:
        assert page.picker.add_entry(entry_id)


def _accept_confirm_later(seen: list[ConfirmSendDialog]) -> None:
    """Press Send in the confirm dialog once it is shown modally."""

    def press() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, ConfirmSendDialog)
        seen.append(dialog)
        dialog.send_button.click()

    QTimer.singleShot(0, press)


def _taro(qtbot: QtBot, enrol: Enrol, model: AppModel) -> Person:
    """Enrol Taro and let Hanako's model see his device."""
    taro = enrol(TARO, "desktop")
    with qtbot.waitSignal(model.directory_changed, timeout=10_000):
        model.refresh_directory()
    return taro


def test_drop_files_and_a_folder(qtbot: QtBot, model: AppModel, tmp_path: Path) -> None:
    page = _page(qtbot, model)
    paths = _files(tmp_path / "out")
    mime = _mime(paths)
    actions = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(
        QPoint(5, 5), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(page.drop_zone, enter)
    assert enter.isAccepted()
    assert page.drop_zone.highlighted
    drop = QDropEvent(
        QPointF(5, 5), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    with qtbot.waitSignal(page.drop_zone.paths_dropped):
        QApplication.sendEvent(page.drop_zone, drop)
    assert drop.isAccepted()
    assert not page.drop_zone.highlighted
    assert page.file_list.paths() == [p.resolve() for p in paths]
    assert page.file_list.total_size() == 6000 + 256 * 4000 + len("予算案\n".encode())
    assert page.file_list.table.item(2, 0).text() == "docs/"
    # dropping the same again adds nothing; Remove takes one off
    QApplication.sendEvent(page.drop_zone, QDropEvent(drop))
    assert len(page.file_list.paths()) == 3
    page.file_list.table.cellWidget(0, 1 + 1).click()
    assert [p.name for p in page.file_list.paths()] == ["b.bin", "docs"]


def test_drag_without_files_is_refused(qtbot: QtBot, model: AppModel) -> None:
    page = _page(qtbot, model)
    mime = QMimeData()
    mime.setText("not a file")
    enter = QDragEnterEvent(
        QPoint(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(page.drop_zone, enter)
    assert not enter.isAccepted()


def test_send_blocked_while_directory_unverified(
    qtbot: QtBot, enrol: Enrol, model: AppModel, tmp_path: Path
) -> None:
    _taro(qtbot, enrol, model)  # only someone with a device can be chosen
    page = _page(qtbot, model)
    page.show()
    page.add_paths(_files(tmp_path / "out"))
    _choose(page, TARO)
    assert page.send_button.isEnabled()
    model._on_directory_failed(DirectoryUnverified(ErrorCode.DIRECTORY_UNVERIFIED, "x"))
    assert not page.send_button.isEnabled()
    # the reason is said once, by the window's banner (tests/gui/test_directory_state.py)
    assert not hasattr(page, "banner")
    with qtbot.waitSignal(model.directory_changed, timeout=10_000):
        model.refresh_directory()
    assert page.send_button.isEnabled()


def test_confirm_dialog_lists_recipients_departments_and_total(
    qtbot: QtBot, enrol: Enrol, model: AppModel, tmp_path: Path
) -> None:
    _taro(qtbot, enrol, model)  # only someone with a device can be chosen
    page = _page(qtbot, model)
    page.add_paths(_files(tmp_path / "out"))
    _choose(page, TARO, ROLE)
    dialog = ConfirmSendDialog(model, page.request(), page)
    qtbot.addWidget(dialog)
    lines = [dialog.recipients.item(i).text() for i in range(dialog.recipients.count())]
    recipients = [line for line in lines if line.startswith("✓")]  # not the notes under them
    assert "鈴木 太郎" in recipients[0]
    assert "人事課" in recipients[0]
    assert "会計課" in recipients[1]
    assert "role mailbox, 2 member(s)" in recipients[1]
    files = [dialog.files.item(i).text() for i in range(dialog.files.count())]
    assert [f.split()[0] for f in files] == ["a.txt", "b.bin", "docs/c.txt"]
    assert dialog.total_label.text() == "1.0 MB"  # 6000 + 1024000 + 10 bytes
    assert dialog.expiry_label.text() == "7 day(s)"
    assert dialog.cancel_button.isDefault()
    assert not dialog.send_button.isDefault()


def _send(qtbot: QtBot, page: SendPage) -> list[ConfirmSendDialog]:
    seen: list[ConfirmSendDialog] = []
    _accept_confirm_later(seen)
    QTest.mouseClick(page.send_button, Qt.MouseButton.LeftButton)
    assert len(seen) == 1
    return seen


def test_full_send_reaches_taro(
    qtbot: QtBot, model: AppModel, enrol: Enrol, tmp_path: Path
) -> None:
    taro = _taro(qtbot, enrol, model)
    page = _page(qtbot, model)
    page.show()
    page.add_paths(_files(tmp_path / "out"))
    _choose(page, TARO)
    page.message.setPlainText("年末調整")
    with qtbot.waitSignal(page.sent, timeout=30_000) as sent:
        _send(qtbot, page)
        assert page.stack.currentIndex() == PROGRESS
        assert set(page.bars) == {"prepare", "m", "f1", "f2", "f3"}
        assert page.bars["f3"].accessibleName() == "docs/c.txt"
    drop_id = sent.args[0]
    assert page.stack.currentIndex() == RESULT
    assert all(bar.value() == 100 for bar in page.bars.values())
    assert "鈴木 太郎" in page.result_label.text()
    assert "3 file(s)" in page.result_label.text()
    assert drop_id in page.detail_label.text()
    got = taro.ok("receive", drop_id, "-o", str(tmp_path / "in"))
    assert got["sender"] == HANAKO
    assert got["message"] == "年末調整"
    for name in ("a.txt", "b.bin"):
        assert (tmp_path / "in" / name).read_bytes() == (tmp_path / "out" / name).read_bytes()
    assert (tmp_path / "in" / "docs" / "c.txt").read_text(encoding="utf-8") == "予算案\n"
    QTest.mouseClick(page.more_button, Qt.MouseButton.LeftButton)
    assert page.stack.currentIndex() == COMPOSE
    assert page.file_list.paths() == []
    assert page.picker.chosen_ids() == []


def test_cancel_during_a_large_send(
    qtbot: QtBot, model: AppModel, enrol: Enrol, tmp_path: Path
) -> None:
    taro = _taro(qtbot, enrol, model)
    page = _page(qtbot, model)
    page.show()
    big = tmp_path / "big.bin"
    with big.open("wb") as out:
        out.truncate(60 * 1024 * 1024)
    page.add_paths([big])
    _choose(page, TARO)
    _send(qtbot, page)
    assert page.task is not None

    def cancel_midway(label: str, done: int, total: int) -> None:
        if label == "f1" and done < total and page.cancel_button.isEnabled():
            QTest.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)

    page.task.progressed.connect(cancel_midway)
    with qtbot.waitSignal(page.task.ended, timeout=60_000):
        pass
    assert page.stack.currentIndex() == RESULT
    # stopped, not gone: only 再開 or 破棄 (tests/gui/test_one_send.py), never the form
    assert "stopped" in page.result_label.text()
    assert page.resume_button.isVisible()
    assert not page.back_button.isVisible()
    assert taro.ok("inbox")["drops"] == []


def test_accessible_names(qtbot: QtBot, model: AppModel) -> None:
    page = _page(qtbot, model)
    controls = [
        page.drop_zone,
        page.drop_zone.files_button,
        page.drop_zone.folder_button,
        page.file_list.table,
        page.picker.search,
        page.picker.results,
        page.picker.chosen_list,
        page.expiry,
        page.classification,
        page.message,
        page.send_button,
        page.copy_button,
        page.cancel_button,
        page.more_button,
        page.resume_button,
        page.discard_button,
    ]
    assert all(c.accessibleName() for c in controls)
    assert page.expiry.value() == 7
    assert page.expiry.maximum() == 30
    assert page.classification.count() == 3


def test_a_page_built_before_the_policy_offers_a_real_expiry(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf
) -> None:
    """The app builds its window before the first directory load: the expiry must not
    sit at 0 days (the server refuses a drop that expires as it is made), and the
    server's policy, capped by IT's, applies once it arrives."""
    model = AppModel(session_of(enrol(HANAKO, "laptop")), max_expiry_days=3)
    page = _page(qtbot, model)
    assert model.policy is None
    assert page.expiry.minimum() == 1
    assert page.expiry.value() == 7
    with qtbot.waitSignal(model.directory_changed, timeout=10_000):
        model.refresh_directory()
    assert page.expiry.maximum() == 3
    assert page.expiry.value() == 3
    model.stop()
