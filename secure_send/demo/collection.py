"""The demo's collection flow (提出依頼): HR asks a division for its year-end tax
papers, three staff submit with no address to type or choose, and the HR desk sees
who has and has not, reminds the rest and saves all submissions at once.

Part of ``secure-send demo`` (:mod:`secure_send.demo`); the same client library
as the CLI and the app.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from secure_send.client import file_requests, request_status
from secure_send.client import send as sending
from secure_send.client.errors import ClientError
from secure_send.client.save_all import save_all
from secure_send.client.session import Session
from secure_send.core.directory.model import Entry, Kind
from secure_send.core.envelope.request import JST
from secure_send.core.error_codes import ErrorCode

DESK_ROLE = "nenmatsu"  # 人事課 年末調整受付 in the demo ministry
Say = Callable[[str], None]
Step = Callable[[Say, str, str], None]
Enrol = Callable[[str], Session]


def staff_to_ask(entries: dict[str, Entry], desk: str, count: int = 3) -> tuple[str, list[str]]:
    """A division other than the desk's, and ``count`` of its people (who will submit)."""
    role = entries[DESK_ROLE]
    people = sorted(
        (e for e in entries.values() if e.kind is Kind.PERSON and e.active),
        key=lambda e: e.id,
    )
    division = next(e.department for e in people if e.department != role.department)
    chosen = [e.id for e in people if e.department == division and e.id != desk][:count]
    return division, chosen


def run_collection(
    say: Say, step: Step, work: Path, enrol: Enrol, entries: dict[str, Entry]
) -> None:
    """The walkthrough (see the module docstring); raises if a step goes wrong."""
    desk_id = entries[DESK_ROLE].members[0]
    division, staff = staff_to_ask(entries, desk_id)
    desk = enrol(desk_id)
    # staff enrolled before the request is made can read its title (it is encrypted to
    # the devices there are when it is made)
    people = {user: enrol(user) for user in staff}
    due = (dt.datetime.now(JST) + dt.timedelta(days=14)).date().isoformat()
    step(
        say,
        f"人事課（{entries[desk_id].name_ja}）が {division} の全員に提出依頼を出します"
        f"（提出先は窓口「{entries[DESK_ROLE].name_ja}」、期限 {due}）",
        "HR asks a whole division to submit their year-end papers to the HR desk's mailbox",
    )
    request_id = file_requests.create(
        desk,
        desk.directory(),
        into=DESK_ROLE,
        departments=[division],
        title="年末調整書類の提出（令和8年分）",
        due=due,
        message="扶養控除等申告書を提出してください。（デモ用の架空データです）",
    )
    say(f"   request {request_id}: the server sees ids, counts and dates, never the title")
    for user, person in people.items():
        # this run's request: a demo run against a lasting server (``--server``) finds
        # the requests of the runs before it there too
        listed = file_requests.listing(person, person.directory())
        (view,) = [v for v in listed if v.addressed and v.request_id == request_id]
        paper = work / "提出" / user / "扶養控除等申告書（ダミー）.csv"
        paper.parent.mkdir(parents=True, exist_ok=True)
        paper.write_text(f"氏名,扶養人数\n{entries[user].name_ja},1\n", encoding="utf-8")
        step(
            say,
            f"{entries[user].name_ja} が依頼「{view.title}」に提出します"
            "（宛先を選ぶ欄はありません）",
            "a member of staff answers the request in one action: no recipient to choose",
        )
        pending = file_requests.submit(person, person.directory(), request_id, [paper])
        sending.finish(person, pending)
        person.close()
    directory = desk.directory()
    state = request_status.for_desk(desk, directory, request_id)
    step(
        say,
        f"人事課は提出状況を確認します: 提出済み {len(state.submitted)} 人、"
        f"未提出 {len(state.pending)} 人、期限超過 {len(state.late)} 人",
        "the desk sees who has submitted, who has not and who was late",
    )
    for p in state.submitted:
        say(f"   ✓ {p.name_ja}（{p.department}） {p.submitted_at}")
    reminded = file_requests.remind(desk, request_id)
    say(f"   未提出の {len(reminded)} 人に催促を送りました (reminded those who have not)")
    step(
        say,
        "人事課が全員分をまとめて保存します（提出者ごとのフォルダー、受領通知も送信）",
        "the desk saves all submissions at once, one folder per person, receipts sent",
    )
    summary = save_all(desk, directory, request_id, work / "年末調整_提出")
    for saved in summary.saved:
        say(f"   {saved.folder.relative_to(work)}/")
    say(f"   保存 {len(summary.saved)} 件、受領通知を送信 (saved, receipts sent)")
    if not summary.complete or len(summary.saved) != len(staff):
        raise ClientError(ErrorCode.DEMO_FAILED, "save all did not save every submission")
    desk.close()
