"""Check digits of individual and corporate numbers (issue 19, item 1)."""

from __future__ import annotations

import random

from secure_send.core.dlp.numbers import (
    CANDIDATE,
    fold,
    individual_check_digit,
    is_corporate_number,
    is_individual_number,
    kind_of,
)


def make_individual(rng: random.Random) -> str:
    """A random, never real, number with a valid check digit."""
    first = "".join(rng.choice("0123456789") for _ in range(11))
    return first + str(individual_check_digit(first))


def full_width(text: str) -> str:
    """ASCII digits as full-width ones (how many forms are typed)."""
    return text.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})


def test_the_published_examples() -> None:
    assert is_individual_number("123456789018")  # the example
    assert not is_individual_number("123456789012")
    assert is_corporate_number("7000012050002")  # the National Tax Agency's own number
    assert not is_corporate_number("1000012050002")


def test_every_wrong_check_digit_is_refused() -> None:
    rng = random.Random(19)  # noqa: S311 - reproducible test data
    for _ in range(200):
        number = make_individual(rng)
        wrong = {str(d) for d in range(10)} - {number[11]}
        assert all(not is_individual_number(number[:11] + d) for d in wrong)


def test_about_one_random_string_in_eleven_passes() -> None:
    """Why a check digit alone only warns (module docstring of dlp.scan)."""
    rng = random.Random(7)  # noqa: S311 - reproducible test data
    tries = 50_000
    passed = sum(is_individual_number(f"{rng.randrange(10**12):012d}") for _ in range(tries))
    assert 0.08 < passed / tries < 0.11


def test_separators_and_full_width_digits_are_folded() -> None:
    number = "123456789018"
    grouped = f"{number[:4]}-{number[4:8]}-{number[8:]}"
    for written in (
        number,
        grouped,
        f"{number[:4]} {number[4:8]} {number[8:]}",
        full_width(number),
        full_width(grouped).replace("-", "\uff0d"),  # full-width hyphen-minus
        "1234\u30fc5678\u30fc9018",
        "1234\u30005678\u30009018",  # ideographic spaces
    ):
        found = [m.group() for m in CANDIDATE.finditer(fold(f"番号 {written} です"))]
        assert [kind_of(f) for f in found] == ["individual"], written
    # part of a longer run of digits is not a number on its own
    assert not list(CANDIDATE.finditer(fold("9" + number + "9")))
