"""What the recipient picker says about one directory entry: lines of plain text.

A row always shows the user id and the department (the one detail that tells two
people with the same name apart), warns when another entry's name looks the same
(naming that entry's id and department in full, with the differing characters marked),
and says why an entry cannot be chosen: departed (退職), or no registered device
(未登録) — for a role mailbox, when none of its other members has one.

Everything here is plain text chosen by the directory; :mod:`.recipient_view` paints it
with QTextLayout formats (bold, colour), never as rich text.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication

from secure_send.core.directory.lookalike import differing_from_any, differing_positions
from secure_send.core.directory.model import Entry, Kind
from secure_send.gui.text import fill

translate = QCoreApplication.translate  # lupdate reads translate("Context", "literal")


class Tone(enum.Enum):
    """How a line is coloured."""

    NORMAL = "normal"
    DETAIL = "detail"  # id, department, title
    WARN = "warn"  # a look-alike, a role member without a device
    REFUSE = "refuse"  # why it cannot be chosen


@dataclass(frozen=True)
class Line:
    """One line of a row; ``marks`` are (start, length) ranges of ``text`` drawn bold."""

    text: str
    tone: Tone = Tone.NORMAL
    marks: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Row:
    """An entry as the picker shows it.

    Attributes:
        entry_id: The directory id.
        lines: What is painted, top to bottom.
        refusal: Why it cannot be added ("" if it can).
        lookalikes: Other directory entries whose name reads or looks the same.
    """

    entry_id: str
    lines: tuple[Line, ...]
    refusal: str = ""
    lookalikes: tuple[Entry, ...] = ()

    @property
    def addable(self) -> bool:
        """Can be added as a recipient."""
        return not self.refusal

    @property
    def text(self) -> str:
        """Every line, for screen readers and tests."""
        return "\n".join(line.text for line in self.lines)


def refusal(entry: Entry, members: Callable[[str], Entry | None], me: str) -> tuple[str, str, str]:
    """(label, reason it cannot be chosen, note) for ``entry``; "" where none applies.

    The label is 【退職】 or 【未登録】. A role mailbox is refused when none of its members other
    than ``me`` is active with a device (nobody could open the files; the sender's own
    devices get a copy anyway), and noted when only some are.
    """
    if not entry.active:
        return (
            translate("RecipientPicker", "[Departed]"),
            translate("RecipientPicker", "Has left the organisation, so it cannot be sent to."),
            "",
        )
    if entry.kind is Kind.PERSON:
        if entry.active_devices():
            return "", "", ""
        reason = translate(
            "RecipientPicker",
            "No registered device, so it cannot be sent to. Ask them to register one.",
        )
        return translate("RecipientPicker", "[Not enrolled]"), reason, ""
    others = [m for m in entry.members if m != me]
    people = [members(m) for m in others]
    lacking = sum(1 for p in people if p is None or not p.active or not p.active_devices())
    if lacking == len(others):
        reason = translate(
            "RecipientPicker",
            "None of the members of this role mailbox (besides you) has a registered device, "
            "so it cannot be sent to.",
        )
        return translate("RecipientPicker", "[Not enrolled]"), reason, ""
    if lacking:
        note = translate(
            "RecipientPicker",
            "%1 of %2 members have no registered device and will not receive the files.",
        )
        return "", "", fill(note, str(lacking), str(len(others)))
    return "", "", ""


def _name_line(entry: Entry, label: str, marks: Sequence[int], warn: bool) -> Line:
    prefix = "⚠ " if warn else ""
    if entry.kind is Kind.ROLE:
        prefix += translate("RecipientPicker", "[Role mailbox]") + " "
    prefix += "✓ "
    text = f"{prefix}{entry.name_ja}  ({entry.name_en})"
    if label:
        text += f"  {label}"
    return Line(text, Tone.NORMAL, tuple((len(prefix) + i, 1) for i in marks))


def detail_line(entry: Entry) -> Line:
    """User id · department · title (· members): always shown."""
    parts = [entry.id, entry.department, entry.title]
    if entry.kind is Kind.ROLE:
        parts.append(fill(translate("RecipientPicker", "%1 members"), str(len(entry.members))))
    return Line(" · ".join(p for p in parts if p), Tone.DETAIL)


def lookalike_line(entry: Entry, other: Entry) -> Line:
    """「⚠ Similar name: 高橋 一郎 (takahashi.ich, 財務課)」, its differing characters marked."""
    template = translate("RecipientPicker", "⚠ Similar name: %1 (%2, %3)")
    values = (other.name_ja, other.id, other.department)
    text = fill(template, *values)
    at = template.find("%1")  # where the name lands (whatever a translation puts first)
    start = len(fill(template[:at], *values))
    marks = differing_positions(other.name_ja, entry.name_ja) if at >= 0 else []
    return Line(text, Tone.WARN, tuple((start + i, 1) for i in marks))


def build_row(
    entry: Entry,
    lookalikes: Sequence[Entry],
    members: Callable[[str], Entry | None],
    me: str,
) -> Row:
    """The row for ``entry``; ``members`` looks up a role's members by id."""
    label, reason, note = refusal(entry, members, me)
    marks = differing_from_any(entry.name_ja, [e.name_ja for e in lookalikes])
    lines = [_name_line(entry, label, marks, bool(lookalikes)), detail_line(entry)]
    lines += [lookalike_line(entry, other) for other in lookalikes]
    if reason:
        lines.append(Line(reason, Tone.REFUSE))
    if note:
        lines.append(Line(note, Tone.WARN))
    return Row(entry.id, tuple(lines), reason, tuple(lookalikes))
