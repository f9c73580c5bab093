"""``secure-send-admin set ID --approver ID|none``, the approver line of ``show ID`` and
``show --approvers`` (上長承認, issue 20), driven as a subprocess against the demo
ministry; devices are enrolled with the library (the CLI's enrolment has its own tests).

In the demo ministry every person but a division's head has that head as approver:
Hanako Sato (会計課) has Daisuke Kaneko, its 課長; nobody has a device yet.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from secure_send.admin.approvers import MARK
from secure_send.org.home import OrgHome
from tests.admin.test_admin_cli import _snapshot, fails, ok, ok_json
from tests.directory_kit import ORG, enrol_device

HANAKO, TARO, HEAD = "hanako.sato", "taro.suzuki", "daisuke.kaneko"
LINE = "  approver (上長): "
REFUSED = "sends needing approval would be refused"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The demo ministry, imported from the CSV ``generate --demo`` writes."""
    path = tmp_path / "org"
    ok(path, "init", "--org", ORG)
    ok(path, "generate", "--demo", "-o", tmp_path / "demo.csv")
    ok(path, "import", "--csv", tmp_path / "demo.csv")
    return path


def _line(home: Path, entry_id: str) -> str:
    [line] = [x for x in ok(home, "show", entry_id).splitlines() if x.startswith(LINE)]
    return line


def _events(home: Path) -> int:
    return len(OrgHome(home).events())


def _row(home: Path, person: str) -> dict[str, object]:
    [row] = [r for r in ok_json(home, "show", "--approvers") if r["id"] == person]
    return dict(row)


def test_set_publishes_one_event_and_show_says_who_with_a_mark(home: Path) -> None:
    epoch, events = ok_json(home, "verify")["epoch"], _events(home)
    assert _line(home, HANAKO) == (
        f"{LINE}{HEAD} (金子 大輔, 会計課)  {MARK} has no enrolled device: {REFUSED}"
    )
    out = ok(home, "set", HANAKO, "--approver", TARO)
    assert out == (
        f"{HANAKO}: now approver (上長): {TARO} (鈴木 太郎, 人事課)  {MARK} has no enrolled"
        f" device: {REFUSED}; directory republished\n"
    )
    assert ok_json(home, "verify")["epoch"] == epoch + 1
    assert _events(home) == events + 1
    assert ok_json(home, "show", HANAKO)["approver"] == TARO
    enrol_device(OrgHome(home), TARO, "desktop")
    assert _line(home, HANAKO) == f"{LINE}{TARO} (鈴木 太郎, 人事課)"  # can approve now
    assert LINE not in ok(home, "show", "nenmatsu")  # a role mailbox has none


def test_set_json_none_clears_and_both_options_make_one_event(home: Path) -> None:
    assert ok_json(home, "set", HANAKO, "--approver", "none") == {
        "id": HANAKO, "changed": True, "approver": None,
    }  # fmt: skip
    assert _line(home, HANAKO) == f"{LINE}none"
    assert "approver" not in ok_json(home, "show", HANAKO)
    assert ok_json(home, "set", HANAKO, "--approver", "none")["changed"] is False
    events = _events(home)
    both = ok_json(home, "set", HANAKO, "--approver", "kyuyo", "--mynumber-handler", "yes")
    assert both == {"id": HANAKO, "changed": True, "mynumber_handler": True, "approver": "kyuyo"}
    assert _events(home) == events + 1
    shown = ok_json(home, "show", HANAKO)
    assert (shown["approver"], shown["mynumber_handler"]) == ("kyuyo", True)


def test_show_approvers_lists_every_active_person_and_marks_who_cannot_approve(
    home: Path,
) -> None:
    listed = ok_json(home, "show", "--approvers")
    entries = OrgHome(home).entries()
    people = sorted(e.id for e in entries.values() if e.kind.value == "person")
    assert [r["id"] for r in listed] == people
    assert {r["id"]: r["approver"] for r in listed} == {p: entries[p].approver for p in people}
    assert _row(home, HANAKO) == {
        "id": HANAKO, "name_ja": "佐藤 花子", "department": "会計課", "approver": HEAD,
        "approver_name_ja": "金子 大輔", "problem": "has no enrolled device",
    }  # fmt: skip
    assert _row(home, HEAD)["approver"] is None  # the head: none, and no mark
    assert _row(home, HEAD)["problem"] is None
    enrol_device(OrgHome(home), HEAD, "pc")
    assert _row(home, HANAKO)["problem"] is None
    # a role mailbox approves through an active member with a device other than the sender
    ok(home, "set", HANAKO, "--approver", "kyuyo")  # members: Hanako and two others
    assert _row(home, HANAKO)["problem"] == "no active member has an enrolled device"
    enrol_device(OrgHome(home), "kenichi.murakami", "pc")
    assert _row(home, HANAKO)["problem"] is None
    ok(home, "set", HANAKO, "--approver", HEAD)
    ok(home, "depart", HEAD)
    assert _row(home, HANAKO)["problem"] == "has departed"
    assert HEAD not in [r["id"] for r in ok_json(home, "show", "--approvers")]
    text = ok(home, "show", "--approvers").splitlines()
    assert text[0].startswith(f"Approvers (上長承認): {len(people) - 1} active people, ")
    [line] = [x for x in text if x.startswith(f"  {HANAKO} ")]
    assert line.endswith(f"→ {HEAD} (金子 大輔, 会計課)  {MARK} has departed")
    [line] = [x for x in text if x.startswith("  makoto.fukuda ")]  # 人事課's head
    assert line.endswith("→ none")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("set", HANAKO, "--approver", "nobody"), "no entry 'nobody' in the directory"),
        (("set", HANAKO, "--approver", HANAKO), f"{HANAKO} cannot be their own approver"),
        (("set", "nenmatsu", "--approver", HANAKO), "nenmatsu is a role mailbox"),
        (("set", HANAKO, "--approver", "koji.miura"), "koji.miura has departed"),
        (("set", HANAKO, "--approver", ""), "--approver needs an id, or none to clear it"),
        (("set", HANAKO, "--approver", "Taro"), "invalid approver id"),
        (
            ("set", HANAKO, "--mynumber-handler", "yes", "--approver", "nobody"),
            "no entry 'nobody'",
        ),
        (
            ("show", HANAKO, "--approvers"),
            "either an id, --mynumber-handlers, --approvers or --p256",
        ),
        (("show", "--mynumber-handlers", "--approvers"), "either an id, --mynumber-handlers"),
    ],
)
def test_errors_are_one_line_exit_1_and_change_nothing(
    home: Path, args: tuple[str, ...], needle: str
) -> None:
    ok(home, "depart", "koji.miura")
    before = _snapshot(home)
    assert needle in fails(home, *args)
    assert _snapshot(home) == before
