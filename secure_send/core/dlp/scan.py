"""Scanning text and CSV for My Numbers (issue 19, item 1: the text formats).

A hit *blocks* a send only when it is very likely a My Number; otherwise the sender is
*warned*. About one random 12-digit string in ten passes the check digit (phone, account
and invoice numbers will), so a check digit alone only warns. A hit counts as likely when

* a context word (個人番号, マイナンバー, …) stands before it on its line or the line
  above, or heads its CSV column (there, ``番号`` alone counts too), or
* it is in a CSV column where at least :data:`COLUMN_SHARE` of the (at least
  :data:`COLUMN_MIN`) filled cells are valid individual numbers.

Corporate numbers (法人番号) are public: they are counted and shown, never blocking.
Reports carry counts and places (``line 3``, ``row 5, column 2``) — never a number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from secure_send.core.dlp.numbers import CANDIDATE, fold, kind_of

CONTEXT_WORDS = ("個人番号", "マイナンバー", "まいなんばー", "mynumber", "my number")
HEADER_WORDS = (*CONTEXT_WORDS, "番号")  # in a column's header, 番号 alone is enough
COLUMN_SHARE = 0.8
COLUMN_MIN = 3
MAX_PLACES = 20  # places kept per file (the count stays exact)
_CONTEXT = re.compile("|".join(re.escape(w) for w in CONTEXT_WORDS), re.IGNORECASE)
FULL_WIDTH_QUOTE = "\uff02".encode()  # the one character NFKC folds into a quote
_BOM = b"\xef\xbb\xbf"
_HEADER = re.compile("|".join(re.escape(w) for w in HEADER_WORDS), re.IGNORECASE)


class Unreadable(Exception):
    """The file could not be checked (not text in a known encoding, encrypted, …)."""


class Cancelled(Exception):
    """The sender stopped the check (the ``cancelled`` callback said so)."""


@dataclass
class Report:
    """What one file holds: counts and places, never the numbers."""

    name: str
    individual: int = 0  # individual numbers found (valid check digit)
    likely: int = 0  # of which likely My Numbers (context word or column)
    corporate: int = 0
    places: list[str] = field(default_factory=list)
    unreadable: str | None = None  # why it could not be checked
    skipped: bool = False  # a kind of file that cannot hold text (an image, a program)

    @property
    def blocking(self) -> bool:
        """Whether a send of this file must go only to designated handlers."""
        return self.likely > 0

    @property
    def warning(self) -> bool:
        """Numbers that pass the check digit but look like something else."""
        return self.individual > self.likely

    def merge(self, other: Report) -> None:
        """Add what a part of this file holds (a sheet, a file inside a ZIP)."""
        self.individual += other.individual
        self.likely += other.likely
        self.corporate += other.corporate
        self.places.extend(other.places[: MAX_PLACES - len(self.places)])
        if other.unreadable and not self.unreadable:
            self.unreadable = other.unreadable

    def add(self, kind: str, likely: bool, place: str) -> None:
        if kind == "corporate":
            self.corporate += 1
            return
        self.individual += 1
        self.likely += likely
        if len(self.places) < MAX_PLACES:
            self.places.append(place)


def decode(data: bytes) -> str:
    """Text from UTF-8 (with or without BOM) or CP932 (Shift_JIS and Microsoft's
    additions, what Excel writes for Japanese CSV); :class:`Unreadable` otherwise."""
    return decode_utf8(data)[0]


def decode_utf8(data: bytes) -> tuple[str, bytes | None]:
    """:func:`decode`, and the bytes (without a BOM) when they were UTF-8: the fast CSV
    pass reads them and need not encode the text again."""
    data = data.removeprefix(_BOM)
    try:
        return data.decode("utf-8"), data
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), None
    except UnicodeDecodeError:
        raise Unreadable("not text in UTF-8 or Shift_JIS") from None


def scan_text(text: str, name: str, *, page: int | None = None) -> Report:
    """Free text: a context word on the number's line (before it) or the line above.
    Places are ``line N``, or ``page N`` for a page of a PDF."""
    report = Report(name)
    scan_lines(fold(text), report, page=page)
    return report


def scan_lines(
    folded: str, report: Report, *, first: int = 1, previous: str = "", page: int | None = None
) -> tuple[int, str]:
    """:func:`scan_text` over folded text that may be one piece of a longer file: lines
    are numbered from ``first`` and ``previous`` is the line before the piece. Returns
    the next line's number and the piece's last line (for the next piece)."""
    lines = folded.splitlines()
    for number, line in enumerate(lines, start=first):
        for match in CANDIDATE.finditer(line):
            kind = kind_of(match.group())
            if kind is not None:
                near = bool(_CONTEXT.search(line[: match.start()]) or _CONTEXT.search(previous))
                report.add(kind, near, f"page {page}" if page is not None else f"line {number}")
        previous = line
    return first + len(lines), previous


def scan_csv(text: str, name: str, raw: bytes | None = None) -> Report:
    """A CSV file: a header naming the column, or a column mostly of valid numbers
    (read the fast way where it can be: :mod:`.table`). ``raw``: the file's UTF-8 bytes
    (without a BOM) when ``text`` is them decoded, so they need not be encoded again."""
    from secure_send.core.dlp.table import Table  # table builds on this module

    table = Table(name)
    folded = fold(text)
    table.feed_all(folded, raw if folded is text else None)
    return table.report()


def scan_csv_utf8(data: bytes, name: str) -> Report:
    """:func:`scan_csv` of UTF-8 bytes (without a BOM), never decoded as a whole:
    UnicodeDecodeError if they are not UTF-8. Pieces are cut by quotes counted before
    folding, so the caller makes sure no full-width quote (U+FF02, which NFKC makes ``"``)
    is in them."""
    from secure_send.core.dlp.table import Table  # table builds on this module

    table = Table(name)
    table.read_all(data)
    return table.report()


def scan_rows(rows: list[list[str]], name: str, where: str = "", *, folded: bool = False) -> Report:
    """A table (CSV, a spreadsheet's sheet): see the module docstring; ``where`` prefixes
    each place (``Sheet1, ``); ``folded``: the cells went through :func:`fold` already."""
    if not folded:
        rows = [[fold(cell) for cell in row] for row in rows]
    header = rows[0] if rows else []
    columns: dict[int, list[tuple[int, str | None]]] = {}  # column -> (row, kind) per cell
    for r, row in enumerate(rows, start=1):
        for c, cell in enumerate(row):
            if not cell or cell.isspace():
                continue
            # the regex only where a number could be: 12 characters at least
            kinds = (
                [kind_of(m.group()) for m in CANDIDATE.finditer(cell)] if len(cell) >= 12 else []
            )
            found = [k for k in kinds if k is not None]
            columns.setdefault(c, []).append((r, found[0] if found else None))
            for extra in found[1:]:
                columns[c].append((r, extra))
    report = Report(name)
    for c, cells in columns.items():
        named = c < len(header) and bool(_HEADER.search(header[c]))
        filled = [k for r, k in cells if r > 1 or not named]
        valid = sum(k == "individual" for k in filled)
        dense = len(filled) >= COLUMN_MIN and valid >= COLUMN_SHARE * len(filled)
        for r, kind in cells:
            if kind is not None:
                report.add(kind, named or dense, f"{where}row {r}, column {c + 1}")
    return report


def scan_bytes(data: bytes, name: str) -> Report:
    """One file's bytes, by its name's extension (text and CSV so far; other formats are
    reported as not checked, never as clean)."""
    lower = name.lower()
    try:
        if lower.endswith(".csv") and not (b"\xef" in data and FULL_WIDTH_QUOTE in data):
            try:  # UTF-8 read as bytes, folded piece by piece: see table.Table.read_all
                return scan_csv_utf8(data.removeprefix(_BOM), name)
            except UnicodeDecodeError:
                pass  # CP932 (or neither: decode_utf8 says so)
        if lower.endswith((".csv", ".tsv")):
            text, raw = decode_utf8(data)
            if lower.endswith(".tsv"):
                text, raw = text.replace("\t", ","), None
            return scan_csv(text, name, raw)
        if lower.endswith((".txt", ".text", ".md", ".log")):
            return scan_text(decode(data), name)
    except Unreadable as err:
        return Report(name, unreadable=str(err))
    return Report(name, unreadable="this kind of file is not checked yet")
