"""How uvicorn serves the app: httptools + uvloop when installed, and a body path
that does not copy every byte three times.

uvicorn (0.54) collects a request body in a ``bytearray`` (``+=`` per socket
read) and hands the app ``bytes(bytearray)``: two extra copies and a large
allocation per 64 KiB. Measured here on a 1 GiB upload over loopback, that capped
a do-nothing ASGI app at ~0.87 GB/s with the server's core at 100 %, most of it in
``memcpy`` and ``brk``. :class:`ChunkedHttpToolsProtocol` keeps the socket reads as
they came (a list) and joins them only when the app asks, which is no copy at all
when one read is waiting (the usual case): the same app then takes 4-5 GB/s.

The same protocol enforces the HTTP limits uvicorn lacks on httptools (measured
before: 64 MB of headers accepted, slowloris and silent connections held open for
good, a stalled PATCH keeping its upload locked): a request's line and headers over
``max_header_bytes`` get ``431 headers_too_large``; they must all arrive within
``header_timeout_seconds`` of the connection opening (or of the previous response
ending), and a connection that sends nothing is closed after
``idle_timeout_seconds`` (uvicorn's keep-alive timer, also armed on a new
connection); a body the app is waiting for must keep coming: no piece for
``body_timeout_seconds`` closes the connection, which the route sees as a
disconnect (a tus PATCH then keeps what arrived and frees the upload's lock).

The replaced methods are small and version-checked by
``tests/server/test_http_protocol.py``; everything else (flow control,
keep-alive, disconnects, pipelining) is uvicorn's.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from dataclasses import dataclass
from typing import Any, cast

from secure_send.core.error_codes import ErrorCode
from secure_send.server.config import ServerConfig

HIGH_WATER = 64 * 1024  # uvicorn's own limit: pause reading above this much unread body
# after a 431, how long the rest of the oversized head is read and dropped before the
# connection closes: closing on unread data would reset it, and the client could lose
# the answer (a "lingering close", as nginx does)
LINGER_SECONDS = 2.0


@dataclass(frozen=True)
class HttpLimits:
    """What a connection may send, and how slowly (see the module docstring)."""

    max_header_bytes: int
    header_timeout: float
    body_timeout: float

    @classmethod
    def of(cls, config: ServerConfig) -> HttpLimits:
        """The limits ``config`` sets."""
        return cls(
            config.max_header_bytes, config.header_timeout_seconds, config.body_timeout_seconds
        )


def _headers_too_large(limit: int) -> bytes:
    """The whole 431 answer: the one JSON error shape, then the connection closes."""
    body = json.dumps(
        {"code": ErrorCode.HEADERS_TOO_LARGE, "message": f"request headers over {limit} bytes"}
    ).encode()
    head = (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
        b"content-type: application/json\r\n"
        b"content-length: %d\r\n"
        b"connection: close\r\n\r\n"
    )
    return head % len(body) + body


class _Chunks:
    """Body reads not yet given to the app: ``+=`` appends, ``len`` is their total."""

    __slots__ = ("_parts", "_size")

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0

    def __iadd__(self, data: bytes) -> _Chunks:
        self._parts.append(data)
        self._size += len(data)
        return self

    def __len__(self) -> int:
        return self._size

    def take(self) -> bytes:
        """Everything collected, as one ``bytes`` (no copy for a single read); then empty."""
        parts, self._parts, self._size = self._parts, [], 0
        return parts[0] if len(parts) == 1 else b"".join(parts)


async def _await_body(cycle: Any, timeout: float) -> None:
    """``await cycle.message_event.wait()``, but while more body is due, at most
    ``timeout`` s: then the client has stalled and the connection is closed, so the
    cycle reports a disconnect. A call_later timer, not ``asyncio.wait_for``: this runs
    once per socket read of an upload, and a task per read would cost CPU."""
    event: asyncio.Event = cycle.message_event
    if event.is_set() or not cycle.more_body:
        await event.wait()  # data waiting, or the body is all in (a wait for disconnect)
        return

    def stalled() -> None:
        cycle.disconnected = True
        cycle.transport.close()
        event.set()

    timer = asyncio.get_running_loop().call_later(timeout, stalled)
    try:
        await event.wait()
    finally:
        timer.cancel()


def _protocol_class(limits: HttpLimits) -> type[Any] | None:
    """The protocol class enforcing ``limits``, or ``None`` when httptools is not installed."""
    if importlib.util.find_spec("httptools") is None:
        return None
    from uvicorn.protocols.http import httptools_impl as impl

    class ChunkedCycle(impl.RequestResponseCycle):
        async def receive(self) -> Any:
            # uvicorn's RequestResponseCycle.receive, but the body is taken, not copied,
            # a stalled body ends the connection (_await_body), and a body that arrived
            # before a disconnect is still delivered
            if self.waiting_for_100_continue and not self.transport.is_closing():
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                self.waiting_for_100_continue = False
            if not self.disconnected and not self.response_complete:
                self.flow.resume_reading()
                await _await_body(self, limits.body_timeout)
                self.message_event.clear()
            # uvicorn's test is `self.disconnected or ...`: but when the client left, what
            # it sent first is still here, so it is handed over before the disconnect (a
            # cut tus PATCH keeps every byte that arrived; a whole body is served)
            if (self.disconnected and not len(self.body)) or self.response_complete:
                return {"type": "http.disconnect"}
            body = cast(_Chunks, self.body).take()
            return {"type": "http.request", "body": body, "more_body": self.more_body}

    class ChunkedHttpToolsProtocol(impl.HttpToolsProtocol):
        # bytes of the request head being received; None while a body is (or none is due)
        _head_bytes: int | None = 0
        _head_tail = b""  # the last bytes of the previous read (a CRLFCRLF may straddle)
        _head_timer: asyncio.TimerHandle | None = None
        _discarding = False  # after a 431: the rest of the head is read and dropped

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            # uvicorn arms its keep-alive (idle) timer only after a response: a new
            # connection that never says anything would stay open for good
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )
            self._arm_head_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_head_timer()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._discarding:
                return
            if self._head_bytes is not None:
                # counted before the parser sees it (it buffers a header line until its
                # end), up to the blank line ending the head: a body in the same read is
                # not head (one read may hold a whole 70 KB head and more)
                end = (self._head_tail + data).find(b"\r\n\r\n")
                self._head_bytes += len(data) if end < 0 else end + 4 - len(self._head_tail)
                self._head_tail = data[-3:]
                if self._head_bytes > limits.max_header_bytes:
                    self._refuse_head()
                    return
            super().data_received(data)

        def on_headers_complete(self) -> None:
            self._head_bytes = None
            self._disarm_head_timer()
            super().on_headers_complete()
            # the ASGI task was only scheduled, not started: it sees the new class
            if self.cycle is not None and type(self.cycle) is impl.RequestResponseCycle:
                self.cycle.__class__ = ChunkedCycle
                self.cycle.body = cast(bytearray, _Chunks())  # duck-typed: +=, len

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._head_bytes, self._head_tail = 0, b""  # the next request's head may follow

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self.timeout_keep_alive_task is not None:
                # idle, waiting for the next request (none was pipelined): its head
                # must arrive in time, however it trickles
                self._arm_head_timer()

        def _arm_head_timer(self) -> None:
            self._disarm_head_timer()
            self._head_timer = self.loop.call_later(limits.header_timeout, self._head_too_slow)

        def _disarm_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_too_slow(self) -> None:
            self._head_timer = None
            if self._head_bytes is not None and not self.transport.is_closing():
                self.transport.close()

        def _refuse_head(self) -> None:
            self._disarm_head_timer()
            if self.transport.is_closing():
                return
            if self.cycle is not None and not self.cycle.response_complete:
                self.transport.close()  # a response is under way: no room for a 431
                return
            self.transport.write(_headers_too_large(limits.max_header_bytes))
            self._discarding = True
            if self.transport.can_write_eof():
                self.transport.write_eof()
            self.loop.call_later(LINGER_SECONDS, self.transport.close)

    return ChunkedHttpToolsProtocol


def uvicorn_options(config: ServerConfig) -> dict[str, Any]:
    """Protocol, loop and proxy arguments for ``uvicorn.run``/``uvicorn.Config``.

    X-Forwarded-For is believed only from ``trusted_proxies`` (uvicorn then puts the
    forwarded client address in the request scope); without any, it is ignored.
    """
    protocol = _protocol_class(HttpLimits.of(config))
    loop = "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"
    proxies = ",".join(p.strip() for p in config.trusted_proxies.split(",") if p.strip())
    return {
        "http": protocol if protocol is not None else "h11",
        "loop": loop,
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or "127.0.0.1",  # unused when proxy_headers is off
        "server_header": False,
        "timeout_keep_alive": config.idle_timeout_seconds,
        # only for the h11 fallback (no httptools): its own head limit, no timeouts
        "h11_max_incomplete_event_size": config.max_header_bytes,
    }
