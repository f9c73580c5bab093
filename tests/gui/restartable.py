"""A real drop server that a test stops and starts again, on the same folder and port
(what a clerk sees when the server goes away and comes back).

``org_server`` here replaces the client kit's (same organisation, same signer process),
so ``enrol``, ``session_of`` and ``model`` work unchanged; ``restartable`` is its handle.
A test module imports both (``from tests.gui.restartable import org_server, restartable``).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from secure_send.core.directory.enrol import DeviceKeys
from secure_send.org import ops
from secure_send.org.home import OrgHome
from secure_send.server.config import ServerConfig
from secure_send.server.embedded import Embedded, embedded_server
from tests.client.conftest import rows
from tests.directory_kit import OPERATOR
from tests.server.conftest import Server, server_config, signer_process


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RestartableServer:
    """The embedded server over one folder and one port: :meth:`stop`, :meth:`start`."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._running: contextlib.AbstractContextManager[Embedded] | None = None
        self.url = ""

    def start(self) -> None:
        """Serve again (same folder, same port: the clients' URL stays right)."""
        assert self._running is None
        running = embedded_server(self.config)
        self.url = running.__enter__().url
        self._running = running

    @property
    def running(self) -> bool:
        """Whether it serves now."""
        return self._running is not None

    def stop(self) -> None:
        """Stop serving: connections are refused until :meth:`start`."""
        if self._running is not None:
            running, self._running = self._running, None
            running.__exit__(None, None, None)


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[RestartableServer]:
    """The organisation's server on a fixed port, running."""
    home = OrgHome(tmp_path / "org")
    ops.init(home, "テスト省", roots=3, threshold=2)
    ops.import_rows(home, rows(), OPERATOR)
    server = RestartableServer(server_config(home, port=_free_port()))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def org_server(restartable: RestartableServer, tmp_path: Path) -> Iterator[Server]:
    """The client kit's ``org_server`` over the restartable server (signer beside it)."""
    home = OrgHome(tmp_path / "org")
    config = restartable.config
    with signer_process(home, restartable.url):
        yield Server(home, config, restartable.url, DeviceKeys.generate())
