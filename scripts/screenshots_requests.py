"""The file request screens of issue 17 for scripts/screenshots.py: a member of staff's
依頼 list (one request answered, one reminded), the one-action submission's confirm
sheet, the HR desk's tracking view (submitted, re-submitted, late, not yet) and the
dialog that makes a request.

Every screen is the real widget over real state on the embedded server: the requests
are made, answered and reminded through the client library, as the CLI does; a late
submission is made by a submitter whose clock runs a day ahead (its signed time is
what makes it late).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCREENS = ("requests", "submit-confirm", "request-desk", "request-create")


def _paper(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _submit(session: Any, request_id: str, paper: Path, ahead: dt.timedelta | None = None) -> None:
    """Submit ``paper`` as the client does; with ``ahead``, from a clock that far ahead."""
    from secure_send.client import file_requests
    from secure_send.client import send as sending

    if ahead is None:
        sending.finish(
            session, file_requests.submit(session, session.directory(), request_id, [paper])
        )
        return
    real = sending.utc_now
    sending.utc_now = lambda: real() + ahead  # type: ignore[assignment]
    try:  # a short expiry: the server allows 30 days from its own clock
        directory = session.directory()
        pending = sending.prepare(
            session,
            directory,
            sending.collect([paper]),
            [file_requests.fetch(session, directory, request_id, text=False).request.mailbox],
            expires=dt.timedelta(days=5),
            request=request_id,
        )
    finally:
        sending.utc_now = real  # type: ignore[assignment]
    sending.finish(session, pending)


def request_screens(  # type: ignore[no-untyped-def]
    shots, wait_until: Callable[..., bool], work: Path, cast, desk, staff, other
) -> None:
    """``desk`` (a member of ``cast.role``) asks; ``staff`` and ``other`` answer."""
    from screenshots_clerk import started_window

    from secure_send.client import file_requests
    from secure_send.core.envelope.request import JST
    from secure_send.gui.dialogs.confirm_submit import ConfirmSubmitDialog
    from secure_send.gui.dialogs.create_request import CreateRequestDialog

    directory = desk.directory()
    entries = directory.by_id()
    division = entries[staff.me.user].department
    today = dt.datetime.now(JST).date()
    nenmatsu = file_requests.create(
        desk,
        directory,
        into=cast.role,
        to=[other.me.user],
        departments=[division],
        title="年末調整書類の提出（令和8年分）",
        due=today.isoformat(),
        message="扶養控除等申告書と保険料控除申告書を提出してください。",
    )
    receipts = file_requests.create(
        desk,
        directory,
        into=cast.role,
        to=[staff.me.user],
        title="出張旅費の領収書",
        due=(today + dt.timedelta(days=7)).isoformat(),
        message="11月分の出張の領収書を提出してください。",
    )
    folder = work / f"requests-{shots.folder.name}"
    _submit(staff, nenmatsu, _paper(folder / "a", "扶養控除等申告書.csv", "氏名,扶養人数\n,1\n"))
    _submit(
        staff, nenmatsu, _paper(folder / "b", "扶養控除等申告書（訂正）.csv", "氏名,扶養人数\n,2\n")
    )
    _submit(other, nenmatsu, _paper(folder / "c", "申告書.csv", "氏名\n"), dt.timedelta(days=1))
    file_requests.remind(desk, receipts)

    # ---- the member of staff: the 依頼 list, then the confirm sheet of a submission
    window = started_window(staff, 1100, lambda m: len(m.requests.items) >= 2, wait_until)
    window.tabs.setCurrentWidget(window.requests_page)
    wait_until(lambda: window.requests_page.table.rowCount() >= 2, 10)
    shots.take("requests", window)
    model = window.model
    view = model.requests.view(receipts)
    dialog = ConfirmSubmitDialog(view, model.requests.entry(cast.role), ["領収書_11月.pdf"], window)
    shots.take("submit-confirm", dialog)
    dialog.close()
    model.stop()
    window.hide()

    # ---- the HR desk: tracking, and making a request
    dwindow = started_window(desk, 1100, lambda m: len(m.requests.items) >= 2, wait_until)
    dwindow.tabs.setCurrentWidget(dwindow.requests_page)
    page = dwindow.requests_page
    dmodel = dwindow.model
    shown: list[bool] = []
    page.desk.status_shown.connect(lambda *_: shown.append(True))
    page.track(dmodel.requests.view(nenmatsu))
    wait_until(lambda: bool(shown), 20)
    shots.take("request-desk", dwindow)
    create = CreateRequestDialog(dmodel, dwindow)
    create.mailbox.setCurrentIndex(max(0, create.mailbox.count() - 1))
    create.title.setText("マイナンバーカードの写しの提出")
    for row in range(create.departments.count()):
        if create.departments.item(row).text() == division:
            from PySide6.QtCore import Qt

            create.departments.item(row).setCheckState(Qt.CheckState.Checked)
    create.message.setPlainText("扶養親族の分も含めて提出してください。")
    shots.take("request-create", create)
    create.close()
    dmodel.stop()
    dwindow.hide()
