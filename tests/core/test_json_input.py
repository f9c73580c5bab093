"""``loads_untrusted``: every malformed JSON is a ValueError (issue 14, item 15)."""

from __future__ import annotations

import pytest

from secure_send.core.json_input import MAX_DEPTH, MAX_INT, loads_untrusted


@pytest.mark.parametrize(
    "data",
    [
        b"[" * 100_000 + b"]" * 100_000,  # a RecursionError for json.loads
        b'{"a":' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1),
        b"1" + b"0" * 5000,  # past Python's 4,300-digit limit
        str(MAX_INT + 1).encode(),  # beyond a 64-bit column
        str(-MAX_INT - 2).encode(),
        b"NaN",
        b"[Infinity]",
        b"1e999",
        b"\xff",
        b"{",
    ],
)
def test_malformed_json_is_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the one promised type
        loads_untrusted(data)


def test_ordinary_json_parses() -> None:
    nested = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert loads_untrusted(nested) is not None
    # brackets inside strings do not count towards the depth, escaped quotes included
    text = b'{"a": "' + b"[{" * 1000 + b'\\"[", "n": [1, -2, 0.5, ' + str(MAX_INT).encode() + b"]}"
    assert loads_untrusted(text) == {"a": "[{" * 1000 + '"[', "n": [1, -2, 0.5, MAX_INT]}
