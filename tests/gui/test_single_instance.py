"""The single-instance socket between two launches of the app (issue 14, item 5).

A local user on a shared terminal server must not receive the paths of the files
another user sends (``年末調整_山田太郎_個人番号.xlsx``): the real ``QLocalServer`` is
in a folder only its user can enter, a listener planted at the old predictable
``/tmp/secure-send-<hash>`` gets nothing, and each end drops a peer of another user.

"Another user" at the peer is simulated by changing the uid the code expects
(``instance_socket.expected_uid``): the socket folder is 0700, so a real second user
cannot reach the socket at all; ``test_instance_socket.py`` reads a real ``nobody``
peer's uid through the same function.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QDir
from pytestqt.qtbot import QtBot

from secure_send.gui import instance_socket, single_instance

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets and modes")


@pytest.fixture
def profile(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A profile with a short path (pytest's are too deep for a socket), no XDG folder."""
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    base = Path(tempfile.mkdtemp(prefix="ss-"))
    path = base / "profile"
    path.mkdir(mode=0o700)
    yield path
    shutil.rmtree(base)


@pytest.fixture
def listener(qtbot: QtBot, profile: Path) -> Iterator[single_instance.Listener]:
    running = single_instance.Listener(single_instance.server_name(profile))
    assert running.server.isListening()
    yield running
    running.close()


def _files(profile: Path) -> list[Path]:
    secret = profile.parent / "年末調整_山田太郎_個人番号.xlsx"
    secret.write_bytes(b"data")
    return [secret]


def _send_raw(name: str, paths: list[Path]) -> None:
    """What a launch sends, from a plain socket (no check of the listener's user)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.connect(name)
        client.sendall(json.dumps({"paths": [str(p) for p in paths]}).encode())


def test_the_listening_socket_is_in_a_folder_only_this_user_can_enter(
    listener: single_instance.Listener,
) -> None:
    where = Path(listener.server.fullServerName())
    assert where.is_absolute()
    assert where.parent != Path(QDir.tempPath())
    assert where.parent != Path(tempfile.gettempdir())
    info = os.lstat(where.parent)
    assert stat.S_ISDIR(info.st_mode)
    assert info.st_uid == os.getuid()
    assert stat.S_IMODE(info.st_mode) == 0o700
    assert stat.S_ISSOCK(os.lstat(where).st_mode)


def test_a_listener_at_the_old_predictable_path_receives_nothing(profile: Path) -> None:
    old_digest = hashlib.sha256(str(profile.resolve()).encode()).hexdigest()[:16]
    old_path = Path(QDir.tempPath()) / f"secure-send-{old_digest}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as planted:
        planted.bind(str(old_path))
        try:
            planted.listen()
            planted.settimeout(0.5)
            name = single_instance.server_name(profile)
            assert not single_instance.forward(name, _files(profile))
            with pytest.raises(TimeoutError):
                planted.accept()  # nobody came
        finally:
            old_path.unlink()


def test_a_launch_sends_nothing_to_a_listener_of_another_user(
    profile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A socket at the right path whose listener runs as someone else gets no paths."""
    name = single_instance.server_name(profile)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as planted:
        planted.bind(name)
        planted.listen()
        planted.settimeout(5)
        monkeypatch.setattr(instance_socket, "expected_uid", lambda: os.getuid() + 1)
        assert not single_instance.forward(name, _files(profile))
        conn, _ = planted.accept()
        with conn:
            conn.settimeout(5)
            assert conn.recv(1 << 16) == b""  # connected, then dropped with no byte sent


def test_the_app_drops_a_connection_from_another_user(
    qtbot: QtBot, listener: single_instance.Listener, profile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = listener.server.fullServerName()
    with qtbot.waitSignal(listener.paths_received, timeout=5_000) as got:  # control: same user
        _send_raw(name, _files(profile))
    assert [Path(p) for p in got.args[0]] == _files(profile)
    monkeypatch.setattr(instance_socket, "expected_uid", lambda: os.getuid() + 1)
    with qtbot.assertNotEmitted(listener.paths_received, wait=1_500):
        _send_raw(name, _files(profile))
