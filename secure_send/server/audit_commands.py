"""``secure-send-server --home DIR audit``: verify and export the server's audit log.

Several servers over PostgreSQL (``--config FILE`` naming ``[database] url``) share one
chain in the database (:mod:`.pg_audit`); the commands read it there. Otherwise the
audit log lives in the drop server's own folder (``HOME/server/audit.jsonl``);
these commands only read it. ``verify`` also compares the log with the head the
server stored in its database (:mod:`.audit_head`), so records cut from the end are
found without an ``--expect-head`` recorded by hand.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from secure_send.core.atomic import AtomicOutput, OutputFile
from secure_send.core.audit import AuditLog, VerifyReport, audit_log_path
from secure_send.core.encoding import EncodingError, parse_time
from secure_send.core.errors import SecureSendError
from secure_send.server.audit_head import stored_head
from secure_send.server.config import load_config
from secure_send.server.metadata import open_postgres
from secure_send.server.pg_audit import PgAuditLog


class AuditCommandError(SecureSendError):
    """No audit log where one was expected, or a malformed option."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``audit verify`` and ``audit export``."""
    audit = sub.add_parser("audit", help="the audit log (verify, export)")
    asub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    s = asub.add_parser("verify", help="check the hash chain of the audit log")
    s.add_argument("--expect-head", metavar="SEQ:HASH", help="a head recorded earlier")
    s = asub.add_parser("export", help="export records for a breach report")
    s.add_argument("--format", choices=("csv", "json"), required=True)
    s.add_argument("--since", metavar="TIME", help="from TIME (2026-11-27 or …T09:00:00Z)")
    s.add_argument("--until", metavar="TIME", help="before TIME (exclusive)")
    s.add_argument("-o", "--output", type=Path, metavar="FILE", help="default: stdout")


def run(home: Path, args: argparse.Namespace, config_file: Path | None = None) -> None:
    """``audit verify`` and ``audit export`` on ``HOME/server/audit.jsonl``, or on the
    shared ``audit_records`` table when the server's config names a PostgreSQL
    database (several servers: one chain)."""
    config = load_config(home, config_file)
    if config.database_url:
        meta = open_postgres(config)
        try:
            _run(PgAuditLog(meta), None, args)
        finally:
            meta.close()
        return
    log = AuditLog(audit_log_path(home))
    if not log.path.is_file():
        raise AuditCommandError(f"no audit log at {log.path}")
    _run(log, home, args)


def _run(log: AuditLog, home: Path | None, args: argparse.Namespace) -> None:
    if args.audit_command == "verify":
        stored = _stored_head(home) if home is not None else None
        if stored is not None:
            log.verify(stored)
        _verified(log.verify(_head(args.expect_head)), args.json, stored)
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
    _emit(
        {"records": count, "file": str(args.output)},
        f"Exported {count} records to {args.output}",
        args.json,
    )


def _emit(value: Any, text: str, json_mode: bool) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2) if json_mode else text)


def _stored_head(home: Path) -> tuple[int, str] | None:
    """The head the server stored in ``HOME/server/meta.sqlite`` (read-only), if any."""
    db = home / "server" / "meta.sqlite"
    if not db.is_file():
        return None
    try:
        conn = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            return stored_head(lambda sql, params: conn.execute(sql, params).fetchall())
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        raise AuditCommandError(f"{db}: {err} (see secure-send-server check)") from None


def _verified(report: VerifyReport, json_mode: bool, stored: tuple[int, str] | None) -> None:
    head = f"{report.head_seq}:{report.head_hash}"
    also = f"; matches the head the database stored (seq {stored[0]})" if stored else ""
    text = (
        f"OK: {report.records} audit records, {report.first_time} to {report.last_time}{also}\n"
        f"  head {head} (record it elsewhere; later: --expect-head {head})"
        if report.records
        else "OK: the audit log is empty"
    )
    value = {
        **asdict(report),
        "head": head,
        "stored_head": f"{stored[0]}:{stored[1]}" if stored else None,
    }
    _emit(value, text, json_mode)


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
        raise AuditCommandError("--expect-head: use SEQ:HASH as printed by audit verify")
    return int(seq), digest
