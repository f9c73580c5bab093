"""GUI test kit: real widgets on the offscreen platform, driving a real drop server.

``org_server`` and ``enrol`` come from the client kit (a real server on 127.0.0.1,
people enrolled through the CLI with the test key store). ``session_of`` opens a
person's profile as the app would; ``model`` is Hanako's loaded ``AppModel``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from pytestqt.qtbot import QtBot

from secure_send.client.keystore import FileKeyStore
from secure_send.client.profile import Profile
from secure_send.client.session import Session
from secure_send.gui.model import AppModel
from tests.client.conftest import Enrol, Person, enrol, org_server  # noqa: F401 - fixtures
from tests.directory_kit import HANAKO

SessionOf = Callable[[Person], Session]


@pytest.fixture
def session_of() -> Iterator[SessionOf]:
    """Open a person's profile as the app does (keys from the test key store)."""
    opened: list[Session] = []

    def open_(person: Person) -> Session:
        profile = Profile(person.home)
        session = Session.open(profile, FileKeyStore(profile))
        opened.append(session)
        return session

    yield open_
    for session in opened:
        session.close()


def loaded_model(qtbot: QtBot, session: Session) -> AppModel:
    """An AppModel whose verified directory has loaded."""
    model = AppModel(session)
    with qtbot.waitSignal(model.directory_changed, timeout=10_000):
        model.refresh_directory()
    return model


@pytest.fixture
def model(qtbot: QtBot, enrol: Enrol, session_of: SessionOf) -> Iterator[AppModel]:  # noqa: F811
    """Hanako's (laptop) model with the directory loaded; nothing polling yet."""
    model = loaded_model(qtbot, session_of(enrol(HANAKO, "laptop")))
    yield model
    model.stop()
