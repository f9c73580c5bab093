"""ASCII armor for age files (strict PEM, ``AGE ENCRYPTED FILE``).

The reader follows the reference implementation's rules: optional whitespace
around the armor (bounded), exact BEGIN/END lines, LF or CRLF line endings,
canonical padded base64 in lines of 64 columns with a short (or full) last
line, nothing else. Decoding is lazy, so an armor error can surface after some
plaintext has already been released; the payload rules still guarantee that
what was released is authentic.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import BinaryIO

from secure_send.core.age.source import Readable, Source, Writable
from secure_send.core.errors import ArmorError

BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
END = b"-----END AGE ENCRYPTED FILE-----"
COLUMNS = 64
BYTES_PER_LINE = COLUMNS // 4 * 3
MAX_WHITESPACE = 1024
_B64_LINE = re.compile(rb"[A-Za-z0-9+/]*={0,2}")
_WHITESPACE = b" \t\n\r\x0b\x0c"


def looks_armored(src: Source) -> bool:
    """Whether ``src`` starts (after a little whitespace) with the BEGIN line."""
    head = src.peek(MAX_WHITESPACE + len(BEGIN))
    return head.lstrip(_WHITESPACE).startswith(BEGIN)


def _decode_line(line: bytes) -> bytes:
    if not line:
        raise ArmorError("empty line inside the armor")
    if len(line) > COLUMNS:
        raise ArmorError("armor line longer than 64 columns")
    if len(line) % 4 or not _B64_LINE.fullmatch(line):
        raise ArmorError("invalid base64 in armor")
    try:
        data = base64.b64decode(line, validate=True)
    except binascii.Error:
        raise ArmorError("invalid base64 in armor") from None
    if base64.b64encode(data) != line:
        raise ArmorError("non-canonical base64 in armor")
    return data


class ArmorReader:
    """Decodes armored input lazily; ``read`` raises :class:`ArmorError` on bad armor."""

    def __init__(self, raw: Readable | BinaryIO | Source) -> None:
        self._src = raw if isinstance(raw, Source) else Source(raw)
        self._started = False
        self._finished = False
        self._unread = b""

    def _line(self) -> bytes:
        line = self._src.readline(COLUMNS + 3)
        if not line:
            raise ArmorError("armor ended without its END line")
        if not line.endswith(b"\n") and len(line) > COLUMNS + 1:
            raise ArmorError("armor line longer than 64 columns")
        return line.removesuffix(b"\n").removesuffix(b"\r")

    def _start(self) -> None:
        skipped = 0
        while True:
            line = self._src.readline(MAX_WHITESPACE + len(BEGIN) + 2)
            if not line:
                raise ArmorError("no armor BEGIN line")
            stripped = line.removesuffix(b"\n").removesuffix(b"\r")
            if not stripped.strip(_WHITESPACE):
                skipped += len(line)
                if skipped > MAX_WHITESPACE:
                    raise ArmorError("too much whitespace before the armor")
                continue
            if stripped != BEGIN:
                raise ArmorError("invalid armor BEGIN line")
            self._started = True
            return

    def _finish(self) -> None:
        rest = self._src.read(MAX_WHITESPACE)
        if rest.strip(_WHITESPACE):
            raise ArmorError("data after the armor END line")
        if len(rest) == MAX_WHITESPACE:
            raise ArmorError("too much whitespace after the armor")
        self._finished = True

    def _next_block(self) -> bytes:
        if not self._started:
            self._start()
        line = self._line()
        if line == END:
            self._finish()
            return b""
        data = _decode_line(line)
        if len(data) < BYTES_PER_LINE:
            if self._line() != END:
                raise ArmorError("armor short line not followed by the END line")
            self._finish()
        return data

    def read(self, n: int = -1, /) -> bytes:
        """Up to ``n`` decoded bytes (all remaining if ``n < 0``); ``b""`` at the end."""
        parts = [self._unread]
        have = len(self._unread)
        while (n < 0 or have < n) and not self._finished:
            block = self._next_block()
            parts.append(block)
            have += len(block)
        data = b"".join(parts)
        if n < 0:
            self._unread = b""
            return data
        self._unread = data[n:]
        return data[:n]


class ArmorWriter:
    """Encodes written bytes as armor; call :meth:`close` to write the END line."""

    def __init__(self, dst: Writable) -> None:
        self._dst = dst
        self._pending = b""
        self._dst.write(BEGIN + b"\n")

    def write(self, data: bytes | memoryview) -> int:
        """Buffer ``data`` and emit every complete 64-column line."""
        buf = self._pending + bytes(data)
        whole = len(buf) - len(buf) % BYTES_PER_LINE
        if whole:
            encoded = base64.b64encode(buf[:whole])
            lines = [encoded[i : i + COLUMNS] for i in range(0, len(encoded), COLUMNS)]
            self._dst.write(b"\n".join(lines) + b"\n")
        self._pending = buf[whole:]
        return len(data)

    def close(self) -> None:
        """Write the final (possibly empty) short line and the END line."""
        if self._pending:
            self._dst.write(base64.b64encode(self._pending) + b"\n")
        self._dst.write(END + b"\n")
        self._pending = b""
