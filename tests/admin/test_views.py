"""The admin CLI's output of text other people chose (issue 14, item 11)."""

from __future__ import annotations

import json

import pytest

from secure_send.admin.views import Output
from tests.directory_kit import TARO, request_for

# a device name from an anonymous request stored before names were checked at input,
# or from a tool that does not check them: the screen must not obey it
NASTY = "pc\x1b[2K\r\x1b[1AOK: no pending requests\u202e（課長承認済み）\u200b\x85"


@pytest.mark.parametrize("json_mode", [False, True])
def test_pending_device_names_are_shown_not_obeyed(
    json_mode: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    _, request = request_for(TARO, "desktop", None, NASTY)
    Output(json_mode).pending([request])
    out = capsys.readouterr().out
    for bad in ("\x1b", "\r", "\u202e", "\u200b", "\x85"):
        assert bad not in (json.loads(out)[0]["name"] if json_mode else out)
    if not json_mode:
        assert out.count("\n") == 1  # one request, one line
        assert "「pc\ufffd[2K\ufffd\ufffd[1AOK: no pending requests\ufffd（課長承認済み）" in out
