"""Canonical, unpadded standard base64 as the age header uses it."""

from __future__ import annotations

import base64
import binascii
import re

_ALPHABET = re.compile(rb"[A-Za-z0-9+/]*")


def encode(data: bytes) -> bytes:
    """Unpadded standard base64."""
    return base64.b64encode(data).rstrip(b"=")


def decode(text: bytes) -> bytes | None:
    """Decode unpadded base64, or return ``None`` if it is not the canonical form.

    Padding, whitespace, CR/LF, URL-safe characters and non-zero trailing bits are
    all refused: each byte string has exactly one accepted encoding, so a header
    cannot be altered without changing its MAC input.
    """
    if len(text) % 4 == 1 or not _ALPHABET.fullmatch(text):
        return None
    try:
        data = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        return None
    return data if encode(data) == text else None
