"""Client-side verification of a fetched directory (docs/security.md, "Trust chain").

:func:`verify_directory` checks, in order: the root document chain against the
pinned keys (or the last trusted root), the snapshot header's signing key and
signature, freshness, the header chain and epoch, the log's consistency with the
last checkpoint, the Merkle root and count over the exact entry bytes received,
canonical/sorted/unique entries, role members, and every device's key binding.
Any failure raises its own :class:`DirectoryError` subclass and returns nothing:
a directory is trusted whole or not at all.
"""

from __future__ import annotations

import bisect
import datetime as dt
import gc
import hmac
import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar, cast

from secure_send.core.directory import entry_scan, merkle
from secure_send.core.directory.bundle import Bundle, Checkpoint, TrustAnchor
from secure_send.core.directory.errors import (
    DeviceKeyError,
    EntriesMismatchError,
    EntryOrderError,
    ForkError,
    MalformedDirectoryError,
    RollbackError,
    RootRollbackError,
    RootSignatureError,
    StaleDirectoryError,
)
from secure_send.core.directory.model import Entry, EntryError, Kind
from secure_send.core.directory.search import SearchIndex
from secure_send.core.directory.trust import (
    RootDocument,
    SnapshotHeader,
    advance_root,
    body_hash,
)
from secure_send.core.encoding import parse_time

CLOCK_SKEW = dt.timedelta(minutes=5)
_T = TypeVar("_T")


class BindingLedger:
    """Which entries' device key bindings were verified (by leaf hash), thread-safe.

    A directory may be trusted before every binding was checked (a cold load of
    100,000 entries checks them on first use instead): the signed Merkle root already
    vouches for the bytes; the binding check adds that each device's signing key
    signed its encryption key. :meth:`VerifiedDirectory.require_bindings` must run
    before a device's keys are used — to encrypt to it or to accept its signature.
    """

    def __init__(self, checked: frozenset[bytes] | set[bytes] = frozenset()) -> None:
        self._checked = set(checked)
        self._lock = threading.Lock()

    def checked(self) -> frozenset[bytes]:
        """Leaf hashes whose bindings were verified."""
        with self._lock:
            return frozenset(self._checked)

    def has(self, leaf: bytes) -> bool:
        """Whether this entry's bindings were verified."""
        with self._lock:
            return leaf in self._checked

    def add(self, leaf: bytes) -> None:
        """Record a verified entry."""
        with self._lock:
            self._checked.add(leaf)


class _Derived:
    """Lookups built from one verified directory's entries, each on first use, then kept
    with it: the directory never changes, so they never go stale, and a new directory
    starts with none. (At 100,000 entries the id list costs milliseconds and the search
    index most of a second: per lookup, that was the price of every inbox item.)

    One lock per lookup: two threads asking at once get one build, and a caller of a
    cheap lookup does not wait for another thread's search index build."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._built: dict[str, object] = {}

    def get(self, name: str, build: Callable[[], _T]) -> _T:
        """The value named ``name`` (each name always built by the same ``build``)."""
        if name not in self._built:  # after the first build: a dict read, no lock
            with self._lock:
                lock = self._locks.setdefault(name, threading.Lock())
            with lock:
                if name not in self._built:
                    self._built[name] = build()
        return cast(_T, self._built[name])


@dataclass(frozen=True)
class VerifiedDirectory:
    """A directory that passed every check, and the checkpoint to keep.

    ``texts`` and ``hashes`` (the exact entry bytes and their Merkle leaf hashes,
    in entry order) let the next refresh apply a small delta without re-reading
    or re-verifying the unchanged entries. ``bindings`` records which entries'
    device key bindings were verified: :meth:`require_bindings` before any use.
    The lookups (:meth:`by_id`, :meth:`checked_entries`, :meth:`search_index`) are built
    once per verified directory, on first use.
    """

    entries: tuple[Entry, ...]
    texts: tuple[str, ...]
    hashes: tuple[bytes, ...]
    checkpoint: Checkpoint
    bindings: BindingLedger = field(default_factory=BindingLedger, compare=False, repr=False)
    _derived: _Derived = field(default_factory=_Derived, init=False, compare=False, repr=False)

    @property
    def leaf_hashes(self) -> frozenset[bytes]:
        """Leaf hashes of the entries whose device bindings were verified (what a
        later verification may skip: ``known_leaves``)."""
        return self.bindings.checked() & frozenset(self.hashes)

    def by_id(self) -> Mapping[str, Entry]:
        """Entries keyed by id, bindings not checked (the server, which checked them all,
        and the log replay use it; clients look people up in :meth:`checked_entries`).
        Read-only: one mapping is shared by every caller."""
        return self._derived.get("by_id", lambda: MappingProxyType({e.id: e for e in self.entries}))

    def checked_entries(self) -> CheckedEntries:
        """Entries by id, each handed out only once its device key bindings verified."""
        return self._derived.get("checked_entries", lambda: CheckedEntries(self))

    def roles_of_member(self) -> Mapping[str, tuple[str, ...]]:
        """Each person's active role mailboxes, by person id (built once: the drop
        server asks on every file request listing, and a scan of every entry per
        request would grow with the organisation)."""
        return self._derived.get("roles_of_member", self._roles_of_member)

    def _roles_of_member(self) -> Mapping[str, tuple[str, ...]]:
        roles: dict[str, list[str]] = {}
        for entry in self.entries:
            if entry.kind is Kind.ROLE and entry.active:
                for member in entry.members:
                    roles.setdefault(member, []).append(entry.id)
        return MappingProxyType({member: tuple(ids) for member, ids in roles.items()})

    def search_index(self) -> SearchIndex:
        """The recipient search over these entries (built on the first call: most of a
        second at 100,000 entries, so not on a UI thread). Shared: never ``update`` it."""
        return self._derived.get("search_index", lambda: SearchIndex(self.entries))

    def require_bindings(self, people: Iterable[Entry]) -> None:
        """Verify (once) the device key bindings of these entries of this directory.

        Raises:
            DeviceKeyError: a device's encryption key is not signed by its signing key
                (the directory must not be used: a compromised signer's doing).
            EntriesMismatchError: an entry is not one of this directory's.
        """
        for entry in people:
            i = bisect.bisect_left(self.entries, entry.id, key=lambda e: e.id)
            if i == len(self.entries) or self.entries[i] != entry:
                raise EntriesMismatchError(f"{entry.id} is not an entry of this directory")
            leaf = self.hashes[i]
            if self.bindings.has(leaf):
                continue
            try:
                for device in entry.devices:
                    device.verify_key_binding(entry.id)
            except EntryError as err:
                raise DeviceKeyError(str(err)) from None
            self.bindings.add(leaf)


class CheckedEntries(Mapping[str, Entry]):
    """A verified directory's entries by id, each handed out only after its device key
    bindings were verified (:meth:`VerifiedDirectory.require_bindings`): the way
    clients look up recipients, senders and signers, so that no unverified binding is
    ever used. Iterating the values checks every entry (slow on purpose)."""

    def __init__(self, directory: VerifiedDirectory) -> None:
        self._directory = directory
        self._ids = [e.id for e in directory.entries]

    def __getitem__(self, entry_id: str) -> Entry:
        i = bisect.bisect_left(self._ids, entry_id)
        if i == len(self._ids) or self._ids[i] != entry_id:
            raise KeyError(entry_id)
        entry = self._directory.entries[i]
        self._directory.require_bindings([entry])  # DeviceKeyError if forged
        return entry

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


def trusted_root(bundle: Bundle, anchor: TrustAnchor, state: Checkpoint | None) -> RootDocument:
    roots = sorted(bundle.roots, key=lambda r: r.version)
    if not roots:
        raise MalformedDirectoryError("no root document")
    if state is not None:
        if roots[-1].version < state.root.version:
            raise RootRollbackError("root document older than the one already trusted")
        return advance_root(state.root, roots)
    for i, root in enumerate(roots):
        if root.org == anchor.org and root.count_valid(anchor.root_keys) >= anchor.threshold:
            root.verify_against(root.root_keys, root.threshold)
            return advance_root(root, roots[i + 1 :])
    raise RootSignatureError("no root document is signed by enough of the pinned root keys")


def check_header(
    bundle: Bundle,
    root: RootDocument,
    state: Checkpoint | None,
    now: dt.datetime,
    proof: Sequence[bytes] | None,
) -> None:
    """The header's signature, freshness, epoch and chain; with ``proof``, also the log's
    consistency with ``state`` (``None``: the caller checks the log itself, as an
    incremental sync does by extending its own compact range with the new events)."""
    header = bundle.header
    header.verify(root, now)
    if parse_time(header.issued) > now + CLOCK_SKEW:
        raise StaleDirectoryError("snapshot claims to be issued in the future (check the clock)")
    if now >= parse_time(header.expires):
        raise StaleDirectoryError("the directory snapshot has expired")
    if state is None:
        return
    if header.epoch == state.epoch and body_hash(header.body()) == state.header_hash:
        return  # the very snapshot we already hold: nothing has changed
    if header.epoch <= state.epoch:
        raise RollbackError(f"snapshot epoch {header.epoch} does not advance past {state.epoch}")
    if header.epoch == state.epoch + 1 and header.previous != state.header_hash:
        raise ForkError("snapshot does not chain to the previous one")
    if header.log_size < state.log_size:
        raise RollbackError("the event log shrank")
    if proof is None:
        return
    try:
        merkle.verify_consistency(
            state.log_size, header.log_size, state.log_root, header.log_root, proof
        )
    except merkle.ProofError:
        raise ForkError("the event log is not an extension of the one seen before") from None


def parse_entries(texts: Sequence[str]) -> tuple[list[Entry], list[bytes]]:
    """Parse, check and hash entry texts (see :func:`verify_directory`): each must be
    canonical, valid (:mod:`entry_scan`, as strict as :meth:`Entry.from_json`), and
    the ids sorted and unique."""
    hashes = [merkle.leaf_hash(t.encode("utf-8")) for t in texts]
    try:
        entries = entry_scan.parse(texts)
    except EntryError as err:
        raise EntryOrderError(f"malformed entry: {err}") from None
    ids = [e.id for e in entries]
    bad = next((b for a, b in itertools.pairwise(ids) if a >= b), None)
    if bad is not None:
        raise EntryOrderError(f"entries not sorted and unique at {bad!r}")
    return entries, hashes


def check_roles(entries: list[Entry]) -> None:
    kinds = {e.id: e.kind for e in entries}
    for entry in entries:
        for member in entry.members:
            if kinds.get(member) is not Kind.PERSON:
                raise EntriesMismatchError(f"role {entry.id} lists {member!r}, not a person")


def check_devices(entries: list[Entry], hashes: list[bytes], known: frozenset[bytes]) -> None:
    todo = [e for e, h in zip(entries, hashes, strict=True) if e.devices and h not in known]

    def check(batch: list[Entry]) -> None:
        for entry in batch:
            for device in entry.devices:
                device.verify_key_binding(entry.id)

    # libsodium releases the GIL: two threads, one half each, are ~2x faster. (One
    # future per entry would cost more in hand-offs than the signatures themselves.)
    half = (len(todo) + 1) // 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        try:
            list(pool.map(check, [todo[:half], todo[half:]]))
        except EntryError as err:
            raise DeviceKeyError(str(err)) from None


def verify_head(data: bytes, anchor: TrustAnchor, *, now: dt.datetime) -> SnapshotHeader:
    """Verify a directory's head (``GET /v1/directory/head``: the root chain and the
    signed header, no entry) against the pinned anchor: the organisation a device is
    about to enrol with is the one its configuration names, and its directory signer
    is alive (the header is fresh). Nothing about the entries is known from it.

    Raises:
        DirectoryError: its subclass names the failed check.
    """
    bundle = Bundle.head_from_bytes(data)
    check_header(bundle, trusted_root(bundle, anchor, None), None, now, None)
    return bundle.header


def verify_directory(
    data: bytes,
    anchor: TrustAnchor,
    state: Checkpoint | None = None,
    *,
    consistency_proof: Sequence[bytes] = (),
    now: dt.datetime,
    known_leaves: frozenset[bytes] = frozenset(),
    lazy_bindings: bool = False,
) -> VerifiedDirectory:
    """Verify a fetched bundle completely; see the module docstring.

    Args:
        anchor: the pinned root keys from the installed configuration.
        state: the last checkpoint, or ``None`` on first use.
        consistency_proof: from ``state.log_size`` to the new log size.
        known_leaves: leaf hashes of entries verified before (their device
            signatures need not be checked again: the same bytes are committed).
        lazy_bindings: leave the device key bindings of the other entries to
            :meth:`VerifiedDirectory.require_bindings` (a cold load of a large
            directory); everything else is checked here as always.

    Raises:
        DirectoryError: its subclass names the failed check.
    """
    # Hundreds of thousands of new objects would trigger the cyclic garbage
    # collector again and again, scanning them all each time; none form cycles.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _verify(data, anchor, state, consistency_proof, now, known_leaves, lazy_bindings)
    finally:
        if enabled:
            gc.enable()


def _verify(
    data: bytes,
    anchor: TrustAnchor,
    state: Checkpoint | None,
    consistency_proof: Sequence[bytes],
    now: dt.datetime,
    known_leaves: frozenset[bytes],
    lazy_bindings: bool,
) -> VerifiedDirectory:
    bundle = Bundle.from_bytes(data)
    root = trusted_root(bundle, anchor, state)
    check_header(bundle, root, state, now, consistency_proof)
    header = bundle.header
    entries, hashes = parse_entries(bundle.entries)
    if len(entries) != header.entry_count:
        raise EntriesMismatchError("the number of entries differs from the signed count")
    if not hmac.compare_digest(merkle.root_from_leaf_hashes(hashes), header.entries_root):
        raise EntriesMismatchError("entries do not match the signed Merkle root")
    check_roles(entries)
    if lazy_bindings:
        ledger = BindingLedger(known_leaves & frozenset(hashes))
    else:
        check_devices(entries, hashes, known_leaves)
        ledger = BindingLedger(frozenset(hashes))
    checkpoint = checkpoint_for(root, bundle)
    return VerifiedDirectory(
        tuple(entries), tuple(bundle.entries), tuple(hashes), checkpoint, ledger
    )


def checkpoint_for(root: RootDocument, bundle: Bundle) -> Checkpoint:
    """The checkpoint a client keeps after verifying ``bundle``."""
    header = bundle.header
    return Checkpoint(
        root=root,
        epoch=header.epoch,
        header_hash=body_hash(header.body()),
        log_size=header.log_size,
        log_root=header.log_root,
    )
