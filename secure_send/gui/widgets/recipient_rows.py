"""What the recipient picker says about one directory entry: lines of plain text.

A row always shows the user id and the department (the one detail that tells two
people with the same name apart), warns when another entry's name looks the same
(naming that entry's id and department in full, with the differing characters marked),
and says why an entry cannot be chosen: departed (退職), or no registered device
(未登録) — for a role mailbox, when none of its other members has one.

Everything here is plain text chosen by the directory, shown as plain text (never rich
text). The differing characters are bracketed: 「髙」橋 一郎 — the marks survive any
font, any size and a screen reader, and need no custom painting (see
:mod:`.recipient_view` on why the picker paints nothing in Python).
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
# Look-alikes named under one row (a very common name could have hundreds; each is
# compared character by character): the rest are counted.
MAX_LOOKALIKES = 5


class Tone(enum.Enum):
    """How a line is coloured."""

    NORMAL = "normal"
    DETAIL = "detail"  # id, department, title
    WARN = "warn"  # a look-alike, a role member without a device
    REFUSE = "refuse"  # why it cannot be chosen


@dataclass(frozen=True)
class Line:
    """One line of a row."""

    text: str
    tone: Tone = Tone.NORMAL


def bracketed(name: str, positions: Sequence[int]) -> str:
    """``name`` with the characters at ``positions`` in 「」: 「髙」橋 一郎."""
    marked = set(positions)
    return "".join(f"「{c}」" if i in marked else c for i, c in enumerate(name))


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
        """Every line, as shown (and read by screen readers)."""
        return "\n".join(line.text for line in self.lines)

    @property
    def tone(self) -> Tone:
        """The row's colour: refused, else a warning, else normal."""
        tones = {line.tone for line in self.lines}
        for tone in (Tone.REFUSE, Tone.WARN):
            if tone in tones:
                return tone
        return Tone.NORMAL


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
    text = f"{prefix}✓ {bracketed(entry.name_ja, marks)}  ({entry.name_en})"
    if label:
        text += f"  {label}"
    return Line(text, Tone.NORMAL)


def detail_line(entry: Entry) -> Line:
    """User id · department · title (· members): always shown."""
    parts = [entry.id, entry.department, entry.title]
    if entry.kind is Kind.ROLE:
        parts.append(fill(translate("RecipientPicker", "%1 members"), str(len(entry.members))))
    return Line(" · ".join(p for p in parts if p), Tone.DETAIL)


def lookalike_line(entry: Entry, other: Entry) -> Line:
    """「⚠ Similar name: 「高」橋 一郎 (takahashi.ich, 財務課)」: the other entry in full."""
    template = translate("RecipientPicker", "⚠ Similar name: %1 (%2, %3)")
    name = bracketed(other.name_ja, differing_positions(other.name_ja, entry.name_ja))
    return Line(fill(template, name, other.id, other.department), Tone.WARN)


def more_line(count: int) -> Line:
    """「⚠ … and 3 more with a similar name」 under the look-alikes shown."""
    template = translate("RecipientPicker", "⚠ … and %1 more with a similar name")
    return Line(fill(template, str(count)), Tone.WARN)


def build_row(
    entry: Entry,
    lookalikes: Sequence[Entry],
    members: Callable[[str], Entry | None],
    me: str,
) -> Row:
    """The row for ``entry``; ``members`` looks up a role's members by id."""
    label, reason, note = refusal(entry, members, me)
    shown = lookalikes[:MAX_LOOKALIKES]
    marks = differing_from_any(entry.name_ja, [e.name_ja for e in shown])
    lines = [_name_line(entry, label, marks, bool(lookalikes)), detail_line(entry)]
    lines += [lookalike_line(entry, other) for other in shown]
    if len(lookalikes) > len(shown):
        lines.append(more_line(len(lookalikes) - len(shown)))
    if reason:
        lines.append(Line(reason, Tone.REFUSE))
    if note:
        lines.append(Line(note, Tone.WARN))
    return Row(entry.id, tuple(lines), reason, tuple(lookalikes))
