"""First-run enrolment against the real drop server, driven through the wizard."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import weakref
from pathlib import Path

from PySide6.QtWidgets import QWizard
from pytestqt.qtbot import QtBot

from secure_send.client.api import key_fingerprint
from secure_send.client.errors import ClientError
from secure_send.client.keystore import FileKeyStore
from secure_send.client.profile import OrgConfig, Profile
from secure_send.client.session import Session
from secure_send.core.error_codes import ErrorCode
from secure_send.gui.dialogs.enrol_wizard import EnrolWizard
from secure_send.gui.errors import describe
from secure_send.org import ops
from tests.directory_kit import HANAKO
from tests.server.conftest import Server


def _org(server: Server) -> OrgConfig:
    return OrgConfig.from_json(ops.client_config(server.home, server.url))


def _wizard(qtbot: QtBot, profile: Profile, org: OrgConfig | None) -> EnrolWizard:
    wizard = EnrolWizard(profile, org, FileKeyStore(profile))
    qtbot.addWidget(wizard)
    wizard.show()
    return wizard


def _fill(wizard: EnrolWizard, code: str, device_name: str = "会計課 PC") -> None:
    page = wizard.account_page
    page.user_id.setText(HANAKO)
    page.code.setText(code)
    page.device_name.setText(device_name)


def _enrol(qtbot: QtBot, wizard: EnrolWizard) -> None:
    """Click "Enrol" and wait until the worker has ended (either way)."""
    page = wizard.account_page
    button = wizard.button(QWizard.WizardButton.CommitButton)
    assert button.isEnabled()
    button.click()
    assert page.busy_now()
    assert not page.busy.isHidden()
    qtbot.waitUntil(lambda: not page.busy_now(), timeout=15_000)


def test_enrols_and_shows_the_identity_code(
    qtbot: QtBot, org_server: Server, tmp_path: Path
) -> None:
    profile = Profile(tmp_path / "profile")
    wizard = _wizard(qtbot, profile, _org(org_server))
    assert wizard.organisation_page.server_url.text() == org_server.url
    assert wizard.organisation_page.server_url.isReadOnly()
    assert wizard.organisation_page.org_name.text() == "テスト省"
    assert wizard.organisation_page.load_button.isHidden()
    wizard.next()
    assert wizard.currentId() == wizard.account_id
    _fill(wizard, ops.issue_code(org_server.home, HANAKO))
    _enrol(qtbot, wizard)
    assert wizard.currentId() == wizard.done_id

    assert wizard.identity is not None
    assert wizard.identity.user == HANAKO
    assert wizard.status == "enrolled"
    keys = FileKeyStore(profile).load(wizard.identity)
    code = key_fingerprint(bytes(keys.signing.verify_key))
    assert wizard.done_page.identity_code.text() == code
    assert wizard.done_page.title() == "Enrolled"
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert wizard.result() == QWizard.DialogCode.Accepted

    session = Session.open(profile, FileKeyStore(profile))
    try:
        entry = session.directory().by_id()[HANAKO]
    finally:
        session.close()
    device = {d.id: d for d in entry.devices}[wizard.identity.device]
    assert device.sign_key == bytes(keys.signing.verify_key)
    assert device.name == "会計課 PC"


def test_wrong_code_explains_and_enrols_nothing(
    qtbot: QtBot, org_server: Server, tmp_path: Path
) -> None:
    profile = Profile(tmp_path / "profile")
    wizard = _wizard(qtbot, profile, _org(org_server))
    wizard.next()
    ops.issue_code(org_server.home, HANAKO)  # a real code exists, but not this one
    _fill(wizard, "WRONG-CODE-0000")
    page = wizard.account_page
    _enrol(qtbot, wizard)
    assert page.error.text() == describe(ClientError(ErrorCode.BAD_ENROLMENT, ""))[0]
    assert page.error.text().startswith("The one-time code was wrong")
    assert wizard.currentId() == wizard.account_id
    assert not profile.identity_file.exists()
    assert not profile.config_file.exists()
    assert wizard.identity is None
    # the user corrects the code and goes on
    page.code.setText(ops.issue_code(org_server.home, HANAKO))
    _enrol(qtbot, wizard)
    assert wizard.currentId() == wizard.done_id
    assert page.error.text() == ""
    session = Session.open(profile, FileKeyStore(profile))
    session.close()
    assert session.me.user == HANAKO


def test_without_it_configuration_a_file_is_required(
    qtbot: QtBot, org_server: Server, tmp_path: Path
) -> None:
    wizard = _wizard(qtbot, Profile(tmp_path / "profile"), None)
    page = wizard.organisation_page
    assert not page.load_button.isHidden()
    assert not page.isComplete()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something-else"}')
    assert not wizard.load_org_config(bad)
    assert "not a valid organisation configuration" in page.error.text()
    assert not page.isComplete()
    good = tmp_path / "org-config.json"
    good.write_text(json.dumps(ops.client_config(org_server.home, org_server.url)))
    assert wizard.load_org_config(good)
    assert page.error.text() == ""
    assert page.org_name.text() == "テスト省"
    assert page.server_url.text() == org_server.url
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    wizard.next()
    assert wizard.currentId() == wizard.account_id


def test_user_id_is_checked_while_typing(qtbot: QtBot, org_server: Server, tmp_path: Path) -> None:
    wizard = _wizard(qtbot, Profile(tmp_path / "profile"), _org(org_server))
    wizard.next()
    page = wizard.account_page
    page.code.setText("ABCD")
    page.user_id.setText("Hanako Sato")
    assert page.user_hint.text()
    assert not page.isComplete()
    page.user_id.setText(HANAKO)
    assert page.user_hint.text() == ""
    assert page.isComplete()


def test_controls_have_accessible_names(qtbot: QtBot, tmp_path: Path) -> None:
    wizard = _wizard(qtbot, Profile(tmp_path / "profile"), None)
    org_page, account, done = wizard.organisation_page, wizard.account_page, wizard.done_page
    for widget in (
        wizard,
        org_page.server_url,
        org_page.load_button,
        account.user_id,
        account.code,
        account.device_name,
        account.busy,
        account.error,
        done.identity_code,
    ):
        assert widget.accessibleName(), widget


def test_a_dropped_wizard_is_freed_at_once(
    qtbot: QtBot, org_server: Server, tmp_path: Path
) -> None:
    """The app drops the wizard after ``exec()`` (``App.run_wizard``): it must be freed
    there and then, by reference counting on the GUI thread, not left in a reference
    cycle for Python's cyclic collector, which runs on whichever thread allocates next."""
    profile = Profile(tmp_path / "profile")
    wizard = EnrolWizard(profile, _org(org_server), FileKeyStore(profile))
    wizard.show()
    wizard.next()
    _fill(wizard, ops.issue_code(org_server.home, HANAKO))
    _enrol(qtbot, wizard)
    assert wizard.currentId() == wizard.done_id
    wizard.button(QWizard.WizardButton.FinishButton).click()
    gone = weakref.ref(wizard)
    gc.disable()
    try:
        del wizard
        assert gone() is None, "the wizard is kept alive by a reference cycle"
    finally:
        gc.enable()


# A worker thread's allocation runs the cyclic collector while a dropped wizard waits
# for it: the wizard's widgets were deleted on that thread and the app crashed (SIGSEGV).
_COLLECTED_ON_A_WORKER = """
import gc, sys, threading
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication([])
from secure_send.client.keystore import FileKeyStore
from secure_send.client.profile import Profile
from secure_send.gui.dialogs.enrol_wizard import EnrolWizard
gc.disable()
profile = Profile(Path(sys.argv[1]))
wizard = EnrolWizard(profile, None, FileKeyStore(profile))
wizard.show()
app.processEvents()
wizard.hide()
del wizard  # as App.run_wizard drops it
worker = threading.Thread(target=gc.collect)
worker.start()
worker.join()
app.processEvents()
print("survived")
"""


def test_garbage_collected_on_a_worker_thread_after_the_wizard(tmp_path: Path) -> None:
    command = [sys.executable, "-X", "faulthandler", "-c", _COLLECTED_ON_A_WORKER]
    result = subprocess.run(
        [*command, str(tmp_path / "profile")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "survived"
