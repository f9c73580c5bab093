"""Small widget helpers the pages share."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QWidget


def button(parent: QWidget, text: str, tip: str, slot: Callable[[], None]) -> QPushButton:
    """A push button named for screen readers after its own text (without ``&``/``…``)."""
    made = QPushButton(text, parent)
    made.setAccessibleName(text.replace("&", "").rstrip("…"))
    made.setToolTip(tip)
    made.clicked.connect(slot)
    return made


def plain_label(*args: Any) -> QLabel:
    """A ``QLabel`` (same arguments) that shows its text as plain text, always.

    Qt guesses "rich text" from a label's content: a sender's message, a file or device
    name, or a reason the server wrote, containing ``<a href=…>`` or ``<img>``, would be
    rendered as markup (a link, a remote image, text that hides the rest). Every label
    in the app is made here (tests/gui/test_plain_text.py checks)."""
    made = QLabel(*args)
    made.setTextFormat(Qt.TextFormat.PlainText)
    return made


def plain_tip(text: str) -> str:
    """A tooltip that shows ``text`` literally (tooltips, too, guess rich text): escaped
    and wrapped as the rich text Qt would otherwise make of it."""
    escaped = html.escape(text).replace("\n", "<br>")
    return f"<p style='white-space:pre-wrap'>{escaped}</p>"
