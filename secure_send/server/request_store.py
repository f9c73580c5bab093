"""File requests in SQLite: the signed document, its encrypted text, its addressees.

Guarantees: a request and its addressees are stored in one transaction; the
server keeps only ids, counts, dates and ciphertext (the title and message are
encrypted to the addressees). Submissions are drops whose ``request_id`` column
is set (:mod:`.drop_store`), so "who has submitted" is one indexed query.
"""

from __future__ import annotations

from dataclasses import dataclass

from secure_send.core.drop_state import DropState
from secure_send.server.storage import SqlDatabase


@dataclass(frozen=True)
class RequestRow:
    """One stored file request."""

    id: str
    creator: str
    mailbox: str
    document: str  # the signed request JSON, as received
    text: bytes  # the encrypted title and message
    due: str | None
    created: int
    expires: int


@dataclass(frozen=True)
class RequestSummary:
    """A request as listed for one person: what the server may know about it."""

    id: str
    mailbox: str
    due: str | None
    created: int
    expires: int
    addressed: bool  # the person was asked
    submitted: bool  # the person has a committed submission
    reminded: int | None  # when the desk last reminded the person (unix time)
    addressees: int
    submitters: int  # addressees with a committed submission


_LISTED = (
    "SELECT r.id, r.mailbox, r.due, r.created, r.expires, a.user IS NOT NULL, a.reminded"
    " FROM requests r LEFT JOIN request_addressees a ON a.request_id = r.id AND a.user = ?"
    " WHERE r.expires > ? AND (a.user IS NOT NULL OR r.mailbox IN (MARKS))"
    " ORDER BY r.created, r.id"
)  # MARKS becomes a run of "?" marks: no request text is ever put into the SQL
_COLUMNS = "id, creator, mailbox, document, text, due, created, expires"


class RequestStore:
    """The request tables of a store (:class:`.storage.SqlDatabase`: SQLite or PostgreSQL)."""

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def create(self, row: RequestRow, addressees: tuple[str, ...]) -> bool:
        """Store a new request; False if its id is taken."""
        with self.db.transaction() as db:
            if db.execute("SELECT 1 FROM requests WHERE id = ?", (row.id,)).fetchone():
                return False
            fields = (row.id, row.creator, row.mailbox, row.document, row.text, row.due)
            db.execute(
                f"INSERT INTO requests ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                (*fields, row.created, row.expires),
            )
            db.executemany(
                "INSERT INTO request_addressees VALUES (?, ?, NULL)",
                [(row.id, user) for user in addressees],
            )
        return True

    def get(self, request_id: str) -> RequestRow | None:
        """The request, or None."""
        rows = self.db.query(
            f"SELECT {_COLUMNS} FROM requests WHERE id = ?",  # noqa: S608
            (request_id,),
        )
        return RequestRow(*rows[0]) if rows else None

    def is_addressee(self, request_id: str, user: str) -> bool:
        """Whether ``user`` is one of the request's addressees."""
        return bool(
            self.db.query(
                "SELECT 1 FROM request_addressees WHERE request_id = ? AND user = ?",
                (request_id, user),
            )
        )

    def listed_for(self, user: str, mailboxes: list[str], now: int) -> list[RequestSummary]:
        """Open requests that ask ``user``, or that collect into ``mailboxes`` (the
        person's own id and the roles they are a member of), oldest first."""
        marks = ", ".join("?" * len(mailboxes))
        # the only text put into the SQL is a run of "?" marks
        rows = self.db.query(_LISTED.replace("MARKS", marks), (user, now, *mailboxes))
        result = []
        for request_id, mailbox, due, created, expires, addressed, reminded in rows:
            count, submitters = self.counts(request_id)
            submitted = bool(addressed) and user in self.submitted_users(request_id, user)
            result.append(
                RequestSummary(
                    request_id,
                    mailbox,
                    due,
                    created,
                    expires,
                    bool(addressed),
                    submitted,
                    reminded,
                    count,
                    submitters,
                )
            )
        return result

    def counts(self, request_id: str) -> tuple[int, int]:
        """(addressees, addressees with a committed submission)."""
        row = self.db.query(
            "SELECT COUNT(*), COUNT(DISTINCT d.sender) FROM request_addressees a"
            " LEFT JOIN drops d ON d.request_id = a.request_id AND d.sender = a.user"
            " AND d.state = ? WHERE a.request_id = ?",
            (DropState.COMMITTED, request_id),
        )[0]
        return int(row[0]), int(row[1])

    def submitted_users(self, request_id: str, only: str | None = None) -> set[str]:
        """Senders with a committed submission to the request (or just ``only``)."""
        sql = "SELECT DISTINCT sender FROM drops WHERE request_id = ? AND state = ?"
        params: tuple[object, ...] = (request_id, DropState.COMMITTED)
        if only is not None:
            sql += " AND sender = ?"
            params += (only,)
        return {row[0] for row in self.db.query(sql, params)}

    def remind(self, request_id: str, users: list[str], now: int) -> list[str]:
        """Mark ``users`` reminded (only addressees without a committed submission);
        returns those reminded."""
        done = self.submitted_users(request_id)
        wanted = [u for u in dict.fromkeys(users) if u not in done]
        reminded = []
        with self.db.transaction() as db:
            for user in wanted:
                cursor = db.execute(
                    "UPDATE request_addressees SET reminded = ? WHERE request_id = ? AND user = ?",
                    (now, request_id, user),
                )
                if cursor.rowcount == 1:
                    reminded.append(user)
        return reminded

    def pending(self, request_id: str) -> list[str]:
        """Addressees without a committed submission."""
        done = self.submitted_users(request_id)
        rows = self.db.query(
            "SELECT user FROM request_addressees WHERE request_id = ? ORDER BY user",
            (request_id,),
        )
        return [row[0] for row in rows if row[0] not in done]

    def forget_expired(self, before: int, limit: int) -> list[str]:
        """Delete at most ``limit`` requests that expired before ``before``."""
        with self.db.transaction() as db:
            ids = [
                row[0]
                for row in db.execute(
                    "SELECT id FROM requests WHERE expires < ? LIMIT ?", (before, limit)
                )
            ]
            for request_id in ids:
                db.execute("DELETE FROM request_addressees WHERE request_id = ?", (request_id,))
                db.execute("DELETE FROM requests WHERE id = ?", (request_id,))
        return ids
