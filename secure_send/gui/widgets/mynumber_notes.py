"""The confirm sheet's My Number section (issue 19): what the check found, in sentences.

* **Blocked** (red): which file holds how many My Numbers and where, which recipients are
  not designated to handle them, and which role mailboxes are (where to send instead).
* **Allowed** (amber): the files hold My Numbers, so the send goes at 機密性3 and for the
  policy's shorter time.
* **Worth a look** (amber): numbers that only pass the check digit, files that could not be
  checked (a password-protected ZIP, a damaged workbook).

File names, counts, places and names from the directory only: a report holds no number.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from secure_send.client.mynumber import MyNumberCheck
from secure_send.core.directory.model import Entry
from secure_send.core.dlp.scan import Report
from secure_send.gui.text import fill
from secure_send.gui.widgets.buttons import plain_label

STYLE_BLOCKED = """
QFrame#myNumberBlocked { background: #fde7e9; border: 1px solid #a4000f; }
QFrame#myNumberBlocked QLabel { color: #5c0008; }
"""
STYLE_NOTICE = """
QFrame#myNumberNotice { background: #fff4ce; border: 1px solid #c19c00; }
QFrame#myNumberNotice QLabel { color: #3b2f00; }
"""
MAX_FILES = 5  # file lines shown; the rest are counted
MAX_PLACES = 3  # places shown per file ("Sheet1, row 2, column 3")
MAX_SUGGESTIONS = 3  # designated role mailboxes suggested
_PLACE_WORD = re.compile(r"\b(row|column|line|page) (\d+)")
Lookup = Callable[[str], Entry | None]  # AppModel.entry


class MyNumberNotes(QFrame):
    """The section; ``blocked`` tells the dialog to offer no Send button."""

    def __init__(self, check: MyNumberCheck, entry: Lookup, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.check = check
        self.blocked = check.blocked
        self.setObjectName("myNumberBlocked" if self.blocked else "myNumberNotice")
        self.setStyleSheet(STYLE_BLOCKED if self.blocked else STYLE_NOTICE)
        self.lines: list[QLabel] = []
        layout = QVBoxLayout(self)
        if check.contains:
            self._found(check, entry)
        for report in check.warnings[:MAX_FILES]:
            count = report.individual - report.likely
            template = self.tr(
                "%1: %n number(s) have the form of a My Number, but no heading or nearby"
                " word says so. Check that none of them is a My Number.",
                "",
                count,
            )
            self._line(fill(template, report.name))
        for report in check.unreadable[:MAX_FILES]:
            template = self.tr(
                "%1 could not be checked for My Numbers (it is password-protected, damaged"
                " or too large). Check it yourself before sending."
            )
            self._line(fill(template, report.name))
        for label in self.lines:
            layout.addWidget(label)
        self.setVisible(bool(self.lines))

    def _found(self, check: MyNumberCheck, entry: Lookup) -> None:
        if self.blocked:
            self._line(self.tr("This send cannot go: the files contain My Numbers."), bold=True)
        for report in check.holding[:MAX_FILES]:
            self._line("• " + self._file_line(check, report))
        if len(check.holding) > MAX_FILES:
            more = len(check.holding) - MAX_FILES
            self._line("• " + self.tr("and %n more file(s)", "", more))
        if not self.blocked:
            days = check.rules.max_expiry_days
            template = self.tr(
                "Files with My Numbers go at Confidentiality 3 and are available for at most"
                " %n day(s). Every recipient is designated to handle them.",
                "",
                days,
            )
            self._line(template)
            return
        names = ", ".join(_who(entry, i) for i in check.not_designated)
        self._line(
            fill(
                self.tr(
                    "My Numbers may be sent only to recipients designated to handle them"
                    " (個人番号取扱). Not designated: %1."
                ),
                names,
            )
        )
        roles = check.designated_roles
        if roles:
            shown = ", ".join(_who(entry, r) for r in roles[:MAX_SUGGESTIONS])
            template = self.tr(
                "Remove them, or send to a designated role mailbox such as %1. If they must"
                " receive these files, ask IT to designate them."
            )
            self._line(fill(template, shown))
        else:
            self._line(
                self.tr("Remove them. If they must receive these files, ask IT to designate them.")
            )

    def _file_line(self, check: MyNumberCheck, report: Report) -> str:
        if report.unreadable and not report.individual:
            return fill(self.tr("%1: could not be checked"), report.name)
        count = check.found(report)
        places = "; ".join(self._place(p) for p in report.places[:MAX_PLACES])
        if places:
            template = self.tr("%1: %n My Number(s) (%2)", "", count)
            return fill(template, report.name, places)
        return fill(self.tr("%1: %n My Number(s)", "", count), report.name)

    def _place(self, place: str) -> str:
        """A scanner's place ("Sheet1, row 2, column 3", "line 4", "page 2") in the UI's
        language: its words, numbers kept (a sheet or file name stays as it is)."""

        def word(match: re.Match[str]) -> str:
            template = {
                "row": self.tr("row %1"),
                "column": self.tr("column %1"),
                "line": self.tr("line %1"),
                "page": self.tr("page %1"),
            }[match.group(1)]
            return fill(template, match.group(2))

        return _PLACE_WORD.sub(word, place)

    def _line(self, text: str, *, bold: bool = False) -> None:
        label = plain_label(text, self)
        label.setWordWrap(True)
        if bold:
            font = label.font()
            font.setBold(True)
            label.setFont(font)
        self.lines.append(label)

    def text(self) -> str:
        """Every sentence, one per line (for tests and the accessible description)."""
        return "\n".join(label.text() for label in self.lines)


def _who(entry: Lookup, entry_id: str) -> str:
    found = entry(entry_id)
    if found is None:
        return entry_id
    return f"{found.name_ja} ({found.department})"
