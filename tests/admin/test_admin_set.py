"""``secure-send-admin set ID --mynumber-handler yes|no`` and ``show --mynumber-handlers``
(個人番号取扱, issue 19), driven as a subprocess against the demo ministry."""

from __future__ import annotations

from pathlib import Path

import pytest

from secure_send.org.home import OrgHome
from tests.admin.test_admin_cli import _snapshot, fails, ok, ok_json, run
from tests.directory_kit import ORG

HANDLER_LINE = "  個人番号取扱 (may receive specific personal information): "


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The demo ministry, imported from the CSV ``generate --demo`` writes."""
    path = tmp_path / "org"
    ok(path, "init", "--org", ORG)
    ok(path, "generate", "--demo", "-o", tmp_path / "demo.csv")
    ok(path, "import", "--csv", tmp_path / "demo.csv")
    return path


def test_set_designates_publishes_and_show_says_so(home: Path) -> None:
    epoch = ok_json(home, "verify")["epoch"]
    out = ok(home, "set", "hanako.sato", "--mynumber-handler", "yes")
    assert out == (
        "hanako.sato: now designated 個人番号取扱 (may receive specific personal information);"
        " directory republished\n"
    )
    report = ok_json(home, "verify")  # the log replays to the signed snapshot
    assert report["epoch"] == epoch + 1
    assert OrgHome(home).published_header() is not None
    assert ok_json(home, "show", "hanako.sato")["mynumber_handler"] is True
    assert f"{HANDLER_LINE}yes\n" in ok(home, "show", "hanako.sato")
    event = OrgHome(home).events()[-1]
    assert (event.action.value, event.operator) == ("update", "it-admin")


def test_set_json_and_no_and_unchanged(home: Path) -> None:
    assert ok_json(home, "set", "nenmatsu", "--mynumber-handler", "no") == {
        "id": "nenmatsu", "changed": True, "mynumber_handler": False,
    }  # fmt: skip
    assert "mynumber_handler" not in ok_json(home, "show", "nenmatsu")
    before = _snapshot(home)
    assert ok_json(home, "set", "nenmatsu", "--mynumber-handler", "no") == {
        "id": "nenmatsu", "changed": False, "mynumber_handler": False,
    }  # fmt: skip
    assert ok(home, "set", "nenmatsu", "--mynumber-handler", "no") == (
        "nenmatsu: unchanged, not designated 個人番号取扱 (may receive specific personal"
        " information)\n"
    )
    assert _snapshot(home) == before


def test_show_tells_a_member_the_role_covers_them(home: Path) -> None:
    assert f"{HANDLER_LINE}yes\n" in ok(home, "show", "nenmatsu")
    assert f"{HANDLER_LINE}no (covered as a member of nenmatsu)\n" in ok(
        home, "show", "taro.suzuki"
    )
    assert f"{HANDLER_LINE}no\n" in ok(home, "show", "hanako.sato")


def test_show_mynumber_handlers_lists_the_designated_for_audit(home: Path) -> None:
    ok(home, "set", "hanako.sato", "--mynumber-handler", "yes")
    ok(home, "set", "daiki.hasegawa", "--mynumber-handler", "yes")
    ok(home, "depart", "daiki.hasegawa")  # designated, then departed: still listed, marked
    listed = ok_json(home, "show", "--mynumber-handlers")
    assert [(r["id"], r["kind"], r["status"]) for r in listed] == [
        ("daiki.hasegawa", "person", "departed"),
        ("hanako.sato", "person", "active"),
        ("nenmatsu", "role", "active"),
    ]
    assert listed[2]["members"] == ["taro.suzuki", "shota.ishikawa", "ichiro.yamashita"]
    assert (listed[2]["name_ja"], listed[2]["department"]) == ("人事課 年末調整受付", "人事課")
    text = ok(home, "show", "--mynumber-handlers").splitlines()
    assert text[0] == "個人番号取扱 (may receive specific personal information): 3 entries"
    assert text[1].startswith("  daiki.hasegawa ")
    assert text[1].endswith("(監査室; person, departed)")
    assert text[3].startswith("  nenmatsu ")
    assert text[4] == "    member: taro.suzuki (鈴木 太郎, 人事課)"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("set", "nobody", "--mynumber-handler", "yes"), "no entry 'nobody' in the directory"),
        (("set", "hanako.sato"), "nothing to set: give --mynumber-handler yes|no"),
        (("set", "Hanako", "--mynumber-handler", "yes"), "invalid id"),
        (
            ("show", "hanako.sato", "--mynumber-handlers"),
            "either an id, --mynumber-handlers, --approvers or --p256",
        ),
    ],
)
def test_errors_are_one_line_exit_1_and_change_nothing(
    home: Path, args: tuple[str, ...], needle: str
) -> None:
    before = _snapshot(home)
    assert needle in fails(home, *args)
    assert _snapshot(home) == before


def test_a_departed_person_is_not_designated(home: Path) -> None:
    ok(home, "depart", "koji.miura")
    before = _snapshot(home)
    assert "koji.miura has departed: cannot be designated" in fails(
        home, "set", "koji.miura", "--mynumber-handler", "yes"
    )
    assert _snapshot(home) == before


def test_only_yes_or_no_is_accepted(home: Path) -> None:
    proc = run(home, "set", "hanako.sato", "--mynumber-handler", "true")
    assert proc.returncode == 2  # argparse's usage error, as for any bad choice
    assert b"invalid choice: 'true'" in proc.stderr
