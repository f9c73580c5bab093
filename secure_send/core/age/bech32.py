"""Bech32 (BIP 173) as age uses it: no length limit, one case per string.

age encodes recipients as ``age1…`` (lowercase) and identities as
``AGE-SECRET-KEY-1…`` (uppercase). Unlike BIP 173 there is no 90-character
limit. Mixed case and non-zero padding bits are rejected so that every key
has exactly one textual form.
"""

from __future__ import annotations

from secure_send.core.errors import KeyFormatError

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHARSET_REV = {c: i for i, c in enumerate(_CHARSET)}
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            if (top >> i) & 1:
                chk ^= _GEN[i]
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: bytes | list[int], frombits: int, tobits: int, pad: bool) -> list[int]:
    acc = 0
    bits = 0
    out: list[int] = []
    maxv = (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits or (acc << (tobits - bits)) & maxv:
        raise KeyFormatError("invalid padding in Bech32 data")
    return out


def encode(hrp: str, data: bytes) -> str:
    """Encode ``data`` under ``hrp``; the result is uppercase if ``hrp`` is."""
    lower = hrp.lower()
    values = _convert_bits(data, 8, 5, pad=True)
    polymod = _polymod([*_hrp_expand(lower), *values, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    text = lower + "1" + "".join(_CHARSET[v] for v in values + checksum)
    return text.upper() if hrp != lower else text


def decode(text: str) -> tuple[str, bytes]:
    """Decode a Bech32 string into ``(lowercase hrp, data)``.

    Raises:
        KeyFormatError: mixed case, bad characters, bad checksum or padding.
    """
    if text.lower() != text and text.upper() != text:
        raise KeyFormatError("mixed case in Bech32 string")
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text):
        raise KeyFormatError("Bech32 separator at an invalid position")
    lowered = text.lower()
    hrp = lowered[:pos]
    if any(not 33 <= ord(c) <= 126 for c in hrp):
        raise KeyFormatError("invalid character in Bech32 prefix")
    try:
        values = [_CHARSET_REV[c] for c in lowered[pos + 1 :]]
    except KeyError:
        raise KeyFormatError("invalid character in Bech32 data") from None
    if _polymod([*_hrp_expand(hrp), *values]) != 1:
        raise KeyFormatError("invalid Bech32 checksum")
    return hrp, bytes(_convert_bits(values[:-6], 5, 8, pad=False))
