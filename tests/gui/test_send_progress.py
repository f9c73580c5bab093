"""The Send page's progress view never stalls silently (issue 16, item 2): each retry
the send waits for is shown with its count and countdown, in Japanese too, and an upload
that moves no byte for a while says the connection is unstable. Driven by real tasks on
the app's thread pool (the notes a send makes: ``client/retry.py``'s ``Retrying``)."""

from __future__ import annotations

import threading

import pytest
from pytestqt.qtbot import QtBot

from secure_send.client.retry import Retrying
from secure_send.core.error_codes import ErrorCode
from secure_send.gui import threads
from secure_send.gui.views import send_progress
from secure_send.gui.views.send_progress import SendProgress


def _view(qtbot: QtBot) -> SendProgress:
    view = SendProgress()
    qtbot.addWidget(view)
    view.show()
    view.make_bars([("f1", "名簿.xlsx")])
    return view


def test_a_retry_is_shown_with_its_count_and_countdown_in_japanese(
    japanese: None, qtbot: QtBot
) -> None:
    view = _view(qtbot)
    server_back, done = threading.Event(), threading.Event()

    def work(task: threads.Task) -> None:
        task.progress("f1", 40, 100)
        task.noted.emit(Retrying(2, 8.0, ErrorCode.CONNECTION_LOST))
        server_back.wait(10)
        task.progress("f1", 40, 100)  # the server answered: it holds 40 %
        done.wait(10)

    task = threads.Task(work)
    view.watch(task, uploading=True)
    threads.start(task)
    label = view.connection_label
    qtbot.waitUntil(label.isVisible, timeout=3_000)
    assert label.text() == "接続を再試行中…（2 回目、次は 8 秒後）"
    assert view.bars["f1"].value() == 40  # the progress is kept
    assert view.retrying is not None
    assert view.retrying.attempt == 2
    qtbot.wait(200)  # as a real wait does: past the progress throttle (0.1 s per label)
    server_back.set()
    qtbot.waitUntil(lambda: not label.isVisible(), timeout=3_000)
    assert view.retrying is None
    with qtbot.waitSignal(task.ended, timeout=5_000):
        done.set()


def test_an_upload_that_moves_nothing_says_the_connection_is_unstable(
    japanese: None, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(send_progress, "STALL_SECONDS", 0.5)
    view = _view(qtbot)
    moving, done = threading.Event(), threading.Event()

    def work(task: threads.Task) -> None:
        task.progress("f1", 10, 100)
        moving.wait(10)  # a dead network holds the request: no byte moves
        task.progress("f1", 60, 100)
        done.wait(10)

    task = threads.Task(work)
    view.watch(task, uploading=True)
    threads.start(task)
    label = view.connection_label
    qtbot.waitUntil(label.isVisible, timeout=4_000)
    assert label.text().startswith("接続が不安定です。")
    assert "送信は自動で続きます。" in label.text()
    moving.set()
    qtbot.waitUntil(lambda: not label.isVisible(), timeout=3_000)
    assert view.bars["f1"].value() == 60
    with qtbot.waitSignal(task.ended, timeout=5_000):
        done.set()


def test_no_stall_is_reported_while_the_files_are_still_being_encrypted(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(send_progress, "STALL_SECONDS", 0.2)
    view = _view(qtbot)
    done = threading.Event()
    task = threads.Task(lambda task: done.wait(10))
    view.watch(task, uploading=False)  # a new send: measuring first, no bytes move
    threads.start(task)
    qtbot.wait(1_500)
    assert not view.connection_label.isVisible()
    view.uploading_started()
    qtbot.waitUntil(view.connection_label.isVisible, timeout=3_000)
    with qtbot.waitSignal(task.ended, timeout=5_000):
        done.set()
