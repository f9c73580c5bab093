"""Files the OS opens with the app (macOS: Finder's Open With, the Dock icon, the Quick
Action) arrive as QFileOpenEvent — before the window exists too — and reach the Send page."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication

from secure_send.gui.single_instance import FileOpenEvents


def test_file_open_events_are_kept_until_the_window_exists(
    qapp: QApplication, tmp_path: Path
) -> None:
    events = FileOpenEvents(qapp)
    received: list[list[Path]] = []
    try:
        early = tmp_path / "年末調整.xlsx"
        QCoreApplication.sendEvent(qapp, QFileOpenEvent(str(early)))
        assert received == []
        events.deliver_to(received.append)
        assert received == [[early]]
        late = tmp_path / "b.pdf"
        QCoreApplication.sendEvent(qapp, QFileOpenEvent(str(late)))
        assert received == [[early], [late]]
    finally:
        qapp.removeEventFilter(events)
        events.deleteLater()
