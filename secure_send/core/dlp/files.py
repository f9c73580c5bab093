"""Provisional: replaced by the detection branch's file-level scanner (issue 19)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from secure_send.core.dlp.containers import report_for
from secure_send.core.dlp.scan import Report


def scan_path(path: Path, name: str, *, cancelled: Callable[[], bool] = lambda: False) -> Report:
    return report_for(path.read_bytes(), name)


def scan_files(
    items: Sequence[tuple[Path, str]],
    *,
    cancelled: Callable[[], bool] = lambda: False,
    progress: Callable[[int, int], None] | None = None,
) -> list[Report]:
    reports = []
    for done, (path, name) in enumerate(items, 1):
        reports.append(scan_path(path, name, cancelled=cancelled))
        if progress is not None:
            progress(done, len(items))
    return reports
