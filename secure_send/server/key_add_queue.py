"""Key-add requests waiting for the directory signer (SQLite migration 9, PostgreSQL 5).

Like the enrolment queue (:mod:`.enrol_queue`) the server decides nothing: it keeps
a device's request until the signer takes it and records the signer's answer
(``done`` or ``refused`` with a reason). Apart from it because the caller here is
an authenticated, enrolled device, and its requests must neither count against nor
be counted by the anonymous enrolment limits. Guarantees: at most one *open*
request per device (a retry replaces it); at most :data:`MAX_KEPT_PER_DEVICE`
requests per device kept at all (an enrolled device cannot fill the table or keep
the signer busy: a device asks once per start); :data:`MAX_QUEUED` open requests
in all; an answer is recorded only for an open request, and only ``done`` or
``refused`` (an enrolment answer can never land here); answered requests are
forgotten after :data:`KEEP_SECONDS`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from secure_send.core.directory.key_add import KeyAddError, KeyAddRequest
from secure_send.core.directory.model import Entry
from secure_send.core.directory.push import EnrolResult, EnrolStatus, RefusalReason
from secure_send.server.enrol_queue import Queued  # the same shape for the signer
from secure_send.server.storage import SqlDatabase

MAX_KEPT_PER_DEVICE = 10
MAX_QUEUED = 100_000
KEEP_SECONDS = 7 * 24 * 3600
QUEUED = EnrolStatus.QUEUED.value


class QueueFull(Exception):
    """This device sent too many requests lately, or too many wait in all."""


@dataclass(frozen=True)
class Answered:
    """A request that just got its answer (for the audit log)."""

    ticket: str
    user: str
    device: str
    status: EnrolStatus
    reason: RefusalReason | None


class KeyAddQueue:
    """The ``key_adds`` table of a store (SQLite or PostgreSQL)."""

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def add(self, request: KeyAddRequest, raw: str, now: int) -> str:
        """Queue the request of an authenticated device (the route checked that it is
        the device the request names); returns its ticket.

        Raises:
            QueueFull: see the module docstring.
        """
        ticket = secrets.token_urlsafe(16)
        with self.db.transaction() as db:
            db.execute(
                "DELETE FROM key_adds WHERE user = ? AND device = ? AND status = ?",
                (request.user, request.device_id, QUEUED),
            )
            (kept,) = db.execute(
                "SELECT COUNT(*) FROM key_adds WHERE user = ? AND device = ?",
                (request.user, request.device_id),
            ).fetchone()
            (everyone,) = db.execute(
                "SELECT COUNT(*) FROM key_adds WHERE status = ?", (QUEUED,)
            ).fetchone()
            if kept >= MAX_KEPT_PER_DEVICE or everyone >= MAX_QUEUED:
                raise QueueFull
            db.execute(
                "INSERT INTO key_adds VALUES (?, ?, ?, ?, ?, ?, '')",
                (ticket, request.user, request.device_id, raw, now, QUEUED),
            )
        return ticket

    def queued(self, limit: int = 10_000) -> list[Queued]:
        """The oldest waiting requests."""
        rows = self.db.query(
            "SELECT ticket, request, received FROM key_adds WHERE status = ? "
            "ORDER BY received, ticket LIMIT ?",
            (QUEUED, limit),
        )
        return [Queued(*row) for row in rows]

    def status(
        self, ticket: str, user: str, device: str
    ) -> tuple[EnrolStatus, RefusalReason | None] | None:
        """Where the ticket of this device stands; None for an unknown ticket or one of
        another device (the same answer: a ticket says nothing to anyone else)."""
        rows = self.db.query(
            "SELECT status, reason FROM key_adds WHERE ticket = ? AND user = ? AND device = ?",
            (ticket, user, device),
        )
        if not rows:
            return None
        status, reason = rows[0]
        return EnrolStatus(status), RefusalReason(reason) if reason else None

    def finish(self, results: tuple[EnrolResult, ...], now: int) -> list[Answered]:
        """Record the signer's answers for open key-add requests; returns those recorded.
        Tickets of other tables (enrolments) are simply not found here."""
        done = []
        with self.db.transaction() as db:
            for result in results:
                if result.status not in (EnrolStatus.DONE, EnrolStatus.REFUSED):
                    continue
                row = db.execute(
                    "SELECT user, device FROM key_adds WHERE ticket = ? AND status = ?",
                    (result.ticket, QUEUED),
                ).fetchone()
                if row is None:
                    continue
                reason = result.reason.value if result.reason else ""
                db.execute(
                    "UPDATE key_adds SET status = ?, reason = ?, received = ? WHERE ticket = ?",
                    (result.status.value, reason, now, result.ticket),
                )
                user, device = row
                done.append(Answered(result.ticket, user, device, result.status, result.reason))
        return done

    def settle_listed(self, entries: Mapping[str, Entry], now: int) -> list[Answered]:
        """Mark open requests whose key the signed directory now lists on their device
        as done (e.g. a retry sent while the signer was adding the first one)."""
        rows = self.db.query("SELECT ticket, request FROM key_adds WHERE status = ?", (QUEUED,))
        settled = []
        for ticket, raw in rows:
            try:
                request = KeyAddRequest.from_json(json.loads(raw))
            except (KeyAddError, ValueError):  # written by this server: never expected
                continue
            entry = entries.get(request.user)
            if entry is not None and any(
                d.id == request.device_id and d.p256_key == request.p256_key for d in entry.devices
            ):
                settled.append(ticket)
        if not settled:
            return []
        return self.finish(tuple(EnrolResult(t, EnrolStatus.DONE) for t in settled), now)

    def purge(self, now: int) -> None:
        """Forget answered requests after :data:`KEEP_SECONDS`."""
        self.db.query(
            "DELETE FROM key_adds WHERE status <> ? AND received < ?", (QUEUED, now - KEEP_SECONDS)
        )
