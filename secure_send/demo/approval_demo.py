"""The demo's 上長承認 scene (issue 20): under the demo ministry's policy — My Number
content needs the sender's superior's approval — the workbook sent to 人事課 年末調整受付
waits. The desk does not get it; the superior (the directory's ``approver``) reads it
through the same end-to-end encryption and approves it with his device's signature; only
then does the desk receive it, and every client checks that signature itself.

Part of ``secure-send demo`` (:mod:`secure_send.demo`), after the My Number scene.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from secure_send.client import approval, listing
from secure_send.client import receive as receiving
from secure_send.client.drop_details import fetch_details
from secure_send.client.errors import ClientError
from secure_send.client.policy import ItPolicy, parse_policy
from secure_send.client.session import Session
from secure_send.core.envelope.manifest import AGE_SUITE, CMS_SUITE
from secure_send.core.error_codes import ErrorCode
from secure_send.org.attributes import Changes, set_attributes
from secure_send.org.home import OrgHome

Say = Callable[[str], None]
Step = Callable[[Say, str, str], None]
# what IT's policy file says in the demo ministry (packaging/linux/policy.json's key)
# — and sends at 機密性3 (every send with My Numbers is raised to it) go in the CRYPTREC
# suite (issue 21), the rest in age
DEMO_POLICY_JSON = {"approval_for": ["mynumber"], "suite": {"c3": "cms"}}
SUITES_JA = {
    AGE_SUITE: "age（ChaCha20-Poly1305、X25519）",
    CMS_SUITE: "CRYPTREC（AES-256-GCM、ECDH P-256）",
}
REASONS_JA = {
    "c1": "機密性1",
    "c2": "機密性2",
    "c3": "機密性3",
    "mynumber": "個人番号を含む",
    "outside_department": "部署外への送信",
}


def demo_policy() -> ItPolicy:
    """The demo ministry's IT policy: sends with My Numbers wait for a superior."""
    return parse_policy(DEMO_POLICY_JSON, "デモ省の IT ポリシー")


def write_demo_policy(path: Path) -> Path:
    """The same policy as a policy file (for the demo's app windows)."""
    path.write_text(json.dumps(DEMO_POLICY_JSON), encoding="utf-8")
    return path


def designate_approver(
    say: Say, step: Step, home: OrgHome, operator: str, boss: str, session: Session
) -> None:
    """IT designates the superior 個人番号取扱 (he will read the numbers he approves: issue
    19's rule holds for approvers too), and waits until the change reached the server."""
    entry = home.entries()[boss]
    step(
        say,
        f"IT が上長 {entry.name_ja}（{entry.title}）を個人番号取扱者に指定します"
        "（承認のために個人番号を見るため）",
        "IT designates the superior to handle My Numbers: he will read them to approve",
    )
    set_attributes(home, boss, Changes(mynumber_handler=True), operator)
    deadline = time.monotonic() + 30
    while not session.directory().by_id()[boss].mynumber_handler:  # the signer pushes it
        if time.monotonic() > deadline:
            raise ClientError(ErrorCode.DEMO_FAILED, "the designation did not reach the server")
        time.sleep(0.2)


def run_approval_scene(
    say: Say,
    step: Step,
    work: Path,
    sender: Session,
    approver: Session,
    desk: Session,
    drop_id: str,
) -> None:
    """The scene for the pending drop ``drop_id``; raises if a step goes wrong."""
    entries = sender.directory().by_id()
    boss = entries[approver.me.user]
    [item] = [s for s in listing.sent(sender, sender.directory()) if s.drop_id == drop_id]
    if item.approval.state != approval.PENDING:
        raise ClientError(ErrorCode.DEMO_FAILED, "the My Number send did not wait for approval")
    reasons = "、".join(REASONS_JA[r] for r in item.approval.reasons)
    step(
        say,
        f"IT のポリシーにより、この送信は上長 {boss.name_ja}（{boss.title}）の承認待ちです"
        f"（理由：{reasons}）",
        "IT policy: a send with My Numbers waits for the sender's superior's approval",
    )
    waiting, _ = listing.inbox(desk, desk.directory())
    if any(i.drop_id == drop_id for i in waiting):
        raise ClientError(ErrorCode.DEMO_FAILED, "the desk got the drop before its approval")
    say(
        f"   {entries[desk.me.user].name_ja}（受付）にはまだ届きません。"
        "サーバーが承認前に渡しても、承認の署名がなければ受付のアプリが開きません"
    )
    step(
        say,
        f"{boss.name_ja} のアプリの「承認待ち」に届き、中身を確認してから承認します"
        "（端末の鍵で署名）",
        "the superior reads the files (end to end encrypted to him too), then signs his approval",
    )
    items, _ = listing.inbox(approver, approver.directory())
    if drop_id not in [i.drop_id for i in listing.awaiting_my_approval(items)]:
        raise ClientError(ErrorCode.DEMO_FAILED, "the approver was not asked")
    read = receiving.receive(approver, approver.directory(), drop_id, work / "承認者の確認用")
    for path in read.files:
        say(f"   確認: {path.name}")
    state = approval.decide(approver, approver.directory(), drop_id, approve=True)
    say(f"   → {state}: 承認の署名をサーバーへ（理由の文字列は監査ログに残しません）")
    step(
        say,
        "承認後、受付に届きます。受付のアプリは承認の署名を自分で検証してから保存します",
        "only now does the desk get it; its app verifies the approval signature itself",
    )
    items, _ = listing.inbox(desk, desk.directory(), wait=5)
    [mine] = [i for i in items if i.drop_id == drop_id]
    if not mine.verified or mine.approval != approval.APPROVED:
        raise ClientError(ErrorCode.DEMO_FAILED, f"the desk could not verify it: {mine.problem}")
    decided = entries[mine.decided_by].name_ja
    got = receiving.receive(desk, desk.directory(), drop_id, work / "人事課の受付")
    say(f"   ✓ 承認済み（{decided}）を確認、{len(got.files)} 件を保存しました")
    suite = fetch_details(desk, desk.directory(), drop_id).suite  # from the signed manifest
    say(f"   暗号方式：{SUITES_JA[suite]}（機密性3 は IT のポリシーで CRYPTREC 暗号リストの方式）")
