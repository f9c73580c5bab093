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
* numbers stored as ``1.23456789018E+11`` are turned into digits without ``Decimal``;
  text cells are folded and looked at only when they can hold 12 digits;
* :class:`Columns` keeps counters per column (filled cells, hits, the first places),
  never rows, and applies scan_rows' rules (header words, density) at the end.

A test compares the two ways on generated workbooks.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from array import array
from dataclasses import dataclass, field
from xml.etree import ElementTree

from secure_send.core.dlp.documents import cell_text
from secure_send.core.dlp.fastcheck import _valid_lanes
from secure_send.core.dlp.numbers import CANDIDATE, fold, kind_of
from secure_send.core.dlp.scan import _HEADER, COLUMN_MIN, COLUMN_SHARE, MAX_PLACES, Report

MAX_ROWS, MAX_COLUMNS = 1_048_576, 16_384  # Excel's own sheet size
MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"

# the document up to its root's start tag: UTF-8 (declared or by default), the root a
# worksheet whose default namespace is SpreadsheetML's
_ROOT = re.compile(
    rb'(?:<\?xml version="1\.0"(?: encoding="(?i:utf-8)")?(?: standalone="(?:yes|no)")?\?>)?'
    rb'\s*<worksheet\s+xmlns="' + re.escape(MAIN) + rb'"'
)
_XMLNS = re.compile(rb"xmlns\s*=")
_ROW_ELSEWHERE = re.compile(rb"<(?:[\w.-]+:)?row[\s/>]")
# One token of <sheetData>; the groups (findall gives them all, "" when not taken):
# 1 "row" (a row's start tag), 2 its r, 3 "/" (empty row), 4 "</row>", 5 "c" (a cell),
# 6 its column letters, 7 its t, 8-9 a number's leading digit and decimals (n.nnnE+11),
# 10 another value, 11 "<is>", 12 the inline string, 13 anything else (not understood)
_TOKEN = re.compile(
    rb'<(row)(?: r="([0-9]+)")?(?:\s+(?!r=)[\w:]+="[^"<]*")*\s*(/?)>'
    rb"|(</row>)"
    rb'|<(c)(?: r="([A-Z]+)[0-9]+")?(?: s="[0-9]+")?(?: t="([a-zA-Z]+)")?'
    rb'(?: (?:cm|vm|ph)="[0-9a-z]*")*\s*'
    rb"(?:/>|>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?"
    rb"(?:<v>([1-9])\.([0-9]{1,11})E\+11</v>|<v>([^<&\r]*)</v>"
    rb'|(<is>)<t(?: xml:space="preserve")?>([^<&\r]*)</t></is>)?</c>)'
    rb"|\s+"
    rb"|([\s\S])"
)


@dataclass
class _Column:
    filled: int = 0  # non-blank cells, and each hit beyond the first in one cell
    individual: int = 0
    corporate: int = 0
    places: list[int] = field(default_factory=list)  # rows of the first text hits
    numbered: list[int] = field(default_factory=list)  # ... and of the first number hits


class Columns:
    """A table's counters per column, fed its non-blank cells in row order."""

    BATCH = 65_536  # numbers checked at once (their digits: 13 bytes each, held till then)

    def __init__(self) -> None:
        self.columns: dict[int, _Column] = {}  # in order of their first cell, as scan_rows
        self.header: dict[int, str] = {}  # row 1's folded cells
        self._runs = bytearray()  # the numbers not checked yet: 12 digits and a comma each
        self._rows = array("l")  # ... their rows
        self._owners: list[_Column] = []  # ... and columns

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
            if kind == "corporate":
                stats.corporate += 1
                continue
            stats.individual += 1
            if len(stats.places) < MAX_PLACES:
                stats.places.append(row)

    def number(self, row: int, column: int, digits: bytes) -> None:
        """A cell of exactly 12 ASCII digits (a number Excel stored as n.nnnE+11): the
        one candidate is the whole cell, never a corporate number (13 digits) and never
        a header word. Checked in batches (:func:`.fastcheck._valid_lanes`)."""
        stats = self.columns.get(column)
        if stats is None:
            stats = self.columns[column] = _Column()
        stats.filled += 1
        self._runs += digits
        self._runs += b","
        self._rows.append(row)
        self._owners.append(stats)
        if len(self._owners) >= self.BATCH:
            self._check()

    def _check(self) -> None:
        """The pending numbers' check digits, all at once; hits in the order they came."""
        rows, owners = self._rows, self._owners
        for lane in _valid_lanes(bytes(self._runs), len(owners)):
            stats = owners[lane]
            stats.individual += 1
            if len(stats.numbered) < MAX_PLACES:
                stats.numbered.append(rows[lane])
        self._runs.clear()
        del self._rows[:]
        owners.clear()

    def report(self, name: str, where: str) -> Report:
        """scan_rows' rules over the counters (see :mod:`.scan`)."""
        self._check()
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
    body = data[start + len(b"<sheetData>") : end]
    if _ROW_ELSEWHERE.search(data, 0, start) or _ROW_ELSEWHERE.search(data, end):
        return None
    well_formed(data)
    columns = Columns()
    known: dict[bytes, int] = {}  # column letters read so far
    row = 0
    in_row = False
    column = -1
    for token in _TOKEN.findall(body):
        if token[12]:
            return None  # something the pattern does not understand
        if token[4]:  # a cell
            if not in_row:
                continue  # a cell outside a row: the tree walk never looks at it
            letters = token[5]
            if not letters:
                next_column = column + 1
            elif (next_column := known.get(letters, -1)) < 0:
                next_column = known[letters] = _column(letters)
            if next_column <= column:
                return None  # out of order or twice: the exact way keeps the last
            column = next_column
            if row > MAX_ROWS or column >= MAX_COLUMNS:
                raise EdgeError
            kind, lead, decimals, value, inline = token[6], token[7], token[8], token[9], token[10]
            if kind == b"s" and (lead or value):
                text_value = (lead + b"." + decimals + b"E+11" if lead else value).decode()
                index = int(text_value)  # ValueError ("damaged"), as the exact way
                text = shared[index] if index < len(shared) else ""
                columns.cell(row, column, fold(text))
            elif inline:
                columns.cell(row, column, fold(token[11].decode()))
            elif lead:  # 1.23456789018E+11: 12 digits, as documents.cell_text makes it
                columns.number(row, column, lead + decimals.ljust(11, b"0"))
            elif value:
                columns.cell(row, column, fold(cell_text(value.decode())))
        elif token[0]:
            if in_row:
                return None  # a row inside a row
            number = int(token[1]) if token[1] else row + 1
            if number <= row:
                return None  # out of order or twice: the exact way merges them
            row = number
            in_row = not token[2]
            column = -1
        elif token[3]:
            if not in_row:
                return None
            in_row = False
    return columns
