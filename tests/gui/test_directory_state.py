"""The directory's state in the window, against a real server that goes away and comes
back (same folder, same port): one reason in one place (the banner; the status bar only
says when the directory was last verified), retries with backoff and recovery without
pressing anything, search over the last verified copy while offline, a refresh in the menu."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from secure_send.core.error_codes import ErrorCode
from secure_send.gui.directory_state import Backoff
from secure_send.gui.main_window import MainWindow
from secure_send.gui.model import AppModel
from tests.client.conftest import Enrol, Person
from tests.directory_kit import HANAKO, TARO
from tests.gui.conftest import SessionOf
from tests.gui.restartable import RestartableServer, org_server, restartable  # noqa: F401

WAIT = 15_000
QUICK = (0.2, 0.8)  # the retry backoff, shortened (the app's is 5 s doubling to 5 min)


@pytest.fixture
def hanako(enrol: Enrol) -> Person:
    """Hanako's laptop, and Taro's desktop so there is someone to send to."""
    enrol(TARO, "desktop")
    return enrol(HANAKO, "laptop")


@pytest.fixture
def window(qtbot: QtBot, hanako: Person, session_of: SessionOf) -> Iterator[MainWindow]:
    """Hanako's window over a model that retries quickly, directory loaded."""
    model = AppModel(session_of(hanako), directory_retry=QUICK)
    window = MainWindow(model)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(model.directory_changed, timeout=WAIT):
        model.refresh_directory()
    assert model.state.usable
    yield window
    model.stop()


def _visible_texts(window: MainWindow) -> list[str]:
    return [
        label.text()
        for label in window.findChildren(QLabel)
        if label.isVisibleTo(window) and label.text()
    ]


def test_the_window_recovers_by_itself_when_the_server_is_back(
    qtbot: QtBot,
    window: MainWindow,
    restartable: RestartableServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    model, page = window.model, window.send_page
    (tmp_path / "a.txt").write_text("a", encoding="utf-8")
    page.add_paths([tmp_path / "a.txt"])
    assert page.picker.add_entry(TARO)
    assert page.send_button.isEnabled()
    assert window.directory_banner.isHidden()
    assert "✓" in window.directory_label.text()

    restartable.stop()
    with qtbot.waitSignal(model.directory_changed, timeout=WAIT):
        window.refresh_action.trigger()  # File → Refresh the directory now
    assert not model.state.usable
    assert model.state.offline
    assert not page.send_button.isEnabled()
    # the reason, once: in the banner, nowhere else (not the status bar, not the page)
    assert window.directory_banner.isVisibleTo(window)
    reason = window.directory_banner.text.text()
    assert "tries again by itself" in reason
    assert [t for t in _visible_texts(window) if reason in t] == [reason]
    assert window.directory_label.text().startswith("Directory checked: ")
    # while offline the last verified copy still answers a search
    page.picker.search.setText("鈴木")
    page.picker.search_now()
    assert len(page.picker.result_ids()) >= 1

    # nobody presses anything: the retries find the server once it is back
    restartable.start()
    qtbot.waitUntil(lambda: model.state.usable, timeout=WAIT)
    assert window.directory_banner.isHidden()
    assert page.send_button.isEnabled()
    assert "✓" in window.directory_label.text()


def test_a_stale_directory_at_start_is_searchable_and_blocks_sending(
    qtbot: QtBot,
    hanako: Person,
    session_of: SessionOf,
    restartable: RestartableServer,  # noqa: F811
) -> None:
    """Start-up with the server away: the stored verified copy is used for search, the
    reason says sending waits, and the time of its last verification is shown."""
    first = AppModel(session_of(hanako))
    with qtbot.waitSignal(first.directory_changed, timeout=WAIT):
        first.refresh_directory()  # verified once, stored in the profile
    first.stop()
    restartable.stop()
    model = AppModel(session_of(hanako), directory_retry=QUICK)
    window = MainWindow(model)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(model.directory_changed, timeout=WAIT):
        model.refresh_directory()
    assert model.state.problem_code is ErrorCode.DIRECTORY_STALE
    assert model.state.verified_at is not None
    picker = window.send_page.picker
    picker.search.setText("suzuki")
    picker.search_now()
    assert len(picker.result_ids()) >= 1
    assert picker.add_entry(TARO)
    assert not window.send_page.send_button.isEnabled()
    assert "search uses the last verified copy" in window.directory_banner.text.text()
    assert window.directory_label.text().startswith("Directory checked: ")
    model.stop()


def test_the_backoff_doubles_up_to_its_longest(qtbot: QtBot) -> None:
    calls: list[int] = []
    parent = QWidget()
    qtbot.addWidget(parent)
    backoff = Backoff(lambda: calls.append(1), 0.05, 0.15, parent)
    delays = []
    for _ in range(4):
        delays.append(backoff.delay)
        backoff.schedule()
    assert delays == [0.05, 0.1, 0.15, 0.15]
    qtbot.waitUntil(lambda: calls == [1], timeout=2_000)  # rescheduling replaced the timer
    backoff.reset()
    assert backoff.delay == 0.05
    backoff.stop()
    backoff.schedule()
    assert not backoff.pending()


def test_the_app_retries_every_five_seconds_doubling_to_five_minutes(
    model: AppModel,
) -> None:
    assert model._retry.delay == 5.0
    for _ in range(10):
        model._retry.schedule()
    assert model._retry.delay == 300.0
    model._retry.stop()
