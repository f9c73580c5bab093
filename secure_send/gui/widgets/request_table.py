"""The desk's table of a file request's addressees: an item model Qt sorts and filters.

5,000 addressees must stay responsive, so no Python runs per row while painting,
sorting or filtering: the rows are a ``QStandardItemModel`` built once per status (the
text, a sort key per column and one search key per row are stored in the items), and
two ``QSortFilterProxyModel``s in C++ do the rest — one keeps the chosen state
(``STATE_ROLE``: ``pending``, ``submitted``, ``submitted late``), the other the rows
whose search key (name, kana, romaji reading, id, department, folded by
``core/directory/textnorm.search_key``: カタカナ = ひらがな, 髙 = 高) contains the
folded query. Names and departments come from the verified directory; they are
item text, which Qt never renders as markup.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QRegularExpression,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QStandardItem, QStandardItemModel

from secure_send.client.request_status import AddresseeStatus, RequestStatus
from secure_send.core.directory.textnorm import kana_to_romaji, search_key
from secure_send.core.display import shown
from secure_send.core.encoding import parse_time
from secure_send.gui.dates import short_date

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
STATE_ROLE = Qt.ItemDataRole.UserRole + 2
KEY_ROLE = Qt.ItemDataRole.UserRole + 3
ID_ROLE = Qt.ItemDataRole.UserRole + 4
NAME, KANA, USER, DEPARTMENT, STATE, SUBMITTED = range(6)
HEADERS = (  # marked for the catalogue, translated when the header is made
    QT_TRANSLATE_NOOP("RequestTable", "Name"),
    QT_TRANSLATE_NOOP("RequestTable", "Reading"),
    QT_TRANSLATE_NOOP("RequestTable", "ID"),
    QT_TRANSLATE_NOOP("RequestTable", "Department"),
    QT_TRANSLATE_NOOP("RequestTable", "State"),
    QT_TRANSLATE_NOOP("RequestTable", "Submitted at"),
)

# the state filter's choices: (combo box text, pattern over STATE_ROLE)
ALL, PENDING, SUBMITTED_STATE, LATE = "", "^pending$", "^submitted", "late$"


def _t(text: str) -> str:
    return QCoreApplication.translate("RequestTable", text)


def state_of(person: AddresseeStatus) -> str:
    """``pending``, ``submitted`` or ``submitted late`` (late is also submitted)."""
    if not person.submitted:
        return "pending"
    return "submitted late" if person.late else "submitted"


def state_text(person: AddresseeStatus) -> str:
    """The state as the desk reads it."""
    if not person.submitted:
        return QCoreApplication.translate("RequestTable", "Not submitted")
    return (
        QCoreApplication.translate("RequestTable", "Late")
        if person.late
        else QCoreApplication.translate("RequestTable", "Submitted")
    )


def submitted_text(person: AddresseeStatus) -> str:
    """The newest submission's day and time; a re-submission says so, with the count."""
    when = person.submitted_at
    if when is None:
        return ""
    text = f"{short_date(when)} {parse_time(when).astimezone():%H:%M}"
    count = len(person.submissions)
    if count > 1:
        text += " " + QCoreApplication.translate("RequestTable", "(resubmitted, %1 times)").replace(
            "%1", str(count)
        )
    return text


def _key(person: AddresseeStatus) -> str:
    parts = (person.name_ja, person.name_en, person.kana, person.user, person.department)
    folded = [search_key(p) for p in parts]
    folded.append(kana_to_romaji(search_key(person.kana)).replace(" ", ""))
    return "\x1f".join(folded)  # a separator no query contains: no match across fields


class RequestTable:
    """The item model and the two proxies; ``view_model`` goes into a ``QTableView``."""

    def __init__(self) -> None:
        self.rows = QStandardItemModel(0, len(HEADERS))
        self.rows.setHorizontalHeaderLabels([_t(str(h)) for h in HEADERS])
        self.by_state = QSortFilterProxyModel()
        self.by_state.setSourceModel(self.rows)
        self.by_state.setFilterKeyColumn(STATE)
        self.by_state.setFilterRole(STATE_ROLE)
        self.view_model = QSortFilterProxyModel()
        self.view_model.setSourceModel(self.by_state)
        self.view_model.setFilterKeyColumn(NAME)
        self.view_model.setFilterRole(KEY_ROLE)
        self.view_model.setSortRole(SORT_ROLE)
        self.view_model.setDynamicSortFilter(False)  # sort when asked, not on each change

    def fill(self, status: RequestStatus) -> None:
        """One row per active addressee (the proxies keep their filter and sort)."""
        self.rows.setRowCount(0)
        for person in status.people:
            cells = [
                (shown(person.name_ja), person.kana),
                (shown(person.kana), person.kana),
                (person.user, person.user),
                (shown(person.department), person.department),
                (
                    state_text(person),
                    str(
                        ("pending", "submitted", "late").index(
                            "late"
                            if person.late
                            else "submitted"
                            if person.submitted
                            else "pending"
                        )
                    ),
                ),
                (submitted_text(person), person.submitted_at or ""),
            ]
            items = []
            for text, sort_key in cells:
                item = QStandardItem(text)
                item.setEditable(False)
                item.setData(sort_key, SORT_ROLE)
                items.append(item)
            items[NAME].setData(_key(person), KEY_ROLE)
            items[NAME].setData(person.user, ID_ROLE)
            items[STATE].setData(state_of(person), STATE_ROLE)
            self.rows.appendRow(items)
        self.view_model.invalidate()

    def search(self, text: str) -> None:
        """Keep the rows whose name, reading, id or department contains ``text``."""
        self.view_model.setFilterFixedString(search_key(text))

    def show_state(self, pattern: str) -> None:
        """Keep one state (:data:`PENDING`, :data:`SUBMITTED_STATE`, :data:`LATE`) or all."""
        self.by_state.setFilterRegularExpression(QRegularExpression(pattern))

    def shown_ids(self) -> list[str]:
        """The ids of the rows shown, top to bottom."""
        model = self.view_model
        return [str(model.index(r, NAME).data(ID_ROLE)) for r in range(model.rowCount())]
