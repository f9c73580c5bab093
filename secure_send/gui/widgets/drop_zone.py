"""The Send page's drop zone: files and folders dragged from a file manager, or chosen."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent, QMouseEvent, QPalette
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from secure_send.gui.widgets.buttons import plain_label


def local_paths(event: QDragEnterEvent | QDropEvent) -> list[Path]:
    """The local files and folders a drag carries (remote URLs are ignored)."""
    mime = event.mimeData()
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class DropZone(QFrame):
    """A large target that accepts files and folders; click it to choose files."""

    paths_dropped = Signal(list)  # list[Path]: dropped or chosen

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFrameShadow(QFrame.Shadow.Sunken)
        self.setMinimumHeight(140)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAccessibleName(self.tr("Drop zone for files and folders"))
        self.setToolTip(self.tr("Drag files or folders here, or click to choose files"))
        self.highlighted = False
        self.hint = plain_label(self.tr("Drag files or folders here"), self)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.files_button = QPushButton(self.tr("A&dd files…"), self)
        self.files_button.setAccessibleName(self.tr("Add files"))
        self.files_button.clicked.connect(self.choose_files)
        self.folder_button = QPushButton(self.tr("Add f&older…"), self)
        self.folder_button.setAccessibleName(self.tr("Add folder"))
        self.folder_button.clicked.connect(self.choose_folder)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(self.files_button)
        buttons.addWidget(self.folder_button)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.addStretch()
        layout.addWidget(self.hint)
        layout.addLayout(buttons)
        layout.addStretch()

    def choose_files(self) -> None:
        """Ask for files with the platform's file chooser."""
        names, _ = QFileDialog.getOpenFileNames(self, self.tr("Choose files to send"))
        if names:
            self.paths_dropped.emit([Path(n) for n in names])

    def choose_folder(self) -> None:
        """Ask for one folder (sent with everything in it)."""
        name = QFileDialog.getExistingDirectory(self, self.tr("Choose a folder to send"))
        if name:
            self.paths_dropped.emit([Path(name)])

    def _set_highlighted(self, on: bool) -> None:
        # The palette's highlight role, not a fixed colour, so dark mode works.
        self.highlighted = on
        self.setBackgroundRole(QPalette.ColorRole.Highlight if on else QPalette.ColorRole.Base)
        self.setAutoFillBackground(on)
        self.hint.setForegroundRole(
            QPalette.ColorRole.HighlightedText if on else QPalette.ColorRole.WindowText
        )

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # Qt override
        if event.button() == Qt.MouseButton.LeftButton:
            self.choose_files()
        super().mouseReleaseEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # Qt override
        if local_paths(event):
            event.acceptProposedAction()
            self._set_highlighted(True)
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:  # Qt override
        self._set_highlighted(False)
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:  # Qt override
        self._set_highlighted(False)
        paths = local_paths(event)
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.paths_dropped.emit(paths)
