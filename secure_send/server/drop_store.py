"""Drop metadata in SQLite: drops, recipients, expected blobs, uploads and receipts.

Guarantees: a drop and its expected blobs are stored in one transaction; a drop
is committed only if every blob is complete (checked inside the committing
transaction). ``seq`` is a *change* sequence, the inbox's cursor: committing a
drop assigns the next one, and so does recalling or expiring a committed drop,
so a recipient paging after its cursor learns that a drop it holds has ended.
A drop never committed has no ``seq`` and no inbox page ever reads it. States
(:class:`DropState`): ``uploading`` → ``committed`` → (``recalled`` | ``expired``).
A drop whose manifest asks for approval (上長承認) is ``held`` from its recipients who
are not approvers: their rows get no ``seq`` until it is approved (approval_store.py),
so neither their inbox pages nor the idle probe ever read it — nor its end.
"""

from __future__ import annotations

from dataclasses import dataclass

from secure_send.core.drop_state import DropState
from secure_send.core.envelope.manifest import Manifest
from secure_send.server.loop_db import WouldBlock
from secure_send.server.storage import SqlDatabase, Transaction

LIVE = (DropState.UPLOADING, DropState.COMMITTED)  # hold storage: count against the quota
ENDED = (DropState.RECALLED, DropState.EXPIRED)  # ciphertext deleted: only rows are left
PENDING = "pending"  # drops.approval_state of a drop awaiting its approver's decision
# tables whose rows belong to one drop (deleted with it, children before the parent)
_CHILD_TABLES = ("receipts", "uploads", "drop_blobs", "drop_recipients")


@dataclass(frozen=True)
class DropRow:
    """One stored drop."""

    id: str
    sender: str
    manifest: str  # the signed manifest JSON, as received
    expires: int
    size: int
    state: DropState
    seq: int
    recipients: frozenset[str]
    request_id: str | None = None  # the file request this drop answers (a submission)
    # (files, numbers): the My Number counts of the signed manifest, copied into their
    # own columns at create so that each audited download, receipt, recall or expiry
    # says so without parsing the manifest again; None for every other drop
    specific_personal_info: tuple[int, int] | None = None
    # 上長承認: the recipients withheld from until an approver approves; the state (None:
    # no approval needed, else pending/approved/rejected) and the signed decision's JSON
    held: frozenset[str] = frozenset()
    approval_state: str | None = None
    approval: str | None = None

    @property
    def released(self) -> frozenset[str]:
        """The recipients who may know of the drop (every one unless some are held)."""
        return self.recipients - self.held


@dataclass(frozen=True)
class BlobRow:
    """One expected blob of a drop; ``store_id`` is set once it is complete."""

    blob_id: str
    sha256: bytes
    size: int
    store_id: str | None


@dataclass(frozen=True)
class UploadRow:
    """One tus upload in progress."""

    id: str
    drop_id: str
    blob_id: str
    length: int
    received: int
    expires: int


@dataclass(frozen=True)
class InboxPage:
    """One page of a recipient's inbox after a cursor.

    ``drops`` are the visible changes in ``seq`` order; ``receipts`` maps their ids to
    the caller's devices that posted a receipt; ``cursor`` is the last ``seq`` read
    (rows read but not shown — not live, or ended on a first load — still move it, so
    the next poll does not read them again); ``more``: another page follows."""

    drops: list[InboxRow]
    receipts: dict[str, list[str]]
    cursor: int
    more: bool


@dataclass(frozen=True)
class InboxRow:
    """A drop as an inbox page lists it (the manifest as stored: JSON text)."""

    id: str
    state: DropState
    seq: int
    manifest: str
    approval_state: str | None = None  # as DropRow's (listed only when not None)
    approval: str | None = None


_DROP_COLUMNS = (
    "id, sender, manifest, expires, size, state, COALESCE(seq, 0), request_id,"
    " mynumber_files, mynumber_count, approval_state, approval"
)
# one page: a seek on the recipient index (user, seq) joined to each drop by its key
_INBOX_PAGE = (
    "SELECT r.seq, d.id, d.state, d.expires, d.manifest, d.approval_state, d.approval"
    " FROM drop_recipients r"
    " JOIN drops d ON d.id = r.drop_id WHERE r.user = ? AND r.seq > ? ORDER BY r.seq LIMIT ?"
)

# whether any row follows the cursor: the page's own index (user, seq), no join
ANY_AFTER = "SELECT 1 FROM drop_recipients WHERE user = ? AND seq > ? LIMIT 1"


def manifest_spi(m: Manifest) -> tuple[int, int] | None:
    """``(files, numbers)`` when the signed manifest says the drop holds My Numbers."""
    return (m.mynumber_files, m.mynumber_count) if m.contains_specific_personal_info else None


class DropStore:
    """The drop tables of a store (:class:`.storage.SqlDatabase`: SQLite or PostgreSQL)."""

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def create(self, m: Manifest, manifest_json: str, expires: int, quota: int) -> str:
        """Store a new drop (``uploading``): ``"ok"``, or ``"exists"`` (id used) or
        ``"quota"`` (the sender's live drops would exceed ``quota`` bytes), checked
        in the storing transaction."""
        size = sum(b.size for b in m.blobs)
        with self.db.transaction() as db:
            if db.execute("SELECT 1 FROM drops WHERE id = ?", (m.drop_id,)).fetchone():
                return "exists"
            used = db.execute(
                "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM drops"
                " WHERE sender = ? AND state IN (?, ?)",
                (m.sender, *LIVE),
            ).fetchone()[0]
            if used + size > quota:
                return "quota"
            values = (m.drop_id, m.sender, m.sender_device, manifest_json, expires, size)
            spi = manifest_spi(m)
            pending = PENDING if m.approval is not None else None
            db.execute(
                "INSERT INTO drops (id, sender, sender_device, manifest, expires, size, state,"
                " seq, request_id, mynumber_files, mynumber_count, approval_state)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)",
                (*values, DropState.UPLOADING, m.request, *(spi or (None, None)), pending),
            )
            # held: every recipient but the approvers (and the sender) until approved
            free = {m.sender, *m.approval.approvers} if m.approval else None
            db.executemany(
                "INSERT INTO drop_recipients (drop_id, user, held) VALUES (?, ?, ?)",
                [
                    (m.drop_id, user, int(free is not None and user not in free))
                    for user in {r.user for r in m.recipients}
                ],
            )
            db.executemany(
                "INSERT INTO drop_blobs VALUES (?, ?, ?, ?, NULL)",
                [(m.drop_id, b.id, b.sha256, b.size) for b in m.blobs],
            )
        return "ok"

    def _rows(self, where: str, params: tuple[object, ...]) -> list[DropRow]:
        # ``where`` is always one of this module's constant clauses, never request text
        sql = f"SELECT {_DROP_COLUMNS} FROM drops WHERE {where}"  # noqa: S608
        result = []
        for row in self.db.query(sql, params):
            users = self.db.query(
                "SELECT user, held FROM drop_recipients WHERE drop_id = ?", (row[0],)
            )
            drop_id, sender, manifest, expires, size, state, seq, request_id, files, count = row[
                :10
            ]
            # both columns or neither (written together at create, NULL before migration 7)
            spi = (int(files), int(count)) if files is not None and count is not None else None
            recipients = frozenset(u[0] for u in users)
            held = frozenset(u[0] for u in users if u[1])
            # DropState(): a value this code does not know is an error here, not later
            first = (drop_id, sender, manifest, expires, size, DropState(state), seq, recipients)
            result.append(DropRow(*first, request_id, spi, held, row[10], row[11]))
        return result

    def get(self, drop_id: str) -> DropRow | None:
        """The drop, or None."""
        rows = self._rows("id = ?", (drop_id,))
        return rows[0] if rows else None

    def idle_page(self, user: str, after: int) -> InboxPage | None:
        """The empty page, found on the event loop, if nothing of ``user``'s follows
        cursor ``after`` (what :meth:`inbox_page` would then answer: one index probe);
        None when something does, or when the probe would wait (``loop_db``): then
        :meth:`inbox_page` on a worker thread."""
        try:
            if self.db.query_now(ANY_AFTER, (user, after)):
                return None
        except WouldBlock:
            return None
        return InboxPage([], {}, after, False)

    def inbox_page(self, user: str, after: int, limit: int, now: int) -> InboxPage:
        """The changes after cursor ``after`` to the drops ``user`` is a recipient of:
        committed, unexpired drops, and (when ``after`` > 0: the caller may hold them)
        recalled or expired ones, at most ``limit`` rows read. Two statements, whatever
        the page's size: the page, then the caller's receipts for it."""
        rows = self.db.query(_INBOX_PAGE, (user, after, limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        drops = []
        for seq, drop_id, state, expires, manifest, approval_state, approval in rows:
            row_state = DropState(state)  # a value this code does not know is an error here
            live = row_state == DropState.COMMITTED and expires > now
            if live or (after > 0 and row_state in ENDED):
                drops.append(InboxRow(drop_id, row_state, seq, manifest, approval_state, approval))
        receipts: dict[str, list[str]] = {}
        if drops:
            marks = ", ".join("?" * len(drops))
            # only placeholders are formatted in, never request text
            sql = (
                "SELECT drop_id, device FROM receipts"  # noqa: S608
                f" WHERE user = ? AND drop_id IN ({marks}) ORDER BY drop_id, device"
            )
            for drop_id, device in self.db.query(sql, (user, *(d.id for d in drops))):
                receipts.setdefault(drop_id, []).append(device)
        cursor = rows[-1][0] if rows else after
        return InboxPage(drops, receipts, cursor, more)

    def sent(self, user: str) -> list[DropRow]:
        """Every drop the user sent, newest first."""
        return self._rows("sender = ? ORDER BY rowid DESC", (user,))

    def expired(self, now: int) -> list[DropRow]:
        """Live drops whose expiry has passed."""
        return self._rows("state IN (?, ?) AND expires <= ?", (*LIVE, now))

    def forget_ended(self, expired_before: int, limit: int) -> list[str]:
        """Delete the rows of at most ``limit`` recalled or expired drops whose expiry is
        before ``expired_before`` (unix time): the drop, its recipients, blobs, uploads and
        receipts, in one transaction; returns their ids. Their ciphertext is already gone
        (:func:`.drop_access.purge` deletes it before marking the drop); the audit log
        keeps their history, so nothing needs the rows any more."""
        with self.db.transaction() as db:
            ids = [
                row[0]
                for row in db.execute(
                    "SELECT id FROM drops WHERE state IN (?, ?) AND expires < ? LIMIT ?",
                    (*ENDED, expired_before, limit),
                )
            ]
            if ids:
                marks = ", ".join("?" * len(ids))
                for table in (*_CHILD_TABLES, "drops"):
                    column = "id" if table == "drops" else "drop_id"
                    # table and column names are this module's constants, never request text
                    sql = f"DELETE FROM {table} WHERE {column} IN ({marks})"  # noqa: S608
                    db.execute(sql, ids)
        return ids

    def blobs(self, drop_id: str) -> list[BlobRow]:
        """The drop's expected blobs."""
        rows = self.db.query(
            "SELECT blob_id, sha256, size, store_id FROM drop_blobs WHERE drop_id = ?", (drop_id,)
        )
        return [BlobRow(*row) for row in rows]

    def blob(self, drop_id: str, blob_id: str) -> BlobRow | None:
        """One expected blob, or None."""
        return next((b for b in self.blobs(drop_id) if b.blob_id == blob_id), None)

    def commit(self, drop_id: str) -> bool:
        """Mark committed if every blob is complete; False otherwise."""
        with self.db.transaction() as db:
            missing = db.execute(
                "SELECT COUNT(*) FROM drop_blobs WHERE drop_id = ? AND store_id IS NULL",
                (drop_id,),
            ).fetchone()[0]
            if missing:
                return False
            changed = db.execute(
                "UPDATE drops SET state = ? WHERE id = ? AND state = ?",
                (DropState.COMMITTED, drop_id, DropState.UPLOADING),
            )
            if changed.rowcount:
                next_seq(db, drop_id)
        return True

    def set_state(self, drop_id: str, state: DropState) -> None:
        """Mark recalled or expired (and forget its uploads and stored blobs); a drop its
        recipients could see gets a new ``seq``, so their next inbox page says it ended
        (one never committed keeps none: it stays invisible to them)."""
        with self.db.transaction() as db:
            db.execute("UPDATE drops SET state = ? WHERE id = ?", (state, drop_id))
            seen = db.execute(
                "SELECT 1 FROM drops WHERE id = ? AND seq IS NOT NULL", (drop_id,)
            ).fetchone()
            if seen:
                next_seq(db, drop_id)
            db.execute("DELETE FROM uploads WHERE drop_id = ?", (drop_id,))
            db.execute("UPDATE drop_blobs SET store_id = NULL WHERE drop_id = ?", (drop_id,))

    def add_upload(self, upload: UploadRow) -> list[str]:
        """Record an upload, replacing earlier ones of the same blob (their ids returned)."""
        with self.db.transaction() as db:
            old = db.execute(
                "SELECT id FROM uploads WHERE drop_id = ? AND blob_id = ?",
                (upload.drop_id, upload.blob_id),
            ).fetchall()
            db.execute(
                "DELETE FROM uploads WHERE drop_id = ? AND blob_id = ?",
                (upload.drop_id, upload.blob_id),
            )
            db.execute(
                "INSERT INTO uploads VALUES (?, ?, ?, ?, ?, ?)",
                (upload.id, upload.drop_id, upload.blob_id, upload.length, 0, upload.expires),
            )
        return [row[0] for row in old]

    def upload(self, upload_id: str) -> UploadRow | None:
        """The upload, or None."""
        rows = self.db.query(
            "SELECT id, drop_id, blob_id, length, received, expires FROM uploads WHERE id = ?",
            (upload_id,),
        )
        return UploadRow(*rows[0]) if rows else None

    def all_uploads(self) -> list[UploadRow]:
        """Every upload in progress (for recovery at start-up)."""
        rows = self.db.query("SELECT id, drop_id, blob_id, length, received, expires FROM uploads")
        return [UploadRow(*row) for row in rows]

    def uploads_of(self, drop_id: str) -> list[str]:
        """Ids of the drop's uploads in progress."""
        rows = self.db.query("SELECT id FROM uploads WHERE drop_id = ?", (drop_id,))
        return [row[0] for row in rows]

    def set_received(self, upload_id: str, received: int) -> bool:
        """Record the new offset; False if the upload is gone (recalled, replaced)."""
        with self.db.transaction() as db:
            cursor = db.execute(
                "UPDATE uploads SET received = ? WHERE id = ?", (received, upload_id)
            )
            return bool(cursor.rowcount == 1)

    def delete_upload(self, upload_id: str) -> None:
        """Forget an upload."""
        self.db.query("DELETE FROM uploads WHERE id = ?", (upload_id,))

    def complete(self, upload: UploadRow) -> bool:
        """The upload's blob is stored (under the upload id); False if the upload is gone."""
        with self.db.transaction() as db:
            if db.execute("DELETE FROM uploads WHERE id = ?", (upload.id,)).rowcount != 1:
                return False
            db.execute(
                "UPDATE drop_blobs SET store_id = ? WHERE drop_id = ? AND blob_id = ?",
                (upload.id, upload.drop_id, upload.blob_id),
            )
        return True

    def add_receipt(self, drop_id: str, user: str, device: str, receipt: str) -> None:
        """Store (or replace) a device's receipt."""
        self.db.query(
            "INSERT INTO receipts VALUES (?, ?, ?, ?) ON CONFLICT (drop_id, user, device)"
            " DO UPDATE SET receipt = excluded.receipt",
            (drop_id, user, device, receipt),
        )

    def receipts(self, drop_id: str) -> list[tuple[str, str, str]]:
        """``(user, device, receipt JSON)`` of the drop."""
        rows = self.db.query(
            "SELECT user, device, receipt FROM receipts WHERE drop_id = ? ORDER BY user, device",
            (drop_id,),
        )
        return [(r[0], r[1], r[2]) for r in rows]


def next_seq(db: Transaction, drop_id: str) -> None:
    """Give the drop the next change sequence, on its row and its recipients' rows (the
    inbox index); inside the caller's write transaction, so sequence numbers become
    visible in order and a reader paging by them never skips one."""
    seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM drops").fetchone()[0]
    db.execute("UPDATE drops SET seq = ? WHERE id = ?", (seq, drop_id))
    # held rows (上長承認 pending, or rejected) get none: their users never learn of it
    db.execute("UPDATE drop_recipients SET seq = ? WHERE drop_id = ? AND held = 0", (seq, drop_id))
