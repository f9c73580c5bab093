"""Excel, Word and ZIP files (issue 19, item 1), built by the tests from their XML parts
(the parts these readers read, laid out as Excel and Word write them). Every number is
generated, never real."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest

from secure_send.core.dlp import containers
from secure_send.core.dlp.containers import report_for
from secure_send.core.dlp.numbers import individual_check_digit
from tests.core.dlp.test_numbers import make_individual

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
WORD = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _zip(parts: dict[str, bytes], encrypted: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, part in parts.items():
            archive.writestr(name, part)
    data = bytearray(out.getvalue())
    if encrypted:  # set the "encrypted" flag a PPAP entry carries (zipfile cannot write one)
        for magic, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            at = data.find(magic)
            data[at + offset] |= 0x1
    return bytes(data)


def _xlsx(numbers: list[str], header: str = "個人番号", doctype: str = "") -> bytes:
    shared = ["氏名", header, *(f"{n[:4]}-{n[4:8]}-{n[8:]}" for n in numbers[1::2])]
    strings = "".join(f"<si><t>{s}</t></si>" for s in shared)
    rows = ['<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>']
    shared_index = 2
    for i, n in enumerate(numbers, start=2):
        if i % 2 == 0:  # typed as a number: Excel keeps 12 digits as 1.23456789018E+11
            # (and drops a leading 0: 012345678901 is stored as 12345678901)
            stored = str(int(n))
            value = f'<c r="B{i}"><v>{stored[0]}.{stored[1:]}E+{len(stored) - 1}</v></c>'
        else:
            value = f'<c r="B{i}" t="s"><v>{shared_index}</v></c>'
            shared_index += 1
        rows.append(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>職員</t></is></c>{value}</row>')
    sheet = f'{doctype}<worksheet xmlns="{MAIN}"><sheetData>{"".join(rows)}</sheetData></worksheet>'
    return _zip(
        {
            "xl/sharedStrings.xml": f'<sst xmlns="{MAIN}">{strings}</sst>'.encode(),
            "xl/worksheets/sheet1.xml": sheet.encode(),
        }
    )


def test_a_workbook_of_my_numbers_typed_as_numbers_and_as_text_blocks() -> None:
    rng = random.Random(5)  # noqa: S311 - reproducible test data
    numbers = [make_individual(rng) for _ in range(20)]
    numbers[0] = "0" + make_individual(rng)[1:11]  # a leading 0, typed as a number
    numbers[0] += str(individual_check_digit(numbers[0]))
    report = report_for(_xlsx(numbers), "年末調整.xlsx")
    assert report.unreadable is None
    assert report.likely == report.individual == 20
    assert report.places[0] == "sheet1, row 2, column 2"
    assert all(n not in repr(report) for n in numbers)


def test_a_word_document_with_a_my_number_blocks() -> None:
    rng = random.Random(6)  # noqa: S311 - reproducible test data
    n = make_individual(rng)
    paragraphs = ["扶養控除等申告書", f"マイナンバー {n[:4]} {n[4:8]} {n[8:]}"]
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    xml = f'<w:document xmlns:w="{WORD}"><w:body>{body}</w:body></w:document>'
    report = report_for(_zip({"word/document.xml": xml.encode()}), "申告書.docx")
    assert report.likely == 1
    assert report.places == ["line 2"]


def test_a_csv_in_a_zip_in_a_zip_is_found_and_named() -> None:
    rng = random.Random(7)  # noqa: S311 - reproducible test data
    csv = "氏名,個人番号\n" + "\n".join(f"職員,{make_individual(rng)}" for _ in range(3))
    inner = _zip({"data/list.csv": csv.encode("cp932")})
    report = report_for(_zip({"inner.zip": inner}), "outer.zip")
    assert report.likely == 3
    assert report.unreadable is None


def test_too_deep_too_big_encrypted_or_with_a_dtd_is_said_never_clean(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deep = _zip({"a.txt": b"x"})
    for level in range(containers.MAX_DEPTH + 1):
        deep = _zip({f"level{level}.zip": deep})
    assert report_for(deep, "deep.zip").unreadable == "ZIP files nested too deeply to check"
    monkeypatch.setattr(containers, "MAX_BYTES", 1024 * 1024)  # a bomb, scaled down
    bomb = _zip({"zeros.csv": bytes(4 * 1024 * 1024)})
    assert len(bomb) < 10_000
    assert "too large" in str(report_for(bomb, "bomb.zip").unreadable)
    locked = _zip({"list.csv": b"x"}, encrypted=True)
    assert "encrypted" in str(report_for(locked, "ppap.zip").unreadable)
    laughs = '<!DOCTYPE lolz [<!ENTITY lol "lol">]>'
    assert "DTD" in str(report_for(_xlsx(["123456789018"], doctype=laughs), "x.xlsx").unreadable)
    assert report_for(b"not a zip", "x.docx").unreadable == "damaged or not what its name says"


def test_cells_and_rows_without_references_are_read_in_order() -> None:
    """``r`` is optional in SpreadsheetML: a workbook some tool wrote without it is read,
    never passed as clean; a reference past Excel's edge is refused, not allocated."""
    import io as _io
    import random as _random
    import zipfile as _zipfile

    from secure_send.core.dlp.containers import report_for as _report_for
    from tests.core.dlp.test_numbers import make_individual as _make

    rng = _random.Random(9)  # noqa: S311 - reproducible test data
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

    def book(rows: str) -> bytes:
        buffer = _io.BytesIO()
        with _zipfile.ZipFile(buffer, "w") as archive:
            sheet = f'<worksheet xmlns="{main}"><sheetData>{rows}</sheetData></worksheet>'
            archive.writestr("xl/worksheets/sheet1.xml", sheet)
        return buffer.getvalue()

    def cell(text: str) -> str:
        return f'<c t="inlineStr"><is><t>{text}</t></is></c>'

    rows = "".join(f"<row>{cell('職員')}{cell(_make(rng))}</row>" for _ in range(5))
    report = _report_for(book(f"<row>{cell('氏名')}{cell('個人番号')}</row>{rows}"), "a.xlsx")
    assert report.likely == 5
    assert report.places[0] == "sheet1, row 2, column 2"
    far = f'<row r="2000000">{cell(_make(rng))}</row>'
    assert _report_for(book(far), "b.xlsx").unreadable


def test_places_name_the_sheet_as_its_tab_does(tmp_path: Path) -> None:
    """The clerk looks for 「一覧」, not for the part name sheet1.xml."""
    from secure_send.core.dlp.files import scan_path
    from secure_send.demo.mynumber_demo import dependants_workbook

    book = dependants_workbook(tmp_path, people=2)
    report = scan_path(book, book.name)
    assert report.likely == 4
    assert report.places[0] == "一覧, row 2, column 3"
