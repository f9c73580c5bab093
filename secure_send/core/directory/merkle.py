"""Merkle trees, inclusion and consistency proofs exactly as RFC 6962 / RFC 9162 §2.1.

Generators take trusted local data and raise :class:`MerkleError` on bad
arguments. Verifiers take untrusted data and raise :class:`ProofError` on any
failure, malformed input included; they return only when the proof holds. A
proof does not authenticate a tree size: verify against a size and root taken
from the same signed tree head. All hashes are 32-byte SHA-256 digests.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

from secure_send.core.errors import SecureSendError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_MAX_SIZE = 2**64 - 1  # RFC 9162 tree sizes are uint64
_LEAF = b"\x00"
_NODE = b"\x01"
_sha256 = hashlib.sha256


class MerkleError(SecureSendError):
    """Invalid input to a Merkle computation: a size or index out of range, a bad hash."""


class ProofError(MerkleError):
    """An inclusion or consistency proof, or the tree head it is checked against, is invalid."""


def leaf_hash(data: bytes) -> bytes:
    """The RFC 6962 leaf hash ``SHA-256(0x00 || data)`` of one entry's bytes."""
    return _sha256(_LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 6962 interior hash ``SHA-256(0x01 || left || right)`` (no length checks)."""
    return _sha256(_NODE + left + right).digest()


def _check_hashes(hashes: Iterable[bytes], error: type[MerkleError]) -> None:
    if not set(map(len, hashes)) <= {HASH_SIZE}:
        raise error(f"every hash must be {HASH_SIZE} bytes")


def _levels(hashes: Sequence[bytes]) -> list[list[bytes]]:
    """All levels, leaves first; an odd last node is carried up (= RFC 6962's split)."""
    _check_hashes(hashes, MerkleError)
    level = list(hashes)
    levels = [level]
    sha, prefix = _sha256, _NODE
    while len(level) > 1:
        pairs = zip(level[0::2], level[1::2], strict=False)
        nxt = [sha(prefix + a + b).digest() for a, b in pairs]
        if len(level) & 1:
            nxt.append(level[-1])
        levels.append(nxt)
        level = nxt
    return levels


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash (MTH) of a list of leaf hashes.

    Iterative, O(n) time and memory: exactly ``n - 1`` node hashes, no recursion.

    Raises:
        MerkleError: a hash is not 32 bytes.
    """
    if not hashes:
        return EMPTY_ROOT
    return _levels(hashes)[-1][0]


def root(leaves: Iterable[bytes]) -> bytes:
    """The Merkle Tree Hash of raw leaf data (each leaf is hashed with :func:`leaf_hash`)."""
    return root_from_leaf_hashes([leaf_hash(leaf) for leaf in leaves])


def inclusion_proof(hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The RFC 6962 audit path (``PATH``) for leaf ``index``, from its sibling upwards.

    Costs O(n): the whole tree is hashed on each call.

    Raises:
        MerkleError: ``index`` is outside ``[0, len(hashes))`` or a hash is malformed.
    """
    if not 0 <= index < len(hashes):
        raise MerkleError("leaf index outside the tree")
    proof = []
    for level in _levels(hashes)[:-1]:
        sibling = index ^ 1
        if sibling < len(level):  # else: the last, odd node is carried up unpaired
            proof.append(level[sibling])
        index >>= 1
    return proof


def consistency_proof(
    hashes: Sequence[bytes], old_size: int, new_size: int | None = None
) -> list[bytes]:
    """The RFC 6962 consistency proof (``PROOF``/``SUBPROOF``) from ``old_size`` to ``new_size``.

    ``new_size`` defaults to ``len(hashes)``; only the first ``new_size`` hashes
    are used. The proof is empty when ``old_size`` is 0 or equals ``new_size``.
    Costs O(new_size).

    Raises:
        MerkleError: not ``0 <= old_size <= new_size <= len(hashes)``, or a bad hash.
    """
    new_size = len(hashes) if new_size is None else new_size
    if not 0 <= old_size <= new_size <= len(hashes):
        raise MerkleError("need 0 <= old_size <= new_size <= number of leaves")
    _check_hashes(hashes[:new_size], MerkleError)
    if old_size in (0, new_size):
        return []
    outer: list[bytes] = []  # SUBPROOF's appended hashes, outermost first
    start, end, m, whole = 0, new_size, old_size, True
    while m != end - start:
        k = 1 << ((end - start - 1).bit_length() - 1)  # largest power of 2 < n
        if m <= k:
            outer.append(root_from_leaf_hashes(hashes[start + k : end]))
            end = start + k
        else:
            outer.append(root_from_leaf_hashes(hashes[start : start + k]))
            start, m, whole = start + k, m - k, False
    if not whole:  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
        outer.append(root_from_leaf_hashes(hashes[start:end]))
    return outer[::-1]


def _check_head(size: int, root_hash: bytes) -> None:
    if not 0 <= size <= _MAX_SIZE:
        raise ProofError("tree size outside 0..2**64-1")
    if len(root_hash) != HASH_SIZE:
        raise ProofError(f"root hash must be {HASH_SIZE} bytes")


def _check_root(computed: bytes, expected: bytes) -> None:
    if not hmac.compare_digest(computed, expected):
        raise ProofError("computed root does not match the tree head")


def _fold(fn: int, sn: int, seed: bytes, path: Sequence[bytes]) -> tuple[bytes, bytes]:
    """The shared loop of RFC 9162 §2.1.3.2 step 4 and §2.1.4.2 step 6: ``(fr, sr)``.

    Inclusion verification uses ``sr`` (its ``r``); consistency uses both. Fails
    unless ``sn`` reaches 0 exactly when the path is used up.
    """
    fr = sr = seed
    for c in path:
        if sn == 0:
            raise ProofError("proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("proof is too short")
    return fr, sr


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree with ``size`` leaves and ``root``.

    Follows RFC 9162 §2.1.3.2. A proof with missing or extra elements fails.

    Raises:
        ProofError: the proof does not hold, or any input is malformed.
    """
    _check_head(size, root)
    _check_hashes([leaf_hash, *proof], ProofError)
    if not 0 <= index < size:
        raise ProofError("leaf index outside the tree")
    _check_root(_fold(index, size - 1, leaf_hash, proof)[1], root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree (``new_size``, ``new_root``) extends (``old_size``, ``old_root``).

    Follows RFC 9162 §2.1.4.2 and its edge cases: equal sizes need an empty proof
    and equal roots; ``old_size == 0`` needs an empty proof, and ``old_root`` must
    then be the empty tree's root (stricter than the RFC, which ignores it).

    Raises:
        ProofError: the proof does not hold, ``old_size > new_size``, or bad input.
    """
    _check_head(old_size, old_root)
    _check_head(new_size, new_root)
    _check_hashes(proof, ProofError)
    if old_size > new_size:
        raise ProofError("the old tree is larger than the new tree")
    if old_size in (0, new_size):
        if proof:
            raise ProofError("expected an empty consistency proof")
        _check_root(old_root, EMPTY_ROOT if old_size == 0 else new_root)
        return
    if not proof:
        raise ProofError("empty consistency proof")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is a subtree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr, sr = _fold(fn, sn, path[0], path[1:])
    _check_root(fr, old_root)
    _check_root(sr, new_root)


class CompactRange:
    """The roots of the perfect subtrees covering leaves ``[0, size)`` of an append-only log.

    Holds one hash per set bit of ``size`` (at most 64), largest subtree first.
    Appending k leaves costs at most k + 64 hashes and :meth:`root` at most 63,
    however large the log. Persist (``size``, ``hashes``) to resume later.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        """Start empty, or resume from a persisted ``size`` and :attr:`hashes`.

        Raises:
            MerkleError: ``hashes`` is not one 32-byte hash per set bit of ``size``.
        """
        if not 0 <= size <= _MAX_SIZE or len(hashes) != size.bit_count():
            raise MerkleError("compact range hashes do not match its size")
        _check_hashes(hashes, MerkleError)
        self._size = size
        self._hashes = list(hashes)

    @property
    def size(self) -> int:
        """The number of leaves covered."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The subtree roots, largest (leftmost) first."""
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> None:
        """Append one leaf hash, merging equal-sized subtrees.

        Raises:
            MerkleError: the hash is not 32 bytes, or the log already has 2**64-1 leaves.
        """
        if len(leaf_hash) != HASH_SIZE or self._size == _MAX_SIZE:
            raise MerkleError("bad leaf hash, or the log is full")
        stack, n = self._hashes, self._size
        stack.append(leaf_hash)
        while n & 1:
            right = stack.pop()
            stack[-1] = node_hash(stack[-1], right)
            n >>= 1
        self._size += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append leaf hashes in order; on an error, those before the bad one stay appended."""
        for h in leaf_hashes:
            self.append(h)

    def root(self) -> bytes:
        """The Merkle Tree Hash of all leaves so far; equals :func:`root_from_leaf_hashes`."""
        if not self._hashes:
            return EMPTY_ROOT
        r = self._hashes[-1]
        for h in reversed(self._hashes[:-1]):
            r = node_hash(h, r)
        return r
