"""Request authentication: an RFC 9421 signature by a device in the current directory.

Guarantees of :meth:`Authenticator.authenticate`: it returns only if the request
is signed as :mod:`secure_send.core.httpsig` requires, by a device listed in the
organisation's *currently published* directory (verified against the org's own
trust anchor, reloaded whenever the bundle file changes), that device is not
revoked and its user is active, and the ``(keyid, nonce)`` pair was never seen
within the clock window. Otherwise it raises :class:`ApiError` (401, or 429 once
a client IP has failed too often) with one stable code.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from secure_send.core import httpsig
from secure_send.core.directory.errors import DirectoryError
from secure_send.core.directory.model import Device, Entry
from secure_send.core.encoding import utc_now
from secure_send.core.error_codes import ErrorCode
from secure_send.server.directory_store import PublishedDirectory
from secure_send.server.storage import MetadataStore


class ApiError(Exception):
    """An error answered as JSON ``{"code", "message"}`` with an HTTP status."""

    def __init__(self, status: int, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def unauthorized(code: ErrorCode, message: str) -> ApiError:
    """A 401 with a stable code."""
    return ApiError(401, code, message)


class DirectoryCache:
    """Who may sign requests: the devices of the held, unexpired signed directory."""

    def __init__(self, published: PublishedDirectory) -> None:
        self.published = published

    def entries(self) -> Mapping[str, Entry]:
        """Entries by id (see :meth:`PublishedDirectory.entries`).

        Raises:
            DirectoryError: nothing current is held (nobody can log in).
        """
        return self.published.entries()

    def roles_of(self, user: str) -> tuple[str, ...]:
        """The active role mailboxes ``user`` is a member of (see
        :meth:`PublishedDirectory.roles_of`)."""
        return self.published.roles_of(user)

    def device(self, user: str, device: str, *, blocking: bool = True) -> tuple[Entry, Device]:
        """The active person and active device a key id names, or a 401 (``blocking``:
        see :meth:`PublishedDirectory.held`)."""
        found = self.published.person_device(user, device, blocking=blocking)
        if found is None:
            raise unauthorized(ErrorCode.UNKNOWN_DEVICE, "no such device in the directory")
        entry, dev = found
        if not entry.active or not dev.active:
            raise unauthorized(
                ErrorCode.REVOKED_DEVICE, "this device or its user is no longer active"
            )
        return entry, dev


class Limiter(Protocol):
    """A failure budget per client IP: :class:`FailureLimiter` (one server, memory), or
    :class:`.pg_limits.PgBuckets` (shared by every server over one database)."""

    @property
    def burst(self) -> float: ...

    @property
    def per_minute(self) -> float: ...

    def allowed(self, ip: str) -> bool: ...

    def failed(self, ip: str, *, blocking: bool = True) -> bool:
        """Count a failure; False: it was over the budget (answer 429)."""
        ...


@dataclass
class FailureLimiter:
    """A token bucket per client IP, spent by failed authentications (memory only)."""

    burst: int
    per_minute: int
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _level(self, ip: str, now: float) -> float:
        tokens, last = self._buckets.get(ip, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - last) * self.per_minute / 60.0)

    def allowed(self, ip: str) -> bool:
        """Whether this IP may try again (at least one token left)."""
        with self._lock:
            return self._level(ip, time.monotonic()) >= 1.0

    def failed(self, ip: str, *, blocking: bool = True) -> bool:
        """Spend one token for a failure (memory: never waits, whatever ``blocking``;
        True: the caller checks :meth:`allowed` first)."""
        with self._lock:
            now = time.monotonic()
            self._buckets[ip] = (max(0.0, self._level(ip, now) - 1.0), now)
            if len(self._buckets) > 100_000:  # bound memory: forget the oldest
                oldest = min(self._buckets, key=lambda k: self._buckets[k][1])
                del self._buckets[oldest]
        return True


@dataclass(frozen=True)
class Caller:
    """An authenticated request's user and device, and the body's signed SHA-256
    (which a streamed body must still be checked against: see :func:`authenticate`)."""

    user: Entry
    device: Device
    body_sha256: bytes


SIGNER_KEY_ID = "secure-send-signer/directory"  # the directory signer's RFC 9421 keyid


class Authenticator:
    """Verifies signed requests; see the module docstring."""

    def __init__(
        self,
        directory: DirectoryCache,
        store: MetadataStore,
        limiter: Limiter,
        window: dt.timedelta,
        signer_key: bytes | None = None,
        signer_limiter: Limiter | None = None,
    ) -> None:
        self.directory = directory
        self.store = store
        self.limiter = limiter
        # The signer's requests spend a budget of their own: anonymous failures from the
        # same address (a shared NAT, a proxy) must not lock the signer out, or the
        # directory would stop changing and expire.
        self.signer_limiter = signer_limiter or FailureLimiter(
            int(limiter.burst), int(limiter.per_minute)
        )
        self.window = window
        self.signer_key = signer_key

    def authenticate(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        ip: str,
        *,
        blocking: bool = True,
    ) -> Caller:
        """Authenticate one device's request, or raise :class:`ApiError`.

        ``body=None`` is for a body streamed after this check: the caller must compare
        its SHA-256 with ``Caller.body_sha256`` before keeping it. ``blocking=False``
        (the event loop): the same checks, but :class:`~.loop_db.WouldBlock` — before
        the nonce is recorded and before any failure is counted — wherever one would
        wait (a directory reload, a lock, the database); the caller then runs it
        again on a worker thread.
        """
        found: list[tuple[Entry, Device]] = []

        def resolve(user: str, device: str) -> bytes:
            found.append(self.directory.device(user, device, blocking=blocking))
            return found[-1][1].sign_key

        signed = self._limited(method, url, headers, body, ip, resolve, self.limiter, blocking)
        user, device = found[-1]
        return Caller(user, device, signed.body_sha256)

    def authenticate_signer(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        ip: str,
        *,
        blocking: bool = True,
    ) -> bytes:
        """Authenticate a request of the directory signer (the key pinned in
        ``server.toml``); returns the body's signed SHA-256, or raises :class:`ApiError`
        (``blocking``: as for :meth:`authenticate`)."""

        def resolve(user: str, device: str) -> bytes:
            if self.signer_key is None or httpsig.key_id(user, device) != SIGNER_KEY_ID:
                raise unauthorized(ErrorCode.UNKNOWN_DEVICE, "not the directory signer")
            return self.signer_key

        signed = self._limited(
            method, url, headers, body, ip, resolve, self.signer_limiter, blocking
        )
        return signed.body_sha256

    def _limited(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        ip: str,
        resolve: Callable[[str, str], bytes],
        limiter: Limiter,
        blocking: bool,
    ) -> httpsig.SignedRequest:
        # A valid signature is served whatever its address's failures: the budget is
        # per address, and an address is shared (a NAT, a proxy); checked first, it let
        # anyone there lock every device behind it out with unsigned requests.
        try:
            return self._verify(method, url, headers, body, resolve, blocking)
        except ApiError as err:
            # only the client's own failures (401) spend its budget: a server-side 503
            # (no directory, no file descriptor) or 507 (disk full) is not its doing,
            # and counting them locked every client out once the server recovered
            if err.status != 401:
                raise
            # shared (several servers): ``allowed`` reads the local lock-out table,
            # ``failed`` the database — WouldBlock on the loop, counted on a thread —
            # and says whether the shared budget still had this failure in it
            if not limiter.allowed(ip) or not limiter.failed(ip, blocking=blocking):
                raise ApiError(
                    429, ErrorCode.RATE_LIMITED, "too many failed authentications; wait a minute"
                ) from None
            raise

    def _verify(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        resolve: Callable[[str, str], bytes],
        blocking: bool,
    ) -> httpsig.SignedRequest:
        now = utc_now()
        try:
            signed = httpsig.verify_request(
                method, url, headers, body, resolve, now=now, window=self.window
            )
        except httpsig.SignatureError as err:
            raise unauthorized(err.code, str(err)) from None
        except (DirectoryError, OSError):
            raise ApiError(
                503, ErrorCode.DIRECTORY_UNAVAILABLE, "the published directory does not verify"
            ) from None
        expires = signed.created + int(self.window.total_seconds()) + 1
        if not self.store.remember_nonce(
            signed.key_id, signed.nonce, expires, int(now.timestamp()), blocking=blocking
        ):
            raise unauthorized(
                ErrorCode.REPLAYED, "this request was already received (nonce reused)"
            )
        return signed
