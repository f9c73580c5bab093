"""The My Number screens of issue 19 for scripts/screenshots.py: the confirm sheet of a
spreadsheet of (fictional) My Numbers addressed to a colleague who is not a designated
handler (blocked: no Send button), and the same file to 人事課 年末調整受付 (allowed, at
機密性3 with the shorter expiry). The real widgets, the real check, the demo ministry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

SCREENS = ("confirm-mynumber-blocked", "confirm-mynumber-allowed")


def desk_member(home: Any) -> str:
    """The person of the designated desk who is enrolled for these screens."""
    from secure_send.demo.collection import DESK_ROLE

    return str(home.entries()[DESK_ROLE].members[0])


def mynumber_screens(
    shots: Any, wait_until: Callable[..., bool], work: Path, cast: Any, sender: Any
) -> None:
    from screenshots_clerk import started_window

    from secure_send.demo.collection import DESK_ROLE
    from secure_send.demo.mynumber_demo import dependants_workbook
    from secure_send.gui.dialogs.confirm_send import ConfirmSendDialog
    from secure_send.gui.views.mynumber_gate import checked_request

    workbook = dependants_workbook(work / f"mynumber-{shots.folder.name}")
    window = started_window(sender, 1100, lambda m: m.state.usable, wait_until)
    page = window.send_page
    page.add_paths([workbook])
    for name, to in (
        ("confirm-mynumber-blocked", cast.recipient),
        ("confirm-mynumber-allowed", DESK_ROLE),
    ):
        page.picker.clear()
        if not page.picker.add_entry(to):
            raise RuntimeError(f"the picker refused {to}")
        request = checked_request(window.model, page.request(), page)
        dialog = ConfirmSendDialog(window.model, request, window)
        shots.take(name, dialog)
        dialog.close()
    window.model.stop()
    window.hide()
