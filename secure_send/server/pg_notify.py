"""Inbox wake-ups across servers: PostgreSQL ``LISTEN``/``NOTIFY`` (issue 18).

A commit on server B must wake a recipient's long-poll waiting on server A at once,
not at A's next re-check. :class:`PgBus` publishes the users a :class:`.state.Notifier`
wakes locally as a ``NOTIFY`` on one channel, and a listener thread on a connection of
its own hands every other server's notices to the event loop, which wakes the local
waiters. A notice names only user ids (already known to every server), never a drop.

Delivery is best effort by design: a lost notice (the listener reconnecting, say) costs
a waiting long-poll at most its re-check interval, after which it reads the database
anyway — the database, not the notice, is the truth.

The same listener thread serves other channels (``start``'s ``handlers``): the
directory's "a push was stored" (:mod:`.pg_directory`) and the failure budgets'
lock-outs (:mod:`.pg_limits`). Their handlers run on the listener thread and must
not wait.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor

from secure_send.server.pg_store import PostgresMetadataStore

log = logging.getLogger("secure_send.server")
CHANNEL = "secure_send_inbox"
PAYLOAD_BYTES = 7000  # NOTIFY's payload must stay under 8000 bytes: longer lists are split


def payloads(origin: str, users: Iterable[str]) -> list[str]:
    """The notices for ``users``: JSON ``{"o": origin, "u": [...]}`` under the size limit."""
    out: list[str] = []
    batch: list[str] = []
    size = 0
    for user in sorted(users):
        cost = len(json.dumps(user)) + 2  # as it is written in the payload, with ", "
        if batch and size + cost > PAYLOAD_BYTES:
            out.append(json.dumps({"o": origin, "u": batch}))
            batch, size = [], 0
        batch.append(user)
        size += cost
    if batch:
        out.append(json.dumps({"o": origin, "u": batch}))
    return out


class PgBus:
    """Publish local wake-ups; deliver other servers' to ``wake`` on the event loop."""

    def __init__(self, db: PostgresMetadataStore) -> None:
        self.db = db
        self.origin = secrets.token_hex(8)  # our own notices come back: skip them
        self._publisher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-notify")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()  # set once LISTEN is in place (for tests)

    def publish(self, users: frozenset[str]) -> None:
        """Send the notice (from the event loop: the round trip runs on a thread)."""
        if users and not self._stop.is_set():
            self._publisher.submit(self._send, users)

    def _send(self, users: frozenset[str]) -> None:
        try:
            for payload in payloads(self.origin, users):
                self.db.query("SELECT pg_notify(?, ?)", (CHANNEL, payload))
        except Exception as err:  # a lost notice costs one re-check interval
            log.warning("could not notify the other servers: %s", type(err).__name__)

    def start(
        self,
        loop: asyncio.AbstractEventLoop,
        wake: Callable[[frozenset[str]], None],
        handlers: Mapping[str, Callable[[str], None]] | None = None,
    ) -> None:
        """Listen on a thread until :meth:`close`; ``handlers``: other channels, each
        given its notices' payloads (all servers', ours too) on the listener thread."""

        def deliver(users: frozenset[str]) -> None:
            loop.call_soon_threadsafe(wake, users)

        self._thread = threading.Thread(
            target=self._listen, args=(deliver, dict(handlers or {})), name="pg-listen", daemon=True
        )
        self._thread.start()

    def _listen(
        self,
        deliver: Callable[[frozenset[str]], None],
        handlers: dict[str, Callable[[str], None]],
    ) -> None:
        while not self._stop.is_set():
            try:
                with self.db.connect() as conn:
                    for channel in (CHANNEL, *handlers):  # fixed names, never input
                        conn.execute(f"LISTEN {channel}")
                    self.listening.set()
                    for handler in handlers.values():  # notices sent while not listening
                        handler("")
                    while not self._stop.is_set():
                        for notice in conn.notifies(timeout=0.5, stop_after=64):
                            if notice.channel in handlers:
                                handlers[notice.channel](notice.payload)
                            else:
                                self._handle(notice.payload, deliver)
            except Exception as err:
                self.listening.clear()
                if not self._stop.is_set():
                    log.warning(
                        "listening for other servers failed (%s); retrying", type(err).__name__
                    )
                    self._stop.wait(1.0)

    def _handle(self, payload: str, deliver: Callable[[frozenset[str]], None]) -> None:
        try:
            notice = json.loads(payload)
            origin, users = notice["o"], notice["u"]
        except (ValueError, KeyError, TypeError):
            return  # not ours: anyone with database access can NOTIFY
        if origin != self.origin and isinstance(users, list):
            deliver(frozenset(u for u in users if isinstance(u, str)))

    def close(self) -> None:
        """Stop listening and publishing."""
        self._stop.set()
        self._publisher.shutdown(wait=True)
        if self._thread is not None:
            self._thread.join(timeout=5)
