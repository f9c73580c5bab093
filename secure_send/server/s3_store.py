"""Blobs and uploads in progress in an S3-compatible bucket (``[storage] kind = "s3"``),
so several stateless servers behind a load balancer share them.

Keys: a finished blob is ``blobs/<id>``; an upload in progress is a multipart upload
on that same key plus tail objects ``partial/<id>/tail-<END>`` (:mod:`.s3_parts`).
Every id is validated first (:func:`check_opaque_id`), so no request names another
key. Found by listing, never remembered: any server can continue, finish or delete
any upload. The database's offset is the truth; the bucket may hold more (stale parts,
newer tails) until the next open or the completion clears them.

The keys are read from files and handed to botocore only: never in argv, URLs, logs
or error text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from secure_send.server.config import ConfigError, ServerConfig
from secure_send.server.s3_parts import (
    S3_ERRORS,
    S3Appender,
    S3Reader,
    store_failed,
    unpack_tail,
)
from secure_send.server.s3_parts import tail_prefix as _tail_prefix
from secure_send.server.storage import OPAQUE_ID, StorageError, check_opaque_id

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef, ObjectIdentifierTypeDef

HASH_CHUNK = 1024 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}


def _missing(err: Exception) -> bool:
    return isinstance(err, ClientError) and err.response.get("Error", {}).get("Code") in _MISSING


def _read_key(path: Path | None, what: str) -> str:
    """A key from its file, whitespace stripped; the error names the file, never its text."""
    if path is None:
        raise ConfigError(f"[storage] {what} is not set")
    try:
        value = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        raise ConfigError(f"cannot read the S3 {what} {path}") from None
    if not value:
        raise ConfigError(f"the S3 {what} {path} is empty")
    return value


def s3_client(endpoint: str, region: str, access_key: str, secret_key: str) -> S3Client:
    """A botocore client for an S3-compatible store: path-style addresses (buckets
    need no DNS names), bounded timeouts, a few standard retries, and checksums only
    where S3 requires them (many S3-compatible stores reject the newer default
    CRC headers; the blob's SHA-256 is checked at completion anyway)."""
    config = Config(
        s3={"addressing_style": "path"},
        signature_version="s3v4",
        connect_timeout=10,
        read_timeout=60,
        retries={"max_attempts": 5, "mode": "standard"},
        max_pool_connections=64,  # the server's thread pool shares one client
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    session = boto3.session.Session()
    return session.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=config,
    )


def open_s3_store(config: ServerConfig) -> S3BlobStore:
    """The store ``[storage]`` describes, after checking its bucket answers."""
    access = _read_key(config.storage_access_key_file, "access_key_file")
    secret = _read_key(config.storage_secret_key_file, "secret_key_file")
    client = s3_client(config.storage_endpoint, config.storage_region, access, secret)
    try:
        client.head_bucket(Bucket=config.storage_bucket)
    except S3_ERRORS:
        raise ConfigError(
            f"bucket {config.storage_bucket} does not exist or these keys cannot reach it"
            f" (endpoint {config.storage_endpoint})"
        ) from None
    return S3BlobStore(client, config.storage_bucket)


class S3BlobStore:
    """:class:`~secure_send.server.storage.BlobStore` in one bucket; see the module
    docstring. ``shared``: other servers use the same bucket at the same time."""

    shared = True

    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    @staticmethod
    def key(blob_id: str) -> str:
        """A blob's object key (the id validated: no traversal, no other prefix)."""
        return f"blobs/{check_opaque_id(blob_id)}"

    # finished blobs

    def write(self, blob_id: str, data: bytes) -> None:
        """Store ``data`` (a PUT is atomic: readers see the old object or the new)."""
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.key(blob_id), Body=data)
        except S3_ERRORS as err:
            raise store_failed(err, "store a blob") from None

    def read(self, blob_id: str) -> bytes:
        """The blob's bytes; :class:`StorageError` if missing."""
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key(blob_id))
            return answer["Body"].read()
        except S3_ERRORS as err:
            if _missing(err):
                raise StorageError("no such blob") from None
            raise store_failed(err, "read a blob") from None

    def delete(self, blob_id: str) -> None:
        """Remove the blob if present."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.key(blob_id))
        except S3_ERRORS as err:
            raise store_failed(err, "delete a blob") from None

    def _size(self, blob_id: str) -> int | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.key(blob_id))
        except S3_ERRORS as err:
            if _missing(err):
                return None
            raise store_failed(err, "look up a blob") from None
        return int(head["ContentLength"])

    def exists(self, blob_id: str) -> bool:
        """Whether the blob is stored."""
        return self._size(blob_id) is not None

    def open(self, blob_id: str) -> BinaryIO:
        """The blob for streaming (ranged GETs); :class:`StorageError` if missing."""
        size = self._size(blob_id)
        if size is None:
            raise StorageError("no such blob")
        return cast(BinaryIO, S3Reader(self.client, self.bucket, self.key(blob_id), size))

    def hash_blob(self, blob_id: str) -> bytes:
        """The SHA-256 of a stored blob, streamed from the bucket."""
        digest = hashlib.sha256()
        with self.open(blob_id) as src:
            while chunk := src.read(HASH_CHUNK):
                digest.update(chunk)
        return digest.digest()

    # uploads in progress

    def _multiparts(self, upload_id: str) -> list[dict[str, Any]]:
        """The multipart uploads on the upload's key, oldest first."""
        key, found = self.key(upload_id), []
        pages = self.client.get_paginator("list_multipart_uploads")
        try:
            for page in pages.paginate(Bucket=self.bucket, Prefix=key):
                found += [dict(u) for u in page.get("Uploads", []) if u.get("Key") == key]
        except S3_ERRORS as err:
            raise store_failed(err, "list uploads") from None
        return sorted(found, key=lambda u: u["Initiated"])

    def _multipart(self, upload_id: str, *, create: bool) -> str | None:
        """The upload's multipart upload id: the newest (a crash while creating may have
        left several; the others are aborted), created if none and ``create``."""
        found = self._multiparts(upload_id)
        key = self.key(upload_id)
        try:
            for old in found[:-1]:
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=old["UploadId"]
                )
            if found:
                return str(found[-1]["UploadId"])
            if not create:
                return None
            made = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)
        except S3_ERRORS as err:
            raise store_failed(err, "start an upload") from None
        return made["UploadId"]

    def _tails(self, upload_id: str) -> dict[int, str]:
        """The upload's tail objects: ``END -> key``."""
        prefix, tails = _tail_prefix(check_opaque_id(upload_id)), {}
        pages = self.client.get_paginator("list_objects_v2")
        try:
            for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    end = item["Key"][len(prefix) :]
                    if end.isdigit():
                        tails[int(end)] = item["Key"]
        except S3_ERRORS as err:
            raise store_failed(err, "list an upload's tails") from None
        return tails

    def _delete_keys(self, keys: list[str]) -> None:
        try:
            for start in range(0, len(keys), 1000):  # DeleteObjects takes 1,000 at most
                batch: list[ObjectIdentifierTypeDef] = [
                    {"Key": k} for k in keys[start : start + 1000]
                ]
                self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
        except S3_ERRORS as err:
            raise store_failed(err, "delete an upload's tails") from None

    def _get_tail(self, upload_id: str, end: int) -> tuple[list[str], bytes]:
        """The parts' ETags and the bytes of the tail for ``end`` (none at 0)."""
        if end == 0:
            return [], b""
        key = f"{_tail_prefix(upload_id)}{end}"
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            return unpack_tail(body, end)
        except S3_ERRORS as err:
            if _missing(err):
                raise StorageError("the store lost an upload's data") from None
            raise store_failed(err, "read an upload's tail") from None
        except ValueError:
            raise StorageError("an upload's stored tail is damaged") from None

    def open_partial(self, upload_id: str, offset: int) -> S3Appender:
        """Continue the upload at ``offset`` (created at 0): its tail for that offset is
        loaded, every other tail deleted (stale: the database records ``offset``)."""
        multipart = self._multipart(upload_id, create=offset == 0)
        if multipart is None:
            raise StorageError("the store lost an upload's data")
        tail = self._get_tail(upload_id, offset)
        tails = self._tails(upload_id)
        self._delete_keys([key for end, key in tails.items() if end != offset])
        return S3Appender(self.client, self.bucket, upload_id, multipart, offset, tail)

    def hash_partial(self, upload_id: str, length: int | None = None) -> Any:
        """None: the parts of an unfinished multipart upload cannot be read back, so the
        blob is hashed once finished (:meth:`hash_blob`)."""
        return None

    def partial_size(self, upload_id: str) -> int:
        """The largest end a stored tail completes (0 if none); may exceed the recorded
        offset, which is the truth."""
        return max(self._tails(upload_id), default=0)

    def _part_etags(self, upload_id: str, multipart: str) -> set[str]:
        etags: set[str] = set()
        pages = self.client.get_paginator("list_parts")
        try:
            for page in pages.paginate(
                Bucket=self.bucket, Key=self.key(upload_id), UploadId=multipart
            ):
                etags |= {p["ETag"] for p in page.get("Parts", [])}
        except S3_ERRORS as err:
            raise store_failed(err, "list an upload's parts") from None
        return etags

    def finish_partial(self, upload_id: str, blob_id: str, length: int) -> None:
        """Complete the multipart upload with exactly the parts of ``length`` bytes (the
        tail uploaded as the last part), then delete the tails. The blob's key is the
        upload's (a multipart upload completes in place), so ``blob_id`` must equal it."""
        if blob_id != upload_id:
            raise StorageError("an S3 upload is finished under its own id")
        if length == 0:
            self.write(blob_id, b"")
        else:
            self._complete(upload_id, length)
        self.delete_partial(upload_id)

    def _complete(self, upload_id: str, length: int) -> None:
        multipart = self._multipart(upload_id, create=False)
        if multipart is None:
            if self.exists(upload_id):  # another server finished it a moment ago
                return
            raise StorageError("the store lost an upload's data")
        etags, rest = self._get_tail(upload_id, length)
        if not set(etags) <= self._part_etags(upload_id, multipart):
            raise StorageError("the store lost an upload's data")
        key = self.key(upload_id)
        try:
            if rest:
                etags.append(
                    self.client.upload_part(
                        Bucket=self.bucket,
                        Key=key,
                        UploadId=multipart,
                        PartNumber=len(etags) + 1,
                        Body=rest,
                    )["ETag"]
                )
            parts: list[CompletedPartTypeDef] = [
                {"PartNumber": n, "ETag": etag} for n, etag in enumerate(etags, start=1)
            ]
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=multipart, MultipartUpload={"Parts": parts}
            )
        except S3_ERRORS as err:
            raise store_failed(err, "finish an upload") from None

    def delete_partial(self, upload_id: str) -> None:
        """Abort the upload's multipart uploads and delete its tails (a finished blob
        under the same key is not touched)."""
        key = self.key(upload_id)
        try:
            for upload in self._multiparts(upload_id):
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload["UploadId"]
                )
        except S3_ERRORS as err:
            if not _missing(err):
                raise store_failed(err, "abort an upload") from None
        self._delete_keys(list(self._tails(upload_id).values()))

    def partial_exists(self, upload_id: str) -> bool:
        """Whether the upload has a multipart upload or a tail."""
        return bool(self._multiparts(upload_id) or self._tails(upload_id))

    def partial_ids(self) -> list[str]:
        """The upload ids with a multipart upload or a tail object."""
        return sorted(set(self._multipart_ids()) | set(self._tail_ids()))

    def _multipart_ids(self) -> Iterator[str]:
        pages = self.client.get_paginator("list_multipart_uploads")
        try:
            for page in pages.paginate(Bucket=self.bucket, Prefix="blobs/"):
                for upload in page.get("Uploads", []):
                    name = upload.get("Key", "")[len("blobs/") :]
                    if OPAQUE_ID.fullmatch(name):
                        yield name
        except S3_ERRORS as err:
            raise store_failed(err, "list uploads") from None

    def _tail_ids(self) -> Iterator[str]:
        # every tail key, not CommonPrefixes: SeaweedFS keeps listing a folder emptied
        # of its objects as a prefix for a while
        pages = self.client.get_paginator("list_objects_v2")
        try:
            for page in pages.paginate(Bucket=self.bucket, Prefix="partial/"):
                for item in page.get("Contents", []):
                    name = item["Key"].split("/")[1]
                    if OPAQUE_ID.fullmatch(name):
                        yield name
        except S3_ERRORS as err:
            raise store_failed(err, "list uploads") from None
