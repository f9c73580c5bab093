"""The download a receiver decrypts from: never more than the manifest's size, never
a new connection once closed, and the hash check on exactly what was read."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest

from secure_send.client.errors import Cancelled, ClientError
from secure_send.client.transfer import StreamingDownload, check_blob


class _Response:
    def __init__(self, body: bytes, status: int = 200) -> None:
        self.raw = io.BytesIO(body)
        self.status_code = status

    def close(self) -> None:
        self.raw.close()


class _Api:
    """A server whose blob body is ``body`` (longer than the manifest says, say)."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.requests: list[dict[str, str]] = []

    def request(self, method: str, path: str, **kw: Any) -> _Response:
        headers = kw.get("headers") or {}
        self.requests.append(headers)
        start = int(headers["Range"][6:-1]) if "Range" in headers else 0
        return _Response(self.body[start:], 206 if start else 200)


def _read_all(download: StreamingDownload, piece: int = 1000) -> bytes:
    out = bytearray()
    buf = bytearray(piece)
    while n := download.readinto(memoryview(buf)):
        out += buf[:n]
    return bytes(out)


def test_no_more_than_the_limit_is_read() -> None:
    api = _Api(b"a" * 5000 + b"EXTRA" * 1000)
    done: list[int] = []
    download = StreamingDownload(api, "/blob", done.append, limit=5000)  # type: ignore[arg-type]
    assert _read_all(download) == b"a" * 5000
    assert download.have == 5000
    assert done[-1] == 5000
    assert download.readinto(memoryview(bytearray(10))) == 0  # and it stays at the end


def test_a_closed_download_never_reconnects() -> None:
    api = _Api(b"x" * 10_000)
    download = StreamingDownload(api, "/blob", lambda n: None, limit=10_000)  # type: ignore[arg-type]
    assert download.readinto(memoryview(bytearray(100))) == 100
    download.close()
    with pytest.raises(Cancelled):
        download.readinto(memoryview(bytearray(100)))
    assert len(api.requests) == 1


def test_the_check_compares_size_and_hash() -> None:
    data = b"ciphertext"
    digest = hashlib.sha256(data).digest()
    check_blob(len(data), digest, len(data), digest)
    with pytest.raises(ClientError, match="does not match the sender's signed manifest"):
        check_blob(len(data) - 1, digest, len(data), digest)
    with pytest.raises(ClientError, match="does not match"):
        check_blob(len(data), hashlib.sha256(b"other").digest(), len(data), digest)
