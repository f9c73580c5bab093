"""Finishing a send whatever the network does: retry what a retry can fix, with backoff.

A prepared send (:class:`~secure_send.client.send.PendingSend`) always finishes under its
own drop id: :func:`finish_retrying` calls :func:`~secure_send.client.send.finish` on the
*same* pending send again after a connection problem or an answer that says "not now"
(the server restarting, busy, or still holding the lock of a cut upload), waiting
longer each time (:class:`Backoff`). Everything else stops at once: a retry cannot make
a changed file unchanged, and an error IT must fix (a full volume, a damaged server
directory) would only be hidden by retrying for ever. Each wait is announced first
(:class:`Retrying`), so a caller can show it; the waits inside one upload
(:func:`~secure_send.client.transfer.send_blob`'s own quick retries) are announced the
same way and counted in the same sequence.

No Qt here: the app and its tests use it the same way.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from secure_send.client import send as sending
from secure_send.client.errors import Cancelled, ClientError, ServerError
from secure_send.core.error_codes import ErrorCode

if TYPE_CHECKING:
    from secure_send.client.session import Session

# Answers a later attempt can get past by itself. Deliberately short: an error a person
# or IT must act on (quota, full volume, damaged directory, a changed file) is not here.
RETRYABLE_CODES = frozenset(
    {
        ErrorCode.CONNECTION_LOST,  # refused, reset, timed out: the server or the network
        ErrorCode.LOCKED,  # 423: the server still holds a cut PATCH's lock for a moment
        ErrorCode.OFFSET_MISMATCH,  # 409: a cut PATCH landed after all; ask the offset again
        ErrorCode.RATE_LIMITED,  # 429: wait, as asked
        ErrorCode.INTERNAL,  # 500 from our server: a restart usually ends it
        ErrorCode.DIRECTORY_UNAVAILABLE,  # 503 while a restarted server loads its directory
    }
)
# Statuses a gateway in front of the server answers while the server is down or
# restarting (its page carries no code of ours: ``http_error``).
RETRYABLE_STATUS = frozenset({502, 503, 504})


def retryable(err: BaseException) -> bool:
    """Whether waiting and calling ``finish`` again can get past ``err``."""
    if isinstance(err, Cancelled) or not isinstance(err, ClientError):
        return False
    if err.code in RETRYABLE_CODES:
        return True
    return (
        isinstance(err, ServerError)
        and err.code == ErrorCode.HTTP_ERROR
        and err.status in RETRYABLE_STATUS
    )


@dataclass(frozen=True)
class Backoff:
    """Waits between attempts: ``first`` seconds, times ``factor`` per attempt, at most
    ``cap``, each spread by ±``jitter`` (so that many clients a restarted server meets
    again do not all come back in the same second)."""

    first: float = 2.0
    factor: float = 2.0
    cap: float = 60.0
    jitter: float = 0.2

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number ``attempt`` (1 for the first)."""
        base = min(self.cap, self.first * self.factor ** max(0, attempt - 1))
        spread = 1.0 - self.jitter + 2.0 * self.jitter * rand()
        return min(self.cap, base * spread)


# The app's schedule; a test passes a shorter Backoff (a parameter, never a switch)
BACKOFF = Backoff()


@dataclass(frozen=True)
class Retrying:
    """A retry about to happen: the how-manieth (counted over the whole send), the
    seconds until it, and the code of what failed."""

    attempt: int
    delay: float
    code: ErrorCode


def finish_retrying(
    session: Session,
    pending: sending.PendingSend,
    progress: sending.Progress | None = None,
    cancel: threading.Event | None = None,
    notify: Callable[[Retrying], None] | None = None,
    backoff: Backoff = BACKOFF,
) -> str:
    """Finish ``pending`` (same drop id) however often the connection fails; returns the
    drop id. Raises the first error a retry cannot fix, or :class:`Cancelled` when
    ``cancel`` is set (also during a wait: it ends at once). The send then stays
    unfinished (its resume file kept) unless :func:`~secure_send.client.send.finish`
    forgot it because it can never finish."""
    cancel = cancel or threading.Event()
    attempts = 0

    def announce(delay: float, code: ErrorCode) -> None:
        nonlocal attempts
        attempts += 1
        if notify is not None:
            notify(Retrying(attempts, delay, code))

    def inner(delay: float) -> None:  # a quick retry inside one upload
        announce(delay, ErrorCode.CONNECTION_LOST)

    failures = 0  # calls of finish that failed, for the backoff
    while True:
        try:
            return sending.finish(session, pending, progress, cancel, retrying=inner)
        except ClientError as err:
            if cancel.is_set():
                raise Cancelled from None
            if not retryable(err):
                raise
            failures += 1
            delay = backoff.delay(failures)
            announce(delay, err.code)
            if cancel.wait(delay):
                raise Cancelled from None
