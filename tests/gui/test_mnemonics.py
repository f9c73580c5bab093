"""Alt+letter does one thing per window: no mnemonic letter repeats within a scope.

A scope is what one Alt+letter can reach at one time: a window's menu bar titles and
tab titles, plus the buttons and buddied labels of whichever page is showing — each
page of a tab widget, stack or wizard is its own alternative — and each menu's items
on their own. Walked on the real main window (all tabs, menus) and every dialog, in
English and in Japanese (a translation brings its own letters: 送信(&S))."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QLabel,
    QMenu,
    QMenuBar,
    QStackedWidget,
    QTabBar,
    QWidget,
    QWizardPage,
)
from pytestqt.qtbot import QtBot

from secure_send.client.keystore import FileKeyStore
from secure_send.client.profile import Profile
from secure_send.client.send import collect
from secure_send.core.envelope.manifest import Classification
from secure_send.gui.dialogs.confirm_send import ConfirmSendDialog
from secure_send.gui.dialogs.enrol_wizard import EnrolWizard
from secure_send.gui.dialogs.error_dialog import build_error_box
from secure_send.gui.dialogs.settings_dialog import SettingsDialog
from secure_send.gui.main_window import MainWindow
from secure_send.gui.model import AppModel, SendRequest
from secure_send.gui.settings import Settings
from secure_send.gui.tray import Tray
from tests.directory_kit import HANAKO


def _request(folder: Path, to: tuple[str, ...]) -> SendRequest:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.txt").write_text("予算案", encoding="utf-8")
    files = tuple(collect([folder / "a.txt"]))
    return SendRequest(files, to, dt.timedelta(days=7), "", Classification.C2)


Item = tuple[str, str]  # (letter, the text it comes from)


def mnemonic(text: str) -> str | None:
    """The letter ``&`` marks in ``text`` (``&&`` is a literal ampersand), lower case."""
    i = 0
    while (i := text.find("&", i)) >= 0:
        if text[i + 1 : i + 2] == "&":
            i += 2
            continue
        return text[i + 1 : i + 2].lower() or None
    return None


def _items(widget: QWidget) -> list[Item]:
    texts: list[str] = []
    if isinstance(widget, QAbstractButton) or (
        isinstance(widget, QLabel) and widget.buddy() is not None
    ):
        texts.append(widget.text())
    elif isinstance(widget, QTabBar):
        texts += [widget.tabText(i) for i in range(widget.count())]
    elif isinstance(widget, QMenuBar):
        texts += [a.text() for a in widget.actions()]
    return [(letter, t) for t in texts if (letter := mnemonic(t))]


def scopes(widget: QWidget) -> list[list[Item]]:
    """Every combination of what can show at once under ``widget`` (see the docstring)."""
    combos: list[list[Item]] = [_items(widget)]
    children = [c for c in widget.children() if isinstance(c, QWidget) and not c.isWindow()]
    pages = [c for c in children if isinstance(c, QWizardPage)]
    groups: list[list[list[Item]]] = []
    if pages:
        groups.append([s for page in pages for s in scopes(page)])
    for child in children:
        if isinstance(child, QWizardPage):
            continue
        if isinstance(child, QStackedWidget):
            pages_of = [w for i in range(child.count()) if (w := child.widget(i)) is not None]
            alternatives = [s for page in pages_of for s in scopes(page)]
            groups.append(alternatives or [[]])
        else:
            groups.append(scopes(child))
    for group in groups:
        combos = [a + b for a, b in itertools.product(combos, group)]
    return combos


def clashes(widget: QWidget) -> list[list[Item]]:
    """Each scope's items whose letter another item of the same scope uses too."""
    found = []
    windows = [widget, *widget.findChildren(QMenu)]
    for window in windows:
        for scope in scopes(window) if not isinstance(window, QMenu) else [_menu(window)]:
            letters = [letter for letter, _ in scope]
            repeated = sorted({i for i in scope if letters.count(i[0]) > 1})
            if repeated and repeated not in found:
                found.append(repeated)
    return found


def _menu(menu: QMenu) -> list[Item]:
    return [(letter, a.text()) for a in menu.actions() if (letter := mnemonic(a.text()))]


@pytest.fixture(params=["en", "ja"])
def language(request: pytest.FixtureRequest) -> str:
    if request.param == "ja":
        request.getfixturevalue("japanese")
    return str(request.param)


def test_the_mnemonic_walk_finds_a_clash(qtbot: QtBot) -> None:
    """The checker itself: two buttons on one page clash; on two stack pages they don't."""
    from PySide6.QtWidgets import QPushButton, QVBoxLayout

    window = QWidget()
    qtbot.addWidget(window)
    QPushButton("&Save", window)
    QPushButton("&Send", window)
    stack = QStackedWidget(window)
    for text in ("&Open", "&Other"):
        page = QWidget()
        QVBoxLayout(page).addWidget(QPushButton(text, page))
        stack.addWidget(page)
    assert clashes(window) == [[("s", "&Save"), ("s", "&Send")]]
    assert mnemonic("Tom && &Jerry") == "j"
    assert mnemonic("追加(&A)") == "a"


def test_the_main_window_has_unique_mnemonics(qtbot: QtBot, model: AppModel, language: str) -> None:
    window = MainWindow(model)
    qtbot.addWidget(window)
    tray = Tray(model, window, Settings())  # its menu: a scope of its own (a child QMenu)
    assert tray.menu in window.findChildren(QMenu)
    assert len(scopes(window)) > 1  # walked: menus, tabs, every page of every stack
    assert clashes(window) == []


def test_every_dialog_has_unique_mnemonics(
    qtbot: QtBot, model: AppModel, tmp_path: Path, language: str
) -> None:
    profile = Profile(tmp_path / "new-profile")
    dialogs: list[QWidget] = [
        ConfirmSendDialog(model, _request(tmp_path / "out", (HANAKO,))),  # Hanako: herself
        SettingsDialog(Settings(), model=model),
        EnrolWizard(profile, None, FileKeyStore(profile)),
        build_error_box(None, RuntimeError("x")),
    ]
    for dialog in dialogs:
        qtbot.addWidget(dialog)
        assert clashes(dialog) == [], dialog.windowTitle()
    assert QApplication.instance() is not None
