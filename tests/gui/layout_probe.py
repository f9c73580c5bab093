"""Run in a subprocess by ``test_layout_scaling.py`` (the scale must be set before the
QApplication exists): open a person's profile as the app does, show the main window (each
tab) and each dialog, and print as JSON every visible control that is not inside the
available screen once scrolled to, and every window whose frame does not fit.

    python -m tests.gui.layout_probe HOME ORG_CONFIG_JSON LANGUAGE RECIPIENTS
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, QRect, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QProgressBar,
    QScrollArea,
    QTabBar,
    QTabWidget,
    QWidget,
    QWizard,
)

# what a clerk reads or uses; containers (frames, plain widgets) are checked through these
CONTROLS = (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QProgressBar,
    QTabBar,
)
# a widget taller than its viewport is scrolled to its centre: a pixel or two of the
# viewport may show the page around it
SLACK = 4


def settle() -> None:
    """Let layouts and deferred resizes run."""
    for _ in range(3):
        QApplication.processEvents()
        loop = QEventLoop()
        QTimer.singleShot(20, loop.quit)
        loop.exec()


def _name(widget: QWidget) -> str:
    text = getattr(widget, "text", None)
    label = text() if callable(text) else ""
    return (
        f"{type(widget).__name__}({widget.objectName() or widget.accessibleName() or label!s:.30})"
    )


def _scroll_to(widget: QWidget) -> None:
    """``ensureWidgetVisible`` in every scroll area around ``widget``, innermost first."""
    parent = widget.parentWidget()
    while parent is not None:
        inner = parent.widget() if isinstance(parent, QScrollArea) else None
        if isinstance(parent, QScrollArea) and inner is not None:
            parent.ensureWidgetVisible(widget, 0, 0)
            # for a text field Qt brings only the cursor into view: the whole field too
            centre = widget.mapTo(inner, widget.rect().center())
            half = widget.size() / 2
            parent.ensureVisible(centre.x(), centre.y(), half.width(), half.height())
        parent = parent.parentWidget()
    QApplication.processEvents()


def _viewport_of(widget: QWidget) -> QWidget | None:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QScrollArea) and parent.widget() is not None:
            return parent.viewport()
        parent = parent.parentWidget()
    return None


def _global(widget: QWidget, rect: QRect) -> QRect:
    return QRect(widget.mapToGlobal(rect.topLeft()), rect.size())


def _shown(widget: QWidget, window: QWidget) -> QRect:
    """The part of ``widget`` (global coordinates) that its parents, scroll areas'
    viewports and its window do not clip away."""
    shown = _global(widget, widget.rect())
    parent = widget.parentWidget()
    while parent is not None:
        shown &= _global(parent, parent.rect())
        if parent is window:
            break
        parent = parent.parentWidget()
    return shown


def check_window(window: QWidget, where: str) -> list[str]:
    """Problems of ``window`` as shown: its frame, then each visible control."""
    settle()
    screen = window.screen().availableGeometry()
    problems = []
    if not screen.contains(window.frameGeometry()):
        problems.append(f"{where}: window frame {window.frameGeometry()} not inside {screen}")
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, CONTROLS) or not widget.isVisibleTo(window):
            continue
        if widget.width() == 0 or widget.height() == 0:
            continue  # e.g. a table's empty vertical header: nothing to see or use
        if isinstance(widget.parentWidget(), QAbstractSlider):
            continue
        if isinstance(widget, QAbstractSlider):
            continue  # scroll bars belong to their area
        _scroll_to(widget)
        full = _global(widget, widget.rect())
        shown = _shown(widget, window)
        if shown.isEmpty():
            problems.append(f"{where}: {_name(widget)} {full} cannot be scrolled into view")
            continue
        if not screen.contains(shown):
            problems.append(f"{where}: {_name(widget)} {shown} outside the screen {screen}")
            continue
        # bigger than the viewport that scrolls it: as much as fits must show
        viewport = _viewport_of(widget)
        limit = viewport.size() if viewport is not None else window.size()
        if shown.width() < min(full.width(), limit.width() - SLACK) or shown.height() < min(
            full.height(), limit.height() - SLACK
        ):
            problems.append(f"{where}: {_name(widget)} {full} only {shown} visible")
    return problems


def _wait(signal: object, start: Callable[[], object]) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)  # type: ignore[attr-defined]
    QTimer.singleShot(15_000, loop.quit)
    start()
    loop.exec()


def main(argv: list[str]) -> int:
    home, org_json, lang, to = Path(argv[1]), argv[2], argv[3], tuple(argv[4].split(","))
    qapp = QApplication(argv[:1])
    from secure_send.client.keystore import FileKeyStore
    from secure_send.client.profile import OrgConfig, Profile
    from secure_send.client.send import collect
    from secure_send.client.session import Session
    from secure_send.core.envelope.manifest import Classification
    from secure_send.gui import settings as app_settings
    from secure_send.gui.app import App
    from secure_send.gui.dialogs.confirm_send import ConfirmSendDialog
    from secure_send.gui.dialogs.enrol_wizard import EnrolWizard
    from secure_send.gui.dialogs.error_dialog import build_error_box
    from secure_send.gui.dialogs.settings_dialog import SettingsDialog
    from secure_send.gui.model import SendRequest

    profile = Profile(home)
    app_settings.save(profile, app_settings.Settings(language=lang))
    store = FileKeyStore(profile)
    app = App(qapp, profile, store)  # as the app starts: language, settings, screen fit
    session = Session.open(profile, store)
    window = app.show(session, [])
    assert app.model is not None
    _wait(app.model.directory_changed, lambda: None)
    problems: list[str] = []
    tabs: QTabWidget = window.tabs
    for index in range(tabs.count()):
        tabs.setCurrentIndex(index)
        problems += check_window(window, f"main window, tab {index}")
    files = home.parent / "layout-files"
    files.mkdir(exist_ok=True)
    for n in range(12):  # long names, more than the sheet lists without scrolling
        (files / f"令和7年度 予算要求資料 第{n}版 最終稿.xlsx").write_bytes(b"x" * (n + 1) * 1000)
    paths = sorted(files.iterdir())
    request = SendRequest(tuple(collect(paths)), to, dt.timedelta(days=7), "", Classification.C2)
    dialogs: list[tuple[str, QWidget]] = [
        ("confirm sheet", ConfirmSendDialog(app.model, request, window)),
        ("settings", SettingsDialog(app.settings, window, model=app.model)),
        ("error", build_error_box(window, RuntimeError("x"))),
    ]
    from secure_send.gui.dialogs.create_request import CreateRequestDialog

    dialogs.append(("create request", CreateRequestDialog(app.model, window)))
    org = OrgConfig.from_json(json.loads(org_json))
    new = Profile(home.parent / "new-profile")
    dialogs.append(("enrol wizard", EnrolWizard(new, org, FileKeyStore(new), window)))
    problems += _desk(window, app.model)
    for where, dialog in dialogs:
        if isinstance(dialog, QWizard):
            for page in dialog.pageIds():  # every page, without enrolling
                dialog.setStartId(page)
                dialog.restart()
                dialog.show()
                problems += check_window(dialog, f"{where}, page {page}")
                dialog.hide()
            continue
        dialog.show()
        problems += check_window(dialog, where)
        dialog.hide()
    app.model.stop()
    print(json.dumps(problems, ensure_ascii=False))
    sys.stdout.flush()
    return 0


def _desk(window: QWidget, model: object) -> list[str]:
    """The 依頼 tab's tracking view (a page the tab walk does not show) for the request
    the test made, and the submission's confirm sheet for it."""
    from secure_send.gui.dialogs.confirm_submit import ConfirmSubmitDialog

    requests = model.requests  # type: ignore[attr-defined]
    page = window.requests_page  # type: ignore[attr-defined]
    window.tabs.setCurrentWidget(page)  # type: ignore[attr-defined]
    _wait(requests.changed, requests.refresh)
    views = [v for v in requests.items if getattr(v, "desk", False)]
    if not views:
        return ["desk: the test's file request is not listed"]
    _wait(page.desk.status_shown, lambda: page.track(views[0]))
    problems = check_window(window, "main window, 依頼 tab, the desk's tracking view")
    names = [f"令和7年度 扶養控除等申告書 第{n}版.pdf" for n in range(12)]
    sheet = ConfirmSubmitDialog(views[0], requests.entry(views[0].request.mailbox), names, window)
    sheet.show()
    problems += check_window(sheet, "submission confirm sheet")
    sheet.hide()
    return problems


if __name__ == "__main__":
    sys.exit(main(sys.argv))
