"""Tabs whose pages scroll: on a small screen with large scaling (1280x720 at 150 %
leaves 853x480) a page taller or wider than the window scrolls instead of pushing the
window's minimum size, and with it the Send button and the status bar, off-screen.

Each page sits in a frameless ``QScrollArea`` (``widgetResizable``: on a large screen the
page fills the tab as before). ``indexOf``, ``widget``, ``currentWidget`` and
``setCurrentWidget`` speak of the pages, not of the scroll areas around them, so code
that switches to ``window.send_page`` keeps working.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QScrollArea, QTabWidget, QWidget


class PageTabs(QTabWidget):
    """A ``QTabWidget`` that wraps every page in a scroll area."""

    def addTab(self, page: QWidget, label: str) -> int:  # type: ignore[override]  # Qt name
        area = QScrollArea(self)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setWidgetResizable(True)
        area.setWidget(page)
        area.setAccessibleName(page.accessibleName())
        return super().addTab(area, label)

    def page(self, index: int) -> QWidget | None:
        """The page at ``index`` (inside its scroll area)."""
        area = super().widget(index)
        return area.widget() if isinstance(area, QScrollArea) else area

    def widget(self, index: int) -> QWidget | None:  # the page, as callers expect
        return self.page(index)

    def currentWidget(self) -> QWidget | None:  # type: ignore[override]
        return self.page(self.currentIndex())

    def indexOf(self, page: QWidget) -> int:
        for index in range(self.count()):
            if self.page(index) is page or super().widget(index) is page:
                return index
        return -1

    def setCurrentWidget(self, page: QWidget) -> None:
        index = self.indexOf(page)
        if index >= 0:
            self.setCurrentIndex(index)
