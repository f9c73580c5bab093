"""JSON from outside (request bodies, a push's head line): every malformed input is a
``ValueError``, never a ``RecursionError`` or a number no store can hold.

``json.loads`` alone lets through three things that later turn into crashes rather than
refusals: nesting deep enough to exhaust the interpreter's stack (``RecursionError``, in
the parser or in whatever walks the value afterwards), integers of thousands of digits
(a ``ValueError`` only past 4,300 digits; below that an ``OverflowError`` when SQLite
stores one) and the non-standard ``NaN``/``Infinity``. None of our documents needs any of
them: they nest a few levels and their numbers are sizes, counts and epochs.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 32  # our documents nest at most ~5 levels
MAX_INT = 2**63 - 1  # what SQLite's INTEGER holds
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def _too_deep(data: bytes, limit: int) -> bool:
    """Whether arrays/objects nest deeper than ``limit`` (brackets inside strings aside)."""
    depth = 0
    for byte in _STRING.sub(b"", data).translate(None, _NOT_BRACKET):
        depth += 1 if byte in b"[{" else -1
        if depth > limit:
            return True
    return False


def _integer(text: str) -> int:
    if len(text) > 20:  # checked before int(): converting a huge number costs time
        raise ValueError("integer out of range")
    value = int(text)
    if not -MAX_INT - 1 <= value <= MAX_INT:
        raise ValueError("integer out of range")
    return value


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def loads_untrusted(data: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """Parse UTF-8 JSON bytes.

    Raises:
        ValueError: not UTF-8, not JSON, nested deeper than ``max_depth``, an integer
            beyond 64 bits, a non-finite number or ``NaN``/``Infinity``.
    """
    if _too_deep(data, max_depth):
        raise ValueError("JSON nested too deeply")
    return json.loads(
        data.decode("utf-8"),
        parse_int=_integer,
        parse_float=_number,
        parse_constant=_constant,
    )
