"""The confirm sheet says when a send waits for a superior's approval (上長承認), names
the approver among the recipients, and has no Send button when nobody can approve it.
Real widgets, the real server; the sheet is pressed as the Send page shows it."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from secure_send.core.envelope.manifest import SignedManifest
from secure_send.gui.model import AppModel
from secure_send.gui.views.send_page import RESULT
from tests.client.conftest import Enrol
from tests.client.test_approval_flow import policy, set_approver  # noqa: F401 - a fixture
from tests.directory_kit import HANAKO, JIRO, TARO
from tests.gui.test_mynumber_confirm import _page, _press_send
from tests.server.conftest import Server

WAIT = 20_000


def _report(tmp_path: Path) -> Path:
    path = tmp_path / "議事録.txt"
    path.write_text("会議の議事録\n", encoding="utf-8")
    return path


def _reload(qtbot: QtBot, model: AppModel) -> None:
    with qtbot.waitSignal(model.directory_changed, timeout=WAIT):
        model.refresh_directory()


def test_the_sheet_says_the_send_waits_for_the_approver_who_is_listed(
    policy: Path,  # noqa: F811 - first: the model's session reads it
    qtbot: QtBot,
    model: AppModel,
    enrol: Enrol,
    org_server: Server,
    tmp_path: Path,
) -> None:
    enrol(TARO, "desktop")
    enrol(JIRO, "pc")
    set_approver(org_server, HANAKO, JIRO)
    _reload(qtbot, model)
    page = _page(qtbot, model, _report(tmp_path), TARO)
    seen = _press_send(page, accept=True)
    assert len(seen) == 1
    notes = seen[0].approval
    assert notes is not None
    assert not notes.blocked
    assert notes.text() == (
        "This send needs your superior's approval (reason: sent outside the department). "
        "Approver: 髙橋 次郎 (主任). The recipients receive nothing until it is approved."
    )
    rows = [seen[0].recipients.item(i).text() for i in range(seen[0].recipients.count())]
    assert rows[-1] == "✓ 髙橋 次郎 (Jiro Takahashi) — 総務課 [approver]"
    assert not seen[0].send_button.isHidden()
    qtbot.waitUntil(lambda: page.stack.currentIndex() == RESULT, timeout=WAIT)
    drop = model.session.api.sent()[0]
    manifest = SignedManifest.from_json(model.session.api.drop(drop["drop_id"])).manifest
    assert manifest.approval is not None
    assert manifest.approval.approvers == (JIRO,)


def test_without_an_approver_the_sheet_has_no_send_button(
    policy: Path,  # noqa: F811 - first: the model's session reads it
    qtbot: QtBot,
    model: AppModel,
    enrol: Enrol,
    org_server: Server,
    tmp_path: Path,
) -> None:
    enrol(TARO, "desktop")
    _reload(qtbot, model)
    page = _page(qtbot, model, _report(tmp_path), TARO)
    seen = _press_send(page, accept=False)
    assert len(seen) == 1
    notes = seen[0].approval
    assert notes is not None
    assert notes.blocked
    assert "no approver is set for you in the staff directory" in notes.text()
    assert seen[0].send_button.isHidden()
    assert not seen[0].send_button.isEnabled()
    assert seen[0].cancel_button.text() == "&Back"
    assert model.session.api.sent() == []


def test_without_a_policy_asking_for_it_there_is_no_notice(
    qtbot: QtBot, model: AppModel, enrol: Enrol, tmp_path: Path
) -> None:
    """No approver is set, and none is needed: no section, the Send button is there."""
    enrol(TARO, "desktop")
    _reload(qtbot, model)
    page = _page(qtbot, model, _report(tmp_path), TARO)
    seen = _press_send(page, accept=False)
    assert seen[0].approval is None
    assert not seen[0].send_button.isHidden()
