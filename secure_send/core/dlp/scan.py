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

import csv
import io
import re
from dataclasses import dataclass, field

from secure_send.core.dlp.numbers import CANDIDATE, fold, kind_of

CONTEXT_WORDS = ("個人番号", "マイナンバー", "まいなんばー", "mynumber", "my number")
HEADER_WORDS = (*CONTEXT_WORDS, "番号")  # in a column's header, 番号 alone is enough
COLUMN_SHARE = 0.8
COLUMN_MIN = 3
MAX_PLACES = 20  # places kept per file (the count stays exact)
_CONTEXT = re.compile("|".join(re.escape(w) for w in CONTEXT_WORDS), re.IGNORECASE)
_HEADER = re.compile("|".join(re.escape(w) for w in HEADER_WORDS), re.IGNORECASE)


class Unreadable(Exception):
    """The file could not be checked (not text in a known encoding, encrypted, …)."""


@dataclass
class Report:
    """What one file holds: counts and places, never the numbers."""

    name: str
    individual: int = 0  # individual numbers found (valid check digit)
    likely: int = 0  # of which likely My Numbers (context word or column)
    corporate: int = 0
    places: list[str] = field(default_factory=list)
    unreadable: str | None = None  # why it could not be checked

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
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Unreadable("not text in UTF-8 or Shift_JIS")


def scan_text(text: str, name: str) -> Report:
    """Free text: a context word on the number's line (before it) or the line above."""
    report = Report(name)
    previous = ""
    for number, line in enumerate(fold(text).splitlines(), start=1):
        for match in CANDIDATE.finditer(line):
            kind = kind_of(match.group())
            if kind is not None:
                near = bool(_CONTEXT.search(line[: match.start()]) or _CONTEXT.search(previous))
                report.add(kind, near, f"line {number}")
        previous = line
    return report


def scan_csv(text: str, name: str) -> Report:
    """A CSV file: a header naming the column, or a column mostly of valid numbers."""
    return scan_rows(list(csv.reader(io.StringIO(fold(text)))), name, folded=True)


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
        if lower.endswith((".csv", ".tsv")):
            text = decode(data)
            if lower.endswith(".tsv"):
                text = text.replace("\t", ",")
            return scan_csv(text, name)
        if lower.endswith((".txt", ".text", ".md", ".log")):
            return scan_text(decode(data), name)
    except Unreadable as err:
        return Report(name, unreadable=str(err))
    return Report(name, unreadable="this kind of file is not checked yet")
