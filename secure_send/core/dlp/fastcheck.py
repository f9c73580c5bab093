"""The fast pass over a piece of CSV that :class:`.table.Table` reads the fast way.

Everything here works on the piece's UTF-8 *bytes*, never on decoded text: a digit, a
comma, a line break, a quote, a space and a hyphen are single ASCII bytes that are never
part of a multi-byte character, so a candidate of :data:`.numbers.CANDIDATE` and every
cell boundary sit at the same places in the bytes as in the text.

CPython's ``re`` tries a character class at every position (about 7 ns a byte); a
pattern that starts with a *literal* is searched for much faster. So the numbers are
looked for in a mask of the bytes where every digit is ``0``: without separators (no
``0 0000`` / ``0-0000`` in the mask) a candidate is exactly a run of 12 or 13 digits,
found by a pattern that starts with twelve ``0``. With separators the bytes are searched
with CANDIDATE itself (compiled for bytes).

Only the *valid* numbers then cost Python work, and little of it: each is marked in a
skeleton of the piece that keeps only commas, line breaks and the marks, whose lines
repeat a few patterns (``,#,``: a number in column 2, ``#`` being a byte no UTF-8
holds); the hits of a column are counted once per pattern, not once per number
(:class:`Shape`), and only a column's first places cost a look at their lines.
"""

from __future__ import annotations

import operator
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate, compress

from secure_send.core.dlp.numbers import CANDIDATE, INDIVIDUAL_WEIGHTS, kind_of

_MASK = bytes(
    0x30 if 0x30 <= b <= 0x39 else b if b in b" -" else 0x78  # digit, separator, other
    for b in range(256)
)
_TWELVE = b"0" * 12
_NOT_DIGITS = bytes(range(256)).translate(None, b"0123456789")
# twelve digits not preceded by a digit (the look-behind sees the one before the run),
# a thirteenth if there is one, and no digit after
_RUN = re.compile(rb"000000000000(?<!0000000000000)0?(?!0)")
_CANDIDATE = re.compile(CANDIDATE.pattern.encode())  # ASCII only: the same matches

# The check digit of every run at once: for digit k, a table turns each ASCII digit d
# into w·d mod 11 (at most 10); eleven of them summed lane by lane in one big integer
# stay under 256, so no lane carries into the next, and a last table turns each sum
# into the check digit it asks for. A valid run is a lane where that equals digit 12.
_WEIGHTED = [
    bytes((w * (b - 48)) % 11 if 48 <= b <= 57 else 0 for b in range(256))
    for w in INDIVIDUAL_WEIGHTS
]
_EXPECTED = bytes(48 + (0 if (b % 11) <= 1 else 11 - b % 11) for b in range(256))

INDIVIDUAL, CORPORATE = b"\xff", b"\xfe"  # the marks in a skeleton: never in UTF-8
_NOT_SKELETON = bytes(range(256)).translate(None, b",\n" + INDIVIDUAL + CORPORATE)
_ONE_MARK = bytes(range(256)).replace(CORPORATE, INDIVIDUAL)  # both kinds as one
_IS_INDIVIDUAL = bytes(b == INDIVIDUAL[0] for b in range(256))
_IS_CORPORATE = bytes(b == CORPORATE[0] for b in range(256))


def _valid_lanes(digits: bytes, count: int) -> list[int]:
    """Which of ``count`` runs of 13 bytes (concatenated: 12 ASCII digits and the byte
    after them) pass the check digit."""
    total = 0
    for k, table in enumerate(_WEIGHTED):
        total += int.from_bytes(digits[k::13].translate(table), "little")
    expected = total.to_bytes(count, "little").translate(_EXPECTED)
    differ = int.from_bytes(expected, "little") ^ int.from_bytes(digits[11::13], "little")
    # the zero lanes: where the pieces between zeros end (no match object per lane)
    between = differ.to_bytes(count, "little").split(b"\x00")
    return list(accumulate(map((1).__add__, map(len, between)), initial=-1))[1:-1]


@dataclass
class Found:
    """Where the valid numbers of a piece start (byte offsets, in order)."""

    individual: list[int] = field(default_factory=list)
    corporate: list[int] = field(default_factory=list)


def numbers(data: bytes) -> Found:
    """The valid numbers of a piece of folded UTF-8 bytes."""
    mask = data.translate(_MASK)
    found = Found()
    # a separator byte at all (memchr: fast), and then one between digits (slower)
    if (b" " in mask or b"-" in mask) and (b"0 0000" in mask or b"0-0000" in mask):
        for match in _CANDIDATE.finditer(data):  # separators: CANDIDATE itself (slower)
            kind = kind_of(match.group().decode())
            if kind is not None:
                (found.individual if kind == "individual" else found.corporate).append(
                    match.start()
                )
        return found
    # Where twelve digits start: split at them (C, no object per match as finditer
    # makes), each start the lengths before it. Split takes the leftmost twelve of a
    # longer run, so every run of 12 or more digits gives one start at its beginning.
    between = mask.split(_TWELVE)
    if len(between) == 1:
        return found
    count = len(between) - 1
    # start k: the lengths of pieces 0..k and 12 for each run before it
    starts = list(accumulate(map((12).__add__, map(len, between)), initial=-12))[1:-1]
    # 13 bytes from each start: the 12 digits the lanes check, and the next byte, a
    # digit only in a longer run (a run at the very end has no 13th: the last lane)
    ends = map((13).__add__, starts)
    runs = b"".join(map(data.__getitem__, map(slice, starts, ends)))
    if runs[12::13].translate(None, _NOT_DIGITS):  # a run of 13 or more: the rare way
        return _numbers_in_long_runs(data, mask)
    found.individual = list(map(starts.__getitem__, _valid_lanes(runs, count)))
    return found


def _numbers_in_long_runs(data: bytes, mask: bytes) -> Found:
    """:func:`numbers` when a run of 13 digits or more (a corporate number?) is there."""
    found = Found()
    spans = [match.span() for match in _RUN.finditer(mask)]
    twelve = [start for start, end in spans if end - start == 12]
    runs = b"".join(data[start : start + 13] for start in twelve)  # 13: as numbers' lanes
    found.individual = [twelve[i] for i in _valid_lanes(runs, len(twelve))]
    for start, end in spans:  # the lanes saw no run of 13
        if end - start == 13 and kind_of(data[start:end].decode()) == "corporate":
            found.corporate.append(start)
    return found


@dataclass
class Shape:
    """A piece's skeleton, line by line: its commas and the marks of its valid numbers
    (a fast piece has no blank cells, so a line with k commas fills columns 0..k)."""

    skeleton: bytes
    lines: list[bytes]
    patterns: Counter[bytes]  # how many lines each distinct skeleton line has

    @property
    def rows(self) -> int:
        return len(self.lines)

    @property
    def counts(self) -> Counter[int]:
        """Lines by their number of commas."""
        counts: Counter[int] = Counter()
        for line, n in self.patterns.items():
            counts[line.count(b",")] += n
        return counts

    def first_lines(self, column: int) -> dict[int, int]:
        """For each column from ``column`` on: the first line (from 0) that reaches it."""
        found: dict[int, int] = {}
        widest, last = column - 1, max(self.counts, default=-1)
        for number, line in enumerate(self.lines):
            commas = line.count(b",")
            while commas > widest:
                widest += 1
                found[widest] = number
            if widest >= last:  # usually the header line: the loop ends there
                break
        return found

    def hits(self) -> dict[int, tuple[int, int, int]]:
        """Per column: (individual, corporate, extra) — extra: the numbers beyond the
        first in one cell, which scan_rows counts as cells of their own."""
        columns: dict[int, tuple[int, int, int]] = {}
        for line, n in self.patterns.items():
            if INDIVIDUAL not in line and CORPORATE not in line:
                continue
            for column, cell in enumerate(line.split(b",")):
                individual, corporate = cell.count(INDIVIDUAL), cell.count(CORPORATE)
                if individual or corporate:
                    i, c, e = columns.get(column, (0, 0, 0))
                    extra = individual + corporate - 1
                    columns[column] = (i + n * individual, c + n * corporate, e + n * extra)
        return columns

    def places(self, wanted: dict[int, int]) -> Iterator[tuple[int, int]]:
        """(line from 0, column) of each individual number, in order, of the columns in
        ``wanted`` (column -> how many more), until each column has as many."""
        skeleton, row, counted = self.skeleton, 0, 0
        at = skeleton.find(INDIVIDUAL)
        while at >= 0 and wanted:
            start = skeleton.rfind(b"\n", 0, at) + 1
            end = skeleton.find(b"\n", at)
            end = len(skeleton) if end < 0 else end
            row += skeleton.count(b"\n", counted, start)
            counted = start
            for column, cell in enumerate(skeleton[start:end].split(b",")):
                take = min(cell.count(INDIVIDUAL), wanted.get(column, 0))
                if take:
                    yield from [(row, column)] * take
                    wanted[column] -= take
                    if not wanted[column]:
                        del wanted[column]
            at = skeleton.find(INDIVIDUAL, end)


@dataclass
class Regular:
    """:class:`Shape` of a piece whose lines all have the same commas (most exports):
    a number's column and row follow from the boundaries (commas and line breaks)
    before its mark, so its lines are never split or counted one by one."""

    skeleton: bytes
    rows: int
    width: int  # cells a line has

    @property
    def counts(self) -> Counter[int]:
        return Counter({self.width - 1: self.rows})

    def first_lines(self, column: int) -> dict[int, int]:
        return dict.fromkeys(range(column, self.width), 0)

    def _marks(self) -> tuple[list[int], list[bytes], bytes]:
        """The boundaries before each mark, the skeleton before each mark since the one
        before it (empty: the two are in one cell), and the marks in order."""
        parts = self.skeleton.translate(_ONE_MARK).split(INDIVIDUAL)[:-1]
        marks = self.skeleton.translate(None, b",\n")
        return list(accumulate(map(len, parts))), parts, marks

    def hits(self) -> dict[int, tuple[int, int, int]]:
        before, parts, marks = self._marks()
        columns = [boundaries % self.width for boundaries in before]
        individual = Counter(compress(columns, marks.translate(_IS_INDIVIDUAL)))
        corporate = Counter(compress(columns, marks.translate(_IS_CORPORATE)))
        extra = Counter(compress(columns[1:], map(operator.not_, parts[1:])))
        return {c: (individual[c], corporate[c], extra[c]) for c in set(columns)}

    def places(self, wanted: dict[int, int]) -> Iterator[tuple[int, int]]:
        before, _, marks = self._marks() if wanted else ([], [], b"")
        for boundaries in compress(before, marks.translate(_IS_INDIVIDUAL)):
            row, column = divmod(boundaries, self.width)
            if wanted.get(column):
                yield row, column
                wanted[column] -= 1
                if not wanted[column]:
                    del wanted[column]
                    if not wanted:
                        return


def shape(data: bytes, found: Found | None = None) -> Shape | Regular:
    """The skeleton of a piece: its commas, its line breaks and the marks of ``found``."""
    marked = bytearray(data)
    if found is not None:  # marks: bytes no UTF-8 holds, at a digit's place
        for at in found.individual:
            marked[at] = INDIVIDUAL[0]
        for at in found.corporate:
            marked[at] = CORPORATE[0]
    skeleton = bytes(marked.translate(None, _NOT_SKELETON))  # bytes: lines are hashed
    if data.endswith(b"\n"):
        plain = skeleton.translate(None, INDIVIDUAL + CORPORATE)
        line = plain[: plain.find(b"\n") + 1]
        rows = len(plain) // len(line)
        if plain == line * rows:  # every line the same: no line by line
            return Regular(skeleton, rows, len(line))
    lines = skeleton.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    return Shape(skeleton, lines, Counter(lines))


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
_TWO_BOUNDARIES = re.compile(b"  ")
# white space str.isspace knows that NFKC keeps, as UTF-8 (U+0085, U+1680, U+2028/9)
_RARE_SPACES = tuple(s.encode() for s in ("\x85", "\u1680", "\u2028", "\u2029"))


def every_cell_filled(data: bytes) -> bool:
    """Whether every line is non-empty and every cell holds more than white space (with
    white space deleted and cell boundaries as spaces)."""
    # their first bytes are rare in Japanese text (memchr); the sequences, rarer still
    if any(b in data for b in b"\xc2\xe1\xe2") and any(s in data for s in _RARE_SPACES):
        return False
    # no empty cell: no two boundaries side by side, none first, and none last unless
    # it is the line break that ends the last line
    words = data.translate(_TOKENS, _WHITESPACE)
    return (
        not _TWO_BOUNDARIES.search(words)  # re finds it faster than "in" does
        and not words.startswith(b" ")
        and (data.endswith(b"\n") or not words.endswith(b" "))
    )
