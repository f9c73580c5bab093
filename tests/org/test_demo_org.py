"""The demo ministry's 個人番号取扱 designation (issue 19): only the role mailbox
人事課 年末調整受付 (``nenmatsu``), so that the demo has a designated desk to send My
Numbers to and ordinary colleagues — its sender and first recipient — to be stopped at.
And its approvers (上長承認, issue 20): each division's head, a 課長 of it."""

from __future__ import annotations

from pathlib import Path

from secure_send.core.directory.model import Kind
from secure_send.core.envelope.approval import approvers_for
from secure_send.demo import make_demo_org, pick_people
from secure_send.org import names_ja
from secure_send.org.demo_org import DESIGNATED_ROLE, HEAD_TITLE, demo_rows, write_csv
from secure_send.org.home import OrgHome
from secure_send.org.importing import CSV_COLUMNS, read_csv


def test_only_the_year_end_desk_is_designated_and_the_demo_cast_is_not(tmp_path: Path) -> None:
    home = OrgHome(tmp_path / "org")
    make_demo_org(home)
    entries = home.entries()
    assert DESIGNATED_ROLE == "nenmatsu"
    assert [e.id for e in entries.values() if e.mynumber_handler] == ["nenmatsu"]
    desk = entries["nenmatsu"]
    assert (desk.kind, desk.name_ja) == (Kind.ROLE, "人事課 年末調整受付")
    cast = pick_people(home)
    for user in (cast.sender, cast.recipient):  # the demo's ordinary send is not covered
        assert not entries[user].mynumber_handler
        assert user not in desk.members


def test_generated_csv_has_the_column_and_imports_the_designation(tmp_path: Path) -> None:
    path = tmp_path / "demo.csv"
    write_csv(path, demo_rows())
    header = path.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header == ",".join(CSV_COLUMNS)
    assert header.endswith(",members,mynumber_handler,approver")
    rows = read_csv(path)
    assert {r.id: r.mynumber_handler for r in rows if r.mynumber_handler} == {"nenmatsu": "yes"}
    assert {r.mynumber_handler for r in rows if r.id != "nenmatsu"} == {""}


def test_the_synthetic_year_end_desk_is_designated() -> None:
    entries = names_ja.synthetic_entries(2000, seed=3)
    assert [e.id for e in entries if e.mynumber_handler] == ["r-jinji-nenmatsu"]


def test_every_person_has_their_division_head_as_approver(tmp_path: Path) -> None:
    home = OrgHome(tmp_path / "org")
    make_demo_org(home)
    entries = home.entries()
    people = [e for e in entries.values() if e.kind is Kind.PERSON]
    heads = {e.department: e.id for e in people if e.approver is None}
    assert sorted(heads) == sorted({e.department for e in people})  # one head per division
    for head in heads.values():
        assert entries[head].title == HEAD_TITLE
    for person in people:
        if person.id not in heads.values():
            assert person.approver == heads[person.department]
            assert approvers_for(entries, person.id) == (person.approver, (person.approver,))
    assert all(e.approver is None for e in entries.values() if e.kind is Kind.ROLE)
    # the demo's sender (the My Number scene's too) can ask for approval
    cast = pick_people(home)
    assert cast.sender == "daiki.hasegawa"
    approver = entries[entries[cast.sender].approver or ""]
    assert (approver.id, approver.department) == ("tetsuya.nakamura", "監査室")
    # the CSV ``generate`` writes carries them, so an import of it sets them
    path = tmp_path / "demo.csv"
    write_csv(path, demo_rows())
    assert {r.id: r.approver or None for r in read_csv(path)} == {
        e.id: e.approver for e in entries.values()
    }
