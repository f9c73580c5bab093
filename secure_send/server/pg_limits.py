"""Failure budgets shared by several servers through PostgreSQL (issue 18).

Behind a load balancer each server's own token buckets would give an attacker N times
the budget (N servers). The budgets that are a security boundary — failed
authentications per address (:class:`.auth.FailureLimiter`) and refused enrolments per
(address, person) and per person (:class:`.anonymous.AnonymousGuard`) — are kept here
in ``rate_buckets`` instead, one row per (kind, key), shared by every server. The
generous anonymous *request* budget stays per process (see :mod:`.anonymous`).

Costs, and why they are acceptable:

* A failure is rare (a client with a valid key does not fail), so it may cost one round
  trip: an ``INSERT … ON CONFLICT DO UPDATE`` computes the token bucket atomically in
  SQL — refill since the last failure by the database's own clock (servers' clocks
  never meet), spend one token, return the level — so failures sent to several
  servers at once spend the shared budget exactly once each. Never on the event loop:
  ``failed(blocking=False)`` raises :class:`.loop_db.WouldBlock`.
* The per-request "is this key locked out?" check (:meth:`PgBuckets.allowed`) reads no
  database: a local table of locked-out keys and until when, filled from the failure
  path's own answer and from the other servers' ``NOTIFY`` of a lock-out
  (:data:`CHANNEL`). A lost notice leaves that server one failure behind: its next
  failure for the key reads the shared level and locks the key out there too.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable

from secure_send.server.loop_db import WouldBlock
from secure_send.server.pg_store import PostgresMetadataStore

log = logging.getLogger("secure_send.server")

CHANNEL = "secure_send_lockouts"
MAX_KEYS = 100_000  # locked-out keys remembered per budget (least recently set dropped)
PURGE_EVERY = 300.0  # seconds between deletions of rows whose bucket is full again

# One statement: refill by the elapsed time (the database's clock), spend a token if
# one is there (``refused``: it was not — the failure is over the budget), and tell
# every server when the key is now locked out (delivered at commit).
SPEND = """
WITH spent AS (
    INSERT INTO rate_buckets AS b (kind, key, tokens, at, refused)
    VALUES (%(kind)s, %(key)s, GREATEST(0, %(burst)s - 1),
            extract(epoch FROM clock_timestamp()), %(burst)s < 1)
    ON CONFLICT (kind, key) DO UPDATE SET
        tokens = GREATEST(0, LEAST(%(burst)s,
            b.tokens + GREATEST(0, EXCLUDED.at - b.at) * %(per_minute)s / 60.0) - 1),
        at = EXCLUDED.at,
        refused = LEAST(%(burst)s,
            b.tokens + GREATEST(0, EXCLUDED.at - b.at) * %(per_minute)s / 60.0) < 1
    RETURNING tokens, refused
)
SELECT tokens, refused,
    CASE WHEN tokens < 1 THEN pg_notify(%(channel)s, json_build_object(
        'k', %(kind)s::text, 'key', %(key)s::text,
        's', (1 - tokens) * 60.0 / %(per_minute)s)::text) END
FROM spent
"""


def key_text(key: Hashable) -> str:
    """A key as the table stores it: an address or a person as is, a pair as JSON."""
    if isinstance(key, str):
        return key
    if isinstance(key, tuple):
        return json.dumps([str(part) for part in key], ensure_ascii=False)
    return str(key)


class PgBuckets:
    """One budget (``kind``) of token buckets in the shared table; the surface of both
    :class:`.anonymous.TokenBuckets` (``allowed``/``spend``) and
    :class:`.auth.FailureLimiter` (``allowed``/``failed``)."""

    def __init__(
        self, db: PostgresMetadataStore, kind: str, burst: float, per_minute: float
    ) -> None:
        self.db = db
        self.kind = kind
        self.burst = burst
        self.per_minute = per_minute
        self._locked: OrderedDict[str, float] = OrderedDict()  # key -> until (monotonic)
        self._lock = threading.Lock()
        self._purged = time.monotonic()

    def allowed(self, key: Hashable) -> bool:
        """Whether ``key`` may try again: not locked out as far as this server knows
        (no database read: see the module docstring)."""
        text = key_text(key)
        with self._lock:
            until = self._locked.get(text)
            if until is None:
                return True
            if time.monotonic() < until:
                return False
            del self._locked[text]
            return True

    def spend(self, key: Hashable, *, blocking: bool = True) -> bool:
        """Count a failure in the shared bucket: spend a token if one is left; False:
        none was (the failure is over the budget). Below one token left, the key is
        locked out here and — by a notice — on the other servers."""
        if not blocking:
            raise WouldBlock  # a round trip: never on the event loop
        text = key_text(key)
        params = {
            "kind": self.kind,
            "key": text,
            "burst": float(self.burst),
            "per_minute": float(self.per_minute),
            "channel": CHANNEL,
        }
        with self.db.pool.connection() as conn:  # psycopg's own marks: not translated
            row = conn.execute(SPEND, params).fetchone()
        level, refused = (float(row[0]), bool(row[1])) if row else (0.0, True)
        if level < 1.0:
            self.lock_out(text, (1.0 - level) * 60.0 / self.per_minute)
        self._purge()
        return not refused

    def failed(self, key: str, *, blocking: bool = True) -> bool:
        """:class:`.auth.FailureLimiter`'s name for :meth:`spend`."""
        return self.spend(key, blocking=blocking)

    def lock_out(self, text: str, seconds: float) -> None:
        """Refuse ``text`` here for ``seconds`` (bounded: a notice is not trusted to
        lock a key out for longer than an empty bucket takes to get a token back)."""
        seconds = min(max(0.0, seconds), 60.0 / self.per_minute)
        with self._lock:
            self._locked[text] = time.monotonic() + seconds
            self._locked.move_to_end(text)
            while len(self._locked) > MAX_KEYS:
                self._locked.popitem(last=False)

    def _purge(self) -> None:
        now = time.monotonic()
        if now - self._purged < PURGE_EVERY:
            return
        self._purged = now
        full_after = self.burst * 60.0 / self.per_minute  # an idle bucket is full again
        self.db.query(
            "DELETE FROM rate_buckets WHERE kind = ? AND at < "
            "extract(epoch FROM clock_timestamp()) - ?",
            (self.kind, full_after),
        )


class Lockouts:
    """The budgets of one server by kind: hands other servers' lock-out notices to
    them (``PgBus`` calls :meth:`handle` on its listener thread)."""

    def __init__(self, *budgets: PgBuckets) -> None:
        self.budgets = {b.kind: b for b in budgets}

    def handle(self, payload: str) -> None:
        try:
            notice = json.loads(payload)
            budget = self.budgets.get(notice["k"])
            key, seconds = notice["key"], float(notice["s"])
        except (ValueError, KeyError, TypeError):
            return  # not ours (anyone with database access can NOTIFY), or a reconnect
        if budget is not None and isinstance(key, str):
            budget.lock_out(key, seconds)
