"""The fast pass's pieces (issue 19, item 1): the check digits in lanes, and what tells
a piece it may go the fast way. Its reports are compared with cell by cell in
test_table.py. Every number is generated, never real."""

from __future__ import annotations

import random

from secure_send.core.dlp import fastcheck
from secure_send.core.dlp.fastcheck import _CANDIDATE
from secure_send.core.dlp.numbers import corporate_check_digit, individual_check_digit, kind_of
from tests.core.dlp.test_numbers import make_individual


def test_the_check_digit_lanes_agree_with_the_check_digit() -> None:
    rng = random.Random(8)  # noqa: S311 - reproducible test data
    runs = [f"{rng.randrange(10**12):012d}" for _ in range(5000)]
    # each run as numbers() gathers it: its 12 digits and the byte after them
    lanes = fastcheck._valid_lanes("".join(r + "," for r in runs).encode(), len(runs))
    expected = [i for i, r in enumerate(runs) if individual_check_digit(r[:11]) == int(r[11])]
    assert lanes == expected
    assert 300 < len(expected) < 700  # about one in eleven


def _reference(data: bytes) -> tuple[list[int], list[int]]:
    """Where CANDIDATE finds valid numbers (individual, corporate), one match at a time."""
    kinds = [(m.start(), kind_of(m.group().decode())) for m in _CANDIDATE.finditer(data)]
    return [at for at, k in kinds if k == "individual"], [at for at, k in kinds if k == "corporate"]


def test_the_numbers_found_in_bytes_are_candidates_one_by_one_finds() -> None:
    rng = random.Random(21)  # noqa: S311 - reproducible test data
    cells = [make_individual(rng) for _ in range(300)]
    cells += [f"{rng.randrange(10**12):012d}" for _ in range(3000)]  # look-alikes
    cells += ["職員", "12345678901", "1234567890123456", "x123456789018y", "0" * 24]
    rng.shuffle(cells)
    twelve = ",".join(cells).encode()  # runs of 12, 11, 16 and 24 digits, none of 13
    base = f"{rng.randrange(10**12):012d}"
    corporate = str(corporate_check_digit(base)) + base
    with_13 = f"{twelve.decode()}\n{corporate},{cells[0]}9".encode()  # 13 digits twice
    separated = twelve + b"\n1234-5678-9018"  # a separator: CANDIDATE itself
    ends_in_one = twelve + b",123456789018"  # the last run has no byte after it
    for data in (twelve, with_13, separated, ends_in_one, twelve[:12], b"x" + twelve[:12]):
        found = fastcheck.numbers(data)
        assert (found.individual, found.corporate) == _reference(data)
    assert len(fastcheck.numbers(twelve).individual) > 300
    assert fastcheck.numbers(with_13).corporate == [len(twelve) + 1]
    assert fastcheck.numbers(separated).individual[-1] == len(twelve) + 1


def test_the_skeleton_counts_cells_hits_and_places() -> None:
    n = "123456789018"
    data = f"氏名,番号\n職員,x,{n}\nz,{n}x{n}\nw,{n}".encode()
    shape = fastcheck.shape(data, fastcheck.numbers(data))
    assert shape.counts == {1: 3, 2: 1}
    assert shape.first_lines(0) == {0: 0, 1: 0, 2: 1}
    assert shape.first_lines(2) == {2: 1}
    assert shape.hits() == {2: (1, 0, 0), 1: (3, 0, 1)}  # two in one cell: one extra
    assert list(shape.places({1: 20, 2: 20})) == [(1, 2), (2, 1), (2, 1), (3, 1)]
    assert list(shape.places({1: 2})) == [(2, 1), (2, 1)]  # only as many as wanted
    assert isinstance(shape, fastcheck.Shape)  # ragged, and no line break at the end
    assert shape.skeleton.endswith(b"\n," + fastcheck.INDIVIDUAL)
    crlf = fastcheck.shape(b"a,b\r\nc,d,e\nf\n")
    assert crlf.counts == {1: 1, 2: 1, 0: 1}
    assert crlf.rows == 3


def test_lines_that_all_look_alike_are_counted_from_the_marks() -> None:
    n, base = "123456789018", "000000000001"
    corporate = str(corporate_check_digit(base)) + base
    data = f"氏名,番号,備考\nx,{n},y\n{n},{n}x{n},{corporate}\nz,w,{n}\r\n".encode()
    shape = fastcheck.shape(data, fastcheck.numbers(data))
    assert isinstance(shape, fastcheck.Regular)
    assert (shape.rows, shape.counts, shape.first_lines(1)) == (4, {2: 4}, {1: 0, 2: 0})
    assert shape.hits() == {0: (1, 0, 0), 1: (3, 0, 1), 2: (1, 1, 0)}
    assert list(shape.places({1: 20, 2: 20})) == [(1, 1), (2, 1), (2, 1), (3, 2)]
    assert list(shape.places({1: 2})) == [(1, 1), (2, 1)]


def test_a_piece_has_every_cell_filled_or_goes_the_exact_way() -> None:
    for filled in (b"a,b\r\nc,d", b"a,b\nc,d\n", b'"x",1\n', "職員,\uff11\n".encode()):
        assert fastcheck.every_cell_filled(filled), filled
    for blank in (
        b"a,b\nc,\n",  # an empty cell at a line's end
        b"a,b\nc,",  # ... at the piece's end, with no line break after it
        b",a\n",  # the first cell
        b"\na,b\n",  # an empty line
        b"a, \t\n",  # white space only
        b'a,""\n',  # an empty quoted cell
        "a,\u2028\n".encode(),  # white space str.isspace knows, NFKC keeps
        "a,\x85\n".encode(),
    ):
        assert not fastcheck.every_cell_filled(blank), blank
