"""The drop server's HTTP API as the client uses it (``requests``).

Guarantees: every request except the public ones is signed (RFC 9421, the
device's Ed25519 key, fresh nonce); the device's keys never leave this object
and never appear in errors; every non-2xx answer becomes :class:`ServerError`
with the server's stable code; connection failures become
:class:`ConnectionLost` (callers resume, nothing is assumed to have happened).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import nacl.signing
import requests

from secure_send.core import httpsig
from secure_send.core.encoding import b64u, utc_now
from secure_send.core.errors import SecureSendError

TIMEOUT = (10, 120)  # connect, read (seconds)
# Upload bodies go out in blocks of up to this size: more than an encrypted task
# (16 x 65552 bytes), so the encryptor's pieces are sent as they are, never cut.
STREAM_BLOCK = 4 * 1024 * 1024


class Reader(Protocol):
    """A body to stream: ``read`` may return fewer bytes than asked; ``b""`` means the
    source ended early (an error: the length was announced)."""

    def read(self, size: int, /) -> bytes: ...
    def close(self) -> None: ...


class ClientError(SecureSendError):
    """Something the user must be told; ``code`` is stable for scripts."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ServerError(ClientError):
    """The server answered with an error (``status``, ``code``)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code, f"server: {message} ({code})")
        self.status = status


class ConnectionLost(ClientError):
    """The server could not be reached or the connection was cut."""

    def __init__(self) -> None:
        super().__init__("connection_lost", "the connection to the drop server was lost")


class Cancelled(ClientError):
    """The user cancelled."""

    def __init__(self) -> None:
        super().__init__("cancelled", "cancelled")


@dataclass(frozen=True)
class Signer:
    """Who signs: ``user/device`` and the device's signing key."""

    user: str
    device: str
    key: nacl.signing.SigningKey

    def __repr__(self) -> str:  # never the key
        return f"Signer({self.user}/{self.device})"


class _Body:
    """``length`` bytes of ``src`` for requests: iterable in blocks, with a length
    (so Content-Length is sent, not chunked), reporting progress and honouring cancel."""

    def __init__(
        self,
        src: Reader,
        length: int,
        progress: Callable[[int], None],
        cancel: threading.Event | None,
    ) -> None:
        self._src, self._length, self._progress, self._cancel = src, length, progress, cancel

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[bytes]:
        left = self._length
        while left:
            if self._cancel is not None and self._cancel.is_set():
                raise Cancelled
            block = self._src.read(min(left, STREAM_BLOCK))
            if not block:
                raise ClientError("file_changed", "the file became shorter while it was sent")
            left -= len(block)
            yield block
            self._progress(len(block))


class ServerApi:
    """One server, one device. Thread-safe enough for one caller per thread."""

    def __init__(self, base_url: str, signer: Signer | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.signer = signer
        self.session = requests.Session()

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()

    def _headers(self, method: str, path: str, digest: str) -> dict[str, str]:
        if self.signer is None:
            raise ClientError("not_enrolled", "this device is not enrolled")
        return httpsig.sign_request(
            method,
            self.base_url + path,
            {},
            digest,
            httpsig.key_id(self.signer.user, self.signer.device),
            self.signer.key,
            utc_now(),
        )

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        *,
        signed: bool = True,
        stream: bool = False,
        ok: tuple[int, ...] = (200, 201, 202, 204, 206),
    ) -> requests.Response:
        """Send one request; raise :class:`ServerError` unless the status is in ``ok``."""
        all_headers = dict(headers or {})
        if signed:
            all_headers |= self._headers(method, path, httpsig.content_digest(body))
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                data=body or None,
                headers=all_headers,
                timeout=TIMEOUT,
                stream=stream,
            )
        except requests.RequestException:
            raise ConnectionLost from None
        return _checked(response, ok)

    def json(self, method: str, path: str, obj: Any = None, **kw: Any) -> Any:
        """A request with an optional JSON body, answered with JSON."""
        body = b"" if obj is None else json.dumps(obj, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"} if obj is not None else {}
        response = self.request(method, path, body, headers, **kw)
        return response.json() if response.content else None

    def stream_patch(
        self,
        path: str,
        headers: dict[str, str],
        src: Reader,
        length: int,
        sha256: bytes,
        progress: Callable[[int], None],
        cancel: threading.Event | None,
    ) -> requests.Response:
        """A signed PATCH streaming ``length`` bytes of ``src`` whose SHA-256 is known."""
        digest = f"sha-256=:{base64.b64encode(sha256).decode()}:"
        all_headers = {**headers, **self._headers("PATCH", path, digest)}
        all_headers["Content-Length"] = str(length)
        try:
            response = self.session.patch(
                self.base_url + path,
                data=_Body(src, length, progress, cancel),
                headers=all_headers,
                timeout=TIMEOUT,
            )
        except requests.RequestException:
            raise ConnectionLost from None
        return _checked(response, (204,))


def _checked(response: requests.Response, ok: tuple[int, ...]) -> requests.Response:
    if response.status_code in ok:
        return response
    try:
        error = response.json()
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "http_error", f"HTTP {response.status_code}"
    raise ServerError(response.status_code, code, message)


def key_fingerprint(public_key: bytes) -> str:
    """A short, readable form of a public key (for 'this device's identity code')."""
    digest = b64u(hashlib.sha256(public_key).digest())[:20].upper()
    return "-".join(digest[i : i + 4] for i in range(0, 20, 4))
