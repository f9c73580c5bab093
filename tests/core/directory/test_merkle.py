"""Tests for the RFC 6962 / RFC 9162 Merkle tree in secure_send.core.directory.merkle.

Expected values come from an independent oracle written here straight from the
RFC 6962 §2.1 text (recursive MTH, PATH, PROOF/SUBPROOF over slices, hashing with
hashlib directly), and from the published roots of Certificate Transparency's
reference test leaves. Nothing below calls the module under test to get an
expected value.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secure_send.core.directory import merkle
from secure_send.core.directory.merkle import (
    CompactRange,
    MerkleError,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    root_from_leaf_hashes,
)
from secure_send.core.errors import SecureSendError
from tests.merkle_kit import (
    CT_LEAVES,
    CT_ROOTS,
    EMPTY_SHA256,
    HASHES,
    LEAVES,
    MAX,
    REF_ROOTS,
    SETTINGS,
    _sha,
    ref_mth,
)

# ------------------------------------------------------------------ hashing and roots


def test_hash_primitives_follow_rfc_6962() -> None:
    assert leaf_hash(b"abc") == _sha(b"\x00abc")
    assert node_hash(b"L" * 32, b"R" * 32) == _sha(b"\x01" + b"L" * 32 + b"R" * 32)
    assert root([]).hex() == EMPTY_SHA256
    assert root_from_leaf_hashes([]).hex() == EMPTY_SHA256
    assert root([b"abc"]) == leaf_hash(b"abc")


@pytest.mark.parametrize("size", range(1, 9))
def test_ct_known_answer_roots(size: int) -> None:
    assert ref_mth(CT_LEAVES[:size]).hex() == CT_ROOTS[size - 1]  # the oracle itself
    assert root(CT_LEAVES[:size]).hex() == CT_ROOTS[size - 1]
    hashes = [leaf_hash(x) for x in CT_LEAVES[:size]]
    assert root_from_leaf_hashes(hashes).hex() == CT_ROOTS[size - 1]


def test_roots_match_oracle_for_all_small_sizes() -> None:
    for n in range(MAX + 1):
        assert root_from_leaf_hashes(HASHES[:n]) == REF_ROOTS[n], n


@SETTINGS
@given(st.lists(st.binary(max_size=40), max_size=300))
def test_roots_match_oracle_for_random_leaves(leaves: list[bytes]) -> None:
    assert root(leaves) == ref_mth(leaves)


@pytest.fixture
def hash_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts SHA-256 computations in the module: ``hash_calls[0]``, resettable."""
    count = [0]
    real = hashlib.sha256

    def counting(data: bytes = b"") -> hashlib._Hash:
        count[0] += 1
        return real(data)

    monkeypatch.setattr(merkle, "_sha256", counting)
    return count


def test_root_costs_exactly_n_minus_one_node_hashes(hash_calls: list[int]) -> None:
    hashes = HASHES * 10  # 3,000 leaves, not a power of two
    assert root_from_leaf_hashes(hashes) == ref_mth(LEAVES * 10)
    assert hash_calls[0] == len(hashes) - 1


@pytest.mark.parametrize("bad", [b"", b"x" * 31, b"x" * 33])
def test_malformed_leaf_hash_rejected(bad: bytes) -> None:
    with pytest.raises(MerkleError):
        root_from_leaf_hashes([HASHES[0], bad])
    with pytest.raises(MerkleError):
        inclusion_proof([HASHES[0], bad], 0)
    with pytest.raises(MerkleError):
        consistency_proof([bad, HASHES[1], HASHES[2]], 2)  # inside the old subtree
    with pytest.raises(MerkleError):
        CompactRange().append(bad)


def test_errors_are_typed() -> None:
    assert issubclass(ProofError, MerkleError)
    assert issubclass(MerkleError, SecureSendError)
    assert not issubclass(MerkleError, ValueError)


# ------------------------------------------------------------------ compact range


@SETTINGS
@given(st.lists(st.integers(0, 40), max_size=12))
def test_compact_range_matches_full_root(chunks: list[int]) -> None:
    rng, done = CompactRange(), 0
    assert rng.root() == REF_ROOTS[0]
    for chunk in chunks:
        k = min(chunk, len(HASHES) - 1 - done)
        rng.extend(HASHES[done : done + k])
        done += k
        assert rng.size == done
        assert rng.root() == ref_mth(LEAVES[:done])
        restored = CompactRange(rng.size, rng.hashes)
        restored.append(HASHES[done])
        assert restored.root() == ref_mth(LEAVES[: done + 1])


def test_compact_range_refresh_of_large_log_is_cheap(hash_calls: list[int]) -> None:
    big = [_sha(b"\x00%d" % i) for i in range(100_003)]
    rng = CompactRange()
    rng.extend(big[:100_000])
    assert rng.root() == root_from_leaf_hashes(big[:100_000])
    assert len(rng.hashes) == bin(100_000).count("1")
    hash_calls[0] = 0
    rng.extend(big[100_000:])
    new_root = rng.root()
    # k appends merge k + popcount(n) - popcount(n + k) times; root() joins the rest.
    assert hash_calls[0] == 3 + bin(100_000).count("1") - 1  # O(k + log n), not O(n)
    assert new_root == root_from_leaf_hashes(big)


@pytest.mark.parametrize(
    ("size", "hashes"),
    [(1, []), (3, [HASHES[0]]), (2, [HASHES[0], HASHES[1]]), (-1, []), (1, [b"x" * 31])],
)
def test_compact_range_rejects_inconsistent_state(size: int, hashes: list[bytes]) -> None:
    with pytest.raises(MerkleError):
        CompactRange(size, hashes)


def test_compact_range_refuses_to_overflow_uint64() -> None:
    full = CompactRange(2**64 - 1, [HASHES[i] for i in range(64)])
    with pytest.raises(MerkleError):
        full.append(HASHES[0])
    assert full.size == 2**64 - 1
