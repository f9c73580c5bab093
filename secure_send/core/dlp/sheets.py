"""An .xlsx sheet read fast, with the same findings as cell by cell (issue 19).

Building the sheet's tree (``ElementTree.fromstring``), a grid and a list of rows, then
:func:`.scan.scan_rows` over every cell took 12 s on a 20 MB workbook: half of it parsing,
half one Python look per cell. Here a sheet as Excel and the usual libraries write it
is read from its bytes:

* its well-formedness is checked by expat with no callbacks (C speed; a malformed sheet
  is "damaged", as the tree builder says);
* its ``<sheetData>`` is cut into tokens by one regex (:data:`_TOKEN`: a row's start or
  end, a cell with a value, an inline string or nothing, white space) — any other byte
  (a comment, an entity in a value, rich text, attributes in another order, rows out of
  order, …) makes :func:`read_sheet` answer None, and the caller reads the sheet the
  exact way (``containers``); so the fast way only ever sees what it understands;
* numbers stored as ``1.23456789018E+11`` are kept as their 13 bytes and checked in
  batches, many check digits in one big-integer sum (:func:`_valid_lanes`), never one
  ``Decimal`` and one check per cell; text cells are folded and looked at only when
  they can hold 12 digits;
* :class:`Columns` keeps counters per column (filled cells, hits, the first places),
  never rows, and applies scan_rows' rules (header words, density) at the end.

A test compares the two ways on generated workbooks.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from xml.etree import ElementTree

from secure_send.core.dlp.documents import cell_text
from secure_send.core.dlp.numbers import CANDIDATE, INDIVIDUAL_WEIGHTS, fold, kind_of
from secure_send.core.dlp.scan import _HEADER, COLUMN_MIN, COLUMN_SHARE, MAX_PLACES, Report
from secure_send.core.dlp.table import ColumnHits

MAX_ROWS, MAX_COLUMNS = 1_048_576, 16_384  # Excel's own sheet size
PIECE = 1024 * 1024  # the bytes of <sheetData> tokenised at once
BATCH = 65_536  # numbers checked at once (13 bytes each and their places, held till then)
MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"

# the document up to its root's start tag: UTF-8 (declared or by default), the root a
# worksheet whose default namespace is SpreadsheetML's
_ROOT = re.compile(
    rb"(?:<\?xml version=([\"'])1\.0\1(?: encoding=([\"'])(?i:utf-8)\2)?"
    rb"(?: standalone=([\"'])(?:yes|no)\3)?\s*\?>)?"
    rb'\s*<worksheet\s+xmlns="' + re.escape(MAIN) + rb'"'
)
_XMLNS = re.compile(rb"xmlns\s*=")
_ROW_ELSEWHERE = re.compile(rb"<(?:[\w.-]+:)?row[\s/>]")
# One token of <sheetData>, the most frequent first; the groups (findall gives them all,
# b"" when not taken): 1 "c" (a cell), 2 its column letters, 3 its t, 4 a number's
# n.nnn of n.nnnE+11, 5 another value, 6 "<is>", 7 the inline string; 8 "row" (a row's
# start tag), 9 its r, 10 "/" (an empty row), 11 "</row>", 12 anything else (not
# understood)
_TOKEN = re.compile(
    rb'<(c)(?: r="([A-Z]+)[0-9]+")?(?: s="[0-9]+")?(?: t="([a-zA-Z]+)")?'
    rb'(?: (?:cm|vm|ph)="[0-9a-z]*")*\s*'
    rb"(?:/>|>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?"
    rb"(?:<v>([1-9]\.[0-9]{1,11})E\+11</v>|<v>([^<&\r]*)</v>"
    rb'|(<is>)<t(?: xml:space="preserve")?>([^<&\r]*)</t></is>)?</c>)'
    rb'|<(row)(?: r="([0-9]+)")?(?:\s+(?!r=)[\w:]+="[^"<]*")*\s*(/?)>'
    rb"|(</row>)"
    rb"|\s+"
    rb"|([\s\S])"
)


# The check digits of many numbers at once, as :func:`.fastcheck._valid_lanes` does for
# CSV, on lanes of 13 bytes ``n.nnnnnnnnnnn`` (the digits of n.nnnE+11, the dot second):
# per digit a table turns each ASCII digit into weight x digit mod 11; eleven such bytes
# summed lane by lane in one big integer stay under 256 (no carry into the next lane),
# and a last table turns each sum into the check digit it asks for.
_POSITIONS = (0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)  # the first eleven digits' bytes
_WEIGHTED = [
    bytes((w * (b - 48)) % 11 if 48 <= b <= 57 else 0 for b in range(256))
    for w in INDIVIDUAL_WEIGHTS
]
_EXPECTED = bytes(48 + (0 if (b % 11) <= 1 else 11 - b % 11) for b in range(256))


def _valid_lanes(runs: bytes, count: int) -> list[int]:
    """Which of ``count`` lanes ``n.nnnnnnnnnnn`` carry a valid check digit (the last)."""
    total = 0
    for position, table in zip(_POSITIONS, _WEIGHTED, strict=True):
        total += int.from_bytes(runs[position::13].translate(table), "little")
    expected = total.to_bytes(count, "little").translate(_EXPECTED)
    differ = int.from_bytes(expected, "little") ^ int.from_bytes(runs[12::13], "little")
    between = differ.to_bytes(count, "little").split(b"\x00")  # zero: a valid lane
    return list(accumulate(map((1).__add__, map(len, between)), initial=-1))[1:-1]


@dataclass
class _Column(ColumnHits):
    filled: int = 0  # non-blank cells, and each hit beyond the first in one cell
    numbered: list[int] = field(default_factory=list)  # ... and of the first number hits


class Columns:
    """A table's counters per column, fed its non-blank cells in row order."""

    def __init__(self) -> None:
        self.columns: dict[int, _Column] = {}  # in order of their first cell, as scan_rows
        self.header: dict[int, str] = {}  # row 1's folded cells

    def cell(self, row: int, column: int, folded: str) -> None:
        """One cell's folded text (blank ones are left out, as scan_rows does)."""
        if not folded or folded.isspace():
            return
        if row == 1:
            self.header[column] = folded
        stats = self.columns.get(column)
        if stats is None:
            stats = self.columns[column] = _Column()
        stats.filled += 1
        if len(folded) < 12:  # no number fits: the regex only where one could be
            return
        first = True
        for match in CANDIDATE.finditer(folded):
            kind = kind_of(match.group())
            if kind is None:
                continue
            stats.filled += not first  # scan_rows counts a second hit as another cell
            first = False
            stats.count(kind, row)

    def add(self, column: int) -> None:
        """A column's first cell (the columns' order is their first cells')."""
        self.columns[column] = _Column()

    def numbers(self, runs: bytes, rows: array[int], columns: array[int]) -> None:
        """Cells of exactly 12 ASCII digits (numbers Excel stored as n.nnnE+11), in row
        order, their columns added already: each is its one candidate, never a corporate
        number (13 digits) and never a header word. ``runs``: ``n.nnnnnnnnnnn`` (13
        bytes) per cell, checked all at once (:func:`_valid_lanes`)."""
        for column, count in Counter(columns).items():
            self.columns[column].filled += count
        valid = _valid_lanes(runs, len(columns))
        for column, count in Counter(map(columns.__getitem__, valid)).items():
            self.columns[column].individual += count
        needed = {c for c in set(columns) if len(self.columns[c].numbered) < MAX_PLACES}
        for lane in valid:  # the first places: a few lanes, unless a column has few hits
            if not needed:
                break
            column = columns[lane]
            if column in needed:
                numbered = self.columns[column].numbered
                numbered.append(rows[lane])
                if len(numbered) >= MAX_PLACES:
                    needed.discard(column)

    def report(self, name: str, where: str) -> Report:
        """scan_rows' rules over the counters (see :mod:`.scan`)."""
        report = Report(name)
        for c, stats in self.columns.items():
            # a column's first places: its text hits' and number hits' (each in row order)
            places = sorted(stats.places + stats.numbered)
            named = bool(_HEADER.search(self.header.get(c, "")))
            # scan_rows leaves a naming header out of the density, which then does not
            # matter: a named column is likely whatever its density
            dense = stats.filled >= COLUMN_MIN and stats.individual >= COLUMN_SHARE * stats.filled
            report.individual += stats.individual
            report.likely += stats.individual if named or dense else 0
            report.corporate += stats.corporate
            for row in places:
                if len(report.places) < MAX_PLACES:
                    report.places.append(f"{where}row {row}, column {c + 1}")
        return report


class EdgeError(Exception):
    """A cell past Excel's edge (the caller says "not a workbook Excel can open")."""


def well_formed(data: bytes) -> None:
    """ElementTree.ParseError where the tree builder would fail (expat, namespaces on)."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator="}")
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as err:
        raise ElementTree.ParseError(str(err)) from None


def _column(letters: bytes) -> int:
    number = 0
    for byte in letters:
        number = number * 26 + byte - 64
    return number - 1


def _tokens(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, ...]]:
    """:data:`_TOKEN`'s matches in ``data[start:end]``, found :data:`PIECE` bytes at a
    time (a list of tuples for the whole sheet would take a few hundred MB), each piece
    cut after a ``</row>``: in a sheet expat found well-formed, that is between two
    tokens, or inside something no token matches (a comment), which ends the fast way."""
    while start < end:
        cut = data.find(b"</row>", start + PIECE, end)
        cut = end if cut < 0 else cut + len(b"</row>")
        yield from _TOKEN.findall(data, start, cut)
        start = cut


def read_sheet(data: bytes, shared: list[str]) -> Columns | None:
    """A sheet's counters, or None when it is not laid out as :data:`_TOKEN` reads
    (the caller then reads it the exact way). ``data`` has no DTD (the caller refused
    one); ElementTree.ParseError when malformed; :class:`EdgeError` past the edge."""
    root = _ROOT.match(data)
    if root is None or len(_XMLNS.findall(data)) != 1:
        return None  # another namespace for unprefixed names would change what a row is
    start, end = data.find(b"<sheetData>"), data.find(b"</sheetData>")
    if data.count(b"sheetData") != 2 or not 0 < start < end:
        return None  # (an empty or missing sheetData is left to the exact way)
    if _ROW_ELSEWHERE.search(data, 0, start) or _ROW_ELSEWHERE.search(data, end):
        return None
    well_formed(data)
    columns = Columns()
    seen = columns.columns
    known: dict[bytes, int] = {}  # column letters read so far
    runs = bytearray()  # numbers n.nnnE+11 not checked yet: "n.nnnnnnnnnnn" each
    rows_of, columns_of = array("l"), array("l")  # ... their rows and columns
    row = 0
    in_row = False
    column = edge = -1
    for (
        cell, letters, kind, number, value, inline, inline_text,
        row_tag, row_ref, empty, row_end, other,
    ) in _tokens(data, start + len(b"<sheetData>"), end):  # fmt: skip
        if cell:
            if not in_row:
                continue  # a cell outside a row: the tree walk never looks at it
            if not letters:
                next_column = column + 1
            elif (next_column := known.get(letters, -1)) < 0:
                next_column = known[letters] = _column(letters)
            if next_column <= column:
                return None  # out of order or twice: the exact way keeps the last
            column = next_column
            if column >= edge:
                raise EdgeError
            if number and kind != b"s":  # 1.23456789018E+11: 12 digits, as cell_text makes it
                if column not in seen:
                    columns.add(column)
                runs += number if len(number) == 13 else number.ljust(13, b"0")
                rows_of.append(row)
                columns_of.append(column)
            elif kind == b"s" and (number or value):
                text_value = (number + b"E+11" if number else value).decode()
                index = int(text_value)  # ValueError ("damaged"), as the exact way
                text = shared[index] if index < len(shared) else ""
                columns.cell(row, column, fold(text))
            elif inline:
                columns.cell(row, column, fold(inline_text.decode()))
            elif len(value) == 12 and value.isdigit() and value[:1] != b"0":
                # 123456789018, as Excel itself writes 12 digits: cell_text keeps them
                if column not in seen:
                    columns.add(column)
                runs += value[:1] + b"." + value[1:]
                rows_of.append(row)
                columns_of.append(column)
            elif value:
                columns.cell(row, column, fold(cell_text(value.decode())))
        elif row_tag:
            if in_row:
                return None  # a row inside a row
            next_row = int(row_ref) if row_ref else row + 1
            if next_row <= row:
                return None  # out of order or twice: the exact way merges them
            row = next_row
            in_row = not empty
            column = -1
            edge = MAX_COLUMNS if row <= MAX_ROWS else 0  # (the row's cells are past it)
            if len(columns_of) >= BATCH:  # (a row adds at most MAX_COLUMNS more)
                columns.numbers(bytes(runs), rows_of, columns_of)
                runs, rows_of, columns_of = bytearray(), array("l"), array("l")
        elif row_end:
            if not in_row:
                return None
            in_row = False
        elif other:
            return None  # something the pattern does not understand
    if columns_of:
        columns.numbers(bytes(runs), rows_of, columns_of)
    return columns
