"""Enrolment requests waiting for the directory signer (SQLite, migration 3).

The server cannot enrol anyone: it keeps requests until the signer on IT's side
takes them, checks the one-time code and answers with a result. Guarantees: at
most :data:`MAX_QUEUED_PER_USER` requests with a code wait per person; of those
without one (they wait for IT's approval, maybe for ever), at most
:data:`MAX_QUEUED_PER_USER` per person *and address* and :data:`MAX_CODELESS_PER_USER`
per person; :data:`MAX_QUEUED` in all (an anonymous caller cannot fill the disk,
and code-less requests naming someone, from one address, cannot block their
enrolment); a
ticket is 128 random bits, the only handle a device gets on its request; a
result is recorded only for a request still queued or pending (a replayed or
late result cannot change a final answer); final answers are kept for
:data:`KEEP_SECONDS`, then forgotten.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from secure_send.core.directory.enrol import EnrolmentRequest
from secure_send.core.directory.model import Entry
from secure_send.core.directory.push import EnrolResult, EnrolStatus, RefusalReason
from secure_send.server.storage import SqlDatabase

MAX_QUEUED_PER_USER = 3
MAX_CODELESS_PER_USER = 10  # from every address together (the signer keeps as many)
MAX_QUEUED = 100_000
KEEP_SECONDS = 7 * 24 * 3600
OPEN = (EnrolStatus.QUEUED.value, EnrolStatus.PENDING.value)


class QueueFull(Exception):
    """Too many requests are already waiting (for this person, or in all)."""


@dataclass(frozen=True)
class Queued:
    """One request as the signer receives it."""

    ticket: str
    request: str  # the request JSON as received
    received: int


@dataclass(frozen=True)
class Finished:
    """A request that just got its answer (for the audit log and the rate limiter)."""

    ticket: str
    user: str
    device: str
    ip: str
    status: EnrolStatus
    reason: RefusalReason | None


class EnrolQueue:
    """The ``enrolments`` table of a store (:class:`.storage.SqlDatabase`: SQLite or PostgreSQL)."""

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def add(self, request: EnrolmentRequest, raw: str, ip: str, now: int) -> str:
        """Queue a request; a newer request for the same device *from the same address*
        replaces a waiting one (a device retrying: a stranger who knows the user and
        device id cannot cancel someone else's request).

        Requests with a code and requests without one (which wait for IT's approval,
        possibly for ever) are counted apart: anyone can send code-less requests
        naming a colleague, and they must not use up the slots that the colleague's
        own enrolment with a one-time code needs.

        Raises:
            QueueFull: see the module docstring.
        """
        ticket = secrets.token_urlsafe(16)
        coded = request.code_mac is not None
        with self.db.transaction() as db:
            db.execute(
                "DELETE FROM enrolments WHERE user = ? AND device = ? AND ip = ? "
                "AND status = 'queued'",
                (request.user, request.device_id, ip),
            )
            (mine, from_here) = db.execute(
                "SELECT COUNT(*),"
                " CAST(COALESCE(SUM(CASE WHEN ip = ? THEN 1 ELSE 0 END), 0) AS BIGINT)"
                " FROM enrolments "
                "WHERE user = ? AND status IN (?, ?) "
                "AND (json_extract(request, '$.code_mac') IS NOT NULL) = ?",
                (ip, request.user, *OPEN, coded),
            ).fetchone()
            (everyone,) = db.execute(
                "SELECT COUNT(*) FROM enrolments WHERE status = 'queued'"
            ).fetchone()
            if coded:
                full = mine >= MAX_QUEUED_PER_USER
            else:  # one address cannot take the slots of the person's own devices
                full = from_here >= MAX_QUEUED_PER_USER or mine >= MAX_CODELESS_PER_USER
            if full or everyone >= MAX_QUEUED:
                raise QueueFull
            db.execute(
                "INSERT INTO enrolments VALUES (?, ?, ?, ?, ?, ?, 'queued', '')",
                (ticket, request.user, request.device_id, raw, ip, now),
            )
        return ticket

    def queued(self, limit: int = 10_000) -> list[Queued]:
        """The oldest waiting requests."""
        rows = self.db.query(
            "SELECT ticket, request, received FROM enrolments WHERE status = 'queued' "
            "ORDER BY received, rowid LIMIT ?",
            (limit,),
        )
        return [Queued(*row) for row in rows]

    def status(self, ticket: str) -> tuple[EnrolStatus, RefusalReason | None] | None:
        """Where a ticket stands, or None for an unknown ticket."""
        rows = self.db.query("SELECT status, reason FROM enrolments WHERE ticket = ?", (ticket,))
        if not rows:
            return None
        status, reason = rows[0]
        return EnrolStatus(status), RefusalReason(reason) if reason else None

    def finish(self, results: tuple[EnrolResult, ...], now: int) -> list[Finished]:
        """Record the signer's answers (only for open requests); returns those recorded."""
        done = []
        with self.db.transaction() as db:
            for result in results:
                if result.status is EnrolStatus.DONE:  # a key-add answer (.key_add_queue)
                    continue
                row = db.execute(
                    "SELECT user, device, ip FROM enrolments WHERE ticket = ? AND status IN (?, ?)",
                    (result.ticket, *OPEN),
                ).fetchone()
                if row is None:
                    continue
                reason = result.reason.value if result.reason else ""
                db.execute(
                    "UPDATE enrolments SET status = ?, reason = ?, received = ? WHERE ticket = ?",
                    (result.status.value, reason, now, result.ticket),
                )
                user, device, ip = row
                done.append(Finished(result.ticket, user, device, ip, result.status, result.reason))
        return done

    def settle_listed(self, entries: Mapping[str, Entry], now: int) -> list[str]:
        """Mark open requests whose device (same id and signing key) is now in the
        signed directory as enrolled — e.g. one an operator approved. Returns their
        tickets."""
        rows = self.db.query("SELECT ticket, request FROM enrolments WHERE status IN (?, ?)", OPEN)
        settled = []
        for ticket, raw in rows:
            request = EnrolmentRequest.from_json(json.loads(raw))
            entry = entries.get(request.user)
            listed = entry is not None and any(
                d.id == request.device_id and d.sign_key == request.sign_key and d.active
                for d in entry.devices
            )
            if listed:
                settled.append(ticket)
        if settled:
            results = tuple(EnrolResult(t, EnrolStatus.ENROLLED) for t in settled)
            self.finish(results, now)
        return settled

    def purge(self, now: int) -> None:
        """Forget answered requests after :data:`KEEP_SECONDS`."""
        self.db.query(
            "DELETE FROM enrolments WHERE status NOT IN (?, ?) AND received < ?",
            (*OPEN, now - KEEP_SECONDS),
        )
