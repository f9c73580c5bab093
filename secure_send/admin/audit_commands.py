"""``secure-send-admin audit``: verify and export the drop server's audit log."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from secure_send.admin.home import HomeError, OrgHome
from secure_send.admin.views import Output
from secure_send.core.atomic import AtomicOutput, OutputFile
from secure_send.core.audit import AuditLog, audit_log_path
from secure_send.core.encoding import EncodingError, parse_time


def run(home: OrgHome, args: argparse.Namespace, out: Output) -> None:
    """``audit verify`` and ``audit export`` on ``HOME/server/audit.jsonl``."""
    home.require()
    log = AuditLog(audit_log_path(home.path))
    if not log.path.is_file():
        raise HomeError(f"no audit log at {log.path}")
    if args.audit_command == "verify":
        out.audit_verified(log.verify(_head(args.expect_head)))
        return
    since, until = _when(args.since, "--since"), _when(args.until, "--until")
    export = log.export_csv if args.format == "csv" else log.export_json
    if args.output is None:
        export(_Utf8Sink(sys.stdout.buffer), since, until)
        sys.stdout.buffer.flush()
        return
    with AtomicOutput(args.output) as target:
        count = export(_Utf8Sink(target.file), since, until)
        target.commit()
    out.exported(count, args.output)


class _Utf8Sink:
    """Text in, UTF-8 bytes out."""

    def __init__(self, file: OutputFile) -> None:
        self._file = file

    def write(self, text: str, /) -> int:
        self._file.write(text.encode("utf-8"))
        return len(text)


def _when(text: str | None, flag: str) -> datetime | None:
    """``2026-11-27`` (midnight UTC) or ``2026-11-27T09:00:00Z``."""
    if text is None:
        return None
    try:
        return parse_time(text + "T00:00:00Z" if len(text) == 10 else text)
    except EncodingError:
        raise EncodingError(f"{flag}: use 2026-11-27 or 2026-11-27T09:00:00Z") from None


def _head(text: str | None) -> tuple[int, str] | None:
    """``SEQ:HASH`` as printed by ``audit verify``."""
    if text is None:
        return None
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or not digest:
        raise HomeError("--expect-head: use SEQ:HASH as printed by audit verify")
    return int(seq), digest
