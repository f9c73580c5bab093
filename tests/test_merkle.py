"""Tests for the RFC 6962 / RFC 9162 Merkle tree in secure_send.core.directory.merkle.

Expected values come from an independent oracle written here straight from the
RFC 6962 §2.1 text (recursive MTH, PATH, PROOF/SUBPROOF over slices, hashing with
hashlib directly), and from the published roots of Certificate Transparency's
reference test leaves. Nothing below calls the module under test to get an
expected value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
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
    verify_consistency,
    verify_inclusion,
)
from secure_send.core.errors import SecureSendError

SETTINGS = settings(max_examples=100, deadline=None)

# ------------------------------------------------------------------ RFC 6962 oracle


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1), by counting up."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 6962 §2.1, over raw leaf data."""
    if len(d) == 0:
        return _sha(b"")
    if len(d) == 1:
        return _sha(b"\x00" + d[0])
    k = _split(len(d))
    return _sha(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 §2.1.1."""
    if len(d) == 1:
        return []
    k = _split(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 6962 §2.1.2."""
    if m == len(d):
        return [] if b else [ref_mth(d)]
    k = _split(len(d))
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 6962 §2.1.2 (defined there for 0 < m < n)."""
    return ref_subproof(m, d, True)


# ------------------------------------------------------------------ data and helpers

# Certificate Transparency's reference test leaves (merkle_tree_test.cc) and the
# published roots of the trees over their first 1..8 entries.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

MAX = 64
LEAVES = [b"entry-%d" % i for i in range(300)]
HASHES = [_sha(b"\x00" + d) for d in LEAVES]
REF_ROOTS = [ref_mth(LEAVES[:n]) for n in range(MAX + 1)]


def flip(h: bytes, bit: int = 0) -> bytes:
    """h with one bit inverted."""
    out = bytearray(h)
    out[(bit // 8) % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


def rejects_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], head: bytes) -> None:
    """verify_inclusion must raise ProofError for these arguments."""
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, proof, head)


def rejects_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> None:
    """verify_consistency must raise ProofError for these arguments."""
    with pytest.raises(ProofError):
        verify_consistency(old, new, old_root, new_root, proof)


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


# ------------------------------------------------------------------ inclusion proofs


@pytest.mark.parametrize("n", range(1, MAX + 1))
def test_inclusion_proofs_match_oracle_and_verify(n: int) -> None:
    for i in range(n):
        proof = inclusion_proof(HASHES[:n], i)
        assert proof == ref_path(i, LEAVES[:n]), (n, i)
        verify_inclusion(HASHES[i], i, n, proof, REF_ROOTS[n])


@pytest.mark.parametrize("n", range(1, MAX + 1))
def test_inclusion_tampering_fails(n: int) -> None:
    good_root = REF_ROOTS[n]
    for i in range(n):
        proof = inclusion_proof(HASHES[:n], i)
        for j in range(len(proof)):
            bad = [*proof[:j], flip(proof[j], 8 * j + i), *proof[j + 1 :]]
            rejects_inclusion(HASHES[i], i, n, bad, good_root)
            missing = proof[:j] + proof[j + 1 :]
            rejects_inclusion(HASHES[i], i, n, missing, good_root)
        for extra in ([*proof, HASHES[0]], [HASHES[0], *proof]):
            rejects_inclusion(HASHES[i], i, n, extra, good_root)
        bad_root, bad_leaf = flip(good_root, 255 - 3 * i), flip(HASHES[i], n)  # any byte
        rejects_inclusion(HASHES[i], i, n, proof, bad_root)
        rejects_inclusion(bad_leaf, i, n, proof, good_root)
        for other in range(n):  # the proof pins the index
            if other != i:
                rejects_inclusion(HASHES[i], other, n, proof, good_root)


@pytest.mark.parametrize("n", range(1, 33))
def test_inclusion_proof_for_other_tree_head_fails(n: int) -> None:
    """A proof checked against another (size, root) of the same log fails.

    The proof does not carry the size: with the *same* root, a size whose path has
    the same shape can pass, so sizes must come from the signed tree head. We check
    the real other heads, and the same root with sizes of a different path length.
    """
    for i in range(n):
        proof = inclusion_proof(HASHES[:n], i)
        for s in range(i + 1, 33):
            if s == n:
                continue
            rejects_inclusion(HASHES[i], i, s, proof, REF_ROOTS[s])
            if len(ref_path(i, LEAVES[:s])) != len(proof):
                rejects_inclusion(HASHES[i], i, s, proof, REF_ROOTS[n])


@SETTINGS
@given(st.data())
def test_inclusion_random_trees(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, len(HASHES)))
    i = data.draw(st.integers(0, n - 1))
    good_root = ref_mth(LEAVES[:n])
    proof = inclusion_proof(HASHES[:n], i)
    assert proof == ref_path(i, LEAVES[:n])
    verify_inclusion(HASHES[i], i, n, proof, good_root)
    j = data.draw(st.integers(0, len(proof) - 1)) if proof else None
    if j is not None:
        proof[j] = flip(proof[j], data.draw(st.integers(0, 255)))
        rejects_inclusion(HASHES[i], i, n, proof, good_root)


@pytest.mark.parametrize(
    ("leaf", "index", "size", "proof", "root_hash"),
    [
        (HASHES[0], 0, 0, [], REF_ROOTS[0]),  # empty tree holds nothing
        (HASHES[0], 1, 1, [], REF_ROOTS[1]),  # index == size
        (HASHES[0], -1, 1, [], REF_ROOTS[1]),
        # would verify if sizes beyond uint64 were allowed:
        (HASHES[0], 2**64, 2**64 + 1, [HASHES[1]], _sha(b"\x01" + HASHES[1] + HASHES[0])),
        (b"x" * 31, 0, 1, [], b"x" * 31),  # 31-byte "hashes" that agree
        (HASHES[0], 0, 2, [b"abc"], _sha(b"\x01" + HASHES[0] + b"abc")),
        (HASHES[0][:31], 0, 1, [], REF_ROOTS[1]),
        (HASHES[0], 0, 1, [], REF_ROOTS[1] + b"\x00"),
        (HASHES[0], 0, 2, [HASHES[1][:31]], REF_ROOTS[2]),
        (HASHES[0], 0, 1, [], b""),
    ],
)
def test_inclusion_malformed_inputs(
    leaf: bytes, index: int, size: int, proof: list[bytes], root_hash: bytes
) -> None:
    rejects_inclusion(leaf, index, size, proof, root_hash)


def _n(left: bytes, right: bytes) -> bytes:
    return _sha(b"\x01" + left + right)


def test_inclusion_crafted_length_attacks() -> None:
    """Proofs built so the root matches, but with the wrong number of elements."""
    leaf, p = HASHES[0], HASHES[1]
    rejects_inclusion(leaf, 0, 1, [p], _n(p, leaf))  # one element too many


def test_inclusion_proof_rejects_bad_index() -> None:
    for index in (-1, 3):
        with pytest.raises(MerkleError):
            inclusion_proof(HASHES[:3], index)


# ------------------------------------------------------------------ consistency proofs


@pytest.mark.parametrize("n", range(1, MAX + 1))
def test_consistency_proofs_match_oracle_and_verify(n: int) -> None:
    for m in range(n + 1):
        proof = consistency_proof(HASHES[:n], m)
        assert proof == consistency_proof(HASHES, m, n)
        assert proof == ([] if m in (0, n) else ref_proof(m, LEAVES[:n])), (m, n)
        verify_consistency(m, n, REF_ROOTS[m], REF_ROOTS[n], proof)


@pytest.mark.parametrize("n", range(2, MAX + 1))
def test_consistency_tampering_fails(n: int) -> None:
    new = REF_ROOTS[n]
    for m in range(1, n):
        old, proof = REF_ROOTS[m], consistency_proof(HASHES, m, n)
        for j in range(len(proof)):
            bad = [*proof[:j], flip(proof[j], 8 * j + m), *proof[j + 1 :]]
            rejects_consistency(m, n, old, new, bad)
            missing = proof[:j] + proof[j + 1 :]
            rejects_consistency(m, n, old, new, missing)
        for extra in ([*proof, HASHES[0]], [HASHES[0], *proof]):
            rejects_consistency(m, n, old, new, extra)
        rejects_consistency(m, n, flip(old, 255 - n - m), new, proof)  # any byte
        rejects_consistency(m, n, old, flip(new, 4 * m), proof)
        rejects_consistency(m, n, new, old, proof)  # swapped roots
        rejects_consistency(n, m, new, old, proof)  # old > new


@pytest.mark.parametrize("n", range(2, 25))
def test_consistency_proof_for_other_tree_heads_fails(n: int) -> None:
    for m in range(1, n):
        proof = consistency_proof(HASHES, m, n)
        for other in range(1, 25):
            if other not in (m, n) and other < n:
                rejects_consistency(other, n, REF_ROOTS[other], REF_ROOTS[n], proof)
            if other not in (m, n) and other > m:
                rejects_consistency(m, other, REF_ROOTS[m], REF_ROOTS[other], proof)


@SETTINGS
@given(st.data())
def test_forked_log_fails_consistency(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 200))
    m = data.draw(st.integers(1, n - 1))
    j = data.draw(st.integers(0, m - 1))
    forked = list(LEAVES[:n])
    forked[j] += b"-forged"
    fork_hashes = [_sha(b"\x00" + d) for d in forked]
    old_fork_root, new_root = ref_mth(forked[:m]), ref_mth(LEAVES[:n])
    for proof in (consistency_proof(HASHES, m, n), consistency_proof(fork_hashes, m, n)):
        rejects_consistency(m, n, old_fork_root, new_root, proof)
    # ...and the honest histories on either side still verify.
    verify_consistency(m, n, ref_mth(LEAVES[:m]), new_root, consistency_proof(HASHES, m, n))
    fork_new = ref_mth(forked)
    verify_consistency(m, n, old_fork_root, fork_new, consistency_proof(fork_hashes, m, n))


@SETTINGS
@given(st.data())
def test_consistency_random_trees(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, len(HASHES)))
    m = data.draw(st.integers(0, n))
    old, new = ref_mth(LEAVES[:m]), ref_mth(LEAVES[:n])
    proof = consistency_proof(HASHES, m, n)
    assert proof == ([] if m in (0, n) else ref_proof(m, LEAVES[:n]))
    verify_consistency(m, n, old, new, proof)
    if proof:
        j = data.draw(st.integers(0, len(proof) - 1))
        proof[j] = flip(proof[j], data.draw(st.integers(0, 255)))
        rejects_consistency(m, n, old, new, proof)


def test_consistency_crafted_attacks() -> None:
    """Proofs built so both roots match, which only the size bookkeeping rejects."""
    a, b, c, d = HASHES[:4]
    rejects_consistency(3, 1, a, a, [a])  # old > new
    rejects_consistency(3, 4, a, a, [a])  # too short
    rejects_consistency(3, 4, _n(d, _n(c, a)), _n(d, _n(c, _n(a, b))), [a, b, c, d])  # too long
    rejects_consistency(1, 2, a, _n(a, b"abc"), [b"abc"])  # 3-byte proof element


def test_consistency_edge_cases() -> None:
    r3, r5 = REF_ROOTS[3], REF_ROOTS[5]
    verify_consistency(3, 3, r3, r3, [])
    rejects_consistency(3, 3, r3, r5, [])  # same size, other root
    rejects_consistency(3, 3, r3, r3, [r3])  # must be empty
    verify_consistency(0, 5, REF_ROOTS[0], r5, [])
    verify_consistency(0, 0, REF_ROOTS[0], REF_ROOTS[0], [])
    rejects_consistency(0, 5, REF_ROOTS[0], r5, [r5])
    rejects_consistency(0, 5, r3, r5, [])  # not the empty root
    rejects_consistency(3, 5, r3, r5, [])  # proof needed
    rejects_consistency(4, 5, REF_ROOTS[4], r5, [])  # 2^k too
    rejects_consistency(5, 3, r5, r3, [])  # old > new
    rejects_consistency(-1, 3, r3, r3, [])
    rejects_consistency(3, 2**64, r3, r5, [])
    big, ext = 2**64, _sha(b"\x01" + r3 + r5)  # would verify beyond uint64
    rejects_consistency(big, big + 1, r3, ext, [r5])
    rejects_consistency(3, 3, b"x" * 31, b"x" * 31, [])  # 31-byte "roots" that agree
    rejects_consistency(3, 5, r3[:31], r5, [r3])
    rejects_consistency(3, 5, r3, r5 + b"\x00", [r3])
    proof = consistency_proof(HASHES, 3, 5)
    rejects_consistency(3, 5, r3, r5, [proof[0][:31], *proof[1:]])


@pytest.mark.parametrize(("old", "new"), [(-1, 3), (4, 3), (2, 301), (0, -1)])
def test_consistency_proof_rejects_bad_sizes(old: int, new: int) -> None:
    with pytest.raises(MerkleError):
        consistency_proof(HASHES, old, new)


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
