"""A real drop server on 127.0.0.1 (uvicorn in a thread) over its own folder, apart
from a fresh organisation home.

The organisation is :mod:`tests.directory_kit`'s (three people, one role); Hanako
enrols a laptop through the admin operations and the test keeps its keys, so it
can sign requests as that device. The server folder is what ``secure-send-admin
server-home`` writes (public material only); changes made in the organisation
home reach the server only through the directory signer (:meth:`Server.push`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from secure_send.admin.server_home import write_server_home
from secure_send.core import httpsig
from secure_send.core.audit import AuditLog, audit_log_path
from secure_send.core.directory.enrol import DeviceKeys
from secure_send.core.encoding import utc_now
from secure_send.org.home import OrgHome
from secure_send.org.signer import DirectorySigner
from secure_send.server.config import ServerConfig, load_config
from secure_send.server.embedded import embedded_server
from secure_send.server.state import ServerState
from tests.directory_kit import HANAKO, JIRO, TARO, enrol_device, new_org
from tests.engines.seaweed import S3Server
from tests.engines.shared import BACKEND, backend_overrides, s3_bucket, seaweed

__all__ = ["s3_bucket", "seaweed"]  # fixtures of the whole package, used by name

DEVICE = "laptop"


@dataclass
class Server:
    """A running server and what the tests need to talk to it."""

    home: OrgHome  # the organisation, on IT's side: the server never reads it
    config: ServerConfig  # config.home is the server's own folder
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

    def push(self) -> None:
        """One round of the real directory signer: the org's changes reach the server."""
        signer = DirectorySigner(self.home, self.url, batch_window=0)
        try:
            signer.run_once()
        finally:
            signer.close()

    def serve_directory(self, data: bytes) -> None:
        """Make the real server hostile: from now on it serves ``data`` as its directory,
        byte for byte, whatever it holds (a compromised drop server can do this)."""
        assert self.app_state is not None, "needs the in-process server"
        held = self.app_state.directory
        held.bundle_bytes = lambda: data  # type: ignore[method-assign]
        held.sync_since = lambda log_size: data  # type: ignore[method-assign]
        held.etag = lambda: ""  # type: ignore[method-assign]  # never "not modified"

    def audit(self) -> AuditLog:
        """The server's audit log, wherever its backend keeps it (file or database)."""
        if self.app_state is not None:
            return self.app_state.audit
        return AuditLog(audit_log_path(self.config.home))

    def sql(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run one statement on the server's own database, whichever backend (a test
        playing a hostile or broken server edits rows behind the app's back)."""
        assert self.app_state is not None, "needs the in-process server"
        rows: list[tuple[Any, ...]] = self.app_state.meta.query(statement, params)  # type: ignore[attr-defined]
        return rows

    def audit_text(self) -> str:
        """Every record line of the audit log (to look for what must never be in it)."""
        return "".join(r.line().decode() + "\n" for r in self.audit().records())

    def held_bundle(self) -> bytes:
        """The directory the server serves to enrolled devices, as it serves it."""
        assert self.app_state is not None, "needs the in-process server"
        return self.app_state.directory.bundle_bytes()

    def get(self, path: str, **kw: Any) -> httpx.Response:
        """Unsigned GET."""
        return httpx.get(self.url + path, timeout=10, **kw)

    def signed_get(
        self, path: str, *, headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        """Signed GET as Hanako's laptop (plus ``headers``); ``kw`` go to
        :meth:`signed_headers`."""
        signed = self.signed_headers("GET", path, **kw)
        return httpx.get(self.url + path, headers={**(headers or {}), **signed}, timeout=10)


def make_home(path: Path) -> tuple[OrgHome, DeviceKeys]:
    """The test organisation with Hanako's laptop enrolled (keys kept)."""
    home = new_org(path, devices=False)
    return home, enrol_device(home, HANAKO, DEVICE, "会計課の端末")


@contextlib.contextmanager
def signer_process(home: OrgHome, url: str, poll: float = 0.5) -> Iterator[None]:
    """``secure-send-admin --home ORG signer --server URL``: the real directory signer as
    its own process beside the server, stopped (SIGTERM) when the block ends.

    A process, not a thread: tests with Qt widgets must not run Python threads whose
    garbage collection could destroy a widget off the GUI thread."""
    command = [sys.executable, "-m", "secure_send.admin.cli", "--home", str(home.path)]
    command += ["signer", "--server", url, "--poll", str(poll)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        # 0: it stopped cleanly; -SIGTERM: it was stopped before it got going
        assert proc.returncode in (0, -15), err.decode(errors="replace")[-2000:]
        assert b"Traceback" not in err, err.decode(errors="replace")[-2000:]


def server_folder(home: OrgHome) -> Path:
    """The server's folder for ``home`` (beside it, never inside), as IT makes it."""
    folder = home.path.parent / f"{home.path.name}-server"
    write_server_home(home, folder)
    return folder


def server_config(home: OrgHome, **overrides: Any) -> ServerConfig:
    """The configuration a server over ``home``'s server folder runs with, on the
    backend ``SECURE_SEND_TEST_BACKEND`` names (:mod:`tests.engines.shared`)."""
    return load_config(server_folder(home), **(backend_overrides() | overrides))


@pytest.fixture
def org(tmp_path: Path) -> tuple[OrgHome, DeviceKeys]:
    """An organisation home (no server)."""
    return make_home(tmp_path / "org")


@pytest.fixture
def server(org: tuple[OrgHome, DeviceKeys]) -> Iterator[Server]:
    """The real server on an ephemeral port, stopped after the test."""
    home, keys = org
    config = server_config(home, port=0, max_body_bytes=64 * 1024, quota_bytes=1024 * 1024)
    with running_server(home, keys, config) as server:
        yield server


@pytest.fixture
def folder_server(server: Server) -> Server:
    """:func:`server` under the name :func:`on_each_store` picks it by."""
    return server


def with_s3(config: ServerConfig, s3: S3Server, bucket: str) -> ServerConfig:
    """``config`` with its blobs in ``bucket`` (SQLite metadata: ``check()`` is bypassed,
    it wants PostgreSQL beside S3 for a real deployment)."""
    return replace(
        config,
        storage_kind="s3",
        storage_endpoint=s3.endpoint,
        storage_bucket=bucket,
        storage_region=s3.region,
        storage_access_key_file=s3.access_key_file,
        storage_secret_key_file=s3.secret_key_file,
    )


@pytest.fixture
def s3_server(
    org: tuple[OrgHome, DeviceKeys], seaweed: S3Server, s3_bucket: str
) -> Iterator[Server]:
    """:func:`server` with its blobs and uploads in a fresh SeaweedFS bucket."""
    home, keys = org
    config = server_config(home, port=0, max_body_bytes=64 * 1024, quota_bytes=1024 * 1024)
    with running_server(home, keys, with_s3(config, seaweed, s3_bucket)) as server:
        yield server


def on_each_store(request: pytest.FixtureRequest) -> Server:
    """The body of a ``server`` fixture a test module overrides with
    ``@pytest.fixture(params=STORES)``: each of its tests runs on both blob stores."""
    return cast(Server, request.getfixturevalue(f"{request.param}_server"))


# on the scale-out backends the ``server`` fixture's blobs are already in S3: once is enough
STORES = ["folder", "s3"] if BACKEND == "embedded" else ["folder"]


def unthrottled_config(home: OrgHome) -> ServerConfig:
    """A server for fuzzing: small bodies and quota, and an auth-failure limit high
    enough never to trip (generated requests fail authentication by the thousand)."""
    return server_config(
        home,
        port=0,
        max_body_bytes=64 * 1024,
        quota_bytes=1024 * 1024,
        auth_failures_burst=100_000,
        auth_failures_per_minute=100_000,
    )


@contextlib.contextmanager
def running_server(home: OrgHome, keys: DeviceKeys, config: ServerConfig) -> Iterator[Server]:
    """Run the real app under uvicorn on 127.0.0.1 (ephemeral port) in a thread."""
    with embedded_server(config) as running:
        yield Server(home, config, running.url, keys, running.state)


@pytest.fixture
def taro(server: Server) -> DeviceKeys:
    """Taro's desktop, enrolled into the running server's organisation (a recipient)."""
    keys = enrol_device(server.home, TARO, "desktop", "人事課のデスクトップ")
    server.push()
    return keys


@pytest.fixture
def jiro(server: Server) -> DeviceKeys:
    """Jiro's tablet, enrolled too (a bystander: neither sender nor recipient)."""
    keys = enrol_device(server.home, JIRO, "tablet", "総務課のタブレット")
    server.push()
    return keys


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests of the embedded backend's own files do not apply to the others."""
    if BACKEND == "embedded":
        scaled = pytest.mark.skip(
            reason="PostgreSQL/S3 only: runs in the scale-out pass "
            "(SECURE_SEND_TEST_BACKEND=scaled, the second half of make test)"
        )
        for item in items:
            if item.get_closest_marker("scale_out"):
                item.add_marker(scaled)
        return
    skip = pytest.mark.skip(reason=f"embedded backend only (this run: {BACKEND})")
    no_folder = pytest.mark.skip(reason="about the blob folder; this run keeps blobs in S3")
    for item in items:
        if item.get_closest_marker("embedded_only"):
            item.add_marker(skip)
        elif BACKEND == "scaled" and item.get_closest_marker("folder_store"):
            item.add_marker(no_folder)
