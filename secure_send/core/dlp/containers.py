"""Excel (.xlsx), Word (.docx) and ZIP files, read with the standard library (issue 19);
PDF and .xls through :mod:`.documents`.

An .xlsx or .docx is itself a ZIP of XML parts: the cells of each sheet (shared strings
resolved; numbers Excel stored as ``1.23456789018E+11`` turned back into their digits) are
counted per column by :mod:`.sheets` (fast, for sheets laid out as Excel writes them) or
go to :func:`.scan.scan_rows` (any other sheet), a document's paragraphs to
:func:`.scan.scan_text`. ZIP files are opened recursively within bounds —
:data:`MAX_DEPTH` levels, :data:`MAX_ENTRIES` entries and :data:`MAX_BYTES` uncompressed
bytes in all — so a ZIP bomb is a finding ("too large to check"), not a hang; an
encrypted entry (PPAP) cannot be checked and says so. Nothing is written to disk.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from xml.etree import ElementTree

from secure_send.core.dlp import documents, sheets
from secure_send.core.dlp.documents import cell_text
from secure_send.core.dlp.scan import (
    Cancelled,
    Report,
    Unreadable,
    scan_bytes,
    scan_rows,
    scan_text,
)
from secure_send.core.dlp.sheets import MAX_COLUMNS, MAX_ROWS

MAX_DEPTH = 3
MAX_ENTRIES = 10_000
MAX_BYTES = 512 * 1024 * 1024
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_WORD = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DTD = "not an Office file (its XML declares a DTD)"
_EDGE = "not a workbook Excel can open (a cell past its edge)"
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")


class Budget:
    """What is left to read of one top-level file (shared by every nested level)."""

    def __init__(self, cancelled: Callable[[], bool] = lambda: False) -> None:
        self.entries = MAX_ENTRIES
        self.bytes = MAX_BYTES
        self.cancelled = cancelled  # polled before each entry: Cancelled

    def read(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
        """One entry's bytes, or :class:`Unreadable` past the budget or when encrypted."""
        if self.cancelled():
            raise Cancelled
        if info.flag_bits & 0x1:
            raise Unreadable("encrypted (a password-protected ZIP cannot be checked)")
        self.entries -= 1
        if self.entries < 0 or info.file_size > self.bytes:
            raise Unreadable("too large to check (possibly a ZIP bomb)")
        with archive.open(info) as src:
            data = src.read(self.bytes + 1)  # the header's size may lie: read is bounded
        self.bytes -= len(data)
        if self.bytes < 0:
            raise Unreadable("too large to check (possibly a ZIP bomb)")
        return data


def _xml(data: bytes) -> ElementTree.Element:
    """An Office XML part. Office never writes a DTD; entity expansion (the "billion
    laughs") and external entities both need one, so a part with a DTD is refused rather
    than parsed (defusedxml's rule, without the dependency)."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise Unreadable(_DTD)
    return ElementTree.fromstring(data)  # noqa: S314 - no DTD: see above


def _column(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number - 1


def xlsx_report(data: bytes, name: str, budget: Budget) -> Report:
    """Every sheet of a workbook, as tables."""
    report = Report(name)
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        names = set(book.namelist())
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            root = _xml(budget.read(book, book.getinfo("xl/sharedStrings.xml")))
            shared = ["".join(t.text or "" for t in si.iter(f"{_MAIN}t")) for si in root]
        parts = sorted(n for n in names if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))
        titles = _sheet_names(book, names, budget)
        for sheet in parts:
            label = titles.get(sheet) or sheet.rsplit("/", 1)[1].removesuffix(".xml")
            report.merge(sheet_report(budget.read(book, book.getinfo(sheet)), shared, name, label))
    return report


def sheet_report(data: bytes, shared: list[str], name: str, label: str) -> Report:
    """One sheet's report: the fast way (:mod:`.sheets`) where the sheet is laid out as
    it reads, else cell by cell (:func:`sheet_rows` and :func:`.scan.scan_rows`)."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise Unreadable(_DTD)
    try:
        columns = sheets.read_sheet(data, shared)
    except sheets.EdgeError:
        raise Unreadable(_EDGE) from None
    if columns is not None:
        return columns.report(name, f"{label}, ")
    return scan_rows(sheet_rows(data, shared), name, f"{label}, ")


def sheet_rows(data: bytes, shared: list[str]) -> list[list[str]]:
    """A sheet's rows of cells ("" where none), read through its whole tree: the exact
    way, for sheets :mod:`.sheets` does not read."""
    root = _xml(data)
    grid: dict[int, dict[int, str]] = {}
    row_number = 0
    for row in root.iter(f"{_MAIN}row"):
        # ``r`` is optional in the format (some tools leave it out): a cell or a row
        # without it follows the one before, never skipped unread
        row_number = int(row.get("r") or row_number + 1)
        column = -1
        for cell in row.iter(f"{_MAIN}c"):
            ref = _CELL_REF.fullmatch(cell.get("r", ""))
            column = _column(ref.group(1)) if ref else column + 1
            if not (0 < row_number <= MAX_ROWS and 0 <= column < MAX_COLUMNS):
                raise Unreadable(_EDGE)
            text = _xlsx_cell(cell, shared)
            if text is not None:
                grid.setdefault(row_number, {})[column] = text
    rows = []
    for r in range(1, max(grid, default=0) + 1):
        cells = grid.get(r, {})
        rows.append([cells.get(c, "") for c in range(max(cells, default=-1) + 1)])
    return rows


_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PACKAGE_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


def _sheet_names(book: zipfile.ZipFile, names: set[str], budget: Budget) -> dict[str, str]:
    """Each sheet part's name as the clerk sees it on its tab ("一覧"), where the workbook
    says it; a place then reads "一覧, row 2, column 3" rather than "sheet1, …"."""
    if not {"xl/workbook.xml", "xl/_rels/workbook.xml.rels"} <= names:
        return {}
    workbook = _xml(budget.read(book, book.getinfo("xl/workbook.xml")))
    rels = _xml(budget.read(book, book.getinfo("xl/_rels/workbook.xml.rels")))
    targets = {r.get("Id"): "xl/" + (r.get("Target") or "").lstrip("/").removeprefix("xl/")
               for r in rels.iter(_PACKAGE_RELS)}  # fmt: skip
    return {
        targets[sheet.get(_REL)]: sheet.get("name") or ""
        for sheet in workbook.iter(f"{_MAIN}sheet")
        if sheet.get(_REL) in targets
    }


def _xlsx_cell(cell: ElementTree.Element, shared: list[str]) -> str | None:
    """A cell's text: a shared string, an inline string or a value (numbers as typed)."""
    value = cell.find(f"{_MAIN}v")
    inline = cell.find(f"{_MAIN}is")
    if cell.get("t") == "s" and value is not None and value.text:
        return shared[int(value.text)] if int(value.text) < len(shared) else ""
    if inline is not None:
        return "".join(t.text or "" for t in inline.iter(f"{_MAIN}t"))
    if value is not None and value.text:
        return cell_text(value.text)
    return None


def docx_report(data: bytes, name: str, budget: Budget) -> Report:
    """A Word document's paragraphs, one per line."""
    with zipfile.ZipFile(io.BytesIO(data)) as doc:
        root = _xml(budget.read(doc, doc.getinfo("word/document.xml")))
    lines = ["".join(t.text or "" for t in p.iter(f"{_WORD}t")) for p in root.iter(f"{_WORD}p")]
    return scan_text("\n".join(lines), name)


def zip_report(data: bytes, name: str, budget: Budget, depth: int = 1) -> Report:
    """Every file inside a ZIP (recursively, within the budget)."""
    report = Report(name)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            inner = report_for(budget.read(archive, info), f"{name}/{info.filename}", budget, depth)
            report.merge(inner)
    return report


def report_for(data: bytes, name: str, budget: Budget | None = None, depth: int = 0) -> Report:
    """One file's report by its name's extension: text, CSV, xlsx, docx, xls, PDF, ZIP
    (nested ones one level deeper); a damaged or over-budget container is said, never
    clean. :class:`.scan.Cancelled` when the budget's ``cancelled`` says so."""
    budget = budget or Budget()
    lower = name.lower()
    try:
        if lower.endswith(".zip"):
            if depth >= MAX_DEPTH:
                raise Unreadable("ZIP files nested too deeply to check")
            return zip_report(data, name, budget, depth + 1)
        if lower.endswith(".xlsx"):
            return xlsx_report(data, name, budget)
        if lower.endswith(".docx"):
            return docx_report(data, name, budget)
        if lower.endswith(".pdf"):
            return documents.pdf_report(data, name, budget.cancelled)
        if lower.endswith(".xls"):
            return documents.xls_report(data, name, budget.cancelled)
    except Unreadable as err:
        return Report(name, unreadable=str(err))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, ValueError):
        return Report(name, unreadable="damaged or not what its name says")
    return scan_bytes(data, name)
