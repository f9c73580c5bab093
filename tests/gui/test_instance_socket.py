"""Where the single-instance socket lives and who may be at its other end (issue 14,
item 5): a folder only this user can enter, never the shared temporary folder; a
planted folder is refused, not repaired; the peer's user id is read from the kernel.

The machine runs the tests as root, so "another user" is real where it matters: a
folder chowned to ``nobody``, and a client process running as ``nobody``.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from secure_send.gui import instance_socket
from secure_send.gui.instance_socket import (
    MAX_SOCKET_PATH,
    UnsafeSocketFolder,
    peer_is_this_user,
    peer_uid,
    socket_name,
)

NOBODY = 65534
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets and modes")
needs_root = pytest.mark.skipif(
    not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root to act as another user"
)
pytestmark = posix_only


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    path = tmp_path / "p"
    path.mkdir(mode=0o700)
    return path


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_without_xdg_runtime_dir_the_socket_is_in_the_profile_not_tmp(profile: Path) -> None:
    name = Path(socket_name(profile, env={}))
    assert name.is_absolute()
    assert name.parent == profile / "run"
    assert name.parent != Path(tempfile.gettempdir())
    assert _mode(name.parent) == 0o700
    assert os.lstat(name.parent).st_uid == os.getuid()


def test_a_private_xdg_runtime_dir_is_used(profile: Path) -> None:
    # a short folder like /run/user/1000: one under pytest's numbered tmp_path grows past
    # MAX_SOCKET_PATH once a machine has run pytest a thousand times (pytest-1013/…)
    with tempfile.TemporaryDirectory(prefix="xdg-", dir="/tmp") as folder:
        runtime = Path(folder) / "run"
        runtime.mkdir(mode=0o700)
        name = Path(socket_name(profile, env={"XDG_RUNTIME_DIR": str(runtime)}))
        assert name.parent == runtime
        assert not (profile / "run").exists()


@pytest.mark.parametrize("mode", [0o755, 0o1777, 0o710])
def test_an_xdg_runtime_dir_open_to_others_is_not_used(
    profile: Path, tmp_path: Path, mode: int
) -> None:
    runtime = tmp_path / "shared"
    runtime.mkdir()
    runtime.chmod(mode)
    name = Path(socket_name(profile, env={"XDG_RUNTIME_DIR": str(runtime)}))
    assert name.parent == profile / "run"


@needs_root
def test_an_xdg_runtime_dir_of_another_user_is_not_used(profile: Path, tmp_path: Path) -> None:
    runtime = tmp_path / "theirs"
    runtime.mkdir(mode=0o700)
    os.chown(runtime, NOBODY, NOBODY)
    name = Path(socket_name(profile, env={"XDG_RUNTIME_DIR": str(runtime)}))
    assert name.parent == profile / "run"


def test_a_planted_folder_with_a_wide_mode_is_refused_and_left_alone(profile: Path) -> None:
    planted = profile / "run"
    planted.mkdir()
    planted.chmod(0o777)
    with pytest.raises(UnsafeSocketFolder, match="0700"):
        socket_name(profile, env={})
    assert _mode(planted) == 0o777  # refused, not silently "repaired"


@needs_root
def test_a_planted_folder_of_another_user_is_refused(profile: Path) -> None:
    planted = profile / "run"
    planted.mkdir(mode=0o700)
    os.chown(planted, NOBODY, NOBODY)
    with pytest.raises(UnsafeSocketFolder):
        socket_name(profile, env={})


def test_a_symlinked_folder_is_refused(profile: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)  # private and ours: only the link itself is wrong
    (profile / "run").symlink_to(target)
    with pytest.raises(UnsafeSocketFolder):
        socket_name(profile, env={})


@pytest.fixture
def short_tmp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary folder with a short path (pytest's own are too deep for this test)."""
    base = Path(tempfile.mkdtemp(prefix="ss-"))
    monkeypatch.setattr(tempfile, "tempdir", str(base))
    yield base
    shutil.rmtree(base)


def test_a_deep_profile_falls_back_to_a_private_per_user_temporary_folder(
    tmp_path: Path, short_tmp: Path
) -> None:
    deep = tmp_path / ("d" * 90)
    deep.mkdir(mode=0o700)
    name = Path(socket_name(deep, env={}))
    assert len(os.fsencode(name)) <= MAX_SOCKET_PATH
    assert name.parent == short_tmp / f"secure-send-{os.getuid()}"
    assert _mode(name.parent) == 0o700
    name.parent.chmod(0o755)  # and someone's look-alike is refused there too
    with pytest.raises(UnsafeSocketFolder):
        socket_name(deep, env={})


def test_peer_uid_of_a_socketpair_is_ours() -> None:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        assert peer_uid(left.fileno()) == os.getuid()
        assert peer_is_this_user(left.fileno())
        left.sendall(b"x")  # the descriptor still works: peer_uid read a duplicate
        assert right.recv(1) == b"x"


def test_a_peer_of_another_uid_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instance_socket, "expected_uid", lambda: os.getuid() + 1)
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        assert not peer_is_this_user(left.fileno())


def test_an_unreadable_peer_is_refused() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:  # not a Unix socket
        assert not peer_is_this_user(tcp.fileno())


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder ``nobody`` can reach (pytest's own temporary folders are root's, 0700)."""
    base = Path(tempfile.mkdtemp(prefix="ss-"))
    base.chmod(0o777)
    yield base
    shutil.rmtree(base)


@needs_root
def test_a_real_process_of_another_user_is_seen_as_such(open_folder: Path) -> None:
    """A client running as ``nobody`` connects; the kernel's answer names it."""
    path = open_folder / "s"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        path.chmod(0o777)
        server.listen()
        server.settimeout(20)
        code = (
            "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.recv(1)"
        )
        # the system Python: the project's virtualenv may not be readable by nobody
        python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
        client = subprocess.Popen([python, "-c", code, str(path)], user=NOBODY)
        try:
            conn, _ = server.accept()
            with conn:
                assert peer_uid(conn.fileno()) == NOBODY
                assert not peer_is_this_user(conn.fileno())
                conn.sendall(b"x")
        finally:
            assert client.wait(timeout=20) == 0
