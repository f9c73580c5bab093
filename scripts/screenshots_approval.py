"""The 上長承認 screens of issue 20 for scripts/screenshots.py: the approver's 承認待ち list
with a selected send and its details, the 差し戻し reason box, the sender's Sent page with
a pending, an approved and a returned send, and the confirm sheet's notice.

IT names the sender's approver (a colleague enrolled for the other screens) and both
machines run a policy asking approval for 機密性3 and for sends outside the department.
Sends at 機密性3 go in the CRYPTREC suite (issue 21), so the details pane and the confirm
sheet show it. Run last: a recipient without that policy would see these sends as
dangerous."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCREENS = ("approvals", "reject-reason", "sent-approval", "confirm-approval")
REASON = "宛先に人事課の担当者が含まれていません。年末調整受付あてに送り直してください。"


def _policy_session(work: Path, user: str) -> Any:
    from secure_send.client.approval_rules import ApprovalRules
    from secure_send.client.keystore import FileKeyStore
    from secure_send.client.policy import ItPolicy
    from secure_send.client.profile import Profile
    from secure_send.client.session import Session
    from secure_send.client.suite_policy import SuiteRules
    from secure_send.core.envelope.manifest import CMS_SUITE

    profile = Profile(work / "profiles" / user)
    policy = ItPolicy(  # and 機密性3 in the CRYPTREC suite (issue 21): the details say so
        approval=ApprovalRules(frozenset({"c3", "outside_department"})),
        suite=SuiteRules(by_classification={"c3": CMS_SUITE}),
    )
    return Session.open(profile, FileKeyStore(profile), policy)


def approval_screens(
    shots: Any,
    wait_until: Callable[..., bool],
    signer_round: Callable[[Any, str], None],
    work: Path,
    home: Any,
    url: str,
    cast: Any,
    approver: str,
    samples: list[Path],
) -> None:
    from screenshots_clerk import started_window

    from secure_send.client import approval
    from secure_send.client import send as sending
    from secure_send.core.directory.log import Action
    from secure_send.core.envelope.manifest import Classification
    from secure_send.gui.dialogs.confirm_send import ConfirmSendDialog
    from secure_send.gui.dialogs.reject_reason import RejectReasonDialog
    from secure_send.org import ops

    entry = home.entries()[cast.sender].with_changes(approver=approver)
    ops.change(home, "demo-it", Action.UPDATE, {"entry": entry.to_json()})
    signer_round(home, url)
    sender, boss = _policy_session(work, cast.sender), _policy_session(work, approver)

    def send(paths: list[Path], message: str) -> str:
        pending = sending.prepare(
            sender,
            sender.directory(),
            sending.collect(paths),
            [cast.recipient],
            expires=dt.timedelta(days=7),
            message=message,
            classification=Classification.C3,
        )
        return sending.finish(sender, pending)

    approved = send(samples[1:], "議事録です。")
    approval.decide(boss, boss.directory(), approved, True)
    returned = send(samples[1:], "送付状のみ先にお送りします。")
    approval.decide(boss, boss.directory(), returned, False, REASON)
    send(samples, "年末調整の提出一覧です。ご確認のうえご承認をお願いします。")
    # ---- the approver's list, the reason box
    window = started_window(boss, 1100, lambda m: bool(m.inbox), wait_until)
    page = window.approvals_page
    window.tabs.setCurrentWidget(page)
    wait_until(page.approve_button.isEnabled, 15)
    shots.take("approvals", window)
    dialog = RejectReasonDialog(page.details.person_text(cast.sender), window)
    dialog.reason.setPlainText(REASON)
    shots.take("reject-reason", dialog)
    dialog.close()
    window.model.stop()
    window.hide()
    # ---- the sender's Sent page and confirm sheet
    window = started_window(sender, 1100, lambda m: len(m.sent) >= 3, wait_until)
    window.tabs.setCurrentWidget(window.sent_page)
    window.sent_page.select(approved)
    wait_until(lambda: False, 1.0)  # the details of every drop, for its role rows
    shots.take("sent-approval", window)
    page = window.send_page
    window.tabs.setCurrentWidget(page)
    page.add_paths(samples)
    page.picker.add_entry(cast.recipient)
    combo = page.classification  # 機密性3: approval, and the CRYPTREC suite (issue 21)
    combo.setCurrentIndex(combo.findData(Classification.C3))
    sheet = ConfirmSendDialog(window.model, page.request(), window)
    shots.take("confirm-approval", sheet)
    sheet.close()
    window.model.stop()
    window.hide()
    sender.close()
    boss.close()
