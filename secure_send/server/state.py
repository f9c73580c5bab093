"""What the routes share, reached through a FastAPI dependency."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, cast

from fastapi import Request

from secure_send.core.audit import AuditLog
from secure_send.server.anonymous import AnonymousGuard
from secure_send.server.auth import Authenticator
from secure_send.server.config import ServerConfig
from secure_send.server.directory_store import PublishedDirectory
from secure_send.server.drop_store import DropStore
from secure_send.server.enrol_queue import EnrolQueue
from secure_send.server.fd_limit import FdWatch
from secure_send.server.key_add_queue import KeyAddQueue
from secure_send.server.pg_limits import Lockouts
from secure_send.server.request_store import RequestStore
from secure_send.server.storage import BlobStore, MetadataStore
from secure_send.server.upload_sink import HashCache


class Notifier:
    """Wakes a user's inbox long-polls when a drop for them is committed (event loop only).

    At most ``limit`` long-polls wait at once (each holds a connection, so a file
    descriptor: :mod:`.fd_limit`); beyond that :meth:`wait` returns at once.
    """

    def __init__(self, limit: int = 1 << 30) -> None:
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._versions: dict[str, int] = {}
        self.limit = limit
        self.total = 0  # long-polls waiting now, all users
        # other servers over the same database (``pg_notify.PgBus``): told of every
        # local notice, and their notices wake our waiters through :meth:`wake`
        self.publish: Callable[[frozenset[str]], None] | None = None

    def version(self, user: str) -> int:
        """How often ``user`` was notified; read before looking, pass to :meth:`wait`."""
        return self._versions.get(user, 0)

    async def wait(self, user: str, seen: int, timeout: float, *, capped: bool = True) -> bool:
        """Return once ``user`` is notified after version ``seen``, or after ``timeout`` s;
        False at once (without waiting) when ``limit`` long-polls already wait (unless
        not ``capped``: the one directory signer's queue)."""
        if self.version(user) != seen:
            return True
        if capped and self.total >= self.limit:
            return False
        event = asyncio.Event()
        self._waiters.setdefault(user, set()).add(event)
        self.total += 1
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            self.total -= 1
            waiting = self._waiters.get(user, set())
            waiting.discard(event)
            if not waiting:
                self._waiters.pop(user, None)
        return True

    def waiting(self, user: str) -> int:
        """How many of ``user``'s long-polls are waiting now (for tests and metrics)."""
        return len(self._waiters.get(user, ()))

    def notify(self, users: frozenset[str]) -> None:
        """Wake every long-poll of these users, on this server and on the others."""
        self.wake(users)
        if self.publish is not None:
            self.publish(users)

    def wake(self, users: frozenset[str]) -> None:
        """Wake this server's long-polls of these users."""
        for user in users:
            self._versions[user] = self.version(user) + 1
            for event in self._waiters.get(user, set()):
                event.set()


class Leases(Protocol):
    """Claims other servers see too (``pg_locks.UploadLeases``)."""

    def claim(self, upload_id: str) -> bool: ...

    def release(self, upload_id: str) -> None: ...


@dataclass
class Busy:
    """Upload ids with a PATCH in progress (one at a time per upload); with ``shared``
    (several servers over one database) the claim holds across servers too. May wait
    for the database: call it from a worker thread."""

    _ids: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    shared: Leases | None = None

    def claim(self, upload_id: str) -> bool:
        """Take the upload's lock; False if another request holds it."""
        with self._lock:
            if upload_id in self._ids:
                return False
            self._ids.add(upload_id)
        if self.shared is not None and not self.shared.claim(upload_id):
            with self._lock:
                self._ids.discard(upload_id)
            return False
        return True

    def release(self, upload_id: str) -> None:
        """Give the lock back."""
        if self.shared is not None:
            self.shared.release(upload_id)
        with self._lock:
            self._ids.discard(upload_id)


@dataclass
class ServerState:
    """Config, the held directory, stores and the authenticator of one app."""

    config: ServerConfig
    directory: PublishedDirectory
    meta: MetadataStore
    blobs: BlobStore
    auth: Authenticator
    drops: DropStore
    enrolments: EnrolQueue
    audit: AuditLog
    notifier: Notifier = field(default_factory=Notifier)
    busy: Busy = field(default_factory=Busy)
    hashes: HashCache = field(default_factory=HashCache)
    anonymous: AnonymousGuard = field(default_factory=lambda: AnonymousGuard(300, 600))
    fds: FdWatch = field(default_factory=lambda: FdWatch(lambda: 0))
    lockouts: Lockouts | None = None  # the shared failure budgets (several servers)

    @functools.cached_property
    def requests(self) -> RequestStore:
        """The file requests' tables, in the same database as the drops."""
        return RequestStore(self.drops.db)

    @functools.cached_property
    def key_adds(self) -> KeyAddQueue:
        """Key-add requests waiting for the directory signer (issue 21), beside the drops."""
        return KeyAddQueue(self.drops.db)


async def server_state(request: Request) -> ServerState:
    """The shared state (a FastAPI dependency); set by ``create_app``.

    ``async`` although it does not wait: FastAPI runs a plain ``def`` dependency on a
    worker thread, and that hop (for one attribute read) cost every request about
    0.1 ms of server CPU (benchmarks/bench_inbox.py)."""
    return cast(ServerState, request.app.state.server)
