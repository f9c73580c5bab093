"""One app per user and profile: a second launch hands its file paths to the first.

The first instance listens on a ``QLocalServer`` named after the profile folder;
a later ``secure-send FILE…`` connects, sends the paths (UTF-8 JSON, one message)
and exits. Only the same user takes part (:mod:`secure_send.gui.instance_socket`):
the socket lives in a folder only this user can enter (never the shared ``/tmp``),
with owner-only access (``QLocalServer.SocketOption.UserAccessOption``), and each
end checks that the other runs as this user before trusting it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from secure_send.gui import instance_socket

log = logging.getLogger(__name__)
TIMEOUT_MS = 2000
MAX_MESSAGE = 1 << 20


def server_name(profile_path: Path) -> str:
    """The local socket name for one profile (a full path in a private folder on POSIX).

    Raises:
        UnsafeSocketFolder: that folder is not private to this user.
    """
    return instance_socket.socket_name(profile_path)


def forward(name: str, paths: list[Path]) -> bool:
    """Hand ``paths`` to a running instance; False if none is running."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(TIMEOUT_MS):
        return False
    if not instance_socket.peer_is_this_user(int(socket.socketDescriptor())):
        # someone else's listener: the paths (names of personal files) must not reach it
        log.warning("the app's socket %s is run by another user: not forwarding", name)
        socket.abort()
        return False
    message = json.dumps({"paths": [str(p.resolve()) for p in paths]}).encode()
    socket.write(message)
    socket.flush()
    socket.waitForBytesWritten(TIMEOUT_MS)
    socket.disconnectFromServer()
    return True


class Listener(QObject):
    """The first instance's end: emits ``paths_received`` for each later launch."""

    paths_received = Signal(list)  # list[Path]

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not self.server.listen(name):
            QLocalServer.removeServer(name)  # a stale socket left by a crash
            self.server.listen(name)
        self._buffers: dict[QLocalSocket, bytearray] = {}
        self.server.newConnection.connect(self._on_server_new_connection)

    def _on_server_new_connection(self) -> None:
        while (socket := self.server.nextPendingConnection()) is not None:
            if not instance_socket.peer_is_this_user(int(socket.socketDescriptor())):
                log.warning("refused a connection from another user to the app's socket")
                socket.abort()
                socket.deleteLater()
                continue
            self._buffers[socket] = bytearray()
            socket.readyRead.connect(self._on_socket_ready_read)
            socket.disconnected.connect(self._on_socket_disconnected)

    def _on_socket_ready_read(self) -> None:
        socket = self.sender()
        if not isinstance(socket, QLocalSocket) or socket not in self._buffers:
            return
        buffer = self._buffers[socket]
        buffer += bytes(socket.readAll().data())
        if len(buffer) > MAX_MESSAGE:
            socket.abort()

    def _on_socket_disconnected(self) -> None:
        socket = self.sender()
        if not isinstance(socket, QLocalSocket):
            return
        data = bytes(self._buffers.pop(socket, b""))
        socket.deleteLater()
        self._deliver(data)

    def close(self) -> None:
        """Stop listening (the app is quitting)."""
        self.server.close()

    def _deliver(self, data: bytes) -> None:
        try:
            paths = [Path(p) for p in json.loads(data)["paths"] if isinstance(p, str)]
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed message from another launch")
            return
        if paths:
            self.paths_received.emit(paths)


class FileOpenEvents(QObject):
    """Files the OS hands the app as ``QFileOpenEvent`` (macOS: Finder's Open With, a
    drop on the Dock icon, the "Send securely" Quick Action). Events that arrive before
    the window exists (at launch) are kept and delivered once :meth:`deliver_to` is
    called."""

    paths_received = Signal(list)  # list[Path]

    def __init__(self, app: QObject) -> None:
        super().__init__(app)
        self._pending: list[Path] = []
        self._ready = False
        app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt override
        if isinstance(event, QFileOpenEvent) and event.file():
            path = Path(event.file())
            if self._ready:
                self.paths_received.emit([path])
            else:
                self._pending.append(path)
            return True
        return super().eventFilter(watched, event)

    def deliver_to(self, receiver: Callable[[list[Path]], None]) -> None:
        """Send every (past and future) opened file to ``receiver``."""
        self.paths_received.connect(receiver)
        self._ready = True
        if self._pending:
            pending, self._pending = self._pending, []
            self.paths_received.emit(pending)
