"""Reliability against REAL server processes: SIGKILL mid-upload, cut downloads.

What is real here: every server is a separate ``secure-send-server`` process (the
installed command line, ``python -m secure_send.server.cli``) listening on
127.0.0.1 on a free port over one organisation home prepared in-process by the
test kit; it is killed with a real ``SIGKILL`` (no shutdown hooks, no flushing)
at a seeded random moment while another thread is uploading with tus, then
started again on the same home, so recovery runs exactly as after a crash.
Downloads are cut by closing a raw TCP socket (with an RST) mid-body.

What is not: the kill is of the process, not of the machine (the page cache
survives, so this does not test fsync against power loss), and only 127.0.0.1
is used. Every spawned process is killed at teardown, also on failure.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from secure_send.core import httpsig
from secure_send.core.directory.enrol import DeviceKeys
from tests.directory_kit import TARO, enrol_device
from tests.server.conftest import Server, make_home, server_config
from tests.server.drop_kit import (
    OFFSET_TYPE,
    TUS,
    Device,
    age_blob,
    b64,
    create_drop,
    hanako,
    manifest,
    new_upload,
    taro_device,
)

CHUNK = 64 * 1024  # the test servers' max_body_bytes: uploads go in many small PATCHes
TRIALS = 20
SEED = 20261127
START_TIMEOUT = 15.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """``secure-send-server`` as a child process over ``home``; ``start`` / ``kill`` again."""

    server: Server
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    spawned: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> None:
        """Start on a fresh free port; wait (bounded) until ``/v1/health`` answers."""
        assert self.proc is None
        port = _free_port()
        with self.log.open("ab") as log:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "secure_send.server.cli",
                    "--home",
                    str(self.server.config.home),
                    "--listen",
                    f"127.0.0.1:{port}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        self.spawned.append(proc)
        self.proc = proc
        self.server.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"server exited with {proc.returncode}: {self._tail()}")
            try:
                if httpx.get(self.server.url + "/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"server did not answer /v1/health: {self._tail()}")
            time.sleep(0.02)

    def kill(self) -> None:
        """A real SIGKILL; waits for the process to be gone."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        assert self.proc.returncode == -signal.SIGKILL
        self.proc = None

    def restart(self) -> None:
        """Kill (SIGKILL) and start again on the same home."""
        self.kill()
        self.start()

    def stop_all(self) -> None:
        """Teardown: kill every process this object ever spawned that is still alive."""
        for proc in self.spawned:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
        self.proc = None

    def _tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-2000:]


@dataclass
class Org:
    """The prepared organisation: a server process and the two enrolled devices."""

    process: ServerProcess
    sender: Device
    recipient: Device
    recipient_keys: DeviceKeys
    client: httpx.Client  # kept, for speed (see _signed)


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    """One organisation home (Hanako's laptop, Taro's desktop), served by a subprocess."""
    root = tmp_path_factory.mktemp("reliability")
    home, keys = make_home(root / "org")
    taro_keys = enrol_device(home, TARO, "desktop", "人事課のデスクトップ")
    (home.path / "server.toml").write_text(f"max_body_bytes = {CHUNK}\n", encoding="utf-8")
    config = server_config(home, max_body_bytes=CHUNK)
    server = Server(home, config, "http://127.0.0.1:0", keys)
    process = ServerProcess(server, root / "server.log")
    try:
        process.start()
        with httpx.Client(timeout=30) as client:
            yield Org(process, hanako(server), taro_device(server, taro_keys), taro_keys, client)
    finally:
        process.stop_all()


@dataclass
class Uploader:
    """PATCHes ``data`` from ``offset`` in ``CHUNK`` pieces until done or the server dies."""

    sender: Device
    path: str
    data: bytes
    offset: int = 0
    acked: int = 0  # highest offset the server confirmed (204)
    attempted: int = 0  # highest offset a request was sent for
    error: BaseException | None = None
    progress: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        self.acked = self.attempted = self.offset

    def run(self) -> None:
        """Upload; an ``httpx`` error (the server was killed) ends the run quietly."""
        offset = self.offset
        client = httpx.Client(timeout=30)
        try:
            while offset < len(self.data):
                chunk = self.data[offset : offset + CHUNK]
                self.attempted = offset + len(chunk)
                response = _patch(client, self.sender, self.path, offset, chunk)
                assert response.status_code == 204, response.text
                offset = int(response.headers["upload-offset"])
                assert offset == self.attempted
                with self.progress:
                    self.acked = offset
                    self.progress.notify_all()
        except httpx.HTTPError:
            pass
        except BaseException as err:  # reported by the test thread
            self.error = err
        finally:
            client.close()
            with self.progress:
                self.progress.notify_all()

    def wait_for(self, offset: int, thread: threading.Thread) -> None:
        """Block until ``acked >= offset`` (or the thread ended)."""
        with self.progress:
            while self.acked < offset and thread.is_alive():
                self.progress.wait(0.5)


def _signed(
    client: httpx.Client,
    device: Device,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Like :meth:`Device.request`, on a kept client (``httpx.request`` builds a new
    client, and its TLS context, per call: ~40 ms, most of a chunk's time)."""
    signed = device.server.signed_headers(
        method, path, body, keys=device.keys, key_id=httpsig.key_id(device.user, device.device)
    )
    return client.request(
        method, device.server.url + path, content=body, headers={**(headers or {}), **signed}
    )


def _patch(
    client: httpx.Client, sender: Device, path: str, offset: int, data: bytes
) -> httpx.Response:
    """PATCH one chunk with its sha256 ``Upload-Checksum``."""
    headers = {
        **TUS,
        **OFFSET_TYPE,
        "Upload-Offset": str(offset),
        "Upload-Checksum": f"sha256 {b64(hashlib.sha256(data).digest())}",
    }
    return _signed(client, sender, "PATCH", path, data, headers)


def _inbox_ids(org: Org) -> set[str]:
    response = _signed(org.client, org.recipient, "GET", "/v1/inbox")
    assert response.status_code == 200, response.text
    return {str(d["drop_id"]) for d in response.json()["drops"]}


def _head(org: Org, path: str) -> httpx.Response:
    return _signed(org.client, org.sender, "HEAD", path, headers=TUS)


def _partial(server: Server, upload_path: str) -> bytes:
    upload_id = upload_path.rsplit("/", 1)[1]
    return (server.config.state_dir / "partial" / upload_id).read_bytes()


def _finish(org: Org, drop_id: str, path: str, data: bytes, offset: int) -> None:
    """Upload the rest synchronously and check nothing is listed before commit."""
    for start in range(offset, len(data), CHUNK):
        response = _patch(org.client, org.sender, path, start, data[start : start + CHUNK])
        assert response.status_code == 204, response.text
    assert drop_id not in _inbox_ids(org)


def _commit_and_check(org: Org, drop_id: str, data: bytes) -> None:
    assert drop_id not in _inbox_ids(org)
    response = _signed(org.client, org.sender, "POST", f"/v1/drops/{drop_id}/commit")
    assert response.status_code == 200, response.text
    assert drop_id in _inbox_ids(org)
    got = _signed(org.client, org.recipient, "GET", f"/v1/drops/{drop_id}/blobs/f1")
    assert got.status_code == 200, got.text
    assert hashlib.sha256(got.content).digest() == hashlib.sha256(data).digest()
    assert got.content == data


def _new_drop(org: Org, rng: random.Random) -> tuple[str, str, bytes]:
    """A drop of one age-encrypted blob of 2-4 MiB and its tus upload: (drop, upload, ct)."""
    plaintext = rng.randbytes(rng.randint(2 * 1024 * 1024, 4 * 1024 * 1024))
    ciphertext = age_blob(org.recipient_keys, plaintext)
    signed = manifest(org.sender, {"f1": ciphertext})
    response = create_drop(org.sender, signed)
    assert response.status_code == 201, response.text
    drop_id = signed.manifest.drop_id
    return drop_id, new_upload(org.sender, drop_id, "f1", len(ciphertext)), ciphertext


def _after_kill_resume(org: Org, drop_id: str, path: str, data: bytes, up: Uploader) -> None:
    """HEAD after restart, check the offset and the stored prefix, finish, commit, read."""
    server = org.process.server
    assert drop_id not in _inbox_ids(org)
    head = _head(org, path)
    if head.status_code == 404:
        # Only legitimate when the last PATCH was written and the blob renamed into
        # place before the kill: recovery then marks it complete and forgets the upload.
        assert up.attempted == len(data), (up.acked, up.attempted, head.text)
        offset = len(data)
    else:
        assert head.status_code == 200, head.text
        offset = int(head.headers["upload-offset"])
        assert int(head.headers["upload-length"]) == len(data)
        assert up.acked <= offset <= up.attempted, (up.acked, offset, up.attempted)
        stored = _partial(server, path)
        assert len(stored) >= offset
        assert stored[:offset] == data[:offset]
    # An upload killed after its last byte was stored is finished by start-up recovery
    # (test_crash_after_final_offset_recovers): HEAD then answers 404, never 200 at full length.
    assert not (head.status_code == 200 and offset == len(data)), "upload stuck at full length"
    _finish(org, drop_id, path, data, offset)
    _commit_and_check(org, drop_id, data)


@pytest.mark.parametrize("trial", range(TRIALS))
def test_sigkill_during_upload_then_resume(org: Org, trial: int) -> None:
    """SIGKILL at a seeded random point of a chunked tus upload; resume from HEAD's offset."""
    rng = random.Random(SEED + trial)  # noqa: S311 - reproducible test data
    drop_id, path, data = _new_drop(org, rng)
    chunks = -(-len(data) // CHUNK)
    kill_after = rng.randrange(chunks)  # acknowledged chunks before the kill …
    extra_delay = rng.uniform(0, 0.01)  # … plus a random slice of the next request
    up = Uploader(org.sender, path, data)
    thread = threading.Thread(target=up.run, daemon=True)
    thread.start()
    try:
        up.wait_for(kill_after * CHUNK, thread)
        assert drop_id not in _inbox_ids(org)  # mid-upload: not listed
        time.sleep(extra_delay)
        org.process.kill()
    finally:
        thread.join(timeout=30)
        if org.process.proc is None:
            org.process.start()
    assert not thread.is_alive()
    assert up.error is None, up.error
    _after_kill_resume(org, drop_id, path, data, up)


def test_sigkill_after_final_patch_before_commit(org: Org) -> None:
    """Every PATCH acknowledged, then SIGKILL: not listed after restart, commit still works."""
    rng = random.Random(SEED - 1)  # noqa: S311 - reproducible test data
    drop_id, path, data = _new_drop(org, rng)
    _finish(org, drop_id, path, data, 0)
    org.process.restart()
    assert drop_id not in _inbox_ids(org)
    assert _head(org, path).status_code == 404  # complete: the upload is forgotten
    _commit_and_check(org, drop_id, data)


def test_crash_after_final_offset_recovers(org: Org) -> None:
    """The crash window inside the final PATCH, made deterministic: after every byte but
    the last chunk is uploaded the server is SIGKILLed and the state it would have left
    (last chunk written and fsynced, offset = length stored, no rename yet) is written by
    hand; after restart the drop must become committable without a client work-around."""
    rng = random.Random(SEED - 2)  # noqa: S311 - reproducible test data
    drop_id, path, data = _new_drop(org, rng)
    last = (len(data) - 1) // CHUNK * CHUNK
    for start in range(0, last, CHUNK):
        response = _patch(org.client, org.sender, path, start, data[start : start + CHUNK])
        assert response.status_code == 204, response.text
    org.process.kill()
    server = org.process.server
    upload_id = path.rsplit("/", 1)[1]
    with (server.config.state_dir / "partial" / upload_id).open("r+b") as partial:
        partial.seek(last)
        partial.write(data[last:])
    db = sqlite3.connect(server.config.state_dir / "meta.sqlite")
    try:
        with db:
            db.execute("UPDATE uploads SET received = ? WHERE id = ?", (len(data), upload_id))
    finally:
        db.close()
    org.process.start()
    head = _head(org, path)
    assert head.status_code in (200, 404), head.text
    if head.status_code == 200:
        assert int(head.headers["upload-offset"]) == len(data)
    assert drop_id not in _inbox_ids(org)
    _commit_and_check(org, drop_id, data)


def _committed(org: Org, data: bytes) -> str:
    """A committed drop of one blob, uploaded in ``CHUNK`` pieces; returns its id."""
    signed = manifest(org.sender, {"f1": data})
    response = create_drop(org.sender, signed)
    assert response.status_code == 201, response.text
    drop_id = signed.manifest.drop_id
    _finish(org, drop_id, new_upload(org.sender, drop_id, "f1", len(data)), data, 0)
    _commit_and_check(org, drop_id, data)
    return drop_id


def _raw_get(server: Server, device: Device, path: str, keep: int) -> bytes:
    """Send a signed GET on a raw socket, read ``keep`` body bytes, then reset the connection."""
    headers = server.signed_headers(
        "GET", path, keys=device.keys, key_id=httpsig.key_id(device.user, device.device)
    )
    host = server.url.removeprefix("http://")
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
    address, port = host.rsplit(":", 1)
    sock = socket.create_connection((address, int(port)), timeout=10)
    try:
        sock.sendall(request)
        received = b""
        while b"\r\n\r\n" not in received:
            piece = sock.recv(65536)
            assert piece, received
            received += piece
        head, _, body = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        while len(body) < keep:
            piece = sock.recv(65536)
            assert piece
            body += piece
        return body[:keep]
    finally:
        # SO_LINGER 0: close with an RST, a hard cut rather than an orderly shutdown.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()


def test_cut_download_resumes_with_range(org: Org) -> None:
    """A download cut mid-body (RST) resumes with ``Range: bytes=N-``; the parts join up."""
    rng = random.Random(SEED + 1000)  # noqa: S311 - reproducible test data
    data = age_blob(org.recipient_keys, rng.randbytes(3 * 1024 * 1024))
    drop_id = _committed(org, data)
    path = f"/v1/drops/{drop_id}/blobs/f1"
    for cut in (1, 300_000, len(data) // 2, len(data) - 1):
        first = _raw_get(org.process.server, org.recipient, path, cut)
        assert first == data[:cut]
        rest = _signed(org.client, org.recipient, "GET", path, headers={"Range": f"bytes={cut}-"})
        assert rest.status_code == 206, rest.text
        assert rest.headers["content-range"] == f"bytes {cut}-{len(data) - 1}/{len(data)}"
        assert first + rest.content == data
    assert org.process.proc is not None
    assert org.process.proc.poll() is None
    assert org.sender.request("GET", "/v1/whoami").status_code == 200


def test_cut_download_then_sigkill_then_range(org: Org) -> None:
    """A cut download, then the server SIGKILLed and restarted: the range resume still joins."""
    rng = random.Random(SEED + 2000)  # noqa: S311 - reproducible test data
    data = age_blob(org.recipient_keys, rng.randbytes(2 * 1024 * 1024))
    drop_id = _committed(org, data)
    path = f"/v1/drops/{drop_id}/blobs/f1"
    cut = rng.randrange(1, len(data))
    first = _raw_get(org.process.server, org.recipient, path, cut)
    org.process.restart()
    rest = org.recipient.request("GET", path, headers={"Range": f"bytes={cut}-"})
    assert rest.status_code == 206, rest.text
    assert first + rest.content == data


def _small_committed_ready(org: Org, rng: random.Random) -> tuple[str, str, bytes]:
    """A drop of one ~1 MiB blob fully uploaded (not committed): (drop, upload id, ct)."""
    data = age_blob(org.recipient_keys, rng.randbytes(rng.randint(512 * 1024, 1024 * 1024)))
    signed = manifest(org.sender, {"f1": data})
    assert create_drop(org.sender, signed).status_code == 201
    drop_id = signed.manifest.drop_id
    path = new_upload(org.sender, drop_id, "f1", len(data))
    _finish(org, drop_id, path, data, 0)
    return drop_id, path.rsplit("/", 1)[1], data


def _kill_during(org: Org, method: str, path: str, delay: float) -> int | None:
    """Send ``method path`` from a thread, SIGKILL the server ``delay`` s later, restart;
    the status the client saw, or None if the connection died first."""
    seen: list[int] = []

    def call() -> None:
        with httpx.Client(timeout=30) as client, contextlib.suppress(httpx.HTTPError):
            seen.append(_signed(client, org.sender, method, path).status_code)

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    try:
        time.sleep(delay)
        org.process.kill()
    finally:
        thread.join(timeout=30)
        if org.process.proc is None:
            org.process.start()
    assert not thread.is_alive()
    print(f"{method} {path}: client saw {seen or 'a cut connection'}")
    return seen[0] if seen else None


@pytest.mark.parametrize("trial", range(4))
def test_sigkill_during_commit(org: Org, trial: int) -> None:
    """SIGKILL around a commit: an acknowledged commit survives; either way it can be
    repeated, and the drop is then listed once with the exact blob."""
    rng = random.Random(SEED + 3000 + trial)  # noqa: S311 - reproducible test data
    drop_id, _, data = _small_committed_ready(org, rng)
    status = _kill_during(org, "POST", f"/v1/drops/{drop_id}/commit", rng.uniform(0, 0.03))
    listed = drop_id in _inbox_ids(org)
    if status == 200:
        assert listed
    response = _signed(org.client, org.sender, "POST", f"/v1/drops/{drop_id}/commit")
    assert response.status_code == 200, response.text
    inbox = _signed(org.client, org.recipient, "GET", "/v1/inbox").json()["drops"]
    assert [d["drop_id"] for d in inbox].count(drop_id) == 1
    got = _signed(org.client, org.recipient, "GET", f"/v1/drops/{drop_id}/blobs/f1")
    assert got.content == data


@pytest.mark.parametrize("trial", range(4))
def test_sigkill_during_recall(org: Org, trial: int) -> None:
    """SIGKILL around a recall: an acknowledged recall survives; after a retry the drop is
    gone for the recipient (410), unlisted, and its blob file deleted."""
    rng = random.Random(SEED + 4000 + trial)  # noqa: S311 - reproducible test data
    drop_id, upload_id, _ = _small_committed_ready(org, rng)
    response = _signed(org.client, org.sender, "POST", f"/v1/drops/{drop_id}/commit")
    assert response.status_code == 200, response.text
    status = _kill_during(org, "DELETE", f"/v1/drops/{drop_id}", rng.uniform(0, 0.03))
    again = _signed(org.client, org.sender, "DELETE", f"/v1/drops/{drop_id}")
    if status == 204:
        assert again.status_code == 410, again.text
    else:
        assert again.status_code in (204, 410), again.text
    blob = _signed(org.client, org.recipient, "GET", f"/v1/drops/{drop_id}/blobs/f1")
    assert blob.status_code == 410, blob.text
    assert drop_id not in _inbox_ids(org)
    state_dir = org.process.server.config.state_dir
    assert not [p for p in state_dir.rglob(upload_id) if p.is_file()]
