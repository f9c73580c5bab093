"""Text from others is printed with its control and bidi characters escaped
(``terminal_safe``; ``shown``/``has_unsafe`` are tested with the device names that use them)."""

from __future__ import annotations

import pytest

from secure_send.core.display import terminal_safe


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[2J\x1b[HOK: no pending requests", "\\x1b[2J\\x1b[HOK: no pending requests"),
        ("invoice\u202efdp.exe", "invoice\\u202efdp.exe"),
        ("report\u200b.pdf\u2066.exe", "report\\u200b.pdf\\u2066.exe"),
        ("bell\x07 and C1 \x9b31m", "bell\\x07 and C1 \\x9b31m"),
        ("line\u2028sep", "line\\u2028sep"),
        ("山田 太郎\t人事課\nよろしく", "山田 太郎\t人事課\nよろしく"),  # kept as is
        ("\x1b]8;;http://evil/\x07link", "\\x1b]8;;http://evil/\\x07link"),
    ],
)
def test_escapes_are_shown_not_obeyed(text: str, shown: str) -> None:
    assert terminal_safe(text) == shown


def test_one_line_when_asked() -> None:
    assert terminal_safe("a\nsecure-send: OK", keep_newlines=False) == "a\\x0asecure-send: OK"
