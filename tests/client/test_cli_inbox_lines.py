"""issue 14 follow-up: ``secure-send inbox`` prints one line per drop, whatever the
server puts in a drop id.

The human output escaped control characters but kept newlines (the lines are joined
with them), so a drop id the server made up — it is not signed until its manifest
verifies, and an unverifiable one is still listed, as DANGER — could hold a newline
and print a second line that looks like a verified drop from anyone.
"""

from __future__ import annotations

from typing import Any

import pytest

from secure_send.client.api import ServerApi
from tests.client.conftest import Enrol
from tests.directory_kit import HANAKO, TARO

FAKE = "0123456789abcdef  山田 太郎 (人事課)  2030-01-01T00:00:00Z"


def test_a_drop_id_cannot_print_a_fake_verified_line(
    enrol: Enrol, monkeypatch: pytest.MonkeyPatch
) -> None:
    enrol(HANAKO, "laptop")
    taro = enrol(TARO, "desktop")
    real_inbox = ServerApi.inbox

    def hostile_inbox(self: ServerApi, wait: float, after: int) -> dict[str, Any]:
        answer = real_inbox(self, wait, after)
        forged = {"drop_id": "x\n" + FAKE, "seq": 1, "manifest": {}, "receipts": []}
        return {**answer, "drops": [*answer["drops"], forged]}

    monkeypatch.setattr(ServerApi, "inbox", hostile_inbox)
    code, out, _ = taro.run_human("inbox")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 1, lines
    assert "DANGER" in lines[0]
    assert not any(line.startswith("0123456789abcdef") for line in lines)
