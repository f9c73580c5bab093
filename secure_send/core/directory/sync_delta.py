"""Incremental sync by the log: a client advances its verified directory by replaying
the events appended since its checkpoint (docs/security.md, "Every change justified by
the log").

A :class:`SyncDelta` carries the new signed header (and root chain) and the event
lines after the client's log size — no entries. :func:`apply_sync` checks, in order:
the root chain and header (signature, freshness, epoch, chain to the checkpoint);
that the events are exactly the leaves appended to the client's own log (its compact
range, extended by their leaf hashes, must give the signed log root — so the log is
consistent and nothing was left out); that every event applies to the entries the
client verified before (replay: device key bindings, members, statuses); and that
the replayed entries hash to the signed entries root and count.

Guarantees: the result is exactly as trustworthy as a full verification *and* every
entry that changed is justified by a signed log event — a snapshot holding a device
no event put there is refused. Limits: entries the client received in a full bundle
(a new device, or one too far behind) are trusted as signed, not replayed.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass

from secure_send.core.directory import merkle
from secure_send.core.directory.bundle import Bundle, TrustAnchor
from secure_send.core.directory.errors import EntriesMismatchError, ForkError
from secure_send.core.directory.log import Event, LogError, apply, touched_entry
from secure_send.core.directory.model import Entry
from secure_send.core.directory.refresh import merge_entries
from secure_send.core.directory.trust import RootDocument, SnapshotHeader
from secure_send.core.directory.verify import (
    BindingLedger,
    VerifiedDirectory,
    check_header,
    checkpoint_for,
    trusted_root,
)

SYNC_FORMAT = "secure-send/directory-sync/v1"
# A client this many log events behind (or fewer) must be sent the events, never a
# whole bundle: otherwise a server could skip the log's justification of every change.
# (A constant both sides know; a signed limit in the header would let IT tune it.)
MAX_SYNC_EVENTS = 20_000


@dataclass(frozen=True)
class SyncDelta:
    """A signed header and the log events since a client's log size."""

    roots: tuple[RootDocument, ...]
    header: SnapshotHeader
    events: tuple[bytes, ...]  # canonical event lines, in log order

    def to_bytes(self) -> bytes:
        """The line format of bundles, with event lines where entries would be."""
        lines = tuple(e.decode("utf-8") for e in self.events)
        return Bundle(self.roots, self.header, lines).to_bytes(SYNC_FORMAT)

    @classmethod
    def from_bytes(cls, data: bytes) -> SyncDelta:
        """Parse; raises :class:`MalformedDirectoryError`."""
        bundle = Bundle.from_bytes(data, SYNC_FORMAT)
        return cls(bundle.roots, bundle.header, tuple(t.encode("utf-8") for t in bundle.entries))


def apply_sync(
    previous: VerifiedDirectory,
    log: merkle.CompactRange,
    data: bytes,
    anchor: TrustAnchor,
    *,
    now: dt.datetime,
) -> tuple[VerifiedDirectory, merkle.CompactRange]:
    """Verify a sync delta against ``previous`` (and the client's own ``log`` range at
    its checkpoint); returns the new directory and log range. See the module docstring.

    Raises:
        DirectoryError: its subclass names the failed check.
    """
    delta = SyncDelta.from_bytes(data)
    as_bundle = Bundle(delta.roots, delta.header, ())
    state = previous.checkpoint
    root = trusted_root(as_bundle, anchor, state)
    check_header(as_bundle, root, state, now, None)
    extended = _extend_log(log, state.log_size, state.log_root, delta)
    changed = _replay(previous, delta.events, state.log_size)
    texts = [e.canonical_bytes().decode("utf-8") for e in changed]
    hashes = [merkle.leaf_hash(t.encode("utf-8")) for t in texts]
    entries, all_texts, all_hashes = merge_entries(previous, changed, texts, hashes)
    header = delta.header
    if len(entries) != header.entry_count or not hmac.compare_digest(
        merkle.root_from_leaf_hashes(all_hashes), header.entries_root
    ):
        raise EntriesMismatchError("the snapshot's entries do not follow from its log")
    checkpoint = checkpoint_for(root, as_bundle)
    # entries the events changed have new leaf hashes: their bindings are checked on use
    ledger = BindingLedger(previous.bindings.checked())
    verified = VerifiedDirectory(
        tuple(entries), tuple(all_texts), tuple(all_hashes), checkpoint, ledger
    )
    return verified, extended


def _extend_log(
    log: merkle.CompactRange, size: int, log_root: bytes, delta: SyncDelta
) -> merkle.CompactRange:
    if log.size != size or not hmac.compare_digest(log.root(), log_root):
        raise ForkError("this device's log record does not match its checkpoint")
    if delta.header.log_size - size != len(delta.events):
        raise ForkError("the delta does not carry every event since this device's checkpoint")
    extended = merkle.CompactRange(log.size, log.hashes)
    extended.extend(merkle.leaf_hash(line) for line in delta.events)
    if not hmac.compare_digest(extended.root(), delta.header.log_root):
        raise ForkError("the events are not the log the snapshot signs")
    return extended


def _replay(previous: VerifiedDirectory, events: tuple[bytes, ...], start: int) -> list[Entry]:
    """The entries the events change, replayed over the verified ones, sorted by id."""
    if not events:
        return []
    entries = {e.id: e for e in previous.entries}  # its own dict: the events change it
    touched: set[str] = set()
    for seq, line in enumerate(events, start):
        try:
            event = Event.from_bytes(line)
            if event.seq != seq:
                raise LogError(f"event {seq} missing (found seq {event.seq})")
            apply(entries, event)
        except LogError as err:
            raise EntriesMismatchError(f"the log does not replay: {err}") from None
        entry_id = touched_entry(event)
        if entry_id is not None:
            touched.add(entry_id)
    return [entries[i] for i in sorted(touched)]
