"""The app's model against the real server: how its inbox long-poll behaves when the
server sheds long-polls (its cap on waiting connections reached)."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from secure_send.gui.model import AppModel
from tests.server.conftest import Server


def test_a_long_poll_answered_at_once_is_not_asked_again_at_once(
    qtbot: QtBot, model: AppModel, org_server: Server
) -> None:
    """With the server answering every long-poll at once (no room to wait), the app
    pauses before asking again instead of turning into a busy loop against it."""
    assert org_server.app_state is not None
    org_server.app_state.notifier.limit = 0  # every long-poll is answered at once
    polls: list[float] = []
    ask = model._inbox_task

    def counted(wait: float, after: int):  # type: ignore[no-untyped-def]
        polls.append(wait)
        return ask(wait, after)

    model._inbox_task = counted  # type: ignore[method-assign]
    model.start()
    qtbot.waitUntil(lambda: len(polls) >= 2, timeout=10_000)  # the first, then a long-poll
    qtbot.wait(1_500)  # shorter than the pause
    long_polls = [w for w in polls if w > 0]
    assert long_polls  # the loop did reach its long-polls
    assert len(long_polls) <= 2  # not hundreds (379 in 1.5 s without the pause)
