"""How fast the sender's machine finds My Numbers (issue 19's targets), run by hand:

    .venv/bin/python benchmarks/bench_dlp.py [--csv-size 100M] [--rows 5000] [--columns 20]

* a CSV of ``--csv-size`` (UTF-8; a name, a 12-digit account-like number, and a row of
  text per line — about one in eleven numbers passes the check digit, as in real data):
  target ≥ 100 MB/s; measured in memory (``report_for``) and from disk through
  ``files.scan_path`` (the send path: 1 MiB pieces, constant memory);
* the same CSV with every text cell quoted (as some systems export), a quarter of
  ``--csv-size``: quotes without a comma or line break inside still go the fast way; a
  cell quoted around a comma sends its 1 MiB piece the exact way (``csv.reader`` and
  every cell);
* an .xlsx of ``--rows`` by ``--columns`` (every cell a 12-digit number typed as a
  number, one column headed 個人番号): target ≤ 1 s; the same as an .xls;
* a PDF of 100 pages of 50 lines (a number on every line);
* what the check adds to a send: an .xlsx of ``--send-xlsx`` zipped (20 MB; a text
  cell and nine 12-digit numbers a row) through ``files.scan_path``, beside the
  encryption of the same file the send does (age to two X25519 recipients, written to a
  temporary file): "check X s + encrypt Y s: the check adds Z %". ``--only-send`` runs
  this line alone.

Reference in the same run: reading the same bytes with ``csv.reader`` and nothing else
(the floor any CSV scan pays), so the table shows what the checking itself costs.
Every number is generated (random digits), never a real one.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

from benchmarks.benchkit import parse_size
from secure_send.core.dlp.containers import report_for
from secure_send.core.dlp.files import scan_path
from secure_send.core.dlp.numbers import individual_check_digit

T = TypeVar("T")
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def make_csv(size: int, rng: random.Random, quote: bool = False) -> bytes:
    q = '"' if quote else ""
    lines = ["氏名,口座,備考"]
    total = 0
    while total < size:
        line = (
            f"{q}職員{rng.randrange(10**6)}{q},{rng.randrange(10**12):012d},{q}振込先の確認済み{q}"
        )
        lines.append(line)
        total += len(line.encode()) + 1
    return "\n".join(lines).encode()


def _individual(rng: random.Random) -> str:
    first = f"{rng.randrange(1, 10)}{rng.randrange(10**10):010d}"
    return first + str(individual_check_digit(first))


def make_xls(rows: int, columns: int, rng: random.Random) -> bytes:
    from tests.core.dlp.xlskit import workbook  # the tests' BIFF8 writer (dev only)

    sheet: list[list[str | float]] = [["個人番号"]]
    sheet += [[float(_individual(rng)) for _ in range(columns)] for _ in range(rows)]
    return workbook({"Sheet1": sheet})


def make_pdf(rng: random.Random) -> bytes:
    from tests.core.dlp.test_documents import make_pdf as pdf  # reportlab (dev only)

    return pdf([[f"申告書 {i} 個人番号 {_individual(rng)}" for i in range(50)] for _ in range(100)])


def make_xlsx(rows: int, columns: int, rng: random.Random, *, text: bool = False) -> bytes:
    """``text``: each row starts with a text cell (a name and a note), as a register's."""

    def column(c: int) -> str:
        return chr(65 + c) if c < 26 else chr(64 + c // 26) + chr(65 + c % 26)

    body = ['<row r="1"><c r="A1" t="inlineStr"><is><t>個人番号</t></is></c></row>']
    for r in range(2, rows + 2):
        cells = []
        if text:
            note = f"職員{rng.randrange(10**6)} 振込先の確認済み {rng.randrange(10**4)}"
            cells.append(f'<c r="A{r}" t="inlineStr"><is><t>{note}</t></is></c>')
        for c in range(text, columns):
            n = _individual(rng)
            cells.append(f'<c r="{column(c)}{r}"><v>{n[0]}.{n[1:]}E+11</v></c>')
        body.append(f'<row r="{r}">{"".join(cells)}</row>')
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData>{"".join(body)}</sheetData></worksheet>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()


def send_figure(size: int, rng: random.Random, folder: Path) -> str:
    """What the check adds to sending an .xlsx of about ``size`` bytes: scan_path on it
    (the send path) beside the encryption the send does (age to two X25519 recipients,
    streamed to a file, as ``secure_send.core.age.encrypt`` with its default workers)."""
    from secure_send.core.age import X25519Identity, encrypt

    sample = make_xlsx(2000, 10, rng, text=True)  # the size per row, then enough rows
    rows = max(1, int(2000 * size / len(sample)))
    path = folder / "register.xlsx"
    path.write_bytes(make_xlsx(rows, 10, rng, text=True))
    zipped = path.stat().st_size / 1e6
    check, found = timed(lambda: scan_path(path, "register.xlsx"))
    recipients = [X25519Identity.generate().recipient for _ in range(2)]

    def encrypt_file() -> None:
        with path.open("rb") as src, (folder / "register.xlsx.age").open("wb") as dst:
            encrypt(src, dst, recipients)

    seal, _ = timed(encrypt_file)
    return (
        f"send of an .xlsx of {zipped:.1f} MB ({rows} rows x 10, 9 numbers a row): "
        f"check {check:.2f} s + encrypt {seal:.2f} s: the check adds "
        f"{100 * check / seal:.0f} % ({found.likely} blocking of {found.individual}"
        f"{', ' + found.unreadable if found.unreadable else ''})"
    )


def timed(run: Callable[[], T]) -> tuple[float, T]:
    """Seconds ``run`` took, and what it returned."""
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv-size", type=parse_size, default=parse_size("100M"))
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--send-xlsx", type=parse_size, default=parse_size("20M"))
    parser.add_argument("--only-send", action="store_true", help="only the send figure")
    args = parser.parse_args()
    if args.only_send:
        with tempfile.TemporaryDirectory() as folder:
            print(send_figure(args.send_xlsx, random.Random(19), Path(folder)))
        return
    rng = random.Random(19)
    data = make_csv(args.csv_size, rng)
    mb = len(data) / 1e6
    floor, _ = timed(lambda: sum(1 for _ in csv.reader(io.StringIO(data.decode()))))
    ours, report = timed(lambda: report_for(data, "list.csv"))
    print(
        f"CSV {mb:.0f} MB: scan {ours:.2f} s = {mb / ours:.0f} MB/s "
        f"(csv.reader alone {floor:.2f} s = {mb / floor:.0f} MB/s; ratio {ours / floor:.1f}x); "
        f"{report.individual} look-alikes warned, {report.likely} blocking"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "list.csv"
        path.write_bytes(data)
        disk, streamed = timed(lambda: scan_path(path, "list.csv"))
    if streamed != report:
        raise SystemExit("the send path's report differs from the in-memory one")
    print(
        f"CSV {mb:.0f} MB from disk (scan_path, the send path): {disk:.2f} s = {mb / disk:.0f} MB/s"
    )
    quoted = make_csv(args.csv_size // 4, rng, quote=True)
    qmb = len(quoted) / 1e6
    one_comma = b'"a,b"\n' + quoted
    for label, body in (("text cells quoted", quoted), ("and one with a comma", one_comma)):
        seconds, _ = timed(partial(report_for, body, "quoted.csv"))
        print(f"CSV {qmb:.0f} MB, {label}: {seconds:.2f} s = {qmb / seconds:.0f} MB/s")
    book = make_xlsx(args.rows, args.columns, rng)
    seconds, found = timed(lambda: report_for(book, "book.xlsx"))
    print(
        f"xlsx {args.rows} x {args.columns} ({len(book) / 1e6:.1f} MB zipped): "
        f"scan {seconds:.2f} s; {found.likely} blocking of {found.individual}"
    )
    old = make_xls(args.rows, args.columns, rng)
    seconds, found = timed(lambda: report_for(old, "book.xls"))
    print(
        f"xls {args.rows} x {args.columns} ({len(old) / 1e6:.1f} MB): "
        f"scan {seconds:.2f} s; {found.likely} blocking of {found.individual}"
    )
    pdf = make_pdf(rng)
    seconds, found = timed(lambda: report_for(pdf, "forms.pdf"))
    print(
        f"PDF 100 pages x 50 lines ({len(pdf) / 1e6:.1f} MB): scan {seconds:.2f} s; "
        f"{found.likely} blocking of {found.individual}"
    )
    with tempfile.TemporaryDirectory() as folder:
        print(send_figure(args.send_xlsx, rng, Path(folder)))


if __name__ == "__main__":
    main()
