"""Interrupted transfers finish: a cut upload or download resumes from where the
server is, a killed ``secure-send send`` is finished by ``secure-send resume`` with
the same drop id, and a send that meets a dead server fails clearly and is
finished later.

Cuts are made by a small TCP proxy in front of the real server (a transparent
byte pump: requests are signed over the URL the client uses and the server
checks them against the ``Host`` it receives, so the proxy is invisible).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from secure_send.core.audit import AuditAction
from tests.client.conftest import Enrol, Person
from tests.directory_kit import HANAKO, TARO
from tests.server.conftest import Server

MIB = 1024 * 1024
BIG = 20 * MIB


class Proxy:
    """A TCP proxy to ``target`` on 127.0.0.1 (ephemeral port).

    ``cut_up`` / ``cut_down``: the first connection carrying more than that many
    bytes upstream / downstream is cut there (later ones are left alone).
    ``rate``: upstream bytes per second (a throttle); ``rate_down`` the same
    downstream. ``port``: listen there (a proxy made again after :meth:`die` on the
    same port: the server seems to come back at its address). :meth:`die` closes the
    listener and every connection (the server seems down).
    """

    def __init__(
        self,
        target: str,
        *,
        cut_up: int | None = None,
        cut_down: int | None = None,
        rate: float | None = None,
        rate_down: float | None = None,
        port: int = 0,
    ) -> None:
        host, target_port = target.removeprefix("http://").split(":")
        self.target = (host, int(target_port))
        self.cut_up, self.cut_down, self.rate = cut_up, cut_down, rate
        self.rate_down = rate_down
        self.cuts = 0
        self.connections = 0
        self.upstream = 0
        self.downstream = 0
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", port))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            with self._lock:
                self.connections += 1
                self._socks += [client, server]
            for src, dst, up in ((client, server, True), (server, client, False)):
                thread = threading.Thread(target=self._pump, args=(src, dst, up), daemon=True)
                thread.start()
                self._threads.append(thread)

    def _should_cut(self, moved: int, up: bool) -> bool:
        limit = self.cut_up if up else self.cut_down
        with self._lock:
            if limit is None or moved <= limit or self.cuts:
                return False
            self.cuts += 1
            return True

    def _pump(self, src: socket.socket, dst: socket.socket, up: bool) -> None:
        moved = 0
        started = time.monotonic()
        src.settimeout(60)
        try:
            while not self._stop.is_set():
                data = src.recv(64 * 1024)
                if not data or not self._passes(data, up):
                    break
                moved += len(data)
                if self._should_cut(moved, up):
                    break
                if not up:
                    with self._lock:
                        self.downstream += len(data)
                if up:
                    with self._lock:
                        self.upstream += len(data)
                rate = self.rate if up else self.rate_down
                if rate:  # wait until this much is due
                    due = started + moved / rate
                    time.sleep(max(0.0, due - time.monotonic()))
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def _passes(self, data: bytes, up: bool) -> bool:
        """Whether to forward ``data`` (a subclass may end everything here instead)."""
        return True

    def _close_all(self) -> None:
        """Stop listening and close every connection (also from a pump thread)."""
        self._stop.set()
        self._listener.close()
        with self._lock:
            socks = list(self._socks)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def die(self) -> None:
        """Stop listening, close every connection and wait for the pumps."""
        self._close_all()
        for thread in self._threads:
            thread.join(timeout=5)


@pytest.fixture
def proxies() -> Iterator[list[Proxy]]:
    """Proxies made by the test, all closed at the end."""
    made: list[Proxy] = []
    yield made
    for proxy in made:
        proxy.die()


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client's back-off between retries, shortened (the logic is unchanged)."""
    monkeypatch.setattr(
        "secure_send.client.transfer.time", SimpleNamespace(sleep=lambda s: time.sleep(0.05))
    )


def _point_at(person: Person, url: str) -> None:
    """Make a profile talk to ``url`` (the proxy, or the server directly)."""
    config = person.home / "config.json"
    obj = json.loads(config.read_text())
    obj["server_url"] = url
    config.write_text(json.dumps(obj))


def _big(folder: Path, size: int = BIG) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "big.bin"
    path.write_bytes(os.urandom(size))
    return path


def _partial(server: Server) -> list[Path]:
    return [p for p in (server.config.state_dir / "partial").glob("*") if p.is_file()]


def _completed_uploads(server: Server, drop_id: str) -> int:
    assert server.app_state is not None
    return sum(
        1
        for r in server.app_state.audit.records()
        if r.action == str(AuditAction.UPLOAD_COMPLETE) and r.drop == drop_id
    )


def _empty(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())


def test_an_upload_cut_midway_resumes_from_the_servers_offset(
    enrol: Enrol, org_server: Server, tmp_path: Path, proxies: list[Proxy]
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    proxy = Proxy(org_server.url, cut_up=3 * MIB)
    proxies.append(proxy)
    _point_at(hanako, proxy.url)
    data = _big(tmp_path / "out")
    drop_id = hanako.ok("send", str(data), "--to", TARO)["drop_id"]
    assert proxy.cuts == 1
    # resumed, not restarted: well under two copies of the blob went up
    assert BIG < proxy.upstream < BIG + 3 * MIB
    got = taro.ok("receive", drop_id, "-o", str(tmp_path / "in"))
    assert Path(got["files"][0]).read_bytes() == data.read_bytes()
    assert _completed_uploads(org_server, drop_id) == 2  # the metadata and the one file
    assert _partial(org_server) == []
    assert _empty(hanako.home / "resume")
    assert _empty(hanako.home / "outbox")


def test_a_download_cut_midway_resumes_with_a_range(
    enrol: Enrol, org_server: Server, tmp_path: Path, proxies: list[Proxy]
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    data = _big(tmp_path / "out")
    drop_id = hanako.ok("send", str(data), "--to", TARO)["drop_id"]
    proxy = Proxy(org_server.url, cut_down=3 * MIB)
    proxies.append(proxy)
    _point_at(taro, proxy.url)
    got = taro.ok("receive", drop_id, "-o", str(tmp_path / "in"))
    assert proxy.cuts == 1
    # resumed with Range where it was cut, not started over
    assert proxy.downstream < data.stat().st_size + 2 * MIB
    assert Path(got["files"][0]).read_bytes() == data.read_bytes()
    assert [p.name for p in (tmp_path / "in").iterdir()] == ["big.bin"]  # no temp files
    assert _empty(taro.home / "downloads")
    (drop,) = hanako.ok("sent")["drops"]
    assert drop["recipients"][0]["downloaded"]


def kill_once_uploading(process: subprocess.Popen[bytes], server: Server) -> None:
    """SIGKILL a sending CLI once 2 MiB of its upload reached the server."""
    try:
        deadline = time.monotonic() + 30
        while sum(p.stat().st_size for p in _partial(server)) < 2 * MIB:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the upload never started"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.communicate(timeout=10)


def _cli_env(person: Person) -> dict[str, str]:
    return {**os.environ, "SECURE_SEND_HOME": str(person.home), "SECURE_SEND_TEST_KEYSTORE": "1"}


def test_a_killed_send_is_finished_by_resume(
    enrol: Enrol, org_server: Server, tmp_path: Path, proxies: list[Proxy]
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    proxy = Proxy(org_server.url, rate=2 * MIB)
    proxies.append(proxy)
    _point_at(hanako, proxy.url)
    data = _big(tmp_path / "out")
    argv = [sys.executable, "-m", "secure_send.cli.main", "send", str(data), "--to", TARO]
    process = subprocess.Popen(
        [*argv, "--json"],
        env=_cli_env(hanako),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    kill_once_uploading(process, org_server)
    assert process.returncode == -signal.SIGKILL
    (resume_file,) = (hanako.home / "resume").glob("*.json")
    drop_id = resume_file.stem
    assert json.loads(resume_file.read_text())["drop_id"] == drop_id
    proxy.die()
    _point_at(hanako, org_server.url)
    assert hanako.ok("resume")["resumed"] == [drop_id]
    inbox = [d["drop_id"] for d in taro.ok("inbox")["drops"]]
    assert inbox == [drop_id]  # exactly once
    got = taro.ok("receive", drop_id, "-o", str(tmp_path / "in"))
    assert Path(got["files"][0]).read_bytes() == data.read_bytes()
    assert _empty(hanako.home / "resume")
    assert _empty(hanako.home / "outbox")
    assert _partial(org_server) == []
    assert _completed_uploads(org_server, drop_id) == 2
    assert hanako.ok("resume")["resumed"] == []  # nothing left to do


def test_a_send_to_a_dead_server_fails_clearly_and_resume_finishes_it(
    enrol: Enrol, org_server: Server, tmp_path: Path, proxies: list[Proxy]
) -> None:
    hanako, taro = enrol(HANAKO, "laptop"), enrol(TARO, "desktop")
    proxy = Proxy(org_server.url)
    proxies.append(proxy)
    _point_at(hanako, proxy.url)
    data = _big(tmp_path / "out", 4 * MIB)

    # the server goes away once the upload is under way (after the drop was created)
    def kill_when_uploading() -> None:
        deadline = time.monotonic() + 30
        while proxy.upstream < MIB and time.monotonic() < deadline:
            time.sleep(0.001)
        proxy.die()

    proxy.rate = 2 * MIB  # slow enough for the watcher to act mid-upload
    watcher = threading.Thread(target=kill_when_uploading, daemon=True)
    watcher.start()
    err = hanako.fails("send", str(data), "--to", TARO)
    watcher.join(timeout=30)
    assert "connection to the drop server was lost" in err
    assert len(list((hanako.home / "resume").glob("*.json"))) == 1
    # while the server is down, a send is refused before anything is prepared
    err = hanako.fails("send", str(data), "--to", TARO)
    assert "connection" in err
    assert len(list((hanako.home / "resume").glob("*.json"))) == 1
    _point_at(hanako, org_server.url)  # the server is back
    (drop_id,) = hanako.ok("resume")["resumed"]
    got = taro.ok("receive", drop_id, "-o", str(tmp_path / "in"))
    assert Path(got["files"][0]).read_bytes() == data.read_bytes()
    assert [d["drop_id"] for d in taro.ok("inbox")["drops"]] == [drop_id]
    assert _empty(hanako.home / "resume")
    assert _empty(hanako.home / "outbox")
    assert _partial(org_server) == []
