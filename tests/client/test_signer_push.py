"""IT's other changes reach clients the same way: signed on IT's side, pushed by the
signer (``secure-send-admin sync``, a real process), verified by every client."""

from __future__ import annotations

import subprocess
import sys

from secure_send.core.directory.log import Action
from secure_send.org import ops
from tests.client.conftest import Enrol
from tests.directory_kit import HANAKO, OPERATOR, TARO, person_row
from tests.server.conftest import Server


def _sync(server: Server) -> str:
    command = [sys.executable, "-m", "secure_send.admin.cli", "--home", str(server.home.path)]
    proc = subprocess.run(
        [*command, "sync", "--server", server.url], capture_output=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout.decode()


def test_import_depart_members_and_key_rotation_are_pushed(
    enrol: Enrol, org_server: Server
) -> None:
    hanako = enrol(HANAKO, "laptop")
    assert hanako.ok("directory", "search", "ogawa")["results"] == []
    new = person_row(30, "kazuki.ogawa", "小川 和樹", "オガワ カズキ", "Kazuki Ogawa", "人事課")
    ops.import_rows(org_server.home, [new], OPERATOR)
    ops.change(org_server.home, OPERATOR, Action.DEPART, {"user": TARO})
    ops.rotate_signing_key(org_server.home, OPERATOR)  # a new root document version
    assert "server at epoch" in _sync(org_server)
    found = hanako.ok("directory", "search", "ogawa")["results"]
    assert [r["id"] for r in found] == ["kazuki.ogawa"]
    assert "has left" in hanako.fails("send", __file__, "--to", TARO)
