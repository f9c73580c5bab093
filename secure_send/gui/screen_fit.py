"""Windows never ask for more than the screen they are on.

At 1280x720 with 150 % scaling the available area is 853x480 device-independent pixels
(at 1920x1080 with 200 %, 960x540), less the task bar. :func:`fit_to_screen` sizes a
window to what it prefers, cut down to the available geometry less the window frame,
and moves it inside; :class:`ScreenFit`, installed on the application, does this for
every window as it is shown (the main window, our dialogs, Qt's message boxes and file
dialogs), since a dialog centred over a window near the screen edge hangs off it too.
A window whose contents cannot shrink that far must scroll (the main window's pages do:
``widgets/page_tabs.py``).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMargins, QObject, QRect, QSize, Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget

# a window frame not yet known (before the window manager decorated the window): what
# a title bar and borders usually take, so that the frame still fits once it appears
GUESSED_FRAME = QMargins(4, 32, 4, 4)


def _frame(window: QWidget) -> QMargins:
    inner, outer = window.geometry(), window.frameGeometry()
    margins = QMargins(
        inner.left() - outer.left(),
        inner.top() - outer.top(),
        outer.right() - inner.right(),
        outer.bottom() - inner.bottom(),
    )
    return margins if not margins.isNull() or not window.isVisible() else GUESSED_FRAME


def available_area(window: QWidget) -> QRect:
    """The available geometry (no task bar) of the window's screen."""
    screen = window.screen() or QApplication.primaryScreen()
    return screen.availableGeometry()


def fit_to_screen(window: QWidget, preferred: QSize | None = None) -> None:
    """Resize ``window`` to ``preferred`` (default: its size) within the available
    geometry, frame included, and move it inside that geometry."""
    area = available_area(window)
    frame = _frame(window) if window.isVisible() else GUESSED_FRAME
    room = area.marginsRemoved(frame).size()
    wanted = preferred if preferred is not None else window.size()
    size = wanted.boundedTo(room).expandedTo(window.minimumSize())
    if size != window.size():
        window.resize(size)
    outer = QRect(window.pos(), size.grownBy(frame))  # pos() is the frame's corner
    x = min(max(outer.left(), area.left()), max(area.left(), area.right() + 1 - outer.width()))
    y = min(max(outer.top(), area.top()), max(area.top(), area.bottom() + 1 - outer.height()))
    if (x, y) != (outer.left(), outer.top()):
        window.move(x, y)


class ScreenFit(QObject):
    """Fits every top-level window into its screen when it is shown (and once more when
    its frame is known)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)

    @classmethod
    def install(cls, app: QApplication) -> ScreenFit:
        fit = cls(app)
        app.installEventFilter(fit)
        return fit

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt override
        if (
            event.type() == QEvent.Type.Show
            and isinstance(watched, QWidget)
            and watched.isWindow()
            and watched.windowType() in (Qt.WindowType.Window, Qt.WindowType.Dialog)
        ):
            fit_to_screen(watched)
            QTimer.singleShot(0, watched, lambda: fit_to_screen(watched))
        return False
