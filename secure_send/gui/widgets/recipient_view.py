"""The picker's lists: a list model of :class:`.recipient_rows.Row` and a delegate that
paints each row's plain-text lines.

No per-row widgets: a ``QListView`` asks the delegate for sizes and paints only the
rows on screen. Lines wrap at the list's width (150 % scaling, narrow windows), so the
id, department and reasons are never cut off. Marked characters (where a look-alike
name differs) are drawn bold, underlined and coloured through ``QTextLayout`` format
ranges over the plain text — directory data is never interpreted as markup.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QTextCharFormat, QTextLayout
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from secure_send.gui.widgets.recipient_rows import Line, Row, Tone

ID_ROLE = Qt.ItemDataRole.UserRole
ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the Row
PAD = 4  # pixels around a row's text
# Colours with at least 4.5:1 contrast on white (WCAG AA); the selection uses the palette.
TONES = {
    Tone.DETAIL: QColor("#404040"),
    Tone.WARN: QColor("#8a4b00"),  # dark amber, as the confirm sheet's notes
    Tone.REFUSE: QColor("#a00000"),
}
MARK = QColor("#a00000")
AnyIndex = QModelIndex | QPersistentModelIndex


class RowsModel(QAbstractListModel):
    """Rows for a list; ``disabled`` ids are shown greyed (already chosen)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[Row] = []
        self.disabled: frozenset[str] = frozenset()

    def set_rows(self, rows: list[Row], disabled: frozenset[str] = frozenset()) -> None:
        """Replace every row."""
        self.beginResetModel()
        self.rows, self.disabled = rows, disabled
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return row.text
        if role == ID_ROLE:
            return row.entry_id
        if role == ROW_ROLE:
            return row
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if self.rows[index.row()].entry_id in self.disabled:
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class RowDelegate(QStyledItemDelegate):
    """Paints a :class:`Row`'s lines, wrapped at the view's width."""

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self.view = view

    def _width(self) -> int:
        return max(self.view.viewport().width() - 2 * PAD, 80)

    def _layouts(
        self, row: Row, font: QFont, width: int, colour: bool = False
    ) -> list[tuple[Line, QTextLayout]]:
        """Each line laid out at ``width``; marks bold and underlined (and coloured when
        ``colour``: not on a selected or disabled row, where the palette's colour reads)."""
        mark = QTextCharFormat()
        mark.setFontWeight(QFont.Weight.Bold)
        mark.setFontUnderline(True)
        if colour:
            mark.setForeground(MARK)
        out = []
        for line in row.lines:
            layout = QTextLayout(line.text, font)
            ranges = []
            for start, length in line.marks:
                fmt = QTextLayout.FormatRange()
                fmt.start, fmt.length = _utf16(line.text, start, length)
                fmt.format = mark
                ranges.append(fmt)
            layout.setFormats(ranges)
            layout.beginLayout()
            y = 0.0
            while (made := layout.createLine()).isValid():
                made.setLineWidth(width)
                made.setPosition(QPointF(0, y))
                y += made.height()
            layout.endLayout()
            out.append((line, layout))
        return out

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        row = index.data(ROW_ROLE)
        if not isinstance(row, Row):
            return super().sizeHint(option, index)
        width = self._width()
        height = sum(
            lay.boundingRect().height() for _, lay in self._layouts(row, option.font, width)
        )
        return QSize(width + 2 * PAD, int(height) + 2 * PAD + 1)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        row = index.data(ROW_ROLE)
        if not isinstance(row, Row):
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""  # background, selection and focus only: the lines are ours
        widget = opt.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        enabled = bool(opt.state & QStyle.StateFlag.State_Enabled)
        group = QPalette.ColorGroup.Normal if enabled else QPalette.ColorGroup.Disabled
        base = opt.palette.color(
            group,
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text,
        )
        painter.save()
        y = float(opt.rect.top() + PAD)
        colour = enabled and not selected
        for line, layout in self._layouts(row, opt.font, opt.rect.width() - 2 * PAD, colour):
            tone = TONES.get(line.tone)
            painter.setPen(tone if colour and tone is not None else base)
            layout.draw(painter, QPointF(opt.rect.left() + PAD, y))
            y += layout.boundingRect().height()
        painter.restore()


def _utf16(text: str, start: int, length: int) -> tuple[int, int]:
    """(start, length) in UTF-16 code units (Qt's), from code-point positions."""
    before = len(text[:start].encode("utf-16-le")) // 2
    return before, len(text[start : start + length].encode("utf-16-le")) // 2


def row_list(parent: QWidget, name: str) -> tuple[QListView, RowsModel]:
    """A list view of rows, wrapped and resized with the window."""
    view = QListView(parent)
    view.setAccessibleName(name)
    model = RowsModel(view)
    view.setModel(model)
    view.setItemDelegate(RowDelegate(view))
    view.setResizeMode(QListView.ResizeMode.Adjust)  # re-wrap when the width changes
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    return view, model
