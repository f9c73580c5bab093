"""What a killed run leaves behind, recorded before it is made and swept at the next start.

A receive decrypts into hidden ``.NAME.<hex>.partial`` files beside their targets
(:class:`~secure_send.core.atomic.AtomicOutput`): plaintext, possibly hundreds of MB.
A kill before commit or discard leaves them. So the receiver records each one's path
in the profile *before* it is created (:class:`PartialJournal`: one small file per
partial under ``partials/``, fsynced), and removes the record once the file is placed
or deleted. :func:`sweep` (run by :meth:`Session.open
<secure_send.client.session.Session.open>`, so by the CLI and the app alike, and
before each receive) deletes every recorded partial that still exists and clears the
record. The user's folders are never listed: only recorded paths are touched, and
only if they still carry the hidden partial name (:data:`~secure_send.core.atomic.PARTIAL_NAME`).

A prepare writes ``outbox/<drop id>/`` and last the resume file naming it; a kill in
between leaves a folder nothing will ever use. :func:`sweep` removes outbox folders
without a resume file.

Both kinds are protected while their maker runs by an ``flock`` it holds (a record
file, the outbox folder's ``.lock``): a second process (the app in the tray while the
CLI runs) skips what is locked, and a killed process's locks are released by the OS.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from secure_send.client.profile import Profile
from secure_send.core.atomic import PARTIAL_NAME, fsync_dir, private_dir

log = logging.getLogger(__name__)
LOCK_NAME = ".lock"
# an outbox folder is locked a moment after it is made: one without a lock is left
# alone for this long (seconds)
UNLOCKED_GRACE = 60.0


def _journal_dir(profile: Profile) -> Path:
    return profile.path / "partials"


class PartialJournal:
    """The records of one receive's hidden partial files (see the module docstring).

    :meth:`record` is given to ``AtomicOutput(before_create=...)``; :meth:`close`
    (after every output was committed or discarded) removes the records."""

    def __init__(self, profile: Profile) -> None:
        self._folder = _journal_dir(profile)
        self._held: list[tuple[Path, int]] = []  # record file, its locked descriptor

    def record(self, partial: Path) -> None:
        """Record ``partial`` durably before it is created; the record stays locked
        by this process until :meth:`close`."""
        private_dir(self._folder)
        name = os.urandom(8).hex()
        tmp, final = self._folder / f"{name}.tmp", self._folder / f"{name}.json"
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # before it has a name a sweep reads
            os.write(fd, json.dumps({"path": str(partial)}).encode())
            os.fsync(fd)
            os.rename(tmp, final)  # the lock stays with the file
            fsync_dir(self._folder)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        self._held.append((final, fd))

    def close(self) -> None:
        """Forget the records (their files were placed or deleted by now)."""
        for path, fd in self._held:
            with contextlib.suppress(OSError):
                path.unlink()
            os.close(fd)
        self._held.clear()


def sweep(profile: Profile) -> list[Path]:
    """Delete what killed runs left: recorded partials and outbox folders without a
    resume file; returns what was deleted. Never raises for a file it cannot remove
    (a start-up must not fail over a leftover): such are logged and kept for next time."""
    removed = sweep_partials(profile)
    removed += _sweep_outbox(profile)
    return removed


def sweep_partials(profile: Profile) -> list[Path]:
    """Delete every partial recorded by a run that is no longer running."""
    folder = _journal_dir(profile)
    if not folder.is_dir():
        return []
    removed = []
    for record in sorted(folder.iterdir()):
        if record.suffix not in (".json", ".tmp"):
            continue
        if record.suffix == ".tmp" and _young(record):
            # being made right now (locked a moment after it is created): a receive on
            # another thread (save all) or process must not lose its record mid-way
            continue
        with _unlocked(record) as fd:
            if fd is None:
                continue  # its receive is still running
            partial = _recorded_path(fd) if record.suffix == ".json" else None
            if partial is not None and _delete_partial(partial):
                removed.append(partial)
            record.unlink(missing_ok=True)
    return removed


@contextlib.contextmanager
def _unlocked(path: Path) -> Iterator[int | None]:
    """``path`` opened and locked by us, or None if another process holds it (or it went)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        yield None
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        yield fd
    finally:
        os.close(fd)


def _recorded_path(fd: int) -> Path | None:
    try:
        obj = json.loads(os.read(fd, 65536))
        return Path(obj["path"]) if isinstance(obj.get("path"), str) else None
    except (ValueError, AttributeError, KeyError, OSError):
        return None  # a record torn by the kill: its partial was never created


def _delete_partial(path: Path) -> bool:
    # only a hidden partial name, and only a regular file (not a link someone put there)
    if not path.is_absolute() or not PARTIAL_NAME.fullmatch(path.name):
        return False
    try:
        if not path.is_symlink() and path.is_file():
            path.unlink()
            log.warning("deleted a partly received file a stopped run left: %s", path)
            return True
    except OSError as err:
        log.warning("cannot delete a partly received file %s: %s", path, err.strerror)
    return False


def _sweep_outbox(profile: Profile) -> list[Path]:
    if not profile.outbox_dir.is_dir():
        return []
    removed = []
    for folder in sorted(profile.outbox_dir.iterdir()):
        if not folder.is_dir() or (profile.resume_dir / f"{folder.name}.json").exists():
            continue
        with _unlocked(folder / LOCK_NAME) as fd:
            if fd is None and ((folder / LOCK_NAME).exists() or _young(folder)):
                continue  # being prepared right now (or just made, not yet locked)
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _young(folder: Path) -> bool:
    try:
        return time.time() - folder.stat().st_mtime < UNLOCKED_GRACE
    except OSError:
        return True


@contextlib.contextmanager
def preparing(outbox: Path) -> Iterator[None]:
    """Hold ``outbox``'s lock while a send is prepared into it (a sweep leaves it be)."""
    fd = os.open(outbox / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
