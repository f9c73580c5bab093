"""Text from senders, enrolling devices and the server is shown as text, never as
markup: a reason, a name or a message holding ``<a href=…>`` or ``<img src=…>`` is
displayed literally (Qt would otherwise guess "rich text" and render a link, fetch
an image, or hide the rest of the sentence)."""

from __future__ import annotations

import ast
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from secure_send.client.listing import InboxItem
from secure_send.gui.model import AppModel
from secure_send.gui.views.inbox_page import InboxPage
from secure_send.gui.widgets.buttons import plain_tip

GUI = Path(__file__).resolve().parents[2] / "secure_send" / "gui"
MARKUP = "<a href='http://attacker.example/'>click</a><img src='http://attacker.example/t.png'>"


def test_a_reason_with_markup_is_shown_literally(
    qtbot: QtBot, model: AppModel, tmp_path: Path
) -> None:
    page = InboxPage(model, downloads=lambda: tmp_path)
    qtbot.addWidget(page)
    bad = InboxItem("d1", 1, False, f"malformed manifest ({MARKUP})", problem_code=None)
    page._on_model_inbox_changed([bad])
    assert page.select("d1")
    label = page.reason_label
    assert label.textFormat() == Qt.TextFormat.PlainText
    # the reason is the code's translated sentence: the technical text (with whatever
    # markup a server put in it) is not shown at all, neither rendered nor literally
    assert "href" not in label.text()
    cell = page.table.item(0, 0)
    assert cell is not None
    assert "href" not in cell.toolTip()


def _raw_labels(source: str) -> list[int]:
    """The lines of ``source`` that make a ``QLabel`` directly."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "QLabel"
    ]


def test_every_label_of_the_app_is_plain_text() -> None:
    """No ``QLabel(`` is made anywhere but in ``plain_label`` (which sets plain text)."""
    found = [
        f"{path.relative_to(GUI)}:{line}"
        for path in GUI.rglob("*.py")
        if path.name != "buttons.py"
        for line in _raw_labels(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_plain_label_and_tip_helpers(qtbot: QtBot) -> None:
    from secure_send.gui.widgets.buttons import plain_label

    label = plain_label(MARKUP)
    qtbot.addWidget(label)
    assert isinstance(label, QLabel)
    assert label.textFormat() == Qt.TextFormat.PlainText
    assert (
        plain_tip("a <b>b</b>\nc")
        == "<p style='white-space:pre-wrap'>a &lt;b&gt;b&lt;/b&gt;<br>c</p>"
    )


def test_a_planted_label_is_found() -> None:
    """The scan above finds a raw QLabel (guard: it is not vacuous)."""
    source = "from PySide6.QtWidgets import QLabel\nx = QLabel('<b>hi</b>')\n"
    assert _raw_labels(source) == [2]
    assert _raw_labels((GUI / "widgets" / "buttons.py").read_text(encoding="utf-8"))
