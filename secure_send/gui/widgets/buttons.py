"""Small widget helpers the pages share."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QPushButton, QWidget


def button(parent: QWidget, text: str, tip: str, slot: Callable[[], None]) -> QPushButton:
    """A push button named for screen readers after its own text (without ``&``/``…``)."""
    made = QPushButton(text, parent)
    made.setAccessibleName(text.replace("&", "").rstrip("…"))
    made.setToolTip(tip)
    made.clicked.connect(slot)
    return made
