"""The send path's entry point: files on disk, read in pieces (issue 19, item 1).

The pieces are made small here (a few KiB) so that every boundary case — a quoted cell
with a line break across a cut, a context word on the line before a cut, a CP932 byte
after a first piece that was plain ASCII — is crossed many times; the report must be
the one of the whole file read at once. Every number is generated, never real."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest

from secure_send.core.dlp import containers, files
from secure_send.core.dlp.containers import report_for
from secure_send.core.dlp.scan import Cancelled, scan_text
from tests.core.dlp.test_numbers import make_individual
from tests.core.dlp.test_table import _table


@pytest.fixture(autouse=True)
def _small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "PIECE", 4096)


@pytest.mark.parametrize("style", ["clean", "separators", "blanks", "messy"])
def test_a_table_read_in_pieces_reports_what_it_reports_whole(tmp_path: Path, style: str) -> None:
    text = _table(21, style)
    for name, data in (
        ("list.csv", text.encode()),
        ("list-bom.csv", b"\xef\xbb\xbf" + text.encode()),
        ("list.tsv", text.replace(",", "\t").encode()),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        assert len(data) > 20 * files.PIECE
        report = files.scan_path(path, name)
        assert report == report_for(data, name)
        assert report.individual > 100


def test_text_read_in_pieces_keeps_lines_and_the_line_before(tmp_path: Path) -> None:
    rng = random.Random(22)  # noqa: S311 - reproducible test data
    lines = []
    for i in range(3000):  # a context word, then the number on the next line: blocks
        lines.append("扶養親族の個人番号" if i % 3 == 0 else f"番号 {make_individual(rng)} 確認")
    text = "\r\n".join(lines)
    path = tmp_path / "memo.txt"
    path.write_bytes(text.encode())
    report = files.scan_path(path, "memo.txt")
    assert report == scan_text(text, "memo.txt")
    assert report.likely == 1000  # only the line right under a context line
    assert report.places[0] == "line 2"


def test_a_cp932_file_whose_first_piece_is_ascii_is_read_as_cp932(tmp_path: Path) -> None:
    rng = random.Random(23)  # noqa: S311 - reproducible test data
    head = "".join(f"id{i},{make_individual(rng)}\n" for i in range(2000))  # ASCII
    tail = "".join(f"職員,{make_individual(rng)}\n" for i in range(50))
    data = head + tail
    path = tmp_path / "shift_jis.csv"
    path.write_bytes(data.encode("cp932"))
    assert len(head) > 4 * files.PIECE
    report = files.scan_path(path, "shift_jis.csv")
    assert report.unreadable is None
    assert report == report_for(data.encode("cp932"), "shift_jis.csv")
    assert report.individual == 2050


def test_files_that_cannot_hold_text_are_skipped_text_without_a_name_is_read(
    tmp_path: Path,
) -> None:
    image = tmp_path / "photo.bin"
    image.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    report = files.scan_path(image, "photo.jpg")
    assert report.skipped
    assert not report.warning
    assert not report.blocking
    assert report.unreadable is None
    notes = tmp_path / "notes"
    notes.write_bytes("個人番号 123456789018\n".encode("cp932"))
    found = files.scan_path(notes, "notes.dat")
    assert not found.skipped
    assert found.likely == 1
    random_bytes = tmp_path / "blob"
    random_bytes.write_bytes(random.Random(24).randbytes(200_000))  # noqa: S311
    assert files.scan_path(random_bytes, "blob.iso").skipped


def test_bounds_missing_files_and_a_quote_that_never_closes_are_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = tmp_path / "big.zip"
    with zipfile.ZipFile(book, "w") as archive:
        archive.writestr("a.txt", "x" * 5000)
    monkeypatch.setattr(containers, "MAX_BYTES", 1000)
    assert files.scan_path(book, "big.zip").unreadable == "too large to check"
    assert files.scan_path(tmp_path / "gone.csv", "gone.csv").unreadable == "could not be read"
    monkeypatch.setattr(files, "MAX_LINE", 64 * 1024)
    unclosed = tmp_path / "open.csv"
    unclosed.write_bytes(b'a,"b\n' + b"x,123456789018\n" * 10_000)
    report = files.scan_path(unclosed, "open.csv")
    assert report.unreadable is not None
    assert "too long" in report.unreadable


def test_cancel_stops_between_pieces_and_entries_and_progress_counts_files(
    tmp_path: Path,
) -> None:
    big = tmp_path / "big.csv"
    big.write_bytes(_table(25, "clean").encode())
    polls = iter(range(1000))
    with pytest.raises(Cancelled):
        files.scan_path(big, "big.csv", cancelled=lambda: next(polls) >= 3)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        for i in range(5):
            out.writestr(f"{i}.txt", "x")
    bundle = tmp_path / "b.zip"
    bundle.write_bytes(archive.getvalue())
    polls = iter(range(1000))
    with pytest.raises(Cancelled):
        files.scan_path(bundle, "b.zip", cancelled=lambda: next(polls) >= 3)
    seen: list[tuple[int, int]] = []
    items = [(big, "big.csv"), (bundle, "b.zip"), (tmp_path / "gone", "gone.txt")]
    reports = files.scan_files(items, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert [r.name for r in reports] == ["big.csv", "b.zip", "gone.txt"]
    assert reports[2].unreadable == "could not be read"


def test_the_reading_cost_counts_only_what_a_check_reads(tmp_path: Path) -> None:
    """A large file of a kind the check skips costs nothing (the app checks at once);
    one it reads costs its size (the app checks on a task, with a Cancel window)."""
    from secure_send.core.dlp.files import reading_cost

    blob = tmp_path / "report.bin"
    blob.write_bytes(bytes(range(256)) * 8192)  # 2 MiB with NULs: not text
    table = tmp_path / "a.csv"
    table.write_bytes(b"a,b\n" * 1000)
    notes = tmp_path / "notes"  # no extension, but text
    notes.write_text("メモ\n" * 100, encoding="utf-8")
    assert reading_cost(blob, blob.name) == 0
    assert reading_cost(table, table.name) == 4000
    assert reading_cost(notes, notes.name) == notes.stat().st_size
    assert reading_cost(tmp_path / "gone.csv", "gone.csv") == 0
