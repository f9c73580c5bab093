"""Where the single-instance socket lives, and who is at the other end of it.

The socket used to be Qt's default for a bare name, ``/tmp/secure-send-<hash>``: a
predictable path in a world-writable folder. On a shared terminal server another
user's process could listen there first and receive the paths of the files a
colleague was about to send (issue 14, item 5). Now:

* POSIX: a full path in a folder only this user can enter — ``$XDG_RUNTIME_DIR`` when
  it is an absolute folder owned by us with no group or other access; else ``run/`` in
  the profile (itself 0700); if that path is too long for a Unix socket address, a
  ``secure-send-<uid>`` folder in the temporary folder. A folder we use is created 0700
  and refused (:class:`UnsafeSocketFolder`) if it is a symlink, not a folder, someone
  else's, or open to others.
* Both ends check the user at the other end before trusting it (:func:`peer_is_this_user`:
  ``SO_PEERCRED`` on Linux, ``LOCAL_PEERCRED`` on macOS): the first instance drops a
  connection from another user, and a later launch sends nothing to a listener that
  another user runs. Where the user cannot be read the answer is "no" (fail closed).
* Windows: a named pipe, whose name carries the session id and a hash of the user, with
  an owner-only ACL (``QLocalServer.SocketOption.UserAccessOption``).

Qt-free (stdlib only), so the checks are tested without a Qt event loop.
"""

from __future__ import annotations

import hashlib
import os
import socket
import stat
import struct
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from secure_send.core.errors import SecureSendError

RUN_FOLDER = "run"  # inside the profile
# sun_path holds 108 bytes on Linux and 104 on macOS, the final NUL included; stay
# below both so that a path that works on one works on the other.
MAX_SOCKET_PATH = 100
_XUCRED = struct.Struct("=IIh")  # macOS struct xucred: cr_version, cr_uid, cr_ngroups, …
_XUCRED_SIZE = 76  # sizeof(struct xucred): 4 + 4 + 2 (+2 padding) + 16 gids of 4
_SOL_LOCAL, _LOCAL_PEERCRED = 0, 1  # <sys/un.h> on macOS; Python has no names for them


class UnsafeSocketFolder(SecureSendError):
    """The folder for the single-instance socket is not private to this user."""


def expected_uid() -> int:
    """The user every peer must be (a function so that a test can pretend otherwise)."""
    return os.getuid()


def socket_name(profile_path: Path, env: Mapping[str, str] | None = None) -> str:
    """The ``QLocalServer``/``QLocalSocket`` name for one profile: a full path on POSIX.

    Raises:
        UnsafeSocketFolder: the folder it would live in is not private to this user.
    """
    env = os.environ if env is None else env
    digest = hashlib.sha256(str(profile_path.resolve()).encode()).hexdigest()[:16]
    leaf = f"secure-send-{digest}"
    if sys.platform == "win32":
        return f"{leaf}-{_windows_session_tag(env)}"
    runtime = env.get("XDG_RUNTIME_DIR", "")
    if runtime and Path(runtime).is_absolute() and _is_private(Path(runtime)):
        candidate = Path(runtime) / leaf
        if _fits(candidate):
            return str(candidate)
    in_profile = profile_path / RUN_FOLDER
    if _fits(in_profile / leaf):
        return str(private_folder(in_profile) / leaf)
    # a deep profile path: a per-user folder in the temporary folder, same checks
    fallback = Path(tempfile.gettempdir()) / f"secure-send-{expected_uid()}"
    return str(private_folder(fallback) / leaf)


def private_folder(path: Path) -> Path:
    """``path`` as a folder only this user can enter: created 0700 if missing.

    Raises:
        UnsafeSocketFolder: it exists as a symlink or non-folder, belongs to another
            user, or grants any access to group or others; it is not changed then.
    """
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError as err:
        raise UnsafeSocketFolder(f"cannot create {path}: {err.strerror}") from None
    if not _is_private(path):
        raise UnsafeSocketFolder(
            f"{path} must be a folder of this user with mode 0700 (not a link); refusing to use it"
        )
    return path


def _is_private(path: Path) -> bool:
    try:
        info = os.lstat(path)  # lstat: a symlink is refused, not followed
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == expected_uid()
        and stat.S_IMODE(info.st_mode) & 0o077 == 0
    )


def _fits(path: Path) -> bool:
    return len(os.fsencode(path)) <= MAX_SOCKET_PATH


def peer_uid(fd: int) -> int | None:
    """The user id of the process at the other end of the connected Unix socket ``fd``.

    None where the platform gives no answer (the caller then refuses the peer).
    """
    try:
        sock = socket.fromfd(fd, socket.AF_UNIX, socket.SOCK_STREAM)  # a dup: fd stays open
    except OSError:
        return None
    with sock:
        try:
            if sys.platform.startswith("linux"):
                raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
                _pid, uid, _gid = struct.unpack("=iII", raw)  # struct ucred
                return int(uid)
            if sys.platform == "darwin":
                raw = sock.getsockopt(_SOL_LOCAL, _LOCAL_PEERCRED, _XUCRED_SIZE)
                version, uid, _ngroups = _XUCRED.unpack_from(raw)
                return int(uid) if version == 0 else None  # XUCRED_VERSION
        except (OSError, struct.error):
            return None
    return None


def peer_is_this_user(fd: int) -> bool:
    """True only if the peer of the connected local socket ``fd`` runs as this user.

    On Windows the pipe's owner-only ACL already keeps other users out and a pipe
    handle has no uid to read: True there.
    """
    if sys.platform == "win32":
        return True
    uid = peer_uid(fd)
    return uid is not None and uid == expected_uid()


def _windows_session_tag(env: Mapping[str, str]) -> str:
    """The session id and a hash of the user, so that users of one terminal server (and
    one user's sessions) get different pipe names."""
    session = 0
    if sys.platform == "win32":
        import ctypes

        value = ctypes.c_ulong()
        if ctypes.windll.kernel32.ProcessIdToSessionId(os.getpid(), ctypes.byref(value)):
            session = value.value
    user = f"{env.get('USERDOMAIN', '')}\\{env.get('USERNAME', '')}"
    return f"{session}-{hashlib.sha256(user.encode()).hexdigest()[:16]}"
