"""File descriptors: raise the soft limit at start, cap waiting long-polls, warn when near.

Every open connection holds a descriptor, and so does every file a request opens
(the directory bundle, a blob). With the common soft limit of 1024, about a
thousand idle inbox long-polls used to leave none for new connections (accept()
failed, silently) or for the directory (every request answered 503). So the
server raises the soft limit to the hard one at start (systemd: ``LimitNOFILE=``,
docs/deployment.md), lets at most a quarter of the limit wait in long-polls (the
rest are answered at once: a client asks again, it is never refused), and logs a
warning when descriptors run short.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import resource
import time
from collections.abc import Callable

log = logging.getLogger("secure_send.server")

NEAR = 0.8  # warn when this share of the soft limit is in use
WATCH_SECONDS = 1.0  # how often the watcher counts descriptors
WARN_EVERY_SECONDS = 60.0  # at most one warning a minute
FD_FOLDER = "/proc/self/fd"


def soft_limit() -> int:
    """The process's current soft limit on open files."""
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def raise_fd_limit() -> int:
    """Raise the soft limit on open files to the hard limit; returns the soft limit now.

    A process may do this without privileges; a failure (a platform that refuses)
    is logged and the old limit kept.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard <= soft:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError) as err:
        log.warning("could not raise the open-file limit from %d to %d: %s", soft, hard, err)
        return soft
    return hard


def poll_cap(limit: int) -> int:
    """How many inbox long-polls may wait at once: a quarter of the descriptors, so
    that new connections, the database, the directory and blobs keep the rest."""
    return max(8, limit // 4)


def open_fds() -> int | None:
    """Descriptors open in this process (None where ``/proc`` is missing); the soft
    limit itself when none is left even to count them."""
    try:
        return len(os.listdir(FD_FOLDER)) - 1  # minus the one listdir opened
    except FileNotFoundError:
        return None
    except OSError as err:
        if err.errno in (errno.EMFILE, errno.ENFILE):
            return soft_limit()
        raise


class FdWatch:
    """Counts descriptors and logs a warning (at most once a minute) when near the limit."""

    def __init__(self, waiting: Callable[[], int]) -> None:
        self._warned = -WARN_EVERY_SECONDS
        self._waiting = waiting  # how many long-polls wait now, for the warning

    def _warn(self, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._warned >= WARN_EVERY_SECONDS:
            self._warned = now
            log.warning(message + "; raise LimitNOFILE (docs/deployment.md)", *args)

    def check(self) -> bool:
        """Count once; True if near the limit (and warn, unless warned recently)."""
        used, limit = open_fds(), soft_limit()
        if used is None or used < NEAR * limit:
            return False
        self._warn(
            "file descriptors nearly exhausted: %d of %d in use (%d inbox long-polls "
            "waiting); new connections may be dropped",
            used,
            limit,
            self._waiting(),
        )
        return True

    def capped(self) -> None:
        """A long-poll was answered at once: as many as the descriptors allow wait."""
        self._warn(
            "file descriptors nearly exhausted: %d inbox long-polls wait (the most the "
            "limit of %d allows), later ones are answered at once",
            self._waiting(),
            soft_limit(),
        )

    async def run(self) -> None:
        """Check every ``WATCH_SECONDS`` until cancelled."""
        while True:
            try:
                self.check()
            except OSError:
                log.exception("counting file descriptors failed")
            await asyncio.sleep(WATCH_SECONDS)
