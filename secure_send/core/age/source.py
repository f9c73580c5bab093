"""A small buffered reader that can read lines, exact counts, and peek."""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO, Protocol

Observe = Callable[[memoryview], object]


class Readable(Protocol):
    """What a source needs: ``read(n)`` returning ``b""`` only at end of input."""

    def read(self, n: int = -1, /) -> bytes: ...


class Writable(Protocol):
    """Where output goes: ``write`` takes bytes or a memoryview and writes all of it."""

    def write(self, data: bytes | memoryview, /) -> object: ...


class Source:
    """Buffered view over a binary stream.

    ``read(n)`` keeps reading until it has ``n`` bytes or the stream ends, which
    lets the STREAM reader treat a short result as end of input, even on pipes.

    ``observe``, if given, sees every byte handed out, once, in order: by ``read``
    and ``readline`` as they return, and the bytes of ``readinto`` by the payload
    reader that called it (``stream._run``), which does so on another thread, off
    the reading path (a download's hash then costs the download no time).
    """

    def __init__(
        self,
        raw: Readable | BinaryIO,
        *,
        fails_midway: bool = False,
        observe: Observe | None = None,
    ) -> None:
        """Wrap ``raw``; ``fails_midway`` says reads may raise a format error part-way
        (armor is decoded lazily), so bulk readers should read one chunk at a time."""
        self._raw = raw
        self._buf = b""
        self.fails_midway = fails_midway
        self.observe = observe

    def _seen(self, data: bytes) -> bytes:
        if self.observe is not None and data:
            self.observe(memoryview(data))
        return data

    def _fill(self, n: int) -> None:
        while len(self._buf) < n:
            more = self._raw.read(max(n - len(self._buf), 65536))
            if not more:
                return
            self._buf += more

    def peek(self, n: int) -> bytes:
        """Up to ``n`` bytes without consuming them (fewer only at end of input)."""
        self._fill(n)
        return self._buf[:n]

    def readline(self, limit: int) -> bytes:
        """One line including ``\\n``; fewer bytes at end of input or past ``limit``."""
        start = 0
        while True:
            idx = self._buf.find(b"\n", start)
            if idx >= 0 and idx < limit:
                line, self._buf = self._buf[: idx + 1], self._buf[idx + 1 :]
                return self._seen(line)
            if len(self._buf) >= limit:
                line, self._buf = self._buf[:limit], self._buf[limit:]
                return self._seen(line)
            start = len(self._buf)
            before = len(self._buf)
            self._fill(before + 1)
            if len(self._buf) == before:
                line, self._buf = self._buf, b""
                return self._seen(line)

    def readinto(self, buf: memoryview) -> int:
        """Fill ``buf`` completely, or less only because the input ended. These bytes
        are not observed here: the caller hands them to :attr:`observe`."""
        n = len(buf)
        got = min(n, len(self._buf))
        if got:
            buf[:got] = self._buf[:got]
            self._buf = self._buf[got:]
        readinto = getattr(self._raw, "readinto", None)
        while got < n:
            if readinto is not None:
                more = readinto(buf[got:])
            else:
                data = self._raw.read(n - got)
                more = len(data)
                buf[got : got + more] = data
            if not more:
                break
            got += more
        return got

    def read(self, n: int) -> bytes:
        """Exactly ``n`` bytes, or fewer only because the input ended."""
        if not self._buf:
            return self._seen(_read_full(self._raw, n))
        if len(self._buf) >= n:
            out, self._buf = self._buf[:n], self._buf[n:]
            return self._seen(out)
        out, self._buf = self._buf, b""
        return self._seen(out + _read_full(self._raw, n - len(out)))


def _read_full(raw: Readable | BinaryIO, n: int) -> bytes:
    first = raw.read(n)
    if len(first) == n or not first:
        return first
    parts = [first]
    got = len(first)
    while got < n:
        more = raw.read(n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)
