"""The fast CSV pass gives the report the cell-by-cell one gives (issue 19, item 1).

The reference is :func:`scan_rows` over ``csv.reader``: every cell, the plain rules.
Tables are generated (numbers with valid check digits on random digits, never real
ones) in the shapes that decide which way a piece goes: clean (the fast pass, its
lanes), with separators (the fast pass, through CANDIDATE), and messy (quotes with
commas and line breaks, blank cells, full-width digits: the exact way)."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import pytest

from secure_send.core.dlp import fastcheck
from secure_send.core.dlp import table as table_module
from secure_send.core.dlp.files import scan_path
from secure_send.core.dlp.numbers import corporate_check_digit, fold
from secure_send.core.dlp.scan import Report, scan_bytes, scan_csv, scan_rows
from secure_send.core.dlp.table import Table
from tests.core.dlp.test_numbers import full_width, make_individual

HEADERS = ("氏名", "個人番号", "口座", "備考", "番号", "電話", "法人番号", "管理コード")


def _corporate(rng: random.Random) -> str:
    base = f"{rng.randrange(10**12):012d}"
    return str(corporate_check_digit(base)) + base


def _cell(rng: random.Random, style: str) -> str:
    roll = rng.random()
    if roll < 0.3:
        number = make_individual(rng)
    elif roll < 0.55:
        number = f"{rng.randrange(10**12):012d}"  # about 1 in 11 passes by chance
    elif roll < 0.6:
        number = _corporate(rng)
    elif roll < 0.65:
        number = f"{make_individual(rng)}x{make_individual(rng)}"  # two in one cell
    else:
        words = ("職員", "振込済み", "abc", f"{rng.randrange(10**6)}")
        return rng.choice(words if style == "clean" else (*words, "03-1234-5678"))
    if style == "clean":
        return number
    grouped = f"{number[:4]}-{number[4:8]} {number[8:]}" if len(number) == 12 else number
    if style == "separators":
        return rng.choice((number, grouped))
    if style == "quoted":  # every cell quoted, as some systems export: still fast
        return '"' + rng.choice((number, grouped, f'{number}""注', "職員")) + '"'
    if style == "blanks":  # no quotes: the blank cells alone send it the exact way
        return rng.choice((number, number, number, "", " "))
    return rng.choice(
        (
            number,
            full_width(grouped),
            f'"{number}, 確認済み"',  # a quoted comma
            f'"備考\n{number}"',  # a quoted line break
            "",
            " ",
            grouped,
        )
    )


def _table(seed: int, style: str, rows: int = 3000, *, ragged: bool = True) -> str:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data
    width = rng.randrange(3, 8)
    lines = [",".join(rng.choice(HEADERS) for _ in range(width))]
    for _ in range(rows):
        # ragged, as many real exports are; or as many cells on every line, as others
        cells = rng.randrange(width - 1, width + 2) if ragged else width
        # some columns all numbers (dense), the others mixed
        row = [  # column 1: numbers only (a dense column), but for blank cells
            make_individual(rng) if c == 1 and style != "messy" else _cell(rng, style)
            for c in range(cells)
        ]
        lines.append(",".join(row))
    return rng.choice(("\n", "\r\n")).join(lines) + rng.choice(("", "\n"))


def _reference(text: str) -> Report:
    rows = list(csv.reader(io.StringIO(fold(text))))
    return scan_rows(rows, "t.csv", folded=True)


@pytest.mark.parametrize("style", ["clean", "separators", "quoted", "blanks", "messy"])
@pytest.mark.parametrize("seed", range(4))
def test_the_fast_pass_reports_what_every_cell_reports(style: str, seed: int) -> None:
    text = _table(seed, style)
    fast, reference = scan_csv(text, "t.csv"), _reference(text)
    assert fast == reference
    assert reference.individual > 100  # the tables do hold numbers
    if style == "clean":
        assert reference.likely > 0  # the dense column
        assert reference.warning  # and the chance look-alikes


@pytest.mark.parametrize("style", ["clean", "separators", "quoted"])
@pytest.mark.parametrize("seed", range(3))
def test_tables_with_as_many_cells_on_every_line_report_the_same(style: str, seed: int) -> None:
    """Their pieces' lines all look alike: counted from the marks alone (Regular)."""
    text = _table(seed, style, ragged=False).rstrip("\r\n") + "\n"
    fast, reference = scan_csv(text, "t.csv"), _reference(text)
    assert fast == reference
    assert reference.individual > 100
    data = fold(text).encode()
    assert isinstance(fastcheck.shape(data, fastcheck.numbers(data)), fastcheck.Regular)


def test_the_clean_tables_take_the_fast_way_and_the_messy_ones_do_not() -> None:
    ways = {"clean": True, "separators": True, "quoted": True, "blanks": False, "messy": False}
    for style, fast in ways.items():
        data = fold(_table(1, style)).encode()
        way = (
            (b'"' not in data or fastcheck.quotes_are_plain(data))
            and (b"\r" not in data or data.count(b"\r") == data.count(b"\r\n"))
            and fastcheck.every_cell_filled(data)
        )
        assert way is fast, style


def _fed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, bool]]:
    """Each piece a table reads, and whether it went the fast way."""
    monkeypatch.setattr(table_module, "PIECE", 2048)
    pieces: list[tuple[bytes, bool]] = []
    lines, records = Table._feed_lines, Table._feed_records

    def fast(self: Table, data: bytes) -> None:
        pieces.append((data, True))
        lines(self, data)

    def exact(self: Table, text: str) -> None:
        pieces.append((text.encode(), False))
        records(self, text)

    monkeypatch.setattr(Table, "_feed_lines", fast)
    monkeypatch.setattr(Table, "_feed_records", exact)
    return pieces


def _scan_utf8(text: str, name: str) -> Report:
    return scan_bytes(text.encode(), name)


def test_a_whole_file_is_fed_in_pieces_and_reports_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pieces = _fed(monkeypatch)
    for style in ("clean", "separators", "quoted", "blanks", "messy"):
        text = _table(11, style)
        for report in (scan_csv, _scan_utf8):
            pieces.clear()
            assert report(text, "t.csv") == _reference(text)
            assert len(pieces) > 20  # it was cut
            assert b"".join(data for data, _ in pieces) == fold(text).encode()
            assert any(fast for _, fast in pieces) is (style in ("clean", "separators", "quoted"))


def test_the_bytes_read_the_fast_way_only_when_folding_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """UTF-8 is read as bytes, piece by piece (never decoded as a whole); a piece that
    folding changes (full-width digits, a dash between digits) is folded first, and
    CP932 — the same table — is decoded: the same report every way, and the file's."""
    pieces = _fed(monkeypatch)
    rng = random.Random(14)  # noqa: S311 - reproducible test data
    rows = [f"職員{i},{make_individual(rng)},確認済み" for i in range(2000)]
    n = make_individual(rng)
    rows[500] = f"職員,{full_width(n)},全角"
    rows[1500] = f"職員,{n[:4]}\u30fc{n[4:8]}\u30fc{n[8:]},長音"  # ー between digits
    text = "氏名,マイナンバー,備考\n" + "\n".join(rows) + "\n"
    reference = _reference(text)
    assert reference.likely == 2000  # the two written otherwise are found too
    for encoding in ("utf-8", "cp932"):
        raw = text.encode(encoding)
        pieces.clear()
        assert scan_bytes(raw, "t.csv") == reference, encoding
        (tmp_path / "t.csv").write_bytes(raw)
        assert scan_path(tmp_path / "t.csv", "t.csv") == reference, encoding
        assert all(fast for _, fast in pieces)
        read = b"".join(data for data, _ in pieces)  # twice: scan_bytes and scan_path
        assert b"\xef\xbc" not in read  # no full-width digit: folded
        assert read.count(f"{n[:4]}-{n[4:8]}-{n[8:]}".encode()) == 2


def test_a_full_width_quote_is_folded_before_the_file_is_cut(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """U+FF02 folds to a quote: a cut counted on the raw bytes could fall inside the quoted
    cell it makes, so such a file is folded as a whole first."""
    monkeypatch.setattr(table_module, "PIECE", 90)  # records are 28 bytes: cuts inside
    n = make_individual(random.Random(15))  # noqa: S311 - reproducible test data
    text = "備考,個人番号\n" + "\uff02一行目\n二行目\uff02,x\n" * 200 + f"y,{n}\n"
    report = scan_bytes(text.encode(), "t.csv")
    assert report == _reference(text)
    assert report.places == ["row 202, column 2"]


def test_a_table_fed_in_pieces_reports_what_it_reports_whole() -> None:
    for style in ("clean", "separators"):
        text = _table(7, style)
        lines = text.splitlines(keepends=True)
        table = Table("t.csv")
        for start in range(0, len(lines), 700):
            table.feed(fold("".join(lines[start : start + 700])))
        assert table.report() == _reference(text)


def test_two_numbers_in_one_cell_count_as_two_cells_of_the_column() -> None:
    """scan_rows' density counts each extra number of a cell as a filled cell: here 4
    valid of 6 (not dense); counted per cell it would be 4 of 4 (dense)."""
    rng = random.Random(9)  # noqa: S311 - reproducible test data
    pairs = [f"{make_individual(rng)}x{make_individual(rng)}" for _ in range(2)]
    text = "a,b\n" + "\n".join(f"k,{cell}" for cell in (*pairs, "abc", "abc"))
    assert _reference(text).likely == 0
    assert scan_csv(text, "t.csv") == _reference(text)


def test_columns_first_seen_late_keep_scan_rows_order_across_pieces() -> None:
    """Places go column by column, in the order columns first hold a cell. A first piece
    (blank cells: the exact way) fills column 3 only; a later fast piece fills 1 and 2."""
    rng = random.Random(10)  # noqa: S311 - reproducible test data
    first = "a,,,d\n" + "".join(f"x,,,{make_individual(rng)}\n" for _ in range(3))
    second = "".join(
        f"x,{make_individual(rng)},{make_individual(rng)},{make_individual(rng)}\n"
        for _ in range(3)
    )
    table = Table("t.csv")
    table.feed(first)
    table.feed(second)
    reference = _reference(first + second)
    assert reference.places[0] == "row 2, column 4"
    assert table.report() == reference


def test_an_empty_quoted_cell_is_blank_and_a_quoted_comma_goes_the_exact_way() -> None:
    rng = random.Random(12)  # noqa: S311 - reproducible test data
    rows = [f'"x",{make_individual(rng)}' for _ in range(4)] + ['"x",""', '"x"," "']
    # density: 4 of 5 filled cells (the header "b" is one; the last two are blank)
    text = "a,b\n" + "\n".join(rows)
    assert scan_csv(text, "t.csv") == _reference(text)
    assert _reference(text).likely == 4
    data = text.encode()
    assert fastcheck.quotes_are_plain(data)
    assert not fastcheck.every_cell_filled(data)
    assert not fastcheck.quotes_are_plain(b'"a,b",1\n')
    assert not fastcheck.quotes_are_plain(b'"a\nb",1\n')
    assert not fastcheck.quotes_are_plain(b'"never closed,1\n')


def test_a_piece_is_never_cut_inside_a_quoted_line_break(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every record holds a quoted line break; the one number at the end must be on
    the row csv.reader counts, which a cut inside a quote would move."""
    monkeypatch.setattr(table_module, "PIECE", 100)
    n = make_individual(random.Random(13))  # noqa: S311 - reproducible test data
    text = "備考,個人番号\n" + '"一行目\n二行目",x\n' * 200 + f"y,{n}\n"
    report = scan_csv(text, "t.csv")
    assert report == _reference(text)
    assert report.places == ["row 202, column 2"]


def test_a_csv_csv_reader_refuses_is_said_not_raised() -> None:
    # a lone carriage return (old Mac line ends): csv.reader refuses it; the file is
    # "could not be checked", never an exception in the send path and never clean
    report = scan_bytes(b"a,b\r1,123456789018\r", "mac.csv")
    assert report.unreadable is not None
    assert report.unreadable.startswith("damaged CSV")
