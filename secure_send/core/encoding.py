"""Small, strict encodings shared by the directory and envelope formats."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re

from secure_send.core.errors import SecureSendError


class EncodingError(SecureSendError):
    """A value is not in the one accepted textual form."""


_B64U = re.compile(r"[A-Za-z0-9_-]*")
_B64U_VALUE = {
    c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
}
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def b64u(data: bytes) -> str:
    """Unpadded base64url, as used for keys and signatures in JSON."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64u(text: str, size: int | None = None) -> bytes:
    """Decode canonical unpadded base64url, optionally of an exact ``size``.

    Raises:
        EncodingError: wrong alphabet, padding, non-canonical, or wrong size.
    """
    if not isinstance(text, str) or not _B64U.fullmatch(text):
        raise EncodingError("not unpadded base64url")
    tail = len(text) % 4
    if tail == 1:
        raise EncodingError("not unpadded base64url")
    # Canonical means the bits the last character carries beyond the data are zero
    # (then decoding and encoding again gives the same text); checking them directly
    # costs a fraction of re-encoding, which matters 300,000 times per directory load.
    if tail and _B64U_VALUE[text[-1]] & (0b1111 if tail == 2 else 0b11):
        raise EncodingError("non-canonical base64url")
    if size is not None and len(text) != (size * 4 + 2) // 3:
        raise EncodingError(f"expected {size} bytes")
    std = text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4)
    return binascii.a2b_base64(std, strict_mode=True)


def utc_now() -> dt.datetime:
    """Now, in UTC, to the second (the precision every stored time has)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def format_time(when: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> dt.datetime:
    """Parse the one accepted time form; raises :class:`EncodingError` otherwise."""
    if not isinstance(text, str) or not _TIME.fullmatch(text):
        raise EncodingError("time must look like 2026-01-31T09:00:00Z")
    try:  # fromisoformat is ~40x faster than strptime; the regex fixed the form already
        return dt.datetime.fromisoformat(text[:-1]).replace(tzinfo=dt.UTC)
    except ValueError:
        raise EncodingError("invalid date or time") from None
