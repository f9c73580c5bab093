"""Run in a subprocess by ``test_tray.py`` on an X display with a system-tray host: the
app's real tray (``gui/tray.py``) for Taro (new drops; a failure) and Hanako (receipts),
in Japanese, printing JSON lines:

    {"available": bool, "messages": bool}     at once
    {"ready": true}                           once both have loaded (the test then sends
                                              a drop to Taro and has Taro save an
                                              earlier one of Hanako's)
    {"shown": [[title, message, icon], ...], "failure_sentence": str}

Each shown notification is what ``Tray`` handed to ``QSystemTrayIcon.showMessage`` (a
recorder wraps that Qt method and calls it, so the message still goes to the tray).

    python -m tests.gui.tray_probe TARO_HOME HANAKO_HOME
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

WAIT_MS = 30_000


def say(line: dict[str, Any]) -> None:
    print(json.dumps(line, ensure_ascii=False), flush=True)


def wait_until(done: Any, timeout_ms: int = WAIT_MS) -> bool:
    """Run the event loop until ``done()`` or the timeout."""
    loop = QEventLoop()
    poll = QTimer()
    poll.timeout.connect(lambda: loop.quit() if done() else None)
    poll.start(50)
    QTimer.singleShot(timeout_ms, loop.quit)
    if not done():
        loop.exec()
    poll.stop()
    return bool(done())


def main(argv: list[str]) -> int:
    app = QApplication(argv[:1])
    wait_until(QSystemTrayIcon.isSystemTrayAvailable, 10_000)  # the host may still be starting
    say(
        {
            "available": QSystemTrayIcon.isSystemTrayAvailable(),
            "messages": QSystemTrayIcon.supportsMessages(),
        }
    )
    from secure_send.client.errors import ClientError
    from secure_send.client.keystore import FileKeyStore
    from secure_send.client.profile import Profile
    from secure_send.client.session import Session
    from secure_send.core.error_codes import ErrorCode
    from secure_send.gui import errors, language
    from secure_send.gui.model import AppModel
    from secure_send.gui.settings import Settings
    from secure_send.gui.tray import Tray

    language.compile_all()
    keep = language.install(app, "ja")  # noqa: F841 - the translators live with the app
    shown: list[list[str]] = []
    models, trays = [], []
    for home in argv[1:3]:
        profile = Profile(Path(home))
        model = AppModel(Session.open(profile, FileKeyStore(profile)))
        window = QWidget()
        tray = Tray(model, window, Settings(notify=True))
        real = tray.icon.showMessage

        def record(title: str, message: str, icon: object, *rest: Any, real: Any = real) -> None:
            shown.append([title, message, getattr(icon, "name", str(icon))])
            real(title, message, icon, *rest)

        tray.icon.showMessage = record  # type: ignore[method-assign,assignment]  # Qt wrapped
        models.append(model)
        trays.append((tray, window))
    taro, hanako = models
    loaded = {"inbox": False, "sent": False}
    for model in models:
        model.refresh_directory()
    assert wait_until(lambda: all(m.index is not None for m in models)), "no directory"
    taro.inbox_changed.connect(lambda _i: loaded.__setitem__("inbox", True))
    hanako.sent_changed.connect(lambda _i: loaded.__setitem__("sent", True))
    taro.start()  # the inbox long-poll: what is there now is not news
    hanako.refresh_sent()  # what was downloaded before is not news
    assert wait_until(lambda: loaded["inbox"] and loaded["sent"]), "inbox/sent not loaded"
    say({"ready": True})
    poll = QTimer()
    poll.timeout.connect(hanako.refresh_sent)  # receipts (the app asks every 15 s)
    poll.start(500)
    wait_until(lambda: len(shown) >= 2)
    poll.stop()
    failure = ClientError(ErrorCode.CONNECTION_LOST, "connection refused")
    taro.failed.emit(failure)
    sentence, _details = errors.describe(failure)
    say({"shown": shown, "failure_sentence": sentence})
    for model in models:
        model.stop()
    for tray, _window in trays:
        tray.hide()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
