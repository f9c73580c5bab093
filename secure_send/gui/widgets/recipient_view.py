"""The picker's lists: a standard item model of :class:`.recipient_rows.Row` in a
``QListView`` that Qt paints by itself.

No per-row widgets and no Python in the paint path: Qt's own delegate draws each row's
plain text, wrapped at the list's width (150 % scaling, narrow windows), so the id,
department and reasons are never cut off; a row is coloured by its tone (refused: dark
red, warning: dark amber). Rows are few (the search returns at most ``RESULT_LIMIT``)
and built once per search.

Why nothing is painted in Python: with PySide6 6.12 on CPython 3.11, each call from
Python to a Qt method returning ``void`` or ``bool`` drops one reference to ``None`` /
``True`` / ``False`` (``sys.getrefcount(None)`` falls by one per call); a Python
delegate makes dozens of such calls per row per repaint, and hovering over the list
aborted the interpreter ("none_dealloc") within seconds. Building a row costs a handful.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from secure_send.gui.widgets.recipient_rows import Row, Tone

ID_ROLE = Qt.ItemDataRole.UserRole
# At least 4.5:1 on white (WCAG AA); a selected row uses the palette's highlighted text.
TONES = {
    Tone.WARN: QColor("#8a4b00"),  # dark amber, as the confirm sheet's notes
    Tone.REFUSE: QColor("#a00000"),
}
AnyIndex = QModelIndex | QPersistentModelIndex


class RowsModel(QStandardItemModel):
    """Rows for a list; ``disabled`` ids are shown greyed (already chosen).

    A standard item model rather than a Python ``data()``: Qt asks ``data()`` for a
    dozen roles per row per repaint, and every ``None`` a Python ``data()`` returns
    costs a reference (see the module docstring). :attr:`rows` keeps the rows.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[Row] = []

    def set_rows(self, rows: list[Row], disabled: frozenset[str] = frozenset()) -> None:
        """Replace every row."""
        self.clear()
        self.rows = list(rows)
        items = []
        for row in self.rows:
            item = QStandardItem(row.text)  # every line, as screen readers read it
            item.setData(row.entry_id, ID_ROLE)
            if row.entry_id in disabled:
                item.setFlags(Qt.ItemFlag.NoItemFlags)
            else:
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            if (colour := TONES.get(row.tone)) is not None:
                item.setForeground(QBrush(colour))
            items.append(item)
        if items:
            self.invisibleRootItem().appendRows(items)


def row_list(parent: QWidget, name: str) -> tuple[QListView, RowsModel]:
    """A list view of rows, wrapped and re-laid out with the window's width."""
    view = QListView(parent)
    view.setAccessibleName(name)
    model = RowsModel(view)
    view.setModel(model)
    view.setWordWrap(True)
    view.setResizeMode(QListView.ResizeMode.Adjust)  # re-wrap when the width changes
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSpacing(2)  # rows of several lines need a visible gap between them
    return view, model
