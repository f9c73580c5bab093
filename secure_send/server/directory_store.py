"""The directory as the drop server holds it: public documents the signer pushed.

The server holds no private directory key and cannot make a snapshot a client
accepts. It keeps the organisation's trust anchor (``HOME/directory/anchor.json``,
written by ``secure-send-admin server-home``: each server's own pinned root), the
last signed snapshot byte for byte and the event log its ``log_root`` commits to.
The snapshot and log live in :mod:`.directory_docs`' files, or in PostgreSQL when
several servers share it (:mod:`.pg_directory`).

Guarantees of :meth:`PublishedDirectory.accept`: a push is stored only if its
snapshot verifies against the anchor and chains to the one held (epoch, header
hash, consistency of the log) — the held version read under the documents' lock —
and the stored log plus the pushed events hash to exactly the signed ``log_root``;
otherwise nothing changes. Every load verifies what is stored against the anchor:
documents that do not verify are :class:`DamagedDirectory`, never served. These
checks protect the server's own consistency and availability; they are not what
protects users — every client verifies every snapshot against its pinned anchor.

Freshness: the held snapshot is reloaded when the documents' version changes. For
the files that is looked at on every request (a revocation another process stored
counts from the very next request); for PostgreSQL, see :mod:`.pg_directory` (a
push through another server counts here within the NOTIFY latency, at most ~1 s).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from secure_send.core.directory import merkle
from secure_send.core.directory.bundle import Bundle, TrustAnchor
from secure_send.core.directory.errors import (
    DirectoryError,
    MalformedDirectoryError,
    StaleDirectoryError,
)
from secure_send.core.directory.model import Device, Entry, Kind
from secure_send.core.directory.push import DirectoryKind, Push
from secure_send.core.directory.refresh import Delta, apply_delta
from secure_send.core.directory.server_folder import ANCHOR_FILE, directory_dir
from secure_send.core.directory.sync_delta import SyncDelta
from secure_send.core.directory.trust import SnapshotHeader, body_hash
from secure_send.core.directory.verify import VerifiedDirectory, verify_directory
from secure_send.core.encoding import parse_time, utc_now
from secure_send.core.errors import SecureSendError
from secure_send.server.directory_docs import Documents, FileDocuments
from secure_send.server.loop_db import WouldBlock

log = logging.getLogger("secure_send.server")

K = TypeVar("K")
V = TypeVar("V")


class PushRefused(DirectoryError):
    """A push does not continue the held snapshot and log (``stale``: it starts at
    another log size — the signer should ask again and resend)."""

    def __init__(self, message: str, *, stale: bool = False) -> None:
        super().__init__(message)
        self.stale = stale


class DamagedDirectory(SecureSendError):
    """The stored documents (``HOME/directory/``, or the database's tables) do not
    verify: the server's own copy is damaged (a disk fault, an edit by hand). Deliberately not a
    :class:`DirectoryError`: routes that answer "no directory held yet" do not catch it,
    and the app answers ``503 server_directory_damaged`` so that a client can tell its
    user to tell IT (the signer cannot repair it: a push must continue what is held)."""


@dataclass(frozen=True)
class _Held:
    """One verified snapshot and the log lines it commits to."""

    stamp: Hashable  # the documents' version it was read at
    data: bytes
    verified: VerifiedDirectory
    header: SnapshotHeader
    lines: tuple[bytes, ...]
    leaves: tuple[bytes, ...]
    by_id: Mapping[str, Entry]  # the verified directory's own (built once, shared)
    tree: merkle.CompactRange  # over ``leaves``: a push's proof and root cost its events
    log_bytes: int  # the size of ``lines`` in the events file (newline each)
    # computed answers for anonymous callers, per held snapshot (see ``_memo``)
    proofs: dict[tuple[int, int], list[bytes]] = field(default_factory=dict)  # by sizes
    ranges: dict[int, list[bytes]] = field(default_factory=dict)  # by log size
    syncs: dict[int, bytes] = field(default_factory=dict)  # by the client's log size


class PublishedDirectory:
    """The server's copy of the signed directory; see the module docstring."""

    def __init__(self, home: Path, documents: Documents | None = None) -> None:
        self.folder = directory_dir(home)
        self.anchor = TrustAnchor.from_json(
            json.loads((self.folder / ANCHOR_FILE).read_text(encoding="utf-8"))
        )
        self.documents: Documents = documents or FileDocuments(self.folder)
        self._lock = threading.Lock()
        self._held: _Held | None = None
        self._damaged: Hashable | None = None  # the version last found damaged

    # ---------------------------------------------------------------- reading

    def held(self, *, blocking: bool = True) -> _Held:
        """The current snapshot, reloaded when the documents' version changed (see the
        module docstring for how soon another process's push counts).

        ``blocking=False`` (the event loop): the held snapshot if the documents are
        still the version it was read from, else :class:`WouldBlock` (a reload
        verifies the whole directory: a worker thread's job), as when another thread
        holds the lock.

        Raises:
            DamagedDirectory: the stored documents do not verify or do not agree
                (logged once per change of the documents).
            OSError: nothing is stored.
        """
        if not blocking:
            if not self._lock.acquire(blocking=False):
                raise WouldBlock
            try:
                if self._held is None or self._held.stamp != self.documents.stamp():
                    raise WouldBlock
                return self._held
            finally:
                self._lock.release()
        with self._lock:
            return self._current(self.documents.stamp())

    def _current(self, stamp: Hashable) -> _Held:
        """The snapshot of version ``stamp``, loaded if it is not the held one (under
        ``self._lock``)."""
        if self._held is None or self._held.stamp != stamp:
            try:
                self._held = self._load(stamp, self._held)
            except DirectoryError as err:
                where = self.documents.where
                if self._damaged != stamp:
                    self._damaged = stamp
                    log.error(
                        "the server's copy of the directory in %s is damaged (%s): "
                        "clients get 503 server_directory_damaged; see "
                        "docs/deployment.md, 'When the server refuses to start'",
                        where,
                        err,
                    )
                raise DamagedDirectory(
                    f"the server's copy of the directory in {where} is damaged: {err}"
                ) from None
        return self._held

    def _load(self, stamp: Hashable, previous: _Held | None) -> _Held:
        data, stored = self.documents.read()
        header = Bundle.peek_header(data)
        # Verified as of its own issue time: an expired snapshot is still what the
        # server holds (and serves: clients judge freshness); auth refuses it.
        known = previous.verified.leaf_hashes if previous else frozenset()
        verified = verify_directory(
            data, self.anchor, now=parse_time(header.issued), known_leaves=known
        )
        lines = stored[: header.log_size]
        leaves = tuple(merkle.leaf_hash(line) for line in lines)
        if len(lines) != header.log_size or merkle.root_from_leaf_hashes(leaves) != (
            header.log_root
        ):
            raise MalformedDirectoryError("the stored event log does not match the snapshot")
        tree = merkle.CompactRange()
        tree.extend(leaves)
        size = sum(len(line) + 1 for line in lines)
        return _Held(stamp, data, verified, header, lines, leaves, verified.by_id(), tree, size)

    def bundle_bytes(self) -> bytes:
        """The snapshot as clients download it."""
        return self.held().data

    def head_bytes(self) -> bytes:
        """The snapshot's head line (format, root chain, signed header, entry count)
        with its newline: everything of the bundle but the entries."""
        data = self.held().data
        return data[: data.index(b"\n") + 1]

    def etag(self) -> str:
        """The held snapshot's HTTP entity tag: its header hash, quoted."""
        return f'"{body_hash(self.held().header.body())}"'

    def header(self) -> SnapshotHeader:
        """The held snapshot's header."""
        return self.held().header

    def roles_of(self, user: str) -> tuple[str, ...]:
        """The active role mailboxes ``user`` is a member of, in the held snapshot."""
        return self.held().verified.roles_of_member().get(user, ())

    def entries(self, *, blocking: bool = True) -> Mapping[str, Entry]:
        """Entries by id of a snapshot that has not expired (``blocking``: see :meth:`held`).

        Raises:
            DirectoryError: nothing current to authenticate against.
        """
        held = self.held(blocking=blocking)
        if utc_now() >= parse_time(held.header.expires):
            raise StaleDirectoryError("the directory snapshot has expired (is the signer running?)")
        return held.by_id

    def person_device(
        self, user: str, device: str, *, blocking: bool = True
    ) -> tuple[Entry, Device] | None:
        """The person and device a key id names, if both are listed (any status)."""
        entry = self.entries(blocking=blocking).get(user)
        if entry is None or entry.kind is not Kind.PERSON:
            return None
        found = next((d for d in entry.devices if d.id == device), None)
        return None if found is None else (entry, found)

    def _memo(self, cache: dict[K, V], limit: int, key: K, compute: Callable[[], V]) -> V:
        """``cache[key]``, computed once per held snapshot (the caches live in it and go
        with it) and bounded by ``limit``: anonymous callers choose the sizes, so they
        must not make the server hash or slice the whole log again and again."""
        with self._lock:
            cached = cache.get(key)
        if cached is None:
            cached = compute()
            with self._lock:
                if len(cache) >= limit:
                    cache.clear()
                cache[key] = cached
        return cached

    def sync_since(self, log_size: int) -> bytes:
        """The held header and the log events after ``log_size`` (a sync delta)."""
        held = self.held()

        def build() -> bytes:
            roots = Bundle.from_bytes(held.data).roots
            return SyncDelta(roots, held.header, held.lines[log_size:]).to_bytes()

        return self._memo(held.syncs, 64, log_size, build)

    def frontier(self, size: int) -> list[bytes]:
        """The compact range (one subtree root per set bit of ``size``) of the held log's
        first ``size`` events: what a client extends with later events."""
        held = self.held()

        def build() -> list[bytes]:
            tree = merkle.CompactRange()
            tree.extend(held.leaves[:size])
            return list(tree.hashes)

        hashes: list[bytes] = self._memo(held.ranges, 4096, size, build)
        return list(hashes)  # a copy: the cached list stays as it was

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Proof that the held log's first ``new_size`` events (default: all) extend its
        first ``old_size``."""
        held = self.held()
        new = len(held.leaves) if new_size is None else new_size

        def build() -> list[bytes]:
            return merkle.consistency_proof(list(held.leaves[:new]), old_size, new)

        proof: list[bytes] = self._memo(held.proofs, 4096, (old_size, new), build)
        return list(proof)

    # ---------------------------------------------------------------- writing

    def accept(self, push: Push) -> SnapshotHeader:
        """Verify and store a push; returns the new header (the old one when the push
        carries only enrolment results).

        Raises:
            PushRefused: it does not continue what is held.
            DirectoryError: its snapshot does not verify.
        """
        with self.documents.writing() as writer:
            with self._lock:  # the version read under the documents' lock: no race
                held = self._current(writer.stamp())
            if push.log_from != held.header.log_size:
                raise PushRefused(
                    f"push starts at log size {push.log_from}, the server holds "
                    f"{held.header.log_size}",
                    stale=True,
                )
            if push.kind is DirectoryKind.NONE:
                if push.events:
                    raise PushRefused("events without the snapshot that commits to them")
                return held.header
            added = [merkle.leaf_hash(line) for line in push.events]
            proof = _consistency_proof(held.tree, added)
            verified, data = self._verify(held, push, proof)
            header = Bundle.peek_header(data)
            tree = merkle.CompactRange(held.tree.size, held.tree.hashes)
            tree.extend(added)
            if header.log_size != tree.size or header.log_root != tree.root():
                raise PushRefused("the pushed events are not the log the snapshot signs")
            writer.store(held.log_bytes, held.header.log_size, push.events, data)
            stamp = writer.stored()  # under the lock: no later push's version
        # the block ended without an error: the push is stored (and committed)
        with self._lock:
            self._held = _Held(
                stamp,
                data,
                verified,
                header,
                held.lines + push.events,
                held.leaves + tuple(added),
                verified.by_id(),
                tree,
                held.log_bytes + sum(len(line) + 1 for line in push.events),
            )
        return header

    def _verify(
        self, held: _Held, push: Push, proof: list[bytes]
    ) -> tuple[VerifiedDirectory, bytes]:
        now = utc_now()
        if push.kind is DirectoryKind.BUNDLE:
            verified = verify_directory(
                push.directory,
                self.anchor,
                held.verified.checkpoint,
                consistency_proof=proof,
                now=now,
                known_leaves=held.verified.leaf_hashes,
            )
            return verified, push.directory
        verified = apply_delta(
            held.verified, push.directory, self.anchor, consistency_proof=proof, now=now
        )
        delta = Delta.from_bytes(push.directory)
        return verified, Bundle(delta.roots, delta.header, verified.texts).to_bytes()


def _consistency_proof(old: merkle.CompactRange, added: list[bytes]) -> list[bytes]:
    """``merkle.consistency_proof(leaves, old.size)`` over the old leaves plus ``added``,
    from the old tree's compact range and the added leaf hashes only (O(events + log n)
    instead of hashing the whole log on every push).

    The same walk as ``merkle.consistency_proof``: a left step's subtree is the next
    perfect subtree of the old tree (its size is the highest power of two left in the
    old size), a right step's range lies wholly after the old size, and the final
    range is the rest of the old tree, whose hash folds the remaining subtrees.
    """
    size, new_size = old.size, old.size + len(added)
    if size in (0, new_size):
        return []
    nodes = list(old.hashes)  # perfect subtrees covering [0, size), largest first
    outer: list[bytes] = []
    start, end, m, whole = 0, new_size, size, True
    while m != end - start:
        k = 1 << ((end - start - 1).bit_length() - 1)
        if m <= k:
            outer.append(merkle.root_from_leaf_hashes(added[start + k - size : end - size]))
            end = start + k
        else:
            outer.append(nodes.pop(0))
            start, m, whole = start + k, m - k, False
    if not whole:
        outer.append(merkle.CompactRange(m, nodes).root())
    return outer[::-1]
