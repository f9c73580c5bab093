"""Budgets for callers who prove nothing: who they say they are is only a claim.

Anonymous requests (the directory head, enrolment and its tickets) are limited
per client address, and what they may cost other people is limited apart:

* every anonymous request spends a token of its address (a generous budget: a
  whole office behind one NAT enrols through it on a roll-out morning);
* a request without a one-time code (it waits for IT's approval, maybe for ever)
  spends a token of a much smaller per-address budget;
* a refused enrolment (a wrong code, a person not in the directory) locks out
  only the pair *(address, claimed person)* and, with a larger budget, the
  claimed person — never a bare address: twenty wrong codes from behind a proxy
  must not stop everyone else behind it, and the signer's own address has its
  own budget in :mod:`.auth`;
* audit records of anonymous requests are budgeted per address: a flood writes
  a handful of records and one ``audit_suppressed`` marker, not one per request.

Every table is bounded (least recently used entries are forgotten), so a caller
with many addresses cannot grow the server's memory.

Several servers over one database (issue 18): the two *refused-enrolment* budgets
are a security boundary (they bound how fast codes can be guessed), so the app
replaces them with the shared :class:`.pg_limits.PgBuckets` — N servers must not give
N times the guesses. The others stay per process on purpose: the anonymous request
and code-less budgets are flood guards, not security boundaries (a caller gets
nothing from them but load, which the N servers are there to take), so N times the
budget is acceptable and costs no round trip per anonymous request; the audit budget
only limits how much a flood writes.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Protocol

MAX_KEYS = 100_000  # per table: enough for every address of a large organisation

CODELESS_BURST = 10  # code-less enrolment requests per address ...
CODELESS_PER_MINUTE = 5.0  # ... and how fast that budget comes back
SOURCE_FAILURES_BURST = 5  # refused enrolments per (address, claimed person)
PERSON_FAILURES_BURST = 20  # refused enrolments per claimed person, from anywhere
FAILURES_PER_MINUTE = 2.0
AUDIT_BURST = 20  # audit records of anonymous requests per address ...
AUDIT_PER_MINUTE = 10.0


class Budget(Protocol):
    """A failure budget per key: :class:`TokenBuckets`, or the shared ``PgBuckets``."""

    def allowed(self, key: Hashable) -> bool: ...

    def spend(self, key: Hashable) -> object: ...


class TokenBuckets:
    """A token bucket per key, in a bounded table (thread-safe, memory only)."""

    def __init__(
        self,
        burst: float,
        per_minute: float,
        *,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = float(burst)
        self.per_minute = float(per_minute)
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[Hashable, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def _level(self, key: Hashable, now: float) -> float:
        tokens, last = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - last) * self.per_minute / 60.0)

    def allowed(self, key: Hashable) -> bool:
        """Whether ``key`` has a token left (nothing is spent)."""
        with self._lock:
            return self._level(key, self._clock()) >= 1.0

    def take(self, key: Hashable) -> bool:
        """Spend a token if one is left; False (nothing spent) when the bucket is empty."""
        with self._lock:
            now = self._clock()
            level = self._level(key, now)
            if level < 1.0:
                return False
            self._put(key, level - 1.0, now)
            return True

    def spend(self, key: Hashable) -> None:
        """Spend a token whatever is left (a failure: the bucket may stay empty)."""
        with self._lock:
            now = self._clock()
            self._put(key, max(0.0, self._level(key, now) - 1.0), now)

    def _put(self, key: Hashable, tokens: float, now: float) -> None:
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:  # forget the least recently used
            self._buckets.popitem(last=False)


class AnonymousGuard:
    """The budgets of anonymous callers for one server (see the module docstring)."""

    def __init__(
        self,
        burst: int,
        per_minute: int,
        *,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        def buckets(burst: float, per_minute: float) -> TokenBuckets:
            return TokenBuckets(burst, per_minute, max_keys=max_keys, clock=clock)

        self.requests = buckets(burst, per_minute)
        self.codeless = buckets(CODELESS_BURST, CODELESS_PER_MINUTE)
        # security budgets: shared by every server when they share a database (app.py)
        self.by_source: Budget = buckets(SOURCE_FAILURES_BURST, FAILURES_PER_MINUTE)
        self.by_person: Budget = buckets(PERSON_FAILURES_BURST, FAILURES_PER_MINUTE)
        self.audit = buckets(AUDIT_BURST, AUDIT_PER_MINUTE)
        self._muted: OrderedDict[str, None] = OrderedDict()  # addresses told "suppressed"
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def request(self, ip: str) -> bool:
        """Spend one anonymous request of ``ip``; False: answer 429."""
        return self.requests.take(ip)

    def codeless_request(self, ip: str) -> bool:
        """Spend one code-less enrolment of ``ip``; False: answer 429."""
        return self.codeless.take(ip)

    def enrolment_allowed(self, ip: str, person: str) -> bool:
        """Whether ``ip`` may still try to enrol a device of ``person``."""
        return self.by_source.allowed((ip, person)) and self.by_person.allowed(person)

    def enrolment_refused(self, ip: str, person: str, *, listed: bool = True) -> None:
        """Count a refused enrolment; ``listed``: ``person`` is in the directory (only
        then is the per-person budget spent: unknown names are the caller's own)."""
        self.by_source.spend((ip, person))
        if listed:
            self.by_person.spend(person)

    def audit_record(self, ip: str) -> str | None:
        """May a record of an anonymous request from ``ip`` be written? ``"ok"``: yes;
        ``"suppressed"``: no, but write one marker now (the first refusal since
        the budget ran out); None: write nothing."""
        if self.audit.take(ip):
            with self._lock:
                self._muted.pop(ip, None)
            return "ok"
        with self._lock:
            if ip in self._muted:
                return None
            self._muted[ip] = None
            while len(self._muted) > self._max_keys:
                self._muted.popitem(last=False)
        return "suppressed"
