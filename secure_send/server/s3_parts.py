"""The two streaming halves of :mod:`.s3_store`: an upload's appender (multipart parts
plus a tail object) and a blob's reader (ranged GETs).

The scheme (see docs/server.md, "S3-compatible storage"): an upload in progress is a
multipart upload on its final key ``blobs/<id>``; part k (1-based) holds bytes
``[(k-1)*PART, k*PART)``; the bytes after the last full part live in a *tail object*
``partial/<id>/tail-<END>``, END being the offset that tail completes. Nothing is kept
in process memory between requests, so any server can continue any upload.

A tail object also carries the ETags of parts 1..k (one JSON line before the bytes):
a part re-uploaded after a discarded PATCH replaces the old one on AWS, but SeaweedFS
keeps both and ``ListParts`` shows both, so the server that completes the upload must
be told which is current. Hence a tail is written at every flush that moves the end,
a part boundary included (then with no bytes).
"""

from __future__ import annotations

import errno
import io
import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import GetObjectOutputTypeDef

# S3's smallest part is 5 MiB (but for the last); 8 MiB parts give 10,000 parts (the
# S3 maximum) = 78 GiB, far beyond max_file_bytes, for 8 MiB of buffer per PATCH.
PART = 8 * 1024 * 1024
S3_ERRORS = (BotoCoreError, ClientError)


def store_failed(err: Exception, what: str) -> OSError:
    """An S3 failure as the ``OSError`` the upload routes answer 507 to (the code only:
    never the request, which holds signed headers)."""
    code = err.response.get("Error", {}).get("Code", "") if isinstance(err, ClientError) else ""
    return OSError(errno.EIO, f"the S3 store failed to {what} ({code or type(err).__name__})")


def tail_prefix(upload_id: str) -> str:
    """Where an upload's tail objects live (``upload_id`` already validated)."""
    return f"partial/{upload_id}/tail-"


def pack_tail(etags: list[str], data: bytes | bytearray) -> bytes:
    """A tail object's body: the parts' ETags (a JSON line), then the bytes after them."""
    return json.dumps({"parts": etags}).encode() + b"\n" + bytes(data)


def unpack_tail(body: bytes, end: int) -> tuple[list[str], bytes]:
    """``(part ETags, bytes)`` of a tail object for ``end``; ValueError if it does not
    describe exactly ``end`` bytes."""
    header, _, data = body.partition(b"\n")
    etags = json.loads(header)["parts"]
    if not (isinstance(etags, list) and all(isinstance(e, str) for e in etags)):
        raise ValueError("malformed tail")
    if len(etags) * PART + len(data) != end or len(data) >= PART:
        raise ValueError("the tail does not match its end")
    return etags, data


class S3Appender:
    """:class:`~secure_send.server.storage.PartialWriter` over a multipart upload.

    Bytes are buffered until a full part is there (then uploaded: the same part number
    uploaded again supersedes the earlier one, which is how a discarded PATCH's stale
    parts get replaced). :meth:`flush` stores the rest, with the parts' ETags, as the
    tail for the current end; the caller records that offset only after, so a recorded
    offset always has its parts and tail in the bucket. Old tails are deleted by the
    next open, never here (the database may still point at them).
    """

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        upload_id: str,
        multipart: str,
        offset: int,
        tail: tuple[list[str], bytes],
    ) -> None:
        self._client, self._bucket, self._id, self._multipart = client, bucket, upload_id, multipart
        self._key = f"blobs/{upload_id}"
        self._start = offset
        self._start_tail = tail
        self._truncate_to_start()

    def _truncate_to_start(self) -> None:
        self._etags = list(self._start_tail[0])  # of parts 1..len, all uploaded
        self._buffer = bytearray(self._start_tail[1])
        self._stored_end = self._start  # the end the bucket already covers

    @property
    def end(self) -> int:
        """How many bytes the upload holds so far (stored or buffered)."""
        return len(self._etags) * PART + len(self._buffer)

    def write(self, parts: list[bytes]) -> None:
        """See :meth:`PartialWriter.write`: whole parts are uploaded as they fill."""
        for data in parts:
            self._buffer += data
            while len(self._buffer) >= PART:
                self._etags.append(self._upload_part(len(self._etags) + 1))
                del self._buffer[:PART]

    def _upload_part(self, number: int) -> str:
        try:
            answer = self._client.upload_part(
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self._multipart,
                PartNumber=number,
                Body=bytes(memoryview(self._buffer)[:PART]),
            )
        except S3_ERRORS as err:
            raise store_failed(err, "upload a part") from None
        return answer["ETag"]

    def flush(self) -> None:
        """See :meth:`PartialWriter.flush`: PUT the tail for the current end (nothing
        when the end is unchanged)."""
        end = self.end
        if end == self._stored_end:
            return
        try:
            self._client.put_object(
                Bucket=self._bucket,
                Key=f"{tail_prefix(self._id)}{end}",
                Body=pack_tail(self._etags, self._buffer),
            )
        except S3_ERRORS as err:
            raise store_failed(err, "store an upload's tail") from None
        self._stored_end = end

    def truncate(self, size: int) -> None:
        """See :meth:`PartialWriter.truncate`; only the start offset can be restored (the
        parts uploaded since are stale and get replaced by later writes)."""
        if size != self._start:
            raise ValueError("an S3 upload can only be cut back to where it was opened")
        self._truncate_to_start()

    def sync(self) -> None:
        """See :meth:`PartialWriter.sync` (a stored object is durable: flush is enough)."""
        self.flush()

    def close(self) -> None:
        """Drop the buffer (what was not flushed is not kept)."""
        self._buffer = bytearray()


class S3Reader(io.RawIOBase):
    """A stored blob read through one streaming ranged GET from the current position:
    :meth:`seek` only moves the position (no bytes before it are fetched); the next
    read opens ``Range: bytes=POS-`` and keeps reading that response."""

    def __init__(self, client: S3Client, bucket: str, key: str, size: int) -> None:
        super().__init__()
        self._client, self._bucket, self._key, self._size = client, bucket, key, size
        self._pos = 0
        self._body: Any = None

    def readable(self) -> bool:
        """Yes."""
        return True

    def seekable(self) -> bool:
        """Yes (a seek costs nothing until the next read)."""
        return True

    def tell(self) -> int:
        """The position."""
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move the position; the open response is dropped if it no longer fits."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        position = max(0, base + offset)
        if position != self._pos:
            self._drop()
            self._pos = position
        return self._pos

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` from the stream (opened at the position on first use)."""
        wanted = min(len(buffer), self._size - self._pos)
        if wanted <= 0:
            return 0
        if self._body is None:
            self._body = self._open()["Body"]
        try:
            data = self._body.read(wanted)
        except S3_ERRORS as err:
            raise store_failed(err, "read a blob") from None
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def _open(self) -> GetObjectOutputTypeDef:
        try:
            return self._client.get_object(
                Bucket=self._bucket, Key=self._key, Range=f"bytes={self._pos}-{self._size - 1}"
            )
        except S3_ERRORS as err:
            raise store_failed(err, "read a blob") from None

    def _drop(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        """Release the open response."""
        self._drop()
        super().close()
