"""Quitting cancels running tasks and waits for those that write, not for long-polls."""

from __future__ import annotations

import threading
import time

from pytestqt.qtbot import QtBot

from secure_send.gui import threads


def test_finish_all_waits_for_writers_not_for_readers(qtbot: QtBot) -> None:
    released = threading.Event()
    ended: list[str] = []

    def writer(task: threads.Task) -> None:
        task.cancel.wait(10)  # a send notices cancel at its next block
        ended.append("writer")

    def reader(task: threads.Task) -> None:
        released.wait(10)  # a long-poll: blocked in the network, ignores cancel

    write_task = threads.start(threads.Task(writer))
    read_task = threads.Task(reader)
    read_task.read_only = True
    threads.start(read_task)
    started = time.monotonic()
    assert threads.finish_all(timeout=5) is True
    assert time.monotonic() - started < 3
    assert ended == ["writer"]
    assert write_task.cancel.is_set()
    assert read_task.cancel.is_set()
    released.set()
    qtbot.waitUntil(lambda: not read_task.running, timeout=5000)
