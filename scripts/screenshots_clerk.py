"""The clerk's screens of issue 16 for scripts/screenshots.py: drop details in Inbox and
Sent, the recall question, a look-alike in the picker and on the confirm sheet, a send
retrying and one left unfinished, the unfinished-sends dialog, an error with its
helpdesk details, the directory banner while the server is away, About and Diagnostics.

Every screen is the real widget with real state from the embedded server; only the
moments that need a failing network (a retry under way, a send stopped half-way, the
server gone) are put in place through the same entry points the app's signals call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

SCREENS = (
    "inbox-details",
    "sent-details",
    "recall-question",
    "picker-lookalike",
    "confirm-lookalike",
    "send-retrying",
    "send-unfinished",
    "unfinished-sends",
    "error-details",
    "directory-offline",
    "about",
    "diagnostics",
)


def lookalike_person(session: Any) -> str:
    """A person of the demo ministry whose name has a look-alike (髙橋/高橋, 斎藤/斉藤),
    preferring a variant kanji: enrolled so the picker lets the sender choose them."""
    index = session.directory().search_index()
    entries = session.directory().verified.entries
    found = [e for e in entries if e.kind.value == "person" and index.lookalikes(e.id)]

    def spelt_apart(entry: Any) -> bool:  # 髙橋/高橋 rather than two 橋本 大樹
        return any(o.name_ja != entry.name_ja for o in index.lookalikes(entry.id))

    found.sort(key=lambda e: (not spelt_apart(e), e.id))
    if not found:
        raise SystemExit("the demo ministry has no look-alike names")
    return str(found[0].id)


def started_window(
    session: Any, width: int, ready: Callable[[Any], bool], wait_until: Callable[..., bool]
) -> Any:
    """A person's main window, 760 px high, its model started and ``ready(model)``
    (waited for); the caller stops the model and hides the window."""
    from secure_send.gui.main_window import MainWindow
    from secure_send.gui.model import AppModel

    model = AppModel(session)
    window = MainWindow(model)
    window.resize(width, 760)
    model.start()
    wait_until(lambda: ready(model))
    return window


def clerk_screens(
    shots: Any,
    wait_until: Callable[..., bool],
    sender: Any,
    recipient: Any,
    samples: list[Any],
    lookalike: str,
    role_id: str,
) -> None:
    """The screens above, in both people's windows (``role_id``: a drop to a role mailbox
    with members who have no device)."""
    from PySide6.QtWidgets import QMessageBox, QPushButton

    from secure_send.client import send as sending
    from secure_send.client.errors import ConnectionLost
    from secure_send.client.retry import Retrying
    from secure_send.client.unfinished import unfinished_sends
    from secure_send.core.envelope.manifest import Classification
    from secure_send.core.error_actions import Action
    from secure_send.core.error_codes import ErrorCode
    from secure_send.gui import errors
    from secure_send.gui.dialogs.confirm_send import ConfirmSendDialog
    from secure_send.gui.dialogs.error_dialog import COPY_BUTTON, build_error_box
    from secure_send.gui.dialogs.unfinished_sends import UnfinishedSendsDialog

    # ---- the recipient: what arrived, before saving
    rwindow = started_window(recipient, 1200, lambda m: len(m.inbox) >= 3, wait_until)
    rmodel = rwindow.model
    rwindow.tabs.setCurrentWidget(rwindow.inbox_page)
    with_message = [i for i in rmodel.inbox if i.verified and not i.saved]
    rwindow.inbox_page.select(with_message[-1].drop_id)
    wait_until(lambda: rmodel.details.cached(with_message[-1].drop_id) is not None, 10)
    shots.take("inbox-details", rwindow)
    rmodel.stop()
    rwindow.hide()

    # ---- the sender: Sent with a role mailbox, the recall question
    window = started_window(sender, 1200, lambda m: m.state.usable and len(m.sent) >= 4, wait_until)
    model = window.model
    window.tabs.setCurrentWidget(window.sent_page)
    role_drop = next(i for i in model.sent if i.drop_id == role_id)
    window.sent_page.select(role_drop.drop_id)
    wait_until(lambda: model.details.cached(role_drop.drop_id) is not None, 10)
    if hasattr(window.sent_page, "tree"):
        window.sent_page.tree.expandAll()
    shots.take("sent-details", window)
    box = window.sent_page.recall_box(window.sent_page.recall_question(role_drop))
    shots.take("recall-question", box)
    box.hide()

    # ---- the picker and the confirm sheet with a look-alike
    window.tabs.setCurrentWidget(window.send_page)
    page = window.send_page
    page.add_paths(samples)
    name = model.entry(lookalike).name_ja  # type: ignore[union-attr]
    page.picker.search.setText(name.split()[0])
    page.picker.search_now()
    shots.take("picker-lookalike", window)
    page.picker.add_entry(lookalike)
    page.message.setPlainText("源泉徴収票をお送りします。")
    dialog = ConfirmSendDialog(model, page.request(), window)
    shots.take("confirm-lookalike", dialog)
    dialog.hide()

    # ---- a send retrying after a lost connection, then stopped: only 再開 / 破棄
    request = page.request()
    page.make_bars(request)
    page.stack.setCurrentIndex(1)
    for i, bar in enumerate(page.bars.values()):
        bar.setValue(100 if i == 0 else 24)
    page.progress_view._on_task_noted(Retrying(3, 8.0, ErrorCode.CONNECTION_LOST))
    shots.take("send-retrying", window)
    page.progress_view._clear_connection()
    pending = sending.prepare(
        sender,
        sender.directory(),
        request.files,
        list(request.to),
        expires=dt.timedelta(days=7),
        message=request.message,
        classification=Classification.C2,
    )
    page.unfinished = pending
    server = errors.host_of(sender.org.server_url)
    err = ConnectionLost()
    sentence, page._details = errors.describe(
        err, errors.Context(Action.SEND, pending.drop_id, server)
    )
    page._show_unfinished(sentence, page._details)
    shots.take("send-unfinished", window)

    # ---- at the next start: the unfinished send is offered (names decrypted in memory)
    found = unfinished_sends(sender.profile, sender.keys)
    unfinished = UnfinishedSendsDialog(model, found, [], window)
    shots.take("unfinished-sends", unfinished)
    unfinished.hide()
    sending.forget(sender.profile, pending)  # the next language starts without it
    page.unfinished = None
    page.reset()

    # ---- an error with the helpdesk block shown
    error_box = build_error_box(window, err, errors.Context(Action.SAVE, role_drop.drop_id, server))
    for button in error_box.findChildren(QPushButton):
        role = error_box.buttonRole(button)
        if role == QMessageBox.ButtonRole.ActionRole and button.objectName() != COPY_BUTTON:
            button.click()  # "Show Details…"
    shots.take("error-details", error_box)
    error_box.hide()

    # ---- the server unreachable: one banner, the time of the last verification
    model._on_directory_failed(ConnectionLost())
    shots.take("directory-offline", window)
    model.refresh_directory()
    wait_until(lambda: model.state.usable, 10)

    about = window.open_about()
    shots.take("about", about)
    about.hide()
    diagnostics = window.open_diagnostics()
    shots.take("diagnostics", diagnostics)
    diagnostics.hide()
    model.stop()
    window.hide()
