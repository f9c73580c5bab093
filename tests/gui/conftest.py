"""GUI test kit: real widgets on the offscreen platform, driving a real drop server.

``org_server`` and ``enrol`` come from the client kit (a real server on 127.0.0.1,
people enrolled through the CLI with the test key store). ``session_of`` opens a
person's profile as the app would; ``model`` is Hanako's loaded ``AppModel``.
``quiet_server`` is the same organisation's server with no directory signer
running (enrolments wait; a test starts ``signer_process`` when IT should answer).
``japanese`` installs the Japanese catalogue for one test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from secure_send.client.session import Session
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.gui import language
from secure_send.gui.model import AppModel
from secure_send.org import ops
from secure_send.org.home import OrgHome
from tests.client.conftest import (  # noqa: F401 - fixtures
    Enrol,
    Person,
    enrol,
    open_session,
    org_server,
    rows,
)
from tests.directory_kit import HANAKO, OPERATOR
from tests.server.conftest import Server, running_server, server_config

SessionOf = Callable[[Person], Session]


@pytest.fixture
def session_of() -> Iterator[SessionOf]:
    """Open a person's profile as the app does (keys from the test key store)."""
    opened: list[Session] = []

    def open_(person: Person) -> Session:
        session = open_session(person)
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


@pytest.fixture
def quiet_server(tmp_path: Path) -> Iterator[Server]:
    """The organisation's real server with no directory signer: enrolments stay queued."""
    home = OrgHome(tmp_path / "org")
    ops.init(home, "テスト省", roots=3, threshold=2)
    ops.import_rows(home, rows(), OPERATOR)
    with running_server(home, DeviceKeys.generate(), server_config(home, port=0)) as server:
        yield server


@pytest.fixture
def japanese(qapp: QApplication) -> Iterator[None]:
    """Japanese installed for one test (compiled first), removed afterwards."""
    language.compile_all()
    translators = language.install(qapp, "ja")
    yield
    for translator in translators:
        qapp.removeTranslator(translator)
