"""The app's lists of rows: read-only tables people select rows in."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QAbstractItemView, QTableWidget, QWidget


def row_table(
    parent: QWidget, labels: Sequence[str], name: str, *, single: bool = False
) -> QTableWidget:
    """A table of ``labels`` columns whose rows are selected whole and never edited, with
    no row numbers (a screen reader hears ``name``); ``single``: one row at a time."""
    table = QTableWidget(0, len(labels), parent)
    table.setHorizontalHeaderLabels(list(labels))
    table.setAccessibleName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    if single:
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    return table
