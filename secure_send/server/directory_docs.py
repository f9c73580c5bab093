"""Where the server keeps the directory documents the signer pushed (issue 18).

:class:`.directory_store.PublishedDirectory` verifies; this is only the storage under
it, behind :class:`Documents`, so the same checks run over either:

* :class:`FileDocuments` — ``HOME/directory/directory.bundle`` and ``events.ndjson``
  (one server, or several sharing nothing: the embedded backend);
* :class:`.pg_directory.PgDocuments` — two tables in the shared PostgreSQL, so a push
  through any server reaches them all.

The trust anchor is never stored here: it stays ``HOME/directory/anchor.json``, each
server's own pinned root, whatever holds the documents.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Hashable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

from secure_send.core.atomic import AtomicOutput, exclusive_lock, open_private_append
from secure_send.core.directory.server_folder import BUNDLE_FILE, EVENTS_FILE


class Writer(Protocol):
    """The documents while a push is stored: nothing else stores meanwhile."""

    def stamp(self) -> Hashable:
        """The version held now (read under the lock: what the push must continue)."""
        ...

    def store(self, log_bytes: int, log_size: int, events: Sequence[bytes], data: bytes) -> None:
        """Cut the log to ``log_size`` lines (``log_bytes`` bytes), append ``events``
        and replace the bundle with ``data``."""
        ...

    def stored(self) -> Hashable:
        """The version :meth:`store` made (read under the lock; in force once the
        block ends without an error)."""
        ...


class Documents(Protocol):
    """The held bundle and event log, and the version that says when they changed."""

    where: str  # for log lines and errors: a place, never a secret

    def stamp(self) -> Hashable:
        """The version now, cheaply (never waits on the network; may ``stat``).

        Raises:
            OSError: nothing is stored.
        """
        ...

    def read(self) -> tuple[bytes, tuple[bytes, ...]]:
        """The bundle and the complete log lines, consistent with each other at least
        as far as the bundle's ``log_size`` (lines past it may be a later push's)."""
        ...

    def writing(self) -> contextlib.AbstractContextManager[Writer]:
        """Exclusive access for one push; its writes are in place when the block ends."""
        ...


class FileDocuments:
    """``HOME/directory/``: the events are appended and fsynced before the bundle is
    replaced atomically, so a crash leaves the old snapshot (extra log lines past its
    ``log_size`` are ignored, and cut off by the next push); the lock is a file lock,
    so several processes on the same folder store one push at a time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.where = str(folder)
        self.bundle_file = folder / BUNDLE_FILE
        self.events_file = folder / EVENTS_FILE

    def stamp(self) -> tuple[int, int, int]:
        # the file's identity: a bundle another process replaced counts at once
        st = self.bundle_file.stat()
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def read(self) -> tuple[bytes, tuple[bytes, ...]]:
        data = self.bundle_file.read_bytes()  # first: the log is appended before it
        try:
            raw = self.events_file.read_bytes()
        except FileNotFoundError:
            return data, ()
        return data, tuple(raw.split(b"\n")[:-1])  # a torn last line is not in the log

    @contextlib.contextmanager
    def writing(self) -> Iterator[Writer]:
        with exclusive_lock(self.folder):
            yield _FileWriter(self)


class _FileWriter:
    def __init__(self, docs: FileDocuments) -> None:
        self.docs = docs

    def stamp(self) -> tuple[int, int, int]:
        return self.docs.stamp()

    def store(self, log_bytes: int, log_size: int, events: Sequence[bytes], data: bytes) -> None:
        with open_private_append(self.docs.events_file) as f:
            f.truncate(log_bytes)  # drop lines a crash left past the held snapshot's log
            f.seek(log_bytes)
            f.write(b"".join(line + b"\n" for line in events))
            f.flush()
            os.fsync(f.fileno())
        with AtomicOutput(self.docs.bundle_file, overwrite=True) as out:
            out.file.write(data)
            out.commit()

    def stored(self) -> tuple[int, int, int]:
        return self.docs.stamp()
