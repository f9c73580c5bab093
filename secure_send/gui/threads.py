"""The one place the app starts work off the main thread.

A :class:`Task` runs a plain function on the global ``QThreadPool``; the function
gets the task itself to report progress (``task.progress(label, done, total)``,
throttled to ~10 signals a second) and to check ``task.cancel`` (a
``threading.Event`` the client library honours). Results and exceptions come back
as signals, delivered on the main thread. Widgets are never touched from a worker,
and threads are never terminated: cancelling is cooperative.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)
PROGRESS_INTERVAL = 0.1  # seconds between progress signals per label


class Task(QObject):
    """One piece of background work for ``fn``, not yet running: connect to the signals,
    then :func:`start` it (started at once, a quick task could end before anyone
    listened and its result would be lost)."""

    progressed = Signal(str, int, int)  # label (e.g. a blob id), bytes done, bytes total
    succeeded = Signal(object)  # the function's result
    failed = Signal(object)  # the exception (a SecureSendError, usually)
    # a note from the work for whoever watches it, not throttled (a send's drop id once
    # prepared, each retry it waits for: gui/model.py)
    noted = Signal(object)
    ended = Signal()  # after succeeded or failed

    def __init__(self, fn: Callable[[Task], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn
        self.cancel = threading.Event()
        self._last: dict[str, float] = {}
        self.running = False
        # only reads (an inbox long-poll): need not be waited for when the app quits
        self.read_only = False

    def progress(self, label: str, done: int, total: int) -> None:
        """Report progress (any thread); throttled, but the last value always goes out."""
        now = time.monotonic()
        if done < total and now - self._last.get(label, 0.0) < PROGRESS_INTERVAL:
            return
        self._last[label] = now
        self.progressed.emit(label, done, total)

    def run(self) -> None:
        """Run the function (on a pool thread)."""
        try:
            result = self._fn(self)
        except BaseException as err:  # handed to the main thread, never lost
            log.debug("task failed", exc_info=True)
            self.failed.emit(err)
        else:
            self.succeeded.emit(result)
        finally:
            self.running = False
            self.ended.emit()


class _Runner(QRunnable):
    def __init__(self, task: Task) -> None:
        super().__init__()
        self._task = task

    def run(self) -> None:
        self._task.run()


_alive: set[Task] = set()  # tasks keep themselves alive until they end


MIN_THREADS = 8  # tasks mostly wait on the network (an inbox long-poll waits 20 s)


def start(task: Task) -> Task:
    """Run ``task`` on the thread pool; returns it."""
    task.running = True
    _alive.add(task)
    task.ended.connect(lambda: _alive.discard(task))
    pool = QThreadPool.globalInstance()
    # Qt sizes the pool by CPU count (2 here): a long-poll or two would leave a send
    # waiting in the queue. CPU-heavy work (encryption) has its own threads.
    if pool.maxThreadCount() < MIN_THREADS:
        pool.setMaxThreadCount(MIN_THREADS)
    pool.start(_Runner(task))
    return task


def finish_all(timeout: float = 10.0) -> bool:
    """Cancel every running task and wait (running the event loop) until those that
    write have ended, so none is cut off mid-write when the app quits. Returns False
    if some were still running after ``timeout`` seconds."""
    from PySide6.QtCore import QCoreApplication

    for task in list(_alive):
        task.cancel.set()
    deadline = time.monotonic() + timeout
    while any(not t.read_only for t in _alive) and time.monotonic() < deadline:
        QCoreApplication.processEvents()
        time.sleep(0.02)
    return all(t.read_only for t in _alive)
