"""Search and filters above the Inbox list.

The search matches the sender's name (kanji, kana, romaji) and user id, and —
once a drop's details are known (decrypted in memory, see
``client/drop_details.py``) — its file names and message. Filters: sender, date
(today / last 7 days / all), unsaved only, dangerous only. Every word typed must
match somewhere (spaces and case do not matter).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLineEdit, QWidget

from secure_send.client import listing
from secure_send.client.drop_details import DropDetails
from secure_send.gui.dates import local_date
from secure_send.gui.model import AppModel

ALL, TODAY, WEEK = "all", "today", "week"


class InboxFilter(QWidget):
    """See the module docstring; ``changed`` fires on every edit."""

    changed = Signal()

    def __init__(self, model: AppModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.search = QLineEdit(self)
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText(self.tr("Search sender, file name or message"))
        self.search.setAccessibleName(self.tr("Search received drops"))
        self.sender_box = QComboBox(self)
        self.sender_box.setAccessibleName(self.tr("Filter by sender"))
        self.sender_box.addItem(self.tr("All senders"), "")
        self.period = QComboBox(self)
        self.period.setAccessibleName(self.tr("Filter by date"))
        self.period.addItem(self.tr("All dates"), ALL)
        self.period.addItem(self.tr("Today"), TODAY)
        self.period.addItem(self.tr("Last 7 days"), WEEK)
        self.unsaved = QCheckBox(self.tr("Unsaved only"), self)
        self.dangerous = QCheckBox(self.tr("Dangerous only"), self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search, 2)
        for widget in (self.sender_box, self.period, self.unsaved, self.dangerous):
            layout.addWidget(widget)
        self.search.textChanged.connect(self.changed)
        self.sender_box.currentIndexChanged.connect(self.changed)
        self.period.currentIndexChanged.connect(self.changed)
        self.unsaved.toggled.connect(self.changed)
        self.dangerous.toggled.connect(self.changed)

    def active(self) -> bool:
        """Whether anything narrows the list."""
        return bool(
            self.search.text().strip()
            or self.sender_box.currentData()
            or self.period.currentData() != ALL
            or self.unsaved.isChecked()
            or self.dangerous.isChecked()
        )

    def set_senders(self, items: Sequence[listing.InboxItem]) -> None:
        """Offer each verified sender once (the chosen one stays chosen)."""
        chosen = self.sender_box.currentData()
        senders = {i.sender: i.sender_name_ja for i in items if i.verified and i.sender}
        self.sender_box.blockSignals(True)  # the list is the same filter: no change to report
        while self.sender_box.count() > 1:
            self.sender_box.removeItem(1)
        for user, name in sorted(senders.items(), key=lambda s: (s[1], s[0])):
            self.sender_box.addItem(f"{name} ({user})", user)
        self.sender_box.setCurrentIndex(max(self.sender_box.findData(chosen), 0))
        self.sender_box.blockSignals(False)
        if self.sender_box.currentData() != chosen:  # the chosen sender is gone
            self.changed.emit()

    def accepts(
        self,
        item: listing.InboxItem,
        details: DropDetails | None,
        saved: bool,
        today: dt.date | None = None,
    ) -> bool:
        """Whether ``item`` passes every filter and the search."""
        if self.sender_box.currentData() and item.sender != self.sender_box.currentData():
            return False
        if self.unsaved.isChecked() and saved:
            return False
        if self.dangerous.isChecked() and item.verified:
            return False
        if not self._in_period(item, today or dt.date.today()):
            return False
        words = self.search.text().casefold().split()
        if not words:
            return True
        text = self._searchable(item, details)
        return all(w in text for w in words)

    def _in_period(self, item: listing.InboxItem, today: dt.date) -> bool:
        period = self.period.currentData()
        day = local_date(item.created)
        if period == ALL or day is None:  # a dangerous drop has no trusted date: kept
            return True
        return day == today if period == TODAY else day > today - dt.timedelta(days=7)

    def _searchable(self, item: listing.InboxItem, details: DropDetails | None) -> str:
        entry = self.model.entry(item.sender) if item.sender else None
        parts = [item.sender, item.sender_name_ja, item.sender_name_en]
        if entry is not None:
            parts.append(entry.name_kana)
        if details is not None:
            parts += [f.name for f in details.files]
            parts.append(details.message)
        text = "\n".join(parts).casefold()
        return text + "\n" + "".join(text.split())  # 「サトウハナコ」 finds 「サトウ ハナコ」
