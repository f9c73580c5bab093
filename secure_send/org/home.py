"""An organisation's home folder: keys, root documents, the event log, codes, output.

All state of one organisation lives under one folder (``--home``). Writers take
an exclusive lock, every file is replaced atomically, and the log is appended
and fsynced before anything is published from it, so a crash at any point
leaves either the old state or the new one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.signing

from secure_send.core.atomic import (
    AtomicOutput,
    OutputExistsError,
    exclusive_lock,
    open_private_append,
    private_dir,
)
from secure_send.core.directory import merkle
from secure_send.core.directory.bundle import Bundle, TrustAnchor
from secure_send.core.directory.log import Action, Event, apply, replay
from secure_send.core.directory.model import Entry
from secure_send.core.directory.refresh import Delta
from secure_send.core.directory.trust import RootDocument, SnapshotHeader, body_hash
from secure_send.core.encoding import format_time, utc_now
from secure_send.core.errors import SecureSendError
from secure_send.org.keys import OFFLINE_README, read_key, write_key
from secure_send.org.replay_cache import current_entries, current_state


class HomeError(SecureSendError):
    """The organisation home is missing, incomplete or already initialised."""


@dataclass(frozen=True)
class OrgSettings:
    """Per-organisation settings kept in ``org.json``."""

    org: str
    server_url: str = ""
    snapshot_hours: int = 24
    signing_key_days: int = 365

    def to_json(self) -> dict[str, Any]:
        """For ``org.json``."""
        return dict(self.__dict__)


def write_json(path: Path, value: Any) -> None:
    """Replace ``path`` atomically with pretty UTF-8 JSON."""
    private_dir(path.parent)
    with AtomicOutput(path, overwrite=True) as out:
        out.file.write(json.dumps(value, ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
        out.commit()


class OrgHome:
    """Typed access to the files of one organisation."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # id -> (entry, canonical text, leaf hash): a publish re-encodes and re-hashes
        # only the entries that changed since the last one made by this object
        self._texts: dict[str, tuple[Entry, str, bytes]] = {}

    # ---------------------------------------------------------------- layout

    @property
    def settings_file(self) -> Path:
        return self.path / "org.json"

    @property
    def offline_dir(self) -> Path:
        return self.path / "offline-root"

    @property
    def signing_key_file(self) -> Path:
        return self.path / "online" / "signing.key"

    @property
    def signer_identity_file(self) -> Path:
        """The directory signer's own Ed25519 key for talking to the drop server (the
        server pins its public half; it signs requests, never directories)."""
        return self.path / "online" / "signer-identity.key"

    @property
    def roots_dir(self) -> Path:
        return self.path / "roots"

    @property
    def log_file(self) -> Path:
        return self.path / "log" / "events.ndjson"

    @property
    def codes_file(self) -> Path:
        return self.path / "codes.json"

    @property
    def pending_dir(self) -> Path:
        return self.path / "pending"

    @property
    def cache_file(self) -> Path:
        return self.path / "cache" / "replay.json"

    @property
    def bundle_file(self) -> Path:
        return self.path / "published" / "directory.json"

    # ---------------------------------------------------------------- basics

    def exists(self) -> bool:
        """Whether ``init`` has run here."""
        return self.settings_file.exists()

    def require(self) -> None:
        """Raise :class:`HomeError` unless initialised."""
        if not self.exists():
            raise HomeError(f"no organisation in {self.path} (run: secure-send-admin init)")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive lock for commands that change state (every file and folder of the
        home is the owner's only: 0600 / 0700, whatever the umask)."""
        with exclusive_lock(self.path):
            yield

    def settings(self) -> OrgSettings:
        """Read ``org.json``."""
        self.require()
        return OrgSettings(**json.loads(self.settings_file.read_text(encoding="utf-8")))

    def save_settings(self, settings: OrgSettings) -> None:
        """Write ``org.json``."""
        write_json(self.settings_file, settings.to_json())

    # ---------------------------------------------------------------- keys and roots

    def root_key_files(self) -> list[Path]:
        """The root key files present (may be fewer than the threshold once moved offline)."""
        return sorted(self.offline_dir.glob("root-*.key"))

    def create_root_keys(self, count: int) -> list[nacl.signing.SigningKey]:
        """Make ``count`` new root keys under ``offline-root/``."""
        private_dir(self.offline_dir)
        with AtomicOutput(self.offline_dir / "README.txt", overwrite=True) as out:
            out.file.write(OFFLINE_README.encode("utf-8"))
            out.commit()
        keys = [nacl.signing.SigningKey.generate() for _ in range(count)]
        for i, key in enumerate(keys, start=1):
            write_key(self.offline_dir / f"root-{i}.key", key)
        return keys

    def root_keys(self) -> list[nacl.signing.SigningKey]:
        """Load the root keys available here."""
        return [read_key(p) for p in self.root_key_files()]

    def signing_key(self) -> nacl.signing.SigningKey:
        """The online directory signing key."""
        return read_key(self.signing_key_file)

    def signer_identity(self) -> nacl.signing.SigningKey:
        """The signer's request-signing key, made on first use."""
        if not self.signer_identity_file.exists():
            private_dir(self.signer_identity_file.parent)
            with contextlib.suppress(OutputExistsError):  # made meanwhile by another process
                write_key(self.signer_identity_file, nacl.signing.SigningKey.generate())
        return read_key(self.signer_identity_file)

    def roots(self) -> list[RootDocument]:
        """Every root document version, oldest first."""
        files = sorted(self.roots_dir.glob("root-*.json"))
        return [RootDocument.from_json(json.loads(p.read_text(encoding="utf-8"))) for p in files]

    def current_root(self) -> RootDocument:
        """The newest root document."""
        roots = self.roots()
        if not roots:
            raise HomeError("no root document: the home is incomplete")
        return roots[-1]

    def save_root(self, root: RootDocument) -> None:
        """Store a root document version (never replaces one)."""
        path = self.roots_dir / f"root-{root.version:04d}.json"
        if path.exists():
            raise HomeError(f"root document version {root.version} already exists")
        write_json(path, root.to_json())

    def anchor(self) -> TrustAnchor:
        """What clients pin: the first root document's keys and threshold."""
        first = self.roots()[0]
        return TrustAnchor(first.org, first.root_keys, first.threshold)

    # ---------------------------------------------------------------- log

    def events(self) -> list[Event]:
        """Every event, in order."""
        if not self.log_file.exists():
            return []
        with open(self.log_file, "rb") as f:
            return [Event.from_bytes(line.rstrip(b"\n")) for line in f if line.strip()]

    def append(
        self, operator: str, action: Action, data: dict[str, Any], time: str | None = None
    ) -> Event:
        """Append one event; see :meth:`append_all`."""
        return self.append_all(operator, [(action, data)], time)[0]

    def append_all(
        self,
        operator: str,
        changes: list[tuple[Action, dict[str, Any]]],
        time: str | None = None,
    ) -> list[Event]:
        """Append events after checking that they all apply; fsync before returning.

        The whole batch is checked by one replay, then written with one fsync: an
        import of 100,000 people is one pass, not 100,000. ``time`` (default: now)
        stamps every event; an enrolment passes the time its device carries.
        """
        self.require()
        entries, lines = current_entries(self.log_file, self.cache_file)
        time = time or format_time(utc_now())
        new = [
            Event(len(lines) + i, time, operator, action, data)
            for i, (action, data) in enumerate(changes)
        ]
        for event in new:  # raises LogError if any does not apply
            apply(entries, event)
        with open_private_append(self.log_file) as f:
            f.write(b"".join(e.canonical_bytes() + b"\n" for e in new))
            f.flush()
            os.fsync(f.fileno())
        return new

    def entries(self) -> dict[str, Entry]:
        """The directory as the log says it is now (replay, helped by the cache)."""
        return current_entries(self.log_file, self.cache_file)[0]

    # ---------------------------------------------------------------- publishing

    def published(self) -> Bundle | None:
        """The last published bundle, if any."""
        if not self.bundle_file.exists():
            return None
        return Bundle.from_bytes(self.bundle_file.read_bytes())

    def published_header(self) -> SnapshotHeader | None:
        """The last published snapshot's header, read from the bundle's head line only
        (the entries after it are not read)."""
        try:
            with open(self.bundle_file, "rb") as f:
                return Bundle.peek_header(f.readline())
        except FileNotFoundError:
            return None

    def publish(self, now: dt.datetime | None = None) -> Bundle:
        """Sign and write a new snapshot of the log's current state."""
        now = now or utc_now()
        settings = self.settings()
        root = self.current_root()
        state = current_state(self.log_file, self.cache_file)
        texts, leaves = self._canonical(state.entries)
        previous = self.published_header()
        header = SnapshotHeader(
            org=settings.org,
            epoch=previous.epoch + 1 if previous else 1,
            issued=format_time(now),
            expires=format_time(now + dt.timedelta(hours=settings.snapshot_hours)),
            entry_count=len(texts),
            entries_root=merkle.root_from_leaf_hashes(leaves),
            log_size=len(state.lines),
            log_root=state.log_root,
            previous=body_hash(previous.body()) if previous else "",
            root_version=root.version,
        ).signed_by(self.signing_key())
        bundle = Bundle(tuple(self.roots()), header, texts)
        private_dir(self.bundle_file.parent)
        with AtomicOutput(self.bundle_file, overwrite=True) as out:
            out.file.write(bundle.to_bytes())
            out.commit()
        return bundle

    def _canonical(self, entries: dict[str, Entry]) -> tuple[tuple[str, ...], list[bytes]]:
        """The entries' canonical texts and leaf hashes, sorted by id."""
        cache, texts, leaves = self._texts, [], []
        for entry_id in sorted(entries):
            entry = entries[entry_id]
            known = cache.get(entry_id)
            # entries are immutable: the same object still has the same text
            if known is None or known[0] is not entry:
                text = entry.canonical_bytes().decode("utf-8")
                known = cache[entry_id] = (entry, text, merkle.leaf_hash(text.encode("utf-8")))
            texts.append(known[1])
            leaves.append(known[2])
        return tuple(texts), leaves

    def delta_since(self, log_size: int) -> Delta:
        """The entries changed since the snapshot whose log had ``log_size`` events,
        under the current signed header (what a client with that checkpoint needs)."""
        bundle = self.published()
        if bundle is None:
            raise HomeError("nothing published yet")
        old = replay(self.events()[:log_size])
        changed = tuple(
            text
            for text in bundle.entries
            if (entry_id := json.loads(text)["id"]) not in old
            or old[entry_id].canonical_bytes().decode("utf-8") != text
        )
        return Delta(bundle.roots, bundle.header, changed)

    def consistency_proof(self, old_size: int) -> list[bytes]:
        """Proof that the current log extends its first ``old_size`` events."""
        hashes = [merkle.leaf_hash(e.canonical_bytes()) for e in self.events()]
        return merkle.consistency_proof(hashes, old_size, len(hashes))
