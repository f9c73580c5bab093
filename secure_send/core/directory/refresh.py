"""Incremental directory refresh: apply a delta to the last verified directory.

A delta carries the new signed header (and root chain) plus only the entries
that changed since the client's checkpoint. The client merges them into its
verified entries, recomputes the Merkle root over the exact bytes, and checks
it against the signed header: the result is exactly as trustworthy as a full
download, at the cost of the changes only. Unchanged entries keep the checks
they passed before (their bytes, and so their leaf hashes, are identical).
"""

from __future__ import annotations

import bisect
import datetime as dt
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from secure_send.core.directory import merkle
from secure_send.core.directory.bundle import Bundle, Checkpoint, TrustAnchor
from secure_send.core.directory.errors import EntriesMismatchError
from secure_send.core.directory.model import Entry, Kind
from secure_send.core.directory.trust import RootDocument, SnapshotHeader
from secure_send.core.directory.verify import (
    BindingLedger,
    VerifiedDirectory,
    check_devices,
    check_header,
    checkpoint_for,
    parse_entries,
    trusted_root,
)

DELTA_FORMAT = "secure-send/directory-delta/v1"


@dataclass(frozen=True)
class Delta:
    """What changed since a client's checkpoint, under a new signed header."""

    roots: tuple[RootDocument, ...]
    header: SnapshotHeader
    changed: tuple[str, ...]  # canonical entry texts, sorted by id

    def to_bytes(self) -> bytes:
        """Serialised for sending."""
        return Bundle(self.roots, self.header, self.changed).to_bytes(DELTA_FORMAT)

    @classmethod
    def from_bytes(cls, data: bytes) -> Delta:
        """Parse; raises :class:`MalformedDirectoryError`."""
        bundle = Bundle.from_bytes(data, DELTA_FORMAT)
        return cls(bundle.roots, bundle.header, bundle.entries)


def apply_delta(
    previous: VerifiedDirectory,
    data: bytes,
    anchor: TrustAnchor,
    *,
    consistency_proof: Sequence[bytes] = (),
    now: dt.datetime,
) -> VerifiedDirectory:
    """Verify a delta against ``previous`` and return the new directory.

    Raises:
        DirectoryError: as :func:`~secure_send.core.directory.verify.verify_directory`.
    """
    delta = Delta.from_bytes(data)
    as_bundle = Bundle(delta.roots, delta.header, delta.changed)
    root = trusted_root(as_bundle, anchor, previous.checkpoint)
    check_header(as_bundle, root, previous.checkpoint, now, consistency_proof)
    changed, changed_hashes = parse_entries(delta.changed)
    entries, texts, hashes = merge_entries(previous, changed, list(delta.changed), changed_hashes)
    if len(entries) != delta.header.entry_count:
        raise EntriesMismatchError("the number of entries differs from the signed count")
    if not hmac.compare_digest(merkle.root_from_leaf_hashes(hashes), delta.header.entries_root):
        raise EntriesMismatchError("entries do not match the signed Merkle root")
    _check_changed_roles(changed, entries)
    check_devices(changed, changed_hashes, frozenset())
    checkpoint: Checkpoint = checkpoint_for(root, as_bundle)
    ledger = BindingLedger(previous.bindings.checked() | frozenset(changed_hashes))
    return VerifiedDirectory(tuple(entries), tuple(texts), tuple(hashes), checkpoint, ledger)


def merge_entries(
    previous: VerifiedDirectory, changed: list[Entry], texts: list[str], hashes: list[bytes]
) -> tuple[list[Entry], list[str], list[bytes]]:
    """``previous``'s entries (with their texts and leaf hashes) with ``changed`` put in
    place or inserted in id order; an entry may not change from person to role."""
    entries = list(previous.entries)
    all_texts = list(previous.texts)
    all_hashes = list(previous.hashes)
    ids = [e.id for e in entries]
    for entry, text, leaf in zip(changed, texts, hashes, strict=True):
        i = bisect.bisect_left(ids, entry.id)
        if i < len(ids) and ids[i] == entry.id:
            if entries[i].kind is not entry.kind:
                raise EntriesMismatchError(f"{entry.id} changed from person to role or back")
            entries[i], all_texts[i], all_hashes[i] = entry, text, leaf
        else:  # a new entry: keep the list sorted by id, as the publisher does
            ids.insert(i, entry.id)
            entries.insert(i, entry)
            all_texts.insert(i, text)
            all_hashes.insert(i, leaf)
    return entries, all_texts, all_hashes


def _check_changed_roles(changed: list[Entry], entries: list[Entry]) -> None:
    roles = [e for e in changed if e.kind is Kind.ROLE]
    if not roles:
        return
    ids = [e.id for e in entries]
    for role in roles:
        for member in role.members:
            i = bisect.bisect_left(ids, member)
            if i == len(ids) or ids[i] != member or entries[i].kind is not Kind.PERSON:
                raise EntriesMismatchError(f"role {role.id} lists {member!r}, not a person")
