"""The age v1 header: stanzas, canonical encoding, and the header MAC.

Parsing is strict (C2SP age spec): LF line endings only, canonical unpadded
base64, body lines of exactly 64 columns ending with a mandatory short line,
non-empty VCHAR arguments. Any deviation raises :class:`HeaderError`, so that a
header has exactly one byte encoding and the MAC covers every accepted change.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import NamedTuple

from secure_send.core.age import b64
from secure_send.core.age.source import Source
from secure_send.core.errors import HeaderError, HeaderMacError

INTRO = b"age-encryption.org/v1\n"
STANZA_PREFIX = b"-> "
FOOTER_PREFIX = b"---"
BODY_COLUMNS = 64
BODY_BYTES_PER_LINE = BODY_COLUMNS // 4 * 3
# Generous caps: they only stop a garbage or hostile input from using unbounded memory.
MAX_LINE = 64 * 1024
MAX_HEADER = 16 * 1024 * 1024


# Records are NamedTuples, not dataclasses: importing ``dataclasses`` (and with it
# ``inspect``) would cost every ``secure-send encrypt`` ~5 ms of start-up.
class Stanza(NamedTuple):
    """One recipient stanza: a type, its arguments and an opaque body."""

    type: str
    args: tuple[str, ...]
    body: bytes

    def encode(self) -> bytes:
        """Canonical bytes of this stanza, ending with its short final body line."""
        line = " ".join((self.type, *self.args)).encode("ascii")
        out = [STANZA_PREFIX, line, b"\n"]
        body = b64.encode(self.body)
        for i in range(0, len(body) + 1, BODY_COLUMNS):
            out += [body[i : i + BODY_COLUMNS], b"\n"]
        return b"".join(out)


class Header(NamedTuple):
    """A parsed header: its stanzas and the 32-byte MAC it carried."""

    stanzas: tuple[Stanza, ...]
    mac: bytes


def encode_without_mac(stanzas: tuple[Stanza, ...] | list[Stanza]) -> bytes:
    """The header bytes the MAC is computed over (up to and including ``---``)."""
    return INTRO + b"".join(s.encode() for s in stanzas) + FOOTER_PREFIX


def compute_mac(mac_key: bytes, stanzas: tuple[Stanza, ...] | list[Stanza]) -> bytes:
    """HMAC-SHA-256 of the canonical header under the header MAC key."""
    return hmac.new(mac_key, encode_without_mac(stanzas), hashlib.sha256).digest()


def verify_mac(mac_key: bytes, header: Header) -> None:
    """Check the header MAC in constant time.

    Raises:
        HeaderMacError: the header was changed after it was written.
    """
    if not hmac.compare_digest(compute_mac(mac_key, header.stanzas), header.mac):
        raise HeaderMacError("header MAC mismatch: the file's header was modified")


def encode_header(stanzas: list[Stanza], mac: bytes) -> bytes:
    """A complete header, ready to be followed by the payload nonce."""
    return encode_without_mac(stanzas) + b" " + b64.encode(mac) + b"\n"


def _valid_arg(arg: bytes) -> bool:
    return bool(arg) and all(33 <= c <= 126 for c in arg)


def _read_line(src: Source, budget: list[int]) -> bytes:
    line = src.readline(MAX_LINE)
    budget[0] -= len(line)
    if not line.endswith(b"\n"):
        raise HeaderError("header ended unexpectedly or has an overlong line")
    if budget[0] < 0:
        raise HeaderError("header too large")
    return line[:-1]


def _parse_stanza(first: bytes, src: Source, budget: list[int]) -> Stanza:
    parts = first[len(STANZA_PREFIX) :].split(b" ")
    if not all(_valid_arg(p) for p in parts):
        raise HeaderError("malformed stanza line")
    body = bytearray()
    while True:
        line = _read_line(src, budget)
        chunk = b64.decode(line)
        if chunk is None or len(line) > BODY_COLUMNS:
            raise HeaderError("malformed stanza body line")
        body += chunk
        if len(line) < BODY_COLUMNS:
            break
    text = [p.decode("ascii") for p in parts]
    return Stanza(text[0], tuple(text[1:]), bytes(body))


def parse_header(src: Source) -> Header:
    """Read and strictly parse a header, leaving ``src`` at the payload nonce.

    Raises:
        HeaderError: anything that is not a canonical age v1 header.
    """
    budget = [MAX_HEADER]
    if _read_line(src, budget) + b"\n" != INTRO:
        raise HeaderError("not an age v1 file (unknown or missing version line)")
    stanzas: list[Stanza] = []
    while True:
        line = _read_line(src, budget)
        if line.startswith(FOOTER_PREFIX):
            parts = line.split(b" ")
            mac = b64.decode(parts[1]) if len(parts) == 2 and parts[0] == FOOTER_PREFIX else None
            if mac is None or len(mac) != 32:
                raise HeaderError("malformed header MAC line")
            return Header(tuple(stanzas), mac)
        if not line.startswith(STANZA_PREFIX):
            raise HeaderError("malformed stanza opening line")
        stanzas.append(_parse_stanza(line, src, budget))
