"""The send path's entry point: one file on disk, or a list of them, to reports.

* Text, CSV and TSV of any size are read in pieces of about :data:`PIECE` bytes cut at
  line ends (a CSV's also where no quoted cell is open), in constant memory: a CSV keeps
  per-column counters across pieces (:class:`.table.Table`), text keeps its line number
  and the line before. The encoding is the whole file's, as :func:`.scan.decode` decides
  it: if a later piece is not UTF-8, the file is read again as CP932.
* Containers (xlsx, docx, xls, pdf, zip) are read whole, up to
  :data:`.containers.MAX_BYTES`; a larger one is "too large to check".
* A file whose extension says nothing is sniffed: its first 64 KiB without a NUL that
  decode as UTF-8 or CP932 are read as text; anything else (images, video, programs) is
  ``skipped`` — a kind of file that cannot hold text, not a warning.

``cancelled`` is polled between pieces and entries: :class:`.scan.Cancelled`. Nothing is
logged or written, and no error message carries a file's content.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from secure_send.core.dlp import containers
from secure_send.core.dlp.numbers import fold
from secure_send.core.dlp.scan import Cancelled, Report, Unreadable, scan_lines
from secure_send.core.dlp.table import PIECE as TABLE_PIECE
from secure_send.core.dlp.table import Table

PIECE = TABLE_PIECE  # 256 KiB: faster than 1, 4 or 16 MiB on 100 MB (the CPU's cache)
MAX_LINE = 64 * 1024 * 1024  # a line (a CSV record) longer than this: not checked
SNIFF = 64 * 1024
TEXT = (".txt", ".text", ".md", ".log")
TABLES = (".csv", ".tsv")
CONTAINERS = (".xlsx", ".docx", ".xls", ".pdf", ".zip")
_BOM = b"\xef\xbb\xbf"


def _never() -> bool:
    return False


def scan_path(path: Path, name: str, *, cancelled: Callable[[], bool] = _never) -> Report:
    """One file's report; ``name`` (what the recipient sees) decides how it is read."""
    lower = name.lower()
    try:
        if lower.endswith(CONTAINERS):
            return _container(path, name, cancelled)
        if lower.endswith(TABLES):
            return _stream(path, name, cancelled, table=True, tsv=lower.endswith(".tsv"))
        if lower.endswith(TEXT) or _looks_like_text(path):
            return _stream(path, name, cancelled, table=False, tsv=False)
        return Report(name, skipped=True)
    except Unreadable as err:
        return Report(name, unreadable=str(err))
    except OSError:  # gone, or no permission: the OS's message names the path, not kept
        return Report(name, unreadable="could not be read")


def reading_cost(path: Path, name: str) -> int:
    """The bytes :func:`scan_path` would read of this file: all of it for a kind it
    checks, none for one it skips (a 2 GB video costs a 64 KiB sniff). The app decides by
    this whether a check is quick enough to run without a window."""
    lower = name.lower()
    try:
        if lower.endswith((*CONTAINERS, *TABLES, *TEXT)) or _looks_like_text(path):
            return path.stat().st_size
    except OSError:
        return 0  # scan_path says "could not be read" at once
    return 0


def scan_files(
    items: Sequence[tuple[Path, str]],
    *,
    cancelled: Callable[[], bool] = _never,
    progress: Callable[[int, int], None] | None = None,
) -> list[Report]:
    """:func:`scan_path` for each (path, name); ``progress(files done, files total)``."""
    reports = []
    for done, (path, name) in enumerate(items, start=1):
        if cancelled():
            raise Cancelled
        reports.append(scan_path(path, name, cancelled=cancelled))
        if progress is not None:
            progress(done, len(items))
    return reports


def _container(path: Path, name: str, cancelled: Callable[[], bool]) -> Report:
    with path.open("rb") as src:
        data = src.read(containers.MAX_BYTES + 1)
    if len(data) > containers.MAX_BYTES:
        raise Unreadable("too large to check")
    if cancelled():
        raise Cancelled
    return containers.report_for(data, name, containers.Budget(cancelled))


def _looks_like_text(path: Path) -> bool:
    with path.open("rb") as src:
        head = src.read(SNIFF)
    if b"\x00" in head:
        return False
    if len(head) == SNIFF:  # the cut may split a character: keep whole lines
        head = head[: head.rfind(b"\n") + 1]
    for encoding in ("utf-8", "cp932"):
        try:
            head.removeprefix(_BOM).decode(encoding)
        except UnicodeDecodeError:
            continue
        return True
    return False


def _stream(
    path: Path, name: str, cancelled: Callable[[], bool], *, table: bool, tsv: bool
) -> Report:
    for encoding in ("utf-8", "cp932"):
        try:
            with path.open("rb") as src:
                return _read(src, name, cancelled, encoding, table=table, tsv=tsv)
        except UnicodeDecodeError:
            continue
    raise Unreadable("not text in UTF-8 or Shift_JIS")


def _read(
    src: BinaryIO,
    name: str,
    cancelled: Callable[[], bool],
    encoding: str,
    *,
    table: bool,
    tsv: bool,
) -> Report:
    rows = Table(name) if table else None
    report = Report(name)
    line, previous = 1, ""
    for piece in _pieces(src, quotes=table):
        if cancelled():
            raise Cancelled
        if rows is not None and encoding == "utf-8" and not tsv:
            rows.feed_utf8(piece)  # as bytes: decoded only when it must be
            continue
        text = piece.decode(encoding)
        if tsv:
            text = text.replace("\t", ",")
        folded = fold(text)
        if rows is not None:
            rows.feed(folded)
        else:
            line, previous = scan_lines(folded, report, first=line, previous=previous)
    return rows.report() if rows is not None else report


def _pieces(src: BinaryIO, *, quotes: bool) -> Iterator[bytes]:
    """The file in pieces that end at a line end (with ``quotes``: one outside any
    quoted cell — an even number of quotes before it, as a well-formed CSV has)."""
    carry = src.read(PIECE).removeprefix(_BOM)
    while True:
        block = src.read(PIECE)
        buffer = carry + block
        if not block:  # the end of the file: the rest, whatever it ends with
            if buffer:
                yield buffer
            return
        cut = buffer.rfind(b"\n") + 1
        if quotes and b'"' in buffer:  # memchr: most pieces have none to count
            inside = buffer.count(b'"', 0, cut) % 2
            while cut and inside:
                earlier = buffer.rfind(b"\n", 0, cut - 1) + 1
                inside ^= buffer.count(b'"', earlier, cut) % 2
                cut = earlier
        if cut == 0:
            if len(buffer) > MAX_LINE:
                raise Unreadable("a line too long to check (or a quote that never closes)")
            carry = buffer
            continue
        yield buffer[:cut]
        carry = buffer[cut:]
