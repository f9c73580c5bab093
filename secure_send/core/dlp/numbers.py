"""Check digits of the individual number (個人番号, 12 digits) and the corporate number
(法人番号, 13 digits), and the separators people write them with.

* Individual number (the rule the My Number Act's ordinances publish): the 12th digit
  checks the first 11 — weights 6,5,4,3,2,7,6,5,4,3,2 from the left; remainder of the
  sum by 11 at most 1 → 0, else 11 minus the remainder (``123456789018`` is valid).
* Corporate number (the National Tax Agency's rule): the *first* digit checks the other
  12 — 9 minus (Σ Pn·Qn mod 9), Pn the n-th digit from the right of the 12, Qn 1 for odd
  n and 2 for even n.

About one random 12-digit string in ten passes the individual check, so a valid check
digit alone says little: :mod:`.scan` weighs context words and columns before it blocks.
"""

from __future__ import annotations

import re
import unicodedata

INDIVIDUAL_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

# 12 or 13 digits, optionally grouped 4-4-4 / 1-4-4-4 by a space or hyphen (after NFKC
# folding full-width digits, spaces and the usual dash characters); never part of a
# longer run of digits
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70"
_SEP = r"[ \-]?"
CANDIDATE = re.compile(
    rf"(?<![0-9])(?:[0-9]{_SEP})?[0-9]{{4}}{_SEP}[0-9]{{4}}{_SEP}[0-9]{{4}}(?![0-9])"
)


_DASH_BETWEEN_DIGITS = re.compile(f"(?<=[0-9])[{DASHES}](?=[0-9])")


def fold(text: str) -> str:
    """Full-width digits and spaces to ASCII (NFKC), and a dash look-alike *between two
    digits* to ``-`` — only there: ー is also the long vowel of マイナンバー, which must stay
    a word. Lengths may change, so positions are of the folded text."""
    if text.isascii():  # NFKC changes no ASCII character, and no dash is ASCII
        return text
    # Both steps skip themselves when they would change nothing: on a CSV of 100 MB the
    # checks run at C speed where normalising and the regex each take a second
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    if any(dash in text for dash in DASHES):
        text = _DASH_BETWEEN_DIGITS.sub("-", text)
    return text


def individual_check_digit(first11: str) -> int:
    """The 12th digit of an individual number whose first 11 digits are ``first11``."""
    d = first11.encode("ascii")  # bytes: digit values without an int() per digit
    if len(d) != 11:
        raise ValueError("eleven digits")
    # INDIVIDUAL_WEIGHTS, written out: a CSV of a hundred thousand rows checks each row
    total = (
        6 * d[0]
        + 5 * d[1]
        + 4 * d[2]
        + 3 * d[3]
        + 2 * d[4]
        + 7 * d[5]
        + 6 * d[6]
        + 5 * d[7]
        + 4 * d[8]
        + 3 * d[9]
        + 2 * d[10]
        - 47 * 48  # the weights sum to 47; each byte is its digit + 48
    )
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_individual_number(digits: str) -> bool:
    """Whether 12 ASCII digits carry a valid individual-number check digit."""
    if len(digits) != 12 or not digits.isascii() or not digits.isdigit():
        return False
    return individual_check_digit(digits[:11]) == int(digits[11])


def corporate_check_digit(base12: str) -> int:
    """The leading digit of a corporate number whose other 12 digits are ``base12``."""
    total = sum(int(d) * (1 if n % 2 else 2) for n, d in enumerate(reversed(base12), start=1))
    return 9 - total % 9


def is_corporate_number(digits: str) -> bool:
    """Whether 13 ASCII digits carry a valid corporate-number check digit."""
    if len(digits) != 13 or not digits.isascii() or not digits.isdigit():
        return False
    return corporate_check_digit(digits[1:]) == int(digits[0])


def kind_of(candidate: str) -> str | None:
    """``"individual"``, ``"corporate"`` or None for one :data:`CANDIDATE` match."""
    digits = candidate.replace(" ", "").replace("-", "")
    if is_individual_number(digits):
        return "individual"
    if is_corporate_number(digits):
        return "corporate"
    return None
