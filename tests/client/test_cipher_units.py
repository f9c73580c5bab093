"""The CMS unit digests: one per unit written, checked whole, failing for good."""

from __future__ import annotations

import pytest

from secure_send.client.cipher_units import UnitCheck, UnitRecorder
from secure_send.client.errors import ClientError

UNITS = [b"header", b"piece one" * 100, b"piece two", b"trailer with the tag"]


def _recorded() -> bytes:
    recorder = UnitRecorder()
    for unit in UNITS:
        recorder.feed(unit)
    return recorder.tags()


def test_the_same_units_pass_and_say_how_far_they_may_go() -> None:
    check = UnitCheck(_recorded(), sum(map(len, UNITS)))
    ends = [check.feed(memoryview(unit)) for unit in UNITS]
    assert ends == [sum(map(len, UNITS[: i + 1])) for i in range(len(UNITS))]


@pytest.mark.parametrize("changed", [0, 1, 3])
def test_a_changed_unit_is_refused_and_every_one_after_it(changed: int) -> None:
    size = sum(map(len, UNITS))
    check = UnitCheck(_recorded(), size)
    for unit in UNITS[:changed]:
        check.feed(unit)
    altered = bytearray(UNITS[changed])
    altered[-1] ^= 1
    with pytest.raises(ClientError) as caught:
        check.feed(bytes(altered))
    assert caught.value.code == "file_changed"
    with pytest.raises(ClientError):  # the encryptor may write on: still refused
        check.feed(UNITS[changed])


def test_more_units_or_bytes_than_measured_are_refused() -> None:
    check = UnitCheck(_recorded(), sum(map(len, UNITS)))
    for unit in UNITS:
        check.feed(unit)
    with pytest.raises(ClientError, match="changed"):
        check.feed(b"")  # a fifth unit, even empty
    small = UnitCheck(_recorded(), 3)  # the measured size: the header alone is too long
    with pytest.raises(ClientError, match="changed"):
        small.feed(UNITS[0])


def test_a_record_without_digests_is_refused() -> None:
    with pytest.raises(ClientError, match="changed"):
        UnitCheck(b"", 10)
    with pytest.raises(ClientError, match="changed"):
        UnitCheck(b"x" * 17, 10)
