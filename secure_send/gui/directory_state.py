"""The directory's state as the app shows it, and when to try loading it again.

One :class:`DirectoryState` says whether sending is possible and, if not, why (a code
the window's one banner words); :class:`Backoff` retries a load that failed for a
network reason — 5 s, doubling to 5 min — so the app recovers by itself when the
server is back (:class:`~secure_send.gui.model.AppModel` also retries at once when
another request gets through).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

from secure_send.client.directory_sync import DirectoryUnverified
from secure_send.client.errors import ClientError
from secure_send.core.error_codes import ErrorCode

DIRECTORY_RETRY = (5.0, 300.0)  # seconds: the first retry, the longest wait
# the reasons a retry can cure (the server or the network was away); a directory that
# failed its security check is not retried sooner than the regular refresh
NETWORK_CODES = frozenset(
    {ErrorCode.CONNECTION_LOST, ErrorCode.DIRECTORY_UNAVAILABLE, ErrorCode.DIRECTORY_STALE}
)


@dataclass(frozen=True)
class DirectoryState:
    """Whether sending is possible, and if not, why (a client error code)."""

    usable: bool
    problem_code: ErrorCode | None = None
    problem: str = ""
    entries: int = 0
    verified_at: dt.datetime | None = None  # the last successful verification (local)

    @property
    def offline(self) -> bool:
        """Blocked for a reason a retry can cure (the server or network was away)."""
        return not self.usable and self.problem_code in NETWORK_CODES


class Backoff(QObject):
    """Calls ``retry`` after ``first`` seconds, then after twice as long each time it is
    scheduled again, up to ``longest``; :meth:`reset` after a success."""

    def __init__(
        self, retry: Callable[[], object], first: float, longest: float, parent: QObject
    ) -> None:
        super().__init__(parent)
        self._first, self._longest = first, longest
        self.delay = first  # seconds until the next retry, once scheduled
        self._stopped = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(retry)

    def schedule(self) -> None:
        """Retry after the current delay; the next one waits twice as long."""
        if self._stopped:
            return
        self._timer.start(int(self.delay * 1000))
        self.delay = min(self.delay * 2, self._longest)

    def reset(self) -> None:
        """It worked: the next failure starts again from the first delay."""
        self._timer.stop()
        self.delay = self._first

    def cancel(self) -> None:
        """No retry pending (one is running now)."""
        self._timer.stop()

    def stop(self) -> None:
        """No retry any more (the app stops)."""
        self._stopped = True
        self._timer.stop()

    def pending(self) -> bool:
        """Whether a retry is scheduled."""
        return self._timer.isActive()


def last_verified(state: DirectoryState, checkpoint: Path) -> dt.datetime | None:
    """When this PC last verified a directory: in this run (``state``), else when the
    stored checkpoint was written (a start while offline); None if never."""
    if state.verified_at is not None:
        return state.verified_at
    try:
        return dt.datetime.fromtimestamp(checkpoint.stat().st_mtime).astimezone()
    except OSError:
        return None


def failure_code(err: BaseException) -> ErrorCode:
    """Why a directory load failed, as the banner says it: a failed check keeps its own
    code, a lost connection too; anything else is "could not be loaded"."""
    if isinstance(err, DirectoryUnverified) or (
        isinstance(err, ClientError) and err.code is ErrorCode.CONNECTION_LOST
    ):
        return err.code
    return ErrorCode.DIRECTORY_UNAVAILABLE
