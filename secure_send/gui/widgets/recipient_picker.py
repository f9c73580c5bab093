"""Choose recipients from the verified directory, and from nothing else.

There is deliberately no free-text path: a typed or pasted address only searches (and
"no match" says that addresses outside the organisation cannot be used); only a verified
directory entry that can receive — not departed, with a registered device (a role: one of
its other members) — can be added.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from secure_send.core.directory.model import Entry
from secure_send.core.directory.search import SearchIndex
from secure_send.gui.model import AppModel
from secure_send.gui.widgets.buttons import plain_label
from secure_send.gui.widgets.keys import DeleteKey
from secure_send.gui.widgets.recipient_rows import Row, build_row
from secure_send.gui.widgets.recipient_view import ID_ROLE, row_list

__all__ = ["ID_ROLE", "RESULT_LIMIT", "RecipientPicker"]

RESULT_LIMIT = 30
SEARCH_DELAY_MS = 30  # coalesces a burst of keystrokes; the index itself is fast


class _SearchField(QLineEdit):
    """Down moves to the results (Enter is the picker's: see :class:`RecipientPicker`)."""

    down_pressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # Qt override
        if event.key() == Qt.Key.Key_Down:
            self.down_pressed.emit()
            return
        super().keyPressEvent(event)


class RecipientPicker(QWidget):
    """Search field, results with verified badges, and the chosen recipients.

    Every row shows the id and department; look-alikes, departed (退職) and unenrolled
    (未登録) entries say so in the row, and the last two cannot be added (the reason is
    repeated under the list when one is selected or tried). Enter in the search field
    adds the selected result, else the best addable match — unless that one's name has
    a look-alike: then it is selected, not added, for a deliberate second Enter.
    """

    changed = Signal()

    def __init__(self, model: AppModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._chosen: list[str] = []
        self._lookalikes_of: SearchIndex | None = None  # the index the cache is for
        self._lookalike_cache: dict[str, list[Entry]] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.search_now)
        self._build()
        model.directory_changed.connect(self._on_model_directory_changed)

    def _build(self) -> None:
        self.search = _SearchField(self)
        self.search.setPlaceholderText(self.tr("Search by name, reading, department or email"))
        self.search.setAccessibleName(self.tr("Search recipients"))
        self.search.setToolTip(self.tr("Only people in the verified staff directory can be added"))
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _: self._timer.start())
        self.search.returnPressed.connect(self._on_search_return_pressed)
        self.search.down_pressed.connect(self._on_search_down_pressed)
        self.results, self.result_rows = row_list(self, self.tr("Search results"))
        self.results.activated.connect(self._on_results_activated)
        self.results.selectionModel().selectionChanged.connect(self._on_results_selection)
        # "No match" (and why, for an outside address), or why the selected one cannot be added
        self.status_label = plain_label(self)
        self.status_label.setWordWrap(True)
        self.status_label.setAccessibleName(self.tr("Search status"))
        self.status_label.hide()
        self.add_button = QPushButton(self.tr("&Add"), self)
        self.add_button.setAccessibleName(self.tr("Add the selected person"))
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.chosen_list, self.chosen_rows = row_list(self, self.tr("Chosen recipients"))
        DeleteKey(self.chosen_list).pressed.connect(self._on_remove_button_clicked)
        self.chosen_list.selectionModel().selectionChanged.connect(self._update_buttons)
        self.remove_button = QPushButton(self.tr("Remo&ve recipient"), self)
        self.remove_button.setAccessibleName(self.tr("Remove the selected recipient"))
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        label = plain_label(self.tr("&To:"), self)
        label.setBuddy(self.search)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addStretch()
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label)
        layout.addWidget(self.search)
        layout.addWidget(self.results, 2)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)
        layout.addWidget(plain_label(self.tr("Recipients:"), self))
        layout.addWidget(self.chosen_list, 1)
        self._update_buttons()

    def chosen_ids(self) -> list[str]:
        """Ids of the chosen directory entries, in the order they were added."""
        return list(self._chosen)

    def result_ids(self) -> list[str]:
        """Ids of the shown search results, best first."""
        return [row.entry_id for row in self.result_rows.rows]

    def search_pending(self) -> bool:
        """True while typed text has not been searched yet."""
        return self._timer.isActive()

    def clear(self) -> None:
        """Forget the search and the chosen recipients."""
        self.search.clear()
        self.result_rows.set_rows([])
        self._chosen.clear()
        self.chosen_rows.set_rows([])
        self._show_status("")
        self._update_buttons()
        self.changed.emit()

    def row(self, entry: Entry) -> Row:
        """How ``entry`` is shown: id, department, look-alikes, why it cannot be added."""
        return build_row(
            entry, self._lookalikes(entry.id), self.model.entry, self.model.session.me.user
        )

    def _lookalikes(self, entry_id: str) -> list[Entry]:
        """The index's look-alikes of an entry, asked once per directory (each question
        scans the whole directory)."""
        index = self.model.index
        if index is None:
            return []
        if index is not self._lookalikes_of:
            self._lookalikes_of, self._lookalike_cache = index, {}
        if entry_id not in self._lookalike_cache:
            try:
                self._lookalike_cache[entry_id] = index.lookalikes(entry_id)
            except KeyError:  # not in this directory (any more)
                return []
        return self._lookalike_cache[entry_id]

    def search_now(self) -> None:
        """Show the directory entries matching the search text (departed ones too,
        labelled: a clerk looking for a colleague who left should learn why)."""
        self._timer.stop()
        index = self.model.index
        text = self.search.text()
        rows: list[Row] = []
        if index is not None and text.strip():
            matches = index.search(text, limit=RESULT_LIMIT, include_departed=True)
            rows = [self.row(m.entry) for m in matches]
        self.result_rows.set_rows(rows, frozenset(self._chosen))
        self._show_status(self._empty_text(text) if not rows and text.strip() else "")
        self._update_buttons()

    def _empty_text(self, text: str) -> str:
        if self.model.index is None:
            return ""  # the directory is not loaded: the page says so
        if "@" in text:  # an address nobody in the directory has: never offered as free text
            return self.tr("No match — addresses outside the organisation cannot be used")
        return self.tr("No match")

    def _show_status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.setVisible(bool(text))

    def add_entry(self, entry_id: str) -> bool:
        """Add a verified entry that can receive, by id; anything else is refused (False,
        with the reason under the results when there is one)."""
        entry = self.model.entry(entry_id)
        if entry is None or entry_id in self._chosen:
            return False
        row = self.row(entry)
        if not row.addable:
            self._show_status(row.refusal)
            return False
        self._chosen.append(entry_id)
        self.chosen_rows.set_rows([*self.chosen_rows.rows, row])
        self.search_now()
        self.changed.emit()
        return True

    def _selected_row(self) -> Row | None:
        indexes = self.results.selectionModel().selectedIndexes()
        if not indexes or not indexes[0].flags() & Qt.ItemFlag.ItemIsEnabled:
            return None
        return self.result_rows.rows[indexes[0].row()]

    def _selected_result(self) -> str | None:
        row = self._selected_row()
        return row.entry_id if row is not None and row.addable else None

    def _on_search_return_pressed(self) -> None:
        if self._timer.isActive():  # a fast typist: results are stale
            self.search_now()
        entry_id = self._selected_result()
        if entry_id is not None:
            self.add_entry(entry_id)
            return
        rows = self.result_rows.rows
        top = next((r for r in rows if r.addable and r.entry_id not in self._chosen), None)
        if top is None:
            if rows:  # only refused ones: say why the first cannot be added
                self._select(0)
            return
        if top.lookalikes:  # never guess between two people who look the same
            self._select(rows.index(top))
            self.results.setFocus()
            return
        self.add_entry(top.entry_id)

    def _select(self, row: int) -> None:
        self.results.setCurrentIndex(self.result_rows.index(row, 0))

    def _on_search_down_pressed(self) -> None:
        self.search_now()
        if self.result_rows.rowCount():
            self.results.setFocus()
            self._select(0)

    def _on_results_activated(self, index: QModelIndex) -> None:
        if not index.flags() & Qt.ItemFlag.ItemIsEnabled:
            return
        self.add_entry(str(index.data(ID_ROLE)))  # a refused one shows its reason

    def _on_results_selection(self, _new: QItemSelection, _old: QItemSelection) -> None:
        row = self._selected_row()
        if row is not None and row.refusal:
            self._show_status(row.refusal)
        elif self.result_rows.rows:
            self._show_status("")
        self._update_buttons()

    def _on_add_button_clicked(self) -> None:
        entry_id = self._selected_result()
        if entry_id is not None:
            self.add_entry(entry_id)

    def _on_remove_button_clicked(self) -> None:
        selected = {i.row() for i in self.chosen_list.selectionModel().selectedIndexes()}
        if not selected:
            return
        kept = [r for n, r in enumerate(self.chosen_rows.rows) if n not in selected]
        self._chosen = [r.entry_id for r in kept]
        self.chosen_rows.set_rows(kept)
        self.search_now()
        self._update_buttons()
        self.changed.emit()

    def _on_model_directory_changed(self, _state: object) -> None:
        # Someone may have departed or lost their last device: drop them; others are
        # shown again from the new directory (a new look-alike may have joined).
        kept: list[Row] = []
        for entry_id in self._chosen:
            entry = self.model.entry(entry_id)
            row = self.row(entry) if entry is not None else None
            if row is not None and row.addable:
                kept.append(row)
        gone = len(kept) != len(self._chosen)
        self._chosen = [r.entry_id for r in kept]
        self.chosen_rows.set_rows(kept)
        self.search_now()
        if gone:
            self.changed.emit()

    def _update_buttons(self) -> None:
        self.add_button.setEnabled(self._selected_result() is not None)
        self.remove_button.setEnabled(self.chosen_list.selectionModel().hasSelection())
