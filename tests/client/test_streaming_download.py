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
    def __init__(self, body: bytes, status: int, headers: dict[str, str]) -> None:
        self.raw = io.BytesIO(body)
        self.status_code = status
        self.headers = headers

    def close(self) -> None:
        self.raw.close()


class _Api:
    """A server whose blob body is ``body`` (longer than the manifest says, say),
    announced with its true length (``announce``), a false one, or none (chunked)."""

    def __init__(self, body: bytes, announce: int | None = -1, range_total: int = -1) -> None:
        self.body = body
        self.announce = announce
        self.range_total = range_total
        self.requests: list[dict[str, str]] = []

    def request(self, method: str, path: str, **kw: Any) -> _Response:
        headers = kw.get("headers") or {}
        self.requests.append(headers)
        start = int(headers["Range"][6:-1]) if "Range" in headers else 0
        body = self.body[start:]
        answer = {}
        if self.announce is not None:
            answer["Content-Length"] = str(len(body) if self.announce == -1 else self.announce)
        if start:
            total = len(self.body) if self.range_total == -1 else self.range_total
            answer["Content-Range"] = f"bytes {start}-{total - 1}/{total}"
        return _Response(body, 206 if start else 200, answer)


def _read_all(download: StreamingDownload, piece: int = 1000) -> bytes:
    out = bytearray()
    buf = bytearray(piece)
    while n := download.readinto(memoryview(buf)):
        out += buf[:n]
    return bytes(out)


def test_no_more_than_the_limit_is_read() -> None:
    api = _Api(b"a" * 5000 + b"EXTRA" * 1000, announce=None)  # no length announced
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


@pytest.mark.parametrize("announced", [5001, 4999, 200 * 1024 * 1024])
def test_a_body_announced_with_another_length_is_refused_unread(announced: int) -> None:
    api = _Api(b"a" * 5000, announce=announced)
    done: list[int] = []
    download = StreamingDownload(api, "/blob", done.append, limit=5000)  # type: ignore[arg-type]
    with pytest.raises(ClientError, match="another size") as caught:
        download.readinto(memoryview(bytearray(1000)))
    assert caught.value.code == "blob_tampered"
    assert download.have == 0
    assert done == []


class _CutOnce(_Api):
    """Cuts the first answer after ``cut`` bytes, so the download resumes with Range."""

    def __init__(self, body: bytes, cut: int, **kw: Any) -> None:
        super().__init__(body, **kw)
        self.cut = cut

    def request(self, method: str, path: str, **kw: Any) -> _Response:
        response = super().request(method, path, **kw)
        if len(self.requests) == 1:
            response.raw = _Failing(self.body[: self.cut])
        return response


class _Failing(io.BytesIO):
    def readinto(self, buf: Any) -> int:
        n = super().readinto(buf)
        if n == 0:
            raise OSError("connection reset")
        return n


def test_a_resumed_body_must_be_the_rest_of_the_manifests_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("secure_send.client.transfer.time.sleep", lambda s: None)
    good = _CutOnce(b"b" * 5000, cut=1000)
    download = StreamingDownload(good, "/blob", lambda n: None, limit=5000)  # type: ignore[arg-type]
    assert _read_all(download) == b"b" * 5000
    assert good.requests[1] == {"Range": "bytes=1000-"}
    # the same, but the resumed answer claims another total size
    lying = _CutOnce(b"b" * 5000, cut=1000, range_total=9000)
    download = StreamingDownload(lying, "/blob", lambda n: None, limit=5000)  # type: ignore[arg-type]
    with pytest.raises(ClientError, match="another size"):
        _read_all(download)
    assert download.have == 1000
