"""CSV read fast, in pieces, with the same findings as cell by cell (issue 19, item 1).

:func:`.scan.scan_rows` looks at every cell; on a 100 MB CSV that is ten seconds. Here a
table is fed in pieces of whole records (:meth:`Table.feed`) and keeps *counters*, never
rows: per column the filled cells, the hits and the first places. A piece goes

* the **fast way** when it holds no quoted cell with a comma or a line break in it, no
  empty line, no empty or blank cell and no lone ``\\r``: then every line is one record
  and every comma a cell boundary, so the numbers are found by one pass over the piece's
  UTF-8 bytes (:mod:`.fastcheck`; :meth:`Table.feed_utf8` decodes a piece only to
  validate it and to ask whether folding changes it), and counted per column from the
  patterns of its lines' skeletons. The cells a column holds come from how many commas
  each line has;
* the **exact way** otherwise: ``csv.reader`` and every cell, as :func:`.scan.scan_rows`.

Both feed the same counters, and :meth:`Table.report` applies scan_rows' rules (header
words, column density) to them, so a file gives the same report either way; a test
compares them on generated tables. See :mod:`.fastcheck` for the fast pass itself.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from secure_send.core.dlp import fastcheck
from secure_send.core.dlp.numbers import CANDIDATE, DASHES, fold, kind_of
from secure_send.core.dlp.scan import (
    _HEADER,
    COLUMN_MIN,
    COLUMN_SHARE,
    MAX_PLACES,
    Report,
    Unreadable,
)

PIECE = 256 * 1024  # the pieces a whole file in memory is fed in (files.py reads these)


@dataclass
class ColumnHits:
    """What one column holds so far (counts, and the first places of its hits)."""

    individual: int = 0
    corporate: int = 0
    extra: int = 0  # hits beyond the first in one cell: scan_rows counts each as a cell
    places: list[int] = field(default_factory=list)  # rows of the first individual hits

    def count(self, kind: str, row: int) -> None:
        """One valid number in this column (a place kept for the first individual ones)."""
        if kind == "corporate":
            self.corporate += 1
            return
        self.individual += 1
        if len(self.places) < MAX_PLACES:
            self.places.append(row)


# fold's other change, a dash between two digits, found in the bytes (each dash is three
# bytes in UTF-8): a literal first, so searched fast, not the look-behind fold's str
# pattern starts with — which costs as much as the rest of the pass on text with ー
_DASH_BETWEEN_DIGITS = {
    dash: re.compile(re.escape(dash.encode()) + rb"(?<=[0-9]...)(?=[0-9])", re.DOTALL)
    for dash in DASHES
}


def _folds_to_itself(text: str, piece: bytes) -> bool:
    """Whether :func:`.numbers.fold` leaves ``text`` (``piece`` decoded) as it is."""
    if not unicodedata.is_normalized("NFKC", text):
        return False
    return not any(
        dash in text and pattern.search(piece) for dash, pattern in _DASH_BETWEEN_DIGITS.items()
    )


class Table:
    """One CSV (TSV already turned into commas), fed as folded text in whole records."""

    def __init__(self, name: str, where: str = "") -> None:
        self.name = name
        self.where = where
        self.rows = 0  # records so far
        self.header: list[str] | None = None
        self.commas: Counter[int] = Counter()  # fast pieces: lines by their comma count
        self.filled: Counter[int] = Counter()  # exact pieces: non-blank cells by column
        self.first: dict[int, int] = {}  # column -> first row with a non-blank cell
        self.widest = -1  # the highest column seen in a fast piece
        self.columns: dict[int, ColumnHits] = {}
        self._last_cell = (0, -1)

    def feed(self, text: str, raw: bytes | None = None) -> None:
        """Whole records of folded text; ``raw``: the same text as UTF-8, if at hand."""
        if text:
            self._feed(text.encode("utf-8") if raw is None else raw, text)

    def feed_utf8(self, piece: bytes) -> None:
        """Whole records as UTF-8 bytes, not folded yet (UnicodeDecodeError if they are
        not UTF-8). The fast way never decodes them: ASCII is valid UTF-8 that folding
        leaves alone; other bytes are decoded once, to validate them and to ask whether
        folding would change them (NFKC's quick check, and the dashes' bytes)."""
        if not piece:
            return
        if piece.isascii():
            self._feed(piece, None)
            return
        text = piece.decode("utf-8")
        if _folds_to_itself(text, piece):
            self._feed(piece, text)
            return
        folded = fold(text)
        self._feed(folded.encode("utf-8"), folded)

    def _feed(self, data: bytes, text: str | None) -> None:
        """``data``: folded UTF-8; ``text``: it decoded, or None (decoded if needed)."""
        fast = (
            (b'"' not in data or fastcheck.quotes_are_plain(data))
            and b"\x00" not in data
            and (b"\r" not in data or data.count(b"\r") == data.count(b"\r\n"))
            and fastcheck.every_cell_filled(data)
        )
        if fast:
            self._feed_lines(data)
        else:
            self._feed_records(data.decode("utf-8") if text is None else text)

    def feed_all(self, text: str, raw: bytes | None = None) -> None:
        """A whole file's folded text, in pieces: see :meth:`read_all`."""
        self.read_all(text.encode("utf-8") if raw is None else raw, self._feed_folded)

    def _feed_folded(self, piece: bytes) -> None:
        self._feed(piece, None)

    def read_all(self, data: bytes, feed: Callable[[bytes], None] | None = None) -> None:
        """A whole file's bytes, in pieces of about :data:`PIECE` bytes (small pieces
        stay in the CPU's cache: twice as fast on 100 MB as one piece, and 256 KiB a
        few % faster than 1 MiB), each cut at a
        line end outside any quoted cell (an even number of quotes before it), so a
        quoted comma sends only its own piece the exact way. ``feed``: what takes each
        piece, :meth:`feed_utf8` by default (raw UTF-8, folded piece by piece: a caller
        makes sure no full-width quote U+FF02 is in it, which folding would make a quote)."""
        feed = self.feed_utf8 if feed is None else feed
        quotes = b'"' in data
        start = 0
        while start < len(data):
            cut = data.find(b"\n", start + PIECE) + 1 or len(data)
            inside = quotes and data.count(b'"', start, cut) % 2
            while inside and cut < len(data):  # inside a quoted cell: on to the next line
                following = data.find(b"\n", cut) + 1 or len(data)
                inside ^= data.count(b'"', cut, following) % 2
                cut = following
            feed(data[start:cut])
            start = cut

    def _feed_lines(self, data: bytes) -> None:
        if self.header is None:
            self.header = data.split(b"\n", 1)[0].rstrip(b"\r").decode().split(",")
        shape = fastcheck.shape(data, fastcheck.numbers(data))
        counts = shape.counts
        self.commas.update(counts)
        widest = max(counts, default=-1)
        if widest > self.widest:
            for column, line in shape.first_lines(self.widest + 1).items():
                self.first.setdefault(column, self.rows + 1 + line)
            self.widest = widest
        wanted: dict[int, int] = {}  # columns that keep places: how many more
        for column, (individual, corporate, extra) in shape.hits().items():
            stats = self.columns.setdefault(column, ColumnHits())
            stats.individual += individual
            stats.corporate += corporate
            stats.extra += extra
            if individual and len(stats.places) < MAX_PLACES:
                wanted[column] = MAX_PLACES - len(stats.places)
        for line, column in shape.places(wanted):
            self.columns[column].places.append(self.rows + 1 + line)
        self._last_cell = (0, -1)  # the next piece starts on a new row
        self.rows += shape.rows

    def _feed_records(self, text: str) -> None:
        try:
            records = list(csv.reader(io.StringIO(text)))
        except csv.Error as err:  # a lone \r, a NUL: not a CSV csv.reader reads
            raise Unreadable("damaged CSV (a line break inside a cell that is not quoted)") from err
        for r, record in enumerate(records, start=self.rows + 1):
            if self.header is None:
                self.header = record
            for c, cell in enumerate(record):
                if not cell or cell.isspace():
                    continue
                self.filled[c] += 1
                self.first.setdefault(c, r)
                if len(cell) < 12:
                    continue
                for match in CANDIDATE.finditer(cell):
                    kind = kind_of(match.group())
                    if kind is not None:
                        self._hit(r, c, kind)
        self.rows += len(records)

    def _hit(self, row: int, column: int, kind: str) -> None:
        stats = self.columns.setdefault(column, ColumnHits())
        again = self._last_cell == (row, column)
        self._last_cell = (row, column)
        stats.extra += again
        stats.count(kind, row)

    def _cells(self, column: int) -> int:
        """Non-blank cells of a column: the fast pieces' lines with enough commas, and
        the exact pieces' count."""
        return sum(n for commas, n in self.commas.items() if commas >= column) + self.filled[column]

    def report(self) -> Report:
        """scan_rows' rules over the counters: see :mod:`.scan`."""
        report = Report(self.name)
        header = self.header or []
        order = sorted(self.columns, key=lambda c: (self.first.get(c, 0), c))
        for c in order:
            stats = self.columns[c]
            named = c < len(header) and bool(_HEADER.search(header[c]))
            # scan_rows leaves a naming header's row out of the density, which then does
            # not matter: a named column is likely whatever its density
            filled = self._cells(c) + stats.extra
            dense = filled >= COLUMN_MIN and stats.individual >= COLUMN_SHARE * filled
            report.individual += stats.individual
            report.likely += stats.individual if named or dense else 0
            report.corporate += stats.corporate
            for row in stats.places:
                if len(report.places) < MAX_PLACES:
                    report.places.append(f"{self.where}row {row}, column {c + 1}")
        return report
