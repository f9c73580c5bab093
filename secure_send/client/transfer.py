"""Moving ciphertext: tus uploads that resume, ranged downloads that resume.

Upload: a blob goes up as one PATCH of everything the server does not have yet
(its ``Content-Digest`` is the blob hash from the manifest when it starts at 0).
A cut connection is retried from the offset the server reports (``HEAD``), a
few times with back-off; the upload URL is kept by the caller (the send's
resume file), so a new process continues the same upload.

Download: streamed to its consumer as it arrives (never more bytes than the signed
manifest's size); a cut connection continues with ``Range: bytes=N-``. The consumer
hashes what it reads, once (the receiver does so on a thread of its own, beside the
download and the decryption) and compares with the signed manifest before anything
is revealed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
import urllib3

from secure_send.client.api import ServerApi
from secure_send.client.blob_source import BlobSource
from secure_send.client.errors import Cancelled, ClientError, ConnectionLost, ServerError
from secure_send.core.error_codes import ErrorCode

TUS = {"Tus-Resumable": "1.0.0"}
RETRIES = 5
SHORT_ANSWERS = 2  # answers in a row that end before their first byte: a short file
Progress = Callable[[int], None]  # bytes done so far (of this blob)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def create_upload(api: ServerApi, drop_id: str, blob_id: str, size: int) -> str:
    """``POST /v1/uploads``: the new upload's path."""
    headers = {
        **TUS,
        "Upload-Length": str(size),
        "Upload-Metadata": f"drop {_b64(drop_id.encode())},blob {_b64(blob_id.encode())}",
    }
    return api.create_upload(headers)


def upload_offset(api: ServerApi, path: str) -> int:
    """The server's offset of an upload (``HEAD``)."""
    return api.upload_offset(path, TUS)


def send_blob(
    api: ServerApi,
    upload: str,
    source: BlobSource,
    size: int,
    sha256: bytes,
    progress: Progress,
    cancel: threading.Event | None = None,
    retrying: Callable[[float], None] | None = None,
) -> None:
    """Upload ``source`` to the tus upload at ``upload`` from wherever the server is;
    ``retrying`` is told each wait (seconds) before trying again after a cut.

    The server's offset may only grow within one call: bytes it confirmed holding are
    never sent again (a server that "loses" them to get a second copy is refused), and
    the source itself refuses to make ciphertext of a chunk that changed."""
    confirmed = 0
    for attempt in range(RETRIES):
        try:
            offset = upload_offset(api, upload)
            if offset < confirmed or offset > size:
                raise ClientError(
                    ErrorCode.UPLOAD_REWOUND,
                    f"the server reported {offset} bytes of an upload after confirming "
                    f"{confirmed} of {size}; the send stopped",
                )
            confirmed = offset
            done = offset
            progress(done)  # the part already on the server counts as done

            def moved(n: int) -> None:
                nonlocal done
                done += n
                progress(done)

            if offset == size and size > 0:
                return
            digest = sha256 if offset == 0 else source.sha256_from(offset)
            headers = {
                **TUS,
                "Content-Type": "application/offset+octet-stream",
                "Upload-Offset": str(offset),
            }
            reader = source.open(offset)
            try:
                api.stream_patch(upload, headers, reader, size - offset, digest, moved, cancel)
            finally:
                reader.close()
            return
        except ConnectionLost:
            if cancel is not None and cancel.is_set():
                raise Cancelled from None
            if attempt == RETRIES - 1:
                break  # the caller decides whether (and when) to try again
            wait = min(8.0, 0.5 * 2**attempt)
            if retrying is not None:
                retrying(wait)
            time.sleep(wait)
    raise ConnectionLost


class StreamingDownload:
    """A blob's body, for a consumer that reads it (``readinto``/``read``) as it
    arrives: the receiver decrypts while downloading, so no ciphertext copy is
    written. A cut connection is resumed inside :meth:`readinto` with
    ``Range: bytes=N-`` (a few times, with back-off) — the reader never notices.

    At most ``limit`` bytes are read (the manifest's size): a server cannot make the
    receiver take, decrypt or write more. The bytes are not hashed here; the
    consumer hashes what it read and calls :func:`check_blob`.

    One thread reads at a time (not necessarily the one that made it). After
    :meth:`close` a read raises :class:`Cancelled` instead of opening a new connection.
    """

    def __init__(
        self,
        api: ServerApi,
        path: str,
        progress: Progress,
        cancel: threading.Event | None = None,
        *,
        limit: int,
    ) -> None:
        self._api = api
        self._path = path
        self._progress = progress
        self._cancel = cancel
        self._limit = limit
        self._response: requests.Response | None = None
        self._closed = False
        self._fresh = False  # the open answer has given no byte yet
        self.have = 0

    def _open(self) -> Any:
        headers = {"Range": f"bytes={self.have}-"} if self.have else {}
        self._response = self._api.request("GET", self._path, headers=headers, stream=True)
        self._fresh = True  # no byte read from this answer yet
        if self.have and self._response.status_code != 206:
            raise ServerError(
                self._response.status_code, ErrorCode.BAD_RANGE, "the server ignored Range"
            )
        _check_framing(self._response.headers, self.have, self._limit)
        return self._response.raw

    def readinto(self, buf: memoryview) -> int:
        """Read into ``buf``; 0 at the end of the body (or at ``limit``)."""
        buf = buf[: self._limit - self.have]
        if not len(buf):
            return 0
        empty = 0  # answers in a row that ended before their first byte
        for attempt in range(RETRIES + 1):
            if self._closed or (self._cancel is not None and self._cancel.is_set()):
                raise Cancelled
            answered = False
            try:
                raw = self._response.raw if self._response is not None else self._open()
                answered = True
                n = int(raw.readinto(buf))
                break
            except (
                ConnectionLost,
                urllib3.exceptions.HTTPError,
                requests.RequestException,
                OSError,
            ):
                unread = answered and self._fresh  # an answer that gave nothing
                self._drop_connection()
                # A cut network fails at a random place; a server whose stored file is
                # shorter than the drop's answers every Range for the missing part and
                # then ends the body at once. Twice in a row: not the network.
                empty = empty + 1 if unread else 0
                if empty >= SHORT_ANSWERS:
                    raise incomplete() from None
                if attempt == RETRIES:
                    raise ConnectionLost from None
                time.sleep(min(8.0, 0.5 * 2**attempt))
        self._fresh = False
        if n:
            self.have += n
            self._progress(self.have)
        elif self.have < self._limit:  # a clean end before the announced length
            raise incomplete()
        return n

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (``readinto`` is what the decryptor uses)."""
        buf = bytearray(size if size > 0 else 1 << 20)
        return bytes(buf[: self.readinto(memoryview(buf))])

    def _drop_connection(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response = None

    def close(self) -> None:
        """Close the connection; later reads fail (no reconnecting after this)."""
        self._closed = True
        self._drop_connection()


def _check_framing(headers: Mapping[str, str], have: int, size: int) -> None:
    """Refuse a body whose announced length or range is not the rest of the manifest's
    ``size`` bytes from ``have`` — before reading a byte of it (a server announcing
    200 MiB for a 325-byte blob is lying about what it sends)."""
    length = headers.get("Content-Length")
    wanted = f"bytes {have}-{size - 1}/{size}"
    if (length is not None and length != str(size - have)) or (
        have and headers.get("Content-Range") != wanted
    ):
        raise ClientError(
            ErrorCode.BLOB_TAMPERED,
            "the server announced a file of another size than the sender's signed manifest; "
            "nothing was saved",
        )


def incomplete() -> ClientError:
    """The error for a server that sends fewer bytes than it announced, however often
    it is asked (its stored copy is cut short): not a network problem."""
    return ClientError(
        ErrorCode.INCOMPLETE_DOWNLOAD,
        "the drop server sent an incomplete file (its copy seems cut short); nothing was"
        " saved; try again later, and tell IT if it happens again",
    )


def check_blob(have: int, digest: bytes, size: int, sha256: bytes) -> None:
    """Raise unless exactly the manifest's bytes arrived: ``have`` bytes hashing to
    ``digest`` must be ``size`` bytes hashing to ``sha256``."""
    if have != size or not hmac.compare_digest(digest, sha256):
        raise ClientError(
            ErrorCode.BLOB_TAMPERED,
            "a downloaded file does not match the sender's signed manifest; nothing was saved",
        )


def fetch_small(
    api: ServerApi,
    path: str,
    size: int,
    sha256: bytes,
    progress: Progress,
    cancel: threading.Event | None = None,
) -> bytes:
    """A small blob (the encrypted metadata) in memory, through :class:`StreamingDownload`
    (the same resume and the same refusal of a body announced longer), hash-checked."""
    download = StreamingDownload(api, path, progress, cancel, limit=size)
    data = bytearray()
    try:
        while len(data) < size and (chunk := download.read(size - len(data))):
            data += chunk
    finally:
        download.close()
    check_blob(len(data), hashlib.sha256(data).digest(), size, sha256)
    return bytes(data)
