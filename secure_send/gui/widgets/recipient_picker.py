"""Choose recipients from the verified directory, and from nothing else.

There is deliberately no free-text path: a typed or pasted address only searches; only a
search result (a verified directory entry that is not departed) can be added.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from secure_send.core.directory.model import Entry, Kind
from secure_send.core.directory.search import Match
from secure_send.gui.model import AppModel
from secure_send.gui.widgets.buttons import plain_label, plain_tip
from secure_send.gui.widgets.keys import DeleteKey

RESULT_LIMIT = 30
SEARCH_DELAY_MS = 30  # coalesces a burst of keystrokes; the index itself is fast
ID_ROLE = Qt.ItemDataRole.UserRole


def describe_entry(entry: Entry, lookalike: bool = False) -> str:
    """Two or three lines: name (Japanese and English), department and title, warnings."""
    name = f"✓ {entry.name_ja}  ({entry.name_en})"
    if entry.kind is Kind.ROLE:
        name = QCoreApplication.translate("RecipientPicker", "[Role mailbox]") + " " + name
    place = " · ".join(p for p in (entry.department, entry.title) if p)
    lines = [name, place]
    if entry.kind is Kind.ROLE:
        lines[1] += " · " + QCoreApplication.translate("RecipientPicker", "%1 members").replace(
            "%1", str(len(entry.members))
        )
    if lookalike:
        warning = QCoreApplication.translate(
            "RecipientPicker", "⚠ Similar name exists: check the department and email"
        )
        lines.append(f"{warning} ({entry.department}, {entry.email})")
    return "\n".join(lines)


class _SearchField(QLineEdit):
    """Down moves to the results; Enter only ever adds a selected result."""

    down_pressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # Qt override
        if event.key() == Qt.Key.Key_Down:
            self.down_pressed.emit()
            return
        super().keyPressEvent(event)


class RecipientPicker(QWidget):
    """Search field, results with verified badges, and the chosen recipients."""

    changed = Signal()

    def __init__(self, model: AppModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._chosen: list[str] = []
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
        self.results = QListWidget(self)
        self.results.setAccessibleName(self.tr("Search results"))
        self.results.setWordWrap(True)
        self.results.itemActivated.connect(self._on_results_item_activated)
        self.results.itemSelectionChanged.connect(self._update_buttons)
        self.add_button = QPushButton(self.tr("&Add"), self)
        self.add_button.setAccessibleName(self.tr("Add the selected person"))
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.chosen_list = QListWidget(self)
        self.chosen_list.setAccessibleName(self.tr("Chosen recipients"))
        self.chosen_list.setWordWrap(True)
        DeleteKey(self.chosen_list).pressed.connect(self._on_remove_button_clicked)
        self.chosen_list.itemSelectionChanged.connect(self._update_buttons)
        self.remove_button = QPushButton(self.tr("&Remove recipient"), self)
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
        layout.addLayout(buttons)
        layout.addWidget(plain_label(self.tr("Recipients:"), self))
        layout.addWidget(self.chosen_list, 1)
        self._update_buttons()

    def chosen_ids(self) -> list[str]:
        """Ids of the chosen directory entries, in the order they were added."""
        return list(self._chosen)

    def search_pending(self) -> bool:
        """True while typed text has not been searched yet."""
        return self._timer.isActive()

    def clear(self) -> None:
        """Forget the search and the chosen recipients."""
        self.search.clear()
        self.results.clear()
        self._chosen.clear()
        self.chosen_list.clear()
        self._update_buttons()
        self.changed.emit()

    def search_now(self) -> None:
        """Show the directory entries matching the search text."""
        self._timer.stop()
        self.results.clear()
        index = self.model.index
        text = self.search.text()
        if index is None or not text.strip():
            self._update_buttons()
            return
        for match in index.search(text, limit=RESULT_LIMIT):
            self._add_result(match)
        self._update_buttons()

    def _add_result(self, match: Match) -> None:
        entry = match.entry
        if not entry.active:  # the index already leaves them out; never offer one
            return
        item = QListWidgetItem(describe_entry(entry, match.lookalike))
        item.setData(ID_ROLE, entry.id)
        item.setToolTip(plain_tip(entry.email))
        if entry.id in self._chosen:
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
        self.results.addItem(item)

    def add_entry(self, entry_id: str) -> bool:
        """Add a verified, active entry by id; anything else is refused (False)."""
        entry = self.model.entry(entry_id)
        if entry is None or not entry.active or entry_id in self._chosen:
            return False
        self._chosen.append(entry_id)
        lookalike = entry_id in (self.model.index.lookalike_ids if self.model.index else ())
        item = QListWidgetItem(describe_entry(entry, lookalike))
        item.setData(ID_ROLE, entry_id)
        self.chosen_list.addItem(item)
        self.search_now()
        self.changed.emit()
        return True

    def _selected_result(self) -> str | None:
        items = self.results.selectedItems()
        if not items or not items[0].flags() & Qt.ItemFlag.ItemIsEnabled:
            return None
        return str(items[0].data(ID_ROLE))

    def _on_search_return_pressed(self) -> None:
        if self._timer.isActive():  # a fast typist: results are stale, nothing is selected
            self.search_now()
        entry_id = self._selected_result()
        if entry_id is not None:
            self.add_entry(entry_id)

    def _on_search_down_pressed(self) -> None:
        self.search_now()
        if self.results.count():
            self.results.setFocus()
            self.results.setCurrentRow(0)

    def _on_results_item_activated(self, item: QListWidgetItem) -> None:
        if item.flags() & Qt.ItemFlag.ItemIsEnabled:
            self.add_entry(str(item.data(ID_ROLE)))

    def _on_add_button_clicked(self) -> None:
        entry_id = self._selected_result()
        if entry_id is not None:
            self.add_entry(entry_id)

    def _on_remove_button_clicked(self) -> None:
        for item in self.chosen_list.selectedItems():
            self._chosen.remove(str(item.data(ID_ROLE)))
            self.chosen_list.takeItem(self.chosen_list.row(item))
        self.search_now()
        self._update_buttons()
        self.changed.emit()

    def _on_model_directory_changed(self, _state: object) -> None:
        # Someone may have departed: drop chosen entries that are no longer active.
        gone = [i for i in self._chosen if (e := self.model.entry(i)) is None or not e.active]
        for entry_id in gone:
            row = self._chosen.index(entry_id)
            self._chosen.remove(entry_id)
            self.chosen_list.takeItem(row)
        self.search_now()
        if gone:
            self.changed.emit()

    def _update_buttons(self) -> None:
        self.add_button.setEnabled(self._selected_result() is not None)
        self.remove_button.setEnabled(bool(self.chosen_list.selectedItems()))
