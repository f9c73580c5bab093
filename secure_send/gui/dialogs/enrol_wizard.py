"""First-run enrolment: organisation, then who this is and IT's one-time code, then done.

The enrolment itself (key generation, the server request) runs on a worker thread
through :mod:`secure_send.gui.threads`; the UI only shows a busy indicator. The
server only queues the request; IT's directory signer decides. While it has not
answered (after ~3 s) the page says so; after :data:`ENROL_WAIT` seconds the
wizard ends anyway, saying the request has reached IT, and the app goes on
waiting (:mod:`secure_send.gui.dialogs.enrol_waiting`). The one-time code is
handed to the client library and never logged or kept.
"""

from __future__ import annotations

import json
import socket
import weakref
from pathlib import Path
from typing import cast

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from secure_send.client import enrolment
from secure_send.client.api import key_fingerprint
from secure_send.client.keystore import KeyStore
from secure_send.client.profile import DeviceIdentity, OrgConfig, Profile
from secure_send.core.directory.model import check_id
from secure_send.core.error_actions import Action
from secure_send.core.errors import SecureSendError
from secure_send.gui import threads
from secure_send.gui.errors import sentence_for
from secure_send.gui.widgets.buttons import plain_label

ENROL_WAIT = 30.0  # seconds the wizard waits for IT's answer before handing over


def _message(parent: QWidget) -> QLabel:
    """A word-wrapped label for errors or hints, read out by screen readers."""
    label = plain_label(parent)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class _Page(QWizardPage):
    """A page of the wizard, which reaches it through a weak reference: a strong one made
    a reference cycle (wizard → page → wizard), so a wizard the app had dropped was freed
    only by Python's cyclic garbage collector, on whichever thread it ran next; a worker
    thread deleting the widgets crashed the app (tests/gui/test_enrol_wizard.py)."""

    def __init__(self, wizard: EnrolWizard) -> None:
        super().__init__(wizard)
        self._wizard_ref = weakref.ref(wizard)

    @property
    def _wizard(self) -> EnrolWizard:
        wizard = self._wizard_ref()
        if wizard is None:  # a page is the wizard's child: deleted with it
            raise RuntimeError("the enrolment wizard is gone")
        return wizard


class OrganisationPage(_Page):
    """Welcome; the organisation and server IT configured (or a file IT gave)."""

    def __init__(self, wizard: EnrolWizard) -> None:
        super().__init__(wizard)
        self.setTitle(self.tr("Welcome to Secure Send"))
        intro = _message(self)
        intro.setText(
            self.tr(
                "This sets up this PC so you can send and receive files securely. "
                "You need the one-time code your IT department gave you."
            )
        )
        self.org_name = plain_label(self)
        self.org_name.setAccessibleName(self.tr("Organisation"))
        self.server_url = QLineEdit(self)
        self.server_url.setReadOnly(True)
        self.server_url.setAccessibleName(self.tr("Server address"))
        self.load_button = QPushButton(self.tr("&Load configuration file…"), self)
        self.load_button.setAccessibleName(self.tr("Load the organisation configuration file"))
        self.load_button.setToolTip(self.tr("The configuration file your IT department gave you"))
        self.load_button.clicked.connect(self._on_load_button_clicked)
        self.error = _message(self)
        self.error.setAccessibleName(self.tr("Configuration problem"))
        form = QFormLayout()
        form.addRow(self.tr("Organisation:"), self.org_name)
        form.addRow(self.tr("Server:"), self.server_url)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.load_button)
        layout.addWidget(self.error)
        layout.addStretch(1)
        self.load_button.setVisible(wizard.org is None)
        self.show_org()

    def show_org(self) -> None:
        """Show the organisation chosen so far."""
        org = self._wizard.org
        if org is None:
            self.org_name.setText(self.tr("(not configured: load the file IT gave you)"))
            self.server_url.clear()
        else:
            self.org_name.setText(org.anchor.org)
            self.server_url.setText(org.server_url)
        self.completeChanged.emit()

    def show_error(self, text: str) -> None:
        """Show a problem with the configuration file."""
        self.error.setText(text)
        self.error.setAccessibleDescription(text)

    def isComplete(self) -> bool:
        return self._wizard.org is not None

    def _on_load_button_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Organisation configuration file"),
            "",
            self.tr("Configuration files (*.json);;All files (*)"),
        )
        if path:
            self._wizard.load_org_config(Path(path))


class AccountPage(_Page):
    """User id, one-time code and device name; "Enrol" runs the enrolment."""

    def __init__(self, wizard: EnrolWizard) -> None:
        super().__init__(wizard)
        self._task: threads.Task | None = None
        self.enrolled = False
        self.setTitle(self.tr("Your account"))
        self.setSubTitle(self.tr("Enter your user ID and the one-time code from IT."))
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, self.tr("&Enrol"))
        self.user_id = self._field(self.tr("User ID"), self.tr("For example: hanako.sato"))
        self.user_hint = _message(self)
        self.code = self._field(self.tr("One-time code"), self.tr("The code IT gave you"))
        # visible on purpose: codes are typed from paper, and it is never stored or logged
        self.code.setEchoMode(QLineEdit.EchoMode.Normal)
        self.device_name = self._field(self.tr("Device name"), self.tr("How IT sees this PC"))
        self.device_name.setText(socket.gethostname()[:60])
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)  # indeterminate: the server gives no progress
        self.busy.setAccessibleName(self.tr("Enrolling"))
        self.busy.setVisible(False)
        self.waiting = _message(self)
        self.waiting.setAccessibleName(self.tr("Waiting for IT"))
        self.waiting.setVisible(False)
        self.error = _message(self)
        self.error.setAccessibleName(self.tr("Enrolment problem"))
        form = QFormLayout(self)
        form.addRow(self._label(self.tr("&User ID:"), self.user_id), self.user_id)
        form.addRow("", self.user_hint)
        form.addRow(self._label(self.tr("One-time &code:"), self.code), self.code)
        form.addRow(self._label(self.tr("&Device name:"), self.device_name), self.device_name)
        form.addRow(self.busy)
        form.addRow(self.waiting)
        form.addRow(self.error)
        self.user_id.textChanged.connect(self._on_user_id_text_changed)
        self.code.textChanged.connect(self.completeChanged)
        self.device_name.textChanged.connect(self.completeChanged)

    def _field(self, name: str, tip: str) -> QLineEdit:
        edit = QLineEdit(self)
        edit.setAccessibleName(name)
        edit.setToolTip(tip)
        edit.setPlaceholderText(tip)
        return edit

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        label = plain_label(text, self)
        label.setBuddy(buddy)
        return label

    def user(self) -> str | None:
        """The user id typed, if it is a valid id."""
        try:
            return check_id(self.user_id.text().strip(), "user id")
        except SecureSendError:
            return None

    def busy_now(self) -> bool:
        """Whether the enrolment is running."""
        return self._task is not None

    def _on_user_id_text_changed(self, text: str) -> None:
        bad = bool(text.strip()) and self.user() is None
        hint = self.tr("Use lowercase letters a-z, digits, '.', '_' or '-' (at most 64).")
        self.user_hint.setText(hint if bad else "")
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        fields = self.user() is not None and self.code.text().strip() and self.device_name.text()
        return bool(fields) and not self.busy_now()

    def validatePage(self) -> bool:
        if self.enrolled:
            return True
        if not self.busy_now() and self.isComplete():
            self._start()
        return False  # the wizard moves on when the worker succeeds

    def _start(self) -> None:
        org, profile, store = self._wizard.org, self._wizard.profile, self._wizard.store
        if org is None:  # the first page requires it; never reached
            return
        user, code = cast(str, self.user()), self.code.text().strip()
        name = self.device_name.text().strip()

        def work(task: threads.Task) -> tuple[DeviceIdentity, str, str]:
            me, status = enrolment.enrol(
                profile,
                org,
                user,
                code,
                device_name=name,
                store=store,
                wait=ENROL_WAIT,
                on_waiting=lambda: task.progress("waiting", 0, 1),
                cancel=task.cancel,
            )
            keys = store.load(me)
            return me, status, key_fingerprint(bytes(keys.signing.verify_key))

        self._task = threads.Task(work)
        self._task.progressed.connect(self._on_task_progressed)
        self._task.succeeded.connect(self._on_task_succeeded)
        self._task.failed.connect(self._on_task_failed)
        self._task.ended.connect(self._on_task_ended)
        self.error.clear()
        self._set_busy(True)
        threads.start(self._task)

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.busy.setAccessibleName(self.tr("Enrolling"))
        self.waiting.setVisible(False)
        for edit in (self.user_id, self.code, self.device_name):
            edit.setReadOnly(busy)
        for button in (QWizard.WizardButton.BackButton, QWizard.WizardButton.CancelButton):
            self._wizard.button(button).setEnabled(not busy)
        self.completeChanged.emit()

    def _on_task_progressed(self, label: str, _done: int, _total: int) -> None:
        if label != "waiting":
            return
        text = self.tr(
            "Waiting for IT to confirm this PC… Your request has reached the server; "
            "this usually takes a few seconds."
        )
        self.waiting.setText(text)
        self.waiting.setAccessibleDescription(text)
        self.waiting.setVisible(True)
        self.busy.setAccessibleName(self.tr("Waiting for IT"))

    def _on_task_succeeded(self, result: tuple[DeviceIdentity, str, str]) -> None:
        self._wizard.identity, self._wizard.status, self._wizard.fingerprint = result
        self.enrolled = True

    def _on_task_failed(self, err: BaseException) -> None:
        text = sentence_for(err, Action.ENROL)
        self.error.setText(text)
        self.error.setAccessibleDescription(text)

    def _on_task_ended(self) -> None:
        self._task = None
        self._set_busy(False)
        if self.enrolled:
            self._wizard.next()
        else:
            self.code.setFocus()
            self.code.selectAll()


class DonePage(_Page):
    """The outcome and this device's identity code."""

    def __init__(self, wizard: EnrolWizard) -> None:
        super().__init__(wizard)
        self.setFinalPage(True)
        self.outcome = _message(self)
        self.outcome.setAccessibleName(self.tr("Enrolment result"))
        self.identity_code = plain_label(self)
        self.identity_code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.identity_code.setAccessibleName(self.tr("This device's identity code"))
        self.identity_code.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        about = _message(self)
        about.setText(
            self.tr("If IT asks, read out this code so they can check it is really this PC.")
        )
        form = QFormLayout(self)
        form.addRow(self.outcome)
        form.addRow(self.tr("This device's identity code:"), self.identity_code)
        form.addRow(about)

    def initializePage(self) -> None:
        if self._wizard.status == "pending":
            self.setTitle(self.tr("Waiting for IT approval"))
            self.outcome.setText(
                self.tr(
                    "This PC's request has reached IT, who must approve it. Secure Send "
                    "finishes setting up by itself once IT has approved it; until then you "
                    "can close Secure Send and start it again later."
                )
            )
        elif self._wizard.status == "queued":
            self.setTitle(self.tr("Request sent to IT"))
            self.outcome.setText(
                self.tr(
                    "This PC's request has reached IT. Secure Send finishes setting up by "
                    "itself once IT has processed it; until then you can close Secure Send "
                    "and start it again later."
                )
            )
        else:
            self.setTitle(self.tr("Enrolled"))
            self.outcome.setText(self.tr("This PC is set up. You can now send and receive files."))
        self.identity_code.setText(self._wizard.fingerprint)


class EnrolWizard(QWizard):
    """First-run enrolment of ``profile``; after ``accept()``: ``identity`` and ``status``."""

    def __init__(
        self,
        profile: Profile,
        org: OrgConfig | None,
        store: KeyStore,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.profile, self.org, self.store = profile, org, store
        self.identity: DeviceIdentity | None = None
        self.status = ""
        self.fingerprint = ""  # this device's identity code once enrolled
        self.setWindowTitle(self.tr("Set up Secure Send"))
        self.setAccessibleName(self.tr("Set up Secure Send"))
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.organisation_page = OrganisationPage(self)
        self.account_page = AccountPage(self)
        self.done_page = DonePage(self)
        self.organisation_id = self.addPage(self.organisation_page)
        self.account_id = self.addPage(self.account_page)
        self.done_id = self.addPage(self.done_page)

    def load_org_config(self, path: Path) -> bool:
        """Use the organisation configuration file at ``path``; False (and a message) if bad."""
        try:
            org = OrgConfig.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, SecureSendError):
            self.organisation_page.show_error(
                self.tr(
                    "This file is not a valid organisation configuration. "
                    "Ask IT for the correct file."
                )
            )
            return False
        self.org = org
        self.organisation_page.show_error("")
        self.organisation_page.show_org()
        return True

    def reject(self) -> None:
        """Cancel, except while enrolling (it must finish so nothing is half set up)."""
        if not self.account_page.busy_now():
            super().reject()
