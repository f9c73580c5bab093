"""How fast the sender's machine finds My Numbers (issue 19's targets), run by hand:

    .venv/bin/python benchmarks/bench_dlp.py [--csv-size 100M] [--rows 5000] [--columns 20]

* a CSV of ``--csv-size`` (UTF-8; a name, a 12-digit account-like number, and a row of
  text per line — about one in eleven numbers passes the check digit, as in real data):
  target ≥ 100 MB/s;
* an .xlsx of ``--rows`` by ``--columns`` (every cell a 12-digit number typed as a
  number, one column headed 個人番号): target ≤ 1 s.

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
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

from benchmarks.benchkit import parse_size
from secure_send.core.dlp.containers import report_for
from secure_send.core.dlp.numbers import individual_check_digit

T = TypeVar("T")
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def make_csv(size: int, rng: random.Random) -> bytes:
    lines = ["氏名,口座,備考"]
    total = 0
    while total < size:
        line = f"職員{rng.randrange(10**6)},{rng.randrange(10**12):012d},振込先の確認済み"
        lines.append(line)
        total += len(line.encode()) + 1
    return "\n".join(lines).encode()


def make_xlsx(rows: int, columns: int, rng: random.Random) -> bytes:
    def column(c: int) -> str:
        return chr(65 + c) if c < 26 else chr(64 + c // 26) + chr(65 + c % 26)

    body = ['<row r="1"><c r="A1" t="inlineStr"><is><t>個人番号</t></is></c></row>']
    for r in range(2, rows + 2):
        cells = []
        for c in range(columns):
            first = f"{rng.randrange(1, 10)}{rng.randrange(10**10):010d}"
            n = first + str(individual_check_digit(first))
            cells.append(f'<c r="{column(c)}{r}"><v>{n[0]}.{n[1:]}E+11</v></c>')
        body.append(f'<row r="{r}">{"".join(cells)}</row>')
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData>{"".join(body)}</sheetData></worksheet>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()


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
    args = parser.parse_args()
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
    book = make_xlsx(args.rows, args.columns, rng)
    seconds, found = timed(lambda: report_for(book, "book.xlsx"))
    print(
        f"xlsx {args.rows} x {args.columns} ({len(book) / 1e6:.1f} MB zipped): "
        f"scan {seconds:.2f} s; {found.likely} blocking of {found.individual}"
    )


if __name__ == "__main__":
    main()
