"""Screenshots of every screen, in Japanese and in English, for docs/screenshots/.

    make screenshots          # = .venv/bin/python scripts/screenshots.py

Runs the real app widgets under a virtual X server (``Xvfb``, started here when
there is no ``DISPLAY``; needs the Debian packages ``xvfb`` and ``fonts-noto-cjk``)
against an embedded drop server with the demo ministry: a sender and a recipient
enrolled, a few drops sent, saved, recalled, and one tampered with, so every
screen shows real state. Each screen is grabbed from the widget itself.

The directory signer runs as a thread only while the two people enrol, before any
widget exists; later rounds run in this thread (``run_once``) or, for the wizard
(which waits for IT first: its waiting state is a screenshot), as its own process.
A "compromised signer" adds a device to the recipient's entry for the own-device
banner and the confirm sheet's new-device line (revoked again afterwards).

    scripts/screenshots.py --scale 1.5 --out /tmp/shots   # check 150 % scaling
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from screenshots_approval import SCREENS as APPROVAL_SCREENS  # noqa: E402 - after the path
from screenshots_approval import approval_screens  # noqa: E402
from screenshots_clerk import SCREENS as CLERK_SCREENS  # noqa: E402 - after the path
from screenshots_clerk import clerk_screens, lookalike_person, started_window  # noqa: E402
from screenshots_mynumber import SCREENS as MYNUMBER_SCREENS  # noqa: E402 - after the path
from screenshots_mynumber import desk_member, mynumber_screens  # noqa: E402
from screenshots_requests import SCREENS as REQUEST_SCREENS  # noqa: E402 - after the path
from screenshots_requests import request_screens  # noqa: E402

# file numbers stay stable when screens are added: new ones go at the end
SCREENS = (
    "send",
    "confirm",
    "sending",
    "sent-result",
    "sent",
    "send-blocked",
    "inbox",
    "enrol-organisation",
    "enrol-account",
    "enrol-done",
    "settings",
    "error",
    "unknown-device",
    "confirm-new-device",
    "enrol-waiting",
    "settings-devices",
    *CLERK_SCREENS,
    *REQUEST_SCREENS,
    *MYNUMBER_SCREENS,
    *APPROVAL_SCREENS,
)


@contextlib.contextmanager
def virtual_display() -> Iterator[None]:
    """A private Xvfb unless a display is already there."""
    if os.environ.get("DISPLAY"):
        yield
        return
    display = ":77"
    size = os.environ.get("SCREENSHOT_SCREEN", "1400x1000")
    command = ["Xvfb", display, "-screen", "0", f"{size}x24", "-nolisten", "tcp"]
    xvfb = subprocess.Popen(command)  # noqa: S603 - the Debian xvfb package
    os.environ["DISPLAY"] = display
    time.sleep(1.0)
    try:
        yield
    finally:
        xvfb.terminate()
        xvfb.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=None, help="QT_SCALE_FACTOR")
    parser.add_argument("--out", type=Path, default=OUT, help="folder (default: docs)")
    parser.add_argument("--screen", default="1400x1000", help="the virtual screen, WxH")
    parser.add_argument("--only", default="", help="comma-separated screen names")
    parser.add_argument("--lang", default="ja,en", help="comma-separated languages")
    args = parser.parse_args()
    Shots.only = {n for n in args.only.split(",") if n}
    os.environ["SCREENSHOT_SCREEN"] = args.screen
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    os.environ.pop("QT_SCALE_FACTOR", None)
    if args.scale:
        os.environ["QT_SCALE_FACTOR"] = str(args.scale)
    languages = [lang for lang in args.lang.split(",") if lang]
    if len(languages) > 1:
        # one process per language: a single process that built and dropped every window
        # twice crashed in Qt's garbage collection during the second language
        for lang in languages:
            status = subprocess.call([sys.executable, __file__, *_forwarded(), "--lang", lang])  # noqa: S603
            if status:
                return status
        return 0
    with virtual_display():
        status = _run(args.out, languages[0])
    # as the app does (gui/app.py): leave without Qt's teardown, which can crash under
    # threads the embedded server and the models leave behind
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _forwarded() -> list[str]:
    """This run's arguments without ``--lang``."""
    out, skip = [], False
    for arg in sys.argv[1:]:
        if skip:
            skip = False
        elif arg == "--lang":
            skip = True
        elif not arg.startswith("--lang="):
            out.append(arg)
    return out


def _run(out: Path, lang: str) -> int:
    from PySide6.QtWidgets import QApplication

    from secure_send.admin.server_home import write_server_home
    from secure_send.client.enrolment import enrol
    from secure_send.client.keystore import FileKeyStore
    from secure_send.client.profile import OrgConfig, Profile
    from secure_send.client.session import Session
    from secure_send.demo import pick_people
    from secure_send.gui import language
    from secure_send.org import ops
    from secure_send.org.demo_org import demo_rows
    from secure_send.org.home import OrgHome
    from secure_send.org.signer import embedded_signer
    from secure_send.server.config import load_config
    from secure_send.server.embedded import embedded_server

    app = QApplication(["secure-send"])
    app.setApplicationName("Secure Send")
    language.compile_all()
    work = Path(tempfile.mkdtemp(prefix="screenshots-"))
    try:
        home = OrgHome(work / "org")
        ops.init(home, "デモ省", roots=3, threshold=2)
        ops.import_rows(home, demo_rows(), "demo-it")
        cast = pick_people(home)
        write_server_home(home, work / "server")
        with embedded_server(load_config(work / "server", port=0)) as server:
            org = OrgConfig.from_json(ops.client_config(home, server.url))
            sessions = {}
            # the signer thread runs only while people enrol, before any widget exists
            with embedded_signer(home, server.url):
                for user in (cast.sender, cast.recipient):
                    profile = Profile(work / "profiles" / user)
                    store = FileKeyStore(profile)
                    code = ops.issue_code(home, user)
                    name = "庁内PC-01" if user == cast.sender else "庁内PC-02"
                    enrol(profile, org, user, code, device_id="pc", device_name=name, store=store)
                    sessions[user] = Session.open(profile, store)
                # a colleague whose name has a look-alike, enrolled so the sender can choose
                lookalike = lookalike_person(sessions[cast.sender])
                profile = Profile(work / "profiles" / lookalike)
                code = ops.issue_code(home, lookalike)
                enrol(profile, org, lookalike, code, device_id="pc", device_name="庁内PC-03",
                      store=FileKeyStore(profile))  # fmt: skip
                # a member of 人事課 年末調整受付 (designated 個人番号取扱), so the
                # My Number sheet can address the desk (screenshots_mynumber.py)
                desk = desk_member(home)
                profile = Profile(work / "profiles" / desk)
                enrol(profile, org, desk, ops.issue_code(home, desk), device_id="pc",
                      device_name="人事課-PC-07", store=FileKeyStore(profile))  # fmt: skip
            sender, recipient = sessions[cast.sender], sessions[cast.recipient]
            samples, role_drop = _history(
                work, home, server.state.config.state_dir, cast, sender, recipient
            )
            language.install(app, lang)
            shots = Shots(out / lang, app)
            _screens(shots, work, home, org, cast, sender, recipient, samples)
            _security_screens(shots, home, server.url, cast, sender, recipient, samples)
            clerk_screens(shots, wait_until, sender, recipient, samples, lookalike, role_drop)
            lookalike_session = Session.open(
                Profile(work / "profiles" / lookalike),
                FileKeyStore(Profile(work / "profiles" / lookalike)),
            )
            request_screens(shots, wait_until, work, cast, recipient, sender, lookalike_session)
            lookalike_session.close()
            mynumber_screens(shots, wait_until, work, cast, sender)
            # last: these sends would be dangerous to a recipient without the policy
            approval_screens(
                shots, wait_until, _signer_round, work, home, server.url, cast, lookalike, samples
            )
            print(f"{lang}: {len(shots.saved)} screenshots in {shots.folder}")
            for session in sessions.values():
                session.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


class Shots:
    """Grabs widgets into numbered PNG files (only those named in ``only``, if any)."""

    only: ClassVar[set[str]] = set()

    def __init__(self, folder: Path, app: object) -> None:
        self.folder = folder
        self.app = app
        self.saved: list[Path] = []
        folder.mkdir(parents=True, exist_ok=True)

    def take(self, name: str, widget: object, settle: float = 0.4) -> None:
        from PySide6.QtCore import QCoreApplication
        from PySide6.QtWidgets import QWidget

        if not isinstance(widget, QWidget):
            raise TypeError(f"not a widget: {widget!r}")
        if self.only and name not in self.only:
            return
        if os.environ.get("SCREENSHOT_SCREEN", "1400x1000") != "1400x1000":
            from secure_send.gui.screen_fit import fit_to_screen

            fit_to_screen(widget)  # a small screen: as the app would size it
        widget.show()
        wait_until(lambda: False, settle)
        QCoreApplication.processEvents()
        path = self.folder / f"{SCREENS.index(name) + 1:02d}-{name}.png"
        widget.grab().save(str(path))
        self.saved.append(path)


def wait_until(done: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Run the event loop until ``done()`` or the time is up."""
    from PySide6.QtCore import QCoreApplication

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        QCoreApplication.processEvents()
        if done():
            return True
        time.sleep(0.02)
    return done()


def _history(work, home, state_dir, cast, sender, recipient):  # type: ignore[no-untyped-def]
    """Drops for the screens: one saved (receipt), one waiting, one recalled, one forged."""
    from secure_send.client import receive as receiving
    from secure_send.client import send as sending

    folder = work / "送信"
    folder.mkdir()
    table = folder / "年末調整_提出一覧.xlsx"
    table.write_bytes(os.urandom(180_000))
    memo = folder / "送付状.pdf"
    memo.write_bytes(os.urandom(42_000))

    def send(paths: list[Path], to: list[str], message: str = "") -> str:
        pending = sending.prepare(
            sender,
            sender.directory(),
            sending.collect(paths),
            to,
            expires=dt.timedelta(days=7),
            message=message,
        )
        return sending.finish(sender, pending)

    saved = send([table, memo], [cast.recipient], "年末調整の資料です。")
    receiving.receive(recipient, recipient.directory(), saved, work / "受信")
    send([memo], [cast.recipient], "議事録をお送りします。")
    role_drop = send([table], [cast.role], "年末調整の提出一覧です。担当の方はご確認ください。")
    recalled = send([memo], [cast.role])
    sender.api.recall(recalled)
    forged = send([memo], [cast.recipient])
    with sqlite3.connect(state_dir / "meta.sqlite") as db:
        (text,) = db.execute("SELECT manifest FROM drops WHERE id = ?", (forged,)).fetchone()
        signed = json.loads(text)
        signed["body"]["expires"] = signed["body"]["expires"].replace("Z", ".5Z")
        db.execute("UPDATE drops SET manifest = ? WHERE id = ?", (json.dumps(signed), forged))
    return [table, memo], role_drop


def _screens(shots, work, home, org, cast, sender, recipient, samples):  # type: ignore[no-untyped-def]
    from secure_send.client.directory_sync import DirectoryUnverified
    from secure_send.client.keystore import FileKeyStore
    from secure_send.client.profile import Profile
    from secure_send.core.error_codes import ErrorCode
    from secure_send.gui import settings as app_settings
    from secure_send.gui.dialogs.confirm_send import ConfirmSendDialog
    from secure_send.gui.dialogs.enrol_wizard import EnrolWizard
    from secure_send.gui.dialogs.error_dialog import build_error_box
    from secure_send.gui.dialogs.settings_dialog import SettingsDialog
    from secure_send.org import ops

    entries = home.entries()
    # ---- the sender's window
    window = started_window(sender, 1100, lambda m: m.state.usable and bool(m.sent), wait_until)
    model = window.model
    page = window.send_page
    page.add_paths(samples)
    page.picker.search.insert(entries[cast.recipient].name_kana.split()[0])
    page.picker.search_now()
    page.picker.add_entry(cast.recipient)
    page.picker.add_entry(cast.role)
    page.message.setPlainText("年末調整の資料です。ご確認ください。")
    shots.take("send", window)
    dialog = ConfirmSendDialog(model, page.request(), window)
    shots.take("confirm", dialog)
    dialog.close()
    page.make_bars(page.request())
    page.stack.setCurrentIndex(1)
    for i, bar in enumerate(page.bars.values()):
        bar.setValue(100 if i == 0 else 35)
    shots.take("sending", window)
    page.confirm = lambda _dialog: True  # type: ignore[method-assign]
    page.stack.setCurrentIndex(0)
    page._on_send_button_clicked()
    wait_until(lambda: page.stack.currentIndex() == 2, 30)
    shots.take("sent-result", window)
    page.reset()
    window.tabs.setCurrentWidget(window.sent_page)
    model.refresh_sent()
    wait_until(lambda: len(model.sent) >= 4, 10)
    window.sent_page.tree.expandAll() if hasattr(window.sent_page, "tree") else None
    shots.take("sent", window)
    model._on_directory_failed(DirectoryUnverified(ErrorCode.DIRECTORY_UNVERIFIED, "signature"))
    window.tabs.setCurrentWidget(window.send_page)
    shots.take("send-blocked", window)
    model.stop()
    window.hide()
    # ---- the recipient's window
    rwindow = started_window(recipient, 1100, lambda m: len(m.inbox) >= 3, wait_until)
    rmodel = rwindow.model
    rwindow.tabs.setCurrentWidget(rwindow.inbox_page)
    shots.take("inbox", rwindow)
    rmodel.stop()
    rwindow.hide()
    # ---- first run, settings, an error
    profile = Profile(work / f"new-{shots.folder.name}")
    wizard = EnrolWizard(profile, org, FileKeyStore(profile))
    wizard.resize(720, 520)
    shots.take("enrol-organisation", wizard)
    wizard.next()
    others = sorted(u for u in entries if u not in (cast.sender, cast.recipient))
    person = others[5 if shots.folder.name == "ja" else 6]  # one enrolment each
    page2 = wizard.account_page
    page2.user_id.setText(person)  # type: ignore[attr-defined]
    page2.code.setText(ops.issue_code(home, person))  # type: ignore[attr-defined]
    page2.device_name.setText("人事課-PC-12")  # type: ignore[attr-defined]
    shots.take("enrol-account", wizard)
    wizard.next()  # no signer runs: IT does not answer yet
    wait_until(page2.waiting.isVisible, 20)  # type: ignore[attr-defined]
    shots.take("enrol-waiting", wizard)
    with signer_process(home, org.server_url):
        wait_until(lambda: wizard.currentId() == wizard.done_id, 40)
    shots.take("enrol-done", wizard)
    wizard.hide()
    settings = SettingsDialog(app_settings.Settings(), None, model=rmodel)
    shots.take("settings", settings)
    settings.hide()
    from secure_send.client.errors import ConnectionLost

    box = build_error_box(None, ConnectionLost())
    shots.take("error", box)
    box.hide()


@contextlib.contextmanager
def signer_process(home, url: str) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """IT's directory signer as its own process (no thread beside the widgets)."""
    command = [sys.executable, "-m", "secure_send.admin.cli", "--home", str(home.path)]
    command += ["signer", "--server", url, "--poll", "0.5"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603 - our CLI
    try:
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _signer_round(home, url: str) -> None:  # type: ignore[no-untyped-def]
    """One round of the directory signer, in this thread."""
    from secure_send.org.signer import DirectorySigner

    signer = DirectorySigner(home, url, batch_window=0)
    try:
        signer.run_once()
    finally:
        signer.close()


def _compromised_signer_adds(home, url: str, user: str, device: str) -> None:  # type: ignore[no-untyped-def]
    """What a thief of the signing key can do: enrol a device of their own in
    someone's entry, sign and push (as tests/client/test_self_monitoring.py does)."""
    from secure_send.core.directory.enrol import DeviceKeys, make_request
    from secure_send.core.directory.log import Action
    from secure_send.core.encoding import format_time, utc_now

    time_ = format_time(utc_now())
    request = make_request(DeviceKeys.generate(), user, device, "DESKTOP-7QK2M", None, utc_now())
    home.append(
        "mallory", Action.ENROL, {"user": user, "device": request.device(time_).to_json()}, time_
    )
    home.publish()
    _signer_round(home, url)


def _security_screens(shots, home, url, cast, sender, recipient, samples):  # type: ignore[no-untyped-def]
    """The own-device banner and device list (recipient), the new-device line (sender)."""
    from secure_send.client import send as sending
    from secure_send.core.directory.log import Action
    from secure_send.core.envelope.manifest import Classification
    from secure_send.gui import settings as app_settings
    from secure_send.gui.dialogs.confirm_send import ConfirmSendDialog
    from secure_send.gui.dialogs.settings_dialog import SettingsDialog
    from secure_send.gui.model import AppModel, SendRequest
    from secure_send.org import ops

    device = f"desktop-7qk2m-{shots.folder.name}"
    _compromised_signer_adds(home, url, cast.recipient, device)
    rwindow = started_window(
        recipient, 1100, lambda m: bool(m.unknown_devices) and len(m.inbox) >= 3, wait_until
    )
    rmodel = rwindow.model
    rwindow.tabs.setCurrentWidget(rwindow.inbox_page)
    shots.take("unknown-device", rwindow)
    settings = SettingsDialog(app_settings.Settings(), rwindow, model=rmodel)
    settings.show_devices()
    settings.resize(820, 420)
    shots.take("settings-devices", settings)
    settings.hide()
    rmodel.stop()
    rwindow.hide()
    model = AppModel(sender)
    model.refresh_directory()
    wait_until(lambda: model.state.usable)
    request = SendRequest(
        tuple(sending.collect(samples)),
        (cast.recipient, cast.role),
        dt.timedelta(days=7),
        "",
        Classification.C2,
    )
    dialog = ConfirmSendDialog(model, request)
    shots.take("confirm-new-device", dialog)
    dialog.hide()
    # IT security revokes the device: the next language starts from a clean entry
    revoke = {"user": cast.recipient, "device": device}
    ops.change(home, "demo-it", Action.REVOKE_DEVICE, revoke)
    _signer_round(home, url)


if __name__ == "__main__":
    sys.exit(main())
