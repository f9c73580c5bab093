"""The files chosen for a send: name, size, a Remove button per row, and the total."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QLocale, Qt, Signal
from PySide6.QtWidgets import (
    QHeaderView,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from secure_send.gui.widgets.buttons import plain_label, plain_tip
from secure_send.gui.widgets.keys import DeleteKey
from secure_send.gui.widgets.tables import row_table


def human_size(size: int) -> str:
    """A size as people read it in their locale (e.g. "1.2 MB")."""
    return QLocale().formattedDataSize(size, 1, QLocale.DataSizeFormat.DataSizeSIFormat)


def path_size(path: Path) -> int:
    """A file's size, or the total of a folder's files (0 if it cannot be read)."""
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        return path.stat().st_size
    except OSError:
        return 0


class FileList(QWidget):
    """Chosen files and folders, without duplicates, in the order they were added."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._paths: list[Path] = []
        self._sizes: list[int] = []
        labels = [self.tr("Name"), self.tr("Size"), ""]
        self.table = row_table(self, labels, self.tr("Files to send"))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        DeleteKey(self.table).pressed.connect(self._on_table_delete_pressed)
        self.total_label = plain_label(self)
        self.total_label.setAccessibleName(self.tr("Total size"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addWidget(self.total_label)
        self._update_total()

    def paths(self) -> list[Path]:
        """The chosen files and folders."""
        return list(self._paths)

    def total_size(self) -> int:
        """Bytes in all chosen files (folders counted by their files)."""
        return sum(self._sizes)

    def add_paths(self, paths: list[Path]) -> None:
        """Add files or folders not already listed."""
        added = False
        for path in paths:
            path = path.resolve()
            if path in self._paths or not path.exists():
                continue
            self._paths.append(path)
            self._sizes.append(path_size(path))
            self._add_row(path, self._sizes[-1])
            added = True
        if added:
            self._update_total()
            self.changed.emit()

    def _add_row(self, path: Path, size: int) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        name = path.name + ("/" if path.is_dir() else "")
        item = QTableWidgetItem(name)
        item.setToolTip(plain_tip(str(path)))
        self.table.setItem(row, 0, item)
        size_item = QTableWidgetItem(human_size(size))
        size_item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.table.setItem(row, 1, size_item)
        button = QPushButton(self.tr("Remove"), self.table)
        button.setAccessibleName(self.tr("Remove %1").replace("%1", name))
        button.setToolTip(self.tr("Remove this item from the send"))
        button.clicked.connect(lambda: self.remove(path))
        self.table.setCellWidget(row, 2, button)

    def remove(self, path: Path) -> None:
        """Take one file or folder off the list."""
        if path not in self._paths:
            return
        row = self._paths.index(path)
        del self._paths[row], self._sizes[row]
        self.table.removeRow(row)
        self._update_total()
        self.changed.emit()

    def clear(self) -> None:
        """Empty the list."""
        self._paths.clear()
        self._sizes.clear()
        self.table.setRowCount(0)
        self._update_total()
        self.changed.emit()

    def _on_table_delete_pressed(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        for row in rows:
            self.remove(self._paths[row])

    def _update_total(self) -> None:
        count = len(self._paths)
        self.total_label.setText(
            self.tr("%n item(s), %1 in total", "", count).replace(
                "%1", human_size(self.total_size())
            )
        )
