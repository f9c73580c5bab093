"""The Send page's progress view: a bar per blob, and never a silent stall.

While the connection is lost the send goes on by itself (``client/retry.py``): each wait
arrives as a task note and is shown with a countdown, 「接続を再試行中…（2 回目、次は
8 秒後）」, the bars keeping what the server already holds. When the upload is running
but no byte has moved for :data:`STALL_SECONDS` (a dead network can hold a request until
its timeout), the view says so too.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QProgressBar, QPushButton, QVBoxLayout, QWidget

from secure_send.client.retry import Retrying
from secure_send.gui import threads
from secure_send.gui.widgets.buttons import plain_label

# seconds without a byte moving before the view says the connection is unstable; an
# upload reports every 4 MiB block, so only a link slower than ~270 KB/s sees it early
STALL_SECONDS = 15.0
TICK_MS = 1000


class SendProgress(QWidget):
    """Title, one bar per label, the connection's state, and Cancel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.task: threads.Task | None = None
        self.bars: dict[str, QProgressBar] = {}
        self.title = plain_label(self.tr("Sending…"), self)
        self.connection_label = plain_label(self)
        self.connection_label.setWordWrap(True)
        self.connection_label.setAccessibleName(self.tr("Connection"))
        self.connection_label.hide()
        self.bars_box = QVBoxLayout()
        self.cancel_button = QPushButton(self.tr("&Cancel"), self)
        self.cancel_button.setAccessibleName(self.tr("Cancel sending"))
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.connection_label)
        layout.addLayout(self.bars_box)
        layout.addStretch()
        layout.addWidget(self.cancel_button)
        self._retry: Retrying | None = None
        self._retry_at = 0.0  # monotonic time of the announced retry
        self._last_moved = 0.0  # monotonic time of the last progress or note
        self._uploading = False  # the stall watch runs only while bytes should move
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    # ---------------------------------------------------------------- public
    def make_bars(self, labels: list[tuple[str, str]]) -> None:
        """One bar per (progress label, text), at 0 %."""
        while self.bars_box.count():
            item = self.bars_box.takeAt(0)
            if item is not None and (widget := item.widget()) is not None:
                widget.deleteLater()
        self.bars = {}
        for label, text in labels:
            self.ensure_bar(label, text)

    def ensure_bar(self, label: str, text: str) -> QProgressBar:
        """The bar for ``label``, added at 0 % if there is none yet (a submission's files
        are known by blob id only once the model prepared them)."""
        bar = self.bars.get(label)
        if bar is None:
            bar = QProgressBar(self)
            bar.setRange(0, 100)
            bar.setValue(0)
            bar.setFormat(f"{text}  %p%")
            bar.setAccessibleName(text)
            self.bars_box.addWidget(bar)
            self.bars[label] = bar
        return bar

    def watch(self, task: threads.Task, *, uploading: bool) -> None:
        """Follow ``task`` (not yet started); ``uploading``: bytes should move from the
        start (a resumed send), else only after :meth:`uploading_started`."""
        self.task = task
        self.title.setText(self.tr("Sending…"))
        self.cancel_button.setEnabled(True)
        self._clear_connection()
        self._uploading = uploading
        self._last_moved = time.monotonic()
        task.progressed.connect(self._on_task_progressed)
        task.noted.connect(self._on_task_noted)
        task.ended.connect(self._on_task_ended)
        self._timer.start()

    def uploading_started(self) -> None:
        """The drop is prepared: from now on bytes should move (the stall watch runs)."""
        self._uploading = True
        self._last_moved = time.monotonic()

    @property
    def retrying(self) -> Retrying | None:
        """The retry being waited for (None while the connection works)."""
        return self._retry

    def complete(self) -> None:
        """Every bar full (the send succeeded)."""
        for bar in self.bars.values():
            bar.setValue(100)

    # ---------------------------------------------------------------- signals
    def _on_task_progressed(self, label: str, done: int, total: int) -> None:
        self._last_moved = time.monotonic()
        # after a retry note, progress comes only once the server answered again (the
        # upload's first step reports the offset it holds); otherwise bytes move
        self._clear_connection()
        bar = self.bars.get(label)
        if bar is not None:
            bar.setValue(100 if total <= 0 else min(100, done * 100 // total))

    def _on_task_noted(self, note: object) -> None:
        if isinstance(note, Retrying):
            self._retry = note
            self._retry_at = time.monotonic() + note.delay
            self._last_moved = time.monotonic()
            self._show_retry()

    def _on_task_ended(self) -> None:
        self._timer.stop()
        self.task = None
        self._uploading = False
        self._clear_connection()

    def _on_cancel_button_clicked(self) -> None:
        if self.task is not None:
            self.task.cancel.set()
            self.cancel_button.setEnabled(False)
            self.title.setText(self.tr("Cancelling…"))

    # ---------------------------------------------------------------- state
    def _tick(self) -> None:
        if self._retry is not None:
            self._show_retry()
            return
        quiet = time.monotonic() - self._last_moved
        if self._uploading and quiet >= STALL_SECONDS:
            text = self.tr(
                "The connection seems unstable: nothing could be sent for %1 seconds. "
                "Sending goes on by itself."
            )
            self.connection_label.setText(text.replace("%1", str(int(quiet))))
            self.connection_label.show()

    def _show_retry(self) -> None:
        retry = self._retry
        if retry is None:
            return
        left = math.ceil(self._retry_at - time.monotonic())
        if left > 0:
            text = self.tr("Connection lost. Retrying… (attempt %1, next in %2 seconds)")
            text = text.replace("%2", str(left))
        else:
            text = self.tr("Connection lost. Retrying… (attempt %1)")
        self.connection_label.setText(text.replace("%1", str(retry.attempt)))
        self.connection_label.show()

    def _clear_connection(self) -> None:
        self._retry = None
        self.connection_label.clear()
        self.connection_label.hide()
