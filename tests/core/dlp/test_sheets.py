"""The fast .xlsx sheet reader gives the report the cell-by-cell one gives (issue 19).

The reference is :func:`.containers.sheet_rows` (the sheet's whole tree, a grid) and
:func:`.scan.scan_rows` over every cell. Sheets are generated (numbers with valid check
digits on random digits, never real ones) with shared and inline strings, numbers as
Excel stores them (``1.23456789018E+11``, a leading 0 dropped), rows and cells with and
without their ``r``, sparse rows and cells, formulas, empty styled cells, a header row
naming the column or not; and in the shapes the fast reader leaves to the exact way."""

from __future__ import annotations

import io
import random
import zipfile
from typing import Any
from xml.etree import ElementTree

import pytest

from secure_send.core.dlp import sheets
from secure_send.core.dlp.containers import report_for, sheet_report, sheet_rows
from secure_send.core.dlp.numbers import corporate_check_digit
from secure_send.core.dlp.scan import Report, Unreadable, scan_rows
from tests.core.dlp.test_numbers import full_width, make_individual

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
HEADERS = ("氏名", "個人番号", "口座", "備考", "番号", "マイナンバー", "法人番号", "", "管理")
DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _letters(column: int) -> str:
    name = ""
    column += 1
    while column:
        column, rest = divmod(column - 1, 26)
        name = chr(65 + rest) + name
    return name


def _number(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.45:
        return make_individual(rng)
    if roll < 0.8:
        return f"{rng.randrange(10**11, 10**12)}"  # about 1 in 11 passes by chance
    base = f"{rng.randrange(10**12):012d}"
    return str(corporate_check_digit(base)) + base


def _text(rng: random.Random) -> str:
    number = make_individual(rng)
    return rng.choice(
        (
            number,
            f"{number[:4]}-{number[4:8]} {number[8:]}",
            full_width(number),
            f"{number}x{make_individual(rng)}",  # two in one cell
            f"{_number(rng)}",
            "職員",
            "03-1234-5678",
            " ",
            "",
            "個人番号",
        )
    )


def _value(rng: random.Random, shared: list[str]) -> str:
    """A cell's attributes after ``r`` and its content (with the closing tag)."""
    roll = rng.random()
    if roll < 0.35:  # a number Excel stores as n.nnnE+11
        digits = _number(rng)[:12]
        if rng.random() < 0.1:
            digits = digits[0] + digits[1:4].rstrip("0")  # 1.2E+11: Excel drops zeros
            digits = digits.ljust(12, "0")
        body = f"{digits[0]}.{digits[1:].rstrip('0') or '0'}E+11"
        if rng.random() < 0.4:  # as Excel itself writes 12 digits
            body = digits if rng.random() < 0.9 else f"0{digits[1:]}"
        return f"><v>{body}</v></c>"
    if roll < 0.45:  # other numbers: 11 digits (a leading 0 dropped), plain, decimals
        first = "0" + make_individual(rng)[1:11]
        n = rng.choice(
            (
                f"{first[1]}.{first[2:]}E+10",
                make_individual(rng),
                "3.5",
                "42",
                f"000{make_individual(rng)[3:]}",  # read as 9 digits
                f"{rng.randrange(10**13)}",
            )
        )
        return f' s="2"><v>{n}</v></c>'
    if roll < 0.7:
        shared.append(_text(rng))
        return f' t="s"><v>{len(shared) - 1}</v></c>'
    if roll < 0.85:
        space = ' xml:space="preserve"' if rng.random() < 0.3 else ""
        return f' t="inlineStr"><is><t{space}>{_text(rng)}</t></is></c>'
    if roll < 0.9:
        return ' s="1"/>'  # an empty styled cell
    if roll < 0.95:
        return f' t="str"><f>A1&amp;"x"</f><v>{_text(rng)}</v></c>'
    return f'><f t="shared" si="0"/><v>{make_individual(rng)}</v></c>'


def make_sheet(seed: int) -> tuple[bytes, list[str]]:
    """A sheet's XML and its shared strings."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data
    shared: list[str] = []
    width = rng.randrange(1, 9)
    refs = rng.choice(("always", "never", "mixed"))
    rows = []
    previous_row = 0
    for row in range(1, rng.randrange(20, 200)):
        if rng.random() < 0.1 and row > 1:
            continue  # a sparse row: none
        cells = []
        previous = -1
        for column in range(width):
            if rng.random() < 0.15:
                continue  # a sparse cell
            if row == 1:
                header = rng.choice(HEADERS)
                shared.append(header)
                content = f' t="s"><v>{len(shared) - 1}</v></c>'
            else:
                content = _value(rng, shared)
            omit = column == previous + 1 and (
                refs == "never" or (refs == "mixed" and rng.random() < 0.5)
            )
            ref = "" if omit else f' r="{_letters(column)}{row}"'
            cells.append(f"<c{ref}{content}")
            previous = column
        omit = row == previous_row + 1 and (refs != "always" and rng.random() < 0.7)
        attributes = ("" if omit else f' r="{row}"') + f' spans="1:{width}" x14ac:dyDescent="0.4"'
        rows.append(f"<row{attributes}>{''.join(cells)}</row>" if cells else f"<row{attributes}/>")
        previous_row = row
    sheet = (
        f'{DECLARATION}<worksheet xmlns="{MAIN}" xmlns:x14ac="urn:x14ac">'
        f'<dimension ref="A1"/><sheetData>{"".join(rows)}</sheetData>'
        '<pageMargins left="0.7"/></worksheet>'
    )
    return sheet.encode(), shared


def _exact(data: bytes, shared: list[str]) -> Report:
    return scan_rows(sheet_rows(data, shared), "b.xlsx", "一覧, ")


def _seen(report: Report) -> tuple[int, int, int, list[str], str | None]:
    return report.individual, report.likely, report.corporate, report.places, report.unreadable


@pytest.mark.parametrize("seed", range(60))
def test_the_fast_reader_reports_what_every_cell_reports(seed: int) -> None:
    data, shared = make_sheet(seed)
    columns = sheets.read_sheet(data, shared)
    assert columns is not None, "a sheet laid out as Excel writes it goes the fast way"
    assert _seen(columns.report("b.xlsx", "一覧, ")) == _seen(_exact(data, shared))


def test_the_generated_sheets_hold_what_the_comparison_needs() -> None:
    """Not a vacuous comparison: blocking, warning-only and corporate hits all occur."""
    reports = [_exact(*make_sheet(seed)) for seed in range(60)]
    assert sum(r.likely for r in reports) > 100
    assert sum(r.individual - r.likely for r in reports) > 100
    assert sum(r.corporate for r in reports) > 10
    assert sum(bool(r.likely) and r.likely < r.individual for r in reports) > 5


def test_numbers_checked_in_batches_and_pieces_report_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sheets, "BATCH", 7)
    monkeypatch.setattr(sheets, "PIECE", 100)  # a few rows a piece
    sizes: list[int] = []  # the numbers held at once: a batch and at most one more row
    checked = sheets.Columns.numbers

    def numbers(self: sheets.Columns, runs: bytes, rows: Any, columns: Any) -> None:
        sizes.append(len(columns))
        checked(self, runs, rows, columns)

    monkeypatch.setattr(sheets.Columns, "numbers", numbers)
    for seed in range(10):
        data, shared = make_sheet(seed)
        columns = sheets.read_sheet(data, shared)
        assert columns is not None
        assert _seen(columns.report("b.xlsx", "一覧, ")) == _seen(_exact(data, shared))
    assert len(sizes) > 50
    assert max(sizes) < 7 + 8  # the generated rows are at most 8 cells wide


def _reshape(data: bytes, old: str, new: str) -> bytes:
    assert old.encode() in data
    return data.replace(old.encode(), new.encode(), 1)


@pytest.mark.parametrize(
    "change",
    [
        ("<sheetData>", "<sheetData><!-- a comment -->"),
        ("</row>", "</row><!-- </row><row><c><v>1</v></c></row> -->"),
        ('<row r="3"', '<row r="2"'),  # a row number twice: the grid merges them
        ("<sheetData>", '<sheetData><row r="9"><c r="B9"><v>1</v></c></row>'),  # out of order
        ("</row>", '<c r="A1"><v>1</v></c></row>'),  # a column twice in a row, or backwards
        ('t="inlineStr"><is><t>', 't="inlineStr"><is><t>&#x31;'),  # a character reference
        (
            "<sheetData>",
            "<sheetData xmlns:m='" + MAIN + "'><m:row><m:c t='inlineStr'>"
            "<m:is><m:t>123456789018</m:t></m:is></m:c></m:row>",
        ),
        ('<worksheet xmlns="', '<worksheet a="1" xmlns="'),
        ("<dimension", '<row r="900"><c t="inlineStr"><is><t>1</t></is></c></row><dimension'),
    ],
)
def test_what_the_fast_reader_does_not_know_is_read_the_exact_way(
    change: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sheets, "PIECE", 100)  # (a piece cut inside a comment, too)
    for seed in range(200):
        data, shared = make_sheet(seed)
        if change[0].encode() in data:
            break
    changed = _reshape(data, *change)
    assert sheets.read_sheet(changed, shared) is None
    report = sheet_report(changed, shared, "b.xlsx", "一覧")
    assert _seen(report) == _seen(_exact(changed, shared))


def test_a_damaged_sheet_or_a_cell_past_the_edge_is_said_either_way() -> None:
    data, shared = make_sheet(3)
    damaged = data.replace(b"</c>", b"</d>", 1)
    with pytest.raises(ElementTree.ParseError):
        sheets.read_sheet(damaged, shared)
    data = next(d for d, _ in map(make_sheet, range(50)) if b'<row r="2"' in d)
    far = data.replace(b'<row r="2"', b'<row r="1048577"', 1)
    with pytest.raises(sheets.EdgeError):
        sheets.read_sheet(far, shared)
    with pytest.raises(Unreadable, match="past its edge"):
        sheet_rows(far, shared)


def _book(data: bytes, shared: list[str]) -> bytes:
    strings = "".join(f'<si><t xml:space="preserve">{s}</t></si>' for s in shared)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}">{strings}</sst>')
        book.writestr("xl/worksheets/sheet1.xml", data)
        book.writestr("xl/worksheets/sheet2.xml", make_sheet(99)[0])  # its own strings: none
    return out.getvalue()


def test_a_workbook_reports_the_same_when_every_sheet_goes_the_exact_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data, shared = make_sheet(11)
    fast = report_for(_book(data, shared), "b.xlsx")
    monkeypatch.setattr(sheets, "read_sheet", lambda data, shared: None)
    exact = report_for(_book(data, shared), "b.xlsx")
    assert fast.individual > 0
    assert _seen(fast) == _seen(exact)
