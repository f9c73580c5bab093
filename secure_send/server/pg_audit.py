"""The audit log in PostgreSQL, for several servers (issue 18).

One hash chain for the whole service: every server appends to the ``audit_records``
table, one append at a time across servers (a transaction-scoped advisory lock), each
record chained to the one before it exactly as in ``audit.jsonl``
(:mod:`secure_send.core.audit`: the same record lines, so ``verify``, the exports and
an auditor's tools read both alike). A record is committed before the request it
records is answered, like the file's fsync.

A file's tail can be cut by whoever holds the disk; a table's rows can be deleted by
whoever holds the database. The defence is the same: IT notes the head (``audit
verify`` prints it) outside the server, and ``verify --expect-head SEQ:HASH`` shows
records removed after it. The file's separate ``audit_head`` row adds nothing here (it
would live in the same database as the records), so this log has no torn lines to
repair and no head to compare at start-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from secure_send.core.audit import AuditLog, AuditRecord
from secure_send.core.audit_record import parse_line
from secure_send.server.pg_store import PostgresMetadataStore

AUDIT_LOCK = 0x5EC5E4D0003  # advisory lock: one append at a time, every server
PAGE = 5000  # records read per query by verify and the exports


class PgAuditLog(AuditLog):
    """:class:`AuditLog` whose records live in the shared database."""

    def __init__(self, db: PostgresMetadataStore) -> None:
        super().__init__(Path("postgresql:audit_records"))  # a name for messages only
        self.db = db

    def _chain(self, draft: AuditRecord) -> AuditRecord:
        """See :meth:`AuditLog._chain`; serialised across servers by an advisory lock."""
        with self.db.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (AUDIT_LOCK,))
            row = conn.execute(
                "SELECT line FROM audit_records ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            last = parse_line(-1, bytes(row[0])) if row else None
            record = draft if last is None else replace(draft, seq=last.seq + 1, prev=last.digest())
            conn.execute(
                "INSERT INTO audit_records (seq, line) VALUES (%s, %s)",
                (record.seq, record.line()),
            )
        return record

    def head(self) -> tuple[int, str]:
        """``(seq, hash)`` of the last record, or ``(-1, "")`` when empty."""
        rows = self.db.query("SELECT line FROM audit_records ORDER BY seq DESC LIMIT 1")
        if not rows:
            return (-1, "")
        last = parse_line(-1, bytes(rows[0][0]))
        return (last.seq, last.digest())

    def repair(self) -> bytes:
        """Nothing to repair: a row is written whole or not at all."""
        return b""

    def _raw_lines(self) -> Iterator[tuple[int, bytes]]:
        """Every record line in seq order, a page at a time (keyset: ``seq > last``)."""
        after, pos = -1, 0
        while True:
            rows: list[tuple[Any, ...]] = self.db.query(
                "SELECT seq, line FROM audit_records WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, PAGE),
            )
            for seq, line in rows:
                yield pos, bytes(line)
                pos += 1
                after = int(seq)
            if len(rows) < PAGE:
                return
