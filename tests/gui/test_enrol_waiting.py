"""Enrolment through IT's queue when IT does not answer at once: the wizard says it is
waiting for IT, hands over after its wait ("the request has reached IT"), and the next
start of the app waits in a small dialog that continues once IT's directory signer has
processed the request. Real server; the real signer as its own process, started when
IT should answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QWizard
from pytestqt.qtbot import QtBot

from secure_send.client import enrolment
from secure_send.client.keystore import FileKeyStore
from secure_send.client.profile import OrgConfig, Profile
from secure_send.gui.app import App
from secure_send.gui.dialogs import enrol_wizard
from secure_send.gui.dialogs.enrol_waiting import EnrolWaitingDialog
from secure_send.gui.dialogs.enrol_wizard import EnrolWizard
from secure_send.org import ops
from tests.directory_kit import HANAKO
from tests.server.conftest import Server, signer_process

WAIT = 30_000


def _org(server: Server) -> OrgConfig:
    return OrgConfig.from_json(ops.client_config(server.home, server.url))


def _start_enrolment(qtbot: QtBot, server: Server, profile: Profile) -> EnrolWizard:
    wizard = EnrolWizard(profile, _org(server), FileKeyStore(profile))
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.next()
    page = wizard.account_page
    page.user_id.setText(HANAKO)
    page.code.setText(ops.issue_code(server.home, HANAKO))
    page.device_name.setText("人事課 PC")
    wizard.button(QWizard.WizardButton.CommitButton).click()
    assert page.busy_now()
    return wizard


def test_the_wizard_waits_for_it_and_finishes_when_the_signer_answers(
    qtbot: QtBot, quiet_server: Server, tmp_path: Path
) -> None:
    profile = Profile(tmp_path / "profile")
    wizard = _start_enrolment(qtbot, quiet_server, profile)
    page = wizard.account_page
    assert page.waiting.isHidden()  # the first seconds: just busy
    qtbot.waitUntil(page.waiting.isVisible, timeout=WAIT)
    assert page.waiting.text().startswith("Waiting for IT to confirm this PC")
    assert page.busy.isVisible()
    assert page.busy.accessibleName() == "Waiting for IT"
    assert not wizard.button(QWizard.WizardButton.CancelButton).isEnabled()
    assert wizard.currentId() == wizard.account_id

    with signer_process(quiet_server.home, quiet_server.url):
        qtbot.waitUntil(lambda: wizard.currentId() == wizard.done_id, timeout=WAIT)
    assert wizard.status == "enrolled"
    assert wizard.done_page.title() == "Enrolled"
    assert page.waiting.isHidden()
    assert enrolment.open_ticket(profile) is None


def test_a_queued_enrolment_is_finished_by_the_next_start(
    qapp: QApplication,
    qtbot: QtBot,
    quiet_server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(enrol_wizard, "ENROL_WAIT", 4.0)
    profile = Profile(tmp_path / "profile")
    wizard = _start_enrolment(qtbot, quiet_server, profile)
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.done_id, timeout=WAIT)
    assert wizard.status == "queued"
    assert wizard.done_page.title() == "Request sent to IT"
    assert "has reached IT" in wizard.done_page.outcome.text()
    assert "by itself" in wizard.done_page.outcome.text()
    assert wizard.done_page.identity_code.text()
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert enrolment.open_ticket(profile) is not None

    # the person closes the waiting dialog: the request stays with IT
    store = FileKeyStore(profile)
    dialog = EnrolWaitingDialog(profile, store, "queued")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.heading.text() == "Waiting for IT to confirm this PC…"
    qtbot.waitUntil(lambda: dialog.identity_code.text() != "", timeout=WAIT)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Close).click()
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert dialog.refusal is None
    assert enrolment.open_ticket(profile) is not None

    # the next start: the app waits for IT (no wizard, no error) and goes on
    app = App(qapp, profile, store)
    seen: list[QDialog | None] = []
    QTimer.singleShot(300, lambda: seen.append(_modal()))
    QTimer.singleShot(60_000, _close_modal)  # never hang the test run
    try:
        with signer_process(quiet_server.home, quiet_server.url):
            session = app.open_session()
    finally:
        for translator in app.translators:
            qapp.removeTranslator(translator)
    assert session is not None
    session.close()
    assert session.me.user == HANAKO
    assert isinstance(seen[0], EnrolWaitingDialog)
    assert enrolment.open_ticket(profile) is None


def test_a_refusal_while_waiting_is_reported_and_nothing_is_left(
    qtbot: QtBot, quiet_server: Server, tmp_path: Path
) -> None:
    profile = Profile(tmp_path / "profile")
    store = FileKeyStore(profile)
    ops.issue_code(quiet_server.home, HANAKO)  # a real code exists, but not this one
    _, status = enrolment.enrol(
        profile, _org(quiet_server), HANAKO, "WRONG-CODE-0000", store=store, wait=0.5
    )
    assert status == "queued"
    dialog = EnrolWaitingDialog(profile, store, status)
    qtbot.addWidget(dialog)
    dialog.show()
    with (
        signer_process(quiet_server.home, quiet_server.url),
        qtbot.waitSignal(dialog.rejected, timeout=WAIT),
    ):
        pass
    assert getattr(dialog.refusal, "code", "") == "bad_enrolment"
    assert not profile.identity_file.exists()
    assert enrolment.open_ticket(profile) is None


def test_waiting_dialog_controls_have_accessible_names(
    qtbot: QtBot, quiet_server: Server, tmp_path: Path
) -> None:
    profile = Profile(tmp_path / "profile")
    enrolment.enrol(profile, _org(quiet_server), HANAKO, None, store=FileKeyStore(profile), wait=0)
    dialog = EnrolWaitingDialog(profile, FileKeyStore(profile), "pending")
    qtbot.addWidget(dialog)
    assert dialog.heading.text() == "Waiting for IT to approve this PC…"
    for widget in (dialog, dialog.heading, dialog.busy, dialog.identity_code, dialog.problem):
        assert widget.accessibleName(), widget
    dialog.reject()


def _modal() -> QDialog | None:
    widget = QApplication.activeModalWidget()
    return widget if isinstance(widget, QDialog) else None


def _close_modal() -> None:
    widget = _modal()
    if widget is not None:
        widget.reject()
