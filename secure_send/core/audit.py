"""The drop server's audit log: append-only, hash-chained JSON Lines.

The record format: docs/formats.md, "Audit record"; reading it: docs/server.md, "Audit".

One record per line, each the canonical JSON (RFC 8785) of a fixed schema:
``seq`` (0, 1, 2, …), ``time``, ``action``, ``actor``, ``device``, ``drop``, ``size``,
``outcome``, ``ip`` and ``prev``, the unpadded base64url SHA-256 of the previous line's
bytes ("" for seq 0). A record about a drop whose signed manifest carries My Number
counts (issue 19) also has ``contains_specific_personal_info`` (``true``),
``mynumber_files`` and ``mynumber_count``; no other record has them, so a log written
before them reads and verifies byte for byte as it did. The schema is closed and every
value has a strict pattern, so a file name, message text, or a detected number (or its
hash) can never be logged.

Guarantees and limits:

* Appends are serialised between threads and processes by ``flock`` on the log file,
  and each record is written and fsynced before :meth:`AuditLog.append` returns.
  A crash mid-write can only leave a torn final line (no newline); earlier records
  are never rewritten. :meth:`AuditLog.verify` reports a torn line, and
  :meth:`AuditLog.append` refuses to chain onto one until :meth:`AuditLog.repair`.
* The chain detects a changed, deleted, inserted, duplicated or reordered record,
  but not the removal of records *at the end*, nor a change to the very last record,
  unless a head recorded elsewhere (:meth:`AuditLog.head`) is passed to
  :meth:`AuditLog.verify` as ``expected_head``. Whoever can write the file can
  rewrite the whole chain: the hash chain is evidence, not access control.
"""

from __future__ import annotations

import csv
import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from secure_send.core.audit_record import (
    ALL_FIELDS,
    FIELDS,
    SPI_FIELDS,
    AuditAction,
    AuditChainError,
    AuditRecord,
    AuditRecordError,
    ChainCheck,
    VerifyReport,
    parse_line,
)
from secure_send.core.encoding import format_time, utc_now

__all__ = [
    "ALL_FIELDS",
    "AUDIT_PATH",
    "FIELDS",
    "SPI_FIELDS",
    "AuditAction",
    "AuditChainError",
    "AuditLog",
    "AuditRecord",
    "AuditRecordError",
    "VerifyReport",
    "audit_log_path",
]

AUDIT_PATH = Path("server") / "audit.jsonl"
MAX_LINE = 1024  # the longest valid record: 582 bytes (475 without the SPI fields)


def audit_log_path(home: Path) -> Path:
    """Where the audit log of the organisation stored in ``home`` lives."""
    return home / AUDIT_PATH


class TextSink(Protocol):
    """Where exports go: anything with ``write(str)``."""

    def write(self, text: str, /) -> int: ...


class AuditLog:
    """The audit log in one JSON Lines file at ``path`` (created on first append)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(
        self,
        *,
        action: AuditAction | str,
        actor: str = "",
        device: str = "",
        drop: str = "",
        size: int = 0,
        outcome: str = "ok",
        ip: str = "",
        time: dt.datetime | None = None,
        specific_personal_info: tuple[int, int] | None = None,
    ) -> AuditRecord:
        """Validate, chain, write and fsync one record; returns it.

        ``specific_personal_info``: ``(files, numbers)``, the My Number counts of the
        drop's signed manifest, on records about such a drop (None: the fields are left
        out).

        Safe between threads and processes (``flock``). On a failed write (disk
        full) the partial line is cut off again before the error is raised.

        Raises:
            TypeError: an unknown field (there is deliberately no catch-all).
            AuditRecordError: a value outside its allowed form.
            AuditChainError: the current last line is torn or invalid.
        """
        stamp = format_time(time or utc_now())
        fields = (str(action), actor, device, drop, size, str(outcome), ip)  # an ErrorCode too
        spi = (True, *specific_personal_info) if specific_personal_info else (None, None, None)
        return self._chain(AuditRecord(0, stamp, *fields, "", *spi))  # validated before I/O

    def _chain(self, draft: AuditRecord) -> AuditRecord:
        """Give ``draft`` the next seq and the last record's hash, and store it (a store
        other than the file, e.g. PostgreSQL for several servers, overrides this)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            last = _last_record(fd)
            record = draft if last is None else replace(draft, seq=last.seq + 1, prev=last.digest())
            _write_line(fd, record.line() + b"\n")
            return record
        finally:
            os.close(fd)  # also releases the lock

    def head(self) -> tuple[int, str]:
        """``(seq, hash)`` of the last record, or ``(-1, "")`` when empty.

        Record it outside the server (ticket, mail, paper) and later pass it to
        :meth:`verify` to detect removal of the tail. Reads only the last line.
        """
        with self._locked(fcntl.LOCK_SH) as fd:
            last = _last_record(fd) if fd >= 0 else None
        return (-1, "") if last is None else (last.seq, last.digest())

    def repair(self) -> bytes:
        """Cut off a torn final line (a write that never completed); returns its bytes."""
        with self._locked(fcntl.LOCK_EX) as fd:
            if fd < 0:
                return b""
            size = os.fstat(fd).st_size
            tail = os.pread(fd, min(size, MAX_LINE + 1), size - min(size, MAX_LINE + 1))
            if not tail or tail.endswith(b"\n"):
                return b""
            cut = tail.rfind(b"\n") + 1
            if cut == 0 and size > len(tail):
                raise AuditChainError(-1, "final line is too long to be a record")
            os.ftruncate(fd, size - len(tail) + cut)
            os.fsync(fd)
            return tail[cut:]

    def records(
        self, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> Iterator[AuditRecord]:
        """Records with ``since <= time < until`` in file order (no chain check).

        Raises:
            AuditChainError: a malformed or torn line.
        """
        low = format_time(since) if since else ""
        high = format_time(until) if until else "~"
        for pos, raw in self._raw_lines():
            record = parse_line(pos, raw)
            if low <= record.time < high:
                yield record

    def verify(self, expected_head: tuple[int, str] | None = None) -> VerifyReport:
        """Check every line, seq and ``prev``; optionally a head recorded earlier.

        Raises:
            AuditChainError: naming the first record that cannot be trusted.
        """
        chain = ChainCheck(expected_head[0] if expected_head else -1)
        try:
            for pos, raw in self._raw_lines():
                chain.feed(parse_line(pos, raw), raw)
        except AuditChainError:
            chain.finish()  # an earlier unresolved mismatch wins
            raise
        chain.finish()
        if expected_head is not None:
            chain.check_head(*expected_head)
        return chain.report()

    def export_csv(
        self, out: TextSink, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> int:
        """Write a header row (:data:`ALL_FIELDS`) and the records as CSV; returns the count.

        Values are exported exactly (no spreadsheet-formula escaping: every field is
        ASCII from a strict pattern, but a hash or drop id may start with ``-``). The
        SPI columns are empty on a record without them, ``true`` and the counts on one
        with them. Exports do not check the chain: run :meth:`verify` for that.
        """
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(ALL_FIELDS)
        count = 0
        for record in self.records(since, until):
            row = [getattr(record, name) for name in FIELDS]
            spi = record.specific_personal_info
            writer.writerow(row + (["true", *spi] if spi else [""] * len(SPI_FIELDS)))
            count += 1
        return count

    def export_json(
        self, out: TextSink, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> int:
        """Write the records as one JSON array (a record per line); returns the count."""
        count = 0
        for record in self.records(since, until):
            out.write(("[\n" if count == 0 else ",\n") + record.line().decode("utf-8"))
            count += 1
        out.write("\n]\n" if count else "[]\n")
        return count

    def _raw_lines(self) -> Iterator[tuple[int, bytes]]:
        """``(position, line)`` of every record in order (a store other than the file,
        e.g. PostgreSQL for several servers, overrides this and the appends)."""
        return _lines(self.path)

    def _locked(self, mode: int) -> _Lock:
        return _Lock(self.path, mode)


class _Lock:
    """Open the log (if it exists) and ``flock`` it; the fd is -1 when there is no log."""

    def __init__(self, path: Path, mode: int) -> None:
        self.path, self.mode, self.fd = path, mode, -1

    def __enter__(self) -> int:
        try:
            access = os.O_RDWR if self.mode == fcntl.LOCK_EX else os.O_RDONLY
            self.fd = os.open(self.path, access | os.O_CLOEXEC)
        except FileNotFoundError:
            return -1
        fcntl.flock(self.fd, self.mode)
        return self.fd

    def __exit__(self, *exc: object) -> None:
        if self.fd >= 0:
            os.close(self.fd)


def _write_line(fd: int, line: bytes) -> None:
    start = os.fstat(fd).st_size
    data = memoryview(line)
    try:
        while data:
            data = data[os.write(fd, data) :]
        os.fsync(fd)
    except OSError:
        os.ftruncate(fd, start)  # best effort; verify would report a torn line
        raise


def _last_record(fd: int) -> AuditRecord | None:
    """The last record of the open log, reading only its end."""
    size = os.fstat(fd).st_size
    if size == 0:
        return None
    window = min(size, 2 * MAX_LINE + 2)
    tail = os.pread(fd, window, size - window)
    parts = tail.split(b"\n")
    complete = parts[:-1] if window == size else parts[1:-1]
    last = parse_line(-1, complete[-1]) if complete else None
    if parts[-1]:
        seq = last.seq + 1 if last else 0
        raise AuditChainError(seq, "torn final line (interrupted write); run repair")
    if last is None:
        raise AuditChainError(-1, "final line is too long to be a record")
    return last


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(position, line without newline)``; a missing log is empty.

    Reads only the bytes present when it started (taken under a shared lock), so a
    concurrent append is neither waited for nor mistaken for a torn line.
    """
    try:
        file = path.open("rb")
    except FileNotFoundError:
        return
    with file:
        fcntl.flock(file.fileno(), fcntl.LOCK_SH)
        left = os.fstat(file.fileno()).st_size
        fcntl.flock(file.fileno(), fcntl.LOCK_UN)
        pos = 0
        while left and (line := file.readline(min(MAX_LINE + 1, left))):
            left -= len(line)
            if not line.endswith(b"\n"):
                reason = "line too long" if len(line) > MAX_LINE else "torn final line"
                raise AuditChainError(pos, reason)
            yield pos, line[:-1]
            pos += 1
