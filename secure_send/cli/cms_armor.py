"""Telling the input's format, and the PEM form of CMS (``-----BEGIN CMS-----``).

``decrypt`` takes age (binary or armored) and CMS (BER/DER, or PEM as ``openssl cms
-outform PEM`` writes it) without being told which: the first bytes say. Only the
standard library and the error classes are imported here, so an age command does not
pay for the CMS stack's imports (see ``cli.main``).
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import BinaryIO

from secure_send.core.error_codes import ErrorCode
from secure_send.core.errors import SecureSendError

AGE, CMS, CMS_PEM = "age", "cms", "cms-pem"
PEM_BEGIN = b"-----BEGIN CMS-----"
PEM_END = b"-----END CMS-----"
_SNIFF = len(PEM_BEGIN)
_BLOCK = 1 << 20
# bytes allowed after the last base64 character: the END line and line breaks
_TAIL_LIMIT = 4096
_WHITESPACE = b" \t\r\n"
_SEQUENCE = 0x30  # a ContentInfo is a SEQUENCE; an age file starts with text


class PemArmorError(SecureSendError):
    """The PEM armor around a CMS message is malformed."""

    code = ErrorCode.INVALID_ARMOR


class _Prefixed(io.RawIOBase):
    """``prefix`` then the rest of ``src``: the bytes read to sniff, given back."""

    def __init__(self, prefix: bytes, src: BinaryIO) -> None:
        self._prefix = memoryview(prefix)
        self._src = src

    def readable(self) -> bool:
        return True

    def readinto(self, buf: memoryview) -> int:  # type: ignore[override]
        if len(self._prefix):
            n = min(len(buf), len(self._prefix))
            buf[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._src.read(len(buf))
        buf[: len(data)] = data
        return len(data)


def detect(src: BinaryIO) -> tuple[str, BinaryIO]:
    """The format of ``src`` (:data:`AGE`, :data:`CMS` or :data:`CMS_PEM`) and a stream
    that reads it from its first byte. Anything not CMS is left to the age reader, which
    names what is wrong with it."""
    head = b""
    while len(head) < _SNIFF and (more := src.read(_SNIFF - len(head))):
        head += more
    if src.seekable():
        src.seek(0)
        whole: BinaryIO = src
    else:  # a pipe: give the sniffed bytes back in front of the rest
        whole = io.BufferedReader(_Prefixed(head, src), _BLOCK)
    if head[:1] == bytes([_SEQUENCE]):
        return CMS, whole
    if head.startswith(PEM_BEGIN):
        return CMS_PEM, whole
    return AGE, whole


class PemReader:
    """The DER bytes inside one ``-----BEGIN CMS-----`` block, decoded as they are read.

    Read in large blocks, not line by line: base64 has no ``-``, so the first ``-`` after
    the BEGIN line starts the END line. Nothing but line breaks may follow END.
    """

    def __init__(self, src: BinaryIO) -> None:
        self._src = src
        self._buf = bytearray()
        self._pending = b""  # base64 characters not yet a multiple of four
        self._done = False
        begin = src.read(len(PEM_BEGIN))
        if begin != PEM_BEGIN:
            raise PemArmorError("no -----BEGIN CMS----- line")

    def read(self, n: int = -1, /) -> bytes:
        """Up to ``n`` decoded bytes (all of them when ``n`` < 0); ``b""`` at the end."""
        while not self._done and (n < 0 or len(self._buf) < n):
            self._fill()
        if n < 0:
            n = len(self._buf)
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def _fill(self) -> None:
        block = self._src.read(_BLOCK)
        if not block:
            raise PemArmorError("the input ends before -----END CMS-----")
        end = block.find(b"-")
        body = block if end < 0 else block[:end]
        self._decode(body.translate(None, _WHITESPACE))
        if end >= 0:
            self._finish(block[end:])

    def _decode(self, chars: bytes) -> None:
        chars = self._pending + chars
        whole = len(chars) // 4 * 4
        self._pending = chars[whole:]
        try:
            self._buf += base64.b64decode(chars[:whole], validate=True)
        except binascii.Error:
            raise PemArmorError("the PEM body is not valid base64") from None

    def _finish(self, tail: bytes) -> None:
        while len(tail) <= _TAIL_LIMIT and (more := self._src.read(_TAIL_LIMIT)):
            tail += more
        if self._pending or not tail.startswith(PEM_END):
            raise PemArmorError("malformed end of the PEM block")
        if len(tail) > _TAIL_LIMIT or tail[len(PEM_END) :].strip(_WHITESPACE):
            raise PemArmorError("data after -----END CMS-----")
        self._done = True


class PemWriter:
    """Writes what it is given as a PEM block of 64-character lines (``close`` ends it)."""

    _LINE = 48  # bytes per 64-character line

    def __init__(self, dst: BinaryIO) -> None:
        self._dst = dst
        self._pending = b""
        dst.write(PEM_BEGIN + b"\n")

    def write(self, data: bytes | memoryview) -> int:
        """Encode whole lines now, keep the rest for the next call (``data`` may be a
        reused buffer: it is copied here)."""
        size = len(data)
        data = self._pending + bytes(data)
        whole = len(data) // self._LINE * self._LINE
        self._pending = data[whole:]
        if whole:
            self._dst.write(_lines(data[:whole]))
        return size

    def close(self) -> None:
        """Write the last line and the END line."""
        tail = _lines(self._pending) if self._pending else b""
        self._dst.write(tail + PEM_END + b"\n")


def _lines(data: bytes) -> bytes:
    encoded = base64.b64encode(data)
    return b"".join(encoded[i : i + 64] + b"\n" for i in range(0, len(encoded), 64))
