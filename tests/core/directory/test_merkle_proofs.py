"""Inclusion and consistency proofs (RFC 6962 §2.1.1, §2.1.2; RFC 9162 verification).

Expected proofs come from the independent oracle in tests/merkle_kit.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secure_send.core.directory.merkle import (
    MerkleError,
    consistency_proof,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from tests.merkle_kit import (
    HASHES,
    LEAVES,
    MAX,
    REF_ROOTS,
    SETTINGS,
    _sha,
    flip,
    ref_mth,
    ref_path,
    ref_proof,
    rejects_consistency,
    rejects_inclusion,
)

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
