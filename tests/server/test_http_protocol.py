"""The uvicorn internals that ``secure_send/server/http_protocol.py`` builds on, pinned.

``ChunkedHttpToolsProtocol`` changes uvicorn's httptools implementation:

* ``HttpToolsProtocol.on_headers_complete`` is extended: after uvicorn made the request's
  ``RequestResponseCycle`` (and only *scheduled* its ASGI task, or queued it behind a
  pipelined request), the cycle's class becomes ``ChunkedCycle`` and its ``body`` a
  ``_Chunks`` (duck-typed: ``+=`` and ``len``);
* ``RequestResponseCycle.receive`` is *copied* into ``ChunkedCycle.receive``, with three
  changes: the body is taken, not copied, the wait for more body is timed
  (``_await_body``), and a body that arrived before a disconnect is delivered first;
* ``connection_made``, ``connection_lost``, ``data_received``, ``on_message_complete``
  and ``on_response_complete`` are extended to enforce the head size limit and the
  head, idle and body timeouts (tested at the end, on real sockets).

All depend on uvicorn's code staying as it is: ``on_body`` must keep feeding the body
with ``+=`` and measuring it with ``len`` (flow control), nothing else may touch
``cycle.body``, and a change to ``receive`` (a bug fix, a new ASGI field) must be
ported into the copy. So the source of every uvicorn function involved is pinned
here (a hash of its normalised text, comments and layout aside) along with the exact
statements the override relies on: a uvicorn upgrade that changes any of them fails
these tests with a message saying what to re-check, instead of silently corrupting
or slowing request bodies. The tests at the end run the protocol in a real uvicorn
server on 127.0.0.1: bodies of every shape arrive whole, through the new class.
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import inspect
import json
import os
import queue
import select
import socket
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from uvicorn.protocols.http import flow_control
from uvicorn.protocols.http import httptools_impl as impl

import secure_send.server.http_protocol as http_protocol
from secure_send.server.config import ServerConfig
from secure_send.server.http_protocol import HIGH_WATER, uvicorn_options

# The uvicorn release these fingerprints were taken from (for the failure message).
PINNED_AT = "0.55.0"

# (class, method) -> SHA-256 of ast.unparse of uvicorn's function: the text without
# comments or formatting, so only a change of code (or docstring) alters it.
PINNED = {
    ("RequestResponseCycle", "__init__"): (
        "6f7b16ad25eee559c68a4308039188e3b40291c57cf2e425a6e330202ec56ca0"
    ),
    ("RequestResponseCycle", "receive"): (
        "5c6d69bd5c2ebf73a51bd328368c616c3a99b55b32db53dfe20fc582f6f34510"
    ),
    ("HttpToolsProtocol", "on_headers_complete"): (
        "f5d7f89383b961ff10a90e306ade05965828cccec8886913d31d491aa6aee71c"
    ),
    ("HttpToolsProtocol", "_start_asgi_task"): (
        "329d66114d637b9e565061f6c62f1d07e41765a63b974c9b5cb14d0833fb6b32"
    ),
    ("HttpToolsProtocol", "on_body"): (
        "04bff947c3d58504d18692daed09ad103c5005a7ebc891a007706fdeaaf3cdd2"
    ),
    ("HttpToolsProtocol", "connection_made"): (
        "52a70c678525d887175bb1fd910b9be77b2b661f91ce08564a39a46c65ec8de4"
    ),
    ("HttpToolsProtocol", "connection_lost"): (
        "8a5a84898dabba92166e7a2701c9b80c6c22e632e173d97050dc6a11eef6de03"
    ),
    ("HttpToolsProtocol", "data_received"): (
        "8583b7d501b5b5dddad7f37b563f35deb5ee1e6fb3d07204cbc8d1e5dc3e186f"
    ),
    ("HttpToolsProtocol", "on_message_complete"): (
        "4ce97e51d988d1721360ef8007d0bf3f5b702d614e8a9e6fb398ea5f16782024"
    ),
    ("HttpToolsProtocol", "on_response_complete"): (
        "3b835da51ff0d85ffa87d92cab123b7c612f2765c23a15ec1f94cf325e1057b4"
    ),
}

WHY = {
    ("RequestResponseCycle", "__init__"): (
        "ChunkedCycle.receive reads the attributes it sets (body, more_body, flow, "
        "message_event, transport, disconnected, waiting_for_100_continue)"
    ),
    ("RequestResponseCycle", "receive"): (
        "ChunkedCycle.receive is a copy of it with the body taken instead of copied: "
        "port the change into the copy"
    ),
    ("HttpToolsProtocol", "on_headers_complete"): (
        "ChunkedHttpToolsProtocol.on_headers_complete swaps the class of the cycle it "
        "made, which is only safe while the cycle's ASGI task has not run yet"
    ),
    ("HttpToolsProtocol", "_start_asgi_task"): (
        "it must only schedule the ASGI task (create_task), not run it, before "
        "on_headers_complete returns"
    ),
    ("HttpToolsProtocol", "on_body"): (
        "it feeds the cycle's body with += and pauses reading on len(body) > "
        "HIGH_WATER_LIMIT: what _Chunks implements"
    ),
    ("HttpToolsProtocol", "connection_made"): (
        "the override arms the keep-alive timer (timeout_keep_alive_task, self.loop) and "
        "the head timer after it: it must not arm a timer of its own"
    ),
    ("HttpToolsProtocol", "connection_lost"): (
        "the override cancels the head timer, then relies on it to end the cycle"
    ),
    ("HttpToolsProtocol", "data_received"): (
        "the override counts head bytes around it: it must feed the parser at once "
        "(parser callbacks run inside it) and answer a parser error by closing"
    ),
    ("HttpToolsProtocol", "on_message_complete"): (
        "the override starts counting the next request's head after it"
    ),
    ("HttpToolsProtocol", "on_response_complete"): (
        "the override arms the head timer when this armed timeout_keep_alive_task, "
        "i.e. exactly when the connection is idle with no pipelined request"
    ),
}

CLASSES = {
    "RequestResponseCycle": impl.RequestResponseCycle,
    "HttpToolsProtocol": impl.HttpToolsProtocol,
}


def _uvicorn_function(cls_name: str, method: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    source = textwrap.dedent(inspect.getsource(getattr(CLASSES[cls_name], method)))
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    return node


def _fingerprint(node: ast.AST) -> str:
    return hashlib.sha256(ast.unparse(node).encode()).hexdigest()


def _statements(node: ast.AST) -> set[str]:
    """Every statement and expression of ``node`` as normalised source text."""
    return {ast.unparse(n) for n in ast.walk(node) if isinstance(n, ast.stmt | ast.expr)}


def _changed(cls_name: str, method: str, what: str) -> str:
    return (
        f"uvicorn {uvicorn.__version__} changed {cls_name}.{method} ({what}; pinned at "
        f"uvicorn {PINNED_AT}). secure_send/server/http_protocol.py depends on it: "
        f"{WHY[(cls_name, method)]}. Read the new uvicorn source, adapt "
        "http_protocol.py (or drop the override if uvicorn no longer copies bodies), "
        "then update the pins in tests/server/test_http_protocol.py. The new text:\n"
        + ast.unparse(_uvicorn_function(cls_name, method))
    )


# ------------------------------------------------------------------ uvicorn's source


@pytest.mark.parametrize(("cls_name", "method"), sorted(PINNED))
def test_the_uvicorn_code_the_override_relies_on_is_unchanged(cls_name: str, method: str) -> None:
    fingerprint = _fingerprint(_uvicorn_function(cls_name, method))
    assert fingerprint == PINNED[(cls_name, method)], _changed(cls_name, method, "its source")


def test_the_overridden_methods_keep_their_signatures() -> None:
    receive = impl.RequestResponseCycle.receive
    assert inspect.iscoroutinefunction(receive), _changed(
        "RequestResponseCycle", "receive", "no longer a coroutine"
    )
    assert list(inspect.signature(receive).parameters) == ["self"], _changed(
        "RequestResponseCycle", "receive", "its parameters"
    )
    on_headers = impl.HttpToolsProtocol.on_headers_complete
    assert not inspect.iscoroutinefunction(on_headers)
    assert list(inspect.signature(on_headers).parameters) == ["self"], _changed(
        "HttpToolsProtocol", "on_headers_complete", "its parameters"
    )
    assert list(inspect.signature(impl.HttpToolsProtocol.on_body).parameters) == [
        "self",
        "body",
    ], _changed("HttpToolsProtocol", "on_body", "its parameters")


def test_the_body_is_fed_with_plus_equals_and_measured_with_len() -> None:
    """What ``_Chunks`` implements, and the limit ``HIGH_WATER`` mirrors."""
    on_body = _statements(_uvicorn_function("HttpToolsProtocol", "on_body"))
    for statement in (
        "self.cycle.body += body",
        "len(self.cycle.body) > HIGH_WATER_LIMIT",
        "self.flow.pause_reading()",
        "self.cycle.message_event.set()",
    ):
        assert statement in on_body, _changed("HttpToolsProtocol", "on_body", statement)
    assert impl.HIGH_WATER_LIMIT is flow_control.HIGH_WATER_LIMIT  # type: ignore[attr-defined]
    assert flow_control.HIGH_WATER_LIMIT == HIGH_WATER


def test_a_new_cycle_starts_with_an_empty_bytearray_body() -> None:
    init = _statements(_uvicorn_function("RequestResponseCycle", "__init__"))
    for statement in (
        "self.body = bytearray()",
        "self.more_body = True",
        "self.disconnected = False",
        "self.waiting_for_100_continue = expect_100_continue",
        "self.message_event = message_event",
        "self.flow = flow",
        "self.transport = transport",
    ):
        assert statement in init, _changed("RequestResponseCycle", "__init__", statement)


def test_the_cycle_is_made_then_only_scheduled_or_queued() -> None:
    """The class swap after ``super().on_headers_complete()`` is safe only because the
    ASGI task has not started: it is created (or queued behind a pipelined request)."""
    made = _statements(_uvicorn_function("HttpToolsProtocol", "on_headers_complete"))
    assert any(s.startswith("self.cycle = RequestResponseCycle(") for s in made), _changed(
        "HttpToolsProtocol", "on_headers_complete", "self.cycle = RequestResponseCycle(...)"
    )
    for statement in (
        "self._start_asgi_task(self.cycle, app)",
        "self.pipeline.appendleft((self.cycle, app))",
    ):
        assert statement in made, _changed("HttpToolsProtocol", "on_headers_complete", statement)
    started = _statements(_uvicorn_function("HttpToolsProtocol", "_start_asgi_task"))
    assert any(s.startswith("self.loop.create_task(cycle.run_asgi(app)") for s in started), (
        _changed("HttpToolsProtocol", "_start_asgi_task", "self.loop.create_task(...)")
    )


def test_nothing_else_in_uvicorn_touches_the_cycle_body() -> None:
    """A new ``cycle.body.clear()`` or ``bytes(cycle.body)`` elsewhere would meet a
    ``_Chunks`` it does not expect."""
    tree = ast.parse(inspect.getsource(impl))
    users = {
        f"{cls.name}.{func.name}"
        for cls in tree.body
        if isinstance(cls, ast.ClassDef)
        for func in cls.body
        if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(func)
        if isinstance(node, ast.Attribute) and node.attr == "body"
    }
    assert users == {
        "HttpToolsProtocol.on_body",
        "RequestResponseCycle.__init__",
        "RequestResponseCycle.receive",
    }, (
        f"uvicorn {uvicorn.__version__} uses the request body in {sorted(users)} (pinned "
        f"at {PINNED_AT}: on_body, __init__, receive); check that each works with "
        "secure_send.server.http_protocol._Chunks"
    )


def test_our_receive_is_uvicorns_but_for_the_body() -> None:
    """``ChunkedCycle.receive`` and uvicorn's agree statement by statement up to the
    body: the 100-continue answer, flow control, the wait (timed in ours while more body
    is due: ``_await_body``) and the disconnect."""
    ours = _our_receive()
    theirs = _uvicorn_function("RequestResponseCycle", "receive")
    # ours times the wait and hands over a body that arrived before the disconnect
    changes = {
        "await _await_body(self, limits.body_timeout)": "await self.message_event.wait()",
        "if self.disconnected and (not len(self.body)) or self.response_complete:": (
            "if self.disconnected or self.response_complete:"
        ),
    }
    untimed = []
    for statement in ours.body[:3]:
        text = ast.unparse(statement)
        for new, old in changes.items():
            text = text.replace(new, old)
        untimed.append(text)
    assert untimed == [ast.unparse(s) for s in theirs.body[:3]]
    assert "await _await_body(self, limits.body_timeout)" in ast.unparse(ours.body[1])
    assert "not len(self.body)" in ast.unparse(ours.body[2])
    assert [ast.unparse(s) for s in ours.body[3:]] == [
        "body = cast(_Chunks, self.body).take()",
        "return {'type': 'http.request', 'body': body, 'more_body': self.more_body}",
    ]
    assert [ast.unparse(s) for s in theirs.body[3:]] == [
        "message: HTTPRequestEvent = {'type': 'http.request', 'body': bytes(self.body), "
        "'more_body': self.more_body}",
        "self.body = bytearray()",
        "return message",
    ], _changed("RequestResponseCycle", "receive", "the message it returns")


def _our_receive() -> ast.AsyncFunctionDef:
    tree = ast.parse(Path(http_protocol.__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "ChunkedCycle":
            for item in node.body:
                if isinstance(item, ast.AsyncFunctionDef) and item.name == "receive":
                    return item
    raise AssertionError("ChunkedCycle.receive not found in http_protocol.py")


def test_the_fingerprint_sees_a_change_but_not_a_comment() -> None:
    """Guard against a vacuous pin."""
    a = ast.parse("def f(self):\n    self.body += b  # feed\n").body[0]
    b = ast.parse("def f(self):\n    self.body += b\n").body[0]
    c = ast.parse("def f(self):\n    self.body.extend(b)\n").body[0]
    assert _fingerprint(a) == _fingerprint(b) != _fingerprint(c)


# ------------------------------------------------------------------ a real server


class EchoApp:
    """Reads the whole body (after ``x-delay`` seconds) and answers what it received."""

    def __init__(self) -> None:
        self.disconnected: queue.Queue[int] = queue.Queue()
        self.served: queue.Queue[int] = queue.Queue()  # sizes of whole bodies read

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Any) -> None:
        assert scope["type"] == "http"
        delay = float(dict(scope["headers"]).get(b"x-delay", b"0"))
        if delay:
            await asyncio.sleep(delay)
        digest, sizes, types = hashlib.sha256(), list[int](), set[str]()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.disconnected.put(sum(sizes))
                return
            body = message["body"]
            types.add(type(body).__name__)
            sizes.append(len(body))
            digest.update(body)
            if not message["more_body"]:
                self.served.put(sum(sizes))
                break
        answer = json.dumps(
            {
                "sha256": digest.hexdigest(),
                "size": sum(sizes),
                "largest": max(sizes),
                "types": sorted(types),
                "cycle": type(getattr(receive, "__self__", None)).__name__,
            }
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(answer))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, EchoApp]]:
    yield from _serve(ServerConfig(home=tmp_path_factory.mktemp("http")))


def _serve(server_config: ServerConfig) -> Iterator[tuple[str, int, EchoApp]]:
    """An :class:`EchoApp` under uvicorn with the drop server's options for ``server_config``."""
    options = uvicorn_options(server_config)
    assert options["http"] != "h11"  # httptools is installed with the server extra
    assert options["http"].__name__ == "ChunkedHttpToolsProtocol"
    app = EchoApp()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", **options
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="http-protocol-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "uvicorn did not start"
        assert time.monotonic() < deadline, "uvicorn did not start in time"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield "127.0.0.1", port, app
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _expect(answer: dict[str, Any], data: bytes) -> None:
    assert answer["cycle"] == "ChunkedCycle"  # the app was served through the override
    assert answer["types"] == ["bytes"]
    assert answer["size"] == len(data)
    assert answer["sha256"] == hashlib.sha256(data).hexdigest()


def _read_response(sock: socket.socket, buffer: bytearray) -> tuple[bytes, bytes]:
    """One response (status line, body with Content-Length) from ``sock``; what was
    read beyond it stays in ``buffer``."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        assert chunk, "connection closed before a response"
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = next(
        int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length")
    )
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside a response body"
        rest += chunk
    buffer[:] = rest[length:]
    return lines[0], rest[:length]


def test_a_large_body_arrives_whole_through_the_chunked_cycle(
    echo: tuple[str, int, EchoApp],
) -> None:
    host, port, _ = echo
    data = os.urandom(3 * 1024 * 1024 + 17)
    response = httpx.post(f"http://{host}:{port}/", content=data, timeout=30)
    assert response.status_code == 200
    _expect(response.json(), data)


def test_a_chunked_transfer_encoding_body_arrives_whole(echo: tuple[str, int, EchoApp]) -> None:
    host, port, _ = echo
    data = os.urandom(200_000)
    pieces = [data[i : i + 7_001] for i in range(0, len(data), 7_001)]
    response = httpx.post(f"http://{host}:{port}/", content=iter(pieces), timeout=30)
    assert response.status_code == 200
    _expect(response.json(), data)


def test_an_empty_body(echo: tuple[str, int, EchoApp]) -> None:
    host, port, _ = echo
    response = httpx.post(f"http://{host}:{port}/", content=b"", timeout=30)
    assert response.status_code == 200
    _expect(response.json(), b"")


def test_reading_pauses_while_the_app_is_slow(echo: tuple[str, int, EchoApp]) -> None:
    """Flow control still works on ``_Chunks``: while the app does not read, uvicorn
    stops reading the socket once more than HIGH_WATER is waiting, so the first piece
    the app gets is small, not the whole upload."""
    host, port, _ = echo
    data = os.urandom(16 * 1024 * 1024)
    response = httpx.post(
        f"http://{host}:{port}/", content=data, headers={"x-delay": "0.5"}, timeout=60
    )
    answer = response.json()
    _expect(answer, data)
    assert answer["largest"] <= 1024 * 1024, answer["largest"]  # 16 MiB without it


def test_expect_100_continue_is_answered_before_the_body(echo: tuple[str, int, EchoApp]) -> None:
    host, port, _ = echo
    data = os.urandom(100_000)
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\n"
            b"Content-Length: %d\r\n\r\n" % len(data)
        )
        interim = sock.recv(4096)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), interim
        buffer = bytearray(interim[len(b"HTTP/1.1 100 Continue\r\n\r\n") :])
        sock.sendall(data)
        status, body = _read_response(sock, buffer)
    assert status.startswith(b"HTTP/1.1 200")
    _expect(json.loads(body), data)


def test_pipelined_requests_each_get_the_chunked_cycle(echo: tuple[str, int, EchoApp]) -> None:
    """The second request's cycle is queued, not started, when its headers arrive: its
    class is swapped too, and both bodies stay apart."""
    host, port, _ = echo
    first, second = os.urandom(50_000), os.urandom(70_000)
    request = b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: %d\r\n\r\n"
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(request % len(first) + first + request % len(second) + second)
        buffer = bytearray()
        answers = [_read_response(sock, buffer) for _ in range(2)]
    for (status, body), data in zip(answers, (first, second), strict=True):
        assert status.startswith(b"HTTP/1.1 200")
        _expect(json.loads(body), data)


def test_a_client_that_leaves_mid_body_is_a_disconnect(echo: tuple[str, int, EchoApp]) -> None:
    host, port, app = echo
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 1000000\r\n\r\n")
        sock.sendall(os.urandom(10_000))
        # closed at once: the app may not have read any of it yet
    received = app.disconnected.get(timeout=10)
    assert received == 10_000  # what arrived before the cut is handed over, then the disconnect


def test_a_whole_body_sent_before_the_client_left_is_served(
    echo: tuple[str, int, EchoApp],
) -> None:
    """The app reads only after the client has gone: the body is whole, so it is served."""
    host, port, app = echo
    while not app.served.empty():  # earlier tests' bodies (the server is the module's)
        app.served.get_nowait()
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: test\r\nX-Delay: 0.3\r\nContent-Length: 5000\r\n\r\n"
            + os.urandom(5000)
        )
    assert app.served.get(timeout=10) == 5000
    assert app.disconnected.empty()


# ------------------------------------------------------------------ limits (issue 14, item 10)

LIMIT_SECONDS = 1  # every timeout of the limited server
HEAD_LIMIT = 32 * 1024  # the default max_header_bytes


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, EchoApp]]:
    """The echo app behind the protocol with 1 s head, idle and body timeouts."""
    config = ServerConfig(
        home=tmp_path_factory.mktemp("limited"),
        header_timeout_seconds=LIMIT_SECONDS,
        idle_timeout_seconds=LIMIT_SECONDS,
        body_timeout_seconds=LIMIT_SECONDS,
    )
    assert config.max_header_bytes == HEAD_LIMIT
    yield from _serve(config)


def _closed_after(sock: socket.socket, started: float, within: float = 5.0) -> float:
    """Seconds from ``started`` until the server closed ``sock`` (it sends nothing)."""
    sock.settimeout(within)
    try:
        data = sock.recv(65536)
    except ConnectionResetError:
        data = b""
    except TimeoutError:
        raise AssertionError(f"the server kept the connection open for {within} s") from None
    assert data == b"", data[:200]
    return time.monotonic() - started


def test_headers_over_the_limit_get_431_json(limited: tuple[str, int, EchoApp]) -> None:
    host, port, _ = limited
    filler = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"a" * 1000) for i in range(70))  # 70 KB
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n" + filler + b"\r\n")
        status, body = _read_response(sock, bytearray())
        assert status.startswith(b"HTTP/1.1 431"), status
        assert json.loads(body) == {
            "code": "headers_too_large",
            "message": f"request headers over {HEAD_LIMIT} bytes",
        }
        _closed_after(sock, time.monotonic())
    # one header line of 64 MB is cut off just the same (the parser buffers a line)
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\nX-Big: " + b"a" * (HEAD_LIMIT + 1000))
        status, _ = _read_response(sock, bytearray())
        assert status.startswith(b"HTTP/1.1 431"), status


def test_headers_under_the_limit_with_a_large_body_pass(limited: tuple[str, int, EchoApp]) -> None:
    """Only the head counts: a body in the same reads is not mistaken for headers."""
    host, port, _ = limited
    data = os.urandom(512 * 1024)
    filler = {f"x-filler-{i}": "a" * 1000 for i in range(HEAD_LIMIT // 1100)}  # ~29 KB
    response = httpx.post(f"http://{host}:{port}/", content=data, headers=filler, timeout=30)
    assert response.status_code == 200
    _expect(response.json(), data)


def test_a_half_sent_request_line_is_closed_after_the_head_timeout(
    limited: tuple[str, int, EchoApp],
) -> None:
    host, port, _ = limited
    with socket.create_connection((host, port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /some/pa")
        elapsed = _closed_after(sock, started)
    assert LIMIT_SECONDS * 0.8 <= elapsed < LIMIT_SECONDS + 2, elapsed


def test_a_slowloris_trickle_does_not_keep_the_connection(
    limited: tuple[str, int, EchoApp],
) -> None:
    """A byte of header every 0.2 s resets no timer: the whole head is due in 1 s."""
    host, port, _ = limited
    with socket.create_connection((host, port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n")
        closed = None
        for _ in range(50):  # 10 s of trickling, if the server allowed it
            time.sleep(0.2)
            try:
                sock.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                closed = time.monotonic() - started
                break
            readable, _, _ = select.select([sock], [], [], 0)
            if readable and sock.recv(1) == b"":
                closed = time.monotonic() - started
                break
    assert closed is not None, "the trickling connection stayed open for 10 s"
    assert closed < LIMIT_SECONDS + 2, closed


def test_an_idle_connection_is_closed(limited: tuple[str, int, EchoApp]) -> None:
    host, port, _ = limited
    with socket.create_connection((host, port), timeout=10) as sock:
        elapsed = _closed_after(sock, time.monotonic())
    assert elapsed < LIMIT_SECONDS + 2, elapsed


def test_after_a_response_the_next_head_is_due_in_time(limited: tuple[str, int, EchoApp]) -> None:
    """Keep-alive: the connection serves a request, then must not be held by a trickle."""
    host, port, _ = limited
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 2\r\n\r\nhi")
        status, _ = _read_response(sock, bytearray())
        assert status.startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        sock.sendall(b"GET / HT")
        time.sleep(LIMIT_SECONDS * 0.6)
        sock.sendall(b"TP/1.1\r\n")  # data: uvicorn's keep-alive timer is cancelled
        elapsed = _closed_after(sock, started)
    assert elapsed < LIMIT_SECONDS + 2, elapsed


def test_a_stalled_body_ends_the_connection(limited: tuple[str, int, EchoApp]) -> None:
    """The app sees a disconnect (with what arrived) once the body stops for 1 s."""
    host, port, app = limited
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 1000000\r\n\r\n")
        sock.sendall(os.urandom(10_000))
        started = time.monotonic()
        received = app.disconnected.get(timeout=10)
        elapsed = _closed_after(sock, started)
    assert received == 10_000
    assert LIMIT_SECONDS * 0.8 <= elapsed < LIMIT_SECONDS + 2, elapsed


def test_a_slow_body_that_keeps_coming_is_served(limited: tuple[str, int, EchoApp]) -> None:
    """The body timeout is per piece, not for the whole body."""
    host, port, _ = limited
    pieces = [os.urandom(1000) for _ in range(6)]

    def slowly() -> Iterator[bytes]:
        for piece in pieces:
            time.sleep(LIMIT_SECONDS * 0.4)
            yield piece

    response = httpx.post(f"http://{host}:{port}/", content=slowly(), timeout=30)
    assert response.status_code == 200
    _expect(response.json(), b"".join(pieces))


def test_a_slow_response_is_not_cut(limited: tuple[str, int, EchoApp]) -> None:
    """While the app takes its time (a 25 s inbox long-poll, say) the client rightly
    sends nothing: no head or body timer runs then."""
    host, port, _ = limited
    delay = LIMIT_SECONDS * 2.5
    for body in (b"", os.urandom(1000)):
        started = time.monotonic()
        response = httpx.post(
            f"http://{host}:{port}/", content=body, headers={"x-delay": str(delay)}, timeout=30
        )
        assert response.status_code == 200
        assert time.monotonic() - started >= delay
        _expect(response.json(), body)
