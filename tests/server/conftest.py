"""A real drop server on 127.0.0.1 (uvicorn in a thread) over a fresh organisation home.

The organisation is :mod:`tests.directory_kit`'s (three people, one role); Hanako
enrols a laptop through the admin operations and the test keeps its keys, so it
can sign requests as that device.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from secure_send.admin.home import OrgHome
from secure_send.core import httpsig
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.encoding import utc_now
from secure_send.server.config import ServerConfig
from secure_send.server.embedded import embedded_server
from secure_send.server.state import ServerState
from tests.directory_kit import HANAKO, JIRO, TARO, enrol_device, new_org

DEVICE = "laptop"


@dataclass
class Server:
    """A running server and what the tests need to talk to it."""

    home: OrgHome
    config: ServerConfig
    url: str
    keys: DeviceKeys
    app_state: ServerState | None = None

    def signed_headers(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        keys: DeviceKeys | None = None,
        key_id: str | None = None,
        now: dt.datetime | None = None,
        nonce: str | None = None,
    ) -> dict[str, str]:
        """Headers signing ``method path`` as Hanako's laptop (or the given keys/id)."""
        return httpsig.sign_request(
            method,
            self.url + path,
            {},
            httpsig.content_digest(body),
            key_id or httpsig.key_id(HANAKO, DEVICE),
            (keys or self.keys).signing,
            now or utc_now(),
            nonce,
        )

    def get(self, path: str, **kw: Any) -> httpx.Response:
        """Unsigned GET."""
        return httpx.get(self.url + path, timeout=10, **kw)

    def signed_get(self, path: str, **kw: Any) -> httpx.Response:
        """Signed GET as Hanako's laptop; ``kw`` go to :meth:`signed_headers`."""
        return httpx.get(
            self.url + path, headers=self.signed_headers("GET", path, **kw), timeout=10
        )


def make_home(path: Path) -> tuple[OrgHome, DeviceKeys]:
    """The test organisation with Hanako's laptop enrolled (keys kept)."""
    home = new_org(path, devices=False)
    return home, enrol_device(home, HANAKO, DEVICE, "会計課の端末")


@pytest.fixture
def org(tmp_path: Path) -> tuple[OrgHome, DeviceKeys]:
    """An organisation home (no server)."""
    return make_home(tmp_path / "org")


@pytest.fixture
def server(org: tuple[OrgHome, DeviceKeys]) -> Iterator[Server]:
    """The real server on an ephemeral port, stopped after the test."""
    home, keys = org
    config = ServerConfig(home=home.path, port=0, max_body_bytes=64 * 1024, quota_bytes=1024 * 1024)
    with running_server(home, keys, config) as server:
        yield server


@contextlib.contextmanager
def running_server(home: OrgHome, keys: DeviceKeys, config: ServerConfig) -> Iterator[Server]:
    """Run the real app under uvicorn on 127.0.0.1 (ephemeral port) in a thread."""
    with embedded_server(config) as running:
        yield Server(home, config, running.url, keys, running.state)


@pytest.fixture
def taro(server: Server) -> DeviceKeys:
    """Taro's desktop, enrolled into the running server's organisation (a recipient)."""
    return enrol_device(server.home, TARO, "desktop", "人事課のデスクトップ")


@pytest.fixture
def jiro(server: Server) -> DeviceKeys:
    """Jiro's tablet, enrolled too (a bystander: neither sender nor recipient)."""
    return enrol_device(server.home, JIRO, "tablet", "総務課のタブレット")
