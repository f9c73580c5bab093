"""The fast pass's pieces (issue 19, item 1): the check digits in lanes, and what tells
a piece it may go the fast way. Its reports are compared with cell by cell in
test_table.py. Every number is generated, never real."""

from __future__ import annotations

import random

from secure_send.core.dlp import fastcheck
from secure_send.core.dlp.numbers import individual_check_digit


def test_the_check_digit_lanes_agree_with_the_check_digit() -> None:
    rng = random.Random(8)  # noqa: S311 - reproducible test data
    runs = [f"{rng.randrange(10**12):012d}" for _ in range(5000)]
    lanes = fastcheck._valid_lanes("".join(runs).encode(), len(runs))
    expected = [i for i, r in enumerate(runs) if individual_check_digit(r[:11]) == int(r[11])]
    assert lanes == expected
    assert 300 < len(expected) < 700  # about one in eleven


def test_the_shape_of_a_piece_and_where_each_column_first_appears() -> None:
    shape = fastcheck.shape(b"a,b\r\nc,d,e\nf\n")
    assert shape.counts == {1: 1, 2: 1, 0: 1}
    assert shape.first_lines(0) == {0: 0, 1: 0, 2: 1}
    assert shape.first_lines(2) == {2: 1}


def test_places_count_rows_and_columns_in_bytes_and_in_text() -> None:
    text = "氏名,番号\n職員,x,123\nz,123"
    positions = [text.index("123"), text.rindex("123")]
    assert list(fastcheck.places(text, positions)) == [(1, 2), (2, 1)]
    data = text.encode()
    positions = [data.index(b"123"), data.rindex(b"123")]
    assert list(fastcheck.places(data, positions)) == [(1, 2), (2, 1)]
