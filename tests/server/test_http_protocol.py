"""The uvicorn internals that ``secure_send/server/http_protocol.py`` builds on, pinned.

``ChunkedHttpToolsProtocol`` replaces two methods of uvicorn's httptools implementation:

* ``HttpToolsProtocol.on_headers_complete`` is extended: after uvicorn made the request's
  ``RequestResponseCycle`` (and only *scheduled* its ASGI task, or queued it behind a
  pipelined request), the cycle's class becomes ``ChunkedCycle`` and its ``body`` a
  ``_Chunks`` (duck-typed: ``+=`` and ``len``);
* ``RequestResponseCycle.receive`` is *copied* into ``ChunkedCycle.receive``, with the
  one change that the body is taken, not copied.

Both depend on uvicorn's code staying as it is: ``on_body`` must keep feeding the body
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
    body: the 100-continue answer, flow control, the wait and the disconnect."""
    ours = _our_receive()
    theirs = _uvicorn_function("RequestResponseCycle", "receive")
    assert [ast.unparse(s) for s in ours.body[:3]] == [ast.unparse(s) for s in theirs.body[:3]]
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
    options = uvicorn_options(ServerConfig(home=tmp_path_factory.mktemp("http")))
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
        time.sleep(0.2)
    received = app.disconnected.get(timeout=10)
    assert 0 <= received <= 10_000
