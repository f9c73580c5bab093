"""The RFC 6962 oracle and helpers shared by the Merkle tests (see test_merkle.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest
from hypothesis import settings

from secure_send.core.directory.merkle import (
    ProofError,
    verify_consistency,
    verify_inclusion,
)

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
