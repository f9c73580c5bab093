"""One send, whatever happens (issue 16, item 2): the app against a real drop server.

- The server *process* is killed mid-upload: the Send page shows that it is retrying,
  keeps the progress, and once the server is back (same folder, same port) finishes the
  same drop — the recipient gets exactly one.
- A stopped send offers only 再開 and 破棄, never the form (a second drop); 再開 finishes
  the same drop, 破棄 deletes it on the server.
- Sends an earlier run left unfinished (prepared, then cut off) are listed at start-up
  with names from the directory and the files; 送信を完了 finishes one (exactly one drop),
  破棄 removes the other; a damaged resume file is reported, not crashed on.

What is real: the server (``python -m secure_send.server.cli`` as a child process, or the
test kit's), the directory signer, profiles enrolled through the CLI, Qt widgets
offscreen. A throttling TCP proxy sits in front of the server so that the kill lands
mid-upload (it forwards bytes; when the server is gone it can reach nothing).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox
from pytestqt.qtbot import QtBot

from secure_send.client import send as sending
from secure_send.client.errors import Cancelled
from secure_send.client.keystore import FileKeyStore
from secure_send.client.profile import Profile
from secure_send.client.retry import Backoff
from secure_send.core.drop_state import DropState
from secure_send.core.envelope.manifest import Classification
from secure_send.gui.app import App
from secure_send.gui.model import AppModel
from secure_send.gui.views.send_page import PROGRESS, RESULT, SendPage
from secure_send.org import ops
from secure_send.org.home import OrgHome
from tests.client.conftest import Enrol, Person, rows
from tests.client.test_interrupted import Proxy
from tests.directory_kit import HANAKO, OPERATOR, TARO
from tests.gui.conftest import SessionOf, loaded_model
from tests.gui.test_send_page import _choose, _send
from tests.server.conftest import server_folder, signer_process

MIB = 1024 * 1024
QUICK = Backoff(first=0.3, factor=2.0, cap=1.0, jitter=0.0)  # the app's schedule, shortened


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """``secure-send-server --home FOLDER --listen 127.0.0.1:PORT`` that the test can kill
    and start again over the same folder on the same port."""

    home: OrgHome
    folder: Path
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "secure_send.server.cli", "--home", str(self.folder)]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [*command, "--listen", f"127.0.0.1:{self.port}"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )
        deadline = time.monotonic() + 20
        while True:
            assert self.proc.poll() is None, self.log.read_text(errors="replace")[-2000:]
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/v1/health", timeout=1).status_code == 200:
                    return
            assert time.monotonic() < deadline, self.log.read_text(errors="replace")[-2000:]
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: the process dies mid-request, as on a crash or a power cut."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[ServerProcess]:
    """The test organisation's real server as a child process (killed at the end)."""
    home = OrgHome(tmp_path / "org")
    ops.init(home, "テスト省", roots=3, threshold=2)
    ops.import_rows(home, rows(), OPERATOR)
    server = ServerProcess(home, server_folder(home), _free_port(), tmp_path / "server.log")
    server.start()
    yield server
    server.kill()


def _enrol_at(
    server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user: str, device: str
) -> Person:
    """``secure-send enrol`` against the server process (with the signer running)."""
    config = tmp_path / "org-config.json"
    config.write_text(json.dumps(ops.client_config(server.home, server.url)))
    person = Person(tmp_path / "profiles" / f"{user}-{device}", user, device, monkeypatch)
    code = ops.issue_code(server.home, user)
    argv = ("enrol", "--org-config", str(config), "--user", user, "--device", device)
    assert person.ok(*argv, stdin=code + "\n")["status"] == "enrolled"
    return person


def _point_at(person: Person, url: str) -> None:
    config = person.home / "config.json"
    obj = json.loads(config.read_text())
    obj["server_url"] = url
    config.write_text(json.dumps(obj))


def _big(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))
    return path


def _inbox(person: Person) -> list[str]:
    return [d["drop_id"] for d in person.ok("inbox")["drops"]]


def _sent_states(model: AppModel) -> dict[str, str]:
    return {d["drop_id"]: d["state"] for d in model.session.api.sent()}


def _resume_files(person: Person) -> list[Path]:
    folder = person.home / "resume"
    return sorted(folder.glob("*.json")) if folder.exists() else []


def test_the_server_killed_mid_upload_the_page_retries_and_taro_gets_one_drop(
    qtbot: QtBot,
    server_process: ServerProcess,
    session_of: SessionOf,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with signer_process(server_process.home, server_process.url):
        hanako = _enrol_at(server_process, tmp_path, monkeypatch, HANAKO, "laptop")
        taro = _enrol_at(server_process, tmp_path, monkeypatch, TARO, "desktop")
    proxy = Proxy(server_process.url, rate=6 * MIB)  # slow enough to kill mid-upload
    try:
        _point_at(hanako, proxy.url)
        model = loaded_model(qtbot, session_of(hanako))
        model.sends.backoff = QUICK
        page = SendPage(model)
        qtbot.addWidget(page)
        page.show()
        page.add_paths([_big(tmp_path / "out" / "report.bin", 24 * MIB)])
        _choose(page, TARO)
        _send(qtbot, page)
        qtbot.waitUntil(lambda: page.bars["f1"].value() >= 20, timeout=60_000)
        server_process.kill()  # mid-upload
        held = page.unfinished
        assert held is not None
        # within a few seconds: the page says it is retrying, and keeps the progress
        connection = page.progress_view.connection_label
        qtbot.waitUntil(lambda: connection.isVisible(), timeout=5_000)
        assert "Retrying" in connection.text()
        assert page.stack.currentIndex() == PROGRESS
        kept = page.bars["f1"].value()
        assert kept >= 20
        # longer than one upload's own quick retries (0.5 + 1 + 2 + 4 s): the send itself
        # is tried again, and again, on the same drop
        view = page.progress_view
        qtbot.waitUntil(
            lambda: view.retrying is not None and view.retrying.attempt >= 6, timeout=40_000
        )
        assert "Retrying… (attempt" in connection.text()
        assert page.stack.currentIndex() == PROGRESS
        assert page.bars["f1"].value() >= kept
        with qtbot.waitSignal(page.sent, timeout=90_000) as sent:
            server_process.start()  # back: same folder, same port
        assert sent.args == [held.drop_id]  # the same drop, finished
        assert page.stack.currentIndex() == RESULT
        assert not connection.isVisible()
        assert page.unfinished is None
    finally:
        proxy.die()
    _point_at(hanako, server_process.url)
    assert _inbox(taro) == [held.drop_id]  # exactly one drop
    sent_drops = {d["drop_id"]: d["state"] for d in hanako.ok("sent")["drops"]}
    assert sent_drops == {held.drop_id: str(DropState.COMMITTED)}
    assert _resume_files(hanako) == []
    got = taro.ok("receive", held.drop_id, "-o", str(tmp_path / "in"))
    assert Path(got["files"][0]).read_bytes() == (tmp_path / "out" / "report.bin").read_bytes()
    model.stop()


# ------------------------------------------------------------ stopped: 再開 / 破棄


def _stopped_send(qtbot: QtBot, page: SendPage, path: Path) -> str:
    """Start sending ``path`` to Taro and press 中止 as soon as the drop is prepared (the
    upload then stops at its first block, deterministically); the drop id."""
    page.add_paths([path])
    _choose(page, TARO)
    _send(qtbot, page)
    assert page.task is not None

    def cancel_once_prepared(note: object) -> None:
        if page.unfinished is not None and page.cancel_button.isEnabled():
            QTest.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)

    page.task.noted.connect(cancel_once_prepared)
    with qtbot.waitSignal(page.task.ended, timeout=60_000):
        pass
    assert page.unfinished is not None
    return page.unfinished.drop_id


def _answer_discard_later(discard: bool) -> None:
    """Answer the 破棄 confirmation once it is shown modally."""

    def press() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        role = QMessageBox.ButtonRole.DestructiveRole if discard else None
        for button in box.buttons():
            if (box.buttonRole(button) == role) == discard:
                button.click()
                return

    QTimer.singleShot(0, press)


def _shown_page(qtbot: QtBot, model: AppModel) -> SendPage:
    """The Send page, shown, once the model holds a directory that knows Taro's device."""
    with qtbot.waitSignal(model.directory_changed, timeout=10_000):
        model.refresh_directory()
    page = SendPage(model)
    qtbot.addWidget(page)
    page.show()
    return page


def test_a_stopped_send_offers_only_resume_and_discard_and_resumes_the_same_drop(
    qtbot: QtBot, model: AppModel, enrol: Enrol, tmp_path: Path
) -> None:
    taro = enrol(TARO, "desktop")
    page = _shown_page(qtbot, model)
    data = _big(tmp_path / "out" / "budget.bin", 24 * MIB)
    drop_id = _stopped_send(qtbot, page, data)
    assert page.stack.currentIndex() == RESULT
    assert "stopped" in page.result_label.text()
    assert drop_id in page.detail_label.text()
    assert page.resume_button.isVisible()
    assert page.discard_button.isVisible()
    # no way back to the form: it would make a second drop of the same files
    assert not page.back_button.isVisible()
    assert not page.more_button.isVisible()
    assert not page.send_button.isEnabled()
    page.add_paths([tmp_path / "out"])  # files handed over (another launch) wait
    assert page.stack.currentIndex() == RESULT
    page._on_send_button_clicked()  # even if pressed somehow: nothing starts
    assert page.task is None
    assert _inbox(taro) == []
    with qtbot.waitSignal(page.sent, timeout=60_000) as sent:
        QTest.mouseClick(page.resume_button, Qt.MouseButton.LeftButton)
        assert page.stack.currentIndex() == PROGRESS
    assert sent.args == [drop_id]
    assert _inbox(taro) == [drop_id]  # exactly once
    assert _sent_states(model) == {drop_id: str(DropState.COMMITTED)}
    assert page.more_button.isVisible()
    assert not page.resume_button.isVisible()
    QTest.mouseClick(page.more_button, Qt.MouseButton.LeftButton)
    assert page.file_list.paths() == [(tmp_path / "out").resolve()]  # the waiting paths


def test_discard_deletes_the_unfinished_drop_and_only_then_gives_the_form_back(
    qtbot: QtBot, model: AppModel, enrol: Enrol, tmp_path: Path
) -> None:
    taro = enrol(TARO, "desktop")
    page = _shown_page(qtbot, model)
    drop_id = _stopped_send(qtbot, page, _big(tmp_path / "out" / "budget.bin", 24 * MIB))
    _answer_discard_later(False)  # 残す: nothing changes
    QTest.mouseClick(page.discard_button, Qt.MouseButton.LeftButton)
    assert page.unfinished is not None
    assert page.resume_button.isVisible()
    _answer_discard_later(True)
    QTest.mouseClick(page.discard_button, Qt.MouseButton.LeftButton)
    assert page.task is not None
    with qtbot.waitSignal(page.task.ended, timeout=30_000):
        pass
    assert page.unfinished is None
    assert "discarded" in page.result_label.text()
    assert page.back_button.isVisible()
    assert not page.resume_button.isVisible()
    assert _sent_states(model) == {drop_id: str(DropState.RECALLED)}
    assert model.sends.is_unfinished(drop_id) is False
    assert _inbox(taro) == []
    QTest.mouseClick(page.back_button, Qt.MouseButton.LeftButton)
    assert page.send_button.isEnabled()  # the same files may now be sent, as a new drop


# ------------------------------------------------------------ at start-up


def _cut_off_send(session: Any, data: Path, message: str) -> str:
    """What a killed ``secure-send send`` leaves: prepared, upload cut off midway."""
    directory = session.directory()
    files = sending.collect([data])
    pending = sending.prepare(
        session,
        directory,
        files,
        [TARO],
        expires=dt.timedelta(days=3),
        message=message,
        classification=Classification.C2,
    )
    stop = threading.Event()

    def progress(blob: str, done: int, total: int) -> None:
        if blob == "f1" and done > 0:
            stop.set()

    with pytest.raises(Cancelled):
        sending.finish(session, pending, progress, stop)
    return pending.drop_id


def test_start_up_lists_unfinished_sends_and_finishes_or_discards_each(
    qapp: QApplication,
    qtbot: QtBot,
    enrol: Enrol,
    session_of: SessionOf,
    tmp_path: Path,
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    earlier = session_of(hanako)  # an earlier run (the CLI's), cut off twice
    first = _cut_off_send(earlier, _big(tmp_path / "out" / "年末調整.bin", 12 * MIB), "a")
    second = _cut_off_send(earlier, _big(tmp_path / "out" / "名簿.bin", 12 * MIB), "b")
    (hanako.home / "resume" / "0123456789abcdef0123456789abcdef.json").write_text("{not json")
    assert len(_resume_files(hanako)) == 3
    profile = Profile(hanako.home)
    app = App(qapp, profile, FileKeyStore(profile))
    window = app.show(session_of(hanako), [])
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: app.unfinished_dialog is not None, timeout=20_000)
    dialog = app.unfinished_dialog
    assert dialog is not None
    qtbot.addWidget(dialog)
    assert dialog.isVisible()
    assert list(dialog.rows) == [first, second]  # oldest first
    qtbot.waitUntil(lambda: app.model is not None and app.model.state.usable, timeout=10_000)
    summary = dialog.rows[first].summary.text()
    assert "鈴木 太郎" in summary  # the name from the verified directory
    assert "年末調整.bin" in summary
    assert "(12.6 MB)" in summary
    assert "名簿.bin" in dialog.rows[second].summary.text()
    # the broken one was set aside and is reported
    assert dialog.broken_label.isVisible()
    assert "1 unfinished send could not be read" in dialog.broken_label.text()
    assert len(_resume_files(hanako)) == 2
    assert _inbox(taro) == []
    # closed without a choice: File → Unfinished sends brings the list back
    dialog.close()
    window.unfinished_action.trigger()
    qtbot.waitUntil(lambda: app.unfinished_dialog is not dialog, timeout=20_000)
    dialog = app.unfinished_dialog
    assert dialog is not None
    qtbot.addWidget(dialog)
    assert list(dialog.rows) == [first, second]

    row = dialog.rows[first]
    QTest.mouseClick(row.finish_button, Qt.MouseButton.LeftButton)
    assert row.task is not None
    with qtbot.waitSignal(row.task.succeeded, timeout=60_000):
        pass
    assert row.settled
    assert first in row.status.text()
    assert _inbox(taro) == [first]  # exactly one drop

    row = dialog.rows[second]
    _answer_discard_later(True)
    QTest.mouseClick(row.discard_button, Qt.MouseButton.LeftButton)
    assert row.task is not None
    with qtbot.waitSignal(row.task.succeeded, timeout=30_000):
        pass
    assert row.settled
    assert app.model is not None
    assert _sent_states(app.model) == {
        first: str(DropState.COMMITTED),
        second: str(DropState.RECALLED),
    }
    assert _resume_files(hanako) == []
    assert _inbox(taro) == [first]
    # asked again with nothing left: the dialog says so instead of staying away
    window.unfinished_action.trigger()
    qtbot.waitUntil(lambda: app.unfinished_dialog is not dialog, timeout=20_000)
    assert app.unfinished_dialog is not None
    qtbot.addWidget(app.unfinished_dialog)
    assert app.unfinished_dialog.rows == {}
    texts = [w.text() for w in app.unfinished_dialog.findChildren(QLabel)]
    assert "There are no unfinished sends." in texts
    app.model.stop()
    for translator in app.translators:
        qapp.removeTranslator(translator)


def test_nothing_unfinished_shows_no_dialog(
    qapp: QApplication, qtbot: QtBot, enrol: Enrol, session_of: SessionOf
) -> None:
    hanako = enrol(HANAKO, "laptop")
    profile = Profile(hanako.home)
    app = App(qapp, profile, FileKeyStore(profile))
    window = app.show(session_of(hanako), [])
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: app.model is not None and app.model.state.usable, timeout=10_000)
    qtbot.wait(300)
    assert app.unfinished_dialog is None
    assert app.model is not None
    app.model.stop()
    for translator in app.translators:
        qapp.removeTranslator(translator)
