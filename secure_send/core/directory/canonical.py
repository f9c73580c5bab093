"""Canonical JSON (RFC 8785, JCS) for the subset the directory uses.

Signatures and Merkle hashes are computed over these bytes, so every value must
have exactly one encoding: objects with keys sorted by UTF-16 code units, no
insignificant whitespace, strings escaped as JSON requires (UTF-8, no ``\\u``
escapes for printable characters), integers only (no floats: JCS's number
formatting is then just the decimal integer), booleans and null.
"""

from __future__ import annotations

import json
from typing import Any

from secure_send.core.errors import SecureSendError


class CanonicalError(SecureSendError):
    """Data is not canonical JSON, or holds a value canonical JSON cannot carry."""


_MAX_SAFE_INT = 2**53 - 1  # I-JSON: larger integers are not portable


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be")


def _check(value: Any) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:
            raise CanonicalError("integer outside the interoperable range")
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check(item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalError("object keys must be strings")
            _check(item)
        return
    raise CanonicalError(f"cannot encode {type(value).__name__} canonically")


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=_utf16_key)}
    if isinstance(value, list | tuple):
        return [_sorted(v) for v in value]
    return value


def dumps(value: Any) -> bytes:
    """The canonical UTF-8 bytes of ``value``.

    Raises:
        CanonicalError: floats, non-string keys, huge integers, other types.
    """
    _check(value)
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    if text and max(text) > "\uffff":
        # sort_keys orders by code point; JCS by UTF-16 code unit. They differ only
        # when a key holds a character beyond the BMP: then sort exactly, slowly.
        text = json.dumps(_sorted(value), ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def loads(data: bytes) -> Any:
    """Parse bytes that must already be canonical.

    Raises:
        CanonicalError: invalid UTF-8 or JSON, duplicate keys, floats, or bytes
            that differ from the canonical encoding of what they parse to.
    """

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, val in pairs:
            if key in out:
                raise CanonicalError("duplicate key in JSON object")
            out[key] = val
        return out

    def no_float(_text: str) -> Any:
        raise CanonicalError("floating-point numbers are not allowed")

    try:
        value = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=no_duplicates,
            parse_float=no_float,
            parse_constant=no_float,
        )
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CanonicalError("not valid UTF-8 JSON") from None
    if dumps(value) != data:
        raise CanonicalError("JSON is not in canonical form")
    return value
