"""Scanning text and CSV: recall on generated My Numbers, and no block for the
check-digit look-alikes that fill real documents (issue 19's corpus rules). Every
number here is generated (valid check digits on random digits), never a real one."""

from __future__ import annotations

import random

from secure_send.core.dlp.numbers import is_individual_number
from secure_send.core.dlp.scan import Report, scan_bytes, scan_csv, scan_text
from tests.core.dlp.test_numbers import full_width, make_individual


def _valid_lookalikes(rng: random.Random, count: int) -> list[str]:
    """Random 12-digit strings that happen to pass the check digit."""
    found: list[str] = []
    while len(found) < count:
        candidate = f"{rng.randrange(10**12):012d}"
        if is_individual_number(candidate):
            found.append(candidate)
    return found


def test_every_my_number_in_context_is_found_and_blocks() -> None:
    rng = random.Random(1)  # noqa: S311 - reproducible test data
    numbers = [make_individual(rng) for _ in range(400)]
    lines = []
    for i, n in enumerate(numbers):
        grouped = f"{n[:4]}-{n[4:8]}-{n[8:]}"
        lines.append(
            (
                f"個人番号: {n}",
                f"マイナンバー　{full_width(grouped)}",
                f"扶養親族の個人番号 {n[:4]} {n[4:8]} {n[8:]}",
                f"My Number {n}",
            )[i % 4]
        )
    # a blank line between: each line's own context word must count
    report = scan_text("\n\n".join(lines), "a.txt")
    assert report.individual == report.likely == len(numbers)  # recall 100 %
    assert report.blocking
    for n in numbers:  # places and counts only: never a number
        assert n not in repr(report)


def test_ten_thousand_lookalikes_warn_but_never_block() -> None:
    """Phone, account and invoice numbers with a valid check digit by chance."""
    rng = random.Random(2)  # noqa: S311 - reproducible test data
    fakes = _valid_lookalikes(rng, 10_000)
    labels = ("口座番号なし 振込先", "請求書 No.", "注文ID", "電話", "管理コード")
    text = "\n".join(f"{labels[i % len(labels)]} {n} 円" for i, n in enumerate(fakes))
    report = scan_text(text, "invoices.txt")
    assert report.individual == len(fakes)
    assert report.likely == 0  # no false block
    assert report.warning
    assert not report.blocking


def test_a_csv_column_named_or_full_of_numbers_blocks_a_mixed_one_does_not() -> None:
    rng = random.Random(3)  # noqa: S311 - reproducible test data
    rows = ["氏名,個人番号,電話番号,口座"]
    for i in range(50):
        account = f"{rng.randrange(10**12):012d}"  # ~1 in 11 passes: a mixed column
        rows.append(f"職員{i},{make_individual(rng)},03-1234-{i:04d},{account}")
    report = scan_csv("\n".join(rows), "nenmatsu.csv")
    named = 50
    assert report.likely == named
    assert report.individual > named  # the account column's chance passes: warned only
    # the same numbers under a header that names nothing: a dense column still blocks
    plain = ["a,b"] + [f"x{i},{make_individual(rng)}" for i in range(10)]
    assert scan_csv("\n".join(plain), "b.csv").likely == 10
    # a column of two is too short to judge by density: warned only
    short = ["a,b", f"x,{make_individual(rng)}", f"y,{make_individual(rng)}"]
    report = scan_csv("\n".join(short), "c.csv")
    assert report.likely == 0
    assert report.warning


def test_excel_csv_in_shift_jis_and_utf8_with_bom() -> None:
    rng = random.Random(4)  # noqa: S311 - reproducible test data
    text = "氏名,マイナンバー\r\n" + "\r\n".join(
        f"職員{i},{make_individual(rng)}" for i in range(5)
    )
    for data in (text.encode("cp932"), b"\xef\xbb\xbf" + text.encode("utf-8")):
        report = scan_bytes(data, "給与.CSV")
        assert report.unreadable is None
        assert report.likely == 5
        assert report.places[0] == "row 2, column 2"


def test_what_cannot_be_checked_is_said_never_called_clean() -> None:
    garbage = bytes(range(256)) * 4
    assert scan_bytes(garbage, "x.csv").unreadable == "not text in UTF-8 or Shift_JIS"
    report = scan_bytes(b"PK\x03\x04", "book.xlsx")
    assert report.unreadable is not None
    assert not report.blocking
    assert isinstance(report, Report)


def test_corporate_numbers_are_counted_never_blocking() -> None:
    report = scan_text("法人番号 7000012050002", "c.txt")
    assert report.corporate == 1
    assert report.individual == 0
    assert not report.blocking
