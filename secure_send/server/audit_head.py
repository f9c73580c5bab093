"""The audit log's head kept in the server's database, and the log's start-up repair.

The hash chain of ``audit.jsonl`` cannot show that records were cut from its end
(:mod:`secure_send.core.audit`). So every append also stores the new head
``(seq, hash)`` in the ``audit_head`` table, right after the record is fsynced
(the file first: after a crash the database's head is the file's or one behind,
never ahead). :func:`open_audit` runs at start-up: it cuts a torn final line (a
write a power loss interrupted) and records that it did, then compares the file's
head with the stored one; a file that ends before the stored head, or whose record
at that seq differs, is refused (:class:`AuditHeadError`), never silently accepted.
``audit verify`` and ``check`` compare with the stored head too.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from secure_send.core.audit import AuditAction, AuditChainError, AuditLog, AuditRecord
from secure_send.core.errors import SecureSendError

log = logging.getLogger("secure_send.server")

Query = Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]
Head = tuple[int, str]


class AuditHeadError(SecureSendError):
    """The audit log does not reach the head stored in the database."""


def stored_head(query: Query) -> Head | None:
    """The head stored in the database, or None (no record yet, or a database from
    before the table existed)."""
    try:
        rows = query("SELECT seq, hash FROM audit_head WHERE id = 1", ())
    except sqlite3.OperationalError:  # no such table: an older, unmigrated database
        return None
    return (int(rows[0][0]), str(rows[0][1])) if rows else None


def store_head(query: Query, head: Head) -> None:
    """Store ``head``; only ever forwards (appends from several threads store out of order)."""
    query(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE "
        "SET seq = excluded.seq, hash = excluded.hash WHERE excluded.seq > audit_head.seq",
        head,
    )


def replace_head(query: Query, head: Head) -> None:
    """Store ``head`` even if it is behind the stored one (an accepted loss)."""
    query(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE "
        "SET seq = excluded.seq, hash = excluded.hash",
        head,
    )


class RecordedAuditLog(AuditLog):
    """An :class:`AuditLog` whose every append also stores the new head in the database."""

    def __init__(self, path: Path, query: Query | None) -> None:
        super().__init__(path)
        self._query = query

    def append(self, **fields: Any) -> AuditRecord:
        """See :meth:`AuditLog.append`; then the head goes to the database.

        A failed store (a full disk, the database closed at shutdown) is logged, not
        raised: the record is already durable, the next append stores a newer head,
        and a head behind the file is still checked (:func:`compare_heads`)."""
        record = super().append(**fields)
        if self._query is not None:
            try:
                store_head(self._query, (record.seq, record.digest()))
            except sqlite3.Error as err:
                log.warning("could not store the audit log's head in the database: %s", err)
        return record


def compare_heads(audit: AuditLog, stored: Head | None) -> None:
    """Raise :class:`AuditHeadError` unless the log reaches the stored head unchanged.

    Cheap in the usual case (the heads are equal: only the last line is read); a file
    ahead of the stored head (a crash between the fsync and the store) is scanned.
    """
    if stored is None:
        return
    try:
        head = audit.head()
        if head == stored:
            return
        if head[0] > stored[0]:
            audit.verify(expected_head=stored)
            return
    except AuditChainError as err:
        raise AuditHeadError(f"{audit.path}: {err}") from None
    if head[0] < stored[0]:
        lost = stored[0] - head[0]
        raise AuditHeadError(
            f"{audit.path} ends at seq {head[0]} but the database recorded seq {stored[0]}: "
            f"{lost} record(s) were removed from its end"
        )
    raise AuditHeadError(
        f"{audit.path}: the record at seq {stored[0]} differs from the head the database recorded"
    )


def record_cut(audit: AuditLog, cut: bytes, *, by: str) -> None:
    """Append the ``audit_repair`` record of a torn final line :meth:`AuditLog.repair`
    cut off (outcome ``torn_line_removed``, size = the bytes cut); nothing if none was."""
    if cut:
        log.warning("%s: cut off a torn final line (%d bytes) by %s", audit.path, len(cut), by)
        audit.append(action=AuditAction.AUDIT_REPAIR, size=len(cut), outcome="torn_line_removed")


def accept_loss(audit: AuditLog, query: Query) -> int:
    """Make the stored head the file's own and record how many records were lost
    (``audit_repair``, outcome ``tail_lost``); returns that number."""
    stored = stored_head(query)
    head = audit.head()
    lost = max(0, stored[0] - head[0]) if stored else 0
    replace_head(query, head)
    audit.append(action=AuditAction.AUDIT_REPAIR, size=lost, outcome="tail_lost")
    return lost


def open_audit(path: Path, query: Query) -> RecordedAuditLog:
    """The server's audit log at start-up: torn tail cut, head compared, cut recorded.

    The cut is recorded only after the comparison, so its record cannot hide a lost
    tail. A database without a stored head (one from before this table) adopts the
    file's.

    Raises:
        AuditHeadError: records were removed from the end, or the last one changed.
        AuditChainError: the final line is too long to be a record (not a torn write).
    """
    audit = RecordedAuditLog(path, query)
    cut = audit.repair()
    stored = stored_head(query)
    try:
        compare_heads(audit, stored)
    except AuditHeadError as err:
        if cut:
            log.warning("%s: cut off a torn final line (%d bytes)", path, len(cut))
        also = " (a torn final line was cut off too)" if cut else ""
        raise AuditHeadError(f"{err}{also}") from None
    if stored is None:
        head = audit.head()
        if head[0] >= 0:
            store_head(query, head)
    record_cut(audit, cut, by="the server at start-up")
    return audit
