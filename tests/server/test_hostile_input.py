"""Malformed input to every route of the real server: always a 4xx with the JSON error
body, never a 500 (issue 14, item 15).

The routes are read from the app's own route table, so a new route is covered the day it
is added. Every request is signed (as Hanako's laptop; the signer's routes as the
directory signer), so it gets past authentication to the code that parses headers and
bodies. The inputs are the ones that used to crash a handler: digits that are digits to
``str.isdigit()`` but not to ``int()`` (a header's latin-1 byte ``0xB2`` reads "²"),
JSON nested thousands deep (``RecursionError``), integers of thousands of digits
(``ValueError`` past 4,300) or just beyond 64 bits, ``NaN``, invalid UTF-8 — in
headers, query strings and bodies, mixed by hypothesis with well-formed values.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Route

from secure_send.core import httpsig
from secure_send.core.encoding import utc_now
from secure_send.server.auth import SIGNER_KEY_ID
from secure_send.server.embedded import embedded_server
from tests.directory_kit import HANAKO, TARO, enrol_device
from tests.server.conftest import DEVICE, Server, make_home, unthrottled_config
from tests.server.drop_kit import b64, create_drop, hanako, manifest, new_upload, sent_drop

EXAMPLES = 12  # per route; derandomized

# digits int() refuses or a 64-bit store cannot hold
BAD_NUMBERS = [
    "²",
    "¹²",
    "1³",
    "٣",  # Arabic-Indic three: sent as its UTF-8 bytes, read as latin-1 mojibake
    "9" * 20,
    "1" + "0" * 5000,
    "-1",
    "+1",
    "1_000",
    "0x10",
    "1e3",
    " ",
    "",
]
NESTED_ARRAY = b"[" * 5000 + b"]" * 5000
NESTED_OBJECT = b'{"a":' * 3000 + b"1" + b"}" * 3000
HUGE_INT = b"1" + b"0" * 5000  # over Python's 4,300-digit conversion limit
BIG_INT = b"1" + b"0" * 30  # under it, but beyond any 64-bit column


def _bad_bodies(real_manifest: bytes) -> list[bytes]:
    """Bodies every JSON route must refuse with a 4xx."""
    bodies = [
        NESTED_ARRAY,
        NESTED_OBJECT,
        HUGE_INT,
        BIG_INT,
        b'{"body": ' + NESTED_ARRAY + b', "sig": ""}',
        b'{"version": ' + HUGE_INT + b"}",
        b"NaN",
        b'{"a": Infinity}',
        b"1e999",
        b"\xff\xfe{}",
        b'"\\ud800"',
    ]
    # a real manifest with its numbers (a size, an epoch) replaced by hostile ones
    text = json.dumps(json.loads(real_manifest))
    size = '"size": 5'
    epoch = '"epoch": 1'
    assert size in text, text
    assert epoch in text, text
    for number in (HUGE_INT, BIG_INT, b"NaN", b"-" + BIG_INT):
        bodies.append(text.replace(size, '"size": ' + number.decode()).encode())
        bodies.append(text.replace(epoch, '"epoch": ' + number.decode()).encode())
    return bodies


@dataclass
class Target:
    """The running server, its route table and real ids to put in paths."""

    server: Server
    routes: list[tuple[str, str]]  # (method, path template)
    ids: dict[str, list[str]]  # path parameter -> real values
    bodies: list[bytes]


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Target]:
    home, keys = make_home(tmp_path / "org")
    config = unthrottled_config(home)
    with embedded_server(config) as running:
        server = Server(home, config, running.url, keys, running.state)
        enrol_device(home, TARO, "desktop", "人事課のデスクトップ")  # the recipient
        server.push()
        sender = hanako(server)
        committed = sent_drop(sender, {"f1": b"ciphertext one"})
        signed = manifest(sender, {"f2": b"ciphertext two"})
        assert create_drop(sender, signed).status_code == 201
        upload = new_upload(sender, signed.manifest.drop_id, "f2", len(b"ciphertext two"))
        # the route table: every API route (as the app documents itself: FastAPI keeps
        # included routers' routes behind private wrappers) and the plain ones (/docs …)
        paths = running.app.openapi()["paths"]
        routes = sorted(
            {(method.upper(), path) for path, ops in paths.items() for method in ops}
            | {
                (method, route.path)
                for route in running.app.routes
                if isinstance(route, Route) and route.methods
                for method in route.methods
            }
        )
        # recall and termination last: the other routes should meet live drops and uploads
        routes.sort(key=lambda r: r[0] == "DELETE")
        ids = {
            "drop_id": [committed, signed.manifest.drop_id],
            "blob_id": ["f1", "f2"],
            "upload_id": [upload.rsplit("/", 1)[-1]],
            "ticket": ["A" * 22],
        }
        real = json.dumps(manifest(sender, {"f3": b"three"}).to_json()).encode()  # size 5
        yield Target(server, routes, ids, _bad_bodies(real))


def _send(
    target: Target, method: str, path: str, headers: dict[str, bytes], query: str, body: bytes
) -> httpx.Response:
    server = target.server
    url = server.url + path + (f"?{query}" if query else "")
    signer = path.startswith("/v1/signer/")
    signed = httpsig.sign_request(
        method,
        url,
        {},
        httpsig.content_digest(body),
        SIGNER_KEY_ID if signer else httpsig.key_id(HANAKO, DEVICE),
        server.home.signer_identity() if signer else server.keys.signing,
        utc_now(),
    )
    raw = [(k.encode(), v) for k, v in headers.items()]  # bytes: not all are latin-1 text
    raw += [(k.encode(), v.encode()) for k, v in signed.items()]
    return httpx.request(method, url, content=body, headers=raw, timeout=30)


def _check(response: httpx.Response) -> None:
    """No 5xx; every error is ``{"code", "message"}`` JSON (HEAD answers have no body)."""
    assert response.status_code < 500, response.text
    if response.status_code >= 400 and response.request.method != "HEAD":
        payload = response.json()
        assert isinstance(payload, dict), response.text
        assert isinstance(payload.get("code"), str), response.text
        assert isinstance(payload.get("message"), str), response.text


def _fill(path: str, ids: dict[str, list[str]], pick: int, hostile: str) -> str:
    """``path`` with its parameters set to real ids (or, for pick -1, a hostile number)."""
    for name, choices in ids.items():
        value = quote(hostile, safe="") if pick < 0 else choices[pick % len(choices)]
        path = path.replace("{" + name + "}", value)
    return path


NUMBER = st.sampled_from(BAD_NUMBERS) | st.integers(0, 64).map(str)
HEADER = st.builds(lambda n: n.encode("utf-8"), NUMBER)


def _headers(drop_id: str) -> st.SearchStrategy[dict[str, bytes]]:
    meta = f"drop {b64(drop_id.encode())},blob {b64(b'f2')}".encode()
    return st.fixed_dictionaries(
        {
            "Tus-Resumable": st.just(b"1.0.0"),
            "Content-Type": st.sampled_from(
                [b"application/offset+octet-stream", b"application/json"]
            ),
        },
        optional={
            "Upload-Offset": HEADER,
            "Upload-Length": HEADER,
            "Upload-Metadata": st.just(meta),
            "Upload-Checksum": st.builds(lambda n: b"sha256 " + n, HEADER),
            "Range": st.builds(lambda a, b: b"bytes=" + a + b"-" + b, HEADER, HEADER),
        },
    )


def _query() -> st.SearchStrategy[str]:
    names = st.sampled_from(["wait", "after", "since", "log_size", "from", "to", "first"])
    # a valid long-poll wait is never generated: only 0 or hostile text
    pair = st.builds(
        lambda k, v: f"{k}={quote(v, safe='')}", names, st.sampled_from(BAD_NUMBERS) | st.just("0")
    )
    return st.lists(pair, max_size=3).map("&".join)


def _fuzz(target: Target, method: str, template: str) -> None:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        pick=st.integers(-1, 2),
        hostile=st.sampled_from(BAD_NUMBERS[:4]),
        headers=_headers(target.ids["drop_id"][1]),
        query=_query(),
        body=st.sampled_from(target.bodies) | st.just(b""),
    )
    def run(pick: int, hostile: str, headers: dict[str, bytes], query: str, body: bytes) -> None:
        path = _fill(template, target.ids, pick, hostile)
        _check(_send(target, method, path, headers, query, body))

    run()


def test_every_route_answers_malformed_input_with_a_json_4xx(target: Target) -> None:
    assert len(target.routes) >= 20, target.routes
    for method, template in target.routes:
        _fuzz(target, method, template)


# The inputs the security review reproduced, each on its route (kept apart from the
# generated ones above so that each is certain to run).
def _reported(target: Target) -> list[tuple[str, str, dict[str, bytes], bytes]]:
    upload = "/v1/uploads/" + target.ids["upload_id"][0]
    meta = f"drop {b64(target.ids['drop_id'][1].encode())},blob {b64(b'f2')}".encode()
    offset_type = b"application/offset+octet-stream"
    cases: list[tuple[str, str, dict[str, bytes], bytes]] = []
    for number in ("²", "¹²", "1³"):
        digits = number.encode("latin-1")  # the byte a client sends
        tus = {"Tus-Resumable": b"1.0.0"}
        cases.append(
            ("POST", "/v1/uploads", {**tus, "Upload-Length": digits, "Upload-Metadata": meta}, b"")
        )
        patch = {**tus, "Content-Type": offset_type, "Upload-Offset": digits}
        cases.append(("PATCH", upload, patch, b"x"))
    for body in (NESTED_ARRAY, NESTED_OBJECT, HUGE_INT, b'{"user": ' + HUGE_INT + b"}"):
        cases.append(("POST", "/v1/enrol", {}, body))
        cases.append(("POST", "/v1/drops", {}, body))
        receipts = f"/v1/drops/{target.ids['drop_id'][0]}/receipts"
        cases.append(("POST", receipts, {}, body))
    for body in target.bodies[-8:]:  # a real manifest with hostile numbers
        cases.append(("POST", "/v1/drops", {}, body))
    return cases


def test_the_reported_malformed_inputs_get_a_json_4xx(target: Target) -> None:
    for method, path, headers, body in _reported(target):
        response = _send(target, method, path, headers, "", body)
        assert 400 <= response.status_code < 500, (method, path, headers, response.text)
        _check(response)
