"""Small keyboard helpers shared by the lists."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent

DELETE_KEYS = (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)


class DeleteKey(QObject):
    """An event filter: Delete or Backspace on the watched widget emits ``pressed``
    (and is consumed), so a list's rows can be removed by keyboard."""

    pressed = Signal()

    def __init__(self, watched: QObject) -> None:
        super().__init__(watched)
        watched.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt override
        key = event.key() if isinstance(event, QKeyEvent) else None
        if event.type() == QEvent.Type.KeyPress and key in (
            Qt.Key.Key_Delete,
            Qt.Key.Key_Backspace,
        ):
            self.pressed.emit()
            return True
        return super().eventFilter(watched, event)
