"""A full volume: reads keep working, writes get 507 ``insufficient_storage``.

Every signed request records its nonce (replay protection), which used to be a
SQLite write: on a full volume every request, downloads and the inbox included,
answered 500. :class:`NonceLedger` keeps nonces in a bounded in-memory table
while the database cannot take them — but only while this process is the only
server over the state folder (another process would not see those nonces, so a
request replayed to it would pass). Every server process holds a shared ``flock``
on ``HOME/server/serving.lock`` for its lifetime; falling back to memory needs the
exclusive lock, held until the remembered nonces have expired. A process that
cannot have it — or any lock — fails closed with 507.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import sqlite3
import threading
from pathlib import Path

from secure_send.core.error_codes import ErrorCode
from secure_send.server.auth import ApiError
from secure_send.server.loop_db import WouldBlock
from secure_send.server.storage import MetadataStore

log = logging.getLogger("secure_send.server")

FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
MEMORY_NONCES = 100_000  # at most this many nonces held in memory (~20 MB)
LOCK_NAME = "serving.lock"


def storage_full(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) says the volume or quota is full."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, OSError) and exc.errno in FULL_ERRNOS:
            return True
        if isinstance(exc, sqlite3.Error):
            code = getattr(exc, "sqlite_errorcode", None)
            if code is not None and code & 0xFF == sqlite3.SQLITE_FULL:
                return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def insufficient_storage() -> ApiError:
    """The 507 every write gets while the volume is full."""
    return ApiError(
        507,
        ErrorCode.INSUFFICIENT_STORAGE,
        "the server's disk is full: it cannot store anything new now",
    )


class ServingLock:
    """This process's ``flock`` on ``serving.lock``: shared while serving, exclusive
    while it alone holds nonces in memory (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self.exclusive = False
        self.shared()

    def _open(self) -> int | None:
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError:
                return None
        return self._fd

    def shared(self) -> bool:
        """Hold (or take again) the shared lock; False if a process holds it exclusively."""
        fd = self._open()
        if fd is None:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return False
        self.exclusive = False
        return True

    def take_exclusive(self) -> bool:
        """True if no other server process holds the lock (this one then holds it alone)."""
        if self.exclusive:
            return True
        fd = self._open()
        if fd is None:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.shared()  # a failed conversion may have dropped the shared lock
            return False
        self.exclusive = True
        return True

    def close(self) -> None:
        """Release the lock."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class NonceLedger:
    """``remember_nonce`` over the database, with the in-memory fallback of a full volume."""

    def __init__(self, store: MetadataStore, lock: ServingLock, limit: int = MEMORY_NONCES):
        self.store = store
        self.lock = lock
        self.limit = limit
        self._memory: dict[tuple[str, str], int] = {}  # (key id, nonce) -> expires
        self._mutex = threading.Lock()

    def remember_nonce(
        self, key_id: str, nonce: str, expires: int, now: int, *, blocking: bool = True
    ) -> bool:
        """False for a replay; raises :func:`insufficient_storage` when the nonce can be
        kept neither in the database nor (safely) in memory. With ``blocking=False``
        (the event loop) only the usual case is tried — every nonce in the database,
        the shared lock held — and anything else is :class:`WouldBlock`."""
        if not blocking:
            if not self._mutex.acquire(blocking=False):
                raise WouldBlock
            try:
                # the mutex also keeps the lock's shared/exclusive state ours to read
                if self._memory or self.lock.exclusive or not self.lock.shared():
                    raise WouldBlock
                return self.store.remember_nonce(key_id, nonce, expires, now, blocking=False)
            finally:
                self._mutex.release()
        with self._mutex:
            if self._memory:
                self._memory = {k: e for k, e in self._memory.items() if e >= now}
            if (key_id, nonce) in self._memory:
                return False
            if not self.lock.exclusive and not self.lock.shared():
                # another process holds nonces only it knows: we cannot tell a replay
                raise insufficient_storage()
            try:
                fresh = self.store.remember_nonce(key_id, nonce, expires, now)
            except (sqlite3.Error, OSError) as err:
                if not storage_full(err):
                    raise
                return self._in_memory(key_id, nonce, expires)
            if not self._memory and self.lock.exclusive:
                self.lock.shared()  # every nonce is in the database again
            return fresh

    def _in_memory(self, key_id: str, nonce: str, expires: int) -> bool:
        if len(self._memory) >= self.limit or not self.lock.take_exclusive():
            raise insufficient_storage()
        if not self._memory:
            log.warning("the volume is full: request nonces are kept in memory; free space")
        self._memory[(key_id, nonce)] = expires
        return True

    def close(self) -> None:
        """Release the lock (the app closes the database itself)."""
        self.lock.close()
