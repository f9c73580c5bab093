"""The server's state folder (``HOME/server``): open it safely, inspect it, set it aside.

The server must never start over silently. Without ``meta.sqlite`` it would make a
new empty database, and every drop whose blobs, partial uploads and audit records
are still on disk would vanish from inboxes. So :func:`open_metadata` refuses to
start when the database is missing but other state is there, or when the database
does not open or fails SQLite's ``quick_check``, with one sentence naming the file
and the commands to run (``secure-send-server --home DIR check|repair|quarantine``,
:mod:`.state_commands`). :func:`inspect` is what ``check`` prints; :func:`quarantine`
moves the state into a dated folder inside the home, so a fresh start is an
explicit act and nothing is ever deleted.

Running servers hold a shared ``flock`` on ``HOME/server/server.lock``;
``repair`` and ``quarantine`` take it exclusively, so they refuse while one runs.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secure_send.core.audit import AuditChainError, AuditLog, audit_log_path
from secure_send.core.encoding import utc_now
from secure_send.core.errors import SecureSendError
from secure_send.server.audit_head import stored_head
from secure_send.server.migrations import MIGRATIONS
from secure_send.server.storage import OPAQUE_ID, SqliteMetadataStore

DB_NAME = "meta.sqlite"
DB_FILES = (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm")
LOCK_NAME = "server.lock"
QUARANTINE = "quarantine"  # HOME/quarantine/<UTC time>/: state set aside, never deleted


class StateError(SecureSendError):
    """The state folder cannot be used as it is (the server refuses to start)."""


def state_dir(home: Path) -> Path:
    """``HOME/server``: the database, blobs, partial uploads and the audit log."""
    return home / "server"


def commands_hint(home: Path) -> str:
    """What to run next, in one clause."""
    return (
        f"see `secure-send-server --home {home} check`; restore the file from a backup, "
        f"or set the state aside with `secure-send-server --home {home} quarantine`"
    )


@dataclass(frozen=True)
class Inventory:
    """What the state folder holds, from a look at the files alone."""

    db: bool
    blobs: frozenset[str]  # stored blob ids (file names under blobs/xx/)
    partials: frozenset[str]  # upload ids with a file under partial/
    audit_bytes: int

    def besides_db(self) -> list[str]:
        """The state other than the database, as phrases ("3 blob files", …)."""
        found = []
        if self.blobs:
            found.append(f"{len(self.blobs)} blob file(s)")
        if self.partials:
            found.append(f"{len(self.partials)} partial upload(s)")
        if self.audit_bytes:
            found.append(f"an audit log of {self.audit_bytes} bytes")
        return found


def inventory(home: Path) -> Inventory:
    """Look at ``HOME/server`` without opening anything."""
    root = state_dir(home)
    blobs = root / "blobs"
    stored = (
        frozenset(
            p.name
            for sub in blobs.iterdir()
            if sub.is_dir()
            for p in sub.iterdir()
            if OPAQUE_ID.fullmatch(p.name)
        )
        if blobs.is_dir()
        else frozenset()
    )
    partial = root / "partial"
    partials = (
        frozenset(p.name for p in partial.iterdir() if OPAQUE_ID.fullmatch(p.name))
        if partial.is_dir()
        else frozenset()
    )
    audit = audit_log_path(home)
    audit_bytes = audit.stat().st_size if audit.is_file() else 0
    return Inventory((root / DB_NAME).exists(), stored, partials, audit_bytes)


def open_metadata(home: Path) -> SqliteMetadataStore:
    """The server's database, opened (and migrated) only if it is safe to start.

    Raises:
        StateError: the database is missing while other state exists, or it does
            not open, or it fails ``quick_check``.
    """
    db = state_dir(home) / DB_NAME
    if not db.exists():
        leftovers = inventory(home).besides_db()
        if leftovers:
            raise StateError(
                f"{db} is missing, but {state_dir(home)} holds {', '.join(leftovers)}: "
                f"refusing to start with a new empty database (their drops would vanish); "
                f"{commands_hint(home)}"
            )
    try:
        meta = SqliteMetadataStore(db)
    except sqlite3.OperationalError:
        raise  # locked, read-only, a full volume (app.create_app says so): not damage
    except sqlite3.DatabaseError as err:
        raise StateError(_unusable(home, db, err)) from None
    try:
        problems = [str(row[0]) for row in meta.query("PRAGMA quick_check")]
    except sqlite3.DatabaseError as err:
        meta.close()
        raise StateError(_unusable(home, db, err)) from None
    if problems != ["ok"]:
        meta.close()
        raise StateError(f"{db} is damaged ({problems[0]}); {commands_hint(home)}")
    return meta


def _unusable(home: Path, db: Path, err: sqlite3.DatabaseError) -> str:
    if isinstance(err, sqlite3.OperationalError):  # locked, read-only, disk full: not damage
        return f"{db} cannot be opened: {err}"
    return f"{db} is damaged ({err}); {commands_hint(home)}"


class StateLock:
    """The ``flock`` on ``HOME/server/server.lock``: shared by running servers,
    exclusive for ``repair`` and ``quarantine``."""

    def __init__(self, home: Path, *, exclusive: bool) -> None:
        root = state_dir(home)
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._fd = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(self._fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = -1
            what = "a server is running on" if exclusive else "a repair or quarantine is using"
            raise StateError(f"{what} {root}: stop it first") from None

    def release(self) -> None:
        """Give the lock back (idempotent)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:  # an app built but never served must not keep the fd
        self.release()


def server_running(home: Path) -> bool:
    """Whether a server holds the state folder now (``check`` says so)."""
    if not (state_dir(home) / LOCK_NAME).exists():
        return False
    try:
        StateLock(home, exclusive=True).release()
    except StateError:
        return True
    return False


@dataclass
class Finding:
    """One line of ``check``: ``problem`` (exit 1), ``note`` or ``ok``."""

    level: str
    topic: str
    text: str


@dataclass
class Report:
    """Everything ``check`` found."""

    findings: list[Finding] = field(default_factory=list)

    def add(self, level: str, topic: str, text: str) -> None:
        """One more finding."""
        self.findings.append(Finding(level, topic, text))

    @property
    def problems(self) -> list[Finding]:
        """The findings that make ``check`` exit non-zero."""
        return [f for f in self.findings if f.level == "problem"]


def _readonly(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True)


def inspect(home: Path) -> Report:
    """Everything ``check`` reports; reads only (the database read-only)."""
    report = Report()
    inv = inventory(home)
    db = state_dir(home) / DB_NAME
    if server_running(home):
        report.add("note", "server", "a server is running on this folder")
    stored: tuple[int, str] | None = None
    if not inv.db:
        leftovers = inv.besides_db()
        if leftovers:
            report.add("problem", "database", f"{db} is missing; there are {', '.join(leftovers)}")
        else:
            report.add("ok", "database", "no state yet (a new server starts empty)")
    else:
        stored = _inspect_db(report, db, inv)
    _inspect_audit(report, home, stored, inv.db)
    return report


def _inspect_db(report: Report, db: Path, inv: Inventory) -> tuple[int, str] | None:
    try:
        conn = _readonly(db)
    except sqlite3.Error as err:
        report.add("problem", "database", f"{db} does not open: {err}")
        return None
    try:
        return _inspect_tables(report, conn, db, inv)
    except sqlite3.DatabaseError as err:
        report.add("problem", "database", f"{db} is damaged: {err}")
        return None
    finally:
        conn.close()


def _inspect_tables(
    report: Report, conn: sqlite3.Connection, db: Path, inv: Inventory
) -> tuple[int, str] | None:
    rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
    if rows != ["ok"]:
        report.add("problem", "database", f"{db} fails integrity_check: {'; '.join(rows[:3])}")
        return None
    report.add("ok", "database", f"{db} opens and passes integrity_check")
    version = int(conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0)
    newest = len(MIGRATIONS)
    if version > newest:
        report.add("problem", "schema", f"version {version}, newer than this server ({newest})")
        return None
    if version < newest:
        report.add("note", "schema", f"version {version} of {newest} (migrated at next start)")
    else:
        report.add("ok", "schema", f"version {version} (current)")

    def query(sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return list(conn.execute(sql, params).fetchall())

    referenced = {
        str(r[0]) for r in query("SELECT store_id FROM drop_blobs WHERE store_id IS NOT NULL", ())
    }
    uploads = {str(r[0]) for r in query("SELECT id FROM uploads", ())}
    missing = referenced - inv.blobs
    orphans = inv.blobs - referenced - uploads  # an upload's blob may be renamed already
    text = f"{len(referenced)} referenced, {len(inv.blobs)} on disk"
    if missing:
        report.add("problem", "blobs", f"{text}; {len(missing)} referenced but missing")
    if orphans:
        report.add(
            "problem",
            "blobs",
            f"{text}; {len(orphans)} on disk that no drop references (was the database "
            "replaced by an older one?), e.g. " + ", ".join(sorted(orphans)[:3]),
        )
    if not (missing or orphans):
        report.add("ok", "blobs", text)
    stray = inv.partials - uploads
    text = f"{len(inv.partials)} partial upload(s), {len(uploads)} upload(s) in progress"
    if stray:
        report.add("note", "partials", f"{text}; {len(stray)} orphan(s), removed by repair")
    else:
        report.add("ok", "partials", text)
    return stored_head(query)


def _inspect_audit(report: Report, home: Path, stored: tuple[int, str] | None, db: bool) -> None:
    audit = AuditLog(audit_log_path(home))
    if not audit.path.is_file():
        report.add("ok", "audit", "no audit log yet")
        return
    try:
        result = audit.verify()
    except AuditChainError as err:
        fixable = "torn final line" in err.reason
        report.add("problem", "audit", f"{err}{' (repair fixes this)' if fixable else ''}")
        return
    head = f"{result.head_seq}:{result.head_hash}"
    report.add("ok", "audit", f"{result.records} records verify; head {head}")
    if stored is None:
        if db:
            report.add("note", "audit_head", "no head stored in the database yet")
        return
    try:
        audit.verify(expected_head=stored)
    except AuditChainError as err:
        report.add(
            "problem",
            "audit_head",
            f"does not match the head the database recorded ({stored[0]}:{stored[1]}): "
            f"{err.reason}",
        )
        return
    report.add("ok", "audit_head", f"matches the head stored in the database ({stored[0]})")


def quarantine(home: Path) -> tuple[Path | None, list[str]]:
    """Move the database, blobs, partial uploads and audit log into
    ``HOME/quarantine/<UTC time>/``; returns the folder (None if there was nothing)
    and the names moved. Refuses while a server runs (:class:`StateLock`).

    Raises:
        StateError: a server is running, or a move failed (what moved so far is named).
    """
    lock = StateLock(home, exclusive=True)
    try:
        root = state_dir(home)
        names = [n for n in (*DB_FILES, "blobs", "partial", "audit.jsonl") if (root / n).exists()]
        if not names:
            return None, []
        (home / QUARANTINE).mkdir(exist_ok=True, mode=0o700)
        stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
        target, n = home / QUARANTINE / stamp, 1
        while target.exists():  # twice within a second
            n += 1
            target = home / QUARANTINE / f"{stamp}-{n}"
        target.mkdir(mode=0o700)
        moved: list[str] = []
        for name in names:
            try:
                os.rename(root / name, target / name)  # never a copy: nothing is lost
            except OSError as err:
                done = ", ".join(moved) or "nothing"
                raise StateError(
                    f"could not move {root / name} to {target}: {err.strerror} (moved: {done})"
                ) from None
            moved.append(name)
        return target, moved
    finally:
        lock.release()
