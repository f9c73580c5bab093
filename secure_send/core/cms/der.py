"""A minimal ASN.1 BER/DER encoder and a strict, streaming reader for CMS.

Only what CMS AuthEnvelopedData needs: single-byte (low-number) tags, definite
lengths in minimal form, and indefinite-length constructed encodings (which
``openssl cms -stream`` writes, and which let us write a file of any size without
knowing it in advance). The reader is strict on purpose: everything it accepts we
can parse the same way every time, so an attacker cannot make two readers disagree.
It refuses high-number tags, non-minimal lengths, lengths of more than 8 bytes,
indefinite primitive encodings, nesting deeper than ``MAX_DEPTH`` and elements read
into memory larger than a caller's budget. Every malformation is a
:class:`DerError`, never an IndexError or a silent misreading.
"""

from __future__ import annotations

from typing import BinaryIO, NamedTuple

from secure_send.core.cms.errors import CmsFormatError, CmsTruncatedError

MAX_DEPTH = 32
EOC = b"\x00\x00"

# Universal tags (with the constructed bit where the type is always constructed).
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
NULL = 0x05
OID = 0x06
SEQUENCE = 0x30
SET = 0x31
CONSTRUCTED = 0x20


class DerError(CmsFormatError):
    """The bytes are not a well-formed encoding this reader accepts."""


# ----------------------------------------------------------------------- encode


def length_octets(n: int) -> bytes:
    """The DER length octets of ``n``."""
    return _length(n)


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(ident: int, content: bytes) -> bytes:
    """One definite-length element."""
    return bytes([ident]) + _length(len(content)) + content


def seq(*items: bytes) -> bytes:
    return tlv(SEQUENCE, b"".join(items))


def set_of(*items: bytes) -> bytes:
    # DER orders a SET OF by the encodings' bytes.
    return tlv(SET, b"".join(sorted(items)))


def octets(data: bytes) -> bytes:
    return tlv(OCTET_STRING, data)


def integer(n: int) -> bytes:
    if n < 0:
        raise ValueError("negative integers are not needed here")
    return tlv(INTEGER, n.to_bytes(n.bit_length() // 8 + 1, "big"))


def oid(dotted: str) -> bytes:
    return tlv(OID, oid_body(dotted))


def oid_body(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    out = bytearray()
    for arc in [parts[0] * 40 + parts[1], *parts[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


def bit_string(data: bytes) -> bytes:
    return tlv(BIT_STRING, b"\x00" + data)


def indefinite(ident: int) -> bytes:
    """The header of an indefinite-length constructed element; close it with EOC."""
    if not ident & CONSTRUCTED:
        raise ValueError("only constructed encodings may have an indefinite length")
    return bytes([ident, 0x80])


# ------------------------------------------------------------------------ nodes


class Node(NamedTuple):
    """A parsed element: ``value`` is the content bytes, ``children`` its parts."""

    ident: int
    value: bytes
    children: tuple[Node, ...]
    encoding: bytes  # the element's own bytes as read (for SET-equality checks)

    @property
    def constructed(self) -> bool:
        return bool(self.ident & CONSTRUCTED)

    def expect(self, ident: int, what: str) -> Node:
        if self.ident != ident:
            raise DerError(f"{what}: expected tag 0x{ident:02x}, found 0x{self.ident:02x}")
        return self

    def oid(self) -> str:
        self.expect(OID, "object identifier")
        return oid_text(self.value)

    def int(self) -> int:
        self.expect(INTEGER, "integer")
        v = self.value
        padded = len(v) > 1 and ((v[0] == 0 and v[1] < 0x80) or (v[0] == 0xFF and v[1] >= 0x80))
        if not v or padded:
            raise DerError("integer: empty or not minimal")
        return int.from_bytes(v, "big", signed=True)


def oid_text(body: bytes) -> str:
    if not body or body[-1] & 0x80:
        raise DerError("object identifier: truncated")
    arcs: list[int] = []
    n = 0
    start = True
    for b in body:
        if start and b == 0x80:
            raise DerError("object identifier: not minimal")
        n = (n << 7) | (b & 0x7F)
        start = not b & 0x80
        if start:
            arcs.append(n)
            n = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


# ------------------------------------------------------------------------- read


class Header(NamedTuple):
    ident: int
    length: int | None  # None: indefinite
    raw: bytes


class Reader:
    """Reads BER from a stream, strictly; counts the bytes it consumed."""

    def __init__(self, src: BinaryIO) -> None:
        self._src = src
        self.offset = 0

    def _exact(self, n: int) -> bytes:
        data = self._src.read(n)
        while len(data) < n:
            more = self._src.read(n - len(data))
            if not more:
                raise CmsTruncatedError(f"input ends inside an element (at byte {self.offset})")
            data += more
        self.offset += n
        return data

    def at_end(self) -> bool:
        b = self._src.read(1)
        if b:
            raise DerError(f"unexpected data after the message (at byte {self.offset})")
        return True

    def header(self) -> Header:
        raw = self._exact(2)
        tag, first = raw[0], raw[1]
        if tag & 0x1F == 0x1F:
            raise DerError("high-number tags are not used in CMS")
        if first == 0x80:
            if not tag & CONSTRUCTED:
                raise DerError("indefinite length on a primitive element")
            return Header(tag, None, raw)
        if first < 0x80:
            return Header(tag, first, raw)
        count = first & 0x7F
        if count > 8:
            raise DerError("length field too long")
        body = self._exact(count)
        length = int.from_bytes(body, "big")
        if body[0] == 0 or length < 0x80:
            raise DerError("length not in minimal form")
        return Header(tag, length, raw + body)

    def read(self, n: int) -> bytes:
        return self._exact(n)

    def element(self, budget: int, depth: int = 0) -> Node:
        """Read one whole element into memory, refusing more than ``budget`` bytes."""
        return self.element_after(self.header(), budget, depth)

    def element_after(self, h: Header, budget: int, depth: int = 0) -> Node:
        if depth > MAX_DEPTH:
            raise DerError("nested too deeply")
        if h.ident == 0 and h.length is not None:
            raise DerError("end-of-contents where an element was expected")
        if h.length is not None:
            if len(h.raw) + h.length > budget:
                raise DerError("element larger than allowed")
            content = self._exact(h.length)
            children = parse_all(content, depth + 1) if h.ident & CONSTRUCTED else ()
            return Node(h.ident, content, children, h.raw + content)
        # indefinite: children until end-of-contents
        kids: list[Node] = []
        used = len(h.raw)
        while True:
            # An indefinite child declares no length, so only counting what the children
            # took enforces the budget: without this check, empty indefinite children
            # (30 80 00 00, four bytes, one Node each) ran past any budget (red team,
            # issue 21: 8 MB of them took 460 MiB inside a 1 MiB header budget).
            if used > budget:
                raise DerError("element larger than allowed")
            sub = self.header()
            if sub.ident == 0:
                if sub.length != 0:
                    raise DerError("malformed end-of-contents")
                used += 2
                break
            node = self.element_after(sub, budget - used, depth + 1)
            used += len(node.encoding)
            kids.append(node)
        if used > budget:
            raise DerError("element larger than allowed")
        content = b"".join(k.encoding for k in kids)
        return Node(h.ident, content, tuple(kids), h.raw + content + EOC)

    def end_of_contents(self) -> None:
        if self._exact(2) != EOC:
            raise DerError("expected end-of-contents")


def parse_all(data: bytes, depth: int = 0) -> tuple[Node, ...]:
    """Parse a concatenation of complete elements held in memory."""
    import io

    r = Reader(io.BytesIO(data))
    out: list[Node] = []
    while r.offset < len(data):
        try:
            # the parent passed the budget check: its children cannot be larger
            out.append(r.element(len(data) + 16, depth))
        except CmsTruncatedError as exc:
            # inside a definite-length parent the bytes are all there: a short child
            # is a malformation, not a truncated file
            raise DerError("an element runs past its parent") from exc
    return tuple(out)


def parse_one(data: bytes) -> Node:
    nodes = parse_all(data)
    if len(nodes) != 1:
        raise DerError("expected exactly one element")
    return nodes[0]
