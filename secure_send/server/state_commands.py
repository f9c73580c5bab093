"""``secure-send-server --home DIR check|repair|quarantine``: the state folder by hand.

They run where the server runs, on its own folder (the admin tools live on IT's
host). ``check`` only reads; ``repair`` fixes what is safe to fix and says what it
did; ``quarantine`` moves the state aside (never deletes) so that starting empty is
an explicit act. ``repair`` and ``quarantine`` refuse while a server runs.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from dataclasses import asdict
from pathlib import Path
from typing import Any

from secure_send.core.audit import AuditChainError, audit_log_path
from secure_send.server.audit_head import (
    AuditHeadError,
    RecordedAuditLog,
    accept_loss,
    compare_heads,
    record_cut,
    stored_head,
)
from secure_send.server.config import load_config
from secure_send.server.pg_check import NOT_HERE, pg_findings
from secure_send.server.state_check import (
    DB_NAME,
    Finding,
    StateError,
    StateLock,
    inspect,
    inventory,
    open_metadata,
    quarantine,
    state_dir,
)
from secure_send.server.storage import SqliteMetadataStore

COMMANDS = ("check", "repair", "quarantine")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``check``, ``repair`` and ``quarantine``."""
    json_flag: dict[str, Any] = {"action": "store_true", "default": argparse.SUPPRESS}
    s = sub.add_parser("check", help="inspect the server's state (exit 1 on problems)")
    s.add_argument("--json", help="machine-readable output", **json_flag)
    s = sub.add_parser("repair", help="fix what is safely fixable in the server's state")
    s.add_argument("--json", help="machine-readable output", **json_flag)
    s.add_argument(
        "--accept-audit-loss",
        action="store_true",
        help="the audit log lost records from its end: record the loss and go on",
    )
    s = sub.add_parser("quarantine", help="move the server's state aside (nothing is deleted)")
    s.add_argument("--json", help="machine-readable output", **json_flag)


def run(home: Path, args: argparse.Namespace, config_file: Path | None = None) -> int:
    """Run one command; the exit code (1: problems remain).

    Raises:
        StateError: a server is running (``repair``, ``quarantine``) or a move failed,
            or the command does not apply to a server on PostgreSQL.
    """
    json_mode = bool(getattr(args, "json", False))
    config = load_config(home, config_file)
    if config.database_url:
        if args.command != "check":
            raise StateError(NOT_HERE.format(command=args.command))
        return _report(pg_findings(config), json_mode)
    if args.command == "check":
        return _check(home, json_mode)
    if args.command == "repair":
        done = repair(home, accept_audit_loss=args.accept_audit_loss)
        report = inspect(home)
        problems = [f.text for f in report.problems]
        value = {"done": done, "problems": problems}
        lines = [f"done: {d}" for d in done] or ["nothing to repair"]
        lines += [f"PROBLEM: {p}" for p in problems]
        _emit(value, "\n".join(lines), json_mode)
        return 1 if problems else 0
    target, moved = quarantine(home)
    text = (
        f"moved {', '.join(moved)} to {target}; the server now starts with empty state"
        if target
        else "nothing to set aside"
    )
    _emit({"folder": str(target) if target else None, "moved": moved}, text, json_mode)
    return 0


def _check(home: Path, json_mode: bool) -> int:
    return _report(inspect(home).findings, json_mode)


def _report(findings: list[Finding], json_mode: bool) -> int:
    problems = [f for f in findings if f.level == "problem"]
    marks = {"ok": "ok     ", "note": "note   ", "problem": "PROBLEM"}
    text = "\n".join(f"{marks[f.level]} {f.topic}: {f.text}" for f in findings)
    if problems:
        text += (
            f"\n{len(problems)} problem(s): see docs/deployment.md, "
            "'When the server refuses to start'"
        )
    _emit({"findings": [asdict(f) for f in findings], "ok": not problems}, text, json_mode)
    return 1 if problems else 0


def _emit(value: Any, text: str, json_mode: bool) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2) if json_mode else text)


def repair(home: Path, *, accept_audit_loss: bool = False) -> list[str]:
    """Fix what is safe to fix; returns what was done, one phrase each.

    * a torn final audit line is cut off and an ``audit_repair`` record says so;
    * with ``accept_audit_loss``, a log that ends before the head the database stored
      is accepted as it is, and an ``audit_repair`` record (outcome ``tail_lost``,
      size = the records lost) says so;
    * partial uploads no upload row owns are removed (as the server does at start).

    Not fixed (``check`` keeps reporting them): a missing or damaged database, blobs
    nobody references (they may belong to a newer database: never deleted here).
    """
    lock = StateLock(home, exclusive=True)
    try:
        return _repair(home, accept_audit_loss)
    finally:
        lock.release()


def _repair(home: Path, accept_audit_loss: bool) -> list[str]:
    done: list[str] = []
    path = audit_log_path(home)
    meta = _metadata(home)
    audit = RecordedAuditLog(path, meta.query if meta else None)
    try:
        try:
            cut = audit.repair()
        except AuditChainError as err:
            done.append(f"left the audit log as it is: {err.reason}")
            cut = b""
        if cut:
            done.append(f"cut a torn final line ({len(cut)} bytes) off {path}")
        if meta is not None and path.is_file():
            try:
                compare_heads(audit, stored_head(meta.query))
            except AuditHeadError:
                if not accept_audit_loss:
                    if cut:  # recorded once the loss is accepted; the log line says so now
                        done.append("not recorded yet: the audit log's end is missing")
                    return done
                lost = accept_loss(audit, meta.query)
                done.append(f"accepted the loss of {lost} audit record(s) (recorded)")
        record_cut(audit, cut, by="secure-send-server repair")
        if meta is not None:
            done += _orphan_partials(home, meta)
    finally:
        if meta is not None:
            meta.close()
    return done


def _metadata(home: Path) -> SqliteMetadataStore | None:
    """The database if it is there and sound (never created here)."""
    if not (state_dir(home) / DB_NAME).exists():
        return None
    try:
        return open_metadata(home)
    except (StateError, sqlite3.Error):
        return None


def _orphan_partials(home: Path, meta: SqliteMetadataStore) -> list[str]:
    uploads = {str(r[0]) for r in meta.query("SELECT id FROM uploads")}
    stray = inventory(home).partials - uploads
    for upload_id in stray:
        (state_dir(home) / "partial" / upload_id).unlink(missing_ok=True)
    return [f"removed {len(stray)} orphan partial upload(s)"] if stray else []
