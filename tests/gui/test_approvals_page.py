"""上長承認 in the app, against the real server: Hanako (会計課) sends to Taro (人事課) under
a policy that asks approval for sends outside the department; her approver Jiro sees the
send in his 承認待ち list (and marked in his Inbox, and from the tray), checks the files,
and approves (Taro gets it) or returns it with a reason (Hanako's Sent page shows it).
Real widgets, real dialogs pressed as a person would."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from secure_send.gui.dialogs.reject_reason import RejectReasonDialog
from secure_send.gui.main_window import MainWindow
from secure_send.gui.model import AppModel
from secure_send.gui.settings import Settings
from secure_send.gui.tray import Tray
from secure_send.gui.views.approvals_page import ApprovalsPage
from secure_send.gui.views.inbox_page import InboxPage
from secure_send.gui.views.sent_page import SentPage
from tests.client.conftest import Enrol, Person
from tests.client.test_approval_flow import policy, set_approver  # noqa: F401 - a fixture
from tests.directory_kit import HANAKO, JIRO, TARO
from tests.gui.conftest import SessionOf, loaded_model
from tests.server.conftest import Server

WAIT = 15_000
People = tuple[Person, Person, Person]


@pytest.fixture
def people(enrol: Enrol, org_server: Server, policy: Path) -> People:  # noqa: F811
    """Hanako, Taro and Jiro enrolled; Jiro is Hanako's approver."""
    hanako, taro, jiro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop"), enrol(JIRO, "pc")
    set_approver(org_server, HANAKO, JIRO)
    return hanako, taro, jiro


def _send(hanako: Person, tmp_path: Path) -> str:
    report = tmp_path / "out" / "給与明細.txt"
    report.parent.mkdir(exist_ok=True)
    report.write_text("令和8年12月 給与明細\n", encoding="utf-8")
    return str(hanako.ok("send", str(report), "--to", TARO)["drop_id"])


def _model(qtbot: QtBot, session_of: SessionOf, person: Person) -> AppModel:
    model = loaded_model(qtbot, session_of(person))
    with qtbot.waitSignal(model.inbox_changed, timeout=WAIT):
        model.start()
    return model


def _answer(kind: type[QWidget], act: Callable[[QWidget], None], seen: list[QWidget]) -> None:
    """Once a modal ``kind`` is up, look at it (``seen``) and act on it."""

    def look() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, kind):
            QTimer.singleShot(20, look)
            return
        seen.append(dialog)
        act(dialog)

    QTimer.singleShot(0, look)


def _ready(qtbot: QtBot, page: ApprovalsPage, drop_id: str) -> None:
    """The drop listed and selected, its details loaded (the decision buttons enabled)."""
    qtbot.waitUntil(lambda: [i.drop_id for i in page.listed()] == [drop_id], timeout=WAIT)
    assert page.select(drop_id)
    qtbot.waitUntil(page.approve_button.isEnabled, timeout=WAIT)


def test_the_approver_sees_the_send_checks_it_and_approving_delivers_it(
    qtbot: QtBot, people: People, session_of: SessionOf, tmp_path: Path
) -> None:
    hanako, taro, jiro = people
    model = _model(qtbot, session_of, jiro)
    window = MainWindow(model)
    qtbot.addWidget(window)
    page = window.approvals_page
    opened: list[Path] = []
    page.open_folder = opened.append  # not a file manager under test
    page._downloads = lambda: tmp_path / "jiro"
    tray = Tray(model, window, Settings())
    with qtbot.waitSignal(tray.notified, timeout=WAIT) as told:
        drop_id = _send(hanako, tmp_path)
    assert told.args == ["Approval requested", "佐藤 花子 asks for your approval of a send"]
    _ready(qtbot, page, drop_id)
    assert [page.cell_text(0, c) for c in range(4)][:2] == ["佐藤 花子", "会計課"]
    assert page.cell_text(0, 3) == "sent outside the department"
    assert page.cell_text(0, 4) == "Confidentiality 2 (internal)"
    approvals = window.tabs.tabText(window.tabs.indexOf(page))
    assert approvals == "Awaitin&g approval (1)"
    # the Inbox marks it too
    inbox = window.inbox_page
    assert inbox.select(drop_id)
    assert inbox.cell_text(inbox.listed().index(inbox.selected()), 0) == (  # type: ignore[arg-type]
        "✓ Verified, awaiting your approval"
    )
    # 「ファイルを確認」: saved to the download folder, which is opened
    with qtbot.waitSignal(page.model.inbox_changed, timeout=WAIT):
        task = page.check_files()
        assert task is not None
        qtbot.waitUntil(lambda: opened == [tmp_path / "jiro"], timeout=WAIT)
    assert (tmp_path / "jiro" / "給与明細.txt").read_text(encoding="utf-8").startswith("令和8年")
    assert taro.ok("inbox")["drops"] == []  # still withheld from Taro
    # 「承認」: the question names who will receive it (not the approver himself)
    seen: list[QWidget] = []
    yes = QMessageBox.StandardButton.Yes
    _answer(QMessageBox, lambda box: box.button(yes).click(), seen)  # type: ignore[attr-defined]
    with qtbot.waitSignal(page.decided, timeout=WAIT) as decided:
        assert page.approve_selected() is not None
    assert decided.args == [drop_id, "approved"]
    question = seen[0].text()  # type: ignore[attr-defined]
    assert "Approve this send from 佐藤 花子 (会計課)?" in question
    assert "  給与明細.txt" in question
    assert "  鈴木 太郎 (人事課)" in question
    assert "髙橋" not in question
    qtbot.waitUntil(lambda: page.listed() == [], timeout=WAIT)
    assert window.tabs.tabText(window.tabs.indexOf(page)) == "Awaitin&g approval"
    [item] = taro.ok("inbox")["drops"]
    assert (item["drop_id"], item["verified"], item["approval"]) == (drop_id, True, "approved")
    model.stop()


def test_returning_asks_for_a_reason_and_the_sender_sees_it(
    qtbot: QtBot, people: People, session_of: SessionOf, tmp_path: Path
) -> None:
    hanako, taro, jiro = people
    drop_id = _send(hanako, tmp_path)
    model = _model(qtbot, session_of, jiro)
    page = ApprovalsPage(model)
    qtbot.addWidget(page)
    _ready(qtbot, page, drop_id)
    reason = "宛先が違います。%2 ではなく会計課へ\t送ってください"
    seen: list[QWidget] = []

    def write(dialog: QWidget) -> None:
        assert isinstance(dialog, RejectReasonDialog)
        assert not dialog.return_button.isEnabled()  # a reason is required
        dialog.reason.setPlainText(reason)
        assert dialog.return_button.isEnabled()
        dialog.return_button.click()

    _answer(RejectReasonDialog, write, seen)
    with qtbot.waitSignal(page.decided, timeout=WAIT) as decided:
        assert page.reject_selected() is not None
    assert decided.args == [drop_id, "rejected"]
    hint = seen[0].hint.text()  # type: ignore[attr-defined]
    assert "goes to the sender and is stored on the server" in hint
    assert "Do not write personal information" in hint
    assert seen[0].intro.text() == (  # type: ignore[attr-defined]
        "Return this send to 佐藤 花子 (会計課). It will not be delivered."
    )
    qtbot.waitUntil(lambda: page.listed() == [], timeout=WAIT)
    # Hanako's Sent page: returned, by whom, the reason as plain text (the tab as a space)
    sender = _model(qtbot, session_of, hanako)
    sent = SentPage(sender)
    qtbot.addWidget(sent)
    qtbot.waitUntil(lambda: bool(sender.sent), timeout=WAIT)
    text = sent.item_text()
    assert " | Returned | " in text.splitlines()[0]
    shown = "Approval: Returned (髙橋 次郎): 宛先が違います。%2 ではなく会計課へ 送ってください"
    assert shown in text
    assert sent.select(drop_id)  # in full under the tree, where the row may be cut off
    assert sent.approval_label.text() == shown
    assert taro.ok("inbox")["drops"] == []  # never delivered
    sender.stop()
    model.stop()


def test_the_sender_sees_a_pending_approval_and_a_recipient_never_sees_the_send(
    qtbot: QtBot, people: People, session_of: SessionOf, tmp_path: Path
) -> None:
    hanako, taro, _jiro = people
    _send(hanako, tmp_path)
    sender = _model(qtbot, session_of, hanako)
    sent = SentPage(sender)
    qtbot.addWidget(sent)
    qtbot.waitUntil(lambda: bool(sender.sent), timeout=WAIT)
    lines = sent.item_text().splitlines()
    assert " | Awaiting approval | " in lines[0]
    assert lines[1].strip().startswith("Approval: Awaiting approval (approver: 髙橋 次郎)")
    receiver = _model(qtbot, session_of, taro)
    inbox = InboxPage(receiver)
    qtbot.addWidget(inbox)
    assert inbox.row_count() == 0
    approvals = ApprovalsPage(receiver)
    qtbot.addWidget(approvals)
    assert approvals.listed() == []
    assert approvals.empty_label.text() == "Nothing waits for your approval"
    receiver.stop()
    sender.stop()
