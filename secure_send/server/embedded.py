"""The drop server inside this process (a uvicorn thread on loopback): for
``secure-send demo`` and for tests. Production runs ``secure-send-server``."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from secure_send.server.app import create_app
from secure_send.server.config import ServerConfig
from secure_send.server.http_protocol import uvicorn_options
from secure_send.server.state import ServerState


@dataclass(frozen=True)
class Embedded:
    """A running embedded server."""

    url: str
    app: FastAPI

    @property
    def state(self) -> ServerState:
        """The app's shared state (stores, audit log)."""
        state: ServerState = self.app.state.server
        return state


@contextlib.contextmanager
def embedded_server(config: ServerConfig, start_timeout: float = 10.0) -> Iterator[Embedded]:
    """Serve ``config``'s organisation on 127.0.0.1 (the configured port, or any free
    one when it is 0) until the ``with`` block ends."""
    app = create_app(config)
    port = config.port if config.port is not None else 0
    uv = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            # open inbox long-polls would hold a shutdown for up to 25 s
            timeout_graceful_shutdown=1,
            **uvicorn_options(config),
        )
    )
    thread = threading.Thread(target=uv.run, name="embedded-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the embedded drop server did not start")
        time.sleep(0.01)
    bound = uv.servers[0].sockets[0].getsockname()[1]
    try:
        yield Embedded(f"http://127.0.0.1:{bound}", app)
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
