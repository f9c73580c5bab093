"""``secure-send`` with no command (or with file paths): the desktop app.

Start-up: one instance per profile (a second launch forwards its paths and exits),
the IT policy (a broken one stops the app: fail closed), settings and
translations, the enrolment wizard on first run (or, while IT has not yet
processed this PC's enrolment, a dialog that waits for it), then the main window
and the tray. Everything slow happens on worker threads after the window is shown.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog

from secure_send.client.enrolment import EnrolmentWaiting, open_ticket
from secure_send.client.keystore import KeyStore, open_keystore
from secure_send.client.policy import (
    ItPolicy,
    effective_org,
    effective_settings,
    load_policy,
    user_part,
)
from secure_send.client.profile import OrgConfig, Profile, ProfileError
from secure_send.client.session import Session
from secure_send.client.unfinished import UnfinishedSend
from secure_send.core.error_actions import Action
from secure_send.core.errors import SecureSendError
from secure_send.gui import language, single_instance, threads
from secure_send.gui import settings as app_settings
from secure_send.gui.dialogs.enrol_waiting import EnrolWaitingDialog
from secure_send.gui.dialogs.enrol_wizard import EnrolWizard
from secure_send.gui.dialogs.error_dialog import show_error
from secure_send.gui.dialogs.settings_dialog import SettingsDialog
from secure_send.gui.dialogs.unfinished_sends import UnfinishedSendsDialog
from secure_send.gui.errors import Context
from secure_send.gui.instance_socket import UnsafeSocketFolder
from secure_send.gui.main_window import MainWindow
from secure_send.gui.model import AppModel
from secure_send.gui.screen_fit import ScreenFit
from secure_send.gui.tray import Tray

log = logging.getLogger(__name__)
IT_CONFIG_ENV = "SECURE_SEND_ORG_CONFIG"
IT_CONFIG_FILES = (Path("/etc/secure-send/client-config.json"),)
PROBE_ENV = "SECURE_SEND_STARTUP_PROBE"
# the demo shows its people's apps side by side: "left"/"right" (halves of the screen) or
# "1/3", "2/3", "3/3" (thirds)
SIDE_ENV = "SECURE_SEND_WINDOW_SIDE"
_SIDES = {"left": (0, 2), "right": (1, 2), "1/3": (0, 3), "2/3": (1, 3), "3/3": (2, 3)}


def _place(window: MainWindow, side: str) -> None:
    screen = window.screen()
    if side not in _SIDES or screen is None:
        return
    index, parts = _SIDES[side]
    area = screen.availableGeometry()
    width = area.width() // parts
    window.setGeometry(area.x() + index * width, area.y(), width, area.height())


def it_config() -> OrgConfig | None:
    """The organisation config IT installed (server URL and root keys), if any."""
    candidates = [Path(os.environ[IT_CONFIG_ENV])] if os.environ.get(IT_CONFIG_ENV) else []
    for path in [*candidates, *IT_CONFIG_FILES]:
        try:
            return OrgConfig.from_json(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            continue
        except (OSError, ValueError, ProfileError):
            log.warning("ignored an unreadable organisation config: %s", path)
    return None


class App:
    """Owns the long-lived objects of one running app."""

    def __init__(
        self,
        qapp: QApplication,
        profile: Profile,
        store: KeyStore,
        policy: ItPolicy | None = None,  # None: no IT policy
    ) -> None:
        self.qapp = qapp
        self.profile = profile
        self.store = store
        self.policy = policy or ItPolicy()
        self.user_settings = app_settings.load(profile)  # what the user chose, saved as is
        # what the app uses: defaults < user < IT policy
        self.settings = effective_settings(app_settings.Settings(), self.user_settings, self.policy)
        self.translators = language.install(qapp, language.resolve(self.settings.language))
        self.screen_fit = ScreenFit.install(qapp)  # every window and dialog fits its screen
        self.window: MainWindow | None = None
        self.model: AppModel | None = None
        self.tray: Tray | None = None
        self.unfinished_dialog: UnfinishedSendsDialog | None = None

    def open_session(self) -> Session | None:
        """The enrolled session, running the first-run wizard or waiting for IT as
        needed; None if the person closed either (nothing is lost: come back later)."""
        while True:
            ticket = open_ticket(self.profile)
            if ticket is not None and not self.wait_for_it(ticket[1]):
                return None
            try:
                # the session enforces the policy's pins (server URL, root keys)
                session = Session.open(self.profile, self.store, self.policy)
            except EnrolmentWaiting:
                continue  # still waiting (a round ended just before IT answered)
            except SecureSendError as err:
                if getattr(err, "code", "") != "not_enrolled":
                    raise
                if not self.run_wizard():
                    return None
                continue
            return session

    def run_wizard(self) -> bool:
        """The first-run wizard; whether the person went through it."""
        # pinned by the policy, the wizard offers no "load another file"
        wizard = EnrolWizard(self.profile, effective_org(it_config(), self.policy), self.store)
        return wizard.exec() == QDialog.DialogCode.Accepted

    def wait_for_it(self, status: str) -> bool:
        """Wait for IT to process this PC's enrolment; False if the person closed the
        dialog. A refusal is explained, and True makes the caller run the wizard again."""
        dialog = EnrolWaitingDialog(self.profile, self.store, status)
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        if dialog.refusal is not None:
            show_error(None, dialog.refusal, Context(Action.ENROL))
            return True
        return accepted

    def show(self, session: Session, paths: Sequence[Path]) -> MainWindow:
        """Build and show the main window and the tray; start loading."""
        self.model = AppModel(session, max_expiry_days=self.policy.max_expiry_days)
        # connected before the window exists, so the Send page (whose slot runs later,
        # in connection order) already sees the tightened maximum
        self.window = MainWindow(self.model)
        self.tray = Tray(self.model, self.window, self.settings)
        self.window.keep_in_tray = self.settings.close_to_tray and self.tray.available
        self.window.settings_requested.connect(self.edit_settings)
        self.window.devices_requested.connect(self._on_window_devices_requested)
        self.window.quit_requested.connect(self.quit)
        self.model.failed.connect(lambda err: show_error(self.window, err))
        if paths:
            self.window.add_paths(list(paths))
        self.window.show()
        _place(self.window, os.environ.get(SIDE_ENV, ""))
        self.model.start()
        # sends an earlier run (the app's or the CLI's) left unfinished: offered once
        self.model.sends.unfinished_found.connect(self._on_unfinished_found)
        self.model.sends.check_unfinished()
        self.window.unfinished_requested.connect(self._on_window_unfinished_requested)
        return self.window

    def _on_window_unfinished_requested(self) -> None:
        if self.model is not None:
            self.model.sends.check_unfinished(asked=True)

    def _on_unfinished_found(self, found: list[UnfinishedSend], broken: list[str]) -> None:
        if self.model is None:
            return
        if self.unfinished_dialog is not None:  # asked again: one dialog, the newest list
            self.unfinished_dialog.close()
        dialog = UnfinishedSendsDialog(self.model, found, broken, self.window)
        self.unfinished_dialog = dialog
        dialog.show()  # not modal: the window stays usable while a row finishes

    def _on_window_devices_requested(self) -> None:
        self.edit_settings(devices=True)

    def edit_settings(self, devices: bool = False) -> None:
        """The settings dialog (``devices``: on the account's device list); a language
        change applies at the next start."""
        dialog = SettingsDialog(
            self.settings, self.window, locked=self.policy.locked, model=self.model
        )
        if devices:
            dialog.show_devices()
        if dialog.exec() == QDialog.DialogCode.Accepted:
            # save only the user's own choices: locked items keep the stored value
            self.user_settings = user_part(dialog.settings(), self.user_settings, self.policy)
            app_settings.save(self.profile, self.user_settings)
            self.settings = effective_settings(
                app_settings.Settings(), self.user_settings, self.policy
            )
            if self.window is not None and self.tray is not None:
                self.window.keep_in_tray = self.settings.close_to_tray and self.tray.available
                self.tray.settings = self.settings

    def quit(self) -> None:
        """Stop polling, let running sends and saves stop cleanly, leave the event loop."""
        if self.model is not None:
            self.model.stop()
        threads.finish_all()
        if self.tray is not None:
            self.tray.hide()
        self.qapp.quit()


def main(argv: Sequence[str]) -> int:
    """Run the app with ``argv`` as file paths to send; returns the exit status."""
    paths = [Path(a) for a in argv]
    existing = QApplication.instance()
    qapp = existing if isinstance(existing, QApplication) else QApplication(["secure-send"])
    qapp.setApplicationName("Secure Send")
    qapp.setOrganizationName("SecureSend")
    qapp.setQuitOnLastWindowClosed(False)
    profile = Profile.locate().ensure()
    try:
        name: str | None = single_instance.server_name(profile.path)
    except UnsafeSocketFolder as err:  # tampered with: run alone, hand paths to no one
        log.warning("single instance off: %s", err)
        name = None
    if name is not None and single_instance.forward(name, paths):
        return 0  # the running app has them now
    opened = single_instance.FileOpenEvents(qapp)  # macOS sends files as events
    try:
        policy = load_policy()  # PolicyError: refuse to start (docs/deployment.md)
        store = open_keystore(profile)
        app = App(qapp, profile, store, policy)
        listener = single_instance.Listener(name, qapp) if name is not None else None
        session = app.open_session()
    except SecureSendError as err:
        show_error(None, err)
        return 1
    if session is None:
        threads.finish_all()  # a waiting round cancelled by Close ends first
        return 1
    window = app.show(session, paths)
    if listener is not None:
        listener.paths_received.connect(window.add_paths)
    opened.deliver_to(window.add_paths)
    if os.environ.get(PROBE_ENV):  # benchmarks/bench_gui.py: report once interactive, quit
        QTimer.singleShot(0, lambda: _probe_ready(app))
    status = qapp.exec()
    # An inbox long-poll may still be waiting in a pool thread (it only reads; writing
    # tasks were finished by App.quit). Tearing Qt down under it crashed the process at
    # exit (SIGSEGV, seen in the frozen app's smoke test): leave without the teardown.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _probe_ready(app: App) -> None:
    print("secure-send: interactive", flush=True)
    app.quit()
