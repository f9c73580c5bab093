"""Filling translated messages: ``%1`` … ``%9`` replaced in one pass, so a value that
itself contains ``%2`` (a device name chosen by whoever enrolled it) is never expanded."""

from __future__ import annotations

import re

_PLACE = re.compile(r"%([1-9])")


def fill(template: str, *values: str) -> str:
    """``template`` with ``%1`` … ``%9`` replaced by ``values`` (missing ones kept)."""

    def one(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return values[n - 1] if n <= len(values) else match.group(0)

    return _PLACE.sub(one, template)
