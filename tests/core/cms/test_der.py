"""The strict BER/DER reader: what it accepts and each malformation it refuses."""

from __future__ import annotations

import io

import pytest

from secure_send.core.cms import der
from secure_send.core.cms.errors import CmsTruncatedError


def _read(data: bytes, budget: int = 1 << 20) -> der.Node:
    r = der.Reader(io.BytesIO(data))
    node = r.element(budget)
    r.at_end()
    return node


def test_round_trip_of_definite_and_indefinite_encodings() -> None:
    body = der.integer(0) + der.integer(300) + der.oid("1.2.840.113549.1.9.16.1.23")
    definite = der.seq(body, der.octets(b"x" * 200))
    node = _read(definite)
    assert node.encoding == definite
    assert [c.ident for c in node.children] == [0x02, 0x02, 0x06, 0x04]
    assert node.children[1].int() == 300
    assert node.children[2].oid() == "1.2.840.113549.1.9.16.1.23"
    assert node.children[3].value == b"x" * 200
    indef = der.indefinite(der.SEQUENCE) + body + der.octets(b"y") + der.EOC
    assert [c.ident for c in _read(indef).children] == [0x02, 0x02, 0x06, 0x04]


def test_long_lengths_are_minimal() -> None:
    assert der.tlv(4, b"a" * 127)[:2] == b"\x04\x7f"
    assert der.tlv(4, b"a" * 128)[:3] == b"\x04\x81\x80"
    assert der.tlv(4, b"a" * 256)[:4] == b"\x04\x82\x01\x00"
    assert _read(der.tlv(4, b"a" * 70000)).value == b"a" * 70000


def test_set_of_is_sorted() -> None:
    assert der.set_of(der.octets(b"b"), der.octets(b"a")) == der.tlv(0x31, b"\x04\x01a\x04\x01b")


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"\x1f\x01\x00", "high-number"),
        (b"\x04\x81\x05hello", "minimal"),  # long form for a short length
        (b"\x04\x82\x00\x05hello", "minimal"),  # leading zero length byte
        (b"\x04\x89" + b"\x01" * 9, "too long"),
        (b"\x04\x80\x00\x00", "primitive"),
        (b"\x02\x02\x00\x01", "not minimal"),
        (b"\x02\x00", "empty"),
        (b"\x30\x03\x04\x05a", "past its parent"),
        (b"\x30\x80\x04\x01a\x00\x01", "end-of-contents"),
        (b"\x04\x01a\x00", "after the message"),
        (b"\x00\x00", "end-of-contents where"),
    ],
)
def test_malformations_are_refused(data: bytes, why: str) -> None:
    with pytest.raises(der.DerError, match=why):
        _read(data).int()  # the integer rules apply when it is read as one


def test_depth_limit() -> None:
    deep = b"".join(der.indefinite(der.SEQUENCE) for _ in range(der.MAX_DEPTH + 2))
    deep += der.EOC * (der.MAX_DEPTH + 2)
    with pytest.raises(der.DerError, match="deeply"):
        _read(deep)
    ok = (
        b"".join(der.indefinite(der.SEQUENCE) for _ in range(der.MAX_DEPTH))
        + der.EOC * der.MAX_DEPTH
    )
    _read(ok)


def test_budget_limit() -> None:
    big = der.octets(b"z" * 1000)
    with pytest.raises(der.DerError, match="larger than allowed"):
        _read(big, budget=500)
    with pytest.raises(der.DerError, match="larger than allowed"):
        _read(der.indefinite(der.SEQUENCE) + big * 2 + der.EOC, budget=1500)


@pytest.mark.parametrize("cut", [1, 3, 50])
def test_truncation_is_its_own_error(cut: int) -> None:
    data = der.indefinite(der.SEQUENCE) + der.octets(b"q" * 100) + der.EOC
    with pytest.raises(CmsTruncatedError):
        _read(data[:-cut])


def test_oid_round_trip_and_bad_oids() -> None:
    for dotted in ("1.2.840.10045.3.1.7", "2.16.840.1.101.3.4.1.46", "1.3.132.1.11.1"):
        assert der.oid_text(der.oid_body(dotted)) == dotted
    with pytest.raises(der.DerError, match="truncated"):
        der.oid_text(b"\x2a\x86")
    with pytest.raises(der.DerError, match="not minimal"):
        der.oid_text(b"\x2a\x80\x01")
