"""The app as a whole: start-up with an enrolled profile, single-instance forwarding
from a real second launch, and the Japanese catalogue (ours and Qt's)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from secure_send.client import leftovers
from secure_send.client.keystore import FileKeyStore, KeyringStore, uses_test_keystore
from secure_send.client.profile import Profile
from secure_send.core.atomic import AtomicOutput
from secure_send.gui import single_instance
from secure_send.gui.app import App
from secure_send.gui.main_window import MainWindow
from tests.client.conftest import Enrol
from tests.directory_kit import HANAKO
from tests.gui.conftest import SessionOf

REPO = Path(__file__).resolve().parents[2]


def test_japanese_catalogue_translates_ours_and_qts(japanese: None) -> None:
    assert QCoreApplication.translate("MainWindow", "&Send") != "&Send"
    assert "送信" in QCoreApplication.translate("MainWindow", "&Send")
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "キャンセル"
    sentence = QCoreApplication.translate(
        "errors",
        "This drop was not encrypted for this PC.",
    )
    assert sentence != "This drop was not encrypted for this PC."


def test_the_window_speaks_japanese(
    japanese: None, qtbot: QtBot, enrol: Enrol, session_of: SessionOf
) -> None:
    from tests.gui.conftest import loaded_model

    model = loaded_model(qtbot, session_of(enrol(HANAKO, "laptop")))
    window = MainWindow(model)
    qtbot.addWidget(window)
    tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert any("送信" in t for t in tabs)
    assert any("受信" in t for t in tabs)


def test_start_up_shows_the_window_and_loads(
    qapp: QApplication, qtbot: QtBot, enrol: Enrol, session_of: SessionOf, tmp_path: Path
) -> None:
    person = enrol(HANAKO, "laptop")
    profile = Profile(person.home)
    app = App(qapp, profile, FileKeyStore(profile))
    data = tmp_path / "a.txt"
    data.write_text("x")
    window = app.show(session_of(person), [data])
    qtbot.addWidget(window)
    assert window.isVisible()
    qtbot.waitUntil(lambda: app.model is not None and app.model.state.usable, timeout=10_000)
    assert window.tabs.currentWidget() is window.send_page
    app.model.stop()  # type: ignore[union-attr]
    for translator in app.translators:
        qapp.removeTranslator(translator)


def test_a_second_launch_hands_its_paths_to_the_first(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf, tmp_path: Path
) -> None:
    """A real second process (``secure-send FILE…`` as a file manager runs it) finds the
    running app through QLocalServer, passes the paths and exits at once."""
    from tests.gui.conftest import loaded_model

    person = enrol(HANAKO, "laptop")
    model = loaded_model(qtbot, session_of(person))
    window = MainWindow(model)
    qtbot.addWidget(window)
    listener = single_instance.Listener(single_instance.server_name(person.home))
    listener.paths_received.connect(window.add_paths)
    files = [tmp_path / "報告書.pdf", tmp_path / "b.txt"]
    for f in files:
        f.write_bytes(b"data")
    env = {**os.environ, "SECURE_SEND_HOME": str(person.home), "SECURE_SEND_TEST_KEYSTORE": "1"}
    second = subprocess.Popen(
        [sys.executable, "-m", "secure_send.cli.main", *map(str, files)],
        env=env,
        cwd=REPO,
    )
    try:
        with qtbot.waitSignal(listener.paths_received, timeout=20_000) as got:
            pass
        assert second.wait(timeout=20) == 0
    finally:
        listener.close()
    assert [Path(p) for p in got.args[0]] == [f.resolve() for f in files]
    assert window.send_page.isVisible() or window.tabs.currentWidget() is window.send_page


def test_the_test_key_store_is_shown_as_a_warning(
    qapp: QApplication, qtbot: QtBot, enrol: Enrol, session_of: SessionOf
) -> None:
    # issue 14, item 6: keys in a plain file must be visible in the app, not only on stderr
    person = enrol(HANAKO, "laptop")
    profile = Profile(person.home)
    app = App(qapp, profile, FileKeyStore(profile))
    session = session_of(person)  # opened with the file store, as the switch does
    assert session.test_keystore is True
    window = app.show(session, [])
    qtbot.addWidget(window)
    banner = window.test_keystore_banner
    assert banner.isVisible()
    assert "SECURE_SEND_TEST_KEYSTORE=1" in banner.text.text()
    assert "plain file" in banner.text.text()
    app.model.stop()  # type: ignore[union-attr]
    for translator in app.translators:
        qapp.removeTranslator(translator)


def test_no_warning_with_the_os_key_store(
    qtbot: QtBot, enrol: Enrol, session_of: SessionOf
) -> None:
    from tests.gui.conftest import loaded_model

    session = session_of(enrol(HANAKO, "laptop"))
    session.test_keystore = False  # as Session.open sets it for the OS key store
    assert uses_test_keystore(KeyringStore(session.profile)) is False
    window = MainWindow(loaded_model(qtbot, session))
    qtbot.addWidget(window)
    window.show()
    assert window.isVisible()
    assert not window.test_keystore_banner.isVisible()
    window.model.stop()


def test_the_app_start_sweeps_what_a_killed_run_left(
    qapp: QApplication, enrol: Enrol, tmp_path: Path
) -> None:
    """Issue 15, item 2: the app opens its session the way the CLI does, so a plaintext
    partial a killed receive recorded and a killed prepare's outbox folder are deleted
    at its start too."""
    person = enrol(HANAKO, "laptop")
    profile = Profile(person.home)
    journal = leftovers.PartialJournal(profile)
    out = AtomicOutput(tmp_path / "給与明細.pdf", before_create=journal.record)
    out.file.write(b"plaintext")
    out.file.close()  # the receive is killed: its descriptors (and locks) go
    for _, fd in journal._held:
        os.close(fd)
    orphan = profile.outbox_dir / "a-killed-prepare"
    orphan.mkdir(parents=True)
    (orphan / leftovers.LOCK_NAME).touch()
    assert [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    app = App(qapp, profile, FileKeyStore(profile))
    try:
        session = app.open_session()
    finally:
        for translator in app.translators:
            qapp.removeTranslator(translator)
    assert session is not None
    session.close()
    assert [p for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []
    assert not orphan.exists()


def test_the_demo_places_its_apps_side_by_side(qtbot: QtBot) -> None:
    """``SECURE_SEND_WINDOW_SIDE``: halves for two apps, thirds for the demo's three."""
    from PySide6.QtWidgets import QWidget

    from secure_send.gui.app import _place

    window = QWidget()
    qtbot.addWidget(window)
    screen = window.screen()
    area = screen.availableGeometry()
    _place(window, "2/3")  # type: ignore[arg-type]  # any top-level widget is placed alike
    assert (window.x(), window.width()) == (area.x() + area.width() // 3, area.width() // 3)
    _place(window, "right")  # type: ignore[arg-type]
    assert (window.x(), window.width()) == (area.x() + area.width() // 2, area.width() // 2)
    _place(window, "elsewhere")  # type: ignore[arg-type]  # unknown: left where it was
    assert window.x() == area.x() + area.width() // 2
