"""The fast pass over a piece of CSV that :class:`.table.Table` reads the fast way.

CPython's ``re`` tries a character class at every position (about 7 ns a character);
a pattern that starts with a *literal* is searched for much faster. So the numbers are
looked for in a mask of the UTF-8 bytes where every digit is ``0``: without separators
(no ``0 0000`` / ``0-0000`` in the mask) a candidate of :data:`.numbers.CANDIDATE` is
exactly a run of 12 or 13 digits, found by a pattern that starts with twelve ``0``. With
separators the piece is searched with CANDIDATE itself. Digit bytes are ASCII and never
part of a multi-byte UTF-8 character, so positions in the mask are positions in the bytes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from secure_send.core.dlp.numbers import CANDIDATE, INDIVIDUAL_WEIGHTS, kind_of

_MASK = bytes(
    0x30 if 0x30 <= b <= 0x39 else b if b in b" -" else 0x78  # digit, separator, other
    for b in range(256)
)
# twelve digits not preceded by a digit (the look-behind sees the one before the run),
# a thirteenth if there is one, and no digit after
_RUN = re.compile(rb"000000000000(?<!0000000000000)0?(?!0)")
_STRUCTURE = bytes(range(256)).translate(None, b",\n")  # all but commas and newlines

# The check digit of every run at once: for digit k, a table turns each ASCII digit d
# into w·d mod 11 (at most 10); eleven of them summed lane by lane in one big integer
# stay under 256, so no lane carries into the next, and a last table turns each sum
# into the check digit it asks for. A valid run is a lane where that equals digit 12.
_WEIGHTED = [
    bytes((w * (b - 48)) % 11 if 48 <= b <= 57 else 0 for b in range(256))
    for w in INDIVIDUAL_WEIGHTS
]
_EXPECTED = bytes(48 + (0 if (b % 11) <= 1 else 11 - b % 11) for b in range(256))
_ZERO = re.compile(b"\x00")


def _valid_lanes(digits: bytes, count: int) -> list[int]:
    """Which of ``count`` runs of 12 ASCII digits (concatenated) pass the check digit."""
    total = 0
    for k, table in enumerate(_WEIGHTED):
        total += int.from_bytes(digits[k::12].translate(table), "little")
    expected = total.to_bytes(count, "little").translate(_EXPECTED)
    differ = int.from_bytes(expected, "little") ^ int.from_bytes(digits[11::12], "little")
    return [m.start() for m in _ZERO.finditer(differ.to_bytes(count, "little"))]


def hits(text: str, data: bytes) -> tuple[str | bytes, list[tuple[int, str]]]:
    """The valid numbers of a piece: where they start (in ``data``, or in ``text`` when
    separators made the piece go through CANDIDATE) and their kind, in order."""
    mask = data.translate(_MASK)
    if b"0 0000" in mask or b"0-0000" in mask:
        found = [(m.start(), kind_of(m.group())) for m in CANDIDATE.finditer(text)]
        return text, [(at, kind) for at, kind in found if kind is not None]
    starts = list(map(re.Match.start, _RUN.finditer(mask)))  # start only: ends cost
    if not starts:
        return data, []
    twelve = map(slice, starts, map((12).__add__, starts))
    lanes = _valid_lanes(b"".join(map(data.__getitem__, twelve)), len(starts))
    if b"0" * 13 not in mask:  # no run of 13 digits: no corporate number, lanes are all
        return data, [(starts[i], "individual") for i in lanes]
    valid = {starts[i]: "individual" for i in lanes}
    for match in _RUN.finditer(mask):  # again, with the ends: rare
        start, end = match.span()
        if end - start == 13:  # the lanes saw only its first 12 digits
            valid.pop(start, None)
            kind = kind_of(data[start:end].decode())
            if kind is not None:
                valid[start] = kind
    return data, sorted(valid.items())


def places(unit: str | bytes, positions: list[int]) -> Iterator[tuple[int, int]]:
    """(row, column) from 0 of each position, in order: newlines before it, and commas
    between its line's start and it (the piece has no quotes)."""
    newline, comma = ("\n", ",") if isinstance(unit, str) else (b"\n", b",")
    row, at = 0, 0
    for position in positions:
        row += unit.count(newline, at, position)  # type: ignore[arg-type]
        at = position
        start = unit.rfind(newline, 0, position) + 1  # type: ignore[arg-type]
        yield row, unit.count(comma, start, position)  # type: ignore[arg-type]


@dataclass
class Shape:
    """How many commas each line of a piece has (a fast piece has no blank cells, so a
    line with k commas fills columns 0..k)."""

    lines: list[bytes]  # each line's commas
    counts: Counter[int]

    def first_lines(self, column: int) -> dict[int, int]:
        """For each column from ``column`` on: the first line (from 0) that reaches it."""
        found: dict[int, int] = {}
        widest, last = column - 1, max(self.counts, default=-1)
        for number, commas in enumerate(self.lines):
            while len(commas) > widest:
                widest += 1
                found[widest] = number
            if widest >= last:  # usually the header line: the loop ends there
                break
        return found


def shape(data: bytes) -> Shape:
    """The comma counts of the lines of a piece (from its commas and newlines only)."""
    skeleton = data.translate(None, _STRUCTURE)
    lines = skeleton.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    return Shape(lines, Counter(map(len, lines)))


_QUOTES_ETC = bytes(range(256)).translate(None, b'",\n')  # all but quotes, commas, newlines
_PLAIN_QUOTED = re.compile(rb'"[^",\n]*"')


def quotes_are_plain(data: bytes) -> bool:
    """Whether every quoted cell holds neither a comma nor a line break (``"職員"``,
    ``"a""b"``): then quotes change no cell boundary, and — not being digits — no
    number either, so a piece of them can go the fast way (a quote is then read as
    nothing when telling blank cells: ``""`` is an empty cell)."""
    skeleton = data.translate(None, _QUOTES_ETC)
    return b'"' not in _PLAIN_QUOTED.sub(b"", skeleton)


_WHITESPACE = b' \t\r\x0b\x0c\x1c\x1d\x1e\x1f"'  # and the quote: see quotes_are_plain
_TOKENS = bytes(0x20 if b in b",\n" else 0x61 for b in range(256))
_RARE_SPACES = ("\x85", "\u1680", "\u2028", "\u2029")  # NFKC keeps them; str.isspace too


def every_cell_filled(text: str, data: bytes) -> bool:
    """Whether every line is non-empty and every cell holds more than white space: with
    white space deleted and cell boundaries as spaces, the words must be as many as the
    cells the commas and lines make."""
    if any(b in data for b in (b"\xc2", b"\xe1", b"\xe2")) and any(
        space in text for space in _RARE_SPACES
    ):
        return False
    words = data.translate(_TOKENS, _WHITESPACE)
    count = words.count(b" a") + words.startswith(b"a")
    lines = data.count(b"\n") + (not data.endswith(b"\n"))
    return count == data.count(b",") + lines
