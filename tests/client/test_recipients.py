"""The send path refuses who cannot receive, whatever the app's picker shows: a
departed or unenrolled person, and a role mailbox none of whose other members has a
device (even beside a recipient who can receive: never a silent partial send)."""

from __future__ import annotations

from pathlib import Path

from secure_send.core.directory.log import Action
from secure_send.org import ops
from secure_send.org.importing import ImportRow
from tests.client.conftest import Enrol, blob_files
from tests.directory_kit import DOMAIN, HANAKO, JIRO, OPERATOR, ROLE, TARO
from tests.server.conftest import Server

NOBODY = "nobody-desk"  # a role whose members (Jiro, Tanaka) have no device


def _file(tmp_path: Path) -> str:
    data = tmp_path / "a.txt"
    data.write_text("予算案\n", encoding="utf-8")
    return str(data)


def test_a_role_without_enrolled_members_is_refused(
    enrol: Enrol, org_server: Server, tmp_path: Path
) -> None:
    row = ImportRow(
        30, NOBODY, "role", "未登録 窓口", "ミトウロク マドグチ", "Nobody desk",
        f"{NOBODY}@{DOMAIN}", "企画課", "", (JIRO, "ichiro.tanaka"),
    )  # fmt: skip
    ops.import_rows(org_server.home, [row], OPERATOR)
    org_server.push()
    hanako = enrol(HANAKO, "laptop")
    enrol(TARO, "desktop")
    data = _file(tmp_path)
    err = hanako.fails("send", data, "--to", TARO, "--to", NOBODY)
    assert NOBODY in err
    assert "enrolled device" in err
    # Kaikei: Hanako herself and Taro; Taro can receive, so the role can too ...
    assert hanako.ok("send", data, "--to", ROLE)["drop_id"]
    ops.change(org_server.home, OPERATOR, Action.DEPART, {"user": TARO})
    org_server.push()
    # ... and once Taro left, only the sender is left in it: refused, not "sent"
    before = len(blob_files(org_server))
    err = hanako.fails("send", data, "--to", ROLE)
    assert ROLE in err
    assert len(blob_files(org_server)) == before
